"""Bulletins (周检查、月通报、年终考核): figures per street and unit over a period, and their documents."""
