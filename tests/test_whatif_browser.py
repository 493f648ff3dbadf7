"""The what-if planner on /map/coverage in headless Chromium: a draft toilet added by a click and dragged with
the mouse changes its community's covered share on the map, and nothing is written (issue 18)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest

from data.db import connect

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
READY = ("window.hygieneAnalysisState && hygieneAnalysisState.ready && window.hygieneWhatIfState "
         "&& hygieneWhatIfState.started")


@pytest.fixture(scope="module")
def gap(demo_db):
    """A community whose centre lies far from every toilet: (code, lon, lat), and the toilet count."""
    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM admin_areas "
                    "WHERE level = 'community') a ORDER BY (SELECT min(ST_Distance(p::geography, t.geom::geography)) "
                    "FROM toilets t) DESC LIMIT 1")
        found = cur.fetchone()
        cur.execute("SELECT count(*) FROM toilets")
        count = cur.fetchone()[0]
    conn.close()
    return found, count


def _changing_spot(server: str, code: str, lon: float, lat: float) -> tuple[float, float]:
    """Where to drag the draft: ~1.7 km away (west first), out of reach of community ``code``, at a spot where a
    toilet changes some area's coverage (the what-if lists only the areas a draft changes)."""
    for dx, dy in ((-0.02, 0), (0.02, 0), (0, -0.016), (0, 0.016), (-0.014, -0.011), (0.014, 0.011),
                   (-0.014, 0.011), (0.014, -0.011)):
        answer = httpx.post(server + "/api/analysis/coverage/whatif", timeout=60,
                            json={"kind": "toilets", "edits": [{"op": "add", "lon": lon + dx, "lat": lat + dy}]})
        codes = [a["code"] for a in answer.json().get("areas", [])] if answer.status_code == 200 else []
        if codes and code not in codes:
            return lon + dx, lat + dy
    raise AssertionError(f"no spot ~1.7 km from {lon}, {lat} where a toilet changes coverage")


