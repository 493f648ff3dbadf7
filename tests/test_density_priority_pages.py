"""The density and priority maps (/map/density, /map/priority) on Taipei built from nothing (tests/real_city.py).

A street office reads which areas fall short of the planning band and which grids to inspect first on a map,
not in a JSON answer. Taipei's real files: 12 districts with their district offices (the street level), 456 villages
(里), 1,544 public toilets, 4,024 garbage-truck stops, 大同區's villages cut into 500 m grids, complaints at the truck
stops. Yantai (11 district outlines, nothing else) is the city without grids. Credits: data.taipei (Open Government
Data License, Taiwan 1.0); Gaode's district outlines of Yantai.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    ARTIFACTS,
    READY_ANALYSIS,
    TAIPEI_STREET,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
    yantai,
)
from tests.test_analysis_controls import PANEL, PHONE, form_of

LEGEND = "document.querySelector('.hm-legend').innerText"
# The first drawn feature's popup, opened as a click would (the page keeps its layer for this).
POPUP = ("(function () { var l = hygieneAnalysisLayer.getLayers()[0]; l.openPopup();"
         " return document.querySelector('.leaflet-popup-content').innerText; })()")

# The legend's clashes with the page's other boxes (or the screen's edge).
LEGEND_CLASHES = """(function () {
  var r = document.querySelector('.hm-legend').getBoundingClientRect(), clashes = [];
  ['#hm-title', '#hm-controls', '.hm-session', '.leaflet-control-zoom', '.leaflet-control-scale'].forEach(function (s) {
    var e = document.querySelector(s), b = e && e.getBoundingClientRect();
    if (b && r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) clashes.push(s);
  });
  if (r.left < 0 || r.right > innerWidth || r.top < 0 || r.bottom > innerHeight) clashes.push('off the screen');
  return clashes;
})()"""


def _palette() -> tuple[dict, list]:
    """The pages' colours: the density verdicts' and the priority classes' (darkest first)."""
    from layers.web.analysis_page import RANK_CLASSES, STATUS_COLOURS

    return STATUS_COLOURS, [colour for _, colour in RANK_CLASSES]


def _drawn(browser, city, path: str, shot: str) -> dict:
    """``path`` drawn in Chromium without a console error or failed request; the page's state, a screenshot."""
    report = browser.open(city.base + path, ready_js=READY_ANALYSIS, timeout=90)
    browser.screenshot(ARTIFACTS / shot)
    assert not report.timed_out, f"{path} did not finish drawing"
    assert report.console_errors == [] and report.failed_requests == [], (report.console_errors,
                                                                          report.failed_requests)
    state = browser.evaluate("hygieneAnalysisState")
    assert state["errors"] == [], state["errors"]
    return state


def test_the_index_links_both_maps(taipei_server):
    for lang, suffix in (("zh", ""), ("en", "?lang=en")):
        page = taipei_server.get("/", lang=lang).text
        assert f'href="/map/density{suffix}"' in page and f'href="/map/priority{suffix}"' in page, lang


@pytest.mark.parametrize("path,query,named", [
    ("/map/density", {"kind": "fountains"}, "kind"),
    ("/map/density", {"by": "planet"}, "by"),
    ("/map/density", {"street": "６３００６００"}, "street"),
    ("/map/priority", {"limit": "0"}, "limit"),
    ("/map/priority", {"since": "last spring"}, "since"),
])
def test_a_bad_parameter_is_refused_as_the_api_refuses_it(taipei_server, path, query, named):
    """Not an empty map: the page answers the API's 422, naming the parameter."""
    page = taipei_server.get(path, **query)
    api = taipei_server.get(path.replace("/map/", "/api/analysis/"), **query)
    assert page.status_code == api.status_code == 422, (page.status_code, page.text[:300])
    assert named in page.text and page.json()["detail"] == api.json()["detail"]


