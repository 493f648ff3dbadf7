"""The analyses as one registry used by routes and CLI: compute, encode, cache."""
