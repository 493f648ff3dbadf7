"""A server started where the front-end packages are not installed (no `npm ci` run, or a
HYGIENE_MAP_NODE_MODULES pointing elsewhere): the pages' script and style files answer 503 with the fix, not
500 with a traceback in the log (README, *Web maps*: "the app starts even without node_modules").

On Taipei's real district outlines (data.taipei), a city of its own as set up from nothing.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from data.db import connect, transaction
from data.migrate import migrate
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import real_data


def test_vendor_files_without_node_modules_are_503_naming_the_fix(fresh_db, env_for, monkeypatch, tmp_path):
    conn = connect(url=fresh_db)
    try:
        migrate(conn)
        with transaction(conn):
            import_file(conn, real_data("taipei/taipei_districts_town.geojson", tmp_path),
                        ImportOptions("admin_areas", level="district", code_field="CPID", name_field="TNAME"))
    finally:
        conn.close()
    env_for(fresh_db)
    monkeypatch.setenv("HYGIENE_MAP_NODE_MODULES", str(tmp_path / "no-such-node_modules"))
    from api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for path in ("/static/vendor/leaflet/dist/leaflet.js", "/static/vendor/leaflet/dist/leaflet.css"):
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:200])
            assert "npm ci" in answer.text and "no-such-node_modules" in answer.text, answer.text
        assert client.get("/static/vendor/brfs/package.json").status_code == 404  # not a served package
        assert client.get("/api/layers").status_code == 200  # the API works meanwhile
