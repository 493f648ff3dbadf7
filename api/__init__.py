"""HTTP API (FastAPI) and the command line of hygiene-map."""