@pytest.mark.parametrize("path,query", [
    ("/map/density", {"kind": "garbage_points", "by": "community", "street": TAIPEI_STREET, "lang": "en"}),
    ("/map/density", {"kind": "toilets", "by": "street", "lang": "zh"}),
    ("/map/priority", {"street": TAIPEI_STREET, "since": "2026-01-01", "limit": "20", "lang": "zh"}),
    ("/map/priority", {"lang": "en"}),
])
def test_the_panel_holds_the_pages_query_and_its_downloads(taipei_server, path, query):
    """Submitting the form unchanged asks the page the user is on; XLSX and CSV answer the same query."""
    form = form_of(taipei_server, path, **query)
    assert form.values() == {k: [v] for k, v in query.items()}
    for fmt in ("xlsx", "csv"):
        link = form.links[f"hm-download-{fmt}"]
        assert urlsplit(link).path == path.replace("/map/", "/api/analysis/")
        assert parse_qs(urlsplit(link).query) == {**{k: [v] for k, v in query.items()}, "format": [fmt]}
        answer = taipei_server.get(link)
        assert answer.status_code == 200 and len(answer.content) > 200, answer.text[:300]


def test_the_panel_offers_taipeis_streets_levels_and_kinds(taipei_server):
    city = taipei_server
    density = form_of(city, "/map/density")
    streets = dict(city.sql("SELECT code, name FROM admin_areas WHERE level = 'street'"))
    offered = {v: t for v, t, _ in density.selects["street"]}
    assert offered.pop("") == "全市" and offered == {c: f"{n} {c}" for c, n in streets.items()}
    assert len(offered) == 12 and offered[TAIPEI_STREET] == f"大同區 {TAIPEI_STREET}"
    # Without `by` the page shows (and its form holds) the street level, as the API answers.
    assert [v for v, _, chosen in density.selects["by"] if chosen] == ["street"]
    assert dict((v, t) for v, t, _ in density.selects["kind"])["toilets"] == "公共厕所（1,544）"
    priority = form_of(city, "/map/priority", street=TAIPEI_STREET)
    assert [v for v, _, chosen in priority.selects["street"] if chosen] == [TAIPEI_STREET]
    assert set(priority.inputs) >= {"since", "limit"}


@pytest.mark.browser
@pytest.mark.parametrize("lang,words", [("zh", ["依据", "低于标准", "符合标准", "高于标准", "合计"]),
                                        ("en", ["Rule", "Below the standard", "Within the standard", "Total"])])
def test_the_density_map_colours_each_village_by_its_verdict_and_names_the_rule(taipei_server, browser, lang, words):
    city = taipei_server
    answer = city.get("/api/analysis/density", kind="toilets", by="community", lang=lang).json()
    state = _drawn(browser, city, f"/map/density?kind=toilets&by=community&lang={lang}", f"density-{lang}.png")
    assert state["features"] == len(answer["features"]) == 456
    verdicts = {f["properties"]["code"]: f["properties"]["status"] for f in answer["features"]}
    assert len(set(verdicts.values())) >= 2, set(verdicts.values())  # Taipei's villages are not all alike
    colours = _palette()[0]
    assert state["fills"] == {code: colours[status] for code, status in verdicts.items()}
    legend = browser.evaluate(LEGEND)
    rule = answer["rules"][0]
    assert rule["text"] in legend and rule["source"] in legend, legend  # the band and where it comes from
    assert answer["basis_note"] in legend  # Taipei has no land use: the whole area at the built-up band
    for word in words:
        assert word in legend, (word, legend)
    popup = browser.evaluate(POPUP)
    first = answer["features"][0]["properties"]
    said = ["设施数量", "每平方公里", "每万人", "标准范围（座）", "判定"] if lang == "zh" else \
        ["Facilities", "Per km²", "Per 10,000 residents", "Expected", "Status"]
    name = (first["name_en"] or first["name"]) if lang == "en" else first["name"]
    assert name in popup and all(w in popup for w in said), popup
    if lang == "en":
        assert "设施" not in legend + popup and "依据" not in legend


@pytest.mark.browser
def test_a_kind_without_a_standard_is_counted_not_judged(taipei_server, browser):
    """Garbage-truck stops have no density band: every district office grey, the legend saying why."""
    city = taipei_server
    answer = city.get("/api/analysis/density", kind="garbage_points").json()
    state = _drawn(browser, city, "/map/density?kind=garbage_points", "density-garbage-points.png")
    assert state["features"] == len(answer["features"]) == 12 and answer["rules"] == []
    assert set(state["fills"].values()) == {_palette()[0]["none"]}
    legend = browser.evaluate(LEGEND)
    assert answer["basis_note"] in legend and "无密度标准：仅计数，不作判断" in legend
    assert "低于标准" not in legend.replace("不作低于", "")  # no below / within / above swatches


