"""Every analysis on real cities imported from nothing: New York and Taipei (../shared/real-data).

Credits: NYC Open Data and NYC Department of City Planning; data.taipei
(Open Government Data License, Taiwan 1.0).
"""

from __future__ import annotations

import json

import pytest

from data.catalog import city_info
from data.db import connect, transaction
from data.migrate import migrate
from data.settings import GridSettings
from layers.analysis import registry
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from layers.workflow import regrid
from tests.conftest import real_data

#: Bronx Community District 5: the most open complaints of these 311 files (9), most outside a restroom's reach.
BUSY = "BX05"


def load(conn, tmp_path, relative: str, layer: str, **options):
    path = real_data(relative, tmp_path)
    if path.suffix == ".shp":  # the shapefile's companions beside it
        for ext in (".dbf", ".shx", ".prj"):
            real_data(relative[:-4] + ext, tmp_path)
    with transaction(conn):
        return import_file(conn, path, ImportOptions(layer, skip_bad=True, **options))


@pytest.fixture
def nyc(fresh_db, tmp_path):
    conn = connect(url=fresh_db)
    migrate(conn)
    b = "nyc/boundaries/"
    load(conn, tmp_path, b + "nybb.shp", "admin_areas", level="district", code_field="BoroCode", name_field="BoroName")
    assert city_info(conn)["metric_srid"] == 32618  # the boroughs set the city up in UTM 18N
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
    load(conn, tmp_path, "taipei/taipei_districts_town.geojson", "admin_areas", level="district", code_field="CPTID",
         name_field="TNAME")
    assert city_info(conn)["metric_srid"] == 4550  # the districts set it up: CGCS2000 / 3-degree GK CM 123E
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


def street_area_m2(conn, code: str) -> float:
    """The area of one street (a community district) in the city's metric CRS."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_Area(ST_Transform(geom, (SELECT metric_srid FROM city_settings))) FROM admin_areas "
                    "WHERE level = 'street' AND code = %s", (code,))
        area = cur.fetchone()[0]
    conn.rollback()
    return area


def outside_street(conn, code: str, features: list[dict]) -> list[dict]:
    """The sites (their lon/lat) not within 1 m of the street's outline."""
    with conn.cursor() as cur:
        outside = []
        for f in features:
            cur.execute("SELECT ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 1) "
                        "FROM admin_areas WHERE level = 'street' AND code = %s",
                        (f["properties"]["lon"], f["properties"]["lat"], code))
            if not cur.fetchone()[0]:
                outside.append(f["properties"])
    conn.rollback()
    return outside


def computed(conn, name: str, **raw) -> dict:
    """An analysis' result as computed, before either surface encodes it."""
    analysis = registry.load(name)
    result = analysis.compute(conn, analysis.parse(raw))
    conn.rollback()
    return result


def test_nyc_siting_on_a_street_without_population_or_roads_says_what_it_maximised(nyc):
    body, report = run(nyc, "siting", add="3", street="MN03")  # Manhattan Community District 3
    assert body["objective"] == "area" and body["measure"] == "area_m2" and body["candidates_on"] == "lattice"
    assert "no population per community" in body["objective_label"]
    sites = [f["properties"] for f in body["features"]]
    assert len(sites) == 3 and all(s["new_area_m2"] > 0 for s in sites)
    assert not outside_street(nyc, "MN03", body["features"])
    assert body["after"]["area_m2"] > body["before"]["area_m2"]
    # The demand is the street's (no residential land: its whole area), not the city's.
    on_street, city_wide = computed(nyc, "siting", add="1", street="MN03"), computed(nyc, "siting", add="1")
    assert on_street["street"] == "MN03" and city_wide["street"] is None
    assert on_street["area_m2"] == pytest.approx(street_area_m2(nyc, "MN03"), rel=0.02)
    assert on_street["area_m2"] < city_wide["area_m2"] / 50
    assert any("residential area" in line for line in report.head)
    # MN03 has one open complaint, near a restroom already: the complaints objective runs on Bronx CD 5.
    body, report = run(nyc, "siting", lang="zh", add="2", objective="complaints", street=BUSY)
    assert body["objective"] == "complaints" and "未结案投诉" in body["objective_label"]
    assert [f["properties"]["new_complaints"] >= 1 for f in body["features"]] == [True, True]
    assert not outside_street(nyc, BUSY, body["features"])
    with pytest.raises(Exception, match="no residents to cover.*objective=area"):
        run(nyc, "siting", add="2", objective="residents", street="MN03")


def test_nyc_priority_ranks_the_grids_of_one_street(nyc):
    with transaction(nyc):
        regrid.apply(nyc, regrid.plan(nyc, BUSY, 500, sequence_width=GridSettings.from_env().sequence_width), "test")
    body, report = run(nyc, "priority", street=BUSY)
    rows = [f["properties"] for f in body["features"]]
    assert body["missing"] == [] and rows and all(r["code"].startswith(BUSY) for r in rows)
    with nyc.cursor() as cur:
        cur.execute("SELECT count(*) FROM grids")
        n_grids = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints WHERE status <> '结案' AND street_code = %s", (BUSY,))
        open_in_street = cur.fetchone()[0]
    nyc.rollback()
    assert len(rows) == n_grids and open_in_street > 0
    assert sum(r["components"]["open"]["value"] for r in rows) == open_in_street  # the street's open complaints
    assert report.rows[0][1] == rows[0]["code"]


def test_taipei_every_analysis(taipei):
    body, _ = run(taipei, "coverage", kind="toilets", by="community")
    assert len(body["features"]) == 456
    body, _ = run(taipei, "density", kind="garbage_points", by="district")
    assert len(body["features"]) == 12
    body, report = run(taipei, "priority")
    # Districts and villages only, no street level: grids cannot be cut yet, and the answer says how to add streets.
    assert body["features"] == [] and body["missing"] == ["streets", "complaints"]
    assert any("grids generate" in line for line in report.tail)
    body, report = run(taipei, "siting", lang="zh", add="2")
    assert body["objective"] == "area" and "居住用地" in body["objective_label"] and "自动选择" in report.head[1]
    assert len(body["features"]) == 2
