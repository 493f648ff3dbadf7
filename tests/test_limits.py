"""Request limits a user meets: each one a setting, each answered with a clear message naming it."""

from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli.main import main


def test_a_query_over_the_statement_timeout_is_503_with_a_message(demo_db, env_for, monkeypatch):
    env_for(demo_db)
    # The pool opens its connections with the time-out, so a fresh app reads the new value.
    monkeypatch.setenv("HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS", "40")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        # Walking coverage builds each toilet's service area along the roads (pgr_drivingDistance), in the
        # database, afresh for each request: about a second, far over 40 ms. (Per-population hot spots were the
        # heavy statement here until their cells and shares were computed in shapely.)
        resp = client.get("/api/analysis/coverage", params={"kind": "toilets", "method": "walk"})
        assert resp.status_code == 503, resp.text
        assert "HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS" in resp.json()["detail"]
        assert resp.headers["retry-after"] == "5" and "Traceback" not in resp.text
        # The pool is still good: a light request right after answers normally.
        assert client.get("/api/layers/toilets/features", params={"limit": 1}).status_code == 200


def test_an_import_file_over_the_size_limit_is_refused_before_reading(demo_db, env_for, monkeypatch, tmp_path):
    env_for(demo_db)
    monkeypatch.setenv("HYGIENE_MAP_IMPORT_MAX_FILE_MB", "1")
    path = tmp_path / "大文件.csv"
    rows = "".join(f"T{i},公厕{i},121.0,31.0\n" for i in range(60_000))
    path.write_text("id,名称,经度,纬度\n" + rows, encoding="utf-8")
    assert path.stat().st_size > 2**20
    res = CliRunner().invoke(main, ["import", "toilets", str(path)])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "大文件.csv" in res.output and "HYGIENE_MAP_IMPORT_MAX_FILE_MB" in res.output


LIMIT = 1_048_576  # HYGIENE_MAP_MAX_BODY_BYTES by default


def _chunked_head(path: str, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n{extra}\r\n").encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _status_and_body(sock) -> tuple[int, dict]:
    import http.client
    import json

    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def test_a_chunked_body_over_the_limit_is_413_naming_the_setting_before_it_ends(server):
    """No Content-Length: the bytes are counted as they arrive, and the answer comes once the limit is passed."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(server)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(_chunked_head("/api/complaints"))
        piece = b"x" * 65_536
        for _ in range(LIMIT // len(piece) + 2):  # just past the limit; the body is never finished
            sock.sendall(_chunk(piece))
        status, body = _status_and_body(sock)
    assert status == 413
    assert "HYGIENE_MAP_MAX_BODY_BYTES" in body["detail"] and str(LIMIT) in body["detail"]
    assert body["detail_zh"] == f"请求内容超过 {LIMIT} 字节的上限（HYGIENE_MAP_MAX_BODY_BYTES）"


def test_a_whole_chunked_body_over_the_limit_is_413_and_one_under_it_is_read(server):
    import http.client
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(server)

    def post(chunks):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("POST", "/api/complaints", body=iter(chunks), encode_chunked=True,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        out = response.status, json.loads(response.read())
        conn.close()
        return out

    status, body = post([b"[" + b"1," * 400_000, b"1," * 400_000 + b"1]"])  # 1.6 MB of JSON in two chunks
    assert status == 413 and "HYGIENE_MAP_MAX_BODY_BYTES" in body["detail"]
    assert body["detail_zh"] == f"请求内容超过 {LIMIT} 字节的上限（HYGIENE_MAP_MAX_BODY_BYTES）"
    # A small chunked body goes through to the route (here: 401, the token is missing), not 413 or 400.
    status, body = post([b'{"lon": 121.4, "lat": 37.5, ', b'"category": "x", "source": "12345"}'])
    assert status == 401, body
