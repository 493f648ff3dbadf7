"""A street office of Yantai and its residents, on the city's real Gaode outlines (GCJ-02), from nothing.

tests/real_city.py builds 烟台市 from `city init` and its 11 district outlines (the `yantai` fixture, a
new database for this module). The real files stop at the districts, so the street office does what it would
do: it draws its street (向阳街道, 芝罘区) and two communities on a Gaode map — the drawing is in GCJ-02 — and
imports them with `--crs gcj02`; a second street (黄海路街道, 莱山区) gets a user of its own. Then, through the
command line and a real server only: grids, a roster filled in and loaded back, and the paths people take:

- a resident on a phone (390 px, headless Chromium) reports by GPS (WGS84) on the Gaode basemap, and by a
  tap on the Gaode map (GCJ-02), then follows the report by its tracking link;
- the street office sees it routed to the right grid and unit and moves it; who reads the reporter's
  words and phone number is checked on every route that carries them;
- an inspector records a finding with a deadline (限期整改), the street rectifies it, the inspector re-checks;
- the weekly bulletin ranks the streets and the units.

Coordinates are the point: Gaode's GCJ-02 lies ~470 m east of WGS84 here, two 250 m grids. The GPS point is
chosen so that reading it as GCJ-02 (or the other way round) would put it in the other community, under
the other unit; the maps must draw each marker inside the outline it belongs to, on either basemap.
"""

from __future__ import annotations

import io
import json
import subprocess
from datetime import datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from tests.real_city import ARTIFACTS
from tests.test_public_browser import _tap, _wait
from tests.yantai_street import (  # noqa: F401  (pytest fixtures, used by name)
    CALLERS,
    DRAWN,
    EAST,
    EAST_UNIT,
    GPS,
    INSPECTED,
    OTHER_STREET,
    PHONE,
    STREET,
    TAPPED,
    WEST,
    WEST_UNIT,
    WORDS,
    ZONE,
    call,
    city,
    grid_at,
    site,
    yantai,
)


def test_areas_drawn_on_gaode_are_stored_in_wgs84_and_cut_into_assigned_grids(city):
    """The street's drawn corners are stored where GCJ-02 → WGS84 puts them (< 1 m), not at the raw numbers;
    its grids cover it exactly, every one with a unit; and the test's points lie where the docstring says."""
    x0, y0, x1, y1 = DRAWN[STREET]
    for lon, lat in ((x0, y0), (x1, y1)):
        want = tuple(float(v) for v in gcj02_to_wgs84(lon, lat))
        to_want, to_raw = city.sql(
            "SELECT ST_Distance(ST_Boundary(geom)::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography), "
            "ST_Distance(ST_Boundary(geom)::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) "
            "FROM admin_areas WHERE code = %s", (*want, lon, lat, STREET))[0]
        assert to_want < 1 and to_raw > 100, (to_want, to_raw)
    street_area, grids_area, grids, units = city.sql(
        "SELECT (SELECT ST_Area(geom::geography) FROM admin_areas WHERE code = %s), sum(ST_Area(geom::geography)), "
        "count(*), count(responsible_unit) FROM grids WHERE street_code = %s", (STREET, STREET))[0]
    assert abs(grids_area - street_area) < 0.001 * street_area and grids == units > 30
    # The GPS fix is in the west community; its GCJ-02 numbers, misread as WGS84, are in the east one.
    assert grid_at(city, *GPS)[1:] == (WEST, WEST_UNIT)
    assert grid_at(city, *(float(v) for v in wgs84_to_gcj02(*GPS)))[1:] == (EAST, EAST_UNIT)
    assert grid_at(city, *TAPPED)[1:] == (EAST, EAST_UNIT) and grid_at(city, *INSPECTED)[1:] == (WEST, WEST_UNIT)


@pytest.fixture
def phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    yield browser
    browser.send("Emulation.clearDeviceMetricsOverride")
    browser.send("Emulation.clearGeolocationOverride")


