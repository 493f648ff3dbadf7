"""The analysis maps' panel of settings and downloads, on Taipei built from nothing (tests/real_city.py).

A planner changes what /map/coverage and /map/hotspots show with a form instead of editing the URL, and takes the
analysis's table as a spreadsheet from /api/analysis/…?format=xlsx|csv. Taipei's real files: 1,544 public toilets,
4,024 garbage-truck stops, no transfer station; complaints at the truck stops. Credits: data.taipei (Open
Government Data License, Taiwan 1.0).
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import openpyxl
import pytest

from tests.chromium import PHONE
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    ARTIFACTS,
    READY_ANALYSIS,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
)

# The panel: opened or not, its share of the map, and the other boxes of the page it covers (or runs off the screen).
PANEL = """(function () {
  var p = document.getElementById('hm-controls'), r = p.getBoundingClientRect(),
      m = document.querySelector('.leaflet-container').getBoundingClientRect(), clashes = [];
  ['#hm-title', '.hm-whatif', '.hm-legend', '.leaflet-control-zoom', '.hm-session'].forEach(function (s) {
    var e = document.querySelector(s), b = e && e.getBoundingClientRect();
    if (b && r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) clashes.push(s);
  });
  if (r.left < 0 || r.right > innerWidth || r.bottom > innerHeight) clashes.push('off the screen');
  return {open: p.open, share: r.width * r.height / (m.width * m.height), clashes: clashes};
})()"""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Form(HTMLParser):
    """The panel's form as a browser would submit it: each field's options, and its value."""

    def __init__(self):
        super().__init__()
        self.selects: dict[str, list[tuple[str, str, bool]]] = {}
        self.inputs: dict[str, list[dict]] = {}
        self.links: dict[str, str] = {}
        self._select = self._option = None
        self._inside = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "hm-controls-form":
            self._inside = True
        elif tag == "a" and a.get("id", "").startswith("hm-download-"):
            self.links[a["id"]] = a["href"]
        if not self._inside:
            return
        if tag == "select":
            self._select = a["name"]
            self.selects[self._select] = []
        elif tag == "option":
            self._option = [a["value"], "", "selected" in a]
        elif tag == "input":
            self.inputs.setdefault(a["name"], []).append(a)

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self.selects[self._select].append(tuple(self._option))
            self._option = None
        elif tag == "form":
            self._inside = False

    def values(self) -> dict[str, list[str]]:
        """What submitting the form sends, by name."""
        sent = {name: [v for v, _, chosen in options if chosen] for name, options in self.selects.items()}
        for name, boxes in self.inputs.items():
            sent[name] = [b.get("value", "") for b in boxes if b.get("type") != "checkbox" or "checked" in b]
        # An empty box is sent empty, which the page reads as absent.
        return {k: [x for x in v if x != ""] for k, v in sent.items() if any(x != "" for x in v)}


def form_of(city, path: str, **params) -> _Form:
    answer = city.get(path, **params)
    assert answer.status_code == 200, answer.text[:500]
    form = _Form()
    form.feed(answer.text)
    assert form.selects or form.inputs, "the page has no panel"
    return form


def test_the_coverage_panel_offers_taipeis_facility_kinds_with_their_counts(taipei_server):
    city = taipei_server
    toilets = city.one("SELECT count(*) FROM toilets WHERE in_service")
    assert toilets == 1544  # Taipei's file: every toilet imported, all in service
    kinds = {value: (text, chosen) for value, text, chosen in
             form_of(city, "/map/coverage", kind="toilets", by="community").selects["kind"]}
    assert kinds["toilets"] == ("公共厕所（1,544）", True)
    assert kinds["transfer_stations"][0] == "垃圾转运站（0）"  # Taipei's files hold none: marked before it is asked
    assert list(kinds) == ["toilets", "garbage_points", "collection_stations", "transfer_stations", "markets",
                           "health_trails"]
    english = {value: text for value, text, _ in form_of(city, "/map/coverage", lang="en").selects["kind"]}
    assert english["toilets"] == "public toilets (1,544)" and english["markets"] == "markets (0)"
    # The levels Taipei has areas at, with how many: no urban villages among them.
    levels = form_of(city, "/map/coverage").selects["by"]
    grids = city.one("SELECT count(*) FROM grids")
    assert [(v, t) for v, t, _ in levels] == [("district", "区（12）"), ("street", "街道（12）"), ("community", "社区（456）"),
                                             ("grid", f"网格（{grids:,}）")]


@pytest.mark.parametrize("path,query", [
    ("/map/coverage", {"kind": "garbage_points", "radius": "150", "by": "street", "method": "straight", "lang": "en"}),
    ("/map/coverage", {"kind": "toilets", "radius": "", "by": "community", "method": "walk", "lang": "zh"}),
    ("/map/hotspots", {"since": "2026-01-01", "until": "2026-12-01T08:00", "category": ["暴露垃圾", "病媒生物"],
                       "cell": "300", "emerging": "1", "lang": "zh"}),
    ("/map/hotspots", {"lang": "en"}),
])
def test_the_forms_values_are_the_pages_query(taipei_complaints, taipei_server, path, query):
    """Submitting the form unchanged asks the page the user is on: each field holds the query's value."""
    form = form_of(taipei_server, path, **query)
    asked = {k: v if isinstance(v, list) else [v] for k, v in query.items() if v != ""}
    assert form.values() == asked
    links = {k: parse_qs(urlsplit(v).query) for k, v in form.links.items()}
    for fmt in ("xlsx", "csv"):  # the downloads answer the same query
        assert links[f"hm-download-{fmt}"] == {**asked, "format": [fmt]}


