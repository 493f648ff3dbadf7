"""The analysis maps as a planner drafting toilets uses them, on Hong Kong's real districts and toilets (the 2021
census population of each district; no communities, no land use, no roads, no markets, no complaints), in headless
Chromium at 1280 and 390 px.

A walk-through found: the analysis maps drew no basemap even where one is configured (a blank polygon to place
toilets on), nor said how to get streets; a layer with no data painted the whole city 服务盲区 red; the hot-spot
page's 下载表格 without complaints opened the API's JSON 404; English tooltips and raw codes on Chinese pages, the
shell command on /map/priority; on a phone a legend that could not be folded and plan tables with one character a
line; and siting on an even population proposing arbitrary spots (the westernmost lattice cells) without a word.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.chromium import DESKTOP, PHONE, serve_app
from tests.real_city import hongkong_planner

#: Hong Kong's 2021 census population by district council code (Census and Statistics Department).
HK_POP = {"A": 235953, "B": 166695, "C": 529603, "D": 263278, "E": 310647, "F": 431090, "G": 410634, "H": 406802,
          "J": 673166, "K": 320094, "L": 506879, "M": 668080, "N": 309631, "P": 316470, "Q": 489037, "R": 692806,
          "S": 495798, "T": 185282}
READY = "window.hygieneAnalysisState && hygieneAnalysisState.ready === true"
PAGES = ("/map/coverage?kind=toilets", "/map/density?kind=toilets", "/map/hotspots", "/map/priority")
#: Leaflet's and its plugins' English words, as tooltips or text, that a Chinese page showed.
ENGLISH = ("Zoom in", "Zoom out", "Full Screen", "Measure", "Layers", "MiniMap", "land_use", "hygiene-map",
           "grids generate", "radius=")
#: A page's text, its controls' tooltips and its fields' placeholders.
WORDS = ("document.body.innerText + ' ' + Array.from(document.querySelectorAll('[title],[placeholder],[aria-label]'))"
         ".map(function (e) { return [e.title, e.placeholder, e.getAttribute('aria-label')].join(' '); }).join(' ')")


@pytest.fixture(scope="module")
def hk(pg_server, tmp_path_factory):
    """Hong Kong's districts (with their populations) and toilets, and a planner's token."""
    with hongkong_planner(pg_server, tmp_path_factory.mktemp("hk-pages"), HK_POP) as city:
        yield city


@pytest.fixture(scope="module")
def plain(hk):
    """The app with no basemap configured (the default)."""
    with serve_app(hk["url"]) as base:
        yield base


@pytest.fixture(scope="module")
def gaode(hk):
    """The app with HYGIENE_MAP_BASEMAP=gaode (GCJ-02 tiles; not reachable from the test machine)."""
    with serve_app(hk["url"], extra_env={"HYGIENE_MAP_BASEMAP": "gaode"}) as base:
        yield base


def _screen(browser, metrics: dict) -> None:
    browser.send("Emulation.setDeviceMetricsOverride", **metrics)


def _open(browser, url: str, ready: str = READY):
    report = browser.open(url, ready_js=ready, timeout=90)
    assert not report.timed_out, url
    # Gaode's tiles cannot load here: their failures are the only console errors allowed.
    errors = [e for e in report.console_errors if "autonavi" not in e and "ERR_NAME_NOT_RESOLVED" not in e
              and "ERR_CONNECTION" not in e and "ERR_INTERNET" not in e and "Failed to load resource" not in e]
    assert errors == [], (url, errors)
    if "/map/hotspots" not in url:  # no complaints: the hot-spot map says so (its only error)
        assert browser.evaluate("hygieneAnalysisState.errors") == [], url
    return report


def test_the_analysis_maps_draw_the_configured_basemap_with_the_analysis_shifted_to_gcj02(gaode, browser):
    """With HYGIENE_MAP_BASEMAP=gaode every analysis map draws Gaode's tiles, as /map does, and the analysis on them
    in GCJ-02: an area's outline is where the published formula puts its stored WGS84 corner."""
    from geo.coords import wgs84_to_gcj02

    _screen(browser, DESKTOP)
    try:
        for path in PAGES:
            _open(browser, gaode + path)
            tiles = browser.evaluate("Array.from(document.querySelectorAll('.leaflet-tile-pane img'))"
                                     ".map(function (i) { return i.src; }).join(' ')")
            assert "autonavi.com" in tiles, (path, tiles[:200])
            assert "地图下没有街道" not in browser.evaluate(WORDS), path  # a basemap: nothing to ask for
        _open(browser, gaode + "/map/coverage?kind=toilets")
        drawn = browser.evaluate(
            "(function () { var l = hygieneCoverageLayers.areas['A'], ll = l.getLatLngs();"
            " while (Array.isArray(ll[0])) ll = ll[0];"
            " var c = l.feature.geometry.coordinates; while (Array.isArray(c[0][0])) c = c[0];"
            " return {map: [ll[0].lng, ll[0].lat], stored: c[0]}; })()")
        lon, lat = wgs84_to_gcj02(*drawn["stored"])
        assert drawn["map"] == pytest.approx([float(lon), float(lat)], abs=1e-7), drawn
        assert abs(drawn["map"][0] - drawn["stored"][0]) > 0.003  # Hong Kong's shift is some 500 m east
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_a_toilet_placed_on_gaode_is_sent_in_wgs84(gaode, browser):
    """A draft toilet clicked on the GCJ-02 map is sent where it is on the ground: the click taken back to WGS84."""
    from tests.test_whatif_browser import _mouse, _wait

    _screen(browser, DESKTOP)
    try:
        _open(browser, gaode + "/map/coverage?kind=toilets",
              READY + " && window.hygieneWhatIfState && hygieneWhatIfState.started")
        assert "autonavi.com" in browser.evaluate("document.querySelector('.leaflet-tile-pane img').src")
        time.sleep(1.0)  # the map's zoom to the areas has ended
        browser.evaluate("document.getElementById('hm-whatif-add').click()")
        lon, lat = 114.1700, 22.3200  # 油尖旺區, WGS84
        at = browser.evaluate(f"hygieneWhatIfState.pixel({lon}, {lat})")
        _mouse(browser, "mousePressed", at["x"], at["y"])
        _mouse(browser, "mouseReleased", at["x"], at["y"])
        _wait(browser, "hygieneWhatIfState.sent >= 1 && !hygieneWhatIfState.pending", timeout=60)
        draft = browser.evaluate("hygieneWhatIfState.draft")
        # Within a pixel or two at city zoom (some 60 m); unshifted, it was some 500 m off.
        assert len(draft) == 1 and draft[0]["lon"] == pytest.approx(lon, abs=1e-3), draft
        assert draft[0]["lat"] == pytest.approx(lat, abs=1e-3), draft
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_without_basemap_or_roads_the_page_says_how_to_get_streets(plain, browser):
    """No basemap configured and no roads imported: each analysis map says in one line how to get streets."""
    _screen(browser, DESKTOP)
    try:
        for path in PAGES:
            _open(browser, plain + path)
            notice = browser.evaluate("(document.getElementById('hm-notice') || {}).textContent || ''")
            assert notice.startswith("地图下没有街道") and "HYGIENE_MAP_BASEMAP" in notice and "道路" in notice, \
                (path, notice)
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_a_layer_with_no_data_is_grey_no_data_said_at_the_top(plain, browser):
    """Hong Kong has no markets: the coverage map painted every district 服务盲区 red and only the legend's last line
    said why, with the raw layer code. The districts are grey 无数据, no gap drawn, the reason at the top in Chinese."""
    _screen(browser, DESKTOP)
    try:
        _open(browser, plain + "/map/coverage?kind=markets&radius=500")
        state = browser.evaluate("hygieneAnalysisState")
        assert state["noData"] is True and state["gaps"] == 0 and state["features"] == 18, state
        fill = browser.evaluate("hygieneCoverageLayers.areas['A'].options.fillColor")
        assert fill == "#bdbdbd", fill
        top = browser.evaluate("document.getElementById('hm-status').textContent")
        assert top.startswith("没有农贸市场数据") and "请先导入农贸市场图层" in top and "markets" not in top, top
        legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
        assert "无数据" in legend and "服务盲区" not in legend, legend
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_the_hotspot_page_without_complaints_offers_no_broken_download(plain):
    """下载表格 in a city without complaints opened /api/analysis/hotspots?format=xlsx, the API's JSON 404."""
    page = httpx.get(plain + "/map/hotspots", timeout=60).text
    assert 'id="hm-download-xlsx"' not in page and "暂无投诉，没有可下载的表格" in page
    assert httpx.get(plain + "/api/analysis/hotspots?format=xlsx", timeout=60).status_code == 404  # what it opened


