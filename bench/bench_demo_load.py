"""Time the `city` demo load (generate + COPY + index) and record its row counts.

    .venv/bin/python bench/bench_demo_load.py [--scale city] [--runs 1]

Runs the real CLI in a subprocess against the configured database (the
embedded cluster unless DATABASE_URL is set) and prints a Markdown table for
bench/RESULTS.md: wall time, peak resident memory of the loader, rows.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="city")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    times, counts = [], {}
    for _ in range(args.runs):
        started = time.monotonic()
        result = subprocess.run(
            [str(REPO / ".venv/bin/hygiene-map"), "demo", "--scale", args.scale],
            capture_output=True, text=True, check=True,
        )
        times.append(time.monotonic() - started)
        for line in result.stdout.splitlines():
            m = re.match(r"^(\w+)\s+([\d,]+)$", line.strip())
            if m:
                counts[m.group(1)] = int(m.group(2).replace(",", ""))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("| scale | runs | median wall time | peak RSS of the loader |\n|---|---|---|---|")
    print(f"| {args.scale} | {args.runs} | {statistics.median(times):.1f} s | {peak_mb:.0f} MB |\n")
    print("| table | rows |\n|---|---|")
    for table, n in counts.items():
        print(f"| {table} | {n:,} |")


if __name__ == "__main__":
    sys.exit(main())