def _report_on_phone(phone, city, how: str, description: str, phone_number: str = "") -> str:
    """Fill in /report?basemap=gaode at phone width (the place by GPS or by a tap), send; the tracking number."""
    report = phone.open(city.base + "/report?basemap=gaode", ready_js="window.hmReportReady === true")
    assert not report.timed_out
    # Gaode's tiles are the only other host (unreachable here): nothing else fails, nothing is too wide.
    assert {u.split("/")[2] for u in report.other_hosts(city.base)} <= {f"webrd0{i}.is.autonavi.com" for i in (1, 2, 3, 4)}
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if how == "gps":
        phone.send("Browser.grantPermissions", permissions=["geolocation"])
        phone.send("Emulation.setGeolocationOverride", longitude=GPS[0], latitude=GPS[1], accuracy=5)
        phone.evaluate("document.getElementById('rp-gps').click()")
    else:
        _tap(phone, *(float(v) for v in wgs84_to_gcj02(*TAPPED)))  # the place as the Gaode map shows it
    _wait(phone, "!!window.hmReportPlace")
    phone.evaluate("document.querySelector('input[name=category][value=\"暴露垃圾\"]').click();"
                   f"document.querySelector('textarea[name=description]').value = {json.dumps(description)};"
                   f"document.querySelector('input[name=phone]').value = {json.dumps(phone_number)};"
                   "document.getElementById('rp-send').click()")
    _wait(phone, "location.pathname.indexOf('/report/') === 0 && document.body.dataset.status === '受理'")
    return phone.evaluate("location.pathname.split('/').pop()")


@pytest.fixture(scope="module")
def reports(site, browser):
    """Two reports from a phone: by GPS (with a phone number) and by a tap on the Gaode map."""
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        made = {how: _report_on_phone(browser, site, how, words, number)
                for how, words, number in (("gps", WORDS, PHONE), ("tap", "路口垃圾满溢", ""))}
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
        browser.send("Emulation.clearGeolocationOverride")
    return {how: site.sql("SELECT c.id, c.grid_code, c.community_code, c.street_code, c.district_code, "
                          "ST_X(r.geom), ST_Y(r.geom) FROM public_reports r JOIN complaints c ON c.id = r.complaint_id "
                          "WHERE r.tracking = %s", (tracking,))[0] + (tracking,)
            for how, tracking in made.items()}


@pytest.mark.browser
def test_a_phone_report_lands_in_the_grid_that_holds_it(site, reports):
    """GPS (WGS84) on the Gaode page is stored at the fix itself; a tap on Gaode's map at a place's GCJ-02
    numbers is stored at that place: each in the grid, community and district that contain it."""
    for how, place, metres in (("gps", GPS, 0.2), ("tap", TAPPED, 2)):  # a tap is as exact as a pixel at zoom 18
        _id, grid, community, street, district, lon, lat, _tracking = reports[how]
        off = site.one("SELECT ST_Distance(ST_MakePoint(%s, %s)::geography, ST_MakePoint(%s, %s)::geography)",
                       (lon, lat, *place))
        assert off < metres, (how, lon, lat, off)
        assert (grid, community, street, district) == (*grid_at(site, *place)[:2], STREET, "370602"), how
    assert reports["gps"][2] == WEST and reports["tap"][2] == EAST


@pytest.mark.browser
def test_the_resident_follows_the_report_as_the_street_office_moves_it(site, reports, phone):
    """The tracking page (390 px) names the unit of the grid, the resident's words, never the phone number,
    and follows the case as the street office registers and dispatches it."""
    complaint, tracking = reports["gps"][0], reports["gps"][-1]
    phone.open(site.base + f"/report/{tracking}", ready_js="document.body.dataset.status === '受理'")
    text = phone.evaluate("document.body.innerText")
    assert tracking in text and WEST_UNIT in text and WORDS in text and PHONE not in text
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for status in ("立案", "派遣"):
        moved = call(site, "PATCH", f"/api/complaints/{complaint}", "street", json={"status": status, "note": "转环卫一队"})
        assert moved.status_code == 200, moved.text
    _wait(phone, "document.body.dataset.status === '派遣'")
    text = phone.evaluate("document.body.innerText")
    assert "立案" in text and "派遣" in text and "转环卫一队" not in text and "yt-street" not in text
    # Another street's user cannot move it.
    refused = call(site, "PATCH", f"/api/complaints/{complaint}", "other", json={"status": "处置"})
    assert refused.status_code == 403, refused.text


