"""The planner's pages on Taipei in headless Chromium at desktop width (tests/taipei_planner.py): the draft
planner on /map/coverage, its legend, the plans list."""

from __future__ import annotations

import time

import pytest

from tests.taipei_planner import DATONG, client, taipei, taipei_base  # noqa: F401 (fixtures)


@pytest.mark.browser
def test_a_draft_clicked_outside_the_city_is_taken_back_on_the_map(taipei_base, browser):
    """At desktop width the map shows land and sea around Taipei: a draft toilet clicked there was refused by the
    what-if route, stayed on the map, and every later draft failed with an English message until it was found and
    removed. It is now taken back, with a Chinese notice, and the draft's other toilets answered again."""
    from tests.test_whatif_browser import READY, _mouse, _wait

    report = browser.open(taipei_base + "/map/coverage?kind=toilets&by=community", ready_js=READY, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    time.sleep(1.0)  # the map's zoom to the areas has ended
    browser.evaluate("document.getElementById('hm-whatif-add').click()")
    for k, (lon, lat) in enumerate(((DATONG[0]["lon"], DATONG[0]["lat"]), (121.40, 25.05))):  # 大同區, then 新北
        at = browser.evaluate(f"hygieneWhatIfState.pixel({lon}, {lat})")
        assert 0 < at["x"] < 1280 and 0 < at["y"] < 700, at  # on screen
        _mouse(browser, "mousePressed", at["x"], at["y"])
        _mouse(browser, "mouseReleased", at["x"], at["y"])
        _wait(browser, f"hygieneWhatIfState.sent >= {k + 1} && !hygieneWhatIfState.pending")
    _wait(browser, "hygieneWhatIfState.takenBack === 1 && !hygieneWhatIfState.pending")
    state = browser.evaluate("hygieneWhatIfState")
    assert state["errors"] == [] and len(state["draft"]) == 1, state
    assert state["draft"][0]["lon"] == pytest.approx(DATONG[0]["lon"], abs=0.001)
    assert "城市范围外" in browser.evaluate("document.getElementById('hm-whatif-msg').textContent")
    assert state["after"]["covered_area_pct"] > state["before"]["covered_area_pct"]  # the toilet in 大同區 counts
    assert browser.evaluate("document.querySelectorAll('.hm-draft').length") == 1


@pytest.mark.browser
def test_the_coverage_legend_of_a_city_without_population_shows_a_dash_not_a_share(taipei_base, browser):
    """Taipei has no population: the legend's total and the popups said "覆盖人口比例 — %"; now a bare dash."""
    from tests.test_whatif_browser import READY

    report = browser.open(taipei_base + "/map/coverage?kind=toilets&by=community", ready_js=READY, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    assert "覆盖面积比例 42.5 %" in legend and "— %" not in legend and "覆盖人口比例 —" in legend, legend
    popup = browser.evaluate("hygieneCoverageLayers.popup(hygieneCoverageLayers.areas['6300600012'].feature.properties)")
    assert "— %" not in popup and "100.0 %" in popup, popup


@pytest.mark.browser
def test_the_coverage_map_of_a_kind_taipei_has_none_of_says_so_in_its_legend(taipei_base, browser):
    """Taipei's files hold no transfer station: the map drew the whole city as 服务盲区 and only the API said why;
    the legend says it too."""
    from tests.test_whatif_browser import READY

    report = browser.open(taipei_base + "/map/coverage?kind=transfer_stations", ready_js=READY, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    assert "没有垃圾转运站" in browser.evaluate("document.querySelector('.hm-legend .hm-warning').innerText")


@pytest.mark.browser
def test_a_long_plan_name_does_not_crush_the_plans_list(client, taipei_base, browser):
    """A 200-character name (the longest allowed) took the /plans table's width at desktop size: the radius,
    date and level columns broke into one character a line. The name now wraps in its own column."""
    name = "大同區公廁補點方案" * 22 + "（第二版）"[:2]
    assert len(name) == 200
    assert client.post("/api/plans", json={"name": name, "kind": "toilets", "edits": DATONG}).status_code == 201
    report = browser.open(taipei_base + "/plans", timeout=60)
    assert not report.timed_out and report.console_errors == []
    lines = ("(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector(%r));"
             " return r.getClientRects().length; })()")
    row = browser.evaluate("[...document.querySelectorAll('#plans tbody tr')].find(tr => tr.innerText.includes("
                           f"{name[:20]!r})).id")
    for cell in ("td:nth-child(4)", "td:nth-child(5)", "td:nth-child(8)"):  # radius, level, saved at
        assert browser.evaluate(lines % f"#{row} {cell}") == 1, cell
    width = browser.evaluate(f"document.querySelector('#{row} td:nth-child(2)').getBoundingClientRect().width")
    assert width < 0.45 * browser.evaluate("document.querySelector('#plans').getBoundingClientRect().width")


@pytest.mark.browser
def test_a_page_asked_for_what_it_cannot_show_says_why_as_a_page(taipei_base, browser):
    """A planner types /map/coverage?kind=markets (no standard gives markets a service radius): the browser showed
    the API's raw JSON. It is a page in the planner's language with the reason; the API itself still answers JSON."""
    for lang, title, said in (("", "页面无法显示（422）", "radius：没有标准规定农贸市场的服务半径"),
                              ("&lang=en", "This page cannot be shown (422)", "radius: no standard")):
        report = browser.open(taipei_base + "/map/coverage?kind=markets" + lang, timeout=60)
        assert not report.timed_out
        assert browser.evaluate("document.querySelector('h1').innerText") == title
        assert browser.evaluate("document.getElementById('hm-error').innerText").startswith(said)
    browser.open(taipei_base + "/api/analysis/coverage?kind=markets", timeout=60)
    assert browser.evaluate("JSON.parse(document.body.innerText).detail").startswith("radius: no standard")


@pytest.mark.browser
@pytest.mark.parametrize("lang, said", [("zh", "方法: 直线距离（要求步行距离，但没有道路数据）"),
                                        ("en", "Method: straight line (walking asked, but there are no roads)")])
def test_walking_asked_in_a_city_without_roads_is_said_in_the_legend(taipei_base, browser, lang, said):
    """Taipei was imported without roads: /map/coverage?method=walk drew straight-line coverage and its legend said
    only 直线距离, as if walking had not been asked; the command and the API said why, the page did not."""
    report = browser.open(taipei_base + f"/map/coverage?kind=toilets&method=walk&lang={lang}",
                          ready_js="window.hygieneAnalysisState && hygieneAnalysisState.ready", timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    assert said in browser.evaluate("document.querySelector('.hm-legend').innerText")
