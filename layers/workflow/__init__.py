"""Complaints, grids, regridding and access: the stateful workflows (SQL, no HTTP)."""
