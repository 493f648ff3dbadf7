"""The two servers of bench/bench_web.py and the clients that time them: hygiene-map and tipg under uvicorn on
the same database, one request, a load of keep-alive clients, a tile's median time."""

from __future__ import annotations

import http.client
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.chromium import _wait_http, free_port  # noqa: E402

PROPERTIES = "id,category,status,reported_at,due_at,channel,address,grid_code,street_code"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


class Tipg:
    """tipg's uvicorn app over the same database."""

    def __init__(self, uvicorn: str, url: str, workers: int):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
               "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
        env.pop("HYGIENE_MAP_HOME", None)
        self.proc = subprocess.Popen(
            [uvicorn, "tipg.main:app", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_http(self.base + "/collections", 180)

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


@contextmanager
def serve_ours(url: str, workers: int, repo: Path = REPO):
    """hygiene-map (the checkout ``repo``) under uvicorn (tests.chromium.serve_app), given up to 180 s to start:
    importing the app took a minute on the shared machine at load 9, past serve_app's 30 s."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="hm-bench-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        cwd=repo, env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/healthz", 180)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        os.unlink(log.name)


def get(base: str, path: str, conn: http.client.HTTPConnection | None = None):
    parts = urlsplit(base)
    conn = conn or http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return response.status, body, time.perf_counter() - started, conn


def load(base: str, path: str, clients: int, seconds: float) -> dict:
    """Requests/s, p50 and p95 latency with `clients` concurrent keep-alive clients for `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client():
        conn = None
        while time.perf_counter() < stop:
            try:
                status, body, elapsed, conn = get(base, path, conn)
            except (OSError, http.client.HTTPException):
                conn = None
                with lock:
                    errors[0] += 1
                continue
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    get(base, path)  # warm the server's caches and connections once
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else float("nan"),
        "n": len(latencies), "errors": errors[0],
    }


def tile_stats(base: str, path: str, runs: int) -> tuple[float, int, int]:
    """Median time (ms), size (bytes) and status of one tile fetched `runs` times."""
    times, size, status = [], 0, 0
    for _ in range(runs):
        status, body, elapsed, conn = get(base, path)
        conn.close()
        times.append(elapsed * 1000)
        size = len(body)
    return statistics.median(times), size, status
