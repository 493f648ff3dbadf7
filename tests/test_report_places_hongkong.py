"""/report in a city set up as the README says (Hong Kong: its 18 districts and FEHD's toilets, no roads, no
basemap): the resident sees the city's own facilities on the map, finds a place by the names the city's data
holds, reads the chosen place as a place, sees the open reports around it before sending, and the tracking page
says where the report is. All from the city's own data: nothing asked of another host."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from layers.workflow import public_challenges
from tests.test_hongkong import hongkong  # noqa: F401  (the city, built here from nothing)

MONG_KOK_ROAD_TOILET = (114.167419, 22.320753)  # FEHD's 旺角道公廁, 上海街661B
NEAR_IT = (114.1676, 22.3209)  # some 25 m away, in 油尖旺區


@pytest.fixture
def client(hongkong, env_for, monkeypatch):
    from api.app import create_app

    env_for(hongkong.url)
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "4")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _report(client, lon, lat, **extra):
    ch = client.get("/api/public/challenge").json()
    made = client.post("/api/public/reports", json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "challenge": ch["challenge"],
        "nonce": public_challenges.solve(ch["challenge"], ch["bits"]), **extra})
    assert made.status_code == 201, made.text
    return made.json()["tracking"]


def test_a_place_is_found_by_the_names_the_citys_data_holds(client):
    """旺角道 finds FEHD's 旺角道公廁 where the file puts it; 油尖旺 finds the district with its extent; an
    address (上海街661B) finds the toilet too; a word the data lacks finds nothing; an empty q is a 422 naming q."""
    toilet = client.get("/api/public/places", params={"q": "旺角道"}).json()["items"]
    hit = next(i for i in toilet if i["name"] == "旺角道公廁")
    assert hit["kind"] == "toilet" and (hit["lon"], hit["lat"]) == pytest.approx(MONG_KOK_ROAD_TOILET, abs=1e-5)
    district = client.get("/api/public/places", params={"q": "油尖旺"}).json()["items"][0]
    assert district["kind"] == "district" and district["name"] == "油尖旺區" and len(district["bbox"]) == 4
    by_address = client.get("/api/public/places", params={"q": "上海街661B"}).json()["items"]
    assert [i["name"] for i in by_address] == ["旺角道公廁"]
    english = client.get("/api/public/places", params={"q": "yau tsim", "lang": "en"}).json()["items"]
    assert english and english[0]["kind"] == "district" and "Yau Tsim" in english[0]["name"]
    assert client.get("/api/public/places", params={"q": "不存在的地方"}).json()["items"] == []
    empty = client.get("/api/public/places", params={"q": "  "})
    assert empty.status_code == 422 and empty.json()["detail"].startswith("q: "), empty.text


def test_a_point_is_told_by_its_district_and_nearest_facility(client):
    """A point 25 m from 旺角道公廁 reads as near it, in 油尖旺區; the city's facilities are sent for a street
    view (names and kinds) and not for a whole-city view; a street view of this districts-only city still
    names its district."""
    d = client.get("/api/public/place", params={"lon": NEAR_IT[0], "lat": NEAR_IT[1]}).json()
    assert d["area"] == "油尖旺區" and d["near"] == "旺角道公廁" and 10 <= d["near_m"] <= 40, d
    bbox = ",".join(str(v) for v in (114.164, 22.318, 114.171, 22.323))
    street = client.get("/api/public/context/facilities", params={"bbox": bbox, "zoom": 17}).json()
    names = {f["properties"]["name"] for f in street["features"]}
    assert "旺角道公廁" in names and {f["properties"]["kind"] for f in street["features"]} == {"toilet"}
    labels = client.get("/api/public/context/labels", params={"bbox": bbox, "zoom": 17}).json()["features"]
    assert [f["properties"]["name"] for f in labels if f["properties"]["kind"] == "district"] == ["油尖旺區"]
    city = client.get("/api/public/context/facilities", params={"bbox": "113.8,22.1,114.5,22.6", "zoom": 11})
    assert city.status_code == 200 and city.json()["features"] == []


def test_open_reports_around_a_place_show_no_ones_words_or_number(client):
    """Open reports of any category within 300 m are listed with category, status and distance — never the
    resident's description or phone — and a report far away is not."""
    _report(client, MONG_KOK_ROAD_TOILET[0] + 0.001, MONG_KOK_ROAD_TOILET[1], category="垃圾满溢",
            description="上海街後巷垃圾桶滿了", phone="91234567")
    _report(client, 114.1630, 22.3305, description="深水埗")  # some 1.4 km north-west
    around = client.get("/api/public/around", params={"lon": NEAR_IT[0], "lat": NEAR_IT[1]})
    assert around.status_code == 200, around.text
    items = around.json()["items"]
    assert [(i["category"], i["status"]) for i in items] == [("垃圾满溢", "受理")]
    assert 60 <= items[0]["distance_m"] <= 120 and items[0]["photo"] is None
    text = json.dumps(around.json(), ensure_ascii=False)
    assert "後巷" not in text and "91234567" not in text and "description" not in text


