"""New York from nothing, as a campaign office and a street office would use it for a week.

NYC Open Data (NYC Open Data terms of use): the borough, community-district
(CDTA 2020) and neighbourhood (NTA 2020) outlines of the Department of City
Planning, shapefiles in EPSG:2263 (US feet); public restrooms, DSNY litter
baskets and farmers markets; two 311 files — one full day of 2023 (the current
column set) and January 2018's rodent / unsanitary requests (the older one).
Everything goes through the `hygiene-map` command and the HTTP API and pages of
a real server (tests/new_york.py builds the city with the helpers of tests/real_city.py).

The city: `city init --name 纽约 --code NYC --tz America/New_York`, the
boroughs as districts, the 71 community districts as streets (the office whose
grids and rosters are its work), the 262 NTAs as communities. Then the 311
files with ``--skip-bad`` (most 311 types are not hygiene events), hot spots,
complaints by street and overdue, grids of Manhattan CD 3 with a roster, a grid
sheet, an inspection round with a re-check, the bulletins of January 2018 and
of the 2023 week, and the exports read back by GDAL.

Figures are checked against an independent reading of the same files: the
complaints per community district by shapely (the CSV's points in the
shapefile's outlines, reprojected by pyproj), times by parsing the CSV's
local times with zoneinfo.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from tests.new_york import (  # noqa: F401  (pytest fixtures, used by name)
    NY,
    OTHER,
    PENDING_WITH_CLOSED_DATE,
    RODENTS,
    SAMPLE,
    SAMPLE_WRITTEN,
    STATUS,
    STREET,
    call,
    districts_of,
    local_time,
    newyork,
    ny_grids,
    ny_round,
    ny_server,
    rows_of,
)


def test_newyork_city_in_its_own_time_zone_and_levels(newyork):
    """`city init --tz America/New_York`: the outlines in US feet set up UTM 18N; 5 boroughs, 71 community
    districts, 262 neighbourhoods."""
    shown = newyork.cli("city", "show").stdout
    assert "America/New_York" in shown and "EPSG:32618" in shown and "纽约 (New York)" in shown, shown
    assert dict(newyork.sql("SELECT level, count(*) FROM admin_areas GROUP BY level")) == {
        "district": 5, "street": 71, "community": 262}


def test_newyork_import_report_lists_each_problem_s_first_rows_and_counts_the_rest(newyork):
    """311's day of requests, mostly no hygiene event: the report names the first 100 refused rows of the column
    and counts the rest in one line pointing to the rejects file, which has every refused row."""
    out = newyork.log[SAMPLE].stdout  # in Chinese, the command's default
    said = [line for line in out.splitlines() if line.startswith(f"错误：{SAMPLE}，") and "Complaint Type 列" in line]
    rows = [line for line in said if line.startswith(f"错误：{SAMPLE}，第 ")]
    rest = [line for line in said if line not in rows]
    assert len(rows) == 100 and len(rest) == 1, rest
    more = int(rest[0].split("另有 ")[-1].split(" ")[0].replace(",", ""))
    assert rest[0].endswith(f"另有 {more:,} 行（Complaint Type列）同类错误未逐行列出（已列出前 100 行）；拒收文件中逐行列有原因")
    rejects = out.split("拒收的行及原因：")[1].strip()
    with open(newyork.work / rejects, encoding="utf-8-sig", newline="") as f:
        refused = list(csv.DictReader(f))
    assert f"，拒收 {len(refused):,} 行" in out
    assert sum("Complaint Type" in r["原因"] or "投诉类型" in r["原因"] for r in refused) >= 100 + more > 1000


def test_newyork_311_rows_as_cases_with_local_times_statuses_and_deadlines(newyork):
    """Each imported 311 request keeps its Unique Key, its Created Date read in New York time, its status as the
    case status it is; the 2018 file's Due Date is the deadline, the 2023 sample (no Due Date on hygiene rows)
    gets the event type's time limit."""
    stored = {key: rest for key, *rest in newyork.sql(
        "SELECT c.source_id, c.reported_at, c.status, c.due_at, c.closed_at, e.time_limit_hours FROM complaints c "
        "JOIN event_types e ON e.name = c.category")}
    assert len(stored) == newyork.one("SELECT count(*) FROM complaints")
    for name in (SAMPLE, RODENTS):
        rows = {r["Unique Key"]: r for r in rows_of(newyork, name) if r["Unique Key"] in stored}
        assert len(rows) == {SAMPLE: SAMPLE_WRITTEN, RODENTS: 140}[name]
        assert f"写入 {len(rows)} 行" in newyork.log[name].stdout, newyork.log[name].stdout
        for key, row in rows.items():
            reported, status, due, closed, limit = stored[key]
            assert reported == local_time(row["Created Date"]), (key, reported, row["Created Date"])
            assert status == STATUS[row["Status"]], (key, status, row["Status"])
            expected_due = local_time(row["Due Date"]) if row["Due Date"] else reported + timedelta(hours=limit)
            assert due == expected_due, (key, due, row["Due Date"])
            if status == "结案":
                assert closed == local_time(row["Closed Date"]), (key, closed, row["Closed Date"])


