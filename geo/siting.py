"""Siting: where K new facilities would cover the most residents not yet covered.

Greedy maximum coverage (Church & ReVelle 1974; the greedy choice is within
1 − 1/e of the optimum): demand is residents on a square lattice over
residential land (community population spread over its residential land,
else over its area, as in :mod:`geo.coverage`); candidates are points along
the roads every ``CANDIDATE_SPACING_M``; a candidate covers the demand cells
whose centre lies within the service radius. Each step takes the candidate
that newly covers the most residents and stops early rather than propose a
site that covers nobody new.
"""

from __future__ import annotations

import numpy as np
from psycopg2 import sql
from scipy.spatial import cKDTree

from data.catalog import metric_srid as city_srid
from data.errors import InvalidParameter, NotFound
from data.settings import AnalysisSettings
from data.vocab import FacilityKind
from geo.coverage import AREA_FACTOR, QUAD_SEGS, kind_filter, resolve

DEMAND_CELL_M = 50.0
CANDIDATE_SPACING_M = 50.0
#: A site must newly cover at least this many residents (less than one person is no reason to build).
MIN_GAIN = 0.5

# Residents on a square lattice over residential land: each cell's centre carries the
# community's population in proportion to the cell's share of the community's land.
_DEMAND_SQL = """
    WITH comm AS (
        SELECT code, population, geom, ST_Transform(geom, %(srid)s) AS g FROM admin_areas
        WHERE level = 'community' AND population > 0 AND code LIKE %(prefix)s
    ),
    spread AS MATERIALIZED (  -- once per community: inlined, its union would be redone for every cell
        SELECT c.code, c.population, coalesce(
            (SELECT ST_Union(ST_Intersection(c.g, ST_Transform(l.geom, %(srid)s))) FROM land_use l
             WHERE l.class = 'R' AND l.geom && c.geom AND ST_Intersects(l.geom, c.geom)), c.g) AS g
        FROM comm c
    ),
    cells AS (
        SELECT s.code, s.population, ST_Area(s.g) AS total, ST_Intersection(sq.geom, s.g) AS part
        FROM spread s, ST_SquareGrid(%(cell)s, s.g) sq WHERE ST_Intersects(sq.geom, s.g)
    )
    SELECT ST_X(ST_Centroid(part)), ST_Y(ST_Centroid(part)), population * ST_Area(part) / nullif(total, 0)
    FROM cells WHERE NOT ST_IsEmpty(part)
"""
_EXISTING_SQL = """
    SELECT ST_X(ST_Transform(geom, %(srid)s)), ST_Y(ST_Transform(geom, %(srid)s)) FROM {table}
    WHERE {where} AND GeometryType(geom) = 'POINT'
"""
# Candidate sites: points every CANDIDATE_SPACING_M along each road of the street.
_CANDIDATES_SQL = """
    WITH r AS (SELECT ST_Transform(geom, %(srid)s) AS g FROM roads
               WHERE (%(prefix)s = '%%' OR street_code LIKE %(prefix)s) AND ST_Length(geom) > 0)
    SELECT DISTINCT ST_X(p.geom), ST_Y(p.geom) FROM r,
           ST_DumpPoints(ST_LineInterpolatePoints(r.g, least(1.0, %(spacing)s / greatest(ST_Length(r.g), 1e-9)))) p
"""


def siting(conn, kind: str = "toilets", add: int = 5, *, radius_m: float | None = None,
           street: str | None = None) -> dict:
    """Propose ``add`` new sites that maximise newly covered residents.

    Parameters
    ----------
    conn : psycopg2 connection
    kind : str
        Facility kind (see :data:`data.vocab.FACILITY_KINDS`).
    add : int
        How many sites to propose (1 … HYGIENE_MAP_SITING_MAX_ADD, default 200).
    radius_m : float, optional
        Service radius; the kind's standard by default.
    street : str, optional
        Street code: demand and candidates inside this street only.

    Returns
    -------
    dict
        ``sites`` (rank, lon, lat, new_residents, geometry of the new disc as
        GeoJSON), ``before`` / ``after`` covered residents and %, the rule and radius.
    """
    check_add(add)
    spec, radius, rule = resolve(kind, radius_m)
    srid = city_srid(conn)
    params = {"srid": srid, "cell": DEMAND_CELL_M, "spacing": CANDIDATE_SPACING_M, "radius": radius,
              "prefix": (street or "") + "%"}
    demand, existing, candidates = _points(conn, spec, street, params)
    weight = np.nan_to_num(demand[:, 2])
    covered = _covered(demand, existing, radius)
    total = weight.sum()
    before = weight[covered].sum()
    sites = _greedy(demand, weight, covered, candidates, radius, add)
    _add_discs(conn, sites, radius, srid)
    after = weight[covered].sum()
    return {"kind": kind, "radius_m": radius, "rule": rule, "street": street, "sites": sites,
            "candidates": int(len(candidates)), "demand_cells": int(len(demand)),
            "before": {"residents": float(before), "pct": float(100.0 * before / total) if total else None},
            "after": {"residents": float(after), "pct": float(100.0 * after / total) if total else None},
            "residents": float(total)}


