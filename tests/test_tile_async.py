"""Anonymous tiles on asynchronous connections (data.db_async): the same answers, time-outs and failures as the
blocking pool, and no connection kept or leaked when a request is cancelled mid-statement."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data.db import Database, connect
from data.db_async import AsyncPool, run_steps_async
from data.errors import DatabaseUnavailable
from data.settings import DatabaseSettings
from layers.spec.registry import get_layer
from layers.store.tiles import get_tile, parse_tile, tile_steps
from tests.test_reconnect import _server_connections
from tests.test_tile_index import busiest_tiles


@pytest.fixture
def tiles(demo_conn) -> list[str]:
    """Paths of the small demo's busiest z16 tiles of complaints."""
    found = busiest_tiles(demo_conn, 16, 3)
    demo_conn.rollback()  # its lock on the table would hold up _locked's
    return [f"/tiles/complaints/16/{x}/{y}.pbf" for x, y in found]


def _locked(url: str):
    """A connection holding the complaints table locked (until its rollback): a tile's statement waits."""
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE complaints IN ACCESS EXCLUSIVE MODE")
    return conn


def test_an_anonymous_tile_is_read_on_an_asynchronous_connection(demo_client, demo_conn, tiles):
    spec = get_layer("complaints")
    for path in tiles:
        z, x, y = (int(p) for p in path.removesuffix(".pbf").split("/")[-3:])
        response = demo_client.get(path)
        assert response.status_code == 200
        assert response.content == get_tile(demo_conn, spec, parse_tile(z, x, y))
    # Every tile went through one asynchronous connection, now idle; the blocking pool was not asked.
    assert len(demo_client.app.state.async_db._idle) == 1
    assert demo_client.app.state.db._idle == []


def test_a_tile_over_the_statement_timeout_is_the_same_503_as_the_full_routes(demo_db, env_for, monkeypatch, tiles):
    env_for(demo_db)
    monkeypatch.setenv("HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS", "300")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.get(tiles[0]).status_code == 200  # an idle asynchronous connection in the pool
        lock = _locked(demo_db)
        try:
            short, full = client.get(tiles[1]), client.get(tiles[1] + "?_=1")
        finally:
            lock.rollback()
            lock.close()
        assert short.status_code == full.status_code == 503
        assert short.json() == full.json()
        assert "HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS" in short.json()["detail"]
        assert short.headers["retry-after"] == "5"
        # The connection is still good, and it is the one kept: the next tile is answered on it.
        idle = list(client.app.state.async_db._idle)
        assert client.get(tiles[2]).status_code == 200
        assert client.app.state.async_db._idle == idle


def test_a_cancelled_tile_leaks_no_connection(demo_db, demo_conn):
    settings = DatabaseSettings.from_env({"DATABASE_URL": demo_db, "HYGIENE_MAP_DB_ASYNC_MAX": "1",
                                          "HYGIENE_MAP_DB_POOL_WAIT_S": "2"})
    spec = get_layer("complaints")
    tile = parse_tile(16, *busiest_tiles(demo_conn, 16, 1)[0])
    demo_conn.rollback()  # its lock on the table would hold up _locked's
    before = _server_connections(demo_db)

    async def read(pool):
        async with pool.connection() as conn:
            return await run_steps_async(conn, tile_steps(conn, spec, tile))

    async def scenario():
        pool = AsyncPool(Database(settings))
        lock = _locked(demo_db)
        try:
            task = asyncio.create_task(read(pool))
            await asyncio.sleep(0.5)  # its statement is sent and waits for the lock
            assert not task.done()
            task.cancel()  # as when the server stops while the tile is read
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            lock.rollback()
            lock.close()
        assert pool._idle == []  # the interrupted connection was closed, not kept
        data = await read(pool)  # the pool's only slot was given back
        pool.close()
        return data

    assert asyncio.run(scenario()) == get_tile(demo_conn, spec, tile)
    deadline = time.monotonic() + 30
    while _server_connections(demo_db) > before and time.monotonic() < deadline:
        time.sleep(0.1)  # the server ends the closed session's statement when it finds the client gone
    assert _server_connections(demo_db) == before


def test_a_pool_whose_connections_stay_busy_says_so(demo_db, demo_conn):
    settings = DatabaseSettings.from_env({"DATABASE_URL": demo_db, "HYGIENE_MAP_DB_ASYNC_MAX": "1",
                                          "HYGIENE_MAP_DB_POOL_WAIT_S": "1"})

    async def scenario():
        pool = AsyncPool(Database(settings))
        async with pool.connection():
            with pytest.raises(DatabaseUnavailable, match="HYGIENE_MAP_DB_ASYNC_MAX"):
                async with pool.connection():
                    pass
        pool.close()

    asyncio.run(scenario())