def test_newyork_open_cases_keep_no_closing_time(newyork, ny_server):
    """January 2018's file gives 16 Pending requests a Closed Date weeks before their Created Date: the import
    names each row and keeps no closing time on an open case, so the API shows it open, and the month's
    bulletin counts it open at the end (it counted 62 of the 78 open cases)."""
    said = newyork.log[RODENTS].stderr + newyork.log[RODENTS].stdout
    named = re.findall(r"第 (\d+) 行，Closed Date 列：结案时间 '[^']+' 所在案件的状态为 'Pending'", said)
    rows = rows_of(newyork, RODENTS)
    expected = [str(i + 2) for i, r in enumerate(rows)
                if r["Status"] == "Pending" and r["Closed Date"] and r["Latitude"]]
    assert named == expected and len(named) == PENDING_WITH_CLOSED_DATE, said
    assert newyork.one("SELECT count(*) FROM complaints WHERE status <> '结案' AND closed_at IS NOT NULL") == 0
    pending = newyork.one("SELECT id FROM complaints WHERE source_id = '38270553'")  # row 2
    case = call(ny_server, "GET", f"/api/complaints/{pending}", "admin").json()
    assert (case["status"], case["closed_at"], case["overdue"]) == ("受理", None, True), case
    month = call(ny_server, "GET", "/api/reports/bulletin", params={"period": "month", "date": "2018-01"}).json()
    still_open = sum(1 for r in rows if r["Status"] != "Closed" and r["Latitude"]
                     and r["Complaint Type"] != "Food Poisoning")
    assert month["totals"]["open_at_end"] == still_open == 78, month["totals"]
    assert "期末未结案78件" in month["summary_zh"], month["summary_zh"]


def test_newyork_complaints_by_street_match_shapely_and_overdue_is_open_past_due(ny_server, districts_of):
    """`/api/complaints?street=MN03` pages exactly the requests shapely puts in MN03's outline; `overdue` lists
    open cases past their deadline only."""
    found, _ = districts_of
    expected = sorted(int(i) for (i,) in ny_server.sql(
        "SELECT id FROM complaints WHERE source_id = ANY(%s)", ([k for k, d in found.items() if d == STREET],)))
    listed, offset = [], 0
    while offset is not None:
        page = call(ny_server, "GET", "/api/complaints", params={"street": STREET, "limit": 5, "offset": offset})
        assert page.status_code == 200, page.text
        listed += [c["id"] for c in page.json()["items"]]
        offset = page.json()["next_offset"]
    assert sorted(listed) == expected and len(expected) == 9, (listed, expected)  # and 1 MOLD, not imported
    for wrong in ("mn03", "XX99"):  # lower case, or no such district: said, not an empty page
        refused = call(ny_server, "GET", "/api/complaints", params={"street": wrong})
        assert refused.status_code == 404 and f"street {wrong!r} does not exist" in refused.text, refused.text
    overdue = call(ny_server, "GET", "/api/complaints", params={"overdue": "true", "limit": 1000}).json()["items"]
    now = datetime.now(UTC)
    assert overdue and all(c["status"] != "结案" and datetime.fromisoformat(c["due_at"]) < now for c in overdue)
    assert len(overdue) == ny_server.one("SELECT count(*) FROM complaints WHERE status <> '结案' AND due_at < now()")