def check_add(add: int) -> int:
    """``add`` when it is from 1 to HYGIENE_MAP_SITING_MAX_ADD: each site is one more pass over the candidates."""
    max_add = AnalysisSettings.from_env().siting_max_add
    if not (1 <= add <= max_add):
        raise InvalidParameter("add", f"must be between 1 and {max_add} (HYGIENE_MAP_SITING_MAX_ADD), not {add}")
    return add


def _points(conn, spec: FacilityKind, street: str | None, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric points: demand (x, y, residents), existing facilities (x, y) and candidate sites (x, y)."""
    existing_sql = sql.SQL(_EXISTING_SQL).format(table=sql.Identifier(spec.table), where=kind_filter(spec))
    with conn.cursor() as cur:
        if street:
            cur.execute("SELECT 1 FROM admin_areas WHERE level = 'street' AND code = %s", (street,))
            if cur.fetchone() is None:
                raise NotFound(f"no street with code {street!r}")
        cur.execute(_DEMAND_SQL, params)
        demand = np.array(cur.fetchall(), dtype=float).reshape(-1, 3)
        cur.execute(existing_sql, params)
        existing = np.array(cur.fetchall(), dtype=float).reshape(-1, 2)
        cur.execute(_CANDIDATES_SQL, params)
        candidates = np.array(cur.fetchall(), dtype=float).reshape(-1, 2)
    if demand.size == 0:
        raise NotFound("no residents to cover here (no community with population)")
    if candidates.size == 0:
        raise NotFound("no roads here to place candidate sites on")
    return demand, existing, candidates


def _covered(demand: np.ndarray, existing: np.ndarray, radius: float) -> np.ndarray:
    """Which demand cells an existing facility already covers (nearest facility within the radius)."""
    covered = np.zeros(len(demand), dtype=bool)
    if existing.size:
        near = cKDTree(existing).query(demand[:, :2], distance_upper_bound=radius)[0]
        covered = np.isfinite(near) & (near <= radius)
    return covered


def _greedy(demand: np.ndarray, weight: np.ndarray, covered: np.ndarray, candidates: np.ndarray,
            radius: float, add: int) -> list[dict]:
    """Up to ``add`` sites, each the candidate newly covering the most residents; marks them in ``covered``.

    Greedy rather than an exact integer programme: it is within 1 − 1/e of
    the optimum, takes seconds where a solver may take hours on a city, and
    each site's gain can be read on its own.
    """
    reach = cKDTree(demand[:, :2]).query_ball_point(candidates, r=radius)
    sites = []
    for rank in range(1, add + 1):
        gains = np.array([weight[idx][~covered[idx]].sum() if idx else 0.0 for idx in reach])
        best = int(np.argmax(gains))
        if gains[best] <= MIN_GAIN:  # stop rather than propose a useless site
            break
        covered[reach[best]] = True
        sites.append({"rank": rank, "x": float(candidates[best, 0]), "y": float(candidates[best, 1]),
                      "new_residents": float(gains[best])})
    return sites


def _add_discs(conn, sites: list[dict], radius: float, srid: int) -> None:
    """Each site's lon, lat and its service disc (the equal-area polygon of geo.coverage) as GeoJSON."""
    with conn.cursor() as cur:
        for site in sites:
            cur.execute(
                "SELECT ST_X(p), ST_Y(p), ST_AsGeoJSON(ST_Transform(ST_Buffer(q, %s, %s), 4326), 6) FROM "
                "(SELECT ST_SetSRID(ST_MakePoint(%s, %s), %s) AS q) a, ST_Transform(q, 4326) p",
                (radius * AREA_FACTOR, f"quad_segs={QUAD_SEGS}", site["x"], site["y"], srid))
            site["lon"], site["lat"], site["disc"] = cur.fetchone()
