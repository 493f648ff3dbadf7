"""The bulletin on real cities, built from the real files as tests/real_city.py builds them (its fixtures,
run again for this module): Taipei with its 400 + 5 complaints, and Yantai with nothing but district outlines.

JSON over HTTP, PDF and XLSX from the command line; the figures checked against plain SQL over the city's own
time zone, and the PDF looked at as a picture.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
    yantai,
)


def _last_month(zone: str) -> str:
    today = datetime.now(ZoneInfo(zone)).date()
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def test_taipei_bulletin_json_pdf_and_xlsx(taipei_server, taipei_complaints):
    """Last month's bulletin of Taipei: its received per district office equal plain SQL over the month's
    bounds in Taipei time; the PDF (a map of the 12 district offices, the trend) and the XLSX are written."""
    import numpy as np
    from PIL import Image

    from layers.reports.street_map import CLASSES, NO_DATA
    from layers.reports.trend import BAR

    city = taipei_server
    zone = city.one("SELECT time_zone FROM city_settings")
    month = _last_month(zone)
    answer = city.get("/api/reports/bulletin", period="month", date=month)
    assert answer.status_code == 200, answer.text
    b = answer.json()
    start = datetime.fromisoformat(f"{month}-01").replace(tzinfo=ZoneInfo(zone))
    end = (start + timedelta(days=32)).replace(day=1)
    assert (b["period"]["start"], b["period"]["end"]) == (start.isoformat(), end.isoformat())
    want = dict(city.sql("SELECT street_code, count(*) FROM complaints WHERE reported_at >= %s AND reported_at < %s "
                         "GROUP BY street_code", (start, end)))
    assert {r["code"]: r["received"] for r in b["streets"] if r["received"]} == {k: v for k, v in want.items() if k}
    assert b["totals"]["received"] == sum(want.values()) > 0
    assert len(b["streets"]) == 12 and b["inspections"] is None and b["ranked_by"] == "closed_rate"
    assert len(b["trend"]) == 12 and b["trend"][-1]["received"] == b["totals"]["received"]
    assert b["hotspots"]["available"] or "月份不足" in b["hotspots"]["reason"]
    assert b["coverage"]["available"] is False and b["coverage"]["kinds"]

    city.cli("report", "bulletin", "--period", "month", "--date", month, "--out", "taipei.pdf", timeout=600)
    city.cli("report", "bulletin", "--period", "month", "--date", month, "--out", "taipei.xlsx")
    text = subprocess.run(["pdftotext", str(city.work / "taipei.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "大同區" in text and "近12个月受理数与结案率" in text and "五、热点变化" in text
    # Its notes name the project's own definitions in Chinese only (the English is the English bulletin's).
    assert "依据 本项目工作定义（" in text and "working definition" not in text
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(city.work / "taipei.pdf"),
                    str(city.work / "taipei")], check=True)
    pixels = np.asarray(Image.open(next(city.work.glob("taipei-1.png"))).convert("RGB")).astype(int)

    def area(colour: str) -> int:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).sum(axis=2) < 12).sum())

    # The map of the districts (grey where nothing was due: the imported complaints are all still at 受理) and
    # the trend's bars.
    assert sum(area(c) for c in [*(c for _, c in CLASSES), NO_DATA]) > 3000 and area(BAR) > 300
    if all(r["closed_rate"] is None for r in b["streets"]):
        assert area(NO_DATA) > 3000
    book = load_workbook(city.work / "taipei.xlsx")
    streets = list(book["街道排名"].values)
    assert {row[2]: row[4] for row in streets[1:] if row[4]} == {k: v for k, v in want.items() if k}
    # The period and the trend's months are dates a spreadsheet can sort and filter by, not text.
    assert book["概况"].cell(3, 2).value.date() == start.date() and book["概况"].cell(4, 2).value.date() == end.date()
    trend = list(book["近期趋势"].values)[1:]
    assert [(r[0].date().isoformat(), r[2]) for r in trend] == [(p["start"][:10], p["received"]) for p in b["trend"]]
    assert book["近期趋势"].cell(2, 1).number_format == "yyyy-mm-dd"


@pytest.mark.browser
def test_taipei_bulletin_page_on_a_phone_scrolls_its_tables_not_the_page(taipei_server, taipei_complaints, browser):
    """The campaign office's page at 390 px: the 12 district offices' table scrolls sideways in its own box; the
    page itself, its title and the login button stay within the screen."""
    from tests.chromium import serve_app

    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        with serve_app(taipei_server.url) as base:
            report = browser.open(f"{base}/reports?period=month&date={_last_month('Asia/Taipei')}", timeout=60)
            assert not report.timed_out
            page = browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            table = browser.evaluate("(() => { const t = document.getElementById('streets'); "
                                     "return [t.scrollWidth, t.clientWidth, t.getBoundingClientRect().right]; })()")
            bar = browser.evaluate("document.querySelector('.hm-session').getBoundingClientRect().right")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert page == [390, 390], page  # the page is the screen's width: nothing beside it to scroll to
    assert table[0] > table[1] and table[2] <= 390, table  # wider than the screen: scrolled in its own box
    assert bar <= 390, bar


def test_taipei_last_month_printed_again_after_a_case_of_it_is_filed_today(taipei_server, taipei_complaints):
    """A 12345 case of last month, still at 受理, is registered (立案) today: last month's bulletin printed again
    says what it said (the case was not filed by the month's end); the case itself is 立案 now."""
    import httpx

    city = taipei_server
    zone = city.one("SELECT time_zone FROM city_settings")
    month = _last_month(zone)
    start = datetime.fromisoformat(f"{month}-01").replace(tzinfo=ZoneInfo(zone))
    end = (start + timedelta(days=32)).replace(day=1)
    before = city.get("/api/reports/bulletin", period="month", date=month).json()
    case, street = city.sql("SELECT id, street_code FROM complaints WHERE status = '受理' AND reported_at >= %s "
                            "AND reported_at < %s ORDER BY id LIMIT 1", (start, end))[0]
    answer = httpx.patch(f"{city.base}/api/complaints/{case}", headers={"Authorization": f"Bearer {city.token}"},
                         json={"status": "立案"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["status"] == "立案", answer.text
    after = city.get("/api/reports/bulletin", period="month", date=month).json()
    assert after["totals"] == before["totals"]
    row = {r["code"]: r for r in after["streets"]}[street]
    assert row == {r["code"]: r for r in before["streets"]}[street]


def test_yantai_bulletin_of_a_city_without_complaints(yantai):
    """A city with only district outlines: the bulletin is written (zeros, no ranking, no hot spot, no street)
    as JSON, PDF and XLSX, not an error."""
    from tests.chromium import serve_app

    month = _last_month("Asia/Shanghai")
    for suffix in ("pdf", "xlsx"):
        yantai.cli("report", "bulletin", "--period", "month", "--date", month, "--out", f"yantai.{suffix}")
    text = subprocess.run(["pdftotext", str(yantai.work / "yantai.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "烟台市" in text and "本月共受理投诉0件" in text
    # The empty street table is explained, in the summary every form of the bulletin carries.
    assert "本市尚未导入街道一级区划，街道排名为空" in text.replace("\n", "")
    assert load_workbook(yantai.work / "yantai.xlsx")["概况"]["B1"].value
    with serve_app(yantai.url) as base:
        yantai.base = base
        b = yantai.get("/api/reports/bulletin", period="month", date=month).json()
        page = yantai.get("/reports", period="month", date=month)
    assert b["totals"]["received"] == 0 and b["streets"] == [] and b["hotspots"]["cells"] == []
    assert "街道排名为空" in b["summary_zh"] and "The city has no streets yet" in b["summary_en"]
    assert page.status_code == 200 and "烟台市" in page.text

