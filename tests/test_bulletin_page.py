"""The page /reports: a period picked, the bulletin's summary, ranking tables with 红榜/黑榜 marks and the
downloads; Chinese first, English on request; in Debian's headless Chromium with no outside request."""

from __future__ import annotations

import html
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from data.vocab import city_tz

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _cells(page: str, table_id: str) -> list[list[str]]:
    """The text of each body row of the table ``table_id`` (no HTML parser needed: the page writes one row a <tr>)."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


def test_page_shows_the_bulletin_of_the_period_picked(demo_client):
    b = demo_client.get("/api/reports/bulletin?period=month&date=2026-10").json()
    r = demo_client.get("/reports?period=month&date=2026-10")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="zh-CN">' in page and "2026年10月" in page
    assert html.escape(b["summary_zh"]) in page
    streets = _cells(page, "streets")
    assert [row[2] for row in streets] == [s["name"] for s in b["streets"]]
    # rank, name, the figure ranked on and the mark right after it, received as the JSON has them; the best ranked
    # on the red list, the worst on the black
    head = re.findall(r"<th>(.*?)</th>", page.split('<table id="streets">')[1].split("</thead>")[0])
    received = head.index("受理数")
    for row, s in zip(streets, b["streets"], strict=True):
        assert row[0] == ("" if s["rank"] is None else str(s["rank"])) and row[received] == str(s["received"])
    ranked = [row for row in streets if row[0]]
    assert head[3:5] == ["得分" if b["ranked_by"] == "score" else "结案率", "榜单"]
    assert ranked[0][4] == "红榜" and ranked[-1][4] == "黑榜"
    assert sum(int(row[4]) for row in _cells(page, "units")) == b["totals"]["received"]
    assert [row[0] for row in _cells(page, "categories")] == [c["name"] for c in b["categories"]]
    assert '<option value="month" selected>' in page and 'value="2026-10"' in page


def test_downloads_on_the_page_are_the_pdf_and_workbook_of_the_period(demo_client):
    page = demo_client.get("/reports?period=quarter&date=2026-Q3").text
    for suffix, media in (("pdf", "application/pdf"), ("xlsx", "spreadsheetml")):
        link = html.unescape(re.search(rf'id="download-{suffix}" href="([^"]+)"', page).group(1))
        r = demo_client.get(link)
        assert r.status_code == 200 and media in r.headers["content-type"], link
        assert "bulletin-quarter-2026-07-01." + suffix in r.headers["content-disposition"]


def test_english_page_and_the_default_period_is_last_month(demo_client):
    page = demo_client.get("/reports?lang=en").text
    today = datetime.now(city_tz()).date()
    last = today.replace(day=1) - timedelta(days=1)
    assert '<html lang="en">' in page and f'value="{last:%Y-%m}"' in page and f"{last:%B %Y}" in page
    assert "Closure rate" in page and "Download" in page
    assert "红榜" not in page and 'href="/reports?period=month' in page


def test_page_shows_the_trend_and_inspection_columns(demo_client):
    """The last 12 months as inline SVG (12 bars of received, one line of closure rates, no script), and the
    streets' inspection figures, as the JSON has them."""
    b = demo_client.get("/api/reports/bulletin?period=month&date=2026-10").json()
    page = demo_client.get("/reports?period=month&date=2026-10").text
    svg = re.search(r'<svg id="trend".*?</svg>\s*<svg id="trend-rate".*?</svg>', page, re.S).group(0)
    assert "<script" not in page and "http://www.w3.org/2000/svg" in svg and "href" not in svg
    bars = re.findall(r'<rect class="bar"[^>]*><title>(\d+)</title>', svg)
    assert [int(n) for n in bars] == [p["received"] for p in b["trend"]] and len(bars) == 12
    assert svg.count("<circle") == sum(p["closed_rate"] is not None for p in b["trend"]) and "<polyline" in svg
    head = re.search(r'<table id="streets"><thead><tr>(.*?)</tr>', page).group(1)
    assert "得分" in head and "检查发现问题数" in head
    scores = {row[2]: row[3] for row in _cells(page, "streets")}
    assert scores == {s["name"]: f"{s['score']:g}" for s in b["streets"]}


@pytest.mark.parametrize(("query", "parameter"), [("period=fortnight&date=2026-10", "period"),
                                                  ("period=week&date=2026-10", "date")])
def test_bad_period_on_the_page_is_422_naming_the_parameter(demo_client, query, parameter):
    r = demo_client.get(f"/reports?{query}")
    assert r.status_code == 422 and parameter in r.text


def _trend_is_drawn(browser, lang: str) -> None:
    """Looked at as a picture: the two trend charts, scrolled into view, have the bars' blue and the line's red."""
    import numpy as np
    from PIL import Image

    from layers.reports.trend import BAR, LINE

    box = browser.evaluate("(() => { const e = document.querySelector('.trend'); e.scrollIntoView();"
                           " const r = e.getBoundingClientRect();"
                           " return [r.left, r.top, r.right, r.bottom, window.devicePixelRatio]; })()")
    shot = ARTIFACTS / f"reports-trend-{lang}.png"
    browser.screenshot(shot)
    left, top, right, bottom, ratio = box
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    chart = pixels[int(top * ratio):int(bottom * ratio), int(left * ratio):int(right * ratio)]

    def area(colour: str) -> int:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(chart - rgb).sum(axis=2) < 30).sum())

    assert chart.size and area(BAR) > 2000 and area(LINE) > 200, (area(BAR), area(LINE))


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_in_chromium_offline(browser, server, lang):
    report = browser.open(f"{server}/reports?period=month&date=2026-10&lang={lang}",
                          ready_js="document.readyState === 'complete'", timeout=60)
    browser.screenshot(ARTIFACTS / f"reports-{lang}.png")
    assert not report.timed_out
    assert report.console_errors == [] and report.failed_requests == [], (report.console_errors, report.failed_requests)
    assert report.other_hosts(server) == []
    rows = browser.evaluate("document.querySelectorAll('#streets tbody tr').length")
    assert rows == 4
    _trend_is_drawn(browser, lang)
    marks = browser.evaluate("Array.from(document.querySelectorAll('#streets td.red, #streets td.black'))"
                             ".map(td => getComputedStyle(td).fontWeight + ' ' + td.className)")
    assert any(m.endswith("red") for m in marks) and any(m.endswith("black") for m in marks)
    # The form picks another period: choosing a week and submitting shows that week's bulletin.
    browser.evaluate("document.querySelector('select[name=period]').value = 'week';"
                     "document.querySelector('input[name=date]').value = '2026-10-30';"
                     "document.querySelector('#period-form').submit(); 1")
    shown = ""
    for _ in range(100):  # the form's GET loads a new page; wait for it (not a timing assertion)
        time.sleep(0.2)
        shown = browser.evaluate("location.search.includes('period=week') && document.readyState === 'complete'"
                                 " && document.getElementById('period') ? document.getElementById('period').innerText"
                                 " : ''")
        if shown:
            break
    assert ("第44周" if lang == "zh" else "week 44") in shown
