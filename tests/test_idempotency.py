"""Idempotency-Key on writes, against the real server: a retried POST answers the first result, never a duplicate."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from data.db import connect, transaction
from layers.workflow.access import add_user
from tests.served import running, writable_database


@pytest.fixture(scope="module")
def city(pg_server):
    with writable_database(pg_server[0]) as city:
        yield city


@pytest.fixture(scope="module")
def server(city):
    with running(city.url) as server:
        yield server


def _body(city, marker: str) -> dict:
    return {"lon": city.point[0], "lat": city.point[1], "category": city.category, "source": "12345",
            "description": marker}


def _auth(city, key: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {city.token}"}
    if key is not None:
        headers["Idempotency-Key"] = f'"{key}"'
    return headers


def _rows(city, marker: str) -> list[int]:
    conn = connect(url=city.url)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM complaints WHERE description = %s ORDER BY id", (marker,))
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    return ids


def _post_until_answered(server, city, marker: str, key: str, deadline_s: float = 60) -> tuple[int, dict, object]:
    """What a careful client does: retry the same request, same key, through 409s and a server that is away."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            status, headers, body = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))
            if status != 409:
                return status, headers, body
        except (OSError, http.client.HTTPException):
            pass  # the server is away (killed, restarting): try again
        assert time.monotonic() < deadline, "no answer before the deadline"
        time.sleep(0.1)


def test_a_retry_with_the_same_key_answers_the_first_result(server, city):
    marker, key = f"retry {uuid.uuid4()}", str(uuid.uuid4())
    first = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))
    again = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))
    assert first[0] == again[0] == 201
    assert again[2] == first[2]
    assert again[1]["location"] == first[1]["location"] == f"/api/complaints/{first[2]['id']}"
    assert again[1]["idempotent-replayed"] == "true" and "idempotent-replayed" not in first[1]
    assert _rows(city, marker) == [first[2]["id"]]
    # A bare (unquoted) key is the same key.
    bare = server.request("POST", "/api/complaints", _body(city, marker),
                          {**_auth(city), "Idempotency-Key": key})
    assert bare[0] == 201 and bare[2]["id"] == first[2]["id"]
    # Without a key nothing changes: each POST files one complaint.
    server.request("POST", "/api/complaints", _body(city, marker), _auth(city))
    assert len(_rows(city, marker)) == 2


def test_the_same_key_with_another_body_is_422_and_writes_nothing(server, city):
    marker, key = f"other body {uuid.uuid4()}", str(uuid.uuid4())
    assert server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))[0] == 201
    status, _, body = server.request("POST", "/api/complaints", _body(city, marker + " changed"), _auth(city, key))
    assert status == 422
    assert "Idempotency-Key" in body["detail"] and "different request" in body["detail"]
    assert _rows(city, marker + " changed") == []


@pytest.mark.parametrize("value, reason", [('"unterminated', "double quote"), ('"a"b"', "escaped"),
                                           ("x" * 256, "1 to 255"), ('""', "1 to 255")])
def test_a_malformed_key_is_422_naming_the_header(server, city, value, reason):
    marker = f"bad key {uuid.uuid4()}"
    status, _, body = server.request("POST", "/api/complaints", _body(city, marker),
                                     {**_auth(city), "Idempotency-Key": value})
    assert status == 422
    assert "Idempotency-Key" in body["detail"] and reason in body["detail"]
    assert _rows(city, marker) == []


def test_keys_belong_to_their_caller(server, city):
    conn = connect(url=city.url)
    with transaction(conn):
        _, other = add_user(conn, f"admin-{uuid.uuid4().hex[:6]}", "admin", created_by="test")
    conn.close()
    marker, key = f"two callers {uuid.uuid4()}", str(uuid.uuid4())
    mine = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))
    theirs = server.request("POST", "/api/complaints", _body(city, marker),
                            {"Authorization": f"Bearer {other}", "Idempotency-Key": f'"{key}"'})
    assert mine[0] == theirs[0] == 201 and mine[2]["id"] != theirs[2]["id"]