def test_newyork_descriptions_reach_only_those_entitled(ny_server):
    """A 311 request's descriptor is personal: MN03's office and the admin read it on MN03's cases; BK04's office,
    the planner and an anonymous reader get none, in the list, one case and the export."""
    case = ny_server.one("SELECT id FROM complaints WHERE street_code = %s AND description = 'PESTS' LIMIT 1",
                         (STREET,))
    for who, sees in (("admin", True), ("street", True), ("other", False), ("planner", False), (None, False)):
        one = call(ny_server, "GET", f"/api/complaints/{case}", who).json()
        assert (one.get("description") == "PESTS") is sees, (who, one)
        listed = call(ny_server, "GET", "/api/complaints", who, params={"street": STREET, "limit": 50}).json()
        assert any(c.get("description") for c in listed["items"]) is sees, who
        export = call(ny_server, "GET", "/api/layers/complaints/export", who,
                       params={"format": "geojson", "street": STREET})
        assert export.status_code == 200, (who, export.text[:300])
        props = [f["properties"] for f in export.json()["features"]]
        assert (any(p.get("description") == "PESTS" for p in props)) is sees, who
        assert any(p.get("attributes") for p in props) is sees, who  # the 311 row's other columns


def test_newyork_hotspots_by_period_and_the_few_complaints_warning(ny_server):
    """Hot spots count the requests of the window asked, in New York time (January 2018: 140; the 2023 day: 391),
    a window of a handful warns that its "99 %" means little, and a parameter they do not take is refused."""
    for since, until, n in (("2018-01-01", "2018-02-01", 140), ("2023-02-28", "2023-03-01", SAMPLE_WRITTEN),
                            (None, None, 140 + SAMPLE_WRITTEN)):
        params = {k: v for k, v in (("since", since), ("until", until)) if v}
        served = call(ny_server, "GET", "/api/analysis/hotspots", params=params).json()
        assert served["summary"]["complaints"] == n and served["warning"] is None, served["summary"]
        assert served["summary"]["hot_99"] > 0
    few = call(ny_server, "GET", "/api/analysis/hotspots", params={"category": "水域不洁"}).json()
    assert few["summary"]["complaints"] == 2 and "仅 2 件" in few["warning"], few.get("warning")
    # The day's first hour in New York is 05:00 UTC: midnight-stamped 2018 requests of 22 January count there.
    first = call(ny_server, "GET", "/api/analysis/hotspots", params={"since": "2018-01-22", "until": "2018-01-23"})
    assert first.json()["summary"]["complaints"] == ny_server.one(
        "SELECT count(*) FROM complaints WHERE (reported_at AT TIME ZONE 'America/New_York')::date = '2018-01-22'")
    none = call(ny_server, "GET", "/api/analysis/hotspots", params={"since": "2020-01-01", "until": "2020-02-01"})
    assert none.status_code == 404 and "no complaints" in none.json()["detail"]
    # Hot spots take no street (the other analyses do): asked for MN03's they answered for the whole city.
    street = call(ny_server, "GET", "/api/analysis/hotspots", params={"street": STREET})
    assert street.status_code == 422, street.text
    assert street.json()["detail"].startswith("street: /api/analysis/hotspots takes no parameter 'street'"), street.text
    assert "since, until, category" in street.json()["detail"]
    # 311's own word, as the import reads it: refused naming the type it is stored as, which holds more than rats.
    rodent = call(ny_server, "GET", "/api/analysis/hotspots", params={"category": "Rodent"})
    assert rodent.status_code == 422 and "imported as '病媒生物'" in rodent.json()["detail"], rodent.text
    assert "ask category=病媒生物" in ny_server.cli("analyze", "hotspots", "--category", "Rodent", "--lang", "en",
                                                check=False).stderr