@pytest.mark.browser
def test_a_resident_finds_the_place_sees_reports_there_and_its_name(hongkong, client, browser):
    """At 390 px over plain HTTP (no GPS): searching 旺角道 and choosing the toilet brings the map to it with the
    city's toilets drawn by name; the chosen place reads as a place, not "lat, lon"; the open report there is
    listed before sending; the tracking page of the report sent says where it is."""
    from tests.chromium import serve_app
    from tests.test_public_browser import _wait

    _report(client, MONG_KOK_ROAD_TOILET[0] + 0.001, MONG_KOK_ROAD_TOILET[1], category="垃圾满溢",
            description="上海街後巷垃圾桶滿了")
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        with serve_app(hongkong.url, extra_env={"HYGIENE_MAP_PUBLIC_POW_BITS": "4"}) as base:
            page = browser.open(base + "/report", ready_js="window.hygieneContextState && hygieneContextState.ready",
                                timeout=90)
            assert not page.timed_out and page.console_errors == [], page.console_errors
            assert page.other_hosts(base) == []
            browser.evaluate("document.getElementById('rp-q').value = '旺角道';"
                             "document.getElementById('rp-find').click()")
            _wait(browser, "document.querySelectorAll('#rp-results .rp-result').length > 0")
            browser.evaluate("Array.from(document.querySelectorAll('#rp-results .rp-result'))"
                             ".find(b => b.textContent.indexOf('旺角道公廁') === 0).click()")
            _wait(browser, "hmPlacesState.described !== null && hmPlacesState.around !== null && "
                           "hmPlacesState.facilities > 0")
            assert browser.evaluate("hmReportMap.getZoom()") >= 17
            _wait(browser, "hygieneContextState.ready && (hygieneContextState.kinds.district || 0) > 0")
            shown = browser.evaluate("Array.from(document.querySelectorAll('.rp-fac span'))"
                                     ".filter(s => s.offsetParent).map(s => s.textContent)")
            assert "旺角道公廁" in shown, shown
            placed = browser.evaluate("document.getElementById('rp-place').textContent")
            assert "旺角道公廁" in placed and "油尖旺區" in placed and "22.3" not in placed, placed
            around = browser.evaluate("document.getElementById('rp-around').innerText")
            assert "垃圾满溢" in around and "受理" in around, around
            assert "後巷" not in around
            assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            browser.evaluate("document.querySelector('input[name=category][value=\"病媒生物\"]').click();"
                             "document.getElementById('rp-send').click()")
            _wait(browser, "location.pathname.indexOf('/report/') === 0 && !!document.body.dataset.status")
            _wait(browser, "(document.querySelector('.tr-place') || {}).textContent.indexOf('旺角道公廁') >= 0")
            assert "油尖旺區" in browser.evaluate("document.querySelector('.tr-place').textContent")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
