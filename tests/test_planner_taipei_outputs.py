"""A planner's analyses on Taipei imported from nothing (tests/taipei_planner.py): density without a band, siting
and hot spot workbooks, the command line's refusals, the OGC HTML pages."""

from __future__ import annotations

import json
import re

from data.db import connect
from layers.analysis import registry
from tests.conftest import query
from tests.taipei_planner import analysis_report, analyze, client, taipei, workbook  # noqa: F401 (fixtures)


def test_density_of_a_kind_without_a_band_says_so_instead_of_zero_verdicts(client, taipei):
    """Taipei's 4,024 garbage-truck stops have no planning density in the standards: the report says so and gives
    no "0 below, 0 within, 0 above the band" (which read as a verdict); toilets keep their band and verdicts."""
    stops = query(taipei["url"], "SELECT count(*) FROM garbage_stations s WHERE EXISTS (SELECT 1 FROM admin_areas a "
                                 "WHERE a.level = 'district' AND ST_Intersects(a.geom, s.geom))")[0][0]
    assert stops > 4000
    for lang, words, total in (("zh", "标准未规定设置密度", "合计：12 个区域"),
                               ("en", "no standard gives a planning density", "total: 12 areas")):
        report = analysis_report(taipei, "density", lang, kind="garbage_points", by="district")
        assert any(words in line for line in report.head), report.head
        assert report.tail == [total], report.tail
        assert sum(row[2] for row in report.rows) == stops and all(row[-1] is None for row in report.rows)
    toilets = analysis_report(taipei, "density", "zh", kind="toilets", by="district")
    assert re.search(r"低于标准 \d+ 个，符合 \d+ 个，高于 \d+ 个$", toilets.tail[0]) and "3–5 座/km²" in toilets.head[0]
    body = client.get("/api/analysis/density", params={"kind": "garbage_points", "by": "district"}).json()
    assert body["rules"] == [] and all(f["properties"]["status"] is None for f in body["features"])


def test_siting_on_a_code_that_is_no_street_names_the_parameter(client):
    """63006 is 大同區's district code (its street, the district office, is 6300600): a 404 naming `street`, as the
    coverage route does; before it said only "no street with code '63006'"."""
    answer = client.get("/api/analysis/siting", params={"kind": "toilets", "add": "2", "street": "63006"})
    assert answer.status_code == 404 and answer.json()["detail"].startswith("street: "), answer.text
    assert "63006" in answer.json()["detail"]
    sites = client.get("/api/analysis/siting", params={"kind": "toilets", "add": "2", "street": "6300600"})
    assert sites.status_code == 200 and len(sites.json()["features"]) == 2, sites.text


def test_hot_spot_and_siting_workbooks_say_where_and_in_chinese(taipei, tmp_path):
    """A planner opens the hot spots in a spreadsheet: each hexagon has the lon/lat of its centre (q, r alone
    locate nothing), and the siting workbook's gain column has a Chinese header like the others."""
    from shapely.geometry import Point, shape

    body, rows = workbook(taipei, "hotspots", tmp_path)
    hottest = rows[0]
    assert hottest["热点等级"] == "热点 99 % 置信度" and hottest["热点等级代码"] == 3 and isinstance(hottest["经度(WGS84)"], float) and isinstance(hottest["纬度(WGS84)"], float)
    cell = next(f for f in body["features"]
                if (f["properties"]["q"], f["properties"]["r"]) == (hottest["六边形列 q"], hottest["六边形行 r"]))
    assert shape(cell["geometry"]).centroid.distance(Point(hottest["经度(WGS84)"], hottest["纬度(WGS84)"])) < 1e-5
    where = query(taipei["url"], "SELECT name FROM admin_areas WHERE level = 'district' AND "
                                 "ST_Intersects(geom, ST_GeomFromGeoJSON(%s)) ORDER BY code",
                  (json.dumps(cell["geometry"]),))
    assert ("大同區",) in where  # two complaints in three are in 大同區: the hottest hexagon is on it
    printed = analysis_report(taipei, "hotspots", "zh")
    assert printed.headers[-2:] == ["经度(WGS84)", "纬度(WGS84)"]
    assert printed.rows[0][-2:] == [f"{hottest['经度(WGS84)']:.6f}", f"{hottest['纬度(WGS84)']:.6f}"]  # not rounded to 0.1°
    _, sites = workbook(taipei, "siting", tmp_path, add="2", street="6300600")
    assert list(sites[0]) == ["排名", "平面坐标 x（m）", "平面坐标 y（m）", "新增覆盖面积（m²）", "经度(WGS84)", "纬度(WGS84)"]
    _, sites = workbook(taipei, "siting", tmp_path, "en", add="1", objective="complaints")
    assert "Open complaints newly covered" in sites[0] and sites[0]["Open complaints newly covered"] >= 1


