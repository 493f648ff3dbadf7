"""Histories read back in the order the changes happened, however the transactions overlapped."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from data.db import connect, transaction
from data.vocab import RECEIVED, TRANSITIONS
from layers.workflow import complaints as cases
from layers.workflow import grids as grid_admin
from layers.workflow.access import User
from tests.served import running, writable_database


@pytest.fixture(scope="module")
def city(pg_server):
    with writable_database(pg_server[0]) as city:
        yield city


def _new_complaint(city) -> int:
    conn = connect(url=city.url)
    with conn.cursor() as cur:
        cur.execute("SELECT id, name, role, street_code, grid_codes FROM users WHERE name = 'admin1'")
        row = cur.fetchone()
    user = User(row[0], row[1], row[2], row[3], tuple(row[4]))
    with transaction(conn):
        complaint = cases.file_complaint(conn, user, lon=city.point[0], lat=city.point[1], category=city.category,
                                         description="history order", channel="12345",
                                         reported_at=datetime.now(UTC))
    conn.close()
    return complaint["id"]


def assert_valid_chain(events: list[dict], current: str) -> None:
    """Every step follows from the one before under the workflow's TRANSITIONS, ending at the current status."""
    assert [e["step"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["from"] is None and events[0]["to"] == RECEIVED
    for before, after in zip(events, events[1:]):
        assert after["from"] == before["to"], events
        assert after["to"] in TRANSITIONS[after["from"]], events
    assert events[-1]["to"] == current


def test_a_change_begun_earlier_but_made_later_reads_back_after(city):
    """The case of the issue: 受理 → 立案→派遣 → 受理→立案 when read by transaction start."""
    complaint_id = _new_complaint(city)
    early, late = connect(url=city.url), connect(url=city.url)
    with early.cursor() as cur:
        cur.execute("SELECT now()")  # its transaction (and its `at`) begins here
    with transaction(late):
        cases.transition(late, complaint_id, "立案", None, "late")
    with transaction(early):
        cases.transition(early, complaint_id, "派遣", None, "early")
    events = cases.events(late, complaint_id)
    late.rollback()
    early.close()
    late.close()
    assert [(e["from"], e["to"]) for e in events] == [(None, "受理"), ("受理", "立案"), ("立案", "派遣")]
    # The transaction start times disagree with what happened: that is why they are not the order.
    assert events[2]["at"] < events[1]["at"]
    assert_valid_chain(events, "派遣")


def test_grid_assignments_begun_earlier_but_made_later_read_back_after(city):
    conn = connect(url=city.url)
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM grids ORDER BY code DESC LIMIT 1")
        code = cur.fetchone()[0]
    early = connect(url=city.url)
    with early.cursor() as cur:
        cur.execute("SELECT now()")
    with transaction(conn):
        grid_admin.assign(conn, code, "甲单位", "张三", "13800000001", "first", "late")
    with transaction(early):
        grid_admin.assign(early, code, "乙单位", "李四", "13800000002", "second", "early")
    history = grid_admin.history(conn, code)["history"]
    conn.rollback()
    conn.close()
    early.close()
    assert [h["step"] for h in history] == list(range(1, len(history) + 1))
    assert [h["after"]["unit"] for h in history[-2:]] == ["甲单位", "乙单位"]
    for before, after in zip(history, history[1:]):
        assert after["before"] == before["after"]


def test_many_concurrent_transitions_over_http_read_back_as_one_valid_chain(city):
    with running(city.url) as server:
        _transitions_from_threads(city, server)


def _transitions_from_threads(city, server) -> None:
    complaint_id = _new_complaint(city)
    auth = {"Authorization": f"Bearer {city.token}"}
    path = f"/api/complaints/{complaint_id}"
    done = threading.Event()
    moved = []

    def worker(_):
        # Read the state, ask for its next one (never closing); 409 when another worker moved first.
        while not done.is_set():
            status, _, body = server.request("GET", path, headers=auth)
            assert status == 200, body
            nxt = {"受理": "立案", "核查": "处置"}.get(body["status"], TRANSITIONS[body["status"]][0])
            status, _, answer = server.request("PATCH", path, {"status": nxt, "note": "返工"}, headers=auth)
            assert status in (200, 409), answer
            if status == 200:
                moved.append(nxt)
                if len(moved) >= 40:
                    done.set()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    status, _, body = server.request("GET", path, headers=auth)
    assert status == 200
    assert len(body["events"]) == len(moved) + 1
    assert_valid_chain(body["events"], body["status"])


def test_the_migration_numbers_existing_history_in_the_order_it_was_written(fresh_db, monkeypatch):
    from data import migrate as migrations
    from data.demo.city import generate
    from data.demo.load import load

    every = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in every if m.version < 620])
    conn = connect(url=fresh_db)
    migrations.migrate(conn)
    with transaction(conn):
        load(conn, generate("small", 1))
    with transaction(conn), conn.cursor() as cur:
        cur.execute("SELECT id FROM complaints WHERE status = %s ORDER BY id LIMIT 1", (RECEIVED,))
        complaint_id = cur.fetchone()[0]
        # Written in this order, with transaction starts that say otherwise.
        for frm, to, at in (("受理", "立案", "2026-03-02"), ("立案", "派遣", "2026-03-01")):
            cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, actor, at) "
                        "VALUES (%s, %s, %s, 'old', %s)", (complaint_id, frm, to, at))
        cur.execute("UPDATE complaints SET status = '派遣' WHERE id = %s", (complaint_id,))
    # Up to 0620 (later migrations, such as 0720, are not what this test is about).
    monkeypatch.setattr(migrations, "available", lambda: [m for m in every if m.version <= 620])
    assert [m.version for m in migrations.migrate(conn)] == [620]
    events = cases.events(conn, complaint_id)
    assert_valid_chain(events, "派遣")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM grid_assignments WHERE seq <> 1")
        assert cur.fetchone()[0] == 0  # the demo's one assignment per grid is each grid's first
    conn.rollback()
    conn.close()