@pytest.mark.browser
@pytest.mark.parametrize("lang,words", [("zh", ["巡查优先级评分", "投诉热点", "0.25", "逾期投诉", "排名前 10 %", "非国家标准"]),
                                        ("en", ["Inspection priority score", "Hot spot", "0.25", "Overdue complaints",
                                                "Rank: top 10 %", "not a standard"])])
def test_the_priority_map_colours_grids_by_rank_and_names_the_scores_parts(taipei_complaints, taipei_server,
                                                                            browser, lang, words):
    city = taipei_server
    answer = city.get("/api/analysis/priority", street=TAIPEI_STREET, lang=lang).json()
    grids = city.one("SELECT count(*) FROM grids WHERE street_code = %s", (TAIPEI_STREET,))
    state = _drawn(browser, city, f"/map/priority?street={TAIPEI_STREET}&lang={lang}", f"priority-{lang}.png")
    assert state["features"] == len(answer["features"]) == answer["ranked"] == grids > 10
    top = next(f["properties"] for f in answer["features"] if f["properties"]["rank"] == 1)
    assert top["score"] > 0
    classes = _palette()[1]
    assert state["fills"][top["code"]] == classes[0]  # the first to inspect, darkest
    last = max(answer["features"], key=lambda f: f["properties"]["rank"])["properties"]
    assert state["fills"][last["code"]] == classes[-1]
    assert len(set(state["fills"].values())) == len(classes)
    legend = browser.evaluate(LEGEND)
    for word in words:
        assert word in legend, (word, legend)
    popup = browser.evaluate(POPUP)
    first = answer["features"][0]["properties"]
    assert f"{first['rank']} / {grids}" in popup and ("评分" if lang == "zh" else "Score") in popup, popup
    if lang == "en":
        assert "网格" not in popup and "投诉" not in legend, (popup, legend)


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/map/density?kind=toilets&by=community",
                                  f"/map/priority?street={TAIPEI_STREET}"])
def test_nothing_covers_anything_on_a_phone_or_a_desktop(taipei_server, browser, path):
    """At 390 px the panel is one folded line, covering nothing, and the legend clears the session bar; at 1280 px
    the panel is open and still nothing covers anything."""
    name = urlsplit(path).path[5:]
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        _drawn(browser, taipei_server, path, f"{name}-phone.png")
        box = browser.evaluate(PANEL)
        assert not box["open"] and box["clashes"] == [], box
        assert browser.evaluate(LEGEND_CLASHES) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
    try:
        _drawn(browser, taipei_server, path, f"{name}-desktop.png")
        box = browser.evaluate(PANEL)
        assert box["open"] and box["clashes"] == [], box
        assert browser.evaluate(LEGEND_CLASHES) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


@pytest.mark.browser
def test_a_city_without_grids_is_told_why_on_the_priority_map(yantai, browser):
    """Yantai has districts only: the API ranks nothing and says why; the page says the same, not an empty map."""
    from tests.chromium import serve_app

    with serve_app(yantai.url) as base:
        yantai.base = base
        for lang in ("zh", "en"):
            answer = yantai.get("/api/analysis/priority", lang=lang).json()
            assert answer["features"] == [] and answer["missing"][0] == "streets"
            report = browser.open(f"{base}/map/priority?lang={lang}", ready_js=READY_ANALYSIS, timeout=60)
            browser.screenshot(ARTIFACTS / f"priority-no-grids-{lang}.png")
            assert not report.timed_out and report.console_errors == [], report.console_errors
            shown = browser.evaluate("document.getElementById('hm-status').textContent")
            # In words a web user can act on (ask an administrator), not the command line the API answers with.
            assert shown == answer["warning_page"] and "grids generate" not in shown, shown
            assert "hygiene-map" not in shown and "--level" not in shown, shown
            assert ("没有网格" if lang == "zh" else "no grids") in shown
