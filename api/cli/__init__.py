"""The `hygiene-map` command line, one module per command group (the command: :func:`api.cli.main.main`)."""