def test_newyork_grids_hold_mn03s_complaints_and_their_units(ny_server, ny_grids):
    """Every MN03 request is re-routed to the grid holding it; each grid has the unit the roster gave it."""
    city = ny_server
    assert f"changed {len(ny_grids)} grid(s)" in city.log["assign"].stdout
    assert city.one("SELECT count(*) FROM complaints WHERE street_code = %s AND (grid_code IS NULL OR NOT "
                    "ST_Covers((SELECT geom FROM grids WHERE code = grid_code), geom))", (STREET,)) == 0
    served = call(city, "GET", "/api/grids", "street", params={"street": STREET}).json()["features"]
    assert len(served) == len(ny_grids) and all(f["properties"]["responsible_unit"] for f in served)
    # named after their NTA, the grid's number apart from an English name: "Chinatown-Two Bridges 5号网格"
    assert all(re.fullmatch(r".*[A-Za-z)] \d+号网格", f["properties"]["name"]) for f in served), served[0]["properties"]
    public = call(city, "GET", "/api/grids", params={"street": STREET}).json()["features"]
    assert all("phone" not in f["properties"] and "grid_manager" not in f["properties"] for f in public)


def test_newyork_balance_counts_the_extract_s_own_last_days_once_its_data_time_is_set(ny_server, ny_grids):
    """311 extracts are years old: "complaints of the last 30 days" end at the data time the office sets
    (`city set --data-time`), so MN03's zones weigh its January 2018 and February 2023 requests; without a
    data time the days end today and hold none of them."""
    city = ny_server
    expected = city.one("SELECT count(*) FROM complaints WHERE street_code = %s AND grid_code IS NOT NULL "
                        "AND reported_at >= timestamptz '2023-03-01 00:00-05' - interval '30 days'", (STREET,))
    assert expected > 0

    def counted() -> int:
        city.cli("grids", "balance", "--street", STREET, "--zones", "2", "--days", "30", "--out", "zones.csv")
        return sum(int(r["complaints"]) for r in rows_of(city, "zones.csv"))

    assert counted() == 0
    city.cli("city", "set", "--data-time", "2023-03-01T00:00")
    try:
        assert counted() == expected
    finally:
        city.cli("city", "set", "--data-time", "none")


