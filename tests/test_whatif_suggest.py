"""建议选址 in the what-if panel on /map/coverage, on the real Taipei (tests/real_city.py) in headless Chromium at
laptop width: siting's proposals become draft toilets, as if clicked, the covered share moves by what siting said,
the draft saves as a plan, and a refusal is said in the panel. Before, a planner copied coordinates from the
siting JSON by hand."""

from __future__ import annotations

import json
import math
import re
import time

import pytest

from tests.chromium import DESKTOP
from tests.conftest import REPO
from tests.real_city import TAIPEI_STREET, log_in, taipei, taipei_grids, taipei_server  # noqa: F401 (fixtures)
from tests.test_whatif_browser import READY, _wait

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "var" / "test-artifacts"
PAGE = "/map/coverage?kind=toilets&by=community"
READY_SUGGEST = READY + " && window.hygieneWhatIfSuggestState && hygieneWhatIfSuggestState.started"
DONE = ("hygieneWhatIfSuggestState.answers + hygieneWhatIfSuggestState.errors.length >= 1 && "
        "!hygieneWhatIfSuggestState.running && !hygieneWhatIfState.pending")


def _open(browser, city, lang: str = "") -> None:
    browser.send("Emulation.setDeviceMetricsOverride", **DESKTOP)
    report = browser.open(city.base + PAGE + lang, ready_js=READY_SUGGEST, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    time.sleep(1.0)  # the map's zoom to the areas has ended


def _suggest(browser, count: int, street_name: str) -> str:
    """Fill in the control (the street chosen by its name, as a planner reads it) and press the button; the
    panel's message right after the press."""
    chosen = browser.evaluate(
        "(() => { const s = document.getElementById('hm-suggest-street');"
        f" const o = [...s.options].find(o => o.text === {json.dumps(street_name)});"
        " if (!o) return null; s.value = o.value;"
        f" document.getElementById('hm-suggest-count').value = {count}; return o.value; }})()")
    assert chosen, browser.evaluate("document.getElementById('hm-suggest-street').innerText")
    return browser.evaluate("document.getElementById('hm-suggest-run').click();"
                            "document.getElementById('hm-suggest-msg').textContent")


def _login(browser, city, path: str) -> None:
    log_in(browser, city, path, READY_SUGGEST)
    time.sleep(0.5)  # the map's zoom has ended


def _popup(browser, rank: int) -> str:
    """The popup of suggested site ``rank``, opened by a click on its marker (the number on it)."""
    browser.evaluate("[...document.querySelectorAll('.hm-suggested')]"
                     f".find(m => m.innerText.trim() === '{rank}').click()")
    return _wait(browser, "document.querySelector('.leaflet-popup-content') && "
                          "document.querySelector('.leaflet-popup-content').innerText", timeout=10)


def _village_m2(city) -> dict[str, float]:
    """Each village's area (m²) as the coverage map measures it: what its covered share is a share of."""
    answer = city.get("/api/analysis/coverage", kind="toilets", by="community")
    return {f["properties"]["code"]: f["properties"]["area_km2"] * 1e6 for f in answer.json()["features"]}


def test_three_suggested_toilets_in_datong_become_the_draft_and_save_as_a_plan(taipei_server, browser):
    city = taipei_server
    asked = city.get("/api/analysis/siting", kind="toilets", add=3, street=TAIPEI_STREET)
    assert asked.status_code == 200, asked.text
    siting = asked.json()
    assert len(siting["features"]) == 3 and siting["measure"] == "area_m2"  # Taipei has no population
    try:
        _login(browser, city, PAGE)
        assert "建议选址" in browser.evaluate("document.querySelector('.hm-whatif').innerText")
        assert _suggest(browser, 3, "大同區") == "正在计算…"
        _wait(browser, DONE, timeout=120)
        state, suggest = json.loads(browser.evaluate("JSON.stringify([hygieneWhatIfState, hygieneWhatIfSuggestState])"))
        assert suggest["errors"] == [] and state["errors"] == [], (suggest, state)
        # The API's three sites, in its order, are the draft's three additions: one what-if answer for them all.
        assert [(e["op"], e["lon"], e["lat"]) for e in state["draft"]] == [
            ("add", pytest.approx(f["properties"]["lon"], abs=1e-9), pytest.approx(f["properties"]["lat"], abs=1e-9))
            for f in siting["features"]]
        assert browser.evaluate("document.querySelectorAll('.hm-draft.hm-suggested').length") == 3
        # The map has moved to them: each on screen, none on top of another (at city zoom they lie on one another).
        time.sleep(1.0)  # the zoom has ended
        centres = json.loads(browser.evaluate(
            "JSON.stringify([...document.querySelectorAll('.hm-suggested')].map(m => { const r = "
            "m.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }))"))
        width, height = json.loads(browser.evaluate("JSON.stringify([innerWidth, innerHeight])"))
        assert all(0 < x < width and 0 < y < height for x, y in centres), centres
        assert min(math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1:]) >= 30, centres
        said = browser.evaluate("document.getElementById('hm-suggest-msg').textContent")
        assert said == "已添加 3 处，范围内面积覆盖 {:.1f} → {:.1f} %".format(
            siting["before"]["pct"], siting["after"]["pct"]), said
        # The villages of 大同區 gain the area siting says the sites newly cover (its before → after, measured in the
        # street asked); the city's covered share rises by that and by what a disc reaches over the street's edge.
        gained = siting["after"]["area_m2"] - siting["before"]["area_m2"]
        m2 = _village_m2(city)
        now = {code: browser.evaluate(f"hygieneCoverageLayers.areas['{code}'].feature.properties.covered_area_pct")
               for code in state["areas"]}
        change = {code: (pct - now[code]) / 100 * m2[code] for code, pct in state["areas"].items()}
        assert sum(v for c, v in change.items() if c.startswith(TAIPEI_STREET)) == pytest.approx(gained, rel=0.002)
        rise = state["after"]["covered_area_pct"] - state["before"]["covered_area_pct"]
        assert rise == pytest.approx(100 * sum(change.values()) / sum(m2.values()), rel=0.002)
        assert rise >= 100 * gained / sum(m2.values()) * 0.998
        totals = browser.evaluate("document.getElementById('hm-whatif-totals').innerText")
        before, after = map(float, re.match(r"覆盖面积比例: ([\d.]+) % → ([\d.]+) %", totals).groups())
        assert after - before == pytest.approx(rise, abs=0.011), totals  # as shown, to two decimals
        # Each marker says it is suggested and what it newly covers, as the answer gives it.
        first = siting["features"][0]["properties"]
        label = _popup(browser, 1)
        assert "建议 #1" in label and f"{first['new_area_m2']:,.0f}" in label and "移除" in label, label
        time.sleep(0.5)  # the popup has faded in
        browser.screenshot(ARTIFACTS / "whatif-suggest.png")
        # Saved as a plan: three additions at the suggested places.
        browser.evaluate("document.getElementById('hm-whatif-name').value = '大同區建议选址';"
                         "document.getElementById('hm-whatif-save').click()")
        saved = _wait(browser, "hygieneWhatIfState.saved")
    finally:  # the session cookie is the host's, not the port's
        browser.send("Network.clearBrowserCookies")
    plan = city.get(f"/api/plans/{saved}").json()
    assert plan["name"] == "大同區建议选址" and [e["op"] for e in plan["edits"]] == ["add"] * 3
    assert [(e["lon"], e["lat"]) for e in plan["edits"]] == [
        (pytest.approx(f["properties"]["lon"]), pytest.approx(f["properties"]["lat"])) for f in siting["features"]]


