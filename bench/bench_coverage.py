"""Coverage at city scale, side by side with the naive geopandas script a Python analyst writes.

    DATABASE_URL=postgresql://…/<the city demo> .venv/bin/python bench/bench_coverage.py [--runs 7]

The database: `hygiene-map db up` + `hygiene-map demo --scale city` (3,000
toilets, 600 communities, 2,408 land-use polygons). Coverage reads no
complaints, so a city demo loaded without them gives the same figures. The
script moves one toilet back and forth (the data ends as it began).

The same work on both sides: toilets at 300 m by community, covered area
share and covered population share (population over residential land), in
this process (no Python start-up on either side). Rounds alternate the
sides; each side's median over ``--runs`` rounds:

* ours, maintained: a toilet has just moved (its change stamp moved, so the
  answer cache misses); the kept state re-measures the areas near it;
* ours, new radius: the areas' state kept, every disc drawn and measured;
* ours, cold: nothing kept in the process (what one CLI run does): the
  areas' residential land read from the part kept in the database (migration 0760);
* ours, rebuilt: nothing kept anywhere (the kept parts deleted before, not
  timed): what the first run after an area or land-use edit does, storing
  the part again included;
* ours, PostGIS: the same answer computed in the database (the previous engine);
* naive, area only: the issue's peer, covered area share only;
* naive: ``read_postgis`` → ``to_crs`` → ``buffer(300, 64)`` → ``union_all`` →
  ``overlay`` with the communities, and for population ``overlay`` of the
  residential land with the communities and with the union.

Then the what-if edit latency (:mod:`layers.analysis.whatif`): one draft toilet dragged step
by step, each step one what-if answer with the affected areas' gap polygons.

``--against <another checkout>`` instead times only the new-radius call of this checkout and of the
other one (e.g. ``git archive <commit> | tar -x -C /tmp/old``), in fresh processes alternating
between the two, ``--runs`` processes each of 3 calls.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.db import connect, database_url  # noqa: E402
from geo.coverage import coverage  # noqa: E402
from layers.analysis.coverage_state import MaintainedState  # noqa: E402


def naive_area(engine, srid: int) -> dict:
    """code → covered area %: the issue's peer (area only, no population)."""
    import geopandas as gpd

    toilets = gpd.read_postgis("SELECT geom FROM toilets", engine, geom_col="geom").to_crs(srid)
    comms = gpd.read_postgis("SELECT code, geom FROM admin_areas WHERE level = 'community'", engine,
                             geom_col="geom").to_crs(srid)
    union = gpd.GeoDataFrame(geometry=[toilets.buffer(300, 64).union_all()], crs=srid)
    covered = gpd.overlay(comms, union, how="intersection").set_index("code").area
    area = comms.set_index("code").area
    return (100 * covered.reindex(area.index).fillna(0) / area).to_dict()


def naive(engine, srid: int) -> dict:
    """code → (covered area %, covered population %) the way a geopandas user computes them."""
    import geopandas as gpd

    toilets = gpd.read_postgis("SELECT geom FROM toilets", engine, geom_col="geom").to_crs(srid)
    comms = gpd.read_postgis("SELECT code, population, geom FROM admin_areas WHERE level = 'community'", engine,
                             geom_col="geom").to_crs(srid)
    land = gpd.read_postgis("SELECT geom FROM land_use WHERE class = 'R'", engine, geom_col="geom").to_crs(srid)
    union = gpd.GeoDataFrame(geometry=[toilets.buffer(300, 64).union_all()], crs=srid)
    area = comms.set_index("code").area
    covered = gpd.overlay(comms, union, how="intersection").set_index("code").area
    people = comms.loc[comms["population"] > 0, ["code", "geom"]]
    res = gpd.overlay(people, land, how="intersection")
    res_cov = gpd.overlay(res, union, how="intersection").dissolve("code").area
    res_area = res.dissolve("code").area
    area_pct = 100 * covered.reindex(area.index).fillna(0) / area
    pop_pct = (100 * res_cov.reindex(res_area.index).fillna(0) / res_area).reindex(area.index)
    return {c: (area_pct[c], pop_pct[c] if pop_pct[c] == pop_pct[c] else area_pct[c]) for c in area.index}


