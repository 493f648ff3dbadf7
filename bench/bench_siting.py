"""Siting (greedy maximum coverage) side by side with the geopandas/shapely script a planner would write.

    DATABASE_URL=postgresql://…/<small or city demo database> \\
        .venv/bin/python bench/bench_siting.py [--add 5] [--runs 3]

Both answer the same question on the same tables: where ``--add`` new
toilets (300 m) along the roads would cover the most residents not yet
covered, residents spread over residential land on a 50 m lattice.

* ours: ``geo.siting.siting`` (valid metric outlines in SQL, lattice in
  numpy/shapely cutting only the cells on an outline, lazy greedy over a
  sparse candidate × demand matrix);
* peer: the same demand points and road candidates (read by the same
  function, timed in both), then what a shapely user writes:
  ``STRtree.query(dwithin)`` for each candidate's reach and the plain greedy
  that recomputes every candidate's gain each round.

Runs alternate (ours, peer, ours, …); prints the medians and both answers'
covered residents (they must agree within 0.1 %). Only reads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.catalog import metric_srid  # noqa: E402
from data.db import connect  # noqa: E402
from geo.coverage import resolve  # noqa: E402
from geo.siting import CANDIDATE_SPACING_M, MIN_GAIN, _points, siting  # noqa: E402

RADIUS = 300.0


def peer(conn, add: int) -> float:
    """The plain shapely script on the same demand and candidates: covered residents after ``add`` sites."""
    import shapely

    spec, radius, _ = resolve("toilets", RADIUS)
    params = {"srid": metric_srid(conn), "spacing": CANDIDATE_SPACING_M, "prefix": "%", "on": "roads",
              "radius": radius}
    _, demand, existing, candidates = _points(conn, spec, None, "residents", params)
    weight = demand[:, 2]
    tree = shapely.STRtree(shapely.points(demand[:, :2]))
    covered = np.zeros(len(demand), dtype=bool)
    if len(existing):
        covered[tree.query(shapely.points(existing), predicate="dwithin", distance=radius)[1]] = True
    cand, cell = tree.query(shapely.points(candidates), predicate="dwithin", distance=radius)
    reach = np.split(cell, np.searchsorted(cand, np.arange(1, len(candidates))))
    for _ in range(add):  # the textbook greedy: every candidate's gain, every round
        gains = np.array([weight[r][~covered[r]].sum() for r in reach])
        best = int(np.argmax(gains))
        if gains[best] <= MIN_GAIN:
            break
        covered[reach[best]] = True
    return float(weight[covered].sum())


def ours(conn, add: int) -> float:
    return siting(conn, "toilets", add, radius_m=RADIUS)["after"]["residents"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--add", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    conn = connect()
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    answers: dict[str, float] = {}
    for _ in range(args.runs):
        for name, run in (("ours", ours), ("peer", peer)):
            start = time.perf_counter()
            answers[name] = run(conn, args.add)
            times[name].append(time.perf_counter() - start)
            conn.rollback()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"| add {args.add} | {med['ours']:.2f} s | {med['peer']:.2f} s | {med['peer'] / med['ours']:.1f}× "
          f"| {answers['ours']:,.0f} | {answers['peer']:,.0f} |")
    print("runs:", {k: [round(t, 2) for t in v] for k, v in times.items()})
    assert abs(answers["ours"] - answers["peer"]) <= 0.001 * answers["peer"], answers


if __name__ == "__main__":
    main()
