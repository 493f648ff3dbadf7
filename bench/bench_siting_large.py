"""Siting in a large district of a city without streets or roads: main against this tree, runs interleaved.

    git archive main | tar -x -C /tmp/hm-main          # the code before
    DATABASE_URL=postgresql://…/<Yantai: districts + toilets> \\
        .venv/bin/python bench/bench_siting_large.py --before /tmp/hm-main [--street 370602] [--runs 3]

The database is the Yantai walkthrough's (docs: the 11 Gaode district outlines read as GCJ-02, then a toilets
ledger): `city init --name 烟台市 --code 370600`, `import admin_areas yantai_districts_gaode.geojson --crs gcj02
--level district --code-field adcode --name-field name`, `import toilets 公厕台账.xlsx --crs gcj02 --skip-bad`.
No roads, so the candidates are the centres of the demand lattice (无道路数据：候选点取需求网格中心).

Each run is ``analyze siting --kind toilets --add 5 --street STREET`` as one CLI run does it (a new process;
``geo.siting.siting`` timed after connecting), from each checkout in turn:

* cold: the kept parts deleted before (not timed), as the first run after importing the districts (the
  walkthrough's 88 s: main laid the 50 m demand lattice of the whole city, 13,800 km², for one district);
* kept: right after, the lattice read from the part the cold run kept.

Prints the medians, the load average before and after, and each side's sites and gains (they may differ in order:
this tree ranks the sites by the figures it reports) with the demand lattice's cell edge. Writes only the kept parts.

The whole city (``--street ''``, 14,177 km²): main lays its 50 m lattice (5.7 million cells), this tree a 200 m one
(``geo.demand.demand_cell``), so the sites differ; tests/test_yantai_siting_city.py checks this tree's choice
against a plain greedy on the same lattice.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent.parent

_RUN = """
import json, sys, time
from data.db import connect
from geo.siting import siting
conn = connect()
start = time.perf_counter()
result = siting(conn, "toilets", int(sys.argv[2]), street=sys.argv[1] or None)
took = time.perf_counter() - start
print(json.dumps({"s": took, "candidates": result["candidates"], "cells": result["demand_cells"],
                  "cell_m": result.get("demand_cell_m", 50.0),
                  "sites": [[round(s["lon"], 6), round(s["lat"], 6), round(s["new_" + result["measure"]], 1)]
                            for s in result["sites"]]}))
"""


def run(tree: Path, street: str, add: int) -> dict:
    """One siting from nothing in a new process of ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", _RUN, street, str(add)], cwd=tree, env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def forget() -> None:
    """Delete the kept parts (the lattice among them), as after an import of the areas."""
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM kept_parts")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before (git archive main)")
    parser.add_argument("--street", default="370602", help="a district code ('' for the whole city)")
    parser.add_argument("--add", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sides = {"main": args.before.resolve(), "this tree": HERE}
    times = {(side, kind): [] for side in sides for kind in ("cold", "kept")}
    last = {}
    print("load average before:", os.getloadavg())
    for _ in range(args.runs):
        for side, tree in sides.items():
            forget()
            for kind in ("cold", "kept"):
                last[side] = run(tree, args.street, args.add)
                times[side, kind].append(last[side]["s"])
    for (side, kind), got in times.items():
        print(f"| {side} | {kind} | {statistics.median(got):.2f} s | {', '.join(f'{t:.2f}' for t in got)} |")
    print("load average after:", os.getloadavg())
    for side, answer in last.items():
        print(side, answer["candidates"], "candidates", answer["cells"], f"cells of {answer['cell_m']:g} m",
              answer["sites"])


if __name__ == "__main__":
    main()
