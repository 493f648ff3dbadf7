"""Raw tiles from the tile index run as prepared statements (layers.store.prepared), on the small demo:
the same features as the plain statement, a generic plan, and a connection whose statement failed goes on with
plain statements."""

from __future__ import annotations

import psycopg2
import pytest

from layers.spec.registry import get_layer
from layers.store import prepared, tiles
from layers.store.tiles import get_tile, parse_tile
from tests.test_tile_index import busiest_tiles, features


def _prepared_statements(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        return cur.fetchall()


def test_prepared_tiles_are_the_plain_statements_tiles(demo_conn, monkeypatch):
    spec = get_layer("complaints")
    addresses = [parse_tile(16, x, y) for x, y in busiest_tiles(demo_conn, 16, 4)]
    addresses += [parse_tile(17, 2 * t.x, 2 * t.y) for t in addresses[:2]]
    got = [get_tile(demo_conn, spec, t) for t in addresses + addresses]
    assert sum(1 for data in got if data) >= 4
    statements = _prepared_statements(demo_conn)
    assert statements and all(custom == 0 and generic >= 1 for _, generic, custom in statements)
    monkeypatch.setattr(tiles, "prepared_call", lambda conn, name, settings, body, params:
                        (settings + body, params, False))
    # The same features (a plain statement's custom plan may read the rows in another order).
    assert [features(get_tile(demo_conn, spec, t)) for t in addresses] == [features(d) for d in got[:len(addresses)]]


def test_a_failed_statement_leaves_the_connection_to_plain_statements(demo_db, monkeypatch):
    from data.db import connect

    spec = get_layer("complaints")
    conn = connect(url=demo_db)
    try:
        tile = parse_tile(16, *busiest_tiles(conn, 16, 1)[0])
        # A statement time-out of 1 ms cancels the first execution, which carries the PREPARE.
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = 1")
        conn.commit()
        with pytest.raises(psycopg2.extensions.QueryCanceledError):
            for _ in range(50):  # the machine may be fast enough for a few
                prepared._PREPARED.pop(conn, None)
                tiles._RAW_TEXTS.clear()  # a new statement name each time: never prepared on this session
                get_tile(conn, spec, tile)
        assert prepared._PREPARED[conn] is None
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = 0")
        conn.commit()
        assert get_tile(conn, spec, tile)  # plain statements from now on
        assert prepared._PREPARED[conn] is None
    finally:
        conn.close()