def test_the_control_speaks_english_with_lang_en(taipei_server, browser):
    city = taipei_server
    _open(browser, city, "&lang=en")
    panel = browser.evaluate("document.getElementById('hm-whatif-suggest').innerText")
    assert "Suggest sites" in panel and "whole city" in panel and "建议" not in panel, panel
    name = city.one("SELECT coalesce(name_en, name) FROM admin_areas WHERE code = %s", (TAIPEI_STREET,))
    assert _suggest(browser, 2, name) == "computing…"
    _wait(browser, DONE, timeout=120)
    said = browser.evaluate("document.getElementById('hm-suggest-msg').textContent")
    assert re.fullmatch(r"2 added; covered area where asked [\d.]+ → [\d.]+ %", said), said
    assert browser.evaluate("hygieneWhatIfState.edits") == 2
    popup = _popup(browser, 1)
    assert "Suggested #1" in popup and "newly covered area (m²)" in popup and "Remove" in popup, popup


@pytest.mark.parametrize("lang", ["", "&lang=en"])
def test_a_refused_street_is_said_in_the_panel(taipei_server, browser, lang):
    """A street siting refuses (here a village's code, which a stale page could still hold) is the API's 4xx
    message in the panel, in the page's language, and no draft is added."""
    city = taipei_server
    village = city.one("SELECT code FROM admin_areas WHERE level = 'community' ORDER BY code LIMIT 1")
    refused = city.get("/api/analysis/siting", kind="toilets", add=3, street=village, lang="en" if lang else "zh")
    assert 400 <= refused.status_code < 500, refused.text
    said = refused.json()["detail"] if lang else refused.json()["detail_zh"]
    _open(browser, city, lang)
    browser.evaluate("(() => { const s = document.getElementById('hm-suggest-street');"
                     f" s.add(new Option('stale', {json.dumps(village)})); s.value = {json.dumps(village)}; }})()")
    browser.evaluate("document.getElementById('hm-suggest-run').click()")
    _wait(browser, DONE, timeout=60)
    assert browser.evaluate("document.getElementById('hm-suggest-msg').textContent") == said
    assert browser.evaluate("hygieneWhatIfSuggestState.errors") == [said]
    assert browser.evaluate("[hygieneWhatIfState.edits, hygieneWhatIfState.sent]") == [0, 0]
    assert not browser.evaluate("document.getElementById('hm-suggest-run').disabled")  # ready to ask again
