"""Request limits a user meets: each one a setting, each answered with a clear message naming it."""

from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main


def test_a_query_over_the_statement_timeout_is_503_with_a_message(demo_db, env_for, monkeypatch):
    env_for(demo_db)
    # The pool opens its connections with the time-out, so a fresh app reads the new value.
    monkeypatch.setenv("HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS", "40")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        # A per-population hot-spot run on 60 m hexagons joins every cell with every community: far over 40 ms.
        resp = client.get("/api/analysis/hotspots", params={"cell": 60, "per_population": 1})
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