def move_toilet(conn, step: int) -> None:
    """Move one toilet ~35 m east (odd steps) or back west (even steps), committed: its change stamp moves."""
    with conn.cursor() as cur:
        cur.execute("UPDATE toilets SET geom = ST_Translate(geom, %s, 0) WHERE id = (SELECT min(id) FROM toilets)",
                    (0.0004 if step % 2 else -0.0004,))
    conn.commit()


def forget_kept(conn) -> None:
    """Delete the parts kept in the database (migration 0760), committed: the next run builds them again."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM kept_parts")
    conn.commit()


def rounds(conn, engine, srid: int, runs: int) -> tuple[dict, dict]:
    """Each side's times over ``runs`` alternating rounds, and the last answers."""
    kept = MaintainedState()
    coverage(conn, "toilets", by="community", store=kept)  # the state the server keeps, built once
    conn.commit()
    sides = {
        "maintained": lambda k: coverage(conn, "toilets", by="community", store=kept),
        "new radius": lambda k: coverage(conn, "toilets", 300.0 + 0.001 * (k + 1), by="community", store=kept),
        "cold": lambda k: coverage(conn, "toilets", by="community"),
        "rebuilt": lambda k: coverage(conn, "toilets", by="community"),
        "postgis": lambda k: coverage(conn, "toilets", by="community", engine="postgis"),
        "naive, area only": lambda k: naive_area(engine, srid),
        "naive": lambda k: naive(engine, srid),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    answers: dict = {}
    for k in range(runs):
        names = list(sides)
        for name in names[k % len(names):] + names[:k % len(names)]:
            if name == "maintained":
                move_toilet(conn, k + 1)  # east, back west, east, …
            if name == "rebuilt":
                forget_kept(conn)
            t = time.perf_counter()
            answers[name] = sides[name](k)
            times[name].append(time.perf_counter() - t)
            conn.commit()
    if runs % 2:
        move_toilet(conn, 0)  # back where it began
    assert all(step.startswith("updated") for step in kept.last if step != "built"), kept.last
    return times, answers


def draft_steps(conn) -> list[list[dict]]:
    """A planner's session: 5 toilets added, one dragged in 6 steps, 2 moved, 2 removed; the edit list after each."""
    with conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM toilets ORDER BY id LIMIT 4")
        (a, ax, ay), (b, bx, by), (c, _, _), (d, _, _) = cur.fetchall()
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                    "WHERE level = 'community' ORDER BY code LIMIT 5) s")
        spots = cur.fetchall()
    edits, steps = [], []
    for lon, lat in spots:
        edits.append({"op": "add", "lon": lon, "lat": lat})
        steps.append(list(edits))
    for k in range(1, 7):  # the first draft toilet dragged 50 m at a time
        edits[0] = {"op": "add", "lon": spots[0][0] + 0.0006 * k, "lat": spots[0][1]}
        steps.append(list(edits))
    for edit in ({"op": "move", "id": a, "lon": ax + 0.002, "lat": ay}, {"op": "move", "id": b, "lon": bx, "lat": by + 0.002},
                 {"op": "remove", "id": c}, {"op": "remove", "id": d}):
        edits.append(edit)
        steps.append(list(edits))
    return steps


def edit_latency(conn, runs: int) -> tuple[list[float], int]:
    """Seconds per what-if answer (the whole draft so far, gaps included) over ``runs`` sessions, and the most
    areas one answer held."""
    from layers.analysis.whatif import parse_edits, whatif

    kept = MaintainedState()
    whatif(conn, "toilets", None, [], store=kept)  # the server's kept state
    conn.rollback()
    times, most = [], 0
    for _ in range(runs):
        for edits in draft_steps(conn):
            t = time.perf_counter()
            answer = whatif(conn, "toilets", None, parse_edits(edits), store=kept)
            times.append(time.perf_counter() - t)
            conn.rollback()
            most = max(most, len(answer["areas"]))
    return times, most


