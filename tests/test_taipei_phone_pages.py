"""Three pages on a phone (390 px) over Taipei's real files, where a new user found them wanting.

- The street office's map of 大同區 (/map/grids): grid labels that would overlap are hidden at that zoom and shown
  as one zooms in; the unit table is folded behind a button, so the map stays usable.
- The field page (/field) in 中正區, whose grids are cut but have no roster yet: the inspector is told that the place
  has no responsible unit (Chinese, English with lang=en), and the finding is still saved.
- The case page (/cases) in a browser whose locale is English (``--lang=en-US``): the deadline is shown and typed
  year-month-day, as the page writes times, not in the browser's month/day/year.

The city is built once from nothing by tests/real_city.py's fixtures; screenshots go to var/test-artifacts/real-city.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.chromium import PHONE
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    ARTIFACTS,
    READY_GRIDS,
    TAIPEI_STREET,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
)
from tests.test_public_browser import _wait

pytestmark = pytest.mark.browser

#: 中正區: cut into grids, no roster loaded yet (the district office has not named its units).
UNROSTERED = "6300500"

# Each label in the map's view (the grid codes and the place names beneath them): its text, its box on the screen,
# whether it is seen.
LABELS = """(function () {
  var box = document.querySelector('.leaflet-container').getBoundingClientRect();
  return Array.from(document.querySelectorAll('.leaflet-tooltip.grid-code, .hm-label span')).map(function (e) {
    var r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return {text: e.textContent.trim(), left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            x: (r.left + r.right) / 2 - box.left, y: (r.top + r.bottom) / 2 - box.top,
            seen: s.visibility === 'visible' && r.width > 0 && Number(s.opacity) > 0,
            inView: r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom};
  }).filter(function (l) { return l.inView; });
})()"""
READY = READY_GRIDS + " && window.hygieneContextState.ready"
# The unit panel's share of the screen, and whether its table is seen.
PANEL = """(function () {
  var p = document.getElementById('unit-panel').getBoundingClientRect(), t = document.getElementById('unit-table');
  return {share: p.width * p.height / (innerWidth * innerHeight), table: !!t.offsetParent && t.offsetHeight > 0};
})()"""

# The login bar and the unit panel (folded or open): where their boxes meet, if they do.
APART = """(function () {
  var a = document.querySelector('.hm-session').getBoundingClientRect(),
      b = document.getElementById('unit-panel').getBoundingClientRect();
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom ? [a.top, a.bottom, b.top, b.bottom] : [];
})()"""


def _overlaps(labels: list[dict]) -> list[tuple[str, str]]:
    seen = [label for label in labels if label["seen"]]
    return [(a["text"], b["text"]) for i, a in enumerate(seen) for b in seen[i + 1:]
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


@pytest.fixture
def phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        yield browser
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_taipei_grid_page_on_a_phone_hides_colliding_labels_and_folds_the_unit_table(taipei_server, taipei_grids,
                                                                                     phone):
    city = taipei_server
    report = phone.open(f"{city.base}/map/grids?street={TAIPEI_STREET}", ready_js=READY, timeout=60)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    phone.screenshot(ARTIFACTS / "grid-page-phone.png")
    labels = phone.evaluate(LABELS)
    assert _overlaps(labels) == [], _overlaps(labels)
    codes = [label["text"] for label in labels if label["seen"] and "-" in label["text"]]
    hidden = [label for label in labels if not label["seen"]]
    assert len(codes) >= 10 and hidden, (codes, hidden)  # the whole district at a phone's zoom: not all fit
    # The unit table is folded: the map is free but for a bar; the button opens and folds it again.
    panel = phone.evaluate(PANEL)
    assert not panel["table"] and panel["share"] < 0.12, panel
    assert phone.evaluate(APART) == [], "the login bar covers the unit panel"
    toggle = "document.getElementById('unit-toggle')"
    assert phone.evaluate(f"{toggle}.getAttribute('aria-expanded')") == "false"
    phone.evaluate(f"{toggle}.click()")
    opened = phone.evaluate(PANEL)
    assert phone.evaluate(APART) == [], "the login bar covers the opened unit panel"
    assert opened["table"] and phone.evaluate(f"{toggle}.getAttribute('aria-expanded')") == "true", opened
    phone.screenshot(ARTIFACTS / "grid-page-phone-table.png")
    phone.evaluate(f"{toggle}.click()")
    assert not phone.evaluate(PANEL)["table"]
    # Zoomed in on a hidden label, it is shown (and still nothing overlaps).
    first = hidden[0]
    phone.evaluate("(function () { var m = hygieneGridPage.map;"
                   f"m.setView(m.containerPointToLatLng([{first['x']}, {first['y']}]), m.getZoom() + 2, {{animate: false}});"
                   "})()")
    _wait(phone, f"window.hygieneContextState.ready && {LABELS}.some(function (l) {{"
                 f"return l.text === {first['text']!r} && l.seen; }})")
    assert _overlaps(phone.evaluate(LABELS)) == []
    phone.screenshot(ARTIFACTS / "grid-page-phone-zoomed.png")


@pytest.fixture(scope="module")
def unrostered(taipei_server):
    """中正區 cut into 500 m grids without a roster, its inspector, and a round over it and 大同區 (an admin's)."""
    from datetime import UTC, datetime, timedelta

    city = taipei_server
    city.cli("grids", "generate", "--street", UNROSTERED, "--size", 500)
    token = city.cli("users", "add", "zhongzheng-inspector", "--role", "inspector", "--street",
                     UNROSTERED).stdout.strip().splitlines()[-1]
    now = datetime.now(UTC)
    made = httpx.post(city.base + "/api/inspections/rounds", headers={"Authorization": f"Bearer {city.token}"},
                      json={"name": "十二月暗访", "kind": "月度暗访", "streets": [UNROSTERED, TAIPEI_STREET],
                            "starts": (now - timedelta(days=1)).isoformat(),
                            "ends": (now + timedelta(days=6)).isoformat()}, timeout=30)
    assert made.status_code == 201, made.text
    return {"token": token, "round": made.json()["id"]}


def _login(browser, base: str, token: str, path: str) -> None:
    """Log in through the login page, then open ``path``."""
    browser.send("Network.clearBrowserCookies")
    browser.open(base + "/login", ready_js="!!document.getElementById('token')")
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(token)};"
                     "document.querySelector('form').submit()")
    _wait(browser, "location.pathname !== '/login'")
    report = browser.open(base + path, ready_js="document.readyState === 'complete'")
    assert report.console_errors == [], report.console_errors


