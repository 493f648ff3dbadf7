"""The campaign office (创卫办) of Yantai asks its bulletin: who has not rectified in time (逾期未整改)?

On Yantai's real district outlines (tests/real_city.py) with 向阳街道 drawn on a Gaode map, cut into grids and
given units by its roster (tests/yantai_street.py), a round finds four problems after the roster was loaded:
one is left alone, one is rectified and awaits the re-check, one fails its re-check (a new deadline), one
passes. With the city's data time three days on (`city set --data-time`), the week's bulletin — JSON, PDF,
workbook and page — counts the findings still open at its end and those overdue per street and unit, and names
each overdue one with its unit, item and deadline; a week before any finding says nothing of them.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.conftest import real_data
from tests.pdf_tools import pdftext
from tests.yantai_street import (  # noqa: F401  (pytest fixtures, used by name)
    EAST,
    EAST_UNIT,
    OTHER_STREET,
    STREET,
    WEST,
    WEST_UNIT,
    ZONE,
    call,
    city,
    site,
    yantai,
)


def _point(site, community: str, k: int) -> tuple[float, float]:
    return site.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                    "WHERE community_code = %s ORDER BY code OFFSET %s LIMIT 1) s", (community, k))[0]


def _photo() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (80, 150, 80)).save(image, format="JPEG")
    return image.getvalue()


def _move(site, fid: int, who: str, status: str, note: str | None = None) -> None:
    if status == "已整改":
        sent = call(site, "POST", f"/api/inspections/findings/{fid}/photos", who, data={"stage": "after"},
                    files={"file": ("after.jpg", _photo(), "image/jpeg")})
        assert sent.status_code in (200, 201), sent.text
    moved = call(site, "PATCH", f"/api/inspections/findings/{fid}", who, json={"status": status, "note": note})
    assert moved.status_code == 200, moved.text


@pytest.fixture(scope="module")
def week(site):
    """Four findings of a round over 向阳街道 in four states; the data time three days on; the week holding it."""
    assigned = site.one("SELECT max(changed_at) FROM grid_assignments")
    observed = max(assigned + timedelta(seconds=1), datetime.now(ZONE) - timedelta(seconds=1))
    today = datetime.now(ZONE).date()
    made = call(site, "POST", "/api/inspections/rounds", "admin", json={
        "name": "向阳街道周检查（整改）", "kind": "周检查", "streets": [STREET],
        "starts": str(today - timedelta(days=1)), "ends": str(today + timedelta(days=7))})
    assert made.status_code == 201, made.text
    ids = []
    for community, k in ((WEST, 0), (EAST, 0), (WEST, 1), (EAST, 1)):
        lon, lat = _point(site, community, k)
        found = call(site, "POST", "/api/inspections/findings", "inspector", json={
            "round_id": made.json()["id"], "lon": lon, "lat": lat, "item": "TLT-01", "note": "现场检查",
            "observed_at": observed.isoformat(), "client_id": str(uuid.uuid4())})
        assert found.status_code == 201, found.text
        ids.append(found.json()["id"])
    left, awaiting, failed, passed = ids
    for fid in (awaiting, failed, passed):
        _move(site, fid, "street", "已整改", "已整改")
    _move(site, failed, "inspector", "复查未通过", "仍有异味")
    _move(site, passed, "inspector", "复查通过")
    later = datetime.now(ZONE) + timedelta(days=3)
    site.cli("city", "set", "--data-time", later.replace(microsecond=0).isoformat())
    site.ids = {"left": left, "awaiting": awaiting, "failed": failed, "passed": passed}
    return str(later.date())


def test_the_bulletin_counts_and_names_the_findings_overdue_for_rectification(site, week):
    """The left one and the one failed at its re-check are overdue at the end (judged at the data time), the
    one awaiting its re-check is open but not overdue, the passed one is neither: per street, per unit, named."""
    answer = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": week})
    assert answer.status_code == 200, answer.text
    b = answer.json()
    rect = b["rectification"]
    assert (rect["open"], rect["awaiting_recheck"], rect["overdue"]) == (3, 1, 2), rect
    named = {r["id"]: r for r in rect["items"]}
    assert set(named) == {site.ids["left"], site.ids["failed"]}
    assert named[site.ids["left"]]["unit"] == WEST_UNIT and named[site.ids["failed"]]["unit"] == WEST_UNIT
    assert all(r["street_name"] == "向阳街道" and r["days_overdue"] > 1 for r in rect["items"])
    street = next(r for r in b["streets"] if r["code"] == STREET)
    assert (street["findings_open_at_end"], street["findings_overdue_at_end"]) == (3, 2)
    units = {r["code"]: r for r in b["units"]}
    assert (units[WEST_UNIT]["findings_open_at_end"], units[WEST_UNIT]["findings_overdue_at_end"]) == (2, 2)
    assert (units[EAST_UNIT]["findings_open_at_end"], units[EAST_UNIT]["findings_overdue_at_end"]) == (1, 0)
    assert "期末检查问题未整改3处，其中逾期未整改2处，向阳街道2处" in b["summary_zh"], b["summary_zh"]
    assert "2 of them overdue for rectification" in b["summary_en"], b["summary_en"]
    # The week before the one the findings were made in (today's; the data time three days on may be next week's).
    before = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": str(
        datetime.now(ZONE).date() - timedelta(days=7))}).json()
    assert before["rectification"] is None and "逾期未整改" not in before["summary_zh"]


@pytest.fixture(scope="module")
def week_pdf(site, week) -> str:
    """The week's printed bulletin (`report bulletin --out week.pdf`), as text."""
    site.cli("report", "bulletin", "--period", "week", "--date", week, "--out", "week.pdf", timeout=600)
    return pdftext(site.work / "week.pdf")


