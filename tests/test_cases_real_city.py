"""The case page (/cases) on a real city: Yantai built from its real Gaode outlines (tests/test_yantai_paths.py's
fixtures: 向阳街道 with grids and a roster, a street office user). A complaint filed at a point of the street is in
the street office's list on a phone, with its time in the city's zone; opened, it names its grid and unit, and
registering it (受理→立案) with a note is written and shown."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
import pytest

from tests.test_cases_page import CITY_ZONE, buttons, fits, problems, rows, shown
from tests.test_public_browser import _wait

# Yantai's fixtures (the city from its real outlines, its street with grids and users, the server), built once here.
from tests.test_yantai_paths import WEST, WEST_UNIT, city, site, yantai  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_yantai_street_office_registers_a_complaint_on_its_phone(browser, site):  # noqa: F811
    lon, lat, grid = _point(site)
    category = site.one("SELECT name FROM event_types ORDER BY name LIMIT 1")
    reported = datetime.now(CITY_ZONE).replace(microsecond=0) - timedelta(hours=3)
    made = httpx.post(site.base + "/api/complaints", timeout=60,
                      headers={"Authorization": f"Bearer {site.tokens['admin']}"},
                      json={"lon": lon, "lat": lat, "category": category, "source": "12345",
                            "description": "路边垃圾堆放", "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%S")})
    assert made.status_code == 201, made.text
    complaint = made.json()
    assert complaint["grid_code"] == grid
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        browser.send("Network.clearBrowserCookies")
        browser.open(site.base + "/cases", ready_js="!!document.getElementById('cs-login-link')")
        browser.evaluate("document.getElementById('cs-login-link').click()")
        _wait(browser, "!!document.getElementById('token')")
        browser.evaluate(f"document.getElementById('token').value = {json.dumps(site.tokens['street'])};"
                         "document.querySelector('form').submit()")
        _wait(browser, "location.pathname === '/cases' && document.body.hasAttribute('data-rows')")
        row = next(r for r in rows(browser) if r["id"] == complaint["id"])
        assert row["cells"][3] == reported.strftime("%Y-%m-%d %H:%M") == shown(complaint["reported_at"])
        assert fits(browser)
        browser.evaluate(f"document.querySelector('#cs-rows tr[data-id=\"{complaint['id']}\"]').click()")
        _wait(browser, f"document.body.dataset.detail === '{complaint['id']}'")
        _wait(browser, f"document.getElementById('cs-detail').innerText.indexOf({json.dumps(WEST_UNIT)}) >= 0")
        text = browser.evaluate("document.getElementById('cs-detail').innerText")
        assert grid in text and "路边垃圾堆放" in text
        assert buttons(browser) == ["立案", "结案"]
        browser.evaluate("document.getElementById('cs-note').value = '转向阳街道环卫一队';"
                         "document.querySelector('#cs-step button[data-to=\"立案\"]').click()")
        _wait(browser, "document.body.dataset.status === '立案'")
        assert "转向阳街道环卫一队" in browser.evaluate("document.getElementById('cs-history').innerText")
        assert site.one("SELECT status FROM complaints WHERE id = %s", (complaint["id"],)) == "立案"
        assert fits(browser)
        assert problems(browser, site.base) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def _point(city_):
    """A point inside the first grid of the western community, and that grid's code."""
    return city_.sql("SELECT ST_X(p), ST_Y(p), code FROM (SELECT ST_PointOnSurface(geom) p, code FROM grids "
                     "WHERE community_code = %s ORDER BY code LIMIT 1) g", (WEST,))[0]
