"""Faults: an import killed in the middle of writing leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from data.db import connect

REPO = Path(__file__).resolve().parent.parent

STATE = """SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM complaint_events),
                  (SELECT array_agg(indexname ORDER BY indexname) FROM pg_indexes WHERE tablename = 'complaints'),
                  (SELECT array_agg(conname ORDER BY conname) FROM pg_constraint
                    WHERE conrelid IN ('complaints'::regclass, 'complaint_events'::regclass))"""


def _state(url: str):
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute(STATE)
        out = cur.fetchone()
    conn.close()
    return out


def _import_backends(url: str) -> list[tuple[str, str]]:
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT state, left(query, 40) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name = 'hygiene-map'"
        )
        out = cur.fetchall()
    conn.close()
    return out


def test_an_import_killed_while_writing_leaves_nothing_half_written(writable_demo, tmp_path):
    conn = connect(url=writable_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                    "WHERE level = 'community') s")
        anchors = np.array(cur.fetchall())
    conn.close()
    before = _state(writable_demo)

    # 300,000 complaints near community centres: big enough to be killed mid-write.
    n = 300_000
    rng = np.random.default_rng(0)
    pick = anchors[rng.integers(len(anchors), size=n)] + rng.normal(0, 0.0004, (n, 2))
    path = tmp_path / "complaints.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("编号,事件类型,上报时间,经度,纬度\n")
        for k, (lon, lat) in enumerate(pick):
            f.write(f"K{k},暴露垃圾,2026-03-01 08:00,{lon:.6f},{lat:.6f}\n")

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HYGIENE_MAP_")}, "DATABASE_URL": writable_demo}
    output = open(tmp_path / "import.log", "w+")  # a file, not a pipe nobody drains
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "import", "complaints", str(path)], env=env, cwd=REPO,
                            stdout=output, stderr=output)
    deadline = time.monotonic() + 120
    writing = False
    while time.monotonic() < deadline and proc.poll() is None:
        if any(state == "active" and query.lstrip().upper().startswith(("COPY", "INSERT"))
               for state, query in _import_backends(writable_demo)):
            writing = True
            break
        time.sleep(0.05)
    output.seek(0)
    assert writing, "the import finished or failed before it was seen writing: " + output.read()[-500:]
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # The server notices the dead client and rolls its transaction back.
    deadline = time.monotonic() + 60
    while _import_backends(writable_demo) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _import_backends(writable_demo) == []
    assert _state(writable_demo) == before
    output.close()
