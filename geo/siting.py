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
from scipy.spatial import cKDTree

from data.catalog import metric_srid as city_srid
from data.errors import InvalidParameter, NotFound
from data.settings import AnalysisSettings
from geo.coverage import AREA_FACTOR, QUAD_SEGS, resolve

DEMAND_CELL_M = 50.0
CANDIDATE_SPACING_M = 50.0


def siting(conn, kind: str = "toilets", add: int = 5, *, radius_m: float | None = None,
           street: str | None = None) -> dict:
    """Propose ``add`` new sites that maximise newly covered residents.

    Parameters
    ----------
    conn : psycopg2 connection
    kind : str
        Facility kind (see :data:`geo.coverage.KINDS`).
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
    max_add = AnalysisSettings.from_env().siting_max_add
    if not (1 <= add <= max_add):
        raise InvalidParameter("add", f"must be between 1 and {max_add} (HYGIENE_MAP_SITING_MAX_ADD), not {add}")
    spec, radius, rule = resolve(kind, radius_m)
    srid = city_srid(conn)
    params = {"srid": srid, "cell": DEMAND_CELL_M, "spacing": CANDIDATE_SPACING_M, "radius": radius,
              "prefix": (street or "") + "%"}
    with conn.cursor() as cur:
        if street:
            cur.execute("SELECT 1 FROM admin_areas WHERE level = 'street' AND code = %s", (street,))
            if cur.fetchone() is None:
                raise NotFound(f"no street with code {street!r}")
        cur.execute(
            """
            WITH comm AS (
                SELECT code, population, geom, ST_Transform(geom, %(srid)s) AS g FROM admin_areas
                WHERE level = 'community' AND population > 0 AND code LIKE %(prefix)s
            ),
            spread AS (
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
            """, params)
        demand = np.array(cur.fetchall(), dtype=float).reshape(-1, 3)
        cur.execute(
            f"SELECT ST_X(ST_Transform(geom, %(srid)s)), ST_Y(ST_Transform(geom, %(srid)s)) FROM {spec.table} "
            f"WHERE {spec.where} AND GeometryType(geom) = 'POINT'", params)
        existing = np.array(cur.fetchall(), dtype=float).reshape(-1, 2)
        cur.execute(
            """
            WITH r AS (SELECT ST_Transform(geom, %(srid)s) AS g FROM roads
                       WHERE (%(prefix)s = '%%' OR street_code LIKE %(prefix)s) AND ST_Length(geom) > 0)
            SELECT DISTINCT ST_X(p.geom), ST_Y(p.geom) FROM r,
                   ST_DumpPoints(ST_LineInterpolatePoints(r.g, least(1.0, %(spacing)s / greatest(ST_Length(r.g), 1e-9)))) p
            """, params)
        candidates = np.array(cur.fetchall(), dtype=float).reshape(-1, 2)
    if demand.size == 0:
        raise NotFound("no residents to cover here (no community with population)")
    if candidates.size == 0:
        raise NotFound("no roads here to place candidate sites on")
    weight = np.nan_to_num(demand[:, 2])
    covered = np.zeros(len(demand), dtype=bool)
    if existing.size:
        near = cKDTree(existing).query(demand[:, :2], distance_upper_bound=radius)[0]
        covered = np.isfinite(near) & (near <= radius)
    total = weight.sum()
    before = weight[covered].sum()
    reach = cKDTree(demand[:, :2]).query_ball_point(candidates, r=radius)
    sites = []
    for rank in range(1, add + 1):
        gains = np.array([weight[idx][~covered[idx]].sum() if idx else 0.0 for idx in reach])
        best = int(np.argmax(gains))
        if gains[best] <= 0.5:  # less than one resident: stop rather than propose a useless site
            break
        idx = reach[best]
        covered[idx] = True
        sites.append({"rank": rank, "x": float(candidates[best, 0]), "y": float(candidates[best, 1]),
                      "new_residents": float(gains[best])})
    with conn.cursor() as cur:
        for site in sites:
            cur.execute(
                "SELECT ST_X(p), ST_Y(p), ST_AsGeoJSON(ST_Transform(ST_Buffer(q, %s, %s), 4326), 6) FROM "
                "(SELECT ST_SetSRID(ST_MakePoint(%s, %s), %s) AS q) a, ST_Transform(q, 4326) p",
                (radius * AREA_FACTOR, f"quad_segs={QUAD_SEGS}", site["x"], site["y"], srid))
            site["lon"], site["lat"], site["disc"] = cur.fetchone()
    after = weight[covered].sum()
    return {"kind": kind, "radius_m": radius, "rule": rule, "street": street, "sites": sites,
            "candidates": int(len(candidates)), "demand_cells": int(len(demand)),
            "before": {"residents": float(before), "pct": float(100.0 * before / total) if total else None},
            "after": {"residents": float(after), "pct": float(100.0 * after / total) if total else None},
            "residents": float(total)}
