"""Analysis answers are kept while their tables are unchanged, and never outlive a change."""

from __future__ import annotations

import threading
import time

import pytest

from layers.analysis.cache import AnswerCache, CacheSettings

COVERAGE = ("/api/analysis/coverage", {"kind": "toilets", "by": "street"})
HOTSPOTS = ("/api/analysis/hotspots", {"since": "2025-01-01", "cell": 300})


def test_concurrent_identical_requests_compute_once():
    cache = AnswerCache(CacheSettings(max_entries=8, max_bytes=1 << 20))
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.3)
        return b"answer"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.answer("k", compute))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert [body for body, _ in results] == [b"answer"] * 6
    assert sorted(kept for _, kept in results) == [False] + [True] * 5


def test_an_error_reaches_the_caller_and_is_not_kept():
    cache = AnswerCache(CacheSettings(max_entries=8, max_bytes=1 << 20))

    def fail():
        raise ValueError("no city")

    with pytest.raises(ValueError, match="no city"):
        cache.answer("k", fail)
    assert cache.answer("k", lambda: b"later") == (b"later", False)


def test_entries_and_bytes_are_bounded_least_recently_used_first():
    cache = AnswerCache(CacheSettings(max_entries=2, max_bytes=10))
    cache.answer("a", lambda: b"aaaa")
    cache.answer("b", lambda: b"bbbb")
    cache.answer("a", lambda: b"xxxx")  # a is used again: b is now the oldest
    cache.answer("c", lambda: b"cccc")
    assert cache.answer("a", lambda: b"new")[1] is True
    assert cache.answer("b", lambda: b"new") == (b"new", False)
    assert cache.answer("big", lambda: b"y" * 11) == (b"y" * 11, False)  # over max_bytes: answered, not kept
    assert cache.answer("big", lambda: b"z")[0] == b"z"
    off = AnswerCache(CacheSettings(max_entries=0, max_bytes=10))
    assert off.answer("a", lambda: b"1") == (b"1", False) and off.answer("a", lambda: b"2") == (b"2", False)


def _get(client, request):
    path, params = request
    resp = client.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp


def test_a_committed_change_is_seen_by_the_next_request(demo_client, demo_conn):
    first = _get(demo_client, COVERAGE)
    again = _get(demo_client, COVERAGE)
    assert first.headers["x-analysis-cache"] == "miss" and again.headers["x-analysis-cache"] == "hit"
    assert again.content == first.content
    before = {f["properties"]["code"]: f["properties"]["covered_area_pct"] for f in first.json()["features"]}
    street = min(before, key=before.get)  # the least covered street gains most from a new toilet
    with demo_conn.cursor() as cur:
        # A toilet in the least covered street, at the point farthest inside it from any toilet.
        cur.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_MaximumInscribedCircle(ST_Difference(a.geom, "
            "coalesce((SELECT ST_Union(ST_Buffer(t.geom::geography, 300)::geometry) FROM toilets t "
            "WHERE ST_DWithin(t.geom::geography, a.geom::geography, 300)), 'POLYGON EMPTY'::geometry)))).center p "
            "FROM admin_areas a WHERE a.code = %s) s", (street,))
        lon, lat = cur.fetchone()
        cur.execute("INSERT INTO toilets (source, source_id, name, street_code, geom) "
                    "VALUES ('test', 'cache-1', '新公厕', %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                    (street, lon, lat))
    demo_conn.commit()
    try:
        after = _get(demo_client, COVERAGE)
        assert after.headers["x-analysis-cache"] == "miss"
        now = {f["properties"]["code"]: f["properties"]["covered_area_pct"] for f in after.json()["features"]}
        assert now[street] > before[street]
        assert all(now[c] == before[c] for c in before if c != street)
    finally:
        with demo_conn.cursor() as cur:
            cur.execute("DELETE FROM toilets WHERE source = 'test' AND source_id = 'cache-1'")
        demo_conn.commit()
    restored = _get(demo_client, COVERAGE)
    assert restored.headers["x-analysis-cache"] == "miss" and restored.json() == first.json()


def test_complaints_refresh_complaint_analyses_only(demo_client, demo_conn):
    _get(demo_client, COVERAGE)
    _get(demo_client, HOTSPOTS)
    assert _get(demo_client, HOTSPOTS).headers["x-analysis-cache"] == "hit"
    with demo_conn.cursor() as cur:
        # A statement on complaints that changes no row still counts as a change: never too eager to keep.
        cur.execute("UPDATE complaints SET status = status WHERE false")
        # Not yet committed: other sessions still read the old data, and so may the cache.
        assert _get(demo_client, HOTSPOTS).headers["x-analysis-cache"] == "hit"
    demo_conn.commit()
    assert _get(demo_client, HOTSPOTS).headers["x-analysis-cache"] == "miss"
    assert _get(demo_client, COVERAGE).headers["x-analysis-cache"] == "hit"


def test_cache_can_be_turned_off(demo_client, monkeypatch):
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.setenv("HYGIENE_MAP_ANALYSIS_CACHE_ENTRIES", "0")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert [_get(client, COVERAGE).headers["x-analysis-cache"] for _ in range(2)] == ["miss", "miss"]


def test_priority_keeps_its_coverage_part_while_complaints_change(demo_client, demo_conn):
    from data.clock import reference_time
    from geo.priority import priority

    cache = demo_client.app.state.analysis_cache
    request = ("/api/analysis/priority", {"street": "379901001"})
    _get(demo_client, request)
    misses = cache.misses
    with demo_conn.cursor() as cur:
        cur.execute("UPDATE complaints SET status = status WHERE false")
    demo_conn.commit()
    answer = _get(demo_client, request)
    assert answer.headers["x-analysis-cache"] == "miss"
    assert cache.misses == misses + 1  # the ranking again, not its coverage part
    direct = priority(demo_conn, street="379901001", as_of=reference_time(demo_conn))  # overdue as the API judges it
    demo_conn.rollback()
    assert [(f["properties"]["code"], f["properties"]["score"]) for f in answer.json()["features"]] == \
        [(r["code"], r["score"]) for r in direct["rows"]]