def test_the_printed_bulletin_workbook_and_page_name_them(site, week, week_pdf):
    """The PDF has a section naming each overdue finding with its unit, the workbook a sheet of them with
    date cells, the page a table of them (zh and en)."""
    text = week_pdf
    assert "七、逾期未整改的检查问题" in text and text.count(WEST_UNIT) >= 2, text[-2000:]
    site.cli("report", "bulletin", "--period", "week", "--date", week, "--lang", "en", "--out", "week.xlsx")
    sheet = load_workbook(site.work / "week.xlsx")["Overdue findings"]
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)]
    assert sorted(r[0] for r in rows) == sorted((site.ids["left"], site.ids["failed"]))
    assert all(r[3] == WEST_UNIT and isinstance(r[8], datetime) for r in rows), rows
    page = call(site, "GET", "/reports", params={"period": "week", "date": week}).text
    assert 'id="overdue-findings"' in page and page.count(WEST_UNIT) >= 2


def test_the_printed_bulletin_says_when_a_section_has_nothing(week_pdf):
    """Yantai has no complaint yet: the sections of overdue complaints and of event types say so in a sentence,
    not as a table of headings over no row."""
    text = " ".join(week_pdf.split())
    assert "三、超期未结案较多的责任单位 期末没有超期未结案的投诉。" in text, text[:3000]
    assert "四、主要问题类别 本期和上期都没有受理投诉。" in text, text[:3000]


