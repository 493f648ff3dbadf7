"""Hong Kong from nothing, as a planner would set it up with the README and the real files.

FEHD's 810 public toilets (DATA.GOV.HK; names, addresses and hours in three
languages, nameEN/nameTC/nameSC, and the position as one "lat,lon" string in
the field `latitude`) and the 18 district council areas of 2001 (Census and
Statistics Department). Everything goes through the `hygiene-map` command and
the HTTP API and pages of a real server (the helpers of tests/real_city.py).

The city: `city init --name 香港 --code 810000` (GB/T 2260's code for Hong
Kong), the 18 districts (``DC_CODE`` A…T, names ``DC_CHIN``), the toilets
with ``--skip-bad``: 6 lie on land reclaimed after 2001 (Tung Chung, the
Shenzhen Bay port) outside the 2001 outlines by more than the 500 m tolerance.

Figures are checked against an independent computation on the same files with
shapely/pyproj: the toilets' 300 m discs (true circles, fine polygons) unioned
and cut by each district in the city's metric CRS.
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
import subprocess
import time

import httpx
import openpyxl
import pytest

from tests.chromium import MAP_CONTROL_CLASHES
from tests.real_city import READY_ANALYSIS, READY_MAP, metric_crs_fits, new_city, page_checks

DISTRICTS = "hk_district_council_2001_dc_land.json"
TOILETS = "hk_fehd_public_toilets.json"
#: The toilets' rows (1-based) outside the 2001 outlines by more than 500 m.
OUTSIDE = 6


@pytest.fixture(scope="module")
def hongkong(pg_server, tmp_path_factory):
    """香港 set up by `city init`, its 18 districts and FEHD's toilets imported with the command line."""
    with new_city(pg_server, tmp_path_factory, "hongkong", (DISTRICTS, TOILETS)) as city:
        city.cli("city", "init", "--name", "香港", "--code", "810000", "--name-en", "Hong Kong")
        city.log["districts"] = city.cli("import", "admin_areas", DISTRICTS, "--level", "district",
                                         "--code-field", "DC_CODE", "--name-field", "DC_CHIN",
                                         "--name-en-field", "DC_ENG")
        city.log["toilets"] = city.cli("import", "toilets", TOILETS, "--skip-bad")
        yield city


@pytest.fixture(scope="module")
def reference(hongkong):
    """The same files read with shapely and pyproj: districts and toilets in the city's metric CRS."""
    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import Point, shape

    srid = hongkong.one("SELECT metric_srid FROM city_settings")
    to_metric = Transformer.from_crs(4326, srid, always_xy=True).transform
    areas = json.loads((hongkong.work / DISTRICTS).read_text(encoding="utf-8"))["features"]

    def metric(geom):
        return shapely.make_valid(shapely.transform(geom, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1]))))

    districts = {f["properties"]["DC_CODE"]: metric(shape(f["geometry"])) for f in areas}
    points = []
    for row in json.loads((hongkong.work / TOILETS).read_text(encoding="utf-8")):
        lat, lon = (float(v) for v in row["latitude"].split(","))
        points.append(Point(to_metric(lon, lat)))
    return districts, points


def test_hongkong_city_and_its_metric_crs(hongkong):
    """The first import chooses a metric CRS true at Hong Kong; the 18 districts are there."""
    said = hongkong.log["districts"].stdout + hongkong.log["districts"].stderr
    srid = hongkong.one("SELECT metric_srid FROM city_settings")
    assert f"EPSG:{srid}" in said, said
    metric_crs_fits(srid, 114.15, 22.35)
    shown = hongkong.cli("city", "show", "--lang", "en").stdout
    assert "香港 (Hong Kong)" in shown and "810000" in shown and "18 districts" in shown, shown
    # `city init` named no zone: the districts chose Hong Kong's, as an import without `city init` does
    assert "time zone:   Asia/Hong_Kong\n" in shown, shown
    assert dict(hongkong.sql("SELECT level, count(*) FROM admin_areas GROUP BY level")) == {"district": 18}
    assert hongkong.one("SELECT name_en FROM admin_areas WHERE code = 'T'") == "Islands"
    assert "Islands" in hongkong.cli("analyze", "coverage", "--kind", "toilets", "--by", "district",
                                     "--lang", "en").stdout


