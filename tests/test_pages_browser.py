"""The overview map in Debian's headless Chromium, served by uvicorn on localhost, with no outside request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chromium import MAP_CONTROL_CLASHES

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
READY = "window.hygieneMapState && hygieneMapState.ready && hygieneMapState.pending === 0"


def _open_clean(browser, server, path, shot):
    report = browser.open(server + path, ready_js=READY, timeout=60)
    browser.screenshot(ARTIFACTS / shot)
    assert not report.timed_out, f"{path} did not finish drawing"
    assert report.console_errors == [], report.console_errors
    assert report.failed_requests == [], report.failed_requests
    assert report.other_hosts(server) == [], report.other_hosts(server)
    return report


@pytest.mark.parametrize("lang,title", [("zh", "卫生城市创建总览图"), ("en", "Hygiene campaign overview map")])
def test_overview_map_draws_every_default_layer_offline(browser, server, lang, title):
    report = _open_clean(browser, server, f"/map?lang={lang}", f"map-{lang}.png")
    assert title in browser.evaluate("document.title")
    assert browser.evaluate("document.documentElement.lang") == ("en" if lang == "en" else "zh-CN")
    state = browser.evaluate("hygieneMapState")
    # Every layer shown by default has drawn something: features (GeoJSON) or loaded tiles.
    for layer in ("admin_areas", "markets", "toilets", "garbage_stations", "urban_villages", "health_trails",
                  "roads", "complaints"):
        assert state["drawn"].get(layer, 0) > 0, (layer, state)
    # Points are on the map as vector shapes, and the tiles carried features.
    assert browser.evaluate("document.querySelectorAll('.leaflet-pane canvas').length") > 0
    assert browser.evaluate("document.querySelectorAll('.leaflet-control-scale').length") == 1
    for control in ("leaflet-control-measure", "leaflet-control-zoom-fullscreen", "leaflet-control-locate",
                    "leaflet-control-minimap", "hm-legend", "hm-filters", "leaflet-control-layers"):
        assert browser.evaluate(f"document.getElementsByClassName('{control}').length") >= 1, control
    legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    assert ("公共厕所" if lang == "zh" else "Public toilets") in legend
    # Every request went to the app itself, and the page made some data requests by URL.
    assert any("/api/layers/" in u for u in report.request_urls)
    assert any("/tiles/" in u for u in report.request_urls)


def test_zoomed_in_complaints_are_clustered_points_with_popups(browser, server):
    _open_clean(browser, server, "/map", "map-before-zoom.png")
    browser.evaluate(
        "(function(){var m=Object.values(window).find(function(v){return v instanceof L.Map});"
        "window.__map=m; m.setZoom(16);})()"
    )
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if browser.evaluate(READY + " && hygieneMapState.modes.complaints === 'cluster'"):
            break
        time.sleep(0.2)
    assert browser.evaluate("hygieneMapState.modes.complaints") == "cluster"
    assert browser.evaluate("hygieneMapState.drawn.complaints") > 0
    # Open a toilet popup: labels in Chinese.
    html = browser.evaluate(
        "(function(){var found=null; __map.eachLayer(function(l){ if(!found && l.feature && l.getPopup && "
        "l.feature.properties.grade!==undefined){found=l;} }); if(!found) return null; found.openPopup();"
        "return document.querySelector('.hm-popup') && document.querySelector('.hm-popup').innerText;})()"
    )
    browser.screenshot(ARTIFACTS / "map-zoomed.png")
    assert html and "等级" in html and "名称" in html
    errors = browser.evaluate("hygieneMapState.errors")
    assert errors == []


def test_street_map_zooms_to_the_street(browser, server, demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT code, name FROM admin_areas WHERE level = 'street' ORDER BY code LIMIT 1")
        code, name = cur.fetchone()
    report = _open_clean(browser, server, f"/map?street={code}", "map-street.png")
    assert name in browser.evaluate("document.getElementById('hm-title').innerText")
    # Every data request is filtered by the street (the minimap's district outlines are context).
    data_requests = [u for u in report.request_urls if ("/api/layers/" in u or "/tiles/" in u)
                     and not u.startswith(server + "/tiles/admin_areas/") or f"street={code}" in u]
    assert len(data_requests) > 5 and all(f"street={code}" in u for u in data_requests), data_requests


def test_gcj02_shift_in_the_page_matches_the_published_vectors(browser, server):
    browser.open(server + "/map", ready_js=READY)
    got = browser.evaluate("[hygieneMap.wgs84ToGcj02(120, 40), hygieneMap.wgs84ToGcj02(116.481499, 39.990475)]")
    assert got[0] == pytest.approx([120.00567568, 40.00130479], abs=2e-7)
    assert got[1] == pytest.approx([116.487585, 39.991754], abs=2e-6)


def test_on_the_gaode_basemap_every_overlay_is_shifted_to_gcj02(browser, server):
    """Gaode tiles cannot load here (no outside network); the overlays must still sit in GCJ-02."""
    report = browser.open(server + "/map?basemap=gaode", ready_js=READY, timeout=60)
    assert not report.timed_out
    own = [u for u in report.failed_requests if u.startswith(server)]
    assert own == [], own
    assert set(report.other_hosts(server)) and all("autonavi.com" in u for u in report.other_hosts(server))
    modes = browser.evaluate("hygieneMapState.modes")
    assert modes and not {"tiles", "hex"} & set(modes.values()), modes  # tiles come as GeoJSON, to be shifted
    check = browser.evaluate(
        "(function(){var m=Object.values(window).find(function(v){return v instanceof L.Map}); var out=[];"
        "m.eachLayer(function(l){ if(out.length<20 && l.feature && l.getLatLng){"
        " var c=l.feature.geometry.coordinates, g=hygieneMap.wgs84ToGcj02(c[0], c[1]), ll=l.getLatLng();"
        " out.push([c[0], c[1], ll.lng, ll.lat, g[0], g[1]]);}}); return out;})()"
    )
    assert len(check) >= 5
    for lon, lat, shown_lon, shown_lat, gcj_lon, gcj_lat in check:
        assert (shown_lon, shown_lat) == pytest.approx((gcj_lon, gcj_lat), abs=1e-9)
        # The shift near Yantai is a few hundred metres, so it is really applied.
        assert 0.002 < abs(shown_lon - lon) + abs(shown_lat - lat) < 0.02
    browser.screenshot(ARTIFACTS / "map-gaode.png")


def test_complaint_filters_reload_the_complaints_with_the_window_and_category(browser, server, demo_conn):
    _open_clean(browser, server, "/map", "map-filters-before.png")
    browser.evaluate(
        "(function(){var d=document.querySelector('.hm-filters');"
        "d.querySelector('[name=since]').value='2025-01-01'; d.querySelector('[name=until]').value='2025-04-01';"
        "d.querySelector('[name=category]').value='暴露垃圾'; d.querySelector('button').click();})()"
    )
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not browser.evaluate(READY):
        time.sleep(0.2)
    time.sleep(0.5)
    while time.monotonic() < deadline and not browser.evaluate(READY):
        time.sleep(0.2)
    urls = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    filtered = [u for u in urls if "/complaints/" in u and "since=2025-01-01" in u]
    assert filtered and all("until=2025-04-01" in u and "category=%E6%9A%B4%E9%9C%B2%E5%9E%83%E5%9C%BE" in u
                            for u in filtered), filtered
    assert browser.evaluate("hygieneMapState.drawn.complaints") > 0
    assert browser.evaluate("hygieneMapState.errors") == []


@pytest.mark.parametrize("width,height", [(1280, 757), (1366, 657), (1920, 969)])
def test_the_map_s_controls_cover_none_of_each_other_on_a_laptop(browser, server, width, height):
    browser.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
    try:
        _open_clean(browser, server, "/map", f"map-{width}x{height}.png")
        assert browser.evaluate(MAP_CONTROL_CLASHES) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
