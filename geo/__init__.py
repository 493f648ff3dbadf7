"""Spatial analysis: coverage, density, hotspots, grids, siting and coordinates.

Pure analysis: no web imports.
"""