def test_concurrent_requests_with_one_key_file_one_complaint(server, city):
    marker, key = f"concurrent {uuid.uuid4()}", str(uuid.uuid4())
    start = threading.Barrier(8)

    def post(_):
        start.wait()
        return server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert {a[0] for a in answers} <= {201, 409}
    created = [a for a in answers if a[0] == 201]
    assert created and len({a[2]["id"] for a in created}) == 1
    for status, _, body in answers:
        if status == 409:
            assert "still being processed" in body["detail"]
    assert _rows(city, marker) == [created[0][2]["id"]]


def _send_unread(server, city, marker: str, key: str) -> None:
    """Send a POST with a key and drop the connection without reading the answer."""
    payload = json.dumps(_body(city, marker)).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"POST /api/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Authorization: Bearer {city.token}\r\nIdempotency-Key: \"{key}\"\r\n".encode()
                  + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)


def test_a_lost_response_is_recovered_by_the_retry(server, city):
    """The client sends, then drops the connection without reading; its retry gets the id, one row exists."""
    marker, key = f"lost {uuid.uuid4()}", str(uuid.uuid4())
    _send_unread(server, city, marker, key)
    status, _, body = _post_until_answered(server, city, marker, key)
    assert status == 201
    assert _rows(city, marker) == [body["id"]]


def test_a_write_committed_before_the_server_was_killed_is_acknowledged_after_its_restart(city):
    marker, key = f"killed {uuid.uuid4()}", str(uuid.uuid4())
    with running(city.url) as server:
        _send_unread(server, city, marker, key)
        deadline = time.monotonic() + 30
        while not _rows(city, marker):
            assert time.monotonic() < deadline, "the first request was never committed"
            time.sleep(0.02)
        server.kill()
        server.start()
        status, headers, body = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))
    assert status == 201 and headers["idempotent-replayed"] == "true"
    assert _rows(city, marker) == [body["id"]]


def test_a_patch_retried_with_its_key_answers_its_first_result(server, city):
    created = server.request("POST", "/api/complaints", _body(city, f"patch {uuid.uuid4()}"), _auth(city))[2]
    key, path = str(uuid.uuid4()), f"/api/complaints/{created['id']}"
    first = server.request("PATCH", path, {"status": "立案"}, _auth(city, key))
    again = server.request("PATCH", path, {"status": "立案"}, _auth(city, key))
    assert first[0] == again[0] == 200 and again[2] == first[2]
    # Without the key the same retry is refused: the case has moved on.
    assert server.request("PATCH", path, {"status": "立案"}, _auth(city))[0] == 409
    assert len(server.request("GET", path, headers=_auth(city))[2]["events"]) == 2


def test_an_expired_key_is_forgotten(server, city):
    marker, key = f"expired {uuid.uuid4()}", str(uuid.uuid4())
    first = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))[2]
    conn = connect(url=city.url)
    with transaction(conn), conn.cursor() as cur:
        cur.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = %s", (key,))
    conn.close()
    again = server.request("POST", "/api/complaints", _body(city, marker), _auth(city, key))
    assert again[0] == 201 and again[2]["id"] != first["id"]
    assert _rows(city, marker) == [first["id"], again[2]["id"]]


def test_complaints_committed_before_a_crash_are_acknowledged_by_the_retry(city):
    """Clients filing with keys while the server is SIGKILLed: each retries until answered, after a restart.

    Every key ends with exactly one complaint and every client learns its id,
    including those whose first request was committed but never answered.
    """
    marker = f"crash {uuid.uuid4()}"
    keys = [str(uuid.uuid4()) for _ in range(60)]
    answers: dict[str, int] = {}

    def client(part: list[str]) -> None:
        for key in part:
            status, _, body = _post_until_answered(server, city, f"{marker} {key}", key, 120)
            assert status == 201, body
            answers[key] = body["id"]

    with running(city.url) as server, ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(client, keys[i::6]) for i in range(6)]
        while len(answers) < 10:
            time.sleep(0.01)
        server.kill()
        server.start()
        for future in futures:
            future.result()
    conn = connect(url=city.url)
    with conn.cursor() as cur:
        cur.execute("SELECT description, id FROM complaints WHERE description LIKE %s", (marker + " %",))
        stored = cur.fetchall()
    conn.close()
    assert len(stored) == len(keys)
    assert {d[len(marker) + 1:]: i for d, i in stored} == answers
