"""The bulletin of a city whose streets are drawn for part of it: Yantai's 11 real district outlines
(tests/real_city.py) and one street, 向阳街道 in 芝罘区, imported as the walkthrough did; a 12345 export of complaints
in the street, in 芝罘区 outside it and in 莱山区 (no street drawn), routed by the command line to a district only
(street_code NULL). The street table ends with one unranked line of the complaints in no street, so that its rows add
up to the summary's totals (workbook, PDF, JSON, page, in Chinese and English), and the summary says how many and in
which districts; a month whose complaints all lie in the street, and the demo, show no such line.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.real_city import yantai  # noqa: F401  (pytest fixture, used by name)

STREET, ZHIFU, LAISHAN = "370602001", "370602", "370613"
ALL_IN, MIXED = "2025-09", "2025-10"  # the month all in the street first: the other's open cases are no stock of it
#: Complaints of each month (in the street, in 芝罘区 outside it, in 莱山区).
COUNTS = {ALL_IN: (4, 0, 0), MIXED: (3, 5, 4)}
COUNTED = ("received", "filed", "due", "closed", "on_time", "open_at_end", "overdue_at_end")
LINE = {"zh": "未划入街道", "en": "Not in any street"}
SHEETS = {"zh": ("概况", "街道排名", "排名", "街道"), "en": ("Summary", "Streets", "Rank", "Street")}
ZONE = ZoneInfo("Asia/Shanghai")


def _points(city, where: str, n: int, seed: int) -> list[tuple[float, float]]:
    if not n:
        return []
    return city.sql(f"SELECT ST_X(p.geom), ST_Y(p.geom) FROM ST_Dump(ST_GeneratePoints(({where}), %s, %s)) p",
                    (n, seed))


@pytest.fixture(scope="module")
def partly_streeted(yantai):  # noqa: F811
    """Yantai with 向阳街道 only and a 12345 export of two months' complaints, imported with the command line."""
    street = {"type": "Feature", "properties": {"code": STREET, "name": "向阳街道", "parent": ZHIFU},
              "geometry": {"type": "Polygon", "coordinates": [[[121.38, 37.52], [121.41, 37.52], [121.41, 37.54],
                                                               [121.38, 37.54], [121.38, 37.52]]]}}
    (yantai.work / "street.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [street]},
                                                           ensure_ascii=False), encoding="utf-8")
    yantai.cli("import", "admin_areas", "street.geojson", "--level", "street", "--code-field", "code",
               "--name-field", "name", "--parent-field", "parent")
    area = "SELECT geom FROM admin_areas WHERE code = '{}'"
    places = {"street": area.format(STREET),
              "zhifu": f"SELECT ST_Difference(d.geom, s.geom) FROM ({area.format(ZHIFU)}) d, ({area.format(STREET)}) s",
              "laishan": area.format(LAISHAN)}
    rows, k = [], 0
    for month, counts in COUNTS.items():
        start = datetime.fromisoformat(f"{month}-03T09:00").replace(tzinfo=ZONE)
        for seed, (place, n) in enumerate(zip(places.values(), counts, strict=True), start=1):
            for lon, lat in _points(yantai, place, n, seed * 7 + int(month[-2:])):
                reported = start + timedelta(days=2 * k % 24, hours=k)
                closed = k % 2 == 0  # every other closed in a day; the rest open and overdue (due in two days)
                rows.append([f"YT{k:04d}", f"{lon:.6f}", f"{lat:.6f}", "暴露垃圾", f"第{k}件", "12345",
                             reported.isoformat(), "结案" if closed else "处置",
                             (reported + timedelta(days=2)).isoformat(),
                             (reported + timedelta(days=1)).isoformat() if closed else ""])
                k += 1
    with (yantai.work / "yt_12345.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间", "状态", "处置时限", "结案时间"])
        writer.writerows(rows)
    yantai.cli("import", "complaints", "yt_12345.csv")
    assert yantai.sql("SELECT district_code, street_code, count(*) FROM complaints GROUP BY 1, 2 ORDER BY 1, 2") == [
        (ZHIFU, STREET, 7), (ZHIFU, None, 5), (LAISHAN, None, 4)]
    return yantai


