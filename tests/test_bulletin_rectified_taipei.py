"""The bulletin's 整改 figures and wording, on Taipei from the real files (tests/real_city.py).

A campaign office's 创卫 月通报 reports per street and unit how many inspection findings fell due, how many were
rectified (a passed re-check) and how many on time (按期整改率), and how many re-checks failed (返工); names the
streets with most overdue findings without dropping one tied with the last named, saying "等" when it leaves some
out; tells a rank kept (持平) from a street not ranked before (新进); and sends streets plain words, not a setting's
name or a file path. Two past months of rounds over Taipei's district offices (区公所 as streets), their history of
rectification written as a paper record is entered (times of the past), checked by hand below.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from tests.pdf_tools import pdftext
from tests.phone_layout import phone  # noqa: F401  (a pytest fixture, used by name)
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    TAIPEI_STREET,
    taipei,
    taipei_grids,
    taipei_server,
)
from tests.test_bulletin_page import _cells

UNIT1, UNIT2 = "大同區清潔隊第1分隊", "大同區清潔隊第2分隊"


def _months() -> tuple[date, date]:
    """The first days of the month before last and of last month (Taipei's calendar): M and M+1."""
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Taipei")).date()
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (last - timedelta(days=1)).replace(day=1), last


@pytest.fixture(scope="module")
def quarter(taipei_server, taipei_grids):
    """Two rounds, M over 大同區 萬華區 中山區 中正區 and M+1 over 大同區 萬華區 中山區 松山區, with findings of TLT-01
    (2 points, due 1 day after found) and their rectification steps at past times; {"m", "m1", "street": {name: code}}."""
    from data.db import connect
    from data.vocab import RECHECK_FAILED, RECHECK_PASSED, RECTIFIED, TO_RECTIFY, city_tz
    from layers.workflow import inspections
    from layers.workflow.access import OPERATOR

    city, zone = taipei_server, city_tz()
    m, m1 = _months()
    street = {name: code for code, name in city.sql("SELECT code, name FROM admin_areas WHERE level = 'street'")}
    conn = connect(url=city.url)
    at = lambda d, day, hour: datetime(d.year, d.month, day, hour, tzinfo=zone)  # noqa: E731
    end_m = datetime(m1.year, m1.month, 1, tzinfo=zone)

    def found(round_id: int, name: str, seen: datetime, k: int) -> int:
        lon, lat = city.sql("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids
                               WHERE street_code = %s ORDER BY code OFFSET %s LIMIT 1) g""", (street[name], k))[0] \
            if street[name] == TAIPEI_STREET else city.sql(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                "WHERE level = 'street' AND code = %s) g", (street[name],))[0]
        row, _ = inspections.record_finding(conn, OPERATOR, round_id=round_id, lon=lon, lat=lat, item="TLT-01",
                                            note="通风不良", observed_at=seen, client_id=f"q-{round_id}-{name}-{k}")
        return row["id"]

    def steps(fid: int, *moves) -> None:  # the paper record: (from, to, when[, new deadline])
        with conn.cursor() as cur:
            for frm, to, when, *due in moves:
                cur.execute("""INSERT INTO inspection_events (finding_id, from_status, to_status, note, due_at, actor,
                                                              at) VALUES (%s, %s, %s, '补录', %s, 'test', %s)""",
                            (fid, frm, to, due[0] if due else None, when))
                cur.execute("UPDATE inspection_findings SET status = %s WHERE id = %s", (to, fid))

    first = inspections.create_round(conn, name="M月度检查", kind="专项检查", starts=at(m, 1, 0), ends=end_m,
                                     streets=[street[n] for n in ("大同區", "萬華區", "中山區", "中正區")], actor="test")
    # 大同區: seven found on the 10th 10:00, due the 11th 10:00; one found on M's last evening, due in M+1.
    f = [found(first["id"], "大同區", at(m, 10, 10), k) for k in range(7)]
    late = found(first["id"], "大同區", at(m, 10, 10) + (end_m - at(m, 10, 10)) - timedelta(hours=1), 7)
    due = at(m, 11, 10)
    steps(f[0], (TO_RECTIFY, RECTIFIED, due - timedelta(hours=2)), (RECTIFIED, RECHECK_PASSED, at(m, 12, 9)))
    steps(f[1], (TO_RECTIFY, RECTIFIED, at(m, 13, 9)), (RECTIFIED, RECHECK_PASSED, at(m, 14, 9)))
    steps(f[2], (TO_RECTIFY, RECTIFIED, due - timedelta(hours=3)), (RECTIFIED, RECHECK_FAILED, at(m, 11, 15)),
          (RECHECK_FAILED, TO_RECTIFY, at(m, 11, 15), at(m, 12, 15)), (TO_RECTIFY, RECTIFIED, at(m, 12, 10)),
          (RECTIFIED, RECHECK_PASSED, at(m, 13, 10)))
    steps(f[3], (TO_RECTIFY, RECTIFIED, due - timedelta(hours=1)), (RECTIFIED, RECHECK_PASSED, at(m1, 2, 9)))
    with conn.cursor() as cur:  # the roster came later: the units of the paper record
        cur.execute("UPDATE inspection_findings SET responsible_unit = %s WHERE id = ANY(%s)", (UNIT1, f[:3]))
        cur.execute("UPDATE inspection_findings SET responsible_unit = %s WHERE id = ANY(%s)", (UNIT2, f[3:]))
    for name, n in (("萬華區", 2), ("中山區", 1), ("中正區", 1)):  # left alone: overdue
        for k in range(n):
            found(first["id"], name, at(m, 10, 10), k)
    second = inspections.create_round(conn, name="M+1月度检查", kind="专项检查", starts=at(m1, 1, 0),
                                      ends=at(m1, 28, 0),
                                      streets=[street[n] for n in ("大同區", "萬華區", "中山區", "松山區")], actor="test")
    found(second["id"], "中山區", at(m1, 10, 10), 0)
    for k in range(2):
        found(second["id"], "大同區", at(m1, 10, 10), 10 + k)
    conn.commit()
    conn.close()
    assert late
    return {"m": f"{m:%Y-%m}", "m1": f"{m1:%Y-%m}", "street": street}


def _bulletin(city, month: str, lang: str = "zh") -> dict:
    answer = city.get("/api/reports/bulletin", period="month", date=month, lang=lang)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_rectification_rates_per_street_and_unit_in_json_page_xlsx_and_pdf(taipei_server, quarter):
    """M, by hand: 大同區 has 7 findings due (the one found on M's last evening falls due in M+1), 3 passed their
    re-check in M (a 4th passed only in M+1), 1 of them rectified by the deadline (one late, one after a failed
    re-check), 1 failed re-check; 萬華區 2 due, 中山區 1, 中正區 1, none rectified. Units 1 and 2 of 大同區 split so."""
    city = taipei_server
    b = _bulletin(city, quarter["m"])
    rows = {r["name"]: r for r in b["streets"]}
    codes = ("findings_due", "findings_rectified", "findings_rectified_on_time", "rectified_rate",
             "rectified_on_time_rate", "rechecks_failed")
    want = {"大同區": (7, 3, 1, round(3 / 7, 6), round(1 / 7, 6), 1), "萬華區": (2, 0, 0, 0.0, 0.0, 0),
            "中山區": (1, 0, 0, 0.0, 0.0, 0), "中正區": (1, 0, 0, 0.0, 0.0, 0), "松山區": (0, 0, 0, None, None, 0)}
    assert {n: tuple(rows[n][c] for c in codes) for n in want} == want
    units = {r["name"]: r for r in b["units"]}
    assert tuple(units[UNIT1][c] for c in codes) == (3, 3, 1, 1.0, round(1 / 3, 6), 1)
    assert tuple(units[UNIT2][c] for c in codes) == (4, 0, 0, 0.0, 0.0, 0)
    rect = b["rectification"]
    assert (rect["findings_due"], rect["findings_rectified"], rect["findings_rectified_on_time"],
            rect["rechecks_failed"]) == (11, 3, 1, 1)
    assert "期内到期应整改问题11处，整改完成（复查通过）3处，按期整改1处，按期整改率9.1%；复查未通过1次。" in b["summary_zh"]
    defined = {d["code"]: d for d in b["definitions"]}
    assert "复查通过" in defined["findings_rectified"]["definition"] and set(codes) <= set(defined)

    page = city.get("/reports", period="month", date=quarter["m"]).text
    head = re.findall(r"<th>(.*?)</th>", page.split('<table id="streets">')[1].split("</thead>")[0])
    assert {"应整改问题数", "整改完成数", "按期整改数", "整改率", "按期整改率", "复查未通过次数"} <= set(head)
    line = next(r for r in _cells(page, "streets") if r[2] == "大同區")
    assert [line[head.index(h)] for h in ("应整改问题数", "整改完成数", "按期整改率", "复查未通过次数")] == \
        ["7", "3", "14.3%", "1"]

    book = load_workbook(io.BytesIO(city.get("/reports/bulletin.xlsx", period="month", date=quarter["m"]).content))
    sheet = book["街道排名"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if "大同區" in r)
    assert [row[header.index(h)] for h in ("应整改问题数", "整改完成数", "按期整改数", "复查未通过次数")] == [7, 3, 1, 1]
    assert abs(row[header.index("按期整改率")] - 1 / 7) < 1e-6  # a number, shown as a percentage
    definitions = " ".join(str(c.value) for r in book["指标说明"].iter_rows() for c in r)
    assert "按期整改率" in definitions

    city.cli("report", "bulletin", "--period", "month", "--date", quarter["m"], "--out", "rect.pdf", timeout=600)
    text = pdftext(city.work / "rect.pdf")
    assert "期内到期检查问题整改情况" in text and "按期整改率" in text and "14.3%" in text


def test_summary_names_streets_tied_with_the_third_and_says_deng(taipei_server, quarter):
    """M: overdue 大同區 3, 萬華區 2, 中山區 1, 中正區 1 — the two tied for third both named, no "等". M+1: 大同區 6,
    中山區 2, 萬華區 2, 中正區 1 — three named and "等" for 中正區."""
    city = taipei_server
    m = _bulletin(city, quarter["m"])
    assert "逾期未整改7处，大同區3处、萬華區2处、中山區1处、中正區1处。" in m["summary_zh"], m["summary_zh"]
    m1 = _bulletin(city, quarter["m1"])
    assert "逾期未整改11处，大同區6处、中山區2处、萬華區2处等。" in m1["summary_zh"], m1["summary_zh"]
    en = _bulletin(city, quarter["m1"], "en")
    assert "overdue for rectification: 大同區 (6), 中山區 (2), 萬華區 (2), among others." in en["summary_en"]


def test_rank_kept_and_newly_ranked_are_told_apart(taipei_server, quarter):
    """M+1 by score: 萬華區 and 松山區 100 (1st), 中山區 98 (3rd), 大同區 96 (4th, as in M) — 大同區 持平 (0 in the
    JSON and XLSX), 松山區 新进 (not ranked in M), on the page and in the PDF."""
    city = taipei_server
    b = _bulletin(city, quarter["m1"])
    rows = {r["name"]: r for r in b["streets"]}
    assert (rows["大同區"]["rank"], rows["大同區"]["rank_change"]) == (4, 0)
    assert (rows["松山區"]["rank"], rows["松山區"]["rank_change"]) == (1, None)
    page = {r[2]: r for r in _cells(city.get("/reports", period="month", date=quarter["m1"]).text, "streets")}
    assert (page["大同區"][1], page["松山區"][1], page["萬華區"][1], page["中正區"][1]) == ("持平", "新进", "↑2", "")
    # the page: the score and the mark right after the name (a phone sees them without scrolling sideways)
    assert page["大同區"][3:5] == ["96", "黑榜"] and page["松山區"][3:5] == ["100", "红榜"]
    city.cli("report", "bulletin", "--period", "month", "--date", quarter["m1"], "--out", "rank.pdf", timeout=600)
    text = pdftext(city.work / "rank.pdf")
    assert "持平" in text and "新进" in text


def test_printed_bulletin_and_workbook_say_plain_words(taipei_server, quarter):
    """The 通报 and its workbook go to street offices: no environment variable, no file path in them."""
    city = taipei_server
    city.cli("report", "bulletin", "--period", "month", "--date", quarter["m"], "--out", "words.pdf", timeout=600)
    text = pdftext(city.work / "words.pdf").replace("\n", "")
    book = load_workbook(io.BytesIO(city.get("/reports/bulletin.xlsx", period="month", date=quarter["m"]).content))
    notes = " ".join(str(c.value) for r in book["指标说明"].iter_rows() for c in r)
    for said in (text, notes):
        assert "HYGIENE_MAP" not in said and "standards.csv" not in said
        assert "基础分（100分" in said
    assert "国家标准服务半径" in notes


_PHONE_VIEW = """(() => {
  const lines = (e) => { const r = document.createRange(); r.selectNodeContents(e);
                         return new Set(Array.from(r.getClientRects()).map((x) => Math.round(x.top))).size; };
  const rows = Array.from(document.querySelectorAll('#streets tbody tr'));
  const rect = (s) => { const r = document.querySelector(s).getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {width: innerWidth,
          shown: rows.map((tr) => [tr.cells[2].textContent, tr.cells[3].getBoundingClientRect().right,
                                   tr.cells[4].getBoundingClientRect().right, lines(tr.cells[2])]),
          trend: rect('#trend'), rate: document.querySelector('#trend-rate') && rect('#trend-rate')};
})()"""


@pytest.mark.browser
def test_a_phone_sees_the_score_the_mark_and_both_trend_charts(taipei_server, quarter, phone):
    """/reports at 390 px: each street's score and 红榜/黑榜 without a sideways scroll, its name on one line, the
    closure-rate chart under the received chart, within the screen; nothing else out of place."""
    from tests.phone_layout import assert_clear, measured

    path = f"/reports?period=month&date={quarter['m1']}"
    assert_clear(measured(phone, path, None, "reports-rectified-phone.png"), path)
    seen = phone.evaluate(_PHONE_VIEW)
    width = seen["width"]
    assert seen["shown"] and all(score <= width and mark <= width for _, score, mark, _ in seen["shown"]), seen
    assert all(n == 1 for *_, n in seen["shown"]), seen["shown"]  # 萬華區, not 萬/華/區
    rate, trend = seen["rate"], seen["trend"]
    assert rate and rate["left"] >= 0 and rate["right"] <= width and rate["top"] >= trend["bottom"] - 1, seen