def test_hongkong_toilets_keep_their_chinese_names_and_ids(hongkong):
    """nameTC/addressTC/openHourTC feed name, address, hours (the English ones stay in attributes), mapID is
    the id: a toilet on a map, a print or an export is 香港仔大道公廁, not 公共厕所 row-3."""
    out = hongkong.log["toilets"].stdout
    assert f"写入 {810 - OUTSIDE} 行" in out and f"拒收 {OUTSIDE} 行" in out, out
    assert hongkong.one("SELECT count(*) FROM toilets WHERE name LIKE '%%row-%%' OR source_id LIKE 'row-%%'") == 0
    name, address, hours, accessible, english = hongkong.sql(
        "SELECT name, address, opening_hours, accessible, attributes->>'nameEN' FROM toilets WHERE source_id = '381'")[0]
    assert (name, address, hours, accessible) == ("香港仔大道公廁", "香港仔大道16號", "24 小時", True)
    assert english == "Aberdeen Main Road Public Toilet"
    rows = json.loads((hongkong.work / TOILETS).read_text(encoding="utf-8"))
    stored = dict(hongkong.sql("SELECT source_id, name FROM toilets"))
    assert [r["mapID"] for r in rows if r["mapID"] in stored and stored[r["mapID"]] != r["nameTC"].strip()] == []
    # Re-importing the same file updates the same rows (keyed by mapID).
    again = hongkong.cli("import", "toilets", TOILETS, "--skip-bad", "--dry-run")
    assert f"（新增 0，更新 {810 - OUTSIDE}）" in again.stdout, again.stdout


def test_hongkong_toilets_a_little_off_the_coastline_belong_to_the_nearest_district(hongkong, reference):
    """The 2001 outlines follow the coast coarsely: toilets on piers and promenades lie a few dozen metres outside
    every district, within the import's 500 m. Each takes the nearest district (a warning names its row), so a
    district's list, export and bulletin hold it; none is left without a district."""
    from shapely import STRtree

    districts, points = reference
    tree = STRtree(list(districts.values()))
    off = [k for k, p in enumerate(points) if len(tree.query(p, predicate="intersects")) == 0
           and tree.query_nearest(p, return_distance=True)[1][0] <= 500]
    assert len(off) >= 3  # the file's own points, read as the reference reads them
    assert hongkong.one("SELECT count(*) FROM toilets WHERE district_code IS NULL") == 0
    said = hongkong.log["toilets"].stdout + hongkong.log["toilets"].stderr
    placed = re.findall(r"第 (\d+) 条记录：.*在所有区域之外（容差 500 米内）：归入区/县「(\S+)」（相距 \d+ 米）", said)
    assert len(placed) == len(off), said
    codes = list(districts)
    for record, name in placed:
        point = points[int(record) - 1]
        nearest = codes[tree.query_nearest(point)[0]]
        assert hongkong.one("SELECT name FROM admin_areas WHERE code = %s", (nearest,)) == name


