"""A writable small demo city with an admin token, and a uvicorn server that can be killed and restarted.

Used by the fault tests (idempotent retries, history order, reconnects): they
need the real server process, on a port that stays the same across a restart.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from data.db import connect, transaction
from data.demo.city import generate
from data.demo.load import load
from data.migrate import migrate
from layers.workflow.access import add_user
from tests.chromium import free_port
from tests.conftest import create_database, drop_database

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class City:
    url: str
    token: str
    point: tuple[float, float]  # inside a grid
    category: str


def writable_city(url: str) -> City:
    """Load the small demo (seed 1) into the empty database ``url``; add user admin1; return what a client needs."""
    conn = connect(url=url)
    migrate(conn)
    with transaction(conn):
        load(conn, generate("small", 1))
    with transaction(conn):
        _, token = add_user(conn, "admin1", "admin", created_by="test")
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids ORDER BY code LIMIT 1) s")
        point = cur.fetchone()
        cur.execute("SELECT name FROM event_types ORDER BY name LIMIT 1")
        category = cur.fetchone()[0]
    conn.close()
    return City(url, token, point, category)


@contextmanager
def writable_database(admin_url: str) -> Iterator[City]:
    """A new database of the server ``admin_url`` holding :func:`writable_city`, dropped afterwards."""
    url = create_database(admin_url)
    try:
        yield writable_city(url)
    finally:
        drop_database(url)


@contextmanager
def running(database_url: str, extra_env: dict | None = None) -> Iterator[Server]:
    """A started :class:`Server`, stopped afterwards (also after a test killed and restarted it)."""
    server = Server(database_url, extra_env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Server:
    """``uvicorn api.app:create_app`` in a child process on a fixed localhost port."""

    def __init__(self, database_url: str, extra_env: dict | None = None):
        self.port = free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="hm-server-", suffix=".log", delete=False)

    def start(self, timeout: float = 30) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=REPO, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                status, _, _ = self.request("GET", "/healthz")
                if status < 500:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {Path(self.log.name).read_text()[-800:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, in-flight requests get no answer."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)

    def request(self, method: str, path: str, body=None, headers: dict | None = None,
                timeout: float = 30) -> tuple[int, dict, object]:
        """(status, headers, JSON body or text) of one request on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
            sent = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers={**sent, **(headers or {})})
            response = conn.getresponse()
            raw = response.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
        finally:
            conn.close()
