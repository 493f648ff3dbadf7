"""New York as a planner types it: the commands and pages as the README gives them, on the real files (the
boroughs, community districts and neighbourhoods; the 311 day of 28 February 2023, whose hygiene requests were
made between 11:31 and 23:41 New York time; MN03 cut into grids)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.new_york import SAMPLE, STREET, outlines
from tests.real_city import new_city

FILES = ("boundaries/nybb.shp", "boundaries/nycdta2020.shp", "boundaries/nynta2020.shp", "boundaries/nycd.shp", SAMPLE, "nyc_farmers_markets_2023season.csv",
         "nyc_dsny_litter_baskets.csv", "nyc_public_restrooms_20241203.csv")


@pytest.fixture(scope="module")
def newyork(pg_server, tmp_path_factory):
    """纽约's outlines, the 311 day's requests and MN03's 400 m grids, through the command line."""
    with new_city(pg_server, tmp_path_factory, "nyc", FILES) as city:
        outlines(city)
        city.cli("import", "complaints", SAMPLE, "--skip-bad")
        city.cli("import", "garbage_stations", "nyc_dsny_litter_baskets.csv")
        city.cli("grids", "generate", "--street", STREET, "--size", "400")
        yield city


@pytest.fixture(scope="module")
def served(newyork):
    from tests.chromium import serve_app

    with serve_app(newyork.url) as base:
        newyork.base = base
        yield newyork


def test_analyze_reads_times_in_the_city_zone(newyork):
    """`analyze hotspots --since 2023-02-28 --until 2023-03-01` is New York's 28 February, as the route reads it:
    every request of the day, not the Shanghai day (which ends at 11:00 in New York, before the first of them)."""
    assert newyork.one("SELECT time_zone FROM city_settings") == "America/New_York"
    done = newyork.cli("analyze", "hotspots", "--since", "2023-02-28", "--until", "2023-03-01", "--cell", "500",
                       "--limit", "1")
    day = newyork.one("SELECT count(*) FROM complaints WHERE reported_at >= '2023-02-28T00:00-05:00' "
                      "AND reported_at < '2023-03-01T00:00-05:00'")
    assert day == newyork.one("SELECT count(*) FROM complaints") > 300
    assert f"投诉 {day:,} 件" in done.stdout, done.stdout


def test_hot_spots_on_100_m_hexagons_over_the_whole_city(newyork):
    """A planner asks for 100 m hexagons over New York (some 30,000 cells against the boroughs' 82,000-vertex
    coastline; cell by cell in PostGIS this ran past the 30 s statement time-out): the map comes back, its cells
    cover the boroughs' outline (read from the shapefile by geopandas) within the study area — the rectangle
    around the complaints' cells, widened by one cell — and each touches it, every request counted."""
    import geopandas as gpd
    import shapely

    out = newyork.work / "hot100.geojson"
    done = newyork.cli("analyze", "hotspots", "--cell", "100", "--out", str(out), "--limit", "1")
    found = gpd.read_file(out).to_crs(32618)
    outline = gpd.read_file(newyork.work / "nybb.shp").to_crs(32618).make_valid().union_all()
    cells = found.geometry.values
    assert 25_000 < len(cells) < 40_000 and f"六边形 {len(cells):,} 个" in done.stdout, done.stdout
    assert shapely.intersects(outline, cells).all()
    centres = shapely.centroid(cells[(found["count"] > 0).to_numpy()])
    x, y = shapely.get_x(centres), shapely.get_y(centres)
    reach = 3**0.5 * 100 - 100  # the study area's margin, less the cell that may straddle its edge
    area = shapely.box(x.min() - reach, y.min() - reach, x.max() + reach, y.max() + reach)
    assert outline.intersection(area).difference(shapely.union_all(cells)).area < 1e-6 * outline.area
    assert found["count"].sum() == newyork.one("SELECT count(*) FROM complaints")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_index_links_an_atlas_only_where_the_street_has_grids(served, lang):
    """The index offers a street's atlas where it has grids (MN03), in the page's language; the 70 community
    districts without grids say so instead of linking a print that can only be refused (422, in English). It
    links the bulletins' page too, the campaign office's."""
    page = httpx.get(served.base + "/", params={"lang": lang}, timeout=60).text
    links = re.findall(r'href="(/print/streets/[^"]+)"', page)
    assert links == [f"/print/streets/{STREET}/atlas.pdf" + ("?lang=en" if lang == "en" else "")]
    rows = dict(re.findall(r'<tr data-street="([^"]+)">(.*?)</tr>', page))
    assert len(rows) == 71
    without = [code for code, row in rows.items() if "data-no-grids" in row]
    assert len(without) == 70 and STREET not in without
    assert ("尚未划分网格" if lang == "zh" else "no grids yet") in rows["QN83"]
    assert f'href="/reports{"?lang=en" if lang == "en" else ""}"' in page  # the office's bulletins
    atlas = httpx.get(served.base + links[0], timeout=300)
    assert atlas.status_code == 200 and atlas.content.startswith(b"%PDF")


