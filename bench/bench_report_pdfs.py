"""Benchmark: the bulletin PDF (/reports/bulletin.pdf) and a plan's PDF (/plans/{id}.pdf), this code against a copy
of older code, each print in a fresh process.

    mkdir /tmp/hm-before && git archive main | tar -x -C /tmp/hm-before
    HYGIENE_MAP_HOME=/tmp/hm-small .venv/bin/python bench/bench_report_pdfs.py --before /tmp/hm-before --runs 5

Against a city with the demo loaded (the small one does: the cost is the drawing, not the data). Each run prints,
in a new Python process that imports first and then times the print as the routes make it:

- the **bulletin** of ``--month`` in Chinese: ``layers.reports.compose.bulletin`` and
  ``layers.printing.data.street_shapes`` (the reads), then ``layers.reports.document.write_pdf`` (the drawing);
- a **plan** of toilets (one added, one removed, one moved; saved once by the bench, named ``bench plan``, and
  left for later runs) by ``layers.printing.plan_pdf.plan_pdf`` (its read and its drawing), in Chinese.

Runs are interleaved, the order of before and after swapped every round, so the shared machine's load falls on
both alike. Every PDF's text (pdftotext -layout) must equal the first one's of its kind: the bench stops if a
page changed. Prints the medians (wall and CPU seconds) and ratios as a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

_PRINT_IN = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from data.db import connect
from data.params import parse_period
from layers.workflow.access import User
conn = connect()
kind, arg, out = sys.argv[2], sys.argv[3], sys.argv[4]
started, cpu = time.perf_counter(), time.process_time()
if kind == "bulletin":
    from layers.printing.data import street_shapes
    from layers.reports.compose import bulletin
    from layers.reports.document import write_pdf
    b = bulletin(conn, parse_period("month", arg), "zh")
    shapes = street_shapes(conn)
    conn.rollback()
    read = time.perf_counter() - started
    write_pdf(b, out, "zh", shapes=shapes)
else:
    from layers.printing.plan_pdf import plan_pdf
    read = 0.0
    pdf = plan_pdf(conn, int(arg), User(0, "bench", "admin"))
    open(out, "wb").write(pdf)
print(json.dumps({"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu, "read": read}))
"""


def print_in(checkout: Path, kind: str, arg: str, out: str) -> dict:
    """{wall, cpu, read} seconds of one print by the code in ``checkout``, timed inside a fresh process."""
    done = subprocess.run([sys.executable, "-c", _PRINT_IN, str(checkout), kind, arg, out], check=True,
                          capture_output=True, text=True, cwd=checkout, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_plan(conn) -> int:
    """The id of the bench's plan (saved once: one toilet added, one removed, one moved)."""
    from layers.analysis.plans import save_plan

    with conn.cursor() as cur:
        cur.execute("SELECT id FROM coverage_plans WHERE name = 'bench plan'")
        row = cur.fetchone()
        if row:
            return row[0]
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM toilets WHERE in_service ORDER BY id LIMIT 3")
        (_, ax, ay), (b, _, _), (c, cx, cy) = cur.fetchall()
    saved = save_plan(conn, {"name": "bench plan", "kind": "toilets", "edits": [
        {"op": "add", "lon": ax + 0.004, "lat": ay + 0.002}, {"op": "remove", "id": b},
        {"op": "move", "id": c, "lon": cx + 0.003, "lat": cy}]}, "bench")
    conn.commit()
    return saved["id"]


def pdf_text(path: str) -> str:
    return subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout


def rounds(before: Path, jobs: list[tuple[str, str]], runs: int) -> dict:
    """{(kind, side): [timings]} of interleaved runs; every PDF of a kind must read alike."""
    times: dict[tuple[str, str], list[dict]] = {}
    answers: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="hm-bench-report-pdfs-") as tmp:
        for run in range(runs):
            sides = [("before", before), ("after", HERE)]
            for kind, arg in jobs:
                for side, checkout in (sides if run % 2 == 0 else sides[::-1]):
                    out = os.path.join(tmp, f"{kind}-{side}.pdf")
                    took = print_in(checkout, kind, arg, out)
                    text = pdf_text(out)
                    answers.setdefault(kind, text)
                    assert text == answers[kind], f"{kind} by {side}: the pages' text changed"
                    times.setdefault((kind, side), []).append(took)
                    print(f"run {run + 1} {kind} {side}: {took['wall']:.2f} s (CPU {took['cpu']:.2f} s), "
                          f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a copy of the code to compare with")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from data.db import connect

    conn = connect()
    plan_id = bench_plan(conn)
    conn.close()
    print(f"load average at the start {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs", file=sys.stderr)
    times = rounds(args.before.resolve(), [("bulletin", args.month), ("plan", str(plan_id))], args.runs)
    print(f"\n| print | before (median of {args.runs}) | after | after / before | CPU before | CPU after | "
          f"CPU after / before | faster in |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in ("bulletin", "plan"):
        old, new = times[(kind, "before")], times[(kind, "after")]
        wall = [statistics.median(t["wall"] for t in side) for side in (old, new)]
        cpu = [statistics.median(t["cpu"] for t in side) for side in (old, new)]
        won = sum(n["wall"] < o["wall"] for o, n in zip(old, new))
        print(f"| {kind} | {wall[0]:.2f} s | **{wall[1]:.2f} s** | {wall[1] / wall[0]:.2f}× | {cpu[0]:.2f} s | "
              f"{cpu[1]:.2f} s | {cpu[1] / cpu[0]:.2f}× | {won} of {len(old)} rounds |")
    reads = [statistics.median(t["read"] for t in times[("bulletin", side)]) for side in ("before", "after")]
    print(f"\nthe bulletin's reads (bulletin + street_shapes), medians: before {reads[0]:.2f} s, after {reads[1]:.2f} s;"
          f" every PDF of a kind had the same text; load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
