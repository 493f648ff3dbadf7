"""Inspection priority per grid, with every component shown.

Components (each scaled to 0–1, then weighted; the score is 0–100):

======================  ======  ==============================================
component               weight  raw value
======================  ======  ==============================================
hotspot                 0.25    Gi* bin of the hexagon holding the grid's centre (hot bins only, ÷ 3)
overdue                 0.20    open complaints past their deadline (÷ the largest in the result)
open                    0.15    open complaints, i.e. not 结案 (÷ the largest)
coverage_gap            0.15    share of the grid outside every toilet's service radius
urban_village           0.15    share of the grid inside urban villages
markets                 0.10    markets in service in the grid (÷ the largest)
======================  ======  ==============================================

The weights are this project's working values, not a standard: a street
office can read each component and judge for itself.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from data.catalog import metric_srid as city_srid
from data.clock import REFERENCE_TIME_SQL
from data.errors import NotFound
from data.params import parse_area_code
from data.vocab import CLOSED
from geo.coverage import coverage
from geo.hotspots import hotspots
from geo.metric import metric_polygon

WEIGHTS = {"hotspot": 0.25, "overdue": 0.20, "open": 0.15, "coverage_gap": 0.15, "urban_village": 0.15,
           "markets": 0.10}


def grid_places(conn, street: str | None = None) -> dict:
    """The parts of :func:`priority` that read no complaints, per grid of ``street`` (or the city).

    ``grids``: (code, name, metric x, y of a point inside, markets, urban
    village share, GeoJSON) in code order; ``gaps``: per code, the percentage
    of the grid outside every toilet's service radius. The slow part of the
    ranking, so a caller may compute it once and pass it in while the places
    stand, however many complaints arrive meanwhile.
    """
    street = parse_area_code(street, "street")
    with conn.cursor() as cur:
        cur.execute(
            f"""
            WITH g AS (SELECT code, name, geom, {metric_polygon("geom")} AS m FROM grids WHERE code LIKE %(prefix)s)
            SELECT g.code, coalesce(g.name, g.code), ST_X(ST_PointOnSurface(g.m)), ST_Y(ST_PointOnSurface(g.m)),
                   (SELECT count(*) FROM markets k WHERE k.in_service AND k.geom && g.geom  -- a closed one draws no one
                           AND ST_Intersects(k.geom, g.geom)),
                   coalesce((SELECT sum(ST_Area(ST_Intersection(g.m, {metric_polygon("v.geom")})))
                             FROM urban_villages v WHERE v.geom && g.geom AND ST_Intersects(v.geom, g.geom)), 0)
                   / nullif(ST_Area(g.m), 0),
                   ST_AsGeoJSON(g.geom, 6)
            FROM g ORDER BY g.code""",
            {"srid": city_srid(conn), "prefix": (street or "") + "%"},
        )
        grids = cur.fetchall()
    gaps = {r["code"]: 100.0 - r["covered_area_pct"]
            for r in coverage(conn, "toilets", by="grid", code_prefix=street)["rows"]}
    return {"grids": grids, "gaps": gaps}


def priority(conn, *, street: str | None = None, since: datetime | None = None, as_of: datetime | None = None,
             limit: int | None = None, places: dict | None = None) -> dict:
    """Rank grids for inspection.

    Parameters
    ----------
    conn : psycopg2 connection
    street : str, optional
        Only the grids of this street code.
    since : datetime, optional
        Start of the complaint window for the hotspot component.
    as_of : datetime, optional
        When "overdue" is judged; by default the reference time of :mod:`data.clock` (the city's data
        time while the data is that snapshot, else now()), as on every page, answer and print.
    limit : int, optional
        Keep the top grids only.
    places : dict, optional
        :func:`grid_places` of the same street, when the caller has it already.

    Returns
    -------
    dict
        ``rows`` sorted by score (code, name, score, components {name: {value, scaled, weighted}}),
        ``weights``, ``hotspot_cell_m`` (None without complaints) and ``missing``: what the
        city lacks for a full ranking (grids, complaints), [] when nothing; ``ranked``: how many grids were
        ranked (``limit`` keeps the first rows only).
    """
    street = parse_area_code(street, "street")
    if places is None:
        places = grid_places(conn, street)
    missing = [] if places["grids"] else ["grids"]
    try:
        hot = hotspots(conn, since=since)
    except NotFound:  # no complaints (in the window): the ranking runs on the other components
        hot = None
        missing.append("complaints")
    cell_m = hot.cell_m if hot else None
    open_overdue = _open_overdue(conn, street, as_of)
    # (code, name, x, y, open, overdue, markets, urban village share, GeoJSON) as the ranking reads them.
    fetched = [(code, name, x, y, *open_overdue.get(code, (0, 0)), markets, village, geojson)
               for code, name, x, y, markets, village, geojson in places["grids"]]
    if not fetched:
        return {"rows": [], "weights": WEIGHTS, "hotspot_cell_m": cell_m, "missing": missing, "ranked": 0}
    raw, scaled = _components(fetched, places["gaps"], hot)
    score = sum(WEIGHTS[k] * scaled[k] for k in WEIGHTS) * 100.0
    rows = [{"code": row[0], "name": row[1], "score": round(float(score[i]), 2),
             "components": {k: {"value": _plain(raw[k][i], k), "scaled": round(float(scaled[k][i]), 4),
                                "weighted": round(float(WEIGHTS[k] * scaled[k][i] * 100.0), 2)} for k in WEIGHTS},
             "geometry": row[8]} for i, row in enumerate(fetched)]
    rows.sort(key=lambda r: (-r["score"], r["code"]))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
    return {"rows": rows[:limit] if limit else rows, "weights": WEIGHTS, "hotspot_cell_m": cell_m, "missing": missing,
            "ranked": len(rows)}


def _open_overdue(conn, street: str | None, as_of: datetime | None) -> dict[str, tuple[int, int]]:
    """Per grid code: (open complaints, those past their deadline at ``as_of`` or the reference time)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT grid_code, count(*), count(*) FILTER "
            f"(WHERE due_at < coalesce(%(as_of)s, {REFERENCE_TIME_SQL})) "
            "FROM complaints WHERE status <> %(closed)s AND grid_code LIKE %(prefix)s GROUP BY grid_code",
            {"prefix": (street or "") + "%", "as_of": as_of, "closed": CLOSED},
        )
        return {code: (n_open, n_overdue) for code, n_open, n_overdue in cur.fetchall()}