def _workbook(city, month: str, lang: str) -> tuple[dict, list[dict]]:
    """The workbook's totals ({figure name: this period}, from its summary sheet, and its text) and street rows."""
    out = f"bulletin-{month}-{lang}.xlsx"
    city.cli("report", "bulletin", "--period", "month", "--date", month, "--lang", lang, "--out", out)
    book = load_workbook(city.work / out)
    summary_sheet, streets_sheet, *_ = SHEETS[lang]
    totals = {row[0]: row[1] for row in book[summary_sheet].iter_rows(values_only=True)}
    head, *rows = book[streets_sheet].iter_rows(values_only=True)
    return totals, [dict(zip(head, row, strict=True)) for row in rows]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_street_rows_add_up_to_the_totals_with_the_line_outside_every_street(partly_streeted, lang):
    """October: 3 complaints in 向阳街道, 9 in no street (芝罘区 5, 莱山区 4). The street sheet's rows, the unranked
    line "未划入街道" last, add up to the summary sheet's totals figure by figure, as numbers; the summary says
    how many lie in no street and where."""
    from layers.reports.figures import figures

    totals, rows = _workbook(partly_streeted, MIXED, lang)
    _, _, rank, street = SHEETS[lang]
    assert [r[street] for r in rows] == ["向阳街道", LINE[lang]]
    line = rows[-1]
    assert line[rank] is None and rows[0][rank] == 1
    names = {code: figures()[code].name(lang) for code in COUNTED}
    assert (line[names["received"]], rows[0][names["received"]]) == (9, 3)
    for code, name in names.items():
        assert isinstance(line[name], int) and sum(r[name] for r in rows) == totals[name], (code, rows, totals)
    assert totals[names["received"]] == 12 and line[names["due"]] > 0
    text = totals["摘要" if lang == "zh" else "Summary"]
    if lang == "zh":
        assert "本月受理的投诉中有9件不在任何街道范围内（芝罘区5件、莱山区4件），本市尚有部分地区未导入街道界线" in text, text
    else:
        assert "9 lie in no street (芝罘区 5, 莱山区 4): street outlines are missing for part of the city" in text, text
    assert LINE[lang] in text


def test_json_pdf_and_page_show_the_line_unranked(partly_streeted):
    """The same line in the JSON (code null, never ranked, with its districts), after the street on the PDF's
    ranking, and on the page's street table, in both languages."""
    from tests.chromium import serve_app

    city = partly_streeted
    for lang in ("zh", "en"):
        city.cli("report", "bulletin", "--period", "month", "--date", MIXED, "--lang", lang, "--out", f"b-{lang}.pdf")
        text = subprocess.run(["pdftotext", "-layout", str(city.work / f"b-{lang}.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        ranked = re.search(r"^\s*1\s+(持平|=)\s+向阳街道\s+3\s", text, re.M)  # rank 1 both months: kept
        line = re.search(rf"^\s*{LINE[lang]}\s+9\s", text, re.M)  # no rank, 9 received
        assert ranked and line and ranked.start() < line.start(), text[:3000]
    with serve_app(city.url) as base:
        city.base = base
        b = city.get("/api/reports/bulletin", period="month", date=MIXED).json()
        pages = {lang: city.get("/reports", period="month", date=MIXED, lang=lang).text for lang in ("zh", "en")}
    assert [(r["code"], r["rank"]) for r in b["streets"]] == [(STREET, 1), (None, None)]
    for code in COUNTED:
        assert sum(r[code] for r in b["streets"]) == b["totals"][code], code
    assert b["outside_streets"]["received"] == 9
    assert [(d["code"], d["name"], d["received"]) for d in b["outside_streets"]["districts"]] == [
        (ZHIFU, "芝罘区", 5), (LAISHAN, "莱山区", 4)]
    for lang, page in pages.items():
        table = page[page.index('<table id="streets"'):]
        table = table[:table.index("</table>")]
        assert table.count("<tr") == 3 and f"<td>{LINE[lang]}</td>" in table, table


def test_a_month_all_in_streets_has_no_such_line(partly_streeted):
    """September: its 4 complaints all in 向阳街道 (and no older case open): no line outside every street in the
    workbook, the JSON (``outside_streets`` null) or the page, and the summary says nothing of one."""
    from tests.chromium import serve_app

    city = partly_streeted
    totals, rows = _workbook(city, ALL_IN, "zh")
    assert [r["街道"] for r in rows] == ["向阳街道"] and rows[0]["受理数"] == totals["受理数"] == 4
    assert "不在任何街道" not in totals["摘要"] and "未划入街道" not in totals["摘要"]
    with serve_app(city.url) as base:
        city.base = base
        b = city.get("/api/reports/bulletin", period="month", date=ALL_IN).json()
        page = city.get("/reports", period="month", date=ALL_IN).text
    assert b["outside_streets"] is None and [r["code"] for r in b["streets"]] == [STREET]
    assert "in no street" not in b["summary_en"] and LINE["zh"] not in page


def test_the_demo_with_every_complaint_in_a_street_has_no_such_line(demo_client):
    b = demo_client.get("/api/reports/bulletin?period=month&date=2026-10").json()
    assert b["outside_streets"] is None and all(r["code"] for r in b["streets"])
    assert "不在任何街道" not in b["summary_zh"] and "in no street" not in b["summary_en"]