def test_hongkong_toilets_outside_the_2001_outlines_are_named(hongkong):
    """The 6 rejected rows are named with their distance, and written to the rejects file, its reasons in Chinese
    for the office that corrects them (in English with --lang en)."""
    said = hongkong.log["toilets"].stderr + hongkong.log["toilets"].stdout
    assert len(re.findall(r"错误：.*，第 \d+ 条记录：坐标 .* 在本市行政区以外", said)) == OUTSIDE, said
    rejects = hongkong.work / "hk_fehd_public_toilets.rejects.csv"
    with open(rejects, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == OUTSIDE and all(r["记录序号"].isdigit() for r in rows)
    assert all(re.fullmatch(r"坐标 \(.+\) 在本市行政区以外 [0-9.]+ k?m（容差 500 m，--tolerance）", r["原因"])
               for r in rows), [r["原因"] for r in rows]
    english = hongkong.work / "rejects_en.csv"
    hongkong.cli("import", "toilets", TOILETS, "--skip-bad", "--dry-run", "--lang", "en", "--rejects", english)
    with open(english, encoding="utf-8-sig", newline="") as f:
        assert [r["原因"].split(" lies ")[1].split(" outside")[0] for r in csv.DictReader(f)] == \
            [r["原因"].split("以外 ")[1].split("（")[0] for r in rows]


@pytest.fixture(scope="module")
def hk_server(hongkong):
    """The app over Hong Kong, served by uvicorn on a free port, with an admin token from `users add`."""
    from tests.chromium import serve_app

    hongkong.token = hongkong.cli("users", "add", "hk-admin", "--role", "admin").stdout.strip().splitlines()[-1]
    with serve_app(hongkong.url, extra_env={"HYGIENE_MAP_PUBLIC_POW_BITS": "0"}) as base:
        hongkong.base = base
        yield hongkong


def _covered_pct(districts: dict, points: list, radius: float = 300.0) -> dict[str, float]:
    """Per district, the % of its area within ``radius`` of a toilet: fine true circles, unioned, cut by it."""
    from shapely import STRtree
    from shapely.ops import unary_union

    discs = [p.buffer(radius, quad_segs=256) for p in points]
    tree = STRtree(discs)
    out = {}
    for code, area in districts.items():
        near = [discs[i] for i in tree.query(area)]
        covered = unary_union(near).intersection(area).area if near else 0.0
        out[code] = 100 * covered / area.area
    return out


def test_hongkong_coverage_by_district_matches_shapely(hk_server, reference):
    """Toilets within 300 m, by district: each district's covered % equal to shapely's (0.1 points), on the
    command line and over HTTP, the rule named, the city total their area-weighted sum."""
    city, (districts, points) = hk_server, reference
    expected = _covered_pct(districts, points)
    answer = city.get("/api/analysis/coverage", kind="toilets", by="district")
    assert answer.status_code == 200, answer.text
    served = answer.json()
    assert served["rule"]["id"] == "toilet_radius_mandatory" and served["radius_m"] == 300
    got = {f["properties"]["code"]: f["properties"]["covered_area_pct"] for f in served["features"]}
    assert set(got) == set(expected)
    assert all(abs(got[c] - expected[c]) < 0.1 for c in expected), {c: (got[c], expected[c]) for c in expected}
    total = sum(expected[c] * districts[c].area for c in expected) / sum(a.area for a in districts.values())
    assert served["summary"]["covered_area_pct"] == pytest.approx(total, abs=0.1)
    # Kowloon's dense old districts are far better served than the Islands.
    assert got["E"] > 40 > 10 > got["T"]
    city.cli("analyze", "coverage", "--kind", "toilets", "--by", "district", "--out", "coverage.xlsx")
    sheet = openpyxl.load_workbook(city.work / "coverage.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    table = rows[1:rows.index((None,) * len(header))]  # the notes (the standard cited) after a blank row
    assert table[-1][0] == "合计"
    written = {r[header.index("代码")]: r[header.index("覆盖面积占比（%）")] for r in table[:-1]}
    assert all(isinstance(v, float) and abs(v - expected[c]) < 0.1 for c, v in written.items()), written


def test_hongkong_analyses_without_by_answer_by_its_districts(hk_server):
    """A city of districts only: coverage (default by community) and density (by street) asked without `by`,
    as the index page's link and a first command do, answer by its 18 districts, not an empty map."""
    city = hk_server
    for name in ("coverage", "density"):
        served = city.get(f"/api/analysis/{name}", kind="toilets").json()
        assert served["by"] == "district" and len(served["features"]) == 18, (name, served.get("summary"))
    shown = city.cli("analyze", "coverage", "--kind", "toilets").stdout
    assert "合计：18 个区域" in shown and "離島區" in shown, shown
    assert "覆盖人口 —（无人口数据）" in shown and "— %" not in shown, shown  # no population: said, not "— %"
    # Asked explicitly by a level it lacks: refused with what it has and how to add it, not an empty map that
    # reads as "no gaps" — over HTTP, on the command line, and for a what-if by grid before any grid is cut.
    for name in ("coverage", "density"):
        asked = city.get(f"/api/analysis/{name}", kind="toilets", by="community")
        assert asked.status_code == 422, asked.text
        assert asked.json()["detail"].startswith("by: "), asked.text
        assert "no community areas" in asked.text and "district (18)" in asked.text, asked.text
        assert "import admin_areas" in asked.text and "--level community" in asked.text, asked.text
    refused = city.cli("analyze", "density", "--kind", "toilets", "--by", "street", check=False)
    assert refused.returncode != 0 and "本市没有 street 级区域" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    whatif = httpx.post(city.base + "/api/analysis/coverage/whatif", timeout=120,
                        json={"kind": "toilets", "by": "grid", "edits": [{"op": "add", "lon": 114.15, "lat": 22.28}]})
    assert whatif.status_code == 422 and "grids generate" in whatif.text, whatif.text


def test_hongkong_density_matches_shapely_and_says_its_basis(hk_server, reference):
    """Toilets per km² by district equal to the count in each outline over its area (the city's metric CRS);
    with no land use, the answer says the built-up band was applied to whole districts, country parks and all."""
    from shapely import STRtree

    city, (districts, points) = hk_server, reference
    tree = STRtree(points)
    served = city.get("/api/analysis/density", kind="toilets", by="district").json()
    assert served["rules"][0]["id"] == "toilet_density_city"
    for f in served["features"]:
        p = f["properties"]
        area = districts[p["code"]]
        count = sum(1 for i in tree.query(area, predicate="intersects"))
        assert p["count"] == count, (p["code"], p["count"], count)
        assert p["area_km2"] == pytest.approx(area.area / 1e6, rel=1e-4)
        assert p["per_km2"] == pytest.approx(count / (area.area / 1e6), rel=1e-4)
        assert p["basis"] == "city"
        if p["area_km2"] > 100:  # a New Territories district, mostly country park: not judged without land use
            assert (p["expected_min"], p["status"]) == (None, "unjudged"), p
            continue
        assert (p["expected_min"], p["expected_max"]) == pytest.approx((3 * p["area_km2"], 5 * p["area_km2"]))
    assert "整个区域" in served["basis_note"] and "郊野公园" in served["basis_note"], served.get("basis_note")
    english = city.get("/api/analysis/density", kind="toilets", by="district", lang="en").json()
    assert "whole area" in english["basis_note"]
    shown = city.cli("analyze", "density", "--kind", "toilets", "--by", "district").stdout
    assert "无用地数据" in shown, shown


@pytest.mark.browser
def test_hongkong_pages_draw_the_city(hk_server, browser):
    """The index page names the city and its toilets; the overview map draws districts and toilets; the
    coverage map linked from the index (no `by`) colours the 18 districts."""
    city = hk_server
    page_checks(city, browser, "/", None, "hk-index.png")
    text = browser.evaluate("document.body.innerText")
    assert "香港" in text and str(810 - OUTSIDE) in text, text
    page_checks(city, browser, "/map", READY_MAP, "hk-map.png")
    drawn = browser.evaluate("hygieneMapState.drawn")
    assert drawn.get("admin_areas", 0) > 0 and drawn.get("toilets", 0) > 0, drawn
    browser.send("Emulation.setDeviceMetricsOverride", width=1366, height=657, deviceScaleFactor=1, mobile=False)
    try:  # a laptop's screen: the legend keeps clear of the layer list and the filters above it
        page_checks(city, browser, "/map", READY_MAP, "hk-map-laptop.png")
        assert browser.evaluate(MAP_CONTROL_CLASHES) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    page_checks(city, browser, "/map/coverage", READY_ANALYSIS, "hk-coverage.png")
    assert browser.evaluate("hygieneAnalysisState.errors") == []
    assert browser.evaluate("hygieneAnalysisState.features") >= 18
    # Printed, the coverage map keeps its legend and scale and drops the buttons (zoom, login, the draft panel).
    browser.send("Emulation.setEmulatedMedia", media="print")
    try:
        shown = browser.evaluate("['.leaflet-control-zoom', '.hm-session', '.hm-whatif', '.hm-legend', "
                                 "'.leaflet-control-scale'].map(function (s) { var e = document.querySelector(s);"
                                 " return e ? getComputedStyle(e).display !== 'none' : null; })")
        assert shown == [False, False, False, True, True], shown
    finally:
        browser.send("Emulation.setEmulatedMedia", media="")


@pytest.mark.browser
def test_hongkong_whatif_on_the_districts_map(hk_server, browser):
    """A city of districts only drafts on its districts: the coverage map opens with the 规划草案 panel, a toilet
    placed with the mouse in Central and Western raises that district's covered share, and the what-if route
    answers by district (by the city's finest level only: see the plan test once communities exist)."""
    from tests.test_whatif_browser import READY, _mouse, _wait

    city = hk_server
    report = browser.open(city.base + "/map/coverage?kind=toilets", ready_js=READY, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    assert "规划草案" in browser.evaluate("document.querySelector('.hm-whatif').innerText")
    shown = browser.evaluate("hygieneCoverageLayers.areas['A'].feature.properties.covered_area_pct")
    time.sleep(1.0)  # the map's zoom to the areas has ended
    browser.evaluate("document.getElementById('hm-whatif-add').click()")
    at = browser.evaluate("hygieneWhatIfState.pixel(114.1500, 22.2800)")  # the Mid-Levels
    _mouse(browser, "mousePressed", at["x"], at["y"])
    _mouse(browser, "mouseReleased", at["x"], at["y"])
    _wait(browser, "hygieneWhatIfState.answers >= 1 && !hygieneWhatIfState.pending")
    assert browser.evaluate("hygieneWhatIfState.errors") == []
    assert browser.evaluate("hygieneWhatIfState.areas['A']") > shown
    answer = httpx.post(city.base + "/api/analysis/coverage/whatif", timeout=120, json={
        "kind": "toilets", "by": "district", "edits": [{"op": "add", "lon": 114.15, "lat": 22.28}]})
    assert answer.status_code == 200, answer.text
    assert [a["code"] for a in answer.json()["areas"]] == ["A"]


def test_hongkong_exports_read_back(hk_server):
    """XLSX: Chinese headers, the names, lon/lat as numbers under headers naming WGS84; GeoPackage and GeoJSON read by GDAL with every
    toilet; the OGC API listed and counted by `ogrinfo`."""
    city = hk_server
    city.cli("export", "toilets", "--format", "xlsx", "--out", "toilets.xlsx")
    rows = list(openpyxl.load_workbook(city.work / "toilets.xlsx").active.iter_rows(values_only=True))
    header = rows[0]
    assert {"名称", "地址", "开放时间", "经度(WGS84)", "纬度(WGS84)"} <= set(header), header
    by_id = {r[header.index("编号")]: r for r in rows[1:]}
    assert len(by_id) == 810 - OUTSIDE
    aberdeen = by_id["381"]
    assert aberdeen[header.index("名称")] == "香港仔大道公廁"
    lon, lat = aberdeen[header.index("经度(WGS84)")], aberdeen[header.index("纬度(WGS84)")]
    assert isinstance(lon, float) and 114.1 < lon < 114.2 and isinstance(lat, float) and 22.2 < lat < 22.3
    for fmt in ("gpkg", "geojson"):
        city.cli("export", "toilets", "--format", fmt, "--out", f"toilets.{fmt}")
        info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(city.work / f"toilets.{fmt}")],
                              capture_output=True, text=True, timeout=60)
        assert info.returncode == 0, info.stderr
        assert f"Feature Count: {810 - OUTSIDE}" in info.stdout, info.stdout
    ogc = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{city.base}/ogc", "toilets"], capture_output=True,
                         text=True, timeout=120)
    assert ogc.returncode == 0, ogc.stderr
    assert f"Feature Count: {810 - OUTSIDE}" in ogc.stdout, ogc.stdout


