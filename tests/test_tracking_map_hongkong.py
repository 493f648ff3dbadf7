"""The tracking page's small map in Hong Kong set up from nothing (its 18 districts and FEHD's toilets: no roads, no
basemap): a resident following a report sees where it is, as FixMyStreet's report pages show — the report's own pin
over the city's own outlines and names (as /report draws them), or over the configured basemap — at a phone's
width, status first, Chinese first and in English, without another report's words and without using up the
tracking reads (a normal view never meets a 429)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.test_hongkong import hongkong  # noqa: F401  (the city, built here from nothing)
from tests.test_report_places_hongkong import MONG_KOK_ROAD_TOILET, NEAR_IT, _report

#: Far fewer tracking reads a minute than the default (60): the page and its answer, twice (zh, en), fit; a map
#: whose tiles or names counted as tracking reads would not.
READS_PER_MINUTE = 5
MINE = "旺角道公廁旁垃圾堆了三天"
OTHERS = ("上海街後巷垃圾桶滿了", "91234567")


@pytest.fixture
def client(hongkong, env_for, monkeypatch):  # noqa: F811
    from api.app import create_app

    env_for(hongkong.url)
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "4")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def test_the_tracking_page_draws_its_map_over_the_configured_basemap(client, monkeypatch):
    """By default the page's map is the city's own data through the public context routes, and nothing comes
    from another host; with HYGIENE_MAP_BASEMAP=osm the map draws OSM's tiles and the page lets only those
    images in (as /report does)."""
    tracking = _report(client, *NEAR_IT)
    page = client.get(f"/report/{tracking}")
    assert page.status_code == 200, page.text
    assert 'src="/static/app/public-map.js"' in page.text and "/api/public/context/tiles/" in page.text
    assert "tile.openstreetmap.org" not in page.text
    assert "https:" not in page.headers["content-security-policy"]
    monkeypatch.setenv("HYGIENE_MAP_BASEMAP", "osm")
    page = client.get(f"/report/{tracking}", params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert '"name": "osm"' in page.text and "tile.openstreetmap.org" in page.text
    assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in page.headers["content-security-policy"]
    assert "Map of the reported place" in page.text


def _look(browser, base: str, path: str):
    page = browser.open(base + path, ready_js="!!window.hmTrackMarker && !!document.body.dataset.status && "
                                              "hygieneContextState.ready && hygieneContextState.labels > 0 && "
                                              "hmTrackMapState.facilities > 0",
                        timeout=90)
    assert not page.timed_out, browser.evaluate("document.body.innerText")
    assert page.console_errors == [] and page.failed_requests == [], (page.console_errors, page.failed_requests)
    assert page.other_hosts(base) == []
    return page


LAYOUT = """(function () {
  var m = document.getElementById('tr-map').getBoundingClientRect();
  var status = document.querySelector('.tr-facts dd').getBoundingClientRect();
  var pin = hmTrackMarker.getLatLng();
  return {wide: document.documentElement.scrollWidth, screen: innerWidth, tall: innerHeight, map_h: m.height,
          map_w: m.width, map_top: m.top, status_bottom: status.bottom, lat: pin.lat, lng: pin.lng,
          first: document.querySelector('.tr-facts dt').textContent,
          names: Array.from(document.querySelectorAll('#tr-map .hm-label span')).map(function (s) {
            return s.textContent; }),
          facilities: Array.from(document.querySelectorAll('#tr-map .rp-fac span')).map(function (s) {
            return s.textContent; }),
          text: document.body.innerText};
})()"""


@pytest.mark.browser
def test_a_resident_sees_the_reports_place_on_a_small_map_at_phone_width(hongkong, client, browser):  # noqa: F811
    """At 390 px: the status comes first and the map under the facts is no taller than 40 % of the screen, the
    page no wider than it; the pin sits on the stored point (to 5 decimals) in 油尖旺區, named on the map beside the toilet 25 m away; nothing
    of the other report nearby (its words, phone or number); in English the same map names Yau Tsim Mong. With 5
    tracking reads a minute, both views and all their map tiles and names are answered (no 429)."""
    from tests.chromium import serve_app

    tracking = _report(client, *NEAR_IT, description=MINE)
    other = _report(client, MONG_KOK_ROAD_TOILET[0] + 0.0005, MONG_KOK_ROAD_TOILET[1], category="垃圾满溢",
                    description=OTHERS[0], phone=OTHERS[1])
    lon, lat = hongkong.sql("SELECT ST_X(geom), ST_Y(geom) FROM public_reports WHERE tracking = %s", (tracking,))[0]
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        with serve_app(hongkong.url, extra_env={"HYGIENE_MAP_PUBLIC_READS_PER_MINUTE": str(READS_PER_MINUTE)}) as base:
            page = _look(browser, base, f"/report/{tracking}")
            got = browser.evaluate(LAYOUT)
            assert got["first"] == "当前状态" and got["status_bottom"] <= got["map_top"], got
            assert got["wide"] <= got["screen"] and got["map_w"] <= got["screen"], got
            assert 150 <= got["map_h"] <= 0.4 * got["tall"], got
            assert (got["lat"], got["lng"]) == pytest.approx((round(lat, 5), round(lon, 5)), abs=1e-9)
            assert (got["lat"], got["lng"]) == pytest.approx((lat, lon), abs=6e-6)
            assert "油尖旺區" in got["names"], got["names"]
            assert "旺角道公廁" in got["facilities"], got["facilities"]  # the toilet the place is told by
            for word in (*OTHERS, other, other.lower()):
                assert word not in got["text"], word
            assert not [u for u in page.request_urls if "/api/public/around" in u or other in u]
            english = _look(browser, base, f"/report/{tracking}?lang=en")
            got = browser.evaluate(LAYOUT)
            assert browser.evaluate("document.documentElement.lang") == "en" and got["first"] == "Status", got
            assert any("Yau Tsim" in n for n in got["names"]), got["names"]
            assert (got["lat"], got["lng"]) == pytest.approx((round(lat, 5), round(lon, 5)), abs=1e-9)
            assert got["wide"] <= got["screen"] and got["map_h"] <= 0.4 * got["tall"], got
            assert not [u for u in english.request_urls if "/api/public/around" in u or other in u]
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
