"""A city's first roster, loaded after last weeks' complaints: `grids assign roster.xlsx --since DATE`.

Taipei from the real files (tests/real_city.py), as a city set up from nothing: 中正區 is cut into grids, last
week's 1999 hotline export is imported, then the first roster is loaded today. Without --since last week's
bulletin charges every complaint to "（无责任单位或无法归属）" and the PDF finds no unit to rank; with it, the
units answer for the complaints (and an ended round's finding) from that date, while the history still says
the roster was entered today. A second roster dated back, a date in the future and a date before the regrid
that cut a grid are refused, naming the row or grid, and change nothing.
"""

from __future__ import annotations

import csv
import subprocess
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from tests.real_city import taipei, taipei_grids, taipei_server  # noqa: F401  (fixtures)

ZHONGZHENG, SONGSHAN = "6300500", "6300100"
UNIT = "中正區清潔隊第{}分隊"


def _zone(city) -> ZoneInfo:
    return ZoneInfo(city.one("SELECT time_zone FROM city_settings"))


def _week(city) -> tuple[date, str]:
    """Last week's Monday in the city's time zone, and the week as the bulletin names it (2026-W45)."""
    today = datetime.now(UTC).astimezone(_zone(city)).date()
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return monday, f"{year}-W{week:02d}"


def _roster(city, street: str, name: str, contact) -> str:
    """``street``'s roster written by `grids roster`, filled in with ``contact(row)`` → (unit, manager, phone)."""
    city.cli("grids", "roster", "--street", street, "--out", name)
    book = openpyxl.load_workbook(city.work / name)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    columns = [header.index(h) + 1 for h in ("责任单位", "网格长", "联系电话")]
    for row in range(2, sheet.max_row + 1):
        for column, value in zip(columns, contact(row), strict=True):
            sheet.cell(row, column, value)
    book.save(city.work / name)
    return name


def _hotline(city, street: str, monday: date) -> int:
    """Last week's 1999 export: two calls at a point of each of ``street``'s grids, in city time; imported."""
    points = city.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM grids "
                      "WHERE street_code = %s) g ORDER BY code", (street,))
    path = city.work / "zhongzheng_1999.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间"])
        for i, (lon, lat) in enumerate(points):
            for day in (1, 3):
                at = datetime.combine(monday + timedelta(days=day), time(9, i % 60))
                writer.writerow([f"ZZ{i:03d}-{day}", f"{lon:.6f}", f"{lat:.6f}", "暴露垃圾", "路口垃圾", "1999",
                                 at.strftime("%Y-%m-%d %H:%M:%S")])
    city.cli("import", "complaints", path.name)
    return 2 * len(points)