def test_the_hotspots_panel_offers_the_event_types_of_taipeis_complaints(taipei_complaints, taipei_server):
    city = taipei_server
    have = dict(city.sql("SELECT category, count(*) FROM complaints GROUP BY category"))
    boxes = form_of(city, "/map/hotspots", category="病媒生物").inputs["category"]
    assert {b["value"] for b in boxes} == set(have) and len(have) == 5  # not the other event types of the vocabulary
    assert [b["value"] for b in boxes if "checked" in b] == ["病媒生物"]


def test_an_opened_plan_stays_open_when_the_form_is_sent(taipei_server):
    city = taipei_server
    saved = httpx.post(city.base + "/api/plans", headers={"Authorization": f"Bearer {city.token}"}, timeout=120,
                       json={"name": "大同加一座", "kind": "toilets", "radius": 300,
                             "edits": [{"op": "add", "lon": 121.507996, "lat": 25.064684}]})
    assert saved.status_code == 201, saved.text
    form = form_of(city, "/map/coverage", plan=str(saved.json()["id"]))
    assert form.values()["plan"] == [str(saved.json()["id"])] and form.values()["radius"] == ["300"]


def _sheet(content: bytes) -> tuple[list[str], list[tuple]]:
    """The header and the table's rows: up to the blank row before the notes (说明), a 合计 row included."""
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    blank = next((i for i, row in enumerate(rows) if all(v is None for v in row)), len(rows))
    return list(rows[0]), rows[1:blank]


def test_the_coverage_table_downloads_as_a_workbook_in_chinese(taipei_server):
    city = taipei_server
    query = {"kind": "toilets", "by": "community"}
    features = city.get("/api/analysis/coverage", **query).json()["features"]
    answer = city.get("/api/analysis/coverage", **query, format="xlsx")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == XLSX
    assert 'filename="coverage-toilets-community.xlsx"' in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.active.title == "服务覆盖"
    header, rows = _sheet(answer.content)
    assert header[:2] == ["代码", "名称"] and "覆盖面积占比（%）" in header and "面积（km²）" in header
    *rows, total = rows  # the areas, then 合计
    assert len(rows) == len(features) == 456 and total[0] == "合计"
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    share, area = header.index("覆盖面积占比（%）"), header.index("面积（km²）")
    for row in rows:
        assert isinstance(row[share], (int, float)) and isinstance(row[area], float)  # numbers, not text
        assert row[share] == pytest.approx(by_code[row[0]]["covered_area_pct"])