def test_route_print_names_its_own_parameter(served):
    """`/print/streets/MN03/route.pdf?top=50` is refused naming `top`, the route's parameter (not the command's
    `--top`), in Chinese too for the page a browser gets."""
    answer = httpx.get(served.base + f"/print/streets/{STREET}/route.pdf", params={"top": 50}, timeout=60)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("top: must be between 1 and 40"), answer.json()
    assert answer.json()["detail_zh"].startswith("top：须在 1 到 40 之间"), answer.json()


def test_english_bulletin_workbook_gives_every_unit_in_english(newyork):
    """`report bulletin --lang en` of New York's week: the Definitions sheet's units are English, the change of
    covered share's too ('percentage points', not 个百分点)."""
    import openpyxl

    newyork.cli("report", "bulletin", "--period", "week", "--date", "2023-02-28", "--lang", "en",
                "--out", "week-en.xlsx")
    sheet = openpyxl.load_workbook(newyork.work / "week-en.xlsx")["Definitions"]
    units = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert units["Change of covered share"] == "percentage points"
    assert not [u for u in units.values() if u and re.search("[\u4e00-\u9fff]", u)], units


def test_gdal_reads_one_complaint_by_its_id(served):
    """`ogrinfo OAPIF:…/ogc complaints -fid N` (GDAL's OGC API reader, as the README's GDAL section uses it) finds
    the feature: GDAL appends the id to the collection's items link, which must not carry a query (items?f=json/N
    was a 400)."""
    import shutil
    import subprocess

    if shutil.which("ogrinfo") is None:
        pytest.skip("gdal-bin (ogrinfo) is not installed")
    fid, key = served.sql("SELECT id, source_id FROM complaints ORDER BY id DESC LIMIT 1")[0]
    done = subprocess.run(["ogrinfo", f"OAPIF:{served.base}/ogc", "complaints", "-fid", str(fid)],
                          capture_output=True, text=True, timeout=120)
    assert f"OGRFeature(complaints):{fid}" in done.stdout, done.stdout[-2000:] + done.stderr
    assert "ERROR" not in done.stderr, done.stderr
    assert f"category (String) = {served.one('SELECT category FROM complaints WHERE id = %s', (fid,))}" \
        in done.stdout, (key, done.stdout[-2000:])


def test_gbk_shapefile_refuses_what_gbk_cannot_hold(served):
    """A finding noted on a phone with an emoji (😡), exported as a GBK shapefile for an old desktop GIS: refused
    before anything is written, naming the column and the character (GDAL dropped it without a word); UTF-8 keeps
    it."""
    import shutil
    import subprocess
    import zipfile

    token = served.cli("users", "add", "ny-office", "--role", "admin").stdout.strip().split()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    made = httpx.post(served.base + "/api/inspections/rounds", headers=auth, timeout=60, json={
        "name": "曼哈顿第3社区周检查", "kind": "周检查", "streets": [STREET], "starts": "2023-02-27",
        "ends": "2023-03-06"})
    assert made.status_code == 201, made.text
    lon, lat = served.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                          "WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))[0]
    note = "Bags piled by the basket 😡"
    found = httpx.post(served.base + "/api/inspections/findings", headers=auth, timeout=60, json={
        "round_id": made.json()["id"], "lon": lon, "lat": lat, "item": "GBG-01", "note": note,
        "observed_at": "2023-02-28T10:30", "client_id": "ny-gbk"})
    assert found.status_code == 201, found.text
    refused = served.cli("export", "inspection_findings", "--format", "shp", "--encoding", "gbk", "--out", "f.zip",
                         check=False)
    assert refused.returncode == 2 and "gbk 无法表示 inspection_findings 中的全部字符：description 列 1 行（首个：第 1 个要素，编号 " \
        in refused.stderr and "：'😡'）" in refused.stderr, refused.stderr
    assert not (served.work / "f.zip").exists()
    served.cli("export", "inspection_findings", "--format", "shp", "--out", "f.zip")
    if shutil.which("ogrinfo"):
        folder = served.work / "f"
        zipfile.ZipFile(served.work / "f.zip").extractall(folder)
        shown = subprocess.run(["ogrinfo", "-al", "-q", str(folder)], capture_output=True, text=True).stdout
        assert note in shown, shown


