"""No request fails after the database returns: the server's pool notices connections that died in a restart."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from data.cluster import EmbeddedCluster
from data.db import connect
from data.migrate import migrate
from data.settings import DatabaseSettings
from tests.served import Server, running

POOL = 6
PATHS = ("/healthz", "/api/complaints?limit=5", "/api/layers", "/")


@pytest.fixture
def own_cluster():
    """A cluster of its own, so restarting it disturbs no other test."""
    home = Path(tempfile.mkdtemp(prefix="hm-reconnect-"))
    os.chmod(home, 0o755)
    cluster = EmbeddedCluster(DatabaseSettings.from_env({"HYGIENE_MAP_HOME": str(home)}))
    cluster.init()
    cluster.start()
    conn = connect(url=cluster.url())
    migrate(conn)
    conn.close()
    yield cluster
    cluster.stop()
    shutil.rmtree(home, ignore_errors=True)


def _server_connections(url: str) -> int:
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hygiene-map' "
                    "AND pid <> pg_backend_pid() AND datname = current_database()")
        n = cur.fetchone()[0]
    conn.close()
    return n


def _fill_pool(server: Server, url: str) -> None:
    """Concurrent requests until the server's pool holds several connections (idle afterwards)."""
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(POOL) as pool:
        while _server_connections(url) < POOL - 1:
            assert time.monotonic() < deadline, "the pool never grew"
            assert all(s == 200 for s in pool.map(lambda p: server.request("GET", p)[0], PATHS * 4))


def test_every_request_after_a_database_restart_succeeds(own_cluster):
    url = own_cluster.url()
    with running(url, {"HYGIENE_MAP_DB_POOL_MAX": str(POOL)}) as server:
        _fill_pool(server, url)
        own_cluster.stop()
        own_cluster.start()
        assert own_cluster.url() == url  # the same address: only the connections died
        # More requests than the pool has connections, one after the other: each idle one is tried in turn.
        answers = [server.request("GET", PATHS[i % len(PATHS)]) for i in range(POOL * 2)]
        assert [a[0] for a in answers] == [200] * (POOL * 2), [a[2] for a in answers if a[0] != 200]

        _fill_pool(server, url)
        own_cluster.stop()
        own_cluster.start()
        # And all at once, as after a restart under load.
        with ThreadPoolExecutor(POOL) as pool:
            statuses = list(pool.map(lambda p: server.request("GET", p)[0], PATHS * 4))
        assert statuses == [200] * len(statuses)