def _choose(browser, lon: float, lat: float) -> str:
    """Choose a place on the field page's map; the page's text once it has looked the place up."""
    browser.evaluate("document.body.removeAttribute('data-near');"
                     f"hmField.map.fire('click', {{latlng: L.latLng({lat}, {lon})}}); 0")
    _wait(browser, "document.body.hasAttribute('data-near')")
    return browser.evaluate("document.getElementById('fd-form').innerText")


def test_taipei_field_page_says_a_place_has_no_responsible_unit_and_still_saves(taipei_server, unrostered, phone):
    city = taipei_server
    code, lon, lat = city.sql("SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                              "WHERE street_code = %s ORDER BY code LIMIT 1", (UNROSTERED,))[0]
    _login(phone, city.base, unrostered["token"], "/field")
    _wait(phone, "!!window.hmField")
    text = _choose(phone, lon, lat)
    phone.screenshot(ARTIFACTS / "field-no-unit-phone.png")
    assert "尚无责任单位" in text and code in text, text
    # Recorded all the same: sent, stored without a unit, and its line in the list says so.
    phone.evaluate(f"document.getElementById('fd-round').value = '{unrostered['round']}';"
                   "document.querySelector('#fd-items input[value=\"LAN-01\"]').checked = true;"
                   "document.getElementById('fd-note').value = '中正區無責任單位';"
                   "document.getElementById('fd-save').click(); 0")
    _wait(phone, "document.body.dataset.sent === '1' && document.body.dataset.pending === '0'")
    sent = phone.evaluate("document.querySelector('#fd-queue li[data-state=\"sent\"]').innerText")
    assert code in sent and "无责任单位" in sent, sent
    assert city.sql("SELECT grid_code, responsible_unit FROM inspection_findings WHERE description = %s",
                    ("中正區無責任單位",)) == [(code, None)]
    phone.evaluate("document.getElementById('fd-queue').scrollIntoView()")
    phone.screenshot(ARTIFACTS / "field-no-unit-sent-phone.png")
    # A grid of 大同區 has its unit: nothing is said.
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                        "WHERE street_code = %s ORDER BY code LIMIT 1", (TAIPEI_STREET,))[0]
    assert "尚无责任单位" not in _choose(phone, lon, lat)
    # In English.
    phone.open(city.base + "/field?lang=en", ready_js="!!window.hmField")
    text = _choose(phone, *city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                                    "WHERE code = %s", (code,))[0])
    assert "no responsible unit" in text and code in text, text