def test_hongkong_before_streets_a_district_asked_for_as_a_street_is_named_as_such(hk_server):
    """A city of districts only (before hk_grids imports streets): printing or gridding district A says that A is a
    district (中西區) and that streets are to be imported first — on the command line, in the API, and on a page in
    Chinese — instead of "street 'A' does not exist"."""
    city = hk_server
    assert city.one("SELECT count(*) FROM admin_areas WHERE level = 'street'") == 0
    for argv in (("print", "atlas", "--street", "A", "--out", "a.pdf"), ("grids", "generate", "--street", "A", "--size", "400")):
        said = city.cli(*argv, check=False)  # in Chinese by default
        assert said.returncode != 0 and "Traceback" not in said.stderr, said.stderr
        assert said.stderr.startswith("hygiene-map：错误：") and "：“A”是区（中西區），不是街道；本市尚未导入街道" in said.stderr
        assert "--level street" in said.stderr
        said = city.cli(*argv, "--lang", "en", check=False)
        assert "'A' is a district (中西區), not a street; this city has no streets yet" in said.stderr, said.stderr
        assert "--level street" in said.stderr
    page = httpx.get(city.base + "/map/grids", params={"street": "A"}, headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 404 and "“A”是区（中西區），不是街道；本市尚未导入街道" in page.text, page.text
    english = httpx.get(city.base + "/map/grids", params={"street": "A", "lang": "en"},
                        headers={"Accept": "text/html"}, timeout=60)
    assert english.status_code == 404 and "'A' is a district (中西區), not a street" in html.unescape(english.text)
    answer = city.get("/api/grids", street="A")
    assert answer.status_code == 404 and answer.json()["detail_zh"].startswith("street：“A”是区"), answer.text


@pytest.fixture(scope="module")
def hk_grids(hk_server):
    """Central and Western cut into grids: the districts file imported again as the street level, and each
    district as its one community (the file has no finer level), then 400 m grids of street 11."""
    city = hk_server
    city.cli("import", "admin_areas", DISTRICTS, "--level", "street", "--code-field", "DC", "--name-field",
             "DC_CHIN", "--parent-field", "DC_CODE", "--source", "hk_dc_streets")
    collection = json.loads((city.work / DISTRICTS).read_text(encoding="utf-8"))
    for f in collection["features"]:
        f["properties"]["COMMUNITY"] = f["properties"]["DC"] + "1"
    (city.work / "hk_communities.json").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    city.cli("import", "admin_areas", "hk_communities.json", "--level", "community", "--code-field", "COMMUNITY",
             "--name-field", "DC_CHIN", "--parent-field", "DC")
    city.log["grids"] = city.cli("grids", "generate", "--street", "11", "--size", "400")
    return [code for (code,) in city.sql("SELECT code FROM grids WHERE street_code = '11' ORDER BY code")]


def test_hongkong_grid_sheet_lists_its_toilets_by_name(hk_server, hk_grids):
    """A complaint filed over the API is routed to its grid; that grid's printed sheet lists the grid's toilets
    by their names and the complaint, and the page is drawn (not blank) when rendered as a picture."""
    city = hk_server
    grid, count = city.sql("SELECT g.code, count(*) FROM grids g JOIN toilets t ON ST_Contains(g.geom, t.geom) "
                           "WHERE g.street_code = '11' GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 1")[0]
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                        "WHERE code = %s", (grid,))[0]
    filed = httpx.post(city.base + "/api/complaints", headers={"Authorization": f"Bearer {city.token}"},
                       json={"lon": lon, "lat": lat, "category": "暴露垃圾", "source": "1823",
                             "description": "街市後巷垃圾"}, timeout=30)
    assert filed.status_code == 201 and filed.json()["grid_code"] == grid, filed.text
    city.cli("print", "grid", grid, "--out", "grid.pdf", timeout=300)
    assert "9 digits" not in city.cli("print", "atlas", "--help").stdout  # Hong Kong's street codes have 2
    text = subprocess.run(["pdftotext", str(city.work / "grid.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    names = [n for (n,) in city.sql("SELECT t.name FROM toilets t JOIN grids g ON ST_Contains(g.geom, t.geom) "
                                    "WHERE g.code = %s", (grid,))]
    assert len(names) == count >= 2 and all(n in text for n in names), (names, text)
    assert "row-" not in text and "中西區" in text and "暴露垃圾" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(city.work / "grid.pdf"),
                    str(city.work / "grid")], check=True)
    from PIL import Image

    picture = Image.open(next(city.work.glob("grid*.png"))).convert("L")
    dark = sum(picture.histogram()[:128]) / (picture.width * picture.height)
    assert 0.01 < dark < 0.5, dark  # lines, labels and the map, on white paper