@pytest.mark.browser
def test_the_street_office_sees_it_in_its_grid_and_unit(site, reports):
    complaint, grid = reports["gps"][0], reports["gps"][1]
    listed = call(site, "GET", "/api/complaints", "street", params={"street": STREET, "limit": 100}).json()["items"]
    mine = next(c for c in listed if c["id"] == complaint)
    assert mine["grid_code"] == grid and mine["street_code"] == STREET
    grids = call(site, "GET", "/api/grids", "street", params={"street": STREET}).json()["features"]
    held = next(f["properties"] for f in grids if f["properties"]["code"] == grid)
    assert held["responsible_unit"] == WEST_UNIT and held["open_complaints"] >= 1
    assert call(site, "GET", f"/api/public/reports/{reports['gps'][-1]}").json()["unit"] == WEST_UNIT
    assert call(site, "GET", f"/api/public/reports/{reports['tap'][-1]}").json()["unit"] == EAST_UNIT


def _texts(city, who: str, complaint: int, grid: str) -> dict[str, str]:
    """What each route that carries a complaint answers ``who`` (PDFs as their text)."""
    routes = {"one": f"/api/complaints/{complaint}", "list": f"/api/complaints?street={STREET}&limit=100",
              "contacts": f"/api/complaints/{complaint}/contacts", "csv": "/api/layers/complaints/export?format=csv",
              "geojson": "/api/layers/complaints/export?format=geojson", "ogc": "/ogc/collections/complaints/items?f=json",
              "features": "/api/layers/complaints/features?limit=100", "sheet": f"/print/grids/{grid}.pdf",
              "open311": "/open311/v2/requests.json"}
    out = {}
    for name, path in routes.items():
        answer = call(city, "GET", path, who)
        if answer.status_code != 200:
            out[name] = str(answer.status_code)
        elif path.endswith(".pdf"):
            out[name] = subprocess.run(["pdftotext", "-", "-"], input=answer.content, capture_output=True,
                                       check=True).stdout.decode()
        else:
            out[name] = answer.text
    return out


@pytest.mark.browser
def test_the_reporters_words_and_phone_reach_only_those_entitled(site, reports):
    """The description: the responsible street and admin only; the phone: /contacts for them only; never on
    a public route, another street's or a planner's answer."""
    complaint, grid = reports["gps"][0], reports["gps"][1]
    seen = {who: _texts(site, who, complaint, grid) for who in CALLERS}
    for who in ("street", "admin"):
        assert all(WORDS in seen[who][r] for r in ("one", "list", "csv", "geojson")), who
        assert PHONE in seen[who]["contacts"] and "yt-" not in seen[who]["contacts"]
    for who in ("anonymous", "other", "planner"):
        assert all(WORDS not in text for text in seen[who].values()), who
        assert seen[who]["contacts"] == ("401" if who == "anonymous" else "403")
        assert json.loads(seen[who]["one"])["grid_code"] == grid  # the case itself is public
    for who in CALLERS:
        assert all(PHONE not in text for route, text in seen[who].items() if route != "contacts"), who
    tile = call(site, "GET", "/tiles/complaints/18/{}/{}.pbf".format(*_tile(*GPS, 18)), "admin")
    assert tile.status_code == 200 and WORDS.encode() not in tile.content and PHONE.encode() not in tile.content