def agreement(answers: dict) -> tuple[float, float, float]:
    """Largest differences in percentage points: ours vs PostGIS (area, population), and ours vs naive (area)."""
    ours = {r["code"]: r for r in answers["maintained"]["rows"]}
    ref = {r["code"]: r for r in answers["postgis"]["rows"]}
    d_area = max(abs(ours[c]["covered_area_pct"] - ref[c]["covered_area_pct"]) for c in ref)
    d_pop = max(abs(ours[c]["covered_pop_pct"] - ref[c]["covered_pop_pct"]) for c in ref
                if ref[c]["covered_pop_pct"] is not None)
    d_naive = max(abs(ours[c]["covered_area_pct"] - answers["naive"][c][0]) for c in ref)
    return d_area, d_pop, d_naive


#: One process of ``--against``: the state kept, then new radii, each call's seconds printed.
_NEW_RADIUS = """
import sys, time
sys.path.insert(0, {root!r})
from data.db import connect
from geo.coverage import coverage
from layers.analysis.coverage_state import MaintainedState
conn, kept = connect(), MaintainedState()
coverage(conn, "toilets", by="community", store=kept)
conn.commit()
for k in range({calls}):
    t = time.perf_counter()
    coverage(conn, "toilets", 300.0 + 0.001 * (k + 1), by="community", store=kept)
    print(time.perf_counter() - t)
    conn.commit()
"""


def against(other: str, runs: int, calls: int = 3) -> dict[str, list[float]]:
    """Seconds per new-radius call of this checkout and of ``other``, in fresh processes taking turns."""
    roots = {str(ROOT): [], str(Path(other).resolve()): []}
    for k in range(runs):
        for root in list(roots)[::1 if k % 2 == 0 else -1]:
            out = subprocess.run([sys.executable, "-c", _NEW_RADIUS.format(root=root, calls=calls)], cwd=root,
                                 capture_output=True, text=True, check=True)
            roots[root] += [float(line) for line in out.stdout.split()]
    return roots


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", help="another checkout: only the new-radius call, this one's and its")
    args = parser.parse_args()
    if args.against:
        for root, ts in against(args.against, args.runs).items():
            print(f"new radius, {root}: median {statistics.median(ts):.3f} s of {len(ts)} calls "
                  f"({' '.join(f'{t:.2f}' for t in ts)})")
        return
    warnings.filterwarnings("ignore", message=".*SQLAlchemy.*")
    conn, engine = connect(), connect(url=database_url())
    with conn.cursor() as cur:
        cur.execute("SELECT metric_srid FROM city_settings")
        srid = cur.fetchone()[0]
    times, answers = rounds(conn, engine, srid, args.runs)
    base = statistics.median(times["naive"])
    area_only = statistics.median(times["naive, area only"])
    print(f"| side | median of {args.runs} | all runs (s) | naive ÷ side | naive area-only ÷ side |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m:.3f} s | {' '.join(f'{t:.2f}' for t in ts)} | {base / m:.1f}× | {area_only / m:.1f}× |")
    d_area, d_pop, d_naive = agreement(answers)
    edits, most = edit_latency(conn, max(1, args.runs // 2))
    print(f"what-if, {len(edits)} answers (drafts of 1–15 edits, gaps included): median {statistics.median(edits) * 1000:.0f} ms, "
          f"90th percentile {statistics.quantiles(edits, n=10)[-1] * 1000:.0f} ms, max {max(edits) * 1000:.0f} ms; "
          f"at most {most} areas in one answer")
    print(f"max |Δ| ours vs PostGIS: area {d_area:.2e} pp, population {d_pop:.2e} pp; "
          f"ours (64-gon) vs naive (256-gon) area {d_naive:.4f} pp")
    conn.close()
    engine.close()


if __name__ == "__main__":
    main()
