"""Kept hexagon counts (migration 0750): equal to binning the complaints afresh after every kind of write,
and hot spots computed from them equal esda's."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from data.catalog import metric_srid
from data.db import connect
from geo import hotspot_counts as hc
from geo.hotspots import hotspots

esda = pytest.importorskip("esda")

from tests.test_analysis_stats import _esda_bins, _rook  # noqa: E402

SIZE, TZ = 200.0, "Asia/Shanghai"
#: Windows whose ends fall inside months, on month starts, or inside one month: kept months plus edges.
WINDOWS = [(None, None), (datetime(2025, 3, 15, 13, tzinfo=UTC), datetime(2026, 2, 3, tzinfo=UTC)),
           (datetime(2025, 2, 28, 16, tzinfo=UTC), None), (None, datetime(2025, 6, 17, 5, tzinfo=UTC)),
           (datetime(2025, 3, 2, tzinfo=UTC), datetime(2025, 3, 20, tzinfo=UTC))]


def afresh(conn, since=None, until=None, categories=None) -> dict:
    """{(q, r): n} binned from the complaints themselves."""
    where, params = hc.filters(since, until, categories)
    params.update(size=SIZE, srid=metric_srid(conn), tz=TZ)
    with conn.cursor() as cur:
        cur.execute(f"SELECT q, r, count(*) FROM ({hc.binned_sql(where)}) b GROUP BY q, r", params)
        return {(q, r): n for q, r, n in cur.fetchall()}


def assert_kept_equal_afresh(conn) -> None:
    assert hc.kept_grid(conn, SIZE, metric_srid(conn), TZ) is not None
    for since, until in WINDOWS:
        for categories in (None, ["暴露垃圾"]):
            kept = hc.counts(conn, size=SIZE, srid=metric_srid(conn), tz=TZ, since=since, until=until,
                             categories=categories)
            assert {(q, r): n for q, r, n in kept if n} == afresh(conn, since, until, categories)


@pytest.fixture
def kept(writable_demo):
    conn = connect(url=writable_demo)
    assert hc.register(conn.dsn, conn.info.password, SIZE, metric_srid(conn), TZ) is not None
    yield conn
    conn.rollback()
    conn.close()


def test_kept_counts_follow_every_write(kept):
    conn = kept
    assert_kept_equal_afresh(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM complaints ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
        cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                    "SELECT 'test', 'kept-' || k, '暴露垃圾', timestamptz '2025-03-15 12:00+08' + k * interval '9 days', "
                    "ST_SetSRID(ST_MakePoint(%s + k * 0.003, %s), 4326) FROM generate_series(1, 6) k", (lon, lat))
        assert_kept_equal_afresh(conn)  # this transaction sees its own writes in the kept counts too
    conn.commit()
    assert_kept_equal_afresh(conn)
    writes = [
        "UPDATE complaints SET geom = ST_Translate(geom, 0.01, 0.004) WHERE source_id IN ('kept-1', 'kept-2')",
        "UPDATE complaints SET reported_at = reported_at - interval '40 days' WHERE source_id = 'kept-3'",
        "UPDATE complaints SET category = '垃圾满溢' WHERE source_id = 'kept-4'",
        "UPDATE complaints SET status = '立案' WHERE source = 'test'",  # moves nothing
        "DELETE FROM complaints WHERE source_id IN ('kept-5', 'kept-6')",
    ]
    for write in writes:
        with conn.cursor() as cur:
            cur.execute(write)
        conn.commit()
        assert_kept_equal_afresh(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT sum(n) FROM hotspot_counts")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints")
        assert total == cur.fetchone()[0]


def test_hot_spots_from_kept_counts_equal_esda(writable_demo):
    conn = connect(url=writable_demo)
    try:
        afresh_result = hotspots(conn, cell_m=150, tz=TZ)  # not kept yet: binned afresh, and kept meanwhile
        conn.rollback()
        hc.settle(60)
        assert hc.kept_grid(conn, 150.0, metric_srid(conn), TZ) is not None
        result = hotspots(conn, cell_m=150, tz=TZ)
        np.testing.assert_array_equal(result.count, afresh_result.count)
        ref = esda.G_Local(result.count.astype(float), _rook(result.q, result.r), transform="B", star=True,
                           permutations=0)
        np.testing.assert_allclose(result.gi_z, ref.Zs, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(result.gi_bin, _esda_bins(ref.Zs, 2 * ref.p_norm))
        assert (result.gi_bin == 3).sum() > 0
        # A filtered map at the default size is not kept (its size follows the filter), and agrees all the same.
        filtered = hotspots(conn, since=datetime(2025, 3, 15, tzinfo=UTC), cell_m=150, tz=TZ)
        assert filtered.count.sum() < result.count.sum()
    finally:
        conn.rollback()
        conn.close()


def test_a_writer_holding_complaints_does_not_register(kept):
    """A transaction with uncommitted complaint writes bins afresh, and starts no registration behind its own lock."""
    conn = kept
    with conn.cursor() as cur:
        cur.execute("DELETE FROM complaints WHERE id = (SELECT min(id) FROM complaints)")
    result = hotspots(conn, cell_m=300, tz=TZ)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints")
        assert result.count.sum() == cur.fetchone()[0]
    conn.commit()  # a registration waiting for this lock would now go through
    hc.settle(60)
    assert hc.kept_grid(conn, 300.0, metric_srid(conn), TZ) is None
    hotspots(conn, cell_m=300, tz=TZ)  # nothing held now: kept from here on
    conn.rollback()
    hc.settle(60)
    assert hc.kept_grid(conn, 300.0, metric_srid(conn), TZ) is not None


def test_hot_spot_hexagons_are_kept_while_complaints_change(demo_client, demo_conn):
    """A complaint write recomputes the answer from the counts, not the hexagons of the city."""
    cache = demo_client.app.state.analysis_cache
    first = demo_client.get("/api/analysis/hotspots", params={"cell": 250})
    assert first.status_code == 200
    hc.settle(60)  # its grid kept: the next answer sums kept counts (not the complaints' points, which changed)
    misses = cache.misses
    with demo_conn.cursor() as cur:
        cur.execute("UPDATE complaints SET status = status WHERE false")
    demo_conn.commit()
    again = demo_client.get("/api/analysis/hotspots", params={"cell": 250})
    assert again.headers["x-analysis-cache"] == "miss" and cache.misses == misses + 1  # the answer, not its hexagons
    assert again.json() == first.json()


def test_a_bulk_write_forgets_the_kept_grids(kept):
    """An import-sized statement drops the kept counts (cheaper than upserting them row by row): maps bin afresh."""
    conn = kept
    with conn.cursor() as cur:
        cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                    "SELECT 'bulk', id::text, category, reported_at + interval '1 hour', geom FROM complaints LIMIT 5001")
    assert hc.kept_grid(conn, SIZE, metric_srid(conn), TZ) is None
    kept_now = hc.counts(conn, size=SIZE, srid=metric_srid(conn), tz=TZ)
    assert {(q, r): n for q, r, n in kept_now} == afresh(conn)
    assert sum(afresh(conn).values()) == 6_000 + 5_001


def test_a_complaint_without_finite_coordinates_is_still_written(kept):
    """Metric coordinates no hexagon holds (not finite): the write goes through, and no map counts the point."""
    conn = kept
    with conn.cursor() as cur:
        cur.execute("UPDATE complaints SET metric_x = 'Infinity' WHERE id = (SELECT min(id) FROM complaints)")
    conn.commit()
    assert_kept_equal_afresh(conn)
    assert sum(afresh(conn).values()) == 6_000 - 1


def test_complaint_writes_go_on_while_a_grid_fills(writable_demo):
    """Registering a grid holds no complaint writer off (migration 0795): at each point where the fill is held, a
    writer with a short lock_timeout inserts, moves, re-categorises and deletes complaints (behind a lock held for
    the fill it would time out); readers bin afresh until the grid is kept; then its counts equal the complaints."""
    conn, writer = connect(url=writable_demo), connect(url=writable_demo)
    srid, seen, failed = metric_srid(conn), [], []

    def write(stage: str) -> None:
        seen.append(stage)
        try:
            with writer.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '500ms'")
                cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                            "SELECT 'fill', %s || k, '暴露垃圾', timestamptz '2025-05-10 12:00+08' + k * interval '11 days', "
                            "ST_Translate(geom, k * 0.002, 0) FROM complaints, generate_series(1, 4) k "
                            "WHERE id = (SELECT min(id) FROM complaints)", (stage,))
                # Complaints of the snapshot: moved, re-dated, deleted (their cells may not be filled yet).
                cur.execute("UPDATE complaints SET geom = ST_Translate(geom, 0.004, 0.003) WHERE id = "
                            "(SELECT min(id) + 10 FROM complaints WHERE source <> 'fill')")
                cur.execute("UPDATE complaints SET reported_at = reported_at - interval '45 days' WHERE id = "
                            "(SELECT min(id) + 20 FROM complaints WHERE source <> 'fill')")
                cur.execute("DELETE FROM complaints WHERE id = (SELECT max(id) FROM complaints WHERE source <> 'fill')")
                # And those written during the fill, before this point.
                cur.execute("UPDATE complaints SET category = '垃圾满溢' WHERE source = 'fill' AND source_id LIKE '%%1'")
                cur.execute("DELETE FROM complaints WHERE source = 'fill' AND source_id LIKE '%%2' AND source_id <> %s",
                            (stage + "2",))
            writer.commit()
            assert hc.kept_grid(writer, SIZE, srid, TZ) is None  # not kept yet: a map bins afresh
            assert hc.kept_grid(writer, SIZE, srid, TZ, filling=True) is not None
            assert {(q, r): n for q, r, n in hc.counts(writer, size=SIZE, srid=srid, tz=TZ) if n} == afresh(writer)
            writer.rollback()
        except Exception as error:  # noqa: BLE001 (reported by the test, not lost in the registration)
            writer.rollback()
            failed.append(f"{stage}: {error}")

    try:
        assert hc.register(conn.dsn, conn.info.password, SIZE, srid, TZ, pause=write) is not None
        assert failed == [] and seen == ["snapshot", "filled", "merging"]
        assert_kept_equal_afresh(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT sum(n), min(n) FROM hotspot_counts")
            total, least = cur.fetchone()
            cur.execute("SELECT count(*), count(*) FILTER (WHERE source = 'fill') FROM complaints")
            complaints, written = cur.fetchone()
        assert total == complaints and least >= 0 and written == 3 * 4 - 2
    finally:
        conn.rollback()
        for c in (conn, writer):
            c.close()


def test_a_grid_dropped_while_it_fills_is_not_kept(writable_demo):
    """An import-sized write during the fill drops the grid being filled too: the registration gives up and leaves
    nothing behind (no half-filled counts), and maps bin afresh."""
    conn, writer = connect(url=writable_demo), connect(url=writable_demo)
    srid = metric_srid(conn)

    def bulk(stage: str) -> None:
        if stage == "filled":
            with writer.cursor() as cur:
                cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                            "SELECT 'bulk', id::text, category, reported_at, geom FROM complaints LIMIT 5001")
            writer.commit()

    try:
        assert hc.register(conn.dsn, conn.info.password, SIZE, srid, TZ, pause=bulk) is None
        assert hc.kept_grid(conn, SIZE, srid, TZ, filling=True) is None
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM hotspot_counts")
            assert cur.fetchone()[0] == 0
        assert {(q, r): n for q, r, n in hc.counts(conn, size=SIZE, srid=srid, tz=TZ)} == afresh(conn)
    finally:
        conn.rollback()
        for c in (conn, writer):
            c.close()