def test_the_coverage_table_downloads_as_csv_and_in_english(taipei_server):
    city = taipei_server
    features = city.get("/api/analysis/coverage", kind="garbage_points", by="district").json()["features"]
    answer = city.get("/api/analysis/coverage", kind="garbage_points", by="district", format="csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="coverage-garbage_points-district.csv"' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["代码", "名称"] and "覆盖面积占比（%）" in rows[0]
    assert len(rows) - 1 == len(features) == 12
    share = rows[0].index("覆盖面积占比（%）")
    by_code = {f["properties"]["code"]: f["properties"]["covered_area_pct"] for f in features}
    assert all(float(r[share]) == pytest.approx(by_code[r[0]]) for r in rows[1:])  # numbers as written figures
    english = city.get("/api/analysis/coverage", kind="garbage_points", by="district", format="xlsx", lang="en")
    header, rows = _sheet(english.content)
    assert header[:2] == ["Code", "Name"] and "Area covered (%)" in header and len(rows) == 12 + 1
    assert rows[-1][0] == "Total"
    en_csv = city.get("/api/analysis/coverage", kind="garbage_points", by="district", format="csv", lang="en")
    assert en_csv.content.decode("utf-8-sig").startswith("Code,Name,")


def test_the_hotspots_table_holds_counts_per_cell_only(taipei_complaints, taipei_server):
    """Personal data: the hot-spot table is hexagons and their counts; no complaint's text, place or reporter."""
    city = taipei_server
    features = city.get("/api/analysis/hotspots", cell="300").json()["features"]
    answer = city.get("/api/analysis/hotspots", cell="300", format="xlsx")
    assert answer.status_code == 200, answer.text[:300]
    header, rows = _sheet(answer.content)
    assert header == ["六边形列 q", "六边形行 r", "数量", "Gi* z 值", "Gi* p 值", "热点等级", "热点等级代码", "经度(WGS84)",
                      "纬度(WGS84)"]
    assert len(rows) == len(features)
    assert sum(r[2] for r in rows) == sum(f["properties"]["count"] for f in features) > 0
    text = city.get("/api/analysis/hotspots", cell="300", format="csv").content.decode("utf-8-sig")
    descriptions = [d for (d,) in city.sql("SELECT description FROM complaints WHERE description <> '' LIMIT 50")]
    assert descriptions and not any(d in text for d in descriptions)
    assert "附近" not in text and "巡查" not in text and "12345" not in text


@pytest.mark.parametrize("fmt", ["pdf", "XLSX", "shp"])
def test_a_format_not_offered_is_refused_naming_format(taipei_server, fmt):
    answer = taipei_server.get("/api/analysis/coverage", kind="toilets", format=fmt)
    assert answer.status_code == 422, answer.text[:300]
    said = answer.text
    assert "format" in said and all(f in said for f in ("geojson", "xlsx", "csv")), said


@pytest.mark.browser
def test_a_phone_changes_the_radius_with_the_form_and_the_map_follows(taipei_server, browser):
    """At 390 px the panel is one folded line in the map's corner; opened, the radius typed and sent, the page comes
    back with it and its map is of that radius."""
    city = taipei_server
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        report = browser.open(city.base + "/map/coverage?kind=toilets&by=community", ready_js=READY_ANALYSIS,
                              timeout=90)
        assert not report.timed_out and report.console_errors == [], report.console_errors
        browser.screenshot(ARTIFACTS / "coverage-controls-phone.png")
        box = browser.evaluate(PANEL)
        assert not box["open"] and box["share"] < 0.03 and box["clashes"] == [], box
        browser.evaluate("document.querySelector('#hm-controls summary').click()")
        assert browser.evaluate(PANEL)["clashes"] == []  # opened, it pushes the what-if planner down
        browser.evaluate("document.querySelector('#hm-controls-form [name=radius]').value = '450'")
        browser.screenshot(ARTIFACTS / "coverage-controls-phone-open.png")
        browser.evaluate("document.getElementById('hm-controls-form').requestSubmit()")
        _wait(browser, "location.search.indexOf('radius=450') >= 0 && window.hygieneAnalysisState && "
                       "hygieneAnalysisState.ready === true")
        assert browser.evaluate("document.querySelector('#hm-controls-form [name=radius]').value") == "450"
        asked = browser.evaluate("performance.getEntriesByType('resource').map(function(e){return e.name;})"
                                 ".filter(function(u){return u.indexOf('/api/analysis/coverage') >= 0;})")
        assert asked and all("radius=450" in u for u in asked), asked
        assert "450" in browser.evaluate("document.querySelector('.hm-legend').innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def _wait(browser, expression: str, timeout: float = 90.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if browser.evaluate(expression):
                return
        except RuntimeError:  # the page is being replaced
            pass
        time.sleep(0.3)
    raise AssertionError(f"the page never showed {expression}: {browser.evaluate('location.href')}")


@pytest.mark.browser
def test_the_panels_fold_on_a_phone_and_open_on_a_desktop(taipei_complaints, taipei_server, browser):
    """Hot spots too: one folded line at 390 px, covering nothing; open at a desktop's 1280 px, still covering
    nothing of the page's other boxes."""
    city = taipei_server
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        report = browser.open(city.base + "/map/hotspots?cell=300", ready_js=READY_ANALYSIS, timeout=90)
        assert not report.timed_out and report.console_errors == [], report.console_errors
        browser.screenshot(ARTIFACTS / "hotspots-controls-phone.png")
        box = browser.evaluate(PANEL)
        assert not box["open"] and box["share"] < 0.03 and box["clashes"] == [], box
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    for path in ("/map/hotspots?cell=300", "/map/coverage?kind=toilets"):
        report = browser.open(city.base + path, ready_js=READY_ANALYSIS, timeout=90)
        assert not report.timed_out and report.console_errors == [], report.console_errors
        browser.screenshot(ARTIFACTS / f"{path[5:13]}-controls-desktop.png")
        box = browser.evaluate(PANEL)
        assert box["open"] and box["clashes"] == [], (path, box)
