"""Pointy-top hexagon grid in the city's metric CRS, indexed by axial (q, r).

The cell of a point is arithmetic on its metric coordinates (cube rounding),
so PostgreSQL can bin a million complaints with one GROUP BY and no spatial
join; the cell polygons are built only for the cells that touch the city.
Edge length ``size`` (metres) is also the circumradius; the six neighbours
of (q, r) share an edge with it.
"""

from __future__ import annotations

import math

import numpy as np

#: Axial offsets of the six edge-sharing neighbours.
NEIGHBOUR_OFFSETS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))

SQRT3 = math.sqrt(3.0)


def cell_sql(x: str, y: str, size_param: str = "%(size)s") -> tuple[str, str]:
    """SQL expressions (q, r) of the cell holding the point (x, y).

    Parameters
    ----------
    x, y : str
        SQL expressions of metric coordinates.
    size_param : str
        The placeholder of the edge length.

    Returns
    -------
    (str, str)
        Expressions for q and r (integers), by cube rounding of the fractional
        axial coordinates fq = (√3/3 x − y/3)/size, fr = (2/3 y)/size.
    """
    fq = f"((sqrt(3.0)/3.0 * ({x}) - ({y})/3.0) / {size_param})"
    fr = f"((2.0/3.0 * ({y})) / {size_param})"
    # Cube rounding: round all three, then fix the one that moved most.
    rq, rr = f"round({fq})", f"round({fr})"
    rs = f"round(-{fq} - {fr})"
    dq, dr, ds = f"abs({rq} - {fq})", f"abs({rr} - {fr})", f"abs({rs} - (-{fq} - {fr}))"
    q = f"(CASE WHEN {dq} > {dr} AND {dq} > {ds} THEN -{rr} - {rs} ELSE {rq} END)::integer"
    r = f"(CASE WHEN {dq} > {dr} AND {dq} > {ds} THEN {rr} WHEN {dr} > {ds} THEN -{rq} - {rs} ELSE {rr} END)::integer"
    return q, r


def centres(q: np.ndarray, r: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Metric centre of each cell (q, r)."""
    return size * SQRT3 * (q + r / 2.0), size * 1.5 * r


def axial_range(bounds: tuple[float, float, float, float], size: float) -> tuple[int, int, int, int]:
    """(r_min, r_max, q_min, q_max) covering a metric bounding box, with a cell of margin."""
    minx, miny, maxx, maxy = bounds
    r_min = math.floor(miny / (1.5 * size)) - 1
    r_max = math.ceil(maxy / (1.5 * size)) + 1
    q_min = math.floor(minx / (SQRT3 * size) - r_max / 2.0) - 1
    q_max = math.ceil(maxx / (SQRT3 * size) - r_min / 2.0) + 1
    return r_min, r_max, q_min, q_max


def neighbour_index(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Row index of each cell's six neighbours among the given cells, -1 where absent.

    Parameters
    ----------
    q, r : ndarray of int
        Axial coordinates of the study cells.

    Returns
    -------
    ndarray of shape (n, 6)
    """
    q = np.asarray(q, dtype=np.int64)
    r = np.asarray(r, dtype=np.int64)
    if q.size == 0:
        return np.empty((0, 6), dtype=np.int64)
    q0, r0 = q.min() - 1, r.min() - 1
    width = int(q.max() - q0 + 2)
    height = int(r.max() - r0 + 2)
    lookup = np.full((width, height), -1, dtype=np.int64)
    lookup[q - q0, r - r0] = np.arange(q.size)
    out = np.empty((q.size, 6), dtype=np.int64)
    for k, (dq, dr) in enumerate(NEIGHBOUR_OFFSETS):
        out[:, k] = lookup[q + dq - q0, r + dr - r0]
    return out
