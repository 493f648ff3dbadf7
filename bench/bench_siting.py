"""Siting (lazy greedy maximum coverage) side by side with what a planner would run instead.

    DATABASE_URL=postgresql://…/<small or city demo database> \\
        .venv/bin/python bench/bench_siting.py [--add 5] [--runs 5] [--no-mclp]

All answer the same question on the same tables: where ``--add`` new
toilets (300 m) would cover the most residents not yet covered (residents
spread over residential land on a 50 m lattice, candidates every 50 m along
the roads, the existing toilets' coverage as the starting point).

* ours: ``geo.siting.siting`` from nothing in the process (what one CLI run
  does): the demand lattice read from the part kept in the database
  (migration 0760), lazy greedy over a sparse candidate × demand matrix;
* ours, nothing kept: the kept parts deleted before (not timed): the lattice
  laid in numpy/shapely from the tables and stored again, as the first
  request after an area or land-use edit does;
* ours, places kept: the same with the facilities, candidates and demand
  lattice kept, as the web server keeps them while the places stand (what a
  request after a complaint came in, or with another ``add``, costs);
* plain greedy: the same demand points and candidates (read by the same
  function, timed: the kept lattice too), then ``STRtree.query(dwithin)`` per candidate and the
  textbook greedy recomputing every gain each round;
* spopt MCLP (``--no-mclp`` leaves it out; needs ``pip install spopt``, a
  bench extra): the same inputs, a dense candidate × demand distance matrix
  (scipy ``cdist``), the demand already covered weighted 0, solved exactly
  with PuLP's CBC. Its dense matrix does not fit a city (52,000 × 80,000).

Runs alternate (each tool once per round); prints the medians and every
answer's covered residents (ours as coverage measures them, the others on
the lattice). The greedies must choose the same sites; MCLP is the optimum
(≥ the greedy's). Writes only the kept parts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.db import connect  # noqa: E402
from geo.coverage import resolve  # noqa: E402
from geo.siting import MIN_GAIN, siting, siting_places  # noqa: E402

RADIUS = 300.0


def _inputs(conn):
    """Demand (x, y, weight), covered-before mask and candidates, as siting reads them."""
    import shapely

    places = siting_places(conn, "toilets", None, "residents")
    demand, candidates = places.demand.points, places.candidates
    tree = shapely.STRtree(shapely.points(demand[:, :2]))
    covered = np.zeros(len(demand), dtype=bool)
    if len(places.existing):
        covered[tree.query(shapely.points(places.existing), predicate="dwithin", distance=RADIUS)[1]] = True
    return demand, covered, candidates, tree


def plain(conn, add: int) -> tuple:
    """The plain shapely script: the sites it chooses and the covered residents after them (on the lattice)."""
    import shapely

    demand, covered, candidates, tree = _inputs(conn)
    weight = demand[:, 2]
    cand, cell = tree.query(shapely.points(candidates), predicate="dwithin", distance=RADIUS)
    reach = np.split(cell, np.searchsorted(cand, np.arange(1, len(candidates))))
    chosen = []
    for _ in range(add):  # the textbook greedy: every candidate's gain, every round
        gains = np.array([weight[r][~covered[r]].sum() for r in reach])
        best = int(np.argmax(gains))
        if gains[best] <= MIN_GAIN:
            break
        covered[reach[best]] = True
        chosen.append((round(float(candidates[best][0]), 3), round(float(candidates[best][1]), 3)))
    return tuple(chosen), float(weight[covered].sum())


def mclp(conn, add: int) -> tuple:
    """spopt's maximal covering location problem on a prepared distance matrix, solved by CBC."""
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    demand, covered, candidates, _ = _inputs(conn)
    weight = np.where(covered, 0.0, demand[:, 2])  # already covered: nothing to gain there
    matrix = cdist(demand[:, :2], candidates)
    model = MCLP.from_cost_matrix(matrix, weight, RADIUS, p_facilities=add).solve(pulp.PULP_CBC_CMD(msg=False))
    sites = [j for j, clients in enumerate(model.fac2cli) if len(clients)]
    reach = (matrix[:, sites] <= RADIUS).any(axis=1) if sites else np.zeros(len(demand), dtype=bool)
    return tuple(tuple(round(float(v), 3) for v in candidates[j]) for j in sites), float(demand[covered | reach, 2].sum())


def _answer(result: dict) -> tuple:
    """The sites chosen, and the covered residents after them as coverage measures them (the lattice only chooses)."""
    return tuple((round(s["x"], 3), round(s["y"], 3)) for s in result["sites"]), result["after"]["residents"]


def ours(conn, add: int) -> tuple:
    return _answer(siting(conn, "toilets", add, radius_m=RADIUS, objective="residents"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--add", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-mclp", action="store_true", help="leave spopt's MCLP out (a city's matrix is too big)")
    args = parser.parse_args()
    resolve("toilets", RADIUS)
    conn = connect()
    kept = siting_places(conn, "toilets", None, "residents")
    tools = {"ours": ours,
             "ours, nothing kept": ours,
             "ours, places kept": lambda c, add: _answer(siting(c, "toilets", add, radius_m=RADIUS,
                                                                 objective="residents", places=kept)),
             "plain greedy": plain}
    if not args.no_mclp:
        tools["spopt MCLP"] = mclp
    times: dict[str, list[float]] = {name: [] for name in tools}
    answers: dict[str, tuple] = {}
    for _ in range(args.runs):
        for name, run in tools.items():
            if name == "ours, nothing kept":
                with conn.cursor() as cur:
                    cur.execute("DELETE FROM kept_parts")
                conn.commit()
            start = time.perf_counter()
            answers[name] = run(conn, args.add)
            times[name].append(time.perf_counter() - start)
            conn.rollback()
    base = statistics.median(times["ours"])
    for name in tools:
        med = statistics.median(times[name])
        print(f"| {name} | add {args.add} | {med:.3f} s | {med / base:.1f}× ours | {answers[name][1]:,.0f} |")
    print("runs:", {k: [round(t, 3) for t in v] for k, v in times.items()})
    # The same sites; the residents differ in kind: ours are coverage's (exact discs), the peers' the lattice's.
    assert answers["ours"] == answers["ours, places kept"] == answers["ours, nothing kept"], answers
    assert answers["ours"][0] == answers["plain greedy"][0], (answers["ours"][0], answers["plain greedy"][0])


if __name__ == "__main__":
    main()