def test_balanced_zones_of_mn03_have_no_grid_across_the_water(newyork):
    """MN03's outline has islets in the East River (0.03–0.15 ha, touching the shore at most at a point): each is now
    a piece of the nearest 400 m grid, not a grid of its own with no workload; so every grid touches another, and
    `grids balance --zones 3` makes three zones with work and names no island (the balancer's handling of a grid
    across the water is checked in tests/test_grids_geo.py)."""
    isolated = [code for (code,) in newyork.sql(
        "SELECT a.code FROM grids a WHERE a.street_code = %s AND NOT EXISTS (SELECT 1 FROM grids b WHERE "
        "b.street_code = a.street_code AND b.code <> a.code AND ST_Intersects(a.geom, b.geom)) ORDER BY a.code",
        (STREET,))]
    assert isolated == []
    done = newyork.cli("grids", "balance", "--street", STREET, "--zones", "3", "--lang", "en")
    zones = re.findall(r"zone \d+: (\d+) grids, workload (\d+)", done.stdout)
    assert len(zones) == 3 and all(int(n) > 2 and int(load) > 0 for n, load in zones), done.stdout
    assert "touch no other grid" not in done.stdout, done.stdout


def test_analyze_errors_name_the_option_typed(newyork):
    """A refusal of `analyze hotspots` names the option as typed on the command line (--cell, --per-population),
    not the route's query parameter (cell, per_population)."""
    for words, said in ((("--cell", "5"), "--cell: must be between 25 and 5000 metres"),
                        (("--per-population", "--cell", "1000"), "--per-population: no admin area (community, street or district) has a population")):
        done = newyork.cli("analyze", "hotspots", *words, "--lang", "en", check=False)
        assert done.returncode == 2 and f"error: {said}" in done.stderr, done.stderr


