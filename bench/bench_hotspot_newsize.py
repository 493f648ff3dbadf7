"""The first hot-spot map at a cell size never asked for before (issue 18: a planner trying 150, 200, 400 m).

    HYGIENE_MAP_HOME=<a city demo's home> (or DATABASE_URL=…) \\
        .venv/bin/python bench/bench_hotspot_newsize.py [--runs 5] [--cells 150,200,400] [--since 2026-06-01]
        [--before DIR]

Each round is one child process per code (a server that has answered no hot-spot request yet) asking the sizes one
after another as a planner does (``cell`` through the hot-spot analysis with the server's answer cache, the GeoJSON
a client receives), without waiting for the background fills their first requests start; then it waits for those
fills and drops the grids again. With ``--before DIR`` (``git archive main | tar -x -C DIR``) each round runs
that code's child too, in turn with this one's, the order alternating (the machine's load falls on both). Each
round shifts the sizes by a centimetre (150.01 m, 150.02 m …): no grid nor cached cells of an earlier round are
met. It WRITES kept grids (dropped after): use a demo's own database.

Prints per size the medians of its request, and whether both codes' bins and counts are equal.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(cells: list[float], since: str | None) -> None:
    """A planner's new sizes one after another in one server process (its answer cache, the fills they start
    running behind): per size its time, bins and counts as JSON on stdout; then the grids dropped."""
    sys.path.insert(0, os.getcwd())
    from data.db import connect
    from geo import hotspot_counts
    from layers.analysis.cache import AnswerCache
    from layers.analysis.registry import load

    conn, cache, analysis, out = connect(), AnswerCache(), load("hotspots"), []
    for cell in cells:
        args = analysis.parse({"cell": str(cell), "since": since})
        start = time.perf_counter()
        found = analysis.compute(conn, args, cache)
        analysis.geojson(found, args, "zh")
        out.append({"s": time.perf_counter() - start, "bins": found.cells.gi_bin.tolist(),
                    "count": found.cells.count.tolist(), "cells": int(found.cells.q.size),
                    "hot": int((found.cells.gi_bin > 0).sum())})
        conn.rollback()
    hotspot_counts.settle()  # the fills they started: not on the next measurement's time
    with conn.cursor() as cur:
        cur.execute("DELETE FROM hotspot_grids WHERE cell_m = ANY(%s)", (cells,))
    conn.commit()
    print(json.dumps(out))


def run(code: Path, cells: list[float], since: str | None) -> list[dict]:
    """:func:`child` in a process of its own, importing ``code``'s modules."""
    args = [sys.executable, str(ROOT / "bench" / "bench_hotspot_newsize.py"), "--child", ",".join(map(str, cells))]
    args += ["--since", since] if since else []
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(args, cwd=code, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cells", default="150,200,400")
    parser.add_argument("--since", default=None, help="a window's start (ISO date, the city's time)")
    parser.add_argument("--before", type=Path, default=None, help="a tree of the code before, run beside this one")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child([float(c) for c in args.child.split(",")], args.since)
    codes = {"now": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    bases = [float(c) for c in args.cells.split(",")]
    times: dict[str, list[list[float]]] = {name: [[] for _ in bases] for name in codes}
    equal, out = True, {}
    for k in range(args.runs):
        cells = [round(base + 0.01 * (k + 1), 2) for base in bases]  # sizes no earlier round asked for
        for name, code in (list(codes.items()) if k % 2 == 0 else list(codes.items())[::-1]):
            out[name] = run(code, cells, args.since)
            for i, one in enumerate(out[name]):
                times[name][i].append(one["s"])
        if "before" in out:
            equal &= all(a["bins"] == b["bins"] and a["count"] == b["count"] for a, b in zip(out["now"], out["before"]))
    print("| cell (in the order asked) | " + " | ".join(f"{name} (median)" for name in codes) + " | cells, hot |")
    print("|---|" + "---|" * len(codes) + "---|")
    for i, base in enumerate(bases):
        med = " | ".join(f"{statistics.median(t[i]):.2f} s" for t in times.values())
        print(f"| {base:g} m | {med} | {out['now'][i]['cells']:,}, {out['now'][i]['hot']} hot |")
    if args.before:
        print("bins and counts equal in every round:" if equal else "bins or counts DIFFER", equal)
    print("runs:", {name: [[round(x, 2) for x in t] for t in v] for name, v in times.items()})


if __name__ == "__main__":
    main()