def _bulletin(city, week: str) -> dict:
    answer = city.get("/api/reports/bulletin", period="week", date=week)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _pdf_text(city, week: str) -> str:
    answer = city.get("/reports/bulletin.pdf", period="week", date=week)
    assert answer.status_code == 200, answer.text[:300]
    (city.work / "week.pdf").write_bytes(answer.content)
    return subprocess.run(["pdftotext", "-raw", str(city.work / "week.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\n", "")


def _ended_round_finding(city, monday: date) -> int:
    """A 周检查 of 中正區 last Tuesday to Saturday (ended), with a finding in its first grid on Wednesday (times
    written in the city's time, without a zone)."""
    auth = {"Authorization": f"Bearer {city.token}"}
    day = lambda d: (monday + timedelta(days=d)).isoformat()  # noqa: E731
    made = httpx.post(city.base + "/api/inspections/rounds", headers=auth, timeout=30,
                      json={"name": "中正區上周检查", "kind": "周检查", "streets": [ZHONGZHENG], "starts": day(1),
                            "ends": day(5)})
    assert made.status_code == 201, made.text
    (lon, lat), = city.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                           "WHERE street_code = %s ORDER BY code LIMIT 1) g", (ZHONGZHENG,))
    found = httpx.post(city.base + "/api/inspections/findings", headers=auth, timeout=30,
                       json={"round_id": made.json()["id"], "lon": lon, "lat": lat, "item": "MKT-01", "note": "",
                             "observed_at": day(2) + "T10:00:00", "client_id": str(uuid.uuid4())})
    assert found.status_code == 201, found.text
    assert found.json()["responsible_unit"] is None
    return found.json()["id"]


@pytest.fixture(scope="module")
def first_roster(taipei_server):
    """中正區 cut into grids, last week's calls imported and last week's bulletin read; then its first roster
    loaded today with --since last Monday, and the bulletin read again."""
    city = taipei_server
    monday, week = _week(city)
    city.cli("grids", "generate", "--street", ZHONGZHENG, "--size", 500)
    calls = _hotline(city, ZHONGZHENG, monday)
    finding = _ended_round_finding(city, monday)
    before = {"json": _bulletin(city, week), "pdf": _pdf_text(city, week)}
    name = _roster(city, ZHONGZHENG, "zhongzheng.xlsx", lambda row: (UNIT.format(row % 3 + 1), f"網格長{row:03d}",
                                                                       f"02-2321-{row:04d}"))
    loaded = datetime.now(UTC)
    said = city.cli("grids", "assign", name, "--since", monday.isoformat())
    return {"monday": monday, "week": week, "calls": calls, "finding": finding, "before": before, "said": said,
            "loaded": loaded, "after": {"json": _bulletin(city, week), "pdf": _pdf_text(city, week)}}


def _by_unit(bulletin: dict) -> dict:
    return {row["code"]: row["received"] for row in bulletin["units"] if row["received"]}


def test_a_first_roster_given_since_last_monday_charges_last_week_s_complaints_to_its_units(taipei_server,
                                                                                            first_roster):
    city, calls = taipei_server, first_roster["calls"]
    before, after = first_roster["before"], first_roster["after"]
    # Loaded without a date, the roster would count from today: last week's calls are nobody's.
    assert _by_unit(before["json"]) == {None: calls}, before["json"]["units"]
    assert "本期没有可排名的责任单位" in before["pdf"]
    charged = _by_unit(after["json"])
    assert None not in charged and sum(charged.values()) == calls, after["json"]["units"]
    assert set(charged) <= {UNIT.format(k) for k in (1, 2, 3)} and len(charged) >= 2, charged
    assert "本期没有可排名的责任单位" not in after["pdf"] and UNIT.format(1) in after["pdf"]
    # The command says from when, in Chinese by default, and what the units now answer for.
    out = first_roster["said"].stdout
    assert f"自 {first_roster['monday']:%Y-%m-%d} 00:00 起负责" in out and f"其间上报的 {calls} 件投诉" in out, out
    assert "另有 1 条检查问题" in out, out
    # The ended round's finding, observed after the date, is its grid's unit's, as the bulletin's calls are.
    (unit,), = city.sql("SELECT responsible_unit FROM inspection_findings WHERE id = %s", (first_roster["finding"],))
    assert unit and unit.startswith("中正區清潔隊")
    # The history says when the roster was entered and by whom, and since when it holds.
    code = city.one("SELECT min(code) FROM grids WHERE street_code = %s", (ZHONGZHENG,))
    entry = city.get(f"/api/grids/{code}/history").json()["history"][-1]
    assert datetime.fromisoformat(entry["changed_at"]) >= first_roster["loaded"] - timedelta(seconds=5)
    assert entry["changed_by"].startswith("cli") and entry["before"]["unit"] is None, entry
    assert datetime.fromisoformat(entry["effective_from"]) == datetime.combine(first_roster["monday"], time(0),
                                                                               _zone(city)), entry


def test_a_second_roster_dated_back_is_refused_naming_its_rows_and_changes_nothing(taipei_server, first_roster):
    city = taipei_server
    kept = city.sql("SELECT id, grid_code, responsible_unit FROM grid_assignments ORDER BY id")
    units = city.sql("SELECT code, responsible_unit FROM grids ORDER BY code")
    name = _roster(city, ZHONGZHENG, "zhongzheng-2.xlsx", lambda row: ("臺北市環保局中正區隊", "王大同", "02-2321-9999"))
    first = city.one("SELECT min(code) FROM grids WHERE street_code = %s", (ZHONGZHENG,))
    refused = city.cli("grids", "assign", name, "--since", first_roster["monday"].isoformat(), check=False)
    assert refused.returncode != 0 and refused.stdout == "", refused
    assert f"zhongzheng-2.xlsx 第 2 行：--since：网格 {first} 已有责任单位" in refused.stderr, refused.stderr
    assert "未做任何修改" in refused.stderr and "追溯会改写已发布的通报" in refused.stderr, refused.stderr
    english = city.cli("grids", "assign", name, "--since", first_roster["monday"].isoformat(), "--lang", "en",
                       check=False)
    assert f"zhongzheng-2.xlsx row 2: --since: grid {first} already has a unit" in english.stderr, english.stderr
    assert city.sql("SELECT id, grid_code, responsible_unit FROM grid_assignments ORDER BY id") == kept
    assert city.sql("SELECT code, responsible_unit FROM grids ORDER BY code") == units
    assert _bulletin(city, first_roster["week"])["units"] == first_roster["after"]["json"]["units"]
    # Over HTTP too: a grid that has had a unit takes a new one from now, not dated back.
    answer = httpx.put(f"{city.base}/api/grids/{first}/assignment", headers={"Authorization": f"Bearer {city.token}"},
                       json={"unit": "臺北市環保局中正區隊", "manager": "王大同", "phone": "02-2321-9999",
                             "reason": "改派", "since": first_roster["monday"].isoformat()}, timeout=30)
    assert answer.status_code == 422 and f"grid {first} already has a unit" in answer.text, answer.text
    assert city.sql("SELECT id, grid_code, responsible_unit FROM grid_assignments ORDER BY id") == kept


def test_a_date_in_the_future_or_before_the_grids_were_cut_is_refused(taipei_server):
    """松山區, cut at 500 m and again at 400 m before any roster: a roster dated tomorrow is refused as a whole;
    a grid dated back before the second cut is refused over HTTP (the first cut's grids held the place then),
    and taken from the cut on."""
    city, auth = taipei_server, {"Authorization": f"Bearer {taipei_server.token}"}
    city.cli("grids", "generate", "--street", SONGSHAN, "--size", 500)
    name = _roster(city, SONGSHAN, "songshan.xlsx", lambda row: (f"松山區清潔隊第{row}分隊", "陳美玲", "02-2765-0000"))
    tomorrow = (datetime.now(UTC).astimezone(_zone(city)).date() + timedelta(days=1)).isoformat()  # the city's
    refused = city.cli("grids", "assign", name, "--since", tomorrow, check=False)
    assert refused.returncode != 0 and "--since" in refused.stderr and "晚于现在" in refused.stderr, refused
    english = city.cli("grids", "assign", name, "--since", tomorrow, "--lang", "en", check=False)
    assert "is in the future" in english.stderr and "nothing was changed" in english.stderr, english
    assert city.sql("SELECT count(*) FROM grid_assignments a JOIN grids g ON g.code = a.grid_code "
                    "WHERE g.street_code = %s", (SONGSHAN,)) == [(0,)]
    cut_before = datetime.now(UTC)
    city.cli("grids", "generate", "--street", SONGSHAN, "--size", 400)
    after_cut = datetime.now(UTC)
    code = city.one("SELECT min(code) FROM grids WHERE street_code = %s", (SONGSHAN,))
    body = {"unit": "松山區清潔隊第1分隊", "manager": "陳美玲", "phone": "02-2765-0000", "reason": "首次名册"}
    put = lambda since: httpx.put(f"{city.base}/api/grids/{code}/assignment", headers=auth,  # noqa: E731
                                  json={**body, "since": since}, timeout=30)
    future = put(tomorrow)
    assert future.status_code == 422 and "is in the future" in future.text, future.text
    early = put((cut_before - timedelta(days=3)).isoformat())
    assert early.status_code == 422 and f"grid {code} was cut when street {SONGSHAN}" in early.text, early.text
    assert city.sql("SELECT count(*) FROM grid_assignments WHERE grid_code = %s", (code,)) == [(0,)]
    taken = put(after_cut.isoformat())
    assert taken.status_code == 200 and taken.json()["since"], taken.text
