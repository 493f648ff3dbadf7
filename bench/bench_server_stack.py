"""hygiene-map's tiles under uvicorn's two stacks: asyncio + h11 (plain ``uvicorn``) against uvloop + httptools.

    DATABASE_URL=<copy of the city database> .venv/bin/python bench/bench_server_stack.py --tiles 300

The same checkout served twice (2 workers each), z16 tiles holding complaints
fetched once from each server in a random order, one connection per request
(as bench_web.py's sweep). The server started second comes out faster
(bench/RESULTS.md), so the pair is started in both orders, on new tiles each
time, and the two orders' ratios are combined by their geometric mean.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_web import city_tiles, get  # noqa: E402
from data.db import database_url  # noqa: E402
from tests.chromium import _wait_http, free_port  # noqa: E402

STACKS = {"asyncio + h11": ["--loop", "asyncio", "--http", "h11"], "uvloop + httptools": ["--loop", "uvloop", "--http", "httptools"]}


def start(url: str, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port),
                             "--workers", "2", "--log-level", "warning", *extra], cwd=REPO,
                            env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait_http(base + "/healthz", 180)
    return proc, base


def one_order(url: str, names: list[str], tiles: list[tuple[int, int]]) -> dict[str, float]:
    """Median ms per stack over ``tiles``, the servers started in the order of ``names``."""
    servers = {name: start(url, STACKS[name]) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    try:
        for x, y in tiles:
            for name in random.sample(names, len(names)):
                status, _, elapsed, conn = get(servers[name][1], f"/tiles/complaints/16/{x}/{y}.pbf")
                conn.close()
                if status not in (200, 204):
                    raise SystemExit(f"{name}: tile 16/{x}/{y} answered {status}")
                times[name].append(elapsed * 1000)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=300, help="tiles per order and pass")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    url = database_url()
    tiles = city_tiles(url, 16)
    random.Random(21).shuffle(tiles)
    plain, fast = STACKS
    print(f"| pass | started first | {plain} ms | {fast} ms | {plain} ÷ {fast} | load |\n|---|---|---|---|---|---|")
    ratios = []
    for p in range(args.passes):
        both = []
        for i, names in enumerate(([plain, fast], [fast, plain])):
            chunk = tiles[(2 * p + i) * args.tiles:(2 * p + i + 1) * args.tiles]
            got = one_order(url, names, chunk)
            both.append(got[plain] / got[fast])
            print(f"| {p + 1} | {names[0]} | {got[plain]:.2f} | {got[fast]:.2f} | {both[-1]:.2f} | "
                  f"{os.getloadavg()[0]:.1f} |", flush=True)
        ratios.append(math.sqrt(both[0] * both[1]))
    print(f"\nBoth orders (geometric mean per pass): {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
