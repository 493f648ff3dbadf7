"""The public channel in Hong Kong set up from nothing with the real files (tests/test_hongkong.py's fixtures:
DATA.GOV.HK's 18 district council areas of 2001 and FEHD's toilets): first a city of districts only, then with
the districts imported again as streets and communities (the file has no finer level) and grids in Central and
Western. A resident's report and its Open311 record: routed to its district while the city has nothing finer."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from layers.workflow import public_challenges
from tests.test_hongkong import hk_grids, hk_server, hongkong  # noqa: F401  (the city, built here from nothing)

MONG_KOK = (114.1694, 22.3193)  # 旺角, in 油尖旺區
AT_SEA = (114.40, 22.10)  # south-east of every district
SHAM_SHUI_PO = (114.1630, 22.3305)  # 深水埗, in 深水埗區


@pytest.fixture(scope="module")
def hk(hongkong):
    """香港 by `city init`, its 18 districts and FEHD's toilets (tests/test_hongkong.py): nothing finer yet."""
    return hongkong


@pytest.fixture
def client(hk, env_for, monkeypatch):
    from api.app import create_app

    env_for(hk.url)
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "4")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _report(client, lon, lat, **extra):
    ch = client.get("/api/public/challenge").json()
    return client.post("/api/public/reports", json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "challenge": ch["challenge"],
        "nonce": public_challenges.solve(ch["challenge"], ch["bits"]), **extra})


def _counts(city):
    return city.sql("SELECT (SELECT count(*) FROM public_reports), (SELECT count(*) FROM complaints)")[0]


def test_a_city_of_districts_only_routes_a_report_to_its_district(hk, client):
    """Districts only: a report is routed to the district holding it, as an imported complaint is (not a 409
    asking for communities); the tracking page and Open311 name the district. A point at sea is refused naming
    lon/lat, before anything is written."""
    before = _counts(hk)
    at_sea = _report(client, *AT_SEA, category="垃圾满溢")
    assert at_sea.status_code == 422 and at_sea.json()["detail"].startswith("lon/lat: "), at_sea.text
    assert _counts(hk) == before
    nearby = client.get("/api/public/nearby", params={"lon": SHAM_SHUI_PO[0], "lat": SHAM_SHUI_PO[1],
                                                      "category": "垃圾满溢"})
    assert nearby.status_code == 200, nearby.text
    made = _report(client, *SHAM_SHUI_PO, category="垃圾满溢", description="深水埗街市垃圾桶滿了")
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    assert hk.sql("SELECT c.district_code, c.street_code, c.community_code, c.grid_code FROM complaints c "
                  "JOIN public_reports r ON r.complaint_id = c.id WHERE r.tracking = %s",
                  (tracking,))[0] == ("F", None, None, None)  # 深水埗區
    assert client.get(f"/api/public/reports/{tracking}").json()["unit"] == "深水埗區"
    assert client.get(f"/open311/v2/requests/{tracking}.json").json()[0]["agency_responsible"] == "深水埗區"


@pytest.mark.browser
def test_the_report_page_of_a_city_of_districts_only_takes_a_report_at_phone_width(hk, browser):
    """The same city on a phone: a tap in Mong Kok and 提交 — the report is taken and its tracking page opens,
    rather than the page saying the city takes no reports."""
    from tests.chromium import serve_app
    from tests.test_public_browser import _tap, _wait

    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        with serve_app(hk.url, extra_env={"HYGIENE_MAP_PUBLIC_POW_BITS": "4"}) as base:
            page = browser.open(base + "/report", ready_js="window.hygieneContextState && hygieneContextState.ready",
                                timeout=90)
            assert not page.timed_out and page.console_errors == [], page.console_errors
            assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            _tap(browser, *MONG_KOK)
            _wait(browser, "!!window.hmReportPlace")
            browser.evaluate("document.querySelector('input[name=category][value=\"病媒生物\"]').click();"
                             "document.getElementById('rp-send').click()")
            _wait(browser, "location.pathname.indexOf('/report/') === 0 && !!document.body.dataset.status")
            tracking = browser.evaluate("location.pathname.split('/').pop()")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert hk.sql("SELECT c.district_code FROM complaints c JOIN public_reports r ON r.complaint_id = c.id "
                  "WHERE r.tracking = %s", (tracking,))[0][0] == "E"  # 油尖旺區


def test_with_communities_a_report_is_routed_and_open311_times_run_forward(hk, hk_grids, client):
    """The districts as streets and communities (and grids in Central and Western only): Mong Kok's report is
    routed to 油尖旺區's community; a point at sea is refused naming lon/lat; Open311 never says a request was
    updated before it was requested."""
    before = _counts(hk)
    at_sea = _report(client, *AT_SEA)
    assert at_sea.status_code == 422 and at_sea.json()["detail"].startswith("lon/lat: "), at_sea.text
    assert _counts(hk) == before
    made = _report(client, *MONG_KOK, description="旺角街市後巷垃圾")
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    assert hk.sql("SELECT c.community_code FROM complaints c JOIN public_reports r ON r.complaint_id = c.id "
                  "WHERE r.tracking = %s", (tracking,))[0][0] == "271"  # 油尖旺區's one community
    request = client.get(f"/open311/v2/requests/{tracking}.json").json()[0]
    requested, updated = (datetime.fromisoformat(request[k]) for k in ("requested_datetime", "updated_datetime"))
    assert requested <= updated, request
    assert "旺角街市" not in json.dumps(request, ensure_ascii=False)


def test_a_report_without_a_grid_goes_to_the_street_holding_its_community(hk, hk_grids, client):
    """Mong Kok has no grid: the report's case belongs to the street and district holding its community (the
    areas' parents), so 油尖旺區's staff see it and the tracking page names the unit."""
    made = _report(client, MONG_KOK[0] + 0.002, MONG_KOK[1], description="旺角道垃圾")
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    street, district = hk.sql("SELECT c.street_code, c.district_code FROM complaints c JOIN public_reports r "
                              "ON r.complaint_id = c.id WHERE r.tracking = %s", (tracking,))[0]
    assert (street, district) == ("27", "E")
    assert client.get(f"/api/public/reports/{tracking}").json()["unit"] == "油尖旺區"