def _tile(lon, lat, z):
    import math

    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _now_in_city(hours: float = 0) -> str:
    return (datetime.now(ZONE) + timedelta(hours=hours)).replace(tzinfo=None).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def finding(site):
    """A week's round over 向阳街道 (admin) and a finding by the inspector's GPS in the west community."""
    today = datetime.now(ZONE).date()
    made = call(site, "POST", "/api/inspections/rounds", "admin", json={
        "name": "向阳街道周检查", "kind": "周检查", "streets": [STREET],
        "starts": str(today - timedelta(days=1)), "ends": str(today + timedelta(days=7))})
    assert made.status_code == 201, made.text
    site.round = made.json()["id"]
    item = next(i for i in call(site, "GET", "/api/inspections/checklist", params={"place_type": "背街小巷"}).json()
                ["items"])
    found = call(site, "POST", "/api/inspections/findings", "inspector", json={
        "round_id": site.round, "lon": INSPECTED[0], "lat": INSPECTED[1], "item": item["code"],
        "note": "巷口垃圾箱满溢，住户王某说已一周", "observed_at": _now_in_city(), "client_id": "yt-1"})
    assert found.status_code == 201, found.text
    return {**found.json(), "checklist": item}


def test_the_inspector_finding_is_routed_given_a_deadline_rectified_and_rechecked(site, finding):
    """限期整改: the finding lands in the grid holding the inspector's fix, charged to its unit, due after the
    item's days; the street rectifies with an after photo; the inspector's failed re-check sets a new
    deadline, the next one passes; the one who rectified may not re-check."""
    from PIL import Image

    grid, community, unit = grid_at(site, *INSPECTED)
    assert (finding["grid_code"], finding["community_code"], finding["responsible_unit"]) == (grid, community, unit)
    observed, due = (datetime.fromisoformat(finding[k]) for k in ("observed_at", "due_at"))
    assert due - observed == timedelta(days=finding["checklist"]["due_days"]) and finding["status"] == "待整改"
    path = f"/api/inspections/findings/{finding['id']}"

    def rectify(colour) -> httpx.Response:
        image = io.BytesIO()
        Image.new("RGB", (64, 48), colour).save(image, format="JPEG")
        photo = call(site, "POST", path + "/photos", "street", data={"stage": "after"},
                      files={"file": ("after.jpg", image.getvalue(), "image/jpeg")})
        assert photo.status_code in (200, 201), photo.text
        return call(site, "PATCH", path, "street", json={"status": "已整改", "note": "已清运"})

    assert rectify((90, 140, 90)).status_code == 200
    assert call(site, "PATCH", path, "street", json={"status": "复查通过"}).status_code == 403
    failed = call(site, "PATCH", path, "inspector", json={"status": "复查未通过", "note": "仍有垃圾"})
    assert failed.status_code == 200 and failed.json()["status"] == "待整改", failed.text
    assert datetime.fromisoformat(failed.json()["due_at"]) > due
    # The photo of the first rectification, sent again, is not new evidence: the refusal says why, not
    # "needs an after photo" to a user who has just sent one.
    again = rectify((90, 140, 90))
    assert again.status_code == 409 and "failed re-check" in again.json()["detail"], again.text
    assert "sent again" in again.json()["detail"], again.text
    assert rectify((60, 160, 60)).status_code == 200
    passed = call(site, "PATCH", path, "inspector", json={"status": "复查通过", "note": "已整改到位"})
    assert passed.status_code == 200 and passed.json()["status"] == "复查通过", passed.text
    steps = [s["to"] for s in call(site, "GET", path, "admin").json()["events"]]
    assert steps == ["待整改", "已整改", "复查未通过", "待整改", "已整改", "复查通过"], steps
    # What the inspector wrote: the street and admin read it; another street and the public do not.
    for who, sees in (("street", True), ("admin", True), ("other", False), ("anonymous", False)):
        assert ("王某" in call(site, "GET", path, who).text) is sees, who


_MAP = "Object.keys(window).filter(function(k){return k.indexOf('map_')===0&&window[k]&&window[k].eachLayer;}).map(function(k){return window[k];})[0]"
_DRAWN_LAYERS = ("(function(){var m=" + _MAP + ", pts=[], areas={};"
                 "m.eachLayer(function(l){var p=l.feature&&l.feature.properties;"
                 " var popup=l.getPopup&&l.getPopup()&&String(l.getPopup().getContent()).match(/#(\\d+)/);"
                 " if(l instanceof L.CircleMarker&&(p||popup)) pts.push([p ? p.id : +popup[1],"
                 "  p&&p.item_code ? 'finding' : 'complaint', l.getLatLng().lng, l.getLatLng().lat]);"
                 " else if(p&&p.code&&l.getBounds){var b=l.getBounds(); areas[p.code]=[b.getWest(),b.getSouth(),b.getEast(),b.getNorth()];}});"
                 "return JSON.stringify({points: pts, areas: areas});})()")