def _wait(browser, expression: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.evaluate(expression)
        if value:
            return value
        time.sleep(0.2)
    state = browser.evaluate("JSON.stringify([hygieneWhatIfState, hygieneAnalysisState.errors])")
    raise AssertionError(f"timed out waiting for {expression}: {state}")


def _mouse(browser, kind: str, x: float, y: float) -> None:
    browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def test_dragging_a_draft_toilet_changes_the_covered_share(browser, server, demo_db, gap):
    (code, lon, lat), toilets = gap
    report = browser.open(server + "/map/coverage?kind=toilets&by=community", ready_js=READY, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    assert "规划草案" in browser.evaluate("document.querySelector('.hm-whatif').innerText")
    shown = browser.evaluate(f"hygieneCoverageLayers.areas['{code}'].feature.properties.covered_area_pct")
    time.sleep(1.0)  # the map's zoom to the areas has ended
    browser.evaluate("document.getElementById('hm-whatif-add').click()")
    at = browser.evaluate(f"hygieneWhatIfState.pixel({lon}, {lat})")
    _mouse(browser, "mousePressed", at["x"], at["y"])
    _mouse(browser, "mouseReleased", at["x"], at["y"])
    _wait(browser, "hygieneWhatIfState.answers >= 1 && !hygieneWhatIfState.pending")
    added = browser.evaluate(f"hygieneWhatIfState.areas['{code}']")
    assert added > shown  # a toilet where there was none covers more of the community
    assert browser.evaluate("hygieneWhatIfState.after.covered_area_pct > hygieneWhatIfState.before.covered_area_pct")
    # Drag the draft ~1.7 km (into the city) with the mouse (pressed on the marker, moved in steps, released): out of the
    # community (a disc wholly inside it and clear of other toilets covers the same share wherever it stands).
    to_lon, to_lat = _changing_spot(server, code, lon, lat)
    to = browser.evaluate(f"hygieneWhatIfState.pixel({to_lon}, {to_lat})")
    _mouse(browser, "mousePressed", at["x"], at["y"])
    for k in range(1, 11):
        _mouse(browser, "mouseMoved", at["x"] + (to["x"] - at["x"]) * k / 10, at["y"] + (to["y"] - at["y"]) * k / 10)
    _mouse(browser, "mouseReleased", to["x"], to["y"])
    _wait(browser, "hygieneWhatIfState.answers >= 2 && !hygieneWhatIfState.pending")
    moved = browser.evaluate("hygieneWhatIfState.draft[0]")
    assert moved["op"] == "add" and (moved["lon"], moved["lat"]) == pytest.approx((to_lon, to_lat), abs=0.002)
    # What the map shows for the community now: the draft's figure where it still reaches it, else today's.
    dragged = browser.evaluate(f"hygieneWhatIfState.areas['{code}']")
    assert (dragged if dragged is not None else shown) < added - 1  # the share went with the toilet
    outline = browser.evaluate(f"hygieneCoverageLayers.areas['{code}'].options.weight")
    assert outline == (1 if dragged is None else 3)  # outlined while the draft changes it, else as before
    changed = browser.evaluate("Object.keys(hygieneWhatIfState.areas)")
    assert changed and all(browser.evaluate(f"hygieneCoverageLayers.areas['{c}'].options.weight") == 3
                           for c in changed)  # where the draft now stands, the areas it changes are outlined
    assert browser.evaluate("hygieneWhatIfState.errors") == []
    totals = browser.evaluate("document.getElementById('hm-whatif-totals').innerText")
    assert "→" in totals
    # The covered km² and its change: a city's share may not move in two decimals, its km² does.
    after = browser.evaluate("hygieneWhatIfState.after.covered_area_km2")
    before = browser.evaluate("hygieneWhatIfState.before.covered_area_km2")
    assert f"覆盖面积: {before:.3f} km² → {after:.3f} km²" in totals, totals
    browser.screenshot(ARTIFACTS / "coverage-whatif.png")
    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM toilets")
        assert cur.fetchone()[0] == toilets  # nothing written
    conn.close()


def _paused(browser, timeout: float = 30.0) -> dict:
    """The next what-if request Chromium holds (Fetch domain), taken off the event list."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        browser.send("Runtime.evaluate", expression="1")  # reads the events that came meanwhile
        for event in browser.events:
            if event.get("method") == "Fetch.requestPaused":
                browser.events.remove(event)
                return event["params"]
        time.sleep(0.1)
    raise AssertionError("no what-if request was sent")


def test_a_busy_server_delays_the_draft_without_an_error(browser, server, gap):
    """The what-if route is costly work (api/limits.py): edits made while a request is in flight coalesce into
    one next request, and a 429 is waited out (Retry-After) and the latest draft sent again; no error shown."""
    (code, lon, lat), _ = gap
    browser.open(server + "/map/coverage?kind=toilets&by=community", ready_js=READY, timeout=90)
    shown = browser.evaluate(f"hygieneCoverageLayers.areas['{code}'].feature.properties.covered_area_pct")
    time.sleep(1.0)  # the map's zoom to the areas has ended
    browser.evaluate("document.getElementById('hm-whatif-add').click()")
    browser.send("Fetch.enable", patterns=[{"urlPattern": "*/api/analysis/coverage/whatif", "requestStage": "Request"}])
    try:
        for k in range(3):  # three drafts added one after the other; the first request is held meanwhile
            at = browser.evaluate(f"hygieneWhatIfState.pixel({lon} - {k} * 0.01, {lat})")  # apart on the map
            _mouse(browser, "mousePressed", at["x"], at["y"])
            _mouse(browser, "mouseReleased", at["x"], at["y"])
            if k == 0:
                first = _paused(browser)
        assert len(json.loads(first["request"]["postData"])["edits"]) == 1
        assert browser.evaluate("[hygieneWhatIfState.sent, hygieneWhatIfState.edits]") == [1, 3]  # one in flight
        busy = json.dumps({"detail": "the server already runs 2 costly request(s)"}).encode()
        browser.send("Fetch.fulfillRequest", requestId=first["requestId"], responseCode=429,
                     responseHeaders=[{"name": "Retry-After", "value": "1"},
                                      {"name": "Content-Type", "value": "application/json"}],
                     body=base64.b64encode(busy).decode())
        again = _paused(browser)  # after Retry-After: the latest draft, all three edits at once
        assert len(json.loads(again["request"]["postData"])["edits"]) == 3
        browser.send("Fetch.continueRequest", requestId=again["requestId"])
        _wait(browser, "hygieneWhatIfState.answers >= 1 && !hygieneWhatIfState.pending")
    finally:
        browser.send("Fetch.disable")
    state = browser.evaluate("hygieneWhatIfState")
    assert state["errors"] == [] and state["retries"] == 1 and state["sent"] == 2 and state["answers"] == 1
    assert browser.evaluate("document.getElementById('hm-whatif-msg').textContent") == ""
    assert state["areas"][code] > shown  # the share still updates
    assert "(3 " in browser.evaluate("document.getElementById('hm-whatif-totals').innerText")  # 3 edits


def test_whatif_panel_is_off_where_it_cannot_answer(browser, server):
    browser.open(server + "/map/coverage?kind=toilets&by=street&lang=en",
                 ready_js="window.hygieneAnalysisState && hygieneAnalysisState.ready", timeout=90)
    assert browser.evaluate("document.querySelectorAll('.hm-whatif').length") == 0
    assert browser.evaluate("window.hygieneWhatIfState.started") is False


def _refused(browser, server: str, lang: str, lon: float, lat: float, body: dict) -> None:
    """Open the planner in ``lang``, add a draft at (lon, lat) and answer its what-if request with 422 ``body``;
    any request sent after it (the draft sent again) goes to the server."""
    browser.open(server + "/map/coverage?kind=toilets&by=community" + lang, ready_js=READY, timeout=90)
    time.sleep(1.0)  # the map's zoom to the areas has ended
    browser.evaluate("document.getElementById('hm-whatif-add').click()")
    browser.send("Fetch.enable", patterns=[{"urlPattern": "*/api/analysis/coverage/whatif", "requestStage": "Request"}])
    try:
        at = browser.evaluate(f"hygieneWhatIfState.pixel({lon}, {lat})")
        _mouse(browser, "mousePressed", at["x"], at["y"])
        _mouse(browser, "mouseReleased", at["x"], at["y"])
        first = _paused(browser)
        browser.send("Fetch.fulfillRequest", requestId=first["requestId"], responseCode=422,
                     responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
                     body=base64.b64encode(json.dumps(body).encode()).decode())
        _wait(browser, "hygieneWhatIfState.errors.length || hygieneWhatIfState.takenBack")
    finally:
        browser.send("Fetch.disable")


def test_a_refusal_is_said_in_the_page_language(browser, server, gap):
    """A refused draft is said in Chinese on a Chinese page (the answer's detail_zh), in English on an English one;
    a draft beyond the city is still recognised (by the English detail) and taken back on a Chinese page."""
    (_, lon, lat), _ = gap
    body = {"detail": "edits[0].lon: must be a number between -180 and 180",
            "detail_zh": "edits[0].lon：须为 -180 至 180 之间的数字"}
    for lang, said in (("", body["detail_zh"]), ("&lang=en", body["detail"])):
        _refused(browser, server, lang, lon, lat, body)
        assert browser.evaluate("hygieneWhatIfState.errors") == [said]
        assert browser.evaluate("document.getElementById('hm-whatif-msg').textContent") == said
    outside = {"detail": "edits[0]: (0, 0) is outside the city: more than 300 m from every admin area (the city "
                         "spans lon 121 to 122, lat 37 to 38)",
               "detail_zh": "edits[0]：(0, 0) 在城市范围之外：距所有行政区划都超过 300 米（本市经度 121 至 122，纬度 37 至 38）"}
    _refused(browser, server, "", lon, lat, outside)
    state = browser.evaluate("hygieneWhatIfState")
    assert state["takenBack"] == 1 and state["errors"] == [] and state["edits"] == 0, state
    assert browser.evaluate("document.getElementById('hm-whatif-msg').textContent").startswith("该点在城市范围外")