def test_a_repeated_row_is_named_with_the_row_it_repeats(newyork):
    """The restrooms file (no id column) holds four rows repeating earlier ones: each warning names the earlier
    row too, as the spreadsheet numbers it (Heckscher Playground: rows 229 and 298)."""
    import csv

    done = newyork.cli("import", "toilets", "nyc_public_restrooms_20241203.csv", "--dry-run")
    said = re.findall(r"第 (\d+) 行：与第 (\d+) 行的值完全相同（重复？）", done.stdout + done.stderr)
    with open(newyork.work / "nyc_public_restrooms_20241203.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))  # rows[0] is the header, the spreadsheet's row 1
    assert len(said) == 4 and ("298", "229") in said, done.stdout + done.stderr
    assert all(rows[int(later) - 1] == rows[int(first) - 1] and int(first) < int(later) for later, first in said)


def test_an_analysis_of_a_street_by_a_coarser_level_is_refused(served):
    """`coverage?street=MN03&by=district` (and density's) answered no area at all, and density said the standard
    set no toilet density; refused instead, naming `by` and what to ask, in Chinese for the page too."""
    for name in ("coverage", "density"):
        answer = httpx.get(f"{served.base}/api/analysis/{name}", timeout=120,
                           params={"kind": "toilets", "street": STREET, "by": "district"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith("by: no district area's code starts with 'MN03'"), answer.text
        assert "街道、社区或网格" in answer.json()["detail_zh"], answer.text
        done = served.cli("analyze", name, "--kind", "toilets", "--street", STREET, "--by", "district", check=False)
        assert done.returncode == 2 and "--by：没有代码以“MN03”开头的区" in done.stderr, done.stdout + done.stderr
        done = served.cli("analyze", name, "--kind", "toilets", "--street", STREET, "--by", "district", "--lang", "en",
                          check=False)
        assert done.returncode == 2 and "--by: no district area" in done.stderr, done.stdout + done.stderr
    communities = httpx.get(f"{served.base}/api/analysis/coverage", timeout=120,
                            params={"kind": "toilets", "street": STREET, "by": "community"}).json()
    assert len(communities["features"]) == 3


def test_admin_areas_without_a_name_column_name_the_option_that_says_it(newyork):
    """The community districts' shapefile has no name column (BoroCD only): the refusal names --name-field, the
    option an admin-area import names its columns with, beside --mapping; nothing is written."""
    before = newyork.one("SELECT count(*) FROM admin_areas")
    done = newyork.cli("import", "admin_areas", "nycd.shp", "--level", "street", "--code-field", "BoroCD",
                       "--dry-run", check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    said = done.stderr + done.stdout
    assert "缺少必填的“名称”列；请把表头写作 名称，或用 --name-field 指明" in said, said  # in Chinese by default
    assert "BoroCD" in said  # the file's columns are listed
    english = newyork.cli("import", "admin_areas", "nycd.shp", "--level", "street", "--code-field", "BoroCD",
                          "--dry-run", "--lang", "en", check=False).stderr
    assert "no column for the required name (名称)" in english and "say which with --name-field (or --mapping)" in english
    assert newyork.one("SELECT count(*) FROM admin_areas") == before


def test_an_atlas_of_a_street_without_grids_is_refused_in_both_languages(served):
    """BK04 has no grids: its atlas, typed as an address, is a 422 saying so and what to do, in Chinese too (the
    index no longer links it)."""
    answer = httpx.get(served.base + "/print/streets/BK04/atlas.pdf", timeout=60)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert "street BK04 has no grids" in body["detail"]
    assert "街道 BK04 尚未划分网格" in body["detail_zh"] and "hygiene-map grids generate" in body["detail_zh"]


def test_emerging_hot_spots_of_one_day_blame_the_data_not_an_unsent_since(served):
    """311's single day asked for emerging hot spots without since: the refusal names emerging and says the window
    from that day to last month is so many calendar months, one with complaints (it named since, which was not sent, and
    said the complaints "span 1"); with since, it names since."""
    from datetime import datetime

    from tests.new_york import NY

    answer = httpx.get(served.base + "/api/analysis/hotspots", params={"emerging": 1}, timeout=120)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    # No data time: the window runs to last month (today's, unfinished and without a complaint, is left out).
    now = datetime.now(NY)
    now = now.replace(year=now.year - 1, month=12) if now.month == 1 else now.replace(day=1, month=now.month - 1)
    n = (now.year - 2023) * 12 + now.month - 1
    assert body["detail"] == ("emerging: emerging hotspots need complaints in at least 4 months; the window from the "
                              f"first complaint spans {n} calendar months (2023-02 … {now:%Y-%m}), only 1 of them "
                              "with complaints")
    assert body["detail_zh"] == (f"emerging：新兴热点分析至少需要 4 个月有投诉，自第一件投诉起的时段共 {n} 个自然月"
                                 f"（2023-02 … {now:%Y-%m}），其中只有 1 个月有投诉")
    windowed = httpx.get(served.base + "/api/analysis/hotspots", params={"emerging": 1, "since": "2023-01-01"},
                         timeout=120)
    assert windowed.status_code == 422 and windowed.json()["detail"].startswith("since: "), windowed.text


def test_a_market_with_its_longitude_left_at_zero_is_refused_naming_the_column(newyork):
    """NYC's farmers markets: row 67's Longitude is -0.00008 (its Latitude New York's): refused naming the
    Longitude column and what it likely is, in Chinese in the rejects file, not as a point 6,880 km away."""
    done = newyork.cli("import", "markets", "nyc_farmers_markets_2023season.csv", "--skip-bad", "--dry-run")
    line = next(x for x in done.stdout.splitlines() if "，第 67 行" in x)
    assert line == ("错误：nyc_farmers_markets_2023season.csv，第 67 行，Longitude 列：经度 -0.000080 约为 0，"
                    "点在本市以外（空单元格被填了零？）"), line
    english = newyork.cli("import", "markets", "nyc_farmers_markets_2023season.csv", "--dry-run", "--lang", "en",
                          check=False).stdout
    line = next(x for x in english.splitlines() if ", row 67" in x)
    assert line == ("error: nyc_farmers_markets_2023season.csv, row 67, column Longitude: longitude -0.000080 is about "
                    "0, which puts the point outside the city (an empty cell filled with zero?)"), line
    rejects = (newyork.work / "nyc_farmers_markets_2023season.rejects.csv").read_text(encoding="utf-8-sig")
    assert "Longitude：经度 -0.000080 约为 0，点在本市以外（空单元格被填了零？）" in rejects


def test_errors_are_said_in_chinese_unless_english_is_typed(newyork):
    """A refusal that has its Chinese words says them (the command's default language), in English with --lang en;
    a statement time-out says what it is and what to do, not PostgreSQL's "canceling statement"."""
    import os
    import subprocess

    from tests.real_city import CLI, REPO

    said = {lang: newyork.cli("analyze", "hotspots", "--since", "2030-01-01", *(["--lang", lang] if lang else []),
                              check=False) for lang in (None, "zh", "en")}
    assert {done.returncode for done in said.values()} == {2}
    assert said[None].stderr == said["zh"].stderr == "hygiene-map：错误：该时段和类别下没有投诉，无法计算热点\n"
    assert said["en"].stderr == "hygiene-map: error: no complaints match this time window and categories\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    env.update(DATABASE_URL=newyork.url, PYTHONPATH=str(REPO), HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS="1")
    late = subprocess.run([*CLI, "analyze", "hotspots", "--cell", "100"], cwd=newyork.work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert late.returncode == 2
    assert late.stderr == "hygiene-map：错误：数据库查询超时，已取消（HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS）；请缩小查询范围\n"