READY_MAP = "window.hygieneMapState && hygieneMapState.ready && hygieneMapState.pending === 0"


def _drawn(browser, url: str, ready: str, centre=None) -> dict:
    """The circle markers (id, kind, lon, lat) and outlines (code → bounds) a page draws, in the map's CRS
    (a marker's id from its feature, or from the "#id" of its popup on the street office's page)."""
    report = browser.open(url, ready_js=ready)
    assert not report.timed_out
    if centre:
        browser.evaluate(f"{_MAP}.setView([{centre[1]}, {centre[0]}], 16, {{animate: false}}); 0")
        _wait(browser, f"({ready}) && JSON.parse({_DRAWN_LAYERS}).points.length >= 3")
    return json.loads(browser.evaluate(_DRAWN_LAYERS))


def _inside(point, box, slack=1e-6) -> bool:
    return box[0] - slack <= point[0] <= box[2] + slack and box[1] - slack <= point[1] <= box[3] + slack


@pytest.mark.browser
def test_the_maps_draw_each_marker_inside_its_outline(site, reports, finding, browser):
    """On the Gaode basemap (/map?basemap=gaode) every overlay is in GCJ-02: the street's outline where it was
    drawn on Gaode, the GPS report and the finding at their fixes' GCJ-02 places, the tapped report where it was
    tapped. On the street office's page (no basemap, WGS84) each report sits in its grid's outline."""
    gcj = {"gps": wgs84_to_gcj02(*GPS), "tap": wgs84_to_gcj02(*TAPPED), "finding": wgs84_to_gcj02(*INSPECTED)}
    centre = [(a + b) / 2 for a, b in zip(DRAWN[STREET][:2], DRAWN[STREET][2:])]
    drawn = _drawn(browser, site.base + "/map?basemap=gaode", READY_MAP, centre)
    assert all(abs(a - b) < 1e-5 for a, b in zip(drawn["areas"][STREET], DRAWN[STREET])), drawn["areas"][STREET]
    at = {(kind, ident): (lon, lat) for ident, kind, lon, lat in drawn["points"]}
    for key, want in ((("complaint", reports["gps"][0]), gcj["gps"]), (("complaint", reports["tap"][0]), gcj["tap"]),
                      (("finding", finding["id"]), gcj["finding"])):
        assert key in at, (key, drawn["points"])
        assert abs(at[key][0] - want[0]) < 2e-5 and abs(at[key][1] - want[1]) < 2e-5, (key, at[key], want)  # 2 m
    assert _inside(at[("complaint", reports["gps"][0])], DRAWN[WEST])
    assert _inside(at[("complaint", reports["tap"][0])], DRAWN[EAST])

    page = _drawn(browser, site.base + f"/map/grids?street={STREET}",
                  "document.body.getAttribute('data-complaints-loaded') !== null")
    for how in ("gps", "tap"):
        complaint, grid = reports[how][:2]
        marker = next(p[2:] for p in page["points"] if p[0] == complaint)
        assert _inside(marker, page["areas"][grid]), (how, marker, page["areas"][grid])
        assert sum(_inside(marker, box, 0) for code, box in page["areas"].items() if len(code) == 14) == 1


