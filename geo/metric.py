"""Stored polygons in the city's metric CRS, made valid there: the one expression every overlay reads.

Outlines valid in WGS84 need not stay valid once projected: vertices a hair
apart can cross, rings can touch, and a GEOS overlay (ST_Intersection,
ST_Union, even ST_Intersects on a prepared polygon) then fails with
"TopologyException: side location conflict" (New York's NTAs do). So every
metric overlay of a stored polygon goes through :func:`metric_polygon`:
ST_MakeValid after ST_Transform, keeping the polygonal part (a repair may
leave a stray line or point, which has no area to overlay).
"""

from __future__ import annotations


def metric_polygon(column: str, srid: str = "%(srid)s") -> str:
    """SQL: ``column`` (polygons in EPSG:4326) transformed to ``srid`` and made valid there.

    Parameters
    ----------
    column : str
        A trusted SQL expression (a column name, never user input).
    srid : str
        The SQL placeholder or literal of the metric SRID (``%(srid)s`` by default, ``%s`` for positional queries).
    """
    return f"ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform({column}, {srid})), 3))"

