"""Load and fault run: concurrent clients over features, tiles, analysis and complaint POSTs.

    .venv/bin/python bench/bench_load.py --home /tmp/hm-load --clients 64 --duration 300 [--fault]

It starts its OWN embedded cluster in --home (loading the `city` demo the
first time), its own server (uvicorn, --workers), and a token of its own;
then it runs the clients for --duration seconds, all on 127.0.0.1. With
--fault it stops the database for --outage seconds in the middle of the run
and starts it again, without touching the server. Afterwards every complaint
the server acknowledged with 201 is looked up in the database: a missing one
is a lost write. Prints a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CLI = str(REPO / ".venv/bin/hygiene-map")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HYGIENE_MAP_HOME"] = home
    env["HYGIENE_MAP_LOG_REQUESTS"] = "0"
    return env


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Run:
    def __init__(self, base: str, token: str, extent: tuple[float, float, float, float]):
        self.base = base
        self.token = token
        self.extent = extent
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter] = defaultdict(Counter)
        self.acknowledged: list[int] = []
        self.slow_errors: list[tuple[float, float]] = []  # non-2xx answers: (sent at, seconds taken)
        self.events: list[tuple[float, str, int]] = []
        self.unavailable: Counter = Counter()  # 503 messages (first words)
        self.analysis_cache: Counter = Counter()  # X-Analysis-Cache of the analysis answers: hit | miss

    def _point(self, rng: random.Random) -> tuple[float, float]:
        minx, miny, maxx, maxy = self.extent
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        # Near the centre, where the city is (the extent's corners are outside it).
        return rng.uniform(cx - (maxx - minx) / 5, cx + (maxx - minx) / 5), rng.uniform(cy - (maxy - miny) / 5, cy + (maxy - miny) / 5)

    async def one(self, client: httpx.AsyncClient, rng: random.Random, started: float) -> None:
        pick = rng.random()
        headers = {}
        if pick < 0.4:
            kind = "features"
            lon, lat = self._point(rng)
            d = rng.uniform(0.002, 0.01)
            request = client.build_request(
                "GET", f"{self.base}/api/layers/complaints/features",
                params={"bbox": f"{lon - d},{lat - d},{lon + d},{lat + d}", "limit": 500},
            )
        elif pick < 0.8:
            kind = "tiles"
            z = rng.choice([10, 12, 13, 14, 15, 16])
            lon, lat = self._point(rng)
            x, y = _tile_of(lon, lat, z)
            request = client.build_request("GET", f"{self.base}/tiles/complaints/{z}/{x}/{y}.pbf")
        elif pick < 0.85:
            kind = "analysis"
            # What planners open: coverage and density maps (facility tables unchanged during the run) and
            # complaint hot spots and priorities (every complaint POST changes their data).
            path = rng.choice([
                "/api/analysis/coverage?kind=toilets&radius=300&by=street",
                "/api/analysis/coverage?kind=garbage_points&by=community",
                "/api/analysis/density?kind=toilets&by=street",
                "/api/analysis/hotspots?since=2026-01-01&until=2026-07-01",
                "/api/analysis/hotspots?since=2026-09-01",
                "/api/analysis/priority?limit=50",
            ])
            request = client.build_request("GET", self.base + path)
        else:
            kind = "complaint POST"
            lon, lat = self._point(rng)
            headers = {"Authorization": f"Bearer {self.token}"}
            request = client.build_request(
                "POST", f"{self.base}/api/complaints", headers=headers,
                json={"lon": lon, "lat": lat, "category": rng.choice(["暴露垃圾", "垃圾满溢", "道路不洁"]),
                      "description": "压力测试 load test", "source": "12345"},
            )
        t0 = time.perf_counter()
        try:
            response = await client.send(request)
            code = response.status_code
            if kind == "analysis" and code == 200:
                self.analysis_cache[response.headers.get("x-analysis-cache", "?")] += 1
            if code == 201:
                self.acknowledged.append(response.json()["id"])
            if code == 503:
                self.unavailable[response.json().get("detail", "")[:70]] += 1
        except httpx.HTTPError:
            code = -1  # no answer at all (connection error or client time-out)
        took = time.perf_counter() - t0
        self.latency[kind].append(took)
        self.status[kind][code] += 1
        self.events.append((time.monotonic() - started, kind, code))
        if code >= 300 or code < 0:
            self.slow_errors.append((time.monotonic() - started - took, took))  # (sent at, seconds taken)

    async def client_loop(self, seed: int, until: float, started: float) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < until:
                await self.one(client, rng, started)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default="/tmp/hm-load")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fault", action="store_true", help="stop the database mid-run")
    parser.add_argument("--outage", type=float, default=20)
    parser.add_argument("--fault-at", type=float, default=60,
                        help="seconds into the run (after the cold start's first analyses)")
    parser.add_argument("--scale", default="city")
    return parser.parse_args()


def _city(env: dict, scale: str) -> tuple[str, tuple, int, str]:
    """The embedded cluster up with a demo city (made once); (its URL, the city's extent, complaints, a token)."""
    import psycopg2

    subprocess.run([CLI, "db", "up"], env=env, check=True, capture_output=True)
    status = subprocess.run([CLI, "db", "status"], env=env, capture_output=True, text=True)
    url = next(line[5:] for line in status.stdout.splitlines() if line.startswith("url: "))
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM city_settings")
        if cur.fetchone()[0] == 0:
            conn.close()
            subprocess.run([CLI, "demo", "--scale", scale], env=env, check=True, capture_output=True)
            conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent(geom)::geometry e FROM admin_areas) s")
        extent = cur.fetchone()
        cur.execute("SELECT count(*) FROM complaints")
        complaints_before = cur.fetchone()[0]
    conn.close()
    name = f"load-{int(time.time())}"
    made = subprocess.run([CLI, "users", "add", name, "--role", "admin"], env=env, capture_output=True, text=True,
                          check=True)
    return url, extent, complaints_before, made.stdout.strip().split()[-1]