@pytest.mark.browser
def test_the_weekly_bulletin_ranks_the_streets_and_units(site, reports, finding):
    """The week of the reports (in the city's time): 向阳街道 received both, its units one each; the unit the
    finding was charged to loses the item's points and ranks below the other; PDF and XLSX say the same."""
    reported = call(site, "GET", f"/api/complaints/{reports['gps'][0]}", "admin").json()["reported_at"]
    day = datetime.fromisoformat(reported).astimezone(ZONE).date().isoformat()
    answer = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": day})
    assert answer.status_code == 200, answer.text
    b = answer.json()
    start, end = (datetime.fromisoformat(b["period"][k]) for k in ("start", "end"))
    assert start.utcoffset() == timedelta(hours=8) and start.date() <= datetime.fromisoformat(day).date() < end.date()
    streets = {s["code"]: s for s in b["streets"]}
    assert streets[STREET]["received"] == 2 and streets[OTHER_STREET]["received"] == 0
    units = {u["name"]: u for u in b["units"]}
    deduction = finding["checklist"]["deduction"]
    assert (units[WEST_UNIT]["received"], units[WEST_UNIT]["findings"], units[WEST_UNIT]["score"]) == \
        (1, 1, 100 - deduction)
    assert (units[EAST_UNIT]["received"], units[EAST_UNIT]["findings"], units[EAST_UNIT]["score"]) == (1, 0, 100)
    assert b["ranked_by"] == "score" and units[EAST_UNIT]["rank"] < units[WEST_UNIT]["rank"]
    assert WORDS not in answer.text and PHONE not in answer.text

    site.cli("report", "bulletin", "--period", "week", "--date", day, "--out", "week.pdf", timeout=600)
    site.cli("report", "bulletin", "--period", "week", "--date", day, "--out", "week.xlsx")
    text = subprocess.run(["pdftotext", "-layout", str(site.work / "week.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "烟台市" in text and "向阳街道" in text and WEST_UNIT in text and EAST_UNIT in text
    rows = list(load_workbook(site.work / "week.xlsx")["责任单位排名"].values)
    head = rows[0]
    ranked = {r[head.index("责任单位")]: (r[head.index("排名")], r[head.index("得分")]) for r in rows[1:]}
    assert ranked[EAST_UNIT] == (units[EAST_UNIT]["rank"], 100) and ranked[WEST_UNIT][1] == 100 - deduction


def test_the_bulletin_page_defaults_to_the_last_whole_period_of_the_kind_asked(site):
    """/reports?period=week with no date is last week's bulletin (in the city's time), as /reports is last
    month's; a date of the wrong form says which forms fit."""
    year, week, _ = (datetime.now(ZONE).date() - timedelta(days=7)).isocalendar()
    page = call(site, "GET", "/reports", params={"period": "week"})
    assert page.status_code == 200, page.text
    assert f'value="{year}-W{week:02d}"' in page.text and f"{year}年第{week}周" in page.text
    for kind, wanted in (("quarter", "-Q"), ("year", f'value="{datetime.now(ZONE).year - 1}"')):
        other = call(site, "GET", "/reports", params={"period": kind})
        assert other.status_code == 200 and wanted in other.text, (kind, other.text[:300])
    wrong = call(site, "GET", "/reports", params={"period": "week", "date": "2026-11"})
    assert wrong.status_code == 422 and "ISO week (2026-W44)" in wrong.json()["detail"], wrong.text


_ONE_LINE_LABELS = ("Array.from(document.querySelectorAll('.hm-label span')).filter(function (s) {"
                    " return s.getBoundingClientRect().height >= 2 * parseFloat(getComputedStyle(s).fontSize); })"
                    ".map(function (s) { return s.textContent; })")


@pytest.mark.browser
def test_the_phone_pages_write_place_names_on_one_line(site, phone):
    """/report (no basemap: the city's own outlines and names) at 390 px: Yantai's district names are written
    across, centred on their place, not one character a line."""
    report = phone.open(site.base + "/report", ready_js="window.hygieneContextState && hygieneContextState.ready "
                                                        "&& hygieneContextState.labels > 0")
    assert not report.timed_out and report.console_errors == [] and report.other_hosts(site.base) == []
    names = phone.evaluate("Array.from(document.querySelectorAll('.hm-label span')).map(function (s) "
                           "{ return s.textContent; })")
    assert "芝罘区" in names, names
    assert phone.evaluate(_ONE_LINE_LABELS) == []
    phone.screenshot(ARTIFACTS / "yantai-report.png")
