"""Issue 6 at city scale: duplicate search side by side, routing, per-street reads, regeneration.

Run against a database holding the `city` demo with this branch's migrations
(your own database: the regeneration step writes, then rolls back):

    DATABASE_URL=postgresql://…/yours .venv/bin/python bench/bench_grids_complaints.py

Side by side: the duplicate search as shipped (degree box on the GiST index,
then an exact geography distance) against what one would write first
(`ST_DWithin(geom::geography, …)` alone, which no index on `geom` serves).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from data.db import connect
from data.settings import GridSettings
from layers.workflow import complaints as cases
from layers.workflow import grids as grid_admin
from layers.workflow import regrid as grid_plan

NAIVE = """SELECT o.id FROM complaints c JOIN complaints o
             ON o.id <> c.id AND o.category = c.category
            AND o.reported_at BETWEEN c.reported_at - interval '7 days' AND c.reported_at + interval '7 days'
            AND ST_DWithin(o.geom::geography, c.geom::geography, 50)
           WHERE c.id = %s"""


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def med_ms(values):
    return f"{statistics.median(values) * 1000:.1f} ms"


def _duplicates(conn, top: int) -> None:
    """The duplicate search of 30 random complaints, shipped against the naive query, interleaved."""
    rng = np.random.default_rng(6)
    ids = [int(i) for i in rng.integers(1, top, 30)]

    ours, naive, agree = [], [], 0
    for cid in ids:  # interleaved, so both see the same cache state
        t1, found = timed(cases.possible_duplicates, conn, cid)
        with conn.cursor() as cur:
            t2, _ = timed(cur.execute, NAIVE, (cid,))
            naive_ids = {r[0] for r in cur.fetchall()}
        ours.append(t1)
        naive.append(t2)
        agree += {d["id"] for d in found} == naive_ids or len(found) == 20
    print(f"complaints: {top:,}; 30 random complaints\n")
    print("| duplicate search (50 m, ±7 days, same type) | median | ratio |\n|---|---|---|")
    print(f"| GiST degree box + geography distance (shipped) | {med_ms(ours)} | 1 |")
    print(f"| `ST_DWithin(geom::geography)` only | {med_ms(naive)} | "
          f"{statistics.median(naive) / statistics.median(ours):.0f}× |")
    print(f"\nsame duplicates found: {agree}/30\n")


def _routing_and_reads(conn, streets: list[str]) -> None:
    """Routing at insert (point in grid on the GiST index), a complaint's POST, and a street office's reads."""
    # Routing at insert: point-in-grid with the GiST index.
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                    "ORDER BY random() LIMIT 200) s")
        points = cur.fetchall()
    routing = [timed(cases.route, conn, lon, lat)[0] for lon, lat in points]
    inserts = []
    for lon, lat in points[:50]:
        t, _ = timed(cases.create, conn, lon=lon, lat=lat, category="暴露垃圾", description="bench",
                     channel="bench", reported_at=__import__("datetime").datetime.now().astimezone(), actor="bench")
        inserts.append(t)
    conn.rollback()

    reads = {"GET /api/grids?street (GeoJSON)": [], "roster rows": [], "unit table (map)": [],
             "open complaints of a street (page 1000)": []}
    for street in streets[:10]:
        reads["GET /api/grids?street (GeoJSON)"].append(timed(grid_admin.grids_geojson, conn, street)[0])
        reads["roster rows"].append(timed(grid_admin.roster, conn, street)[0])
        reads["unit table (map)"].append(timed(grid_admin.unit_table, conn, street)[0])
        reads["open complaints of a street (page 1000)"].append(
            timed(cases.search, conn, street=street, is_open=True, limit=1000)[0])
    conn.rollback()
    print("| operation (city scale) | median |\n|---|---|")
    print(f"| route a point to its grid (200 points) | {med_ms(routing)} |")
    print(f"| POST a complaint: route + insert + history + duplicates + audit (50) | {med_ms(inserts)} |")
    for name, values in reads.items():
        print(f"| {name}, 10 streets | {med_ms(values)} |")


def _regrids(conn, streets: list[str]) -> None:
    """A street's grids planned and applied again (rolled back), for 3 streets."""
    width = GridSettings.from_env().sequence_width
    plans, applies = [], []
    for street in streets[:3]:
        t, p = timed(grid_plan.plan, conn, street, 250, "square", sequence_width=width)
        plans.append(t)
        t2, result = timed(grid_plan.apply, conn, p, "bench", force=True)
        applies.append(t2)
        conn.rollback()  # never keep the bench's regeneration
    print(f"| grids generate --dry-run, one street (~110 grids), 3 streets | {med_ms(plans)} |")
    print(f"| grids generate applied (archive, history, re-route ~16,000 complaints), rolled back | "
          f"{med_ms(applies)} |")


def main() -> None:
    conn = connect()
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM complaints")
        top = cur.fetchone()[0]
        cur.execute("SELECT code FROM admin_areas WHERE level = 'street' ORDER BY code")
        streets = [r[0] for r in cur.fetchall()]
    _duplicates(conn, top)
    _routing_and_reads(conn, streets)
    _regrids(conn, streets)
    conn.close()

if __name__ == "__main__":
    main()
