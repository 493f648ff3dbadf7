"""Every analysis on real cities imported from nothing: New York and Taipei (../shared/real-data).

Credits: NYC Open Data and NYC Department of City Planning; data.taipei
(Open Government Data License, Taiwan 1.0).
"""

from __future__ import annotations

import json

import pytest

from data.db import connect, transaction
from data.migrate import migrate
from layers.analysis import registry
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import real_data


def establish_city(conn, code: str, name: str, srid: int) -> None:
    """The city row, written by hand until `city init` / the first admin-area import writes it."""
    with transaction(conn), conn.cursor() as cur:
        cur.execute("INSERT INTO city_settings (code, name, metric_srid) VALUES (%s, %s, %s)", (code, name, srid))


def load(conn, tmp_path, relative: str, layer: str, **options) -> None:
    path = real_data(relative, tmp_path)
    if path.suffix == ".shp":  # the shapefile's companions beside it
        for ext in (".dbf", ".shx", ".prj"):
            real_data(relative[:-4] + ext, tmp_path)
    with transaction(conn):
        import_file(conn, path, ImportOptions(layer, skip_bad=True, **options))


@pytest.fixture
def nyc(fresh_db, tmp_path):
    conn = connect(url=fresh_db)
    migrate(conn)
    establish_city(conn, "NYC", "New York", 32618)
    b = "nyc/boundaries/"
    load(conn, tmp_path, b + "nybb.shp", "admin_areas", level="district", code_field="BoroCode", name_field="BoroName")
    load(conn, tmp_path, b + "nycdta2020.shp", "admin_areas", level="street", code_field="CDTA2020",
         name_field="CDTAName", parent_field="BoroCode")
    load(conn, tmp_path, b + "nynta2020.shp", "admin_areas", level="community", code_field="NTA2020",
         name_field="NTAName", parent_field="CDTA2020")
    load(conn, tmp_path, "nyc/nyc311_sample_2023-02-28.csv", "complaints", timezone="America/New_York")
    load(conn, tmp_path, "nyc/nyc311_dohmh_rodent_unsanitary_2018-01.csv", "complaints", timezone="America/New_York")
    load(conn, tmp_path, "nyc/nyc_public_restrooms_20241203.csv", "toilets")
    yield conn
    conn.close()


@pytest.fixture
def taipei(fresh_db, tmp_path):
    conn = connect(url=fresh_db)
    migrate(conn)
    establish_city(conn, "63", "臺北市", 32651)
    load(conn, tmp_path, "taipei/taipei_districts_town.geojson", "admin_areas", level="district", code_field="CPTID",
         name_field="TNAME")
    load(conn, tmp_path, "taipei/taipei_villages_li.geojson", "admin_areas", level="community", code_field="CPTVID",
         name_field="VNAME", parent_field="CPTID")
    load(conn, tmp_path, "taipei/taipei_public_toilets.csv", "toilets")
    load(conn, tmp_path, "taipei/taipei_garbage_truck_stops.csv", "garbage_stations")
    yield conn
    conn.close()


def run(conn, name: str, lang: str = "en", **raw) -> tuple[dict, object]:
    """(the GeoJSON answer, the CLI report) of one analysis, as both surfaces compute them."""
    analysis = registry.load(name)
    args = analysis.parse(raw)
    result = analysis.compute(conn, args)
    conn.rollback()
    return json.loads(analysis.geojson(result, args, lang)), analysis.report(result, args, lang)


def test_nyc_hotspots_and_priority_over_reprojected_outlines(nyc):
    """NTAs valid in WGS84 but not in UTM 18N: the unions and overlays no longer fail (side location conflict)."""
    body, _ = run(nyc, "hotspots")
    assert body["features"] and sum(f["properties"]["count"] for f in body["features"]) > 400
    body, _ = run(nyc, "priority")
    assert body["missing"] == ["grids"]
    body, _ = run(nyc, "coverage", by="street")
    assert len(body["features"]) == 71
    body, _ = run(nyc, "density", by="community")
    assert len(body["features"]) == 262


def test_nyc_siting_without_population_or_roads_says_what_it_maximised(nyc):
    body, report = run(nyc, "siting", add="3")  # (street=MN03 waits for codes of any form, item 3)
    assert body["objective"] == "area" and body["measure"] == "area_m2" and body["candidates_on"] == "lattice"
    assert "no population per community" in body["objective_label"]
    sites = [f["properties"] for f in body["features"]]
    assert len(sites) == 3 and all(s["new_area_m2"] > 0 for s in sites)
    assert body["after"]["area_m2"] > body["before"]["area_m2"]
    assert any("residential area" in line for line in report.head)
    body, report = run(nyc, "siting", lang="zh", add="2", objective="complaints")
    assert body["objective"] == "complaints" and "未结案投诉" in body["objective_label"]
    assert [f["properties"]["new_complaints"] >= 1 for f in body["features"]] == [True, True]
    with pytest.raises(Exception, match="no residents to cover.*objective=area"):
        run(nyc, "siting", add="2", objective="residents")


def test_taipei_every_analysis(taipei):
    body, _ = run(taipei, "coverage", kind="toilets", by="community")
    assert len(body["features"]) == 456
    body, _ = run(taipei, "density", kind="garbage_points", by="district")
    assert len(body["features"]) == 12
    body, report = run(taipei, "priority")
    assert body["features"] == [] and body["missing"] == ["grids", "complaints"]
    assert any("grids generate" in line for line in report.tail)
    body, report = run(taipei, "siting", lang="zh", add="2")
    assert body["objective"] == "area" and "居住用地" in body["objective_label"] and "自动选择" in report.head[1]
    assert len(body["features"]) == 2