def test_hongkong_whatif_and_a_saved_plan(hk_server, hk_grids):
    """A toilet added where Central and Western has none near: the what-if raises that community's covered %
    by about one disc; saved as a plan, its comparison XLSX has Chinese headers and numbers as numbers."""
    city = hk_server
    lon, lat = 114.1500, 22.2800  # the Mid-Levels, within Central and Western
    edits = [{"op": "add", "lon": lon, "lat": lat}]
    answer = httpx.post(city.base + "/api/analysis/coverage/whatif", json={"kind": "toilets", "edits": edits},
                        headers={"Authorization": f"Bearer {city.token}"}, timeout=120)
    assert answer.status_code == 200, answer.text
    changed = {a["code"]: a for a in answer.json()["areas"]}
    assert set(changed) == {"111"}, changed
    area_km2 = city.one("SELECT ST_Area(ST_Transform(geom, (SELECT metric_srid FROM city_settings))) / 1e6 "
                        "FROM admin_areas WHERE code = '111'")
    gain = changed["111"]["covered_area_pct"] - changed["111"]["covered_area_pct_before"]
    assert 0 < gain <= 100 * 0.2827 / area_km2 + 1e-6, gain  # at most one 300 m disc (0.283 km²)
    refused = httpx.post(city.base + "/api/analysis/coverage/whatif", timeout=120,
                         json={"kind": "toilets", "by": "district", "edits": edits})
    assert refused.status_code == 422 and "finest" in refused.text  # the city has communities now
    saved = httpx.post(city.base + "/api/plans", headers={"Authorization": f"Bearer {city.token}"}, timeout=120,
                       json={"name": "半山公廁", "kind": "toilets", "by": "community", "edits": edits})
    assert saved.status_code == 201, saved.text
    book = city.get(f"/api/plans/{saved.json()['id']}/compare", format="xlsx")
    assert book.status_code == 200
    (city.work / "plan.xlsx").write_bytes(book.content)
    rows = list(openpyxl.load_workbook(city.work / "plan.xlsx").active.iter_rows(values_only=True))
    assert any(isinstance(c, str) and "覆盖" in c for c in rows[1]), rows[1]
    assert any(isinstance(c, float) for c in rows[2]), rows[2]


