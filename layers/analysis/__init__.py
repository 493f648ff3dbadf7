"""The analyses as one registry (registry.py) used by routes and CLI: one module per analysis, encode, cache."""