@pytest.fixture(scope="module")
def calls(site):
    """Real 311 calls (New York's sample of 28 February 2023, its sanitation complaints) as 向阳街道's 12345
    export of the last three weeks: places moved into the street as drawn on Gaode (GCJ-02), times spread
    back from now, half of them closed two days later; imported with `import complaints --crs gcj02`."""
    import csv

    from tests.yantai_street import DRAWN

    x0, y0, x1, y1 = DRAWN[STREET]
    kinds = {"UNSANITARY CONDITION": "暴露垃圾", "Dirty Condition": "道路不洁", "Rodent": "病媒生物",
             "Illegal Dumping": "积存垃圾渣土", "Graffiti": "非法小广告", "Street Condition": "道路不洁"}
    with open(real_data("nyc/nyc311_sample_2023-02-28.csv", site.work), encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Complaint Type"] in kinds][:150]
    now = datetime.now(ZONE).replace(microsecond=0, tzinfo=None)
    with (site.work / "xiangyang_12345.csv").open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间", "状态", "结案时间"])
        for k, r in enumerate(rows):
            reported = now - timedelta(hours=4 * k + 1)
            closed = reported + timedelta(days=2) if k % 2 and reported + timedelta(days=2) < now else None
            writer.writerow([f"YT-{r['Unique Key']}", f"{x0 + (x1 - x0) * (0.05 + 0.9 * (k % 11) / 10):.6f}",
                             f"{y0 + (y1 - y0) * (0.05 + 0.9 * (k % 7) / 6):.6f}", kinds[r["Complaint Type"]],
                             r["Descriptor"], "12345", reported.isoformat(), "结案" if closed else "派遣",
                             closed.isoformat() if closed else ""])
    site.cli("import", "complaints", "xiangyang_12345.csv", "--crs", "gcj02")
    return len(rows)


def test_the_summary_compares_with_the_previous_period(site, week, calls):
    """Last week's summary says how it compares with the week before (环比): received, closure and on-time rates
    in percentage points, and the inspection findings (or that the week before had none), in zh and en."""
    last_week = str((datetime.now(ZONE) - timedelta(days=7)).date())
    b = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": last_week}).json()
    t, p = b["totals"], b["previous_totals"]
    assert t["received"] and p["received"], (t, p)  # both weeks hold calls: a comparison to make
    change = t["received"] - p["received"]
    said = "持平" if change == 0 else f"{'增加' if change > 0 else '减少'}{abs(change)}件"
    assert f"与上周相比，受理数{said}" in b["summary_zh"], b["summary_zh"]
    assert f"Against last week: received {change:+d}" in b["summary_en"], b["summary_en"]
    if t["due"] and p["due"]:
        points = round(100 * (t["closed_rate"] - p["closed_rate"]), 1)
        word = "持平" if points == 0 else f"{'上升' if points > 0 else '下降'}{abs(points):.1f}个百分点"
        assert f"结案率{word}" in b["summary_zh"], b["summary_zh"]
    ins = b["inspections"]
    if ins is None:  # no round ran last week (the round began today)
        return
    before = ("上周没有实地检查。" if ins["previous_findings"] is None
              else f"上周发现{ins['previous_findings']}处，扣{ins['previous_deductions']:g}分。")
    assert f"实地检查发现问题{ins['findings']}处，扣{ins['deductions']:g}分；{before}" in b["summary_zh"]


def test_the_office_lists_the_overdue_findings_to_chase(site, week):
    """督办: the round list counts each round's overdue findings, and the findings list filters them
    (`?overdue=true`), judged at the data time as the bulletin judges them."""
    listed = call(site, "GET", "/api/inspections/rounds", "admin").json()["items"]
    mine = next(r for r in listed if r["name"] == "向阳街道周检查（整改）")
    assert (mine["findings"], mine["to_rectify"], mine["overdue"]) == (4, 2, 2), mine
    late = call(site, "GET", "/api/inspections/findings", "admin", params={"overdue": "true", "street": STREET})
    assert late.status_code == 200, late.text
    assert {r["id"] for r in late.json()["items"]} == {site.ids["left"], site.ids["failed"]}
    assert all(r["overdue"] for r in late.json()["items"])
    others = call(site, "GET", "/api/inspections/findings", "admin", params={"overdue": "false", "round": mine["id"]})
    assert {r["id"] for r in others.json()["items"]} == {site.ids["awaiting"], site.ids["passed"]}


def test_a_later_extension_does_not_rewrite_a_past_bulletin(site, week, calls):
    """The office sets a later deadline (限期整改) on a call that was overdue at the end of last week: last week's
    bulletin, printed again, still counts it overdue (the deadline as it stood at its end, as filed); this week's,
    in which the decision was made, no longer does."""
    last_week = str((datetime.now(ZONE) - timedelta(days=7)).date())
    first = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": last_week}).json()
    end = datetime.fromisoformat(first["period"]["end"])
    late = site.one("SELECT id FROM complaints WHERE closed_at IS NULL AND due_at < %s AND street_code = %s "
                    "ORDER BY reported_at DESC, id LIMIT 1", (end, STREET))
    now = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": week}).json()
    changed = call(site, "PUT", f"/api/complaints/{late}/deadline", "admin", json={
        "due_at": (datetime.now(ZONE) + timedelta(days=10)).replace(microsecond=0).isoformat(),
        "reason": "创卫办限期整改：协调环卫所清运"})
    assert changed.status_code == 200, changed.text
    again = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": last_week}).json()
    assert again["totals"] == first["totals"], (first["totals"], again["totals"])
    assert again["trend"] == first["trend"]
    after = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": week}).json()
    assert after["totals"]["overdue_at_end"] == now["totals"]["overdue_at_end"] - 1


def test_the_bulletin_shows_how_each_score_is_made(site, week):
    """扣分明细: this week's points lost per street, unit and checklist item add up to the ranking's deductions of
    each street and unit (score = base − them), in the JSON, the PDF (八、), the workbook and the page."""
    today = str(datetime.now(ZONE).date())
    b = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": today}).json()
    rows = b["inspections"]["by_item"]
    assert sum(r["findings"] for r in rows) == 4 and {r["unit"] for r in rows} == {WEST_UNIT, EAST_UNIT}
    for r in rows:
        assert r["points"] == r["deduction"] * r["findings"] and r["item_code"] == "TLT-01" and r["item_text"]
    street = next(r for r in b["streets"] if r["code"] == STREET)
    assert sum(r["points"] for r in rows if r["street_code"] == STREET) == street["deductions"]
    assert street["score"] == b["inspections"]["base"] - street["deductions"]
    for unit in (WEST_UNIT, EAST_UNIT):
        row = next(r for r in b["units"] if r["code"] == unit)
        assert sum(r["points"] for r in rows if r["unit"] == unit) == row["deductions"] > 0
    site.cli("report", "bulletin", "--period", "week", "--date", today, "--out", "today.pdf", timeout=600)
    text = " ".join(pdftext(site.work / "today.pdf").split())
    each = rows[0]["deduction"]
    assert "八、检查扣分明细" in text and f"{WEST_UNIT} · TLT-01" in text, text[-3000:]
    assert f"每处扣{each:g}分 × 2处 = {2 * each:g}分" in text, text[-3000:]
    site.cli("report", "bulletin", "--period", "week", "--date", today, "--out", "today.xlsx")
    sheet = load_workbook(site.work / "today.xlsx")["检查扣分明细"]
    cells = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == STREET]
    assert sum(r[7] for r in cells) == street["deductions"] and all(isinstance(r[7], float | int) for r in cells)
    page = call(site, "GET", "/reports", params={"period": "week", "date": today, "lang": "en"}).text
    assert 'id="deductions"' in page and "Deductions by checklist item" in page