def _serve(args, env: dict):
    """uvicorn with ``args.workers`` workers on a free port, its stderr in a file; (process, base URL, the file)."""
    port = _free_port()
    server_log = open(Path(args.home) / "server.log", "w+")
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/uvicorn"), "api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=server_log,  # a file: a full pipe blocks the server
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return server, base, server_log


def _drive(run: Run, args, env: dict) -> tuple[float, dict[str, float]]:
    """The clients for ``args.duration`` seconds, and the database stopped and started again with ``--fault``;
    (the run's length, the outage's times into it)."""
    outage: dict[str, float] = {}

    async def fault(started: float) -> None:
        await asyncio.sleep(args.fault_at)
        outage["stop"] = time.monotonic() - started
        await asyncio.to_thread(subprocess.run, [CLI, "db", "down"], env=env, capture_output=True)
        outage["stopped"] = time.monotonic() - started
        await asyncio.sleep(args.outage)
        outage["start"] = time.monotonic() - started
        await asyncio.to_thread(subprocess.run, [CLI, "db", "up"], env=env, capture_output=True)
        outage["started"] = time.monotonic() - started

    async def go() -> float:
        started = time.monotonic()
        until = started + args.duration
        tasks = [run.client_loop(1000 + i, until, started) for i in range(args.clients)]
        if args.fault:
            tasks.append(fault(started))
        await asyncio.gather(*tasks)
        return time.monotonic() - started

    return asyncio.run(go()), outage


def _report(run: Run, args, elapsed: float, complaints_before: int, found: int) -> None:
    total = sum(sum(c.values()) for c in run.status.values())
    server_errors = sum(n for c in run.status.values() for code, n in c.items() if code >= 500 and code != 503)
    print(f"### {'Fault' if args.fault else 'Load'} run: {args.clients} clients, {args.duration:.0f} s, "
          f"{args.workers} workers, `{args.scale}` demo ({complaints_before:,} complaints before)\n")
    print(f"{total:,} requests in {elapsed:.0f} s ({total / elapsed:.0f} req/s).\n")
    print("| request | n | p50 | p95 | p99 | statuses |\n|---|---|---|---|---|---|")
    for kind, values in sorted(run.latency.items()):
        codes = ", ".join(f"{code if code >= 0 else 'no answer'}: {n}" for code, n in sorted(run.status[kind].items()))
        print(f"| {kind} | {len(values):,} | {statistics.median(values) * 1000:.0f} ms | "
              f"{_percentile(values, 0.95) * 1000:.0f} ms | {_percentile(values, 0.99) * 1000:.0f} ms | {codes} |")
    print(f"\nServer errors (5xx other than 503): {server_errors}. "
          f"Complaints acknowledged with 201: {len(run.acknowledged):,}; found in the database afterwards: {found:,} "
          f"(lost: {len(run.acknowledged) - found}).")
    failed = sorted(t for t, k, c in run.events if c < 0 or c >= 500)
    if failed:
        print(f"\nRequests answered 5xx or not at all: {len(failed)}, at "
              + ", ".join(f"{t:.0f}" for t in failed[:40]) + (" …" if len(failed) > 40 else "")
              + " s into the run.")
    for detail, n in run.unavailable.most_common(5):
        print(f"\n503 ({n}×): “{detail}…”")
    if run.analysis_cache:
        print(f"\nAnalysis answers computed: {run.analysis_cache['miss']:,}; served from the answer cache (data "
              f"unchanged since, or the same request already under way): {run.analysis_cache['hit']:,}.")


def _report_outage(run: Run, args, outage: dict[str, float]) -> None:
    during = [(t, k, c) for t, k, c in run.events if outage["stopped"] <= t <= outage["start"]]
    # Requests sent while the database was down: how long did their (error) answer take?
    down = [took for sent, took in run.slow_errors if outage["stopped"] <= sent <= outage["start"]]
    slowest_error = max(down) if down else 0
    after = [t for t, k, c in run.events if t > outage["started"] and 200 <= c < 300]
    first_ok = (min(after) - outage["started"]) if after else float("nan")
    codes = Counter(c for _, _, c in during)
    print(f"\nDatabase stopped at {outage['stop']:.0f} s for {args.outage:.0f} s. Answers while it was down: "
          + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items()))
          + f". Slowest answer to a request sent while it was down: {slowest_error:.2f} s "
          f"(median {statistics.median(down) if down else 0:.3f} s). First 2xx after `db up` returned: "
          f"{first_ok:.2f} s later.")


def main() -> None:
    import psycopg2

    args = _args()
    env = _env(args.home)
    url, extent, complaints_before, token = _city(env, args.scale)
    server, base, server_log = _serve(args, env)
    run = Run(base, token, extent)
    elapsed, outage = _drive(run, args, env)
    server.terminate()
    server.wait(timeout=30)
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE id = ANY(%s)", (run.acknowledged,))
        found = cur.fetchone()[0]
    conn.close()
    _report(run, args, elapsed, complaints_before, found)
    if args.fault and outage:
        _report_outage(run, args, outage)
    server_log.seek(0)
    tail = server_log.read()
    if "Traceback" in tail:
        print("\nServer stderr had tracebacks:\n```\n" + tail[-3000:] + "\n```")


if __name__ == "__main__":
    sys.exit(main())
