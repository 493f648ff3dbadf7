"""A real city from nothing, end to end, on the real files (issue 14), as a user would build it.

Everything goes through the `hygiene-map` command (a subprocess, as typed in a
shell) and the HTTP API and pages of a real server (uvicorn), over a new
database in the tests' PostGIS: no demo, no row written by the test itself
except through those two doors.

**Taipei** (data.taipei, Open Government Data License, Taiwan 1.0): import the
districts and villages → the first import establishes the city (`city show`) →
toilets and garbage-truck stops → grids of one district office → a roster
filled in and loaded back → complaints (a file, and POSTs with a token from
`users add`) → every analysis of ``layers.analysis.registry.ANALYSES`` on the
command line and over HTTP → every page in Chromium → a street atlas (PDF) →
OGC API (paging, GDAL) → export in every format and re-import into the
populated city.

Taipei's levels: 市 → 區 (12 districts) → 里 (456 villages). There is no 街道;
the 區公所 (district office) is the government office that runs the 里, the
role a 街道办 plays for 社区, and the grids and rosters are its work. So the
districts file is imported twice, as it would be by a user: as the district
level (code ``CPID``, 5 digits: 63006) and, under its own ``--source``, as the
street level (code ``CPTID``, 7 digits: 6300600, parent ``CPID``), and the
villages hang under the street (``CPTVID``, parent ``CPTID``). This needs
codes that are not 9 digits to work everywhere (issue 14, item 3).

The city is built once for the module (tests/real_city.py's fixtures); each test then checks one
capability, so a failure names the step that broke.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
from datetime import datetime

import httpx
import pytest

from layers.analysis.registry import ANALYSES
from layers.io.export import FORMATS
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    ARTIFACTS,
    READY_ANALYSIS,
    READY_GRIDS,
    READY_MAP,
    TAIPEI_STREET,
    City,
    log_in,
    metric_crs_fits,
    page_checks,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
)


def test_taipei_first_import_establishes_the_city(taipei):
    """The first admin-area import creates the city and says so; `city show` names its metric CRS."""
    said = (taipei.log["first_import"].stdout + taipei.log["first_import"].stderr).lower()
    assert "city" in said or "城市" in said, said
    shown = taipei.cli("city", "show").stdout
    srid = taipei.one("SELECT metric_srid FROM city_settings")
    assert str(srid) in shown, shown
    metric_crs_fits(srid, 121.55, 25.05)
    taipei.cli("city", "set", "--name", "臺北市")
    assert "臺北市" in taipei.cli("city", "show").stdout


def test_taipei_levels_and_facilities_are_routed(taipei):
    levels = dict(taipei.sql("SELECT level, count(*) FROM admin_areas GROUP BY level"))
    assert levels == {"district": 12, "street": 12, "community": 456}
    assert "1,544" in taipei.log["toilets"].stdout and "4,024" in taipei.log["garbage"].stdout
    # Every toilet inside Taipei knows its district office and village.
    unrouted = taipei.one("SELECT count(*) FROM toilets WHERE street_code IS NULL OR community_code IS NULL")
    assert unrouted < 20, unrouted  # a few lie on the river banks, within the 500 m tolerance
    assert taipei.one("SELECT count(*) FROM toilets WHERE street_code = %s", (TAIPEI_STREET,)) > 20


def test_taipei_grids_cover_the_district_office_and_are_assigned(taipei, taipei_grids):
    assert len(taipei_grids) > 20
    assert f"changed {len(taipei_grids)} grid(s)" in taipei.log["assign"].stdout
    # The grids partition the villages: same area (to 0.5 %), and every grid has its unit, manager and phone.
    grid_km2, street_km2 = taipei.sql(
        "SELECT (SELECT sum(ST_Area(geom::geography)) FROM grids WHERE street_code = %s) / 1e6, "
        "(SELECT sum(ST_Area(geom::geography)) FROM admin_areas WHERE level = 'community' AND parent_code = %s) / 1e6",
        (TAIPEI_STREET, TAIPEI_STREET))[0]
    assert grid_km2 == pytest.approx(street_km2, rel=0.005)
    unassigned = taipei.one("SELECT count(*) FROM grids WHERE responsible_unit IS NULL OR grid_manager IS NULL "
                            "OR phone IS NULL")
    assert unassigned == 0



def test_taipei_complaints_are_routed_to_their_grids(taipei_server, taipei_complaints):
    city = taipei_server
    assert "写入 400 行" in city.log["complaints"].stdout, city.log["complaints"].stdout
    in_grids = city.one("SELECT count(*) FROM complaints WHERE grid_code IS NOT NULL")
    assert in_grids >= 200  # the 200 at 大同區's stops, and the 5 posted ones
    for complaint in taipei_complaints:
        assert (complaint.get("grid_code") or "").startswith(TAIPEI_STREET), complaint
    listed = city.get("/api/complaints", street=TAIPEI_STREET, limit=1000)
    assert listed.status_code == 200 and len(listed.json()["items"]) >= 205


def test_taipei_complaint_tiles_hold_the_complaints_in_them(taipei_server, taipei_complaints):
    """A z16 tile of Taipei's complaints, as a map asks for it (no credentials) and as staff do (a token):
    the complaints whose points lie in the tile, public columns only for the map, times as whole seconds."""
    import mapbox_vector_tile

    city = taipei_server
    (z, x, y, n), = city.sql("""SELECT 16, tx, ty, count(*) FROM (
        SELECT floor((ST_X(geom) + 180) / 360 * 65536)::int AS tx,
               floor((1 - asinh(tan(radians(ST_Y(geom)))) / pi()) / 2 * 65536)::int AS ty FROM complaints) c
        GROUP BY tx, ty ORDER BY count(*) DESC, tx, ty LIMIT 1""")
    assert n >= 2

    def ids_within(metres: float) -> set[int]:  # the tile's envelope grown (or shrunk, < 0) by some metres
        return {r[0] for r in city.sql("SELECT id FROM complaints WHERE ST_Intersects(ST_Transform(geom, 3857), "
                                       "ST_Expand(ST_TileEnvelope(%s, %s, %s), %s))", (z, x, y, metres))}

    anonymous = httpx.get(f"{city.base}/tiles/complaints/{z}/{x}/{y}.pbf", timeout=30)
    assert anonymous.status_code == 200 and anonymous.headers["cache-control"].startswith("public")
    features = mapbox_vector_tile.decode(anonymous.content)["complaints"]["features"]
    in_tile = {f["id"] for f in features}
    assert ids_within(-1.0) <= in_tile <= ids_within(40.0) and len(in_tile) >= n
    assert all("description" not in f["properties"] for f in features)  # the description is personal
    times = dict(city.sql("SELECT id, floor(extract(epoch FROM reported_at))::bigint FROM complaints "
                          "WHERE id = ANY(%s)", (sorted(in_tile),)))
    assert {f["id"]: f["properties"]["reported_at"] for f in features} == times
    staff = httpx.get(f"{city.base}/tiles/complaints/{z}/{x}/{y}.pbf",
                      headers={"Authorization": f"Bearer {city.token}"}, timeout=30)
    assert staff.status_code == 200 and staff.headers["cache-control"].startswith("private")
    assert {f["id"] for f in mapbox_vector_tile.decode(staff.content)["complaints"]["features"]} == in_tile
    # The OGC tile (QGIS, GDAL): the same complaints, their times as ISO 8601 text of the same instants.
    ogc = httpx.get(f"{city.base}/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{y}/{x}", timeout=30)
    assert ogc.status_code == 200 and ogc.headers["cache-control"].startswith("public")
    texts = {f["id"]: f["properties"]["reported_at"] for f in mapbox_vector_tile.decode(ogc.content)["complaints"]["features"]}
    assert set(texts) == in_tile
    assert {i: math.floor(datetime.fromisoformat(t).timestamp()) for i, t in texts.items()} == times


#: Parameters of each analysis on Taipei (the same on the command line and in the query).
TAIPEI_ANALYSES = {
    "coverage": {"kind": "toilets", "by": "community"},
    "density": {"kind": "garbage_points", "by": "district"},
    "hotspots": {},
    "priority": {"street": TAIPEI_STREET},
    "siting": {"kind": "toilets", "add": "3", "street": TAIPEI_STREET},
}


def test_every_analysis_is_exercised():
    assert set(TAIPEI_ANALYSES) == set(ANALYSES)


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_taipei_analysis_on_the_command_line_and_over_http(taipei_server, taipei_complaints, name):
    """`analyze NAME --out x.geojson` and GET /api/analysis/NAME give the same features, and some."""
    city, params = taipei_server, TAIPEI_ANALYSES[name]
    options = [w for k, v in params.items() for w in (f"--{k}", v)]
    city.cli("analyze", name, *options, "--out", f"{name}.geojson")
    written = json.loads((city.work / f"{name}.geojson").read_text(encoding="utf-8"))
    answer = city.get(f"/api/analysis/{name}", **params)
    assert answer.status_code == 200, answer.text
    served = answer.json()
    assert served["type"] == "FeatureCollection" and served["features"], served
    assert len(written["features"]) == len(served["features"])



@pytest.mark.browser
def test_taipei_index_page_lists_the_city(taipei_server, taipei_complaints, browser):
    page_checks(taipei_server, browser, "/", None, "index.png")
    text = browser.evaluate("document.body.innerText")
    assert "1,544" in text or "1544" in text, text  # the toilets' count
    assert "大同區" in text, text  # the streets (district offices) with their maps and atlases


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/map", f"/map?street={TAIPEI_STREET}"])
def test_taipei_overview_map_draws_the_city(taipei_server, taipei_complaints, browser, path):
    page_checks(taipei_server, browser, path, READY_MAP, f"map-{path.count('=')}.png")
    drawn = browser.evaluate("hygieneMapState.drawn")
    for layer in ("admin_areas", "toilets", "garbage_stations", "complaints"):
        assert drawn.get(layer, 0) > 0, (layer, drawn)


@pytest.mark.browser
@pytest.mark.parametrize("path,least", [("/map/coverage?kind=toilets&by=community", 456), ("/map/hotspots", 10)])
def test_taipei_analysis_pages_draw(taipei_server, taipei_complaints, browser, path, least):
    page_checks(taipei_server, browser, path, READY_ANALYSIS, f"analysis-{path.split('?')[0][5:]}.png")
    assert browser.evaluate("hygieneAnalysisState.errors") == []
    assert browser.evaluate("hygieneAnalysisState.features") >= least


@pytest.mark.browser
def test_taipei_grid_page_opens_on_the_grid(taipei_server, taipei_grids, taipei_complaints, browser):
    """The link a printed QR code opens: the street's grids, the view on the one grid."""
    city = taipei_server
    grid = taipei_grids[len(taipei_grids) // 2]
    page_checks(city, browser, f"/map/grids?street={TAIPEI_STREET}&grid={grid}", READY_GRIDS, "grid-page.png")
    assert browser.evaluate("document.body.getAttribute('data-grids-loaded')") == str(len(taipei_grids))
    # Each grid is labelled community-sequence (its code less the street's), whatever the codes' lengths (the
    # text of a label hidden at this zoom, where it would overlap another, too).
    labels = browser.evaluate("Array.from(document.querySelectorAll('.leaflet-tooltip.grid-code'))"
                              ".map(function(e){return e.textContent.trim();})")
    assert len(labels) == len(taipei_grids) and all(re.fullmatch(r"\d+-\d+", t) for t in labels), labels[:5]
    lon, lat, street_deg2 = city.sql(
        "SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)), "
        "(ST_XMax(s.geom) - ST_XMin(s.geom)) * (ST_YMax(s.geom) - ST_YMin(s.geom)) "
        "FROM grids g, admin_areas s WHERE g.code = %s AND s.code = %s AND s.level = 'street'",
        (grid, TAIPEI_STREET))[0]
    for _ in range(20):  # the view may still be zooming (Leaflet animates a fit): let it come to rest
        west, south, east, north = view = browser.evaluate(
            "(function(){var m=Object.values(window).find(function(v){return v instanceof L.Map});"
            "var b=m.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];})()")
        on_grid = west <= lon <= east and south <= lat <= north and (east - west) * (north - south) < street_deg2 / 2
        if on_grid:
            break
        time.sleep(0.25)
    assert on_grid, f"the page shows {view}, the whole street, not grid {grid} at ({lon}, {lat})"


@pytest.mark.browser
def test_taipei_plan_saved_printed_and_opened_again_on_the_map(taipei_server, taipei_complaints, browser):
    """A planner's draft on Taipei's villages — a toilet added where a village has none near, one removed —
    saved as a plan; its page prints the villages it changes with the comparison's figures, and the coverage
    map opened from the page's link loads it as the draft again, with the same answer."""
    import base64

    city = taipei_server
    (toilet,) = city.sql("SELECT id FROM toilets WHERE street_code = %s ORDER BY id LIMIT 1", (TAIPEI_STREET,))[0]
    lon, lat = city.sql("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas
                           WHERE level = 'community') a
                           ORDER BY (SELECT min(ST_Distance(p::geography, t.geom::geography)) FROM toilets t) DESC
                           LIMIT 1""")[0]
    draft = {"name": "大同區公廁調整", "kind": "toilets", "by": "community",
             "edits": [{"op": "add", "lon": lon, "lat": lat}, {"op": "remove", "id": toilet}]}
    saved = httpx.post(f"{city.base}/api/plans", json=draft, headers={"Authorization": f"Bearer {city.token}"},
                       timeout=120)
    assert saved.status_code == 201, saved.text
    plan = saved.json()["id"]
    compared = city.get(f"/api/plans/{plan}/compare").json()
    assert compared["after"]["covered_area_pct"] != compared["before"]["covered_area_pct"]
    page = city.get(f"/plans/{plan}")
    assert page.status_code == 200 and "大同區公廁調整" in page.text
    villages = dict(city.sql("SELECT code, name FROM admin_areas WHERE level = 'community' AND code = ANY(%s)",
                             ([a["code"] for a in compared["areas"]],)))
    assert villages and all(f'<td class="name">{name}</td>' in page.text for name in villages.values())
    assert "<tr><td>人口</td><td class=\"n\">—</td>" in page.text  # Taipei's villages carry no population
    report = browser.open(city.base + f"/plans/{plan}", timeout=60)
    assert not report.timed_out and report.console_errors == [] and report.failed_requests == []
    pdf = base64.b64decode(browser.send("Page.printToPDF", paperWidth=8.27, paperHeight=11.69)["data"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "plan.pdf").write_bytes(pdf)
    printed = subprocess.run(["pdftotext", str(ARTIFACTS / "plan.pdf"), "-"], capture_output=True, text=True,
                             check=True).stdout
    assert "大同區公廁調整" in printed and "全市合计" in printed and "在地图上打开" not in printed  # links stay off
    assert "登录" not in printed  # and the session bar
    on_map = re.search(r'<a class="map" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    ready = f"{READY_ANALYSIS} && hygieneWhatIfState.loaded === {plan} && hygieneWhatIfState.answers >= 1 " \
            "&& !hygieneWhatIfState.pending"
    page_checks(city, browser, on_map, ready, "plan-on-map.png")
    shown = browser.evaluate("JSON.stringify([hygieneWhatIfState.draft, hygieneWhatIfState.after])")
    edits, after = json.loads(shown)
    assert sorted(e["op"] for e in edits) == ["add", "remove"]
    assert after["covered_area_pct"] == pytest.approx(compared["after"]["covered_area_pct"], abs=1e-9)
    # Logged in (the login page, back to the map), the planner saves the loaded draft under a new name.
    try:
        _save_the_loaded_plan_again(city, browser, on_map, ready, plan, toilet, (lon, lat))
    finally:  # the session cookie is the host's, not the port's: other cities' servers must not see it
        browser.send("Network.clearBrowserCookies")


def _save_the_loaded_plan_again(city: City, browser, on_map: str, ready: str, plan: int, toilet: int, at) -> None:
    log_in(browser, city, on_map, ready, timeout=60)
    browser.evaluate("document.getElementById('hm-whatif-name').value = '大同區公廁調整（二）';"
                     "document.getElementById('hm-whatif-save').click()")
    deadline = time.monotonic() + 30
    while not browser.evaluate("hygieneWhatIfState.saved") and time.monotonic() < deadline:
        time.sleep(0.25)
    again = browser.evaluate("hygieneWhatIfState.saved")
    assert again and again != plan, browser.evaluate("document.getElementById('hm-whatif-msg').innerText")
    assert browser.evaluate("document.getElementById('hm-whatif-saved').getAttribute('href')") == f"/plans/{again}?lang=zh"
    copy = city.get(f"/api/plans/{again}").json()
    by_op = {e["op"]: e for e in copy["edits"]}
    assert copy["name"] == "大同區公廁調整（二）" and len(copy["edits"]) == 2 and by_op["remove"]["id"] == toilet
    assert (by_op["add"]["lon"], by_op["add"]["lat"]) == (pytest.approx(at[0]), pytest.approx(at[1]))


def test_taipei_street_atlas(taipei_server, taipei_grids, taipei_complaints):
    """`print atlas`: a cover, an index and a sheet per grid, searchable text."""
    city = taipei_server
    city.cli("print", "atlas", "--street", TAIPEI_STREET, "--out", "atlas.pdf", timeout=600)
    info = subprocess.run(["pdfinfo", str(city.work / "atlas.pdf")], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    assert pages >= len(taipei_grids) + 2
    text = subprocess.run(["pdftotext", str(city.work / "atlas.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "大同區" in text and taipei_grids[0] in text


def test_taipei_ogc_api_pages_through_every_toilet(taipei_server, taipei_complaints):
    city = taipei_server
    collections = city.get("/ogc/collections", f="json").json()["collections"]
    assert {"admin_areas", "toilets", "garbage_stations", "grids", "complaints"} <= {c["id"] for c in collections}
    url, ids, matched = city.base + "/ogc/collections/toilets/items?f=json&limit=500", [], None
    while url:
        page = httpx.get(url, timeout=60).json()
        matched = page.get("numberMatched", matched)
        ids += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        assert url is None or url.startswith(city.base), url
    assert len(ids) == len(set(ids)) == matched == 1544
    if shutil.which("ogrinfo"):
        listed = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{city.base}/ogc"], capture_output=True, text=True,
                                timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert re.search(r"^\d+: toilets\b", listed.stdout, re.M), listed.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_taipei_export_reimport_changes_no_count(taipei_server, taipei_complaints, fmt):
    """Export → import in the populated city: the same rows updated, none added, none duplicated.

    Toilets in every format; complaints in the formats a hotline or street office exchanges (CSV, XLSX).
    """
    city = taipei_server
    for layer in ("toilets", "complaints") if fmt in ("csv", "xlsx") else ("toilets",):
        before = city.one(f"SELECT count(*) FROM {layer}")
        out = f"{layer}-export.{'zip' if fmt == 'shp' else fmt}"
        city.cli("export", layer, "--format", fmt, "--out", out)
        again = city.cli("import", layer, out)
        assert f"写入 {before:,} 行（新增 0，更新 {before:,}）" in again.stdout, again.stdout
        after, keys = city.sql(f"SELECT count(*), count(DISTINCT (source, source_id)) FROM {layer}")[0]
        assert after == keys == before, (layer, fmt, before, after, keys)
