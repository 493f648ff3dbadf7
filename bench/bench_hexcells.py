"""The hexagons that touch a city, side by side with the PostGIS statement a GIS analyst writes for them.

    DATABASE_URL=postgresql://…/<a city with admin areas, e.g. New York's outlines> \\
        .venv/bin/python bench/bench_hexcells.py [--runs 3] [--cell 400 200 100]

* ours: ``geo.hexcells.city_cells`` — the city's outline read once as WKB,
  prepared, every candidate hexagon tested at once with
  ``shapely.intersects``; PostGIS draws only the chosen ones as GeoJSON;
* the peer: one statement — every hexagon of the outline's bounding box
  built by ``ST_Translate`` of a template and kept where
  ``ST_Intersects(hexagon, ST_Union(districts))``, then ``ST_AsGeoJSON`` —
  what hot spots did before (and what the PostGIS way reads like).

Both answer the same cells and the same GeoJSON (checked). Runs alternate,
each tool once per round; medians. The peer runs without a statement
time-out (the server's 30 s would cut it short on a fine grid); ``--cell``
sizes whose peer would run for minutes can be left out. Reads only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.catalog import metric_srid  # noqa: E402
from data.db import database_url  # noqa: E402
from geo import hexcells, hexgrid  # noqa: E402

_PEER = f"""
    WITH city AS ({hexcells.CITY_SQL}),
    template AS (
        SELECT ST_MakePolygon(ST_MakeLine(array_agg(
                   ST_MakePoint(%(size)s * cos(radians(30 + 60 * mod(k, 6))), %(size)s * sin(radians(30 + 60 * mod(k, 6))))
                   ORDER BY k))) AS geom
        FROM generate_series(0, 6) k
    ),
    hexes AS (
        SELECT q, r, ST_SetSRID(ST_Translate(t.geom, %(size)s * sqrt(3.0) * (q + r / 2.0), %(size)s * 1.5 * r),
                                %(srid)s) AS geom
        FROM generate_series(%(q_min)s, %(q_max)s) q, generate_series(%(r_min)s, %(r_max)s) r, template t
    )
    SELECT h.q, h.r, ST_AsGeoJSON(ST_Transform(h.geom, 4326), 6)
    FROM hexes h, city WHERE ST_Intersects(h.geom, city.st_union)
    ORDER BY h.r, h.q
"""


def peer(conn, size: float, srid: int) -> tuple[list, list, list]:
    """(q, r, GeoJSON) of the cells touching the city, by one PostGIS statement."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM ({hexcells.CITY_SQL}) c(g)",
                    {"srid": srid})
        r_min, r_max, q_min, q_max = hexgrid.axial_range(cur.fetchone(), size)
        cur.execute(_PEER, {"size": size, "srid": srid, "q_min": q_min, "q_max": q_max, "r_min": r_min,
                            "r_max": r_max})
        rows = cur.fetchall()
    return [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]


def main() -> None:
    import psycopg2

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cell", type=float, nargs="+", default=[400.0, 200.0, 100.0])
    args = parser.parse_args()
    conn = psycopg2.connect(database_url())  # no statement time-out: the peer would be cut short
    conn.autocommit = True
    srid = metric_srid(conn)
    for size in args.cell:
        times: dict[str, list[float]] = {"ours": [], "peer": []}
        for _ in range(args.runs):
            started = time.perf_counter()
            q, r, geojson, _ = hexcells.city_cells(conn, size, srid, False)
            times["ours"].append(time.perf_counter() - started)
            started = time.perf_counter()
            pq, pr, pgeojson = peer(conn, size, srid)
            times["peer"].append(time.perf_counter() - started)
        same = list(q) == pq and list(r) == pr and geojson == pgeojson
        ours, theirs = statistics.median(times["ours"]), statistics.median(times["peer"])
        print(f"| {size:g} m | {len(q):,} | {ours:.2f} s | {theirs:.2f} s | {theirs / ours:.1f}× | "
              f"{'same' if same else 'DIFFERENT'} |")
        print(f"  runs: ours {[round(t, 2) for t in times['ours']]}, peer {[round(t, 2) for t in times['peer']]}")


if __name__ == "__main__":
    main()