def _components(fetched: list[tuple], gaps: dict[str, float], hot) -> tuple[dict, dict]:
    """Each component's raw value per grid, and scaled to 0–1.

    Shares and Gi* bins have a natural top (1, bin 3); counts have none, so
    they are divided by the largest in this result: a ranking, not a grade.
    """
    x = np.array([r[2] for r in fetched])
    y = np.array([r[3] for r in fetched])
    raw = {
        "hotspot": _bins_at(hot, x, y).astype(float) if hot else np.zeros(len(x)),
        "overdue": np.array([r[5] for r in fetched], dtype=float),
        "open": np.array([r[4] for r in fetched], dtype=float),
        "coverage_gap": np.array([gaps.get(r[0], 0.0) / 100.0 for r in fetched]),
        "urban_village": np.array([float(r[7] or 0.0) for r in fetched]),
        "markets": np.array([r[6] for r in fetched], dtype=float),
    }
    scaled = {
        "hotspot": np.clip(raw["hotspot"], 0, 3) / 3.0,
        "coverage_gap": np.clip(raw["coverage_gap"], 0, 1),
        "urban_village": np.clip(raw["urban_village"], 0, 1),
    }
    for name in ("overdue", "open", "markets"):
        top = raw[name].max()
        scaled[name] = raw[name] / top if top > 0 else np.zeros_like(raw[name])
    return raw, scaled


def _plain(value, name):
    return int(value) if name in ("hotspot", "overdue", "open", "markets") else round(float(value), 4)


def _bins_at(hot, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The Gi* bin of the hexagon holding each metric point (0 outside the cells)."""
    from geo.hexgrid import SQRT3

    fq = (SQRT3 / 3.0 * x - y / 3.0) / hot.cell_m
    fr = (2.0 / 3.0 * y) / hot.cell_m
    fs = -fq - fr
    rq, rr, rs = np.round(fq), np.round(fr), np.round(fs)
    dq, dr, ds = np.abs(rq - fq), np.abs(rr - fr), np.abs(rs - fs)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -rr - rs, rq).astype(np.int64)
    r = np.where(fix_r, -rq - rs, rr).astype(np.int64)
    lookup = {(int(a), int(b)): int(v) for a, b, v in zip(hot.q, hot.r, hot.gi_bin)}
    return np.array([lookup.get((int(a), int(b)), 0) for a, b in zip(q, r)], dtype=np.int64)