def test_chinese_map_pages_show_no_english_and_no_command(plain, browser):
    """Zoom, full-screen, measure, layers and minimap tooltips in Chinese on every map page; no raw code or shell
    command (/map/priority's 'hygiene-map import admin_areas … grids generate'); ?lang=en keeps English."""
    _screen(browser, DESKTOP)
    try:
        for path in (*PAGES, "/map/density?kind=markets"):
            _open(browser, plain + path)
            said = browser.evaluate(WORDS)
            assert [w for w in ENGLISH if w in said] == [], (path, [w for w in ENGLISH if w in said])
            assert "放大" in said and "缩小" in said and "全屏" in said, path
        browser.open(plain + "/map", ready_js="window.hygieneMapState && hygieneMapState.ready", timeout=90)
        said = browser.evaluate(WORDS)
        assert [w for w in ENGLISH if w in said] == [], [w for w in ENGLISH if w in said]
        assert "测量" in said and "图层" in said and "小地图" in said, said[-400:]
        _open(browser, plain + "/map/coverage?kind=toilets&lang=en")
        assert "Zoom in" in browser.evaluate(WORDS)
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_a_phone_folds_the_coverage_legend(plain, browser):
    """At 390 px the coverage legend folds to its title with a tap, and opens again: the map keeps the screen."""
    _screen(browser, PHONE)
    try:
        _open(browser, plain + "/map/coverage?kind=toilets")
        tall = browser.evaluate("document.querySelector('.hm-legend').getBoundingClientRect().height")
        browser.evaluate("document.querySelector('.hm-legend summary').click()")
        time.sleep(0.2)
        folded = browser.evaluate("document.querySelector('.hm-legend').getBoundingClientRect().height")
        assert folded < 40 < tall, (tall, folded)
        assert browser.evaluate("document.getElementById('hm-whatif-fold').open") is False  # folded too
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_a_plans_table_on_a_phone_scrolls_in_its_box_with_readable_headers(hk, plain, browser):
    """/plans/N at 390 px: the 受影响的统计单元 table scrolls in its own box, the page no wider than the screen, and
    its headers keep a few characters a line (覆盖面积比例（规划后，%） stood one character a line)."""
    saved = httpx.post(plain + "/api/plans", headers={"Authorization": f"Bearer {hk['token']}"}, timeout=120,
                       json={"name": "油尖旺加一座", "kind": "toilets",
                             "edits": [{"op": "add", "lon": 114.17, "lat": 22.32}]})
    assert saved.status_code == 201, saved.text
    _screen(browser, PHONE)
    try:
        report = browser.open(f"{plain}/plans/{saved.json()['id']}", timeout=60)
        assert not report.timed_out and report.console_errors == [], report.console_errors
        box = browser.evaluate("(function (t) { return {scroll: t.scrollWidth, width: t.clientWidth,"
                               " page: document.documentElement.scrollWidth, narrowest: Math.min.apply(null,"
                               " Array.from(t.querySelectorAll('th')).map(function (h) { return h.clientWidth; }))};"
                               "})(document.getElementById('areas'))")
        assert box["page"] <= 390 and box["scroll"] > box["width"], box
        assert box["narrowest"] >= 50, box
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_siting_on_an_even_population_says_its_sites_are_only_indicative(hk, plain):
    """Hong Kong has only its districts' census figures: residents spread evenly over each district, hills and
    shore included, so that many spots tie and the lattice's cut cells choose among them. The answer (and the
    建议选址 line, which shows it) says so: the sites are indicative, which of the near-equal spots is arbitrary."""
    auth = {"Authorization": f"Bearer {hk['token']}"}
    answer = httpx.get(plain + "/api/analysis/siting", params={"kind": "toilets", "add": 3, "street": "T"},
                       headers=auth, timeout=300).json()
    assert answer["objective"] == "residents" and len(answer["features"]) == 3, answer
    assert "人口按区域面积均匀分布：选址仅供参考，请导入社区人口或用地" in answer["warning"], answer["warning"]
    assert "任意" in answer["warning"], answer["warning"]
    english = httpx.get(plain + "/api/analysis/siting", params={"kind": "toilets", "add": 1, "street": "T",
                                                                "lang": "en"}, headers=auth, timeout=300).json()
    assert "spread evenly" in english["warning"] and "arbitrary" in english["warning"], english["warning"]


def test_the_siting_selector_is_named_by_the_citys_level(plain):
    """The 建议选址 selector listed Hong Kong's districts under the label 街道: it says 区."""
    page = httpx.get(plain + "/map/coverage?kind=toilets", timeout=60).text
    assert '"street":"区"' in page and '"street":"街道"' not in page