def test_a_street_not_inspected_is_named_not_ranked_as_faultless(site, week):
    """This week is ranked by inspection score; 黄海路街道, which no round covered, has no score, no rank, and the
    summary names it as not inspected (zh and en) rather than leaving it out silently."""
    from tests.yantai_street import OTHER_STREET

    today = str(datetime.now(ZONE).date())
    b = call(site, "GET", "/api/reports/bulletin", params={"period": "week", "date": today, "lang": "en"}).json()
    assert b["ranked_by"] == "score"
    other = next(r for r in b["streets"] if r["code"] == OTHER_STREET)
    assert other["score"] is None and other["rank"] is None
    assert "本周未经检查、不参加检查得分排名的街道1个：黄海路街道。" in b["summary_zh"], b["summary_zh"]
    assert "Not inspected this week, so not ranked by score: 1 street (黄海路街道)." in b["summary_en"], b["summary_en"]


def test_a_round_score_says_how_it_is_made(site, week):
    """The round's scores carry their 扣分明细: per street, unit and item, adding up to each row's deductions."""
    listed = call(site, "GET", "/api/inspections/rounds", "admin").json()["items"]
    rid = next(r["id"] for r in listed if r["name"] == "向阳街道周检查（整改）")
    scores = call(site, "GET", f"/api/inspections/rounds/{rid}/scores", "admin").json()
    rows = scores["by_item"]
    assert sum(r["findings"] for r in rows) == 4
    for street in scores["streets"]:
        assert sum(r["points"] for r in rows if r["street_code"] == street["street_code"]) == street["deductions"]
    for unit in scores["units"]:
        assert sum(r["points"] for r in rows if r["unit"] == unit["unit"]) == unit["deductions"]


