"""Export behaviour users rely on, on the small demo city: every format back into an empty database, the
shapefile's .cpg and GBK option, KML for earth viewers, HTTP exports and their refusals, WKT in tables."""

from __future__ import annotations

import contextlib
import json
import zipfile

import pytest
import shapely

from data.db import connect, transaction
from data.migrate import migrate
from layers.io.export import export_layer
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import create_database, drop_database
from tests.import_tools import rows


@contextlib.contextmanager
def imported_into_an_empty_city(pg_server, path, layer: str):
    """``path`` imported as ``layer`` into a new, migrated database: (its connection, the import's result);
    the database is dropped afterwards."""
    target = create_database(pg_server[0])
    other = connect(url=target)
    try:
        migrate(other)
        with transaction(other):
            result = import_file(other, path, ImportOptions(layer))
        yield other, result
    finally:
        other.close()
        drop_database(target)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv", "xlsx", "kml"])
def test_export_round_trips_into_an_empty_database(demo_conn, pg_server, tmp_path, fmt):
    """export → import into an empty database gives the same rows and geometries."""
    conn = demo_conn
    layer = "toilets" if fmt in ("shp", "kml", "xlsx") else "garbage_stations"  # xlsx: 是/否 and numbers back
    out = tmp_path / f"out.{'zip' if fmt == 'shp' else fmt}"
    n = export_layer(conn, layer, fmt, out)
    assert n > 0
    with imported_into_an_empty_city(pg_server, out, layer) as (other, result):
        assert result.inserted == n
        cols = "source, source_id, name, district_code, street_code, community_code"
        mine = rows(conn, f"SELECT {cols}, ST_AsBinary(geom) FROM {layer} ORDER BY 1, 2")
        theirs = rows(other, f"SELECT {cols}, ST_AsBinary(geom) FROM {layer} ORDER BY 1, 2")
        assert [r[:-1] for r in theirs] == [r[:-1] for r in mine]
        a = shapely.from_wkb([bytes(r[-1]) for r in mine])
        b = shapely.from_wkb([bytes(r[-1]) for r in theirs])
        assert shapely.equals_exact(a, b, tolerance=1e-8).all()  # ~1 mm
        if layer == "toilets":
            same = rows(other, "SELECT grade, kind, seats, is_free, accessible FROM toilets ORDER BY source_id")
            assert same == rows(conn, "SELECT grade, kind, seats, is_free, accessible FROM toilets ORDER BY source_id")


def test_shapefile_zip_has_cpg_and_gbk_option(demo_conn, tmp_path):
    conn = demo_conn
    out = tmp_path / "t.zip"
    export_layer(conn, "toilets", "shp", out, encoding="gbk")
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"toilets.shp", "toilets.shx", "toilets.dbf", "toilets.prj", "toilets.cpg"} <= names
        assert z.read("toilets.cpg").decode().strip().upper() in ("GBK", "CP936", "936")
        dbf = z.read("toilets.dbf")
    assert "公厕".encode("gbk") in dbf or "厕".encode("gbk") in dbf


def test_kml_has_names_and_descriptions_for_earth_viewers(demo_conn, tmp_path):
    conn = demo_conn
    out = tmp_path / "m.kml"
    n = export_layer(conn, "markets", "kml", out)
    text = out.read_text(encoding="utf-8")
    assert text.count("<Placemark") == n
    assert "<name>" in text and "<description>" in text and "类型" in text


def test_http_export_and_bad_requests(demo_conn, demo_client):
    conn, client = demo_conn, demo_client
    street = rows(conn, "SELECT street_code FROM toilets GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    res = client.get(f"/api/layers/toilets/export?format=geojson&street={street}")
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/geo+json")
    doc = json.loads(res.content)
    expected = rows(conn, "SELECT count(*) FROM toilets WHERE street_code = %s", street)[0][0]
    assert len(doc["features"]) == expected
    assert {f["properties"]["street_code"] for f in doc["features"]} == {street}
    res = client.get("/api/layers/toilets/export?format=xlsx")
    assert res.status_code == 200 and res.content[:2] == b"PK"
    import io

    import openpyxl

    sheet = list(openpyxl.load_workbook(io.BytesIO(res.content)).active.iter_rows(values_only=True))
    column = {h: [r[i] for r in sheet[1:]] for i, h in enumerate(sheet[0])}
    # A workbook is read by people: numbers as numbers, yes/no in Chinese.
    assert column["厕位数"] and all(isinstance(v, int) for v in column["厕位数"] if v is not None)
    assert set(column["是否免费"]) | set(column["无障碍"]) <= {"是", "否", None}
    assert client.get("/api/layers/nope/export?format=csv").status_code == 404
    bad = client.get("/api/layers/toilets/export?format=dwg")
    assert bad.status_code == 422 and "format" in bad.json()["detail"]
    bad = client.get("/api/layers/land_use/export?format=csv&street=379901001")
    assert bad.status_code == 422 and "street" in bad.json()["detail"]


@pytest.mark.parametrize("layer", ["admin_areas", "markets", "urban_villages", "health_trails", "roads", "land_use",
                                   "complaints", "grids"])
def test_every_layer_round_trips_through_geopackage(demo_conn, pg_server, tmp_path, layer):
    conn = demo_conn
    out = tmp_path / f"{layer}.gpkg"
    n = export_layer(conn, layer, "gpkg", out)
    assert n > 0
    with imported_into_an_empty_city(pg_server, out, layer) as (other, result):
        assert (result.inserted, result.rejected) == (n, 0)
        key = "code" if layer in ("admin_areas", "grids") else "source_id"
        query = f"SELECT {key}, ST_AsBinary(geom) FROM {layer} ORDER BY 1"
        mine, theirs = rows(conn, query), rows(other, query)
        assert [r[0] for r in theirs] == [r[0] for r in mine]
        a = shapely.from_wkb([bytes(r[1]) for r in mine])
        b = shapely.from_wkb([bytes(r[1]) for r in theirs])
        assert shapely.equals_exact(a, b, tolerance=1e-8).all()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_polygons_round_trip_through_wkt_in_tables(demo_conn, pg_server, tmp_path, fmt):
    out = tmp_path / f"villages.{fmt}"
    n = export_layer(demo_conn, "urban_villages", fmt, out)
    with imported_into_an_empty_city(pg_server, out, "urban_villages") as (other, result):
        assert result.inserted == n
        query = "SELECT source_id, name, kind, population, renovation_status, ST_AsBinary(geom) FROM urban_villages " \
                "ORDER BY source_id"
        mine, theirs = rows(demo_conn, query), rows(other, query)
        assert [r[:-1] for r in theirs] == [r[:-1] for r in mine]
        assert shapely.equals_exact(shapely.from_wkb([bytes(r[-1]) for r in mine]),
                                    shapely.from_wkb([bytes(r[-1]) for r in theirs]), tolerance=1e-8).all()