@pytest.mark.browser
def test_hongkong_hotspots_of_a_few_complaints_say_so(hk_server, browser):
    """A resident's report through the public channel, then the hot-spot map: with a handful of complaints
    the cells near them come out "99 %" hot, so the answer, the command and the page's legend warn."""
    city = hk_server
    challenge = city.get("/api/public/challenge").json()
    assert challenge["bits"] == 0
    filed = httpx.post(city.base + "/api/public/reports", timeout=30, json={
        "lon": 114.1722, "lat": 22.2975, "category": "垃圾满溢", "description": "尖沙咀海旁垃圾桶滿了",
        "challenge": challenge["challenge"], "nonce": "0"})
    assert filed.status_code == 201, filed.text
    n = city.one("SELECT count(*) FROM complaints")
    assert 1 <= n < 30
    served = city.get("/api/analysis/hotspots").json()
    assert served["summary"]["complaints"] == n
    assert served["warning"] and f"{n} 件" in served["warning"], served.get("warning")
    assert "not reliable" in city.get("/api/analysis/hotspots", lang="en").json()["warning"]
    assert "热点置信度不可靠" in city.cli("analyze", "hotspots").stdout
    page_checks(city, browser, "/map/hotspots", READY_ANALYSIS, "hk-hotspots.png")
    assert "热点置信度不可靠" in browser.evaluate("document.querySelector('.hm-legend').innerText")


def test_hongkong_siting_without_roads_land_use_or_population(hk_server):
    """Siting in a city of outlines and toilets only: the objective is area (the label says the areas stand in
    for residential land), candidates on the demand lattice; each site newly covers about one 300 m disc at most,
    and the city's covered share before is the coverage map's."""
    city = hk_server
    served = city.get("/api/analysis/siting", kind="toilets", add=3).json()
    assert served["objective"] == "area" and served["candidates_on"] == "lattice"
    assert "辖区面积" in served["objective_label"], served["objective_label"]
    sites = served["features"]
    assert len(sites) == 3
    # Measured as coverage measures (the greedy's 50 m lattice only chooses): at most one disc, πr², each.
    assert all(0 < f["properties"]["new_area_m2"] <= math.pi * 300**2 * (1 + 1e-6) for f in sites), sites
    coverage = city.get("/api/analysis/coverage", kind="toilets", by="district").json()["summary"]
    assert served["before"]["pct"] == pytest.approx(coverage["covered_area_pct"], abs=0.01)
    assert served["after"]["pct"] > served["before"]["pct"]
