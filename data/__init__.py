"""Data: settings, errors, the database (embedded cluster, migrations) and the demo city.

Every other package reads from here; this package imports none of them.
"""