def test_the_office_plans_and_lists_rounds_from_the_command_line(site, week):
    """`inspections round` plans a week's round (Monday to Monday, the city's time) and `inspections rounds` lists
    every round with its findings, those to rectify and those overdue, times as the office wrote them — in Chinese,
    and with `--lang en` the same lines in English; a street that does not exist is refused in one line."""
    monday = datetime.now(ZONE).date() - timedelta(days=datetime.now(ZONE).weekday())
    made = site.cli("inspections", "round", "--name", "向阳街道下周周检查", "--kind", "周检查", "--starts",
                    str(monday + timedelta(days=7)), "--ends", str(monday + timedelta(days=14)), "--streets", STREET)
    said = re.fullmatch(rf"检查轮次 (\d+)：向阳街道下周周检查（周检查，明察），{monday + timedelta(days=7)} 00:00 至 "
                        rf"{monday + timedelta(days=14)} 00:00，街道 {STREET}\n", made.stdout)
    assert said, made.stdout
    rid = int(said[1])
    starts = site.one("SELECT starts FROM inspection_rounds WHERE id = %s", (rid,))
    assert starts == datetime.combine(monday + timedelta(days=7), datetime.min.time(), ZONE)
    listed = site.cli("inspections", "rounds").stdout.splitlines()
    assert any(line.startswith(f"{rid}\t周检查\t明察\t向阳街道下周周检查") and line.endswith(f"\t街道 {STREET}\t问题 0 条，"
               "待整改 0 条，超期 0 条") for line in listed), listed
    assert any("向阳街道周检查（整改）" in line and "问题 4 条，待整改 2 条，超期 2 条" in line for line in listed), listed
    english = site.cli("inspections", "rounds", "--lang", "en").stdout.splitlines()
    assert any(line.startswith(f"{rid}\t周检查\t明察\t向阳街道下周周检查") and "findings 0" in line for line in english)
    assert any("向阳街道周检查（整改）" in line and "findings 4, to rectify 2, overdue 2" in line for line in english)
    assert [line.split("\t")[:5] for line in english] == [line.split("\t")[:5] for line in listed]
    bad = site.cli("inspections", "round", "--name", "x", "--kind", "周检查", "--starts", str(monday), "--ends",
                   str(monday + timedelta(days=7)), "--streets", "370602999", check=False)
    assert bad.returncode != 0 and "370602999" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr


def test_planning_next_weeks_round_does_not_rewrite_last_months_bulletin(site):
    """A weekly round planned from the last day of last month into this month is this month's (its midpoint):
    last month's bulletin, printed again, neither scores its street at 100 as inspected nor ranks it."""
    today = datetime.now(ZONE).date()
    last_day = today.replace(day=1) - timedelta(days=1)
    month = str(last_day.replace(day=1))
    before = call(site, "GET", "/api/reports/bulletin", params={"period": "month", "date": month}).json()
    made = call(site, "POST", "/api/inspections/rounds", "admin", json={
        "name": "跨月周检查", "kind": "周检查", "streets": [OTHER_STREET],
        "starts": str(last_day), "ends": str(last_day + timedelta(days=7))})
    assert made.status_code == 201, made.text
    again = call(site, "GET", "/api/reports/bulletin", params={"period": "month", "date": month}).json()
    other = next(r for r in again["streets"] if r["code"] == OTHER_STREET)
    assert other["score"] is None and other["rank"] == next(
        r for r in before["streets"] if r["code"] == OTHER_STREET)["rank"], other
    assert [(r["code"], r["rank"]) for r in again["streets"]] == [(r["code"], r["rank"]) for r in before["streets"]]
    this_month = call(site, "GET", "/api/reports/bulletin", params={"period": "month", "date": str(today)}).json()
    assert next(r for r in this_month["streets"] if r["code"] == OTHER_STREET)["score"] == 100


def test_a_case_sent_back_today_does_not_rewrite_the_bulletin_of_the_week_it_was_reported(site):
    """A 12345 call of ten days ago, taken to 核查 and sent back (返工) today: the bulletin of its week, printed
    again, reads the same — 返工 counts in the period it happened by, as a later extension does not count."""
    reported = (datetime.now(ZONE) - timedelta(days=10)).replace(microsecond=0)
    lon, lat = _point(site, WEST, 2)
    made = call(site, "POST", "/api/complaints", "admin", json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "source": "12345", "reported_at": reported.isoformat()})
    assert made.status_code == 201, made.text
    for status in ("立案", "派遣", "处置", "核查"):
        moved = call(site, "PATCH", f"/api/complaints/{made.json()['id']}", "street", json={"status": status,
                                                                                         "note": "已处理"})
        assert moved.status_code == 200, moved.text
    week = {"period": "week", "date": str(reported.date())}
    before = call(site, "GET", "/api/reports/bulletin", params=week).json()
    back = call(site, "PATCH", f"/api/complaints/{made.json()['id']}", "street", json={"status": "处置",
                                                                                      "note": "核查不合格，返工"})
    assert back.status_code == 200, back.text
    after = call(site, "GET", "/api/reports/bulletin", params=week).json()
    assert after["totals"] == before["totals"] and after["streets"] == before["streets"], (after["totals"],
                                                                                         before["totals"])