@pytest.fixture
def english_phone():
    """A Chromium whose locale is English (as a browser set up in English), at phone width."""
    from tests.chromium import Chromium, chromium_binary

    if chromium_binary() is None:
        pytest.skip("chromium is not installed")
    browser = Chromium(("--lang=en-US",))
    try:
        browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
        yield browser
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
        browser.close()


def _type(browser, selector: str, text: str) -> None:
    """Click a field, select what it holds and type ``text`` over it, key by key, as a user does."""
    x, y = browser.evaluate(f"(function () {{ var e = document.querySelector({selector!r}); e.scrollIntoView();"
                            "var r = e.getBoundingClientRect(); return [r.left + 12, r.top + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    browser.evaluate(f"document.querySelector({selector!r}).select && document.querySelector({selector!r}).select()")
    for char in text:
        browser.send("Input.dispatchKeyEvent", type="keyDown", text=char, key=char)
        browser.send("Input.dispatchKeyEvent", type="keyUp", key=char)


def test_taipei_case_deadline_is_year_month_day_in_an_english_browser(taipei_server, taipei_complaints,
                                                                       english_phone):
    city, browser = taipei_server, english_phone
    complaint = taipei_complaints[0]["id"]
    _login(browser, city.base, city.token, f"/cases?street={TAIPEI_STREET}#{complaint}")
    assert browser.evaluate("navigator.language") == "en-US"
    _wait(browser, f"document.body.dataset.detail === '{complaint}' && !!document.getElementById('cs-set')")
    field = "#cs-set [name=due_at]"
    browser.evaluate(f"document.querySelector({field!r}).scrollIntoView()")
    browser.screenshot(ARTIFACTS / "case-deadline-en-US.png")
    # Typed as the page writes dates, the deadline is that one.
    _type(browser, field, "2030-01-31 18:00")
    browser.evaluate("var f = document.getElementById('cs-set'); f.reason.value = '限期整改';"
                     "f.querySelector('button[type=submit]').click()")
    _wait(browser, "!!document.getElementById('cs-ok') || !!(document.getElementById('cs-msg') || {}).innerText")
    assert browser.evaluate("document.getElementById('cs-due').innerText").startswith("2030-01-31 18:00"), \
        browser.evaluate("document.getElementById('cs-detail').innerText")
    # The new form shows the deadline's default as the page writes times: 2030-02-01 18:00.
    shown = browser.evaluate(f"document.querySelector({field!r}).value")
    assert shown == "2030-02-01 18:00", shown
    # The page's own calendar picks a day in the page's language, whatever the browser's.
    browser.evaluate("document.querySelector('#cs-set .cs-pick-day').click()")
    _wait(browser, "!!document.querySelector('#cs-set .cs-calendar')")
    calendar = browser.evaluate("document.querySelector('#cs-set .cs-calendar').innerText")
    assert "日" in calendar and "Sun" not in calendar, calendar
    browser.screenshot(ARTIFACTS / "case-deadline-calendar-en-US.png")
    browser.evaluate("document.querySelector('#cs-set .cs-calendar button[data-day=\"15\"]').click()")
    assert browser.evaluate(f"document.querySelector({field!r}).value")[8:10] == "15"