def test_newyork_grid_sheet_lists_its_open_case_with_the_year_of_its_deadline(ny_server, ny_grids):
    """The sheet of the grid holding MN03's case still open from 2023 lists it, overdue, with its deadline's
    year (限2023-03-01, not 限03-01, read as this year's), the unit and the map drawn on the page."""
    city = ny_server
    grid, due = city.sql("SELECT grid_code, due_at FROM complaints WHERE street_code = %s AND status <> '结案' "
                         "ORDER BY due_at LIMIT 1", (STREET,))[0]
    city.cli("print", "grid", grid, "--out", "grid.pdf", timeout=300)
    text = subprocess.run(["pdftotext", "-layout", str(city.work / "grid.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    unit = city.one("SELECT responsible_unit FROM grids WHERE code = %s", (grid,))
    assert f"限{due.astimezone(NY):%Y-%m-%d} 超期" in text, text
    assert f"责任单位：{unit}" in text and grid in text, text
    # The footer names the sheet's CRS as Chinese maps do; the English sheet as EPSG does.
    assert "坐标系 WGS 84 UTM投影 北半球第18带 (EPSG:32618)" in text and "UTM zone" not in text, text[-600:]
    city.cli("print", "grid", grid, "--lang", "en", "--out", "grid-en.pdf", timeout=300)
    english = subprocess.run(["pdftotext", "-layout", str(city.work / "grid-en.pdf"), "-"], capture_output=True,
                             text=True, check=True).stdout
    assert "WGS 84 / UTM zone 18N (EPSG:32618)" in english, english[-600:]
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(city.work / "grid.pdf"),
                    str(city.work / "grid")], check=True)
    from PIL import Image

    picture = Image.open(next(city.work.glob("grid*.png"))).convert("L")
    dark = sum(picture.histogram()[:128]) / (picture.width * picture.height)
    assert 0.01 < dark < 0.5, dark


def test_newyork_inspection_round_finding_rectified_and_rechecked(ny_server, ny_grids, ny_round):
    """A round over MN03 in the 2023 week: the inspector's finding is routed to its grid and given the item's
    days; the office rectifies with an after photo; a failed re-check sends it back, the next passes; the
    round's score is the base less the deduction."""
    from PIL import Image

    city, finding = ny_server, ny_round
    assert finding["grid_code"] == ny_grids[0] and finding["street_code"] == STREET
    assert datetime.fromisoformat(finding["observed_at"]) == datetime(2023, 2, 28, 10, 30, tzinfo=NY)
    assert datetime.fromisoformat(finding["due_at"]) - datetime.fromisoformat(finding["observed_at"]) == timedelta(1)
    path = f"/api/inspections/findings/{finding['id']}"

    def rectify(colour) -> int:
        image = io.BytesIO()
        Image.new("RGB", (64, 48), colour).save(image, format="JPEG")
        photo = call(city, "POST", path + "/photos", "street", data={"stage": "after"},
                      files={"file": ("after.jpg", image.getvalue(), "image/jpeg")})
        assert photo.status_code in (200, 201), photo.text
        return call(city, "PATCH", path, "street", json={"status": "已整改", "note": "cleared"}).status_code

    assert rectify((90, 140, 90)) == 200
    failed = call(city, "PATCH", path, "inspector", json={"status": "复查未通过", "note": "bags back next morning"})
    assert failed.status_code == 200 and failed.json()["status"] == "待整改", failed.text
    assert rectify((60, 160, 60)) == 200
    passed = call(city, "PATCH", path, "inspector", json={"status": "复查通过", "note": "clean"})
    assert passed.status_code == 200, passed.text
    scores = call(city, "GET", f"/api/inspections/rounds/{city.round}/scores").json()
    assert [(s["street_code"], s["findings"], s["score"]) for s in scores["streets"]] == [(STREET, 1, 98.0)]
    # The roster came long after February 2023: nobody held the grid then, so no unit is scored, and the finding,
    # charged to no unit, is listed with what it lost but not ranked as if it were a unit.
    assert scores["units"] == [{"unit": None, "findings": 1, "deductions": 2.0, "score": 98.0, "rank": None}]
    for who, sees in (("street", True), ("other", False), (None, False)):
        assert ("Bags piled" in call(city, "GET", path, who).text) is sees, who


def test_newyork_month_of_ties_names_no_black_list(ny_server):
    """January 2018: every community district with a case due closed all of them (100 %, all ranked first): the
    summary names no "lowest-ranked" streets and the page marks none 黑榜 or 红榜, where it named three
    first-ranked districts as the worst."""
    month = call(ny_server, "GET", "/api/reports/bulletin", params={"period": "month", "date": "2018-01"}).json()
    ranked = [s for s in month["streets"] if s["rank"] is not None]
    assert ranked and {s["rank"] for s in ranked} == {1} and month["ranked_by"] == "closed_rate"
    assert "排名后" not in month["summary_zh"] and "Lowest-ranked" not in month["summary_en"], month["summary_zh"]
    page = call(ny_server, "GET", "/reports", params={"period": "month", "date": "2018-01"})
    assert page.status_code == 200 and "2018年1月" in page.text
    assert 'class="black"' not in page.text and 'class="red"' not in page.text


def test_newyork_week_bulletin_counts_per_community_district_as_shapely(ny_server, districts_of, ny_round):
    """The 2023 week's bulletin: received per community district equal to shapely's count of that week's requests
    in each outline (New York's week, Monday 27 February); streets ranked by inspection score when the week
    has findings (MN03 only, ranked first), says so, and its workbook and PDF are written, the PDF's map labelling
    each district it cannot name legibly by its code."""
    found, rows = districts_of
    week = call(ny_server, "GET", "/api/reports/bulletin", params={"period": "week", "date": "2023-02-28"}).json()
    assert week["period"]["start"] == "2023-02-27T00:00:00-05:00", week["period"]
    start = datetime(2023, 2, 27, tzinfo=NY)
    expected = Counter(found[k] for k, r in rows.items() if start <= local_time(r["Created Date"]) < start + timedelta(7))
    served = {s["code"]: s["received"] for s in week["streets"] if s["received"]}
    assert served == dict(expected) and sum(served.values()) == week["totals"]["received"] == SAMPLE_WRITTEN
    assert week["ranked_by"] == "score" and [s["code"] for s in week["streets"] if s["rank"]] == [STREET]
    assert "实地检查发现问题1处" in week["summary_zh"], week["summary_zh"]
    for out in ("week.xlsx", "week.pdf"):
        ny_server.cli("report", "bulletin", "--period", "week", "--date", "2023-02-28", "--out", out, timeout=600)
    sheets = openpyxl.load_workbook(ny_server.work / "week.xlsx").sheetnames
    assert "街道排名" in sheets and "指标说明" in sheets, sheets
    text = subprocess.run(["pdftotext", str(ny_server.work / "week.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "2023年第9周" in text and f"本周共受理投诉{SAMPLE_WRITTEN}件" in text.replace("\n", ""), text[:500]
    # The map names a district too narrow on paper for "QN11 Bayside-Douglaston-Little Neck (CD 11 Approximation)"
    # by its code: 71 such names covered each other (the tables shorten them with "…").
    assert "(CD 11 Approximation)" not in text and re.search(r"^QN11$", text, re.M), text


def test_newyork_exports_read_back_by_gdal(ny_server, ny_grids):
    """Complaints and MN03's grids as GeoPackage over HTTP, read by ogrinfo and converted by ogr2ogr: every row,
    points and polygons in WGS 84; the anonymous copy has no description column, the admin's has it."""
    city = ny_server
    total = city.one("SELECT count(*) FROM complaints")
    for who, layer, params, count in ((None, "complaints", {}, total), ("admin", "complaints", {}, total),
                                      ("admin", "grids", {"street": STREET}, len(ny_grids))):
        answer = call(city, "GET", f"/api/layers/{layer}/export", who, params={"format": "gpkg", **params})
        assert answer.status_code == 200, answer.text[:300]
        path = city.work / f"{layer}-{who}.gpkg"
        path.write_bytes(answer.content)
        info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, timeout=60)
        assert info.returncode == 0 and f"Feature Count: {count}" in info.stdout, info.stdout + info.stderr
        assert 'ID["EPSG",4326]' in info.stdout
        if layer == "complaints":
            assert ("description:" in info.stdout) is (who == "admin"), who
            # a DateTime field, so QGIS filters by date; a GeoPackage version the GDAL of Debian 12 reads fully
            assert "reported_at: DateTime" in info.stdout and "partially supported" not in info.stderr, info
        back = city.work / f"{layer}-{who}.geojson"
        subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(back), str(path)], check=True, capture_output=True, timeout=60)
        features = json.loads(back.read_text(encoding="utf-8"))["features"]
        assert len(features) == count
        if layer == "complaints":
            by_key = {f["properties"]["source_id"]: f for f in features}
            lon, lat = by_key["38270553"]["geometry"]["coordinates"]  # 18 Irving Avenue, Bushwick
            assert by_key["38270553"]["properties"]["street_code"] == OTHER
            assert -73.93 < lon < -73.92 and 40.70 < lat < 40.71
            # 311's "01/22/2018 12:00:00 AM" in New York: the same instant after GeoPackage and GeoJSON
            reported = by_key["38270553"]["properties"]["reported_at"].replace("/", "-")
            assert datetime.fromisoformat(reported) == datetime(2018, 1, 22, 5, tzinfo=UTC), reported


@pytest.mark.browser
def test_newyork_street_office_page_shows_times_in_new_york_time(ny_server, ny_grids, browser):
    """The street office's map of MN03: its open case's popup gives the report time and the deadline as New York
    reads them ("2023-02-28 …"), not the API's UTC text ("2023-03-01T…+00:00", the next day's date)."""
    from tests.real_city import READY_GRIDS, page_checks

    city = ny_server
    reported, due = city.sql("SELECT reported_at, due_at FROM complaints WHERE street_code = %s AND status <> '结案' "
                             "ORDER BY due_at LIMIT 1", (STREET,))[0]
    page_checks(city, browser, f"/map/grids?street={STREET}", READY_GRIDS, "ny-grids.png")
    popups = browser.evaluate("""(function () { var out = [];
        hygieneGridPage.map.eachLayer(function (l) {
          if (l instanceof L.CircleMarker && l.getPopup()) out.push(String(l.getPopup().getContent())); });
        return out; })()""")
    assert len(popups) == 1, popups
    assert f"{reported.astimezone(NY):%Y-%m-%d %H:%M}" in popups[0], popups
    assert f"{due.astimezone(NY):%Y-%m-%d %H:%M}" in popups[0] and "+00:00" not in popups[0], popups


def test_newyork_workbook_export_gives_new_york_times_and_reads_back(ny_server):
    """The complaints workbook a campaign office opens in Excel: a request made at 11:41 PM on 28 February is a
    date cell of 2023-02-28 23:41:49, New York's time (it read 2023-03-01T04:41:49+00:00, the next day, and later
    ISO text Excel could not sort as a date); importing the workbook again updates the same 531 rows (140 + 391),
    none new, each read in the city's zone."""
    city = ny_server
    city.cli("export", "complaints", "--format", "xlsx", "--out", "complaints.xlsx")
    rows = list(openpyxl.load_workbook(city.work / "complaints.xlsx").active.iter_rows(values_only=True))
    header = rows[0]
    by_key = {r[header.index("编号")]: r for r in rows[1:]}
    late = next(r for r in rows_of(city, SAMPLE) if r["Unique Key"] == "56920473")
    assert late["Created Date"] == "02/28/2023 11:41:49 PM"
    written = by_key["56920473"][header.index("上报时间")]
    assert written == datetime(2023, 2, 28, 23, 41, 49), written  # a date cell, not text
    assert written == local_time(late["Created Date"]).replace(tzinfo=None)
    again = city.cli("import", "complaints", "complaints.xlsx", "--dry-run")
    assert f"（新增 0，更新 {len(by_key)}）" in again.stdout and len(by_key) == 140 + SAMPLE_WRITTEN, again.stdout


@pytest.mark.browser
def test_newyork_restrooms_not_in_service_are_drawn_hollow_and_named_in_the_legend(ny_server, browser):
    """The overview map draws each restroom New York lists as closed or not operational hollow, the others filled
    in their grade's colour, and the legend says what a hollow marker means; its popup reads 是否在用：否."""
    from tests.real_city import READY_MAP, page_checks

    city = ny_server
    page_checks(city, browser, "/map", READY_MAP, "ny-map.png")
    drawn = browser.evaluate("""(function () { var out = [];
        var m = Object.values(window).find(function (v) { return v instanceof L.Map; });
        m.eachLayer(function (l) {
          var p = l.feature && l.feature.properties;
          if (l instanceof L.CircleMarker && p && p.in_service !== undefined)
            out.push([p.in_service, l.options.fillColor, l.options.weight]); });
        return out; })()""")
    closed = [d for d in drawn if d[0] is False]
    served = [d for d in drawn if d[0] is True]
    assert len(closed) == city.sql("SELECT count(*) FROM toilets WHERE NOT in_service")[0][0] == 116, len(closed)
    assert {(fill, weight) for _, fill, weight in closed} == {("#fff", 2)}
    assert served and all(fill != "#fff" for _, fill, _ in served)
    legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    assert "空心：不在用（停用、在建）" in legend, legend
