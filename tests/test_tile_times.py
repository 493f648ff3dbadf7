"""Raw tiles carry times as whole seconds since 1970 (UTC), the OGC tiles as ISO 8601 text (the tileset says so);
the map shows them in the city's zone as "YYYY-MM-DD HH:MM", from a tile or from GeoJSON alike."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import mapbox_vector_tile
import pytest

MAP_JS = Path(__file__).resolve().parent.parent / "layers" / "web" / "static" / "map.js"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _centre_tile(client, conn, path: str, columns: str):
    """(properties by feature id, the rows' ``id, columns``) of the city centre's z16 tile served at ``path``
    (``{x}``, ``{y}`` filled in)."""
    x, y = _tile_of(121.38, 37.49, 16)
    response = client.get(path.format(x=x, y=y))
    assert response.status_code == 200 and response.headers["cache-control"].startswith("public")
    features = mapbox_vector_tile.decode(response.content)["complaints"]["features"]
    assert len(features) > 10
    by_id = {f["id"]: f["properties"] for f in features}
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, {columns} FROM complaints WHERE id = ANY(%s)", (list(by_id),))
        rows = cur.fetchall()
    assert len(rows) == len(by_id)
    return by_id, rows


def test_tile_times_are_the_rows_times_in_seconds(demo_client, demo_conn):
    by_id, rows = _centre_tile(demo_client, demo_conn, "/tiles/complaints/16/{x}/{y}.pbf", "reported_at, due_at")
    checked_due = 0
    for id_, reported, due in rows:
        assert by_id[id_]["reported_at"] == math.floor(reported.timestamp())
        if due is None:
            assert "due_at" not in by_id[id_]
        else:
            assert by_id[id_]["due_at"] == math.floor(due.timestamp())
            checked_due += 1
    assert checked_due > 0


def test_ogc_tile_times_are_iso_text_a_gis_client_shows_as_dates(demo_client, demo_conn):
    """The OGC tiles (QGIS, GDAL) carry times as ISO 8601 text, as the OGC features do; the tileset says so."""
    from datetime import datetime

    by_id, rows = _centre_tile(demo_client, demo_conn,
                               "/ogc/collections/complaints/tiles/WebMercatorQuad/16/{y}/{x}", "reported_at")
    assert all(datetime.fromisoformat(by_id[id_]["reported_at"]) == reported for id_, reported in rows)
    some = rows[0][0]
    item = demo_client.get(f"/ogc/collections/complaints/items/{some}").json()
    assert by_id[some]["reported_at"] == item["properties"]["reported_at"]  # the features' own text
    tileset = demo_client.get("/ogc/collections/complaints/tiles/WebMercatorQuad").json()
    schema = tileset["layers"][0]["propertiesSchema"]["properties"]
    assert schema["reported_at"] == {"type": "string", "format": "date-time"} and schema["category"] == {}


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_popups_show_times_in_the_citys_zone(tmp_path):
    """map.js's popup text of a time from a tile (seconds) and from GeoJSON (ISO text): the same minute."""
    script = tmp_path / "times.js"
    script.write_text(
        "var window = {};\n" + MAP_JS.read_text() + "\n"
        "var t = window.hygieneMap.timeText;\n"
        "console.log(JSON.stringify([t(1789005410, 'Asia/Shanghai'), t('2026-09-10T01:56:50+00:00', 'Asia/Shanghai'),"
        " t(1789005410, 'America/New_York'), t(1789005410, 'no/such zone')]));\n")
    out = json.loads(subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout)
    assert out == ["2026-09-10 09:56", "2026-09-10 09:56", "2026-09-09 21:56", "2026-09-10 01:56 UTC"]