def test_hot_spots_per_resident_in_a_city_without_population_say_why(client):
    """Taipei's villages have no population: hot spots per 10,000 residents were a 500 (Gi* of all zeros); a 422
    naming per_population and how to give the population. The counts' map still answers."""
    answer = client.get("/api/analysis/hotspots", params={"per_population": "1"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("per_population: ") and "--population-field" in answer.json()["detail"]
    assert client.get("/api/analysis/hotspots").status_code == 200


def test_workbooks_say_their_verdicts_in_the_workbook_language(taipei, tmp_path):
    """A Chinese workbook said 'above', 'city' and 'area' under 判定, 依据 and 人口分布方式; CSV keeps the codes."""
    from layers.analysis.encode import write

    _, rows = workbook(taipei, "density", tmp_path, kind="toilets", by="district")
    assert {r["判定"] for r in rows} == {"高于标准", "符合标准", "低于标准"} and {r["依据"] for r in rows} == {"整个区域按建成区密度"}
    datong = next(r for r in rows if r["名称"] == "大同區")
    assert datong["判定"] == "高于标准" and datong["数量"] > datong["标准上限"]
    import openpyxl

    assert openpyxl.load_workbook(tmp_path / "x.xlsx").sheetnames == ["设置密度"]  # named, not Sheet1
    _, rows = workbook(taipei, "density", tmp_path, "en", kind="toilets", by="district")
    assert {r["Status"] for r in rows} == {"above", "within", "below"}
    assert openpyxl.load_workbook(tmp_path / "x.xlsx").sheetnames == ["Density"]
    _, rows = workbook(taipei, "coverage", tmp_path, kind="toilets", by="district")
    assert {r["人口分布方式"] for r in rows} == {"按区域面积"}
    analysis = registry.load("density")
    conn = connect(url=taipei["url"])
    try:
        args = analysis.parse({"kind": "toilets", "by": "district"})
        write(tmp_path / "d.csv", analysis.rows(analysis.compute(conn, args)), lambda: b"")
    finally:
        conn.close()
    assert ",above,city" in (tmp_path / "d.csv").read_text(encoding="utf-8-sig")


def test_analyze_siting_without_add_says_it_is_required(taipei, tmp_path):
    """`--add` shows as [required] in the help, yet `hygiene-map analyze siting` ran with 5 sites (click 8.5 takes
    a required option with default None as given)."""
    assert "[required]" in analyze(taipei, tmp_path, "siting", "--help").stdout
    done = analyze(taipei, tmp_path, "siting", "--kind", "toilets")
    assert done.returncode != 0 and done.stdout == "", done.stdout
    assert done.stderr.strip() == "hygiene-map：错误：--add：必须给出"
    done = analyze(taipei, tmp_path, "siting", "--kind", "toilets", "--lang", "en")
    assert done.stderr.strip() == "hygiene-map: error: --add: is required (how many new sites to propose)"
    done = analyze(taipei, tmp_path, "siting", "--kind", "toilets", "--add", "2", "--street", "6300600")
    assert done.returncode == 0 and done.stdout.count("\n1  ") + done.stdout.count("\n2  ") == 2, done.stdout


def test_analyze_out_to_a_missing_folder_says_so_before_the_work(taipei, tmp_path):
    """`hygiene-map analyze coverage --out /nonexistent/x.csv` computed Taipei's 456 villages, printed them, then
    ended in a pandas traceback; now one line naming --out and the folder, before any work, and nothing written."""
    missing = tmp_path / "nowhere" / "gaps.csv"
    done = analyze(taipei, tmp_path, "coverage", "--kind", "toilets", "--out", missing)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == f"hygiene-map：错误：--out：{missing}：文件夹 {missing.parent} 不存在"
    assert done.stdout == "" and not missing.parent.exists()  # refused before the work
    done = analyze(taipei, tmp_path, "coverage", "--kind", "toilets", "--out", "gaps.csv")
    assert done.returncode == 0 and (tmp_path / "gaps.csv").read_text(encoding="utf-8-sig").startswith("code,name")


def test_ogc_html_says_yes_and_no(client):
    """The OGC pages a GIS user opens in a browser showed Python's True/False for Taipei's free toilets."""
    page = client.get("/ogc/collections/toilets/items", params={"f": "html", "limit": "3"}).text
    assert "True" not in page and "False" not in page and "<td>是</td>" in page
    one = client.get("/ogc/collections/toilets/items/1", params={"f": "html", "lang": "en"}).text
    assert "True" not in one and "<td>yes</td>" in one
    assert client.get("/ogc/collections/toilets/items/1", params={"f": "json"}).json()["properties"]["is_free"] is True
