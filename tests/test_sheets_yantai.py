"""Spreadsheets as a clerk or a planner reads them, on Yantai's 11 real Gaode districts (tests/real_city.py):

* times in a layer's XLSX export are date cells in the city's time (sortable, filterable), the CSV keeps ISO
  text, and the workbook imports back to the same times;
* a sparse district's toilets per km² are not printed 0.0 (command line, workbook, page agree);
* the analyses' downloads say when a district's communities cover only part of it (tests/test_yantai_partly_drawn.py);
* ``analyze coverage --kind garbage_stations`` (the layer's name) is the garbage points' coverage.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.real_city import READY_ANALYSIS, yantai  # noqa: F401  (the city, built here from nothing)
from tests.test_yantai_partly_drawn import ZHIFU, drawn  # noqa: F401  (向阳街道's 3 communities drawn)

#: Points in 芝罘区 as read off a Gaode map (GCJ-02).
ZHIFU_POINTS = ((121.4005, 37.5435), (121.3905, 37.5335), (121.4105, 37.5300))


@pytest.fixture(scope="module")
def sparse(yantai):  # noqa: F811
    """Three toilets and two complaints in 芝罘区 (~180 km²), imported with the command line."""
    with (yantai.work / "toilets.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "名称", "经度", "纬度"])
        writer.writerows([f"T{k}", f"公厕{k}", lon, lat] for k, (lon, lat) in enumerate(ZHIFU_POINTS))
    yantai.cli("import", "toilets", "toilets.csv", "--crs", "gcj02")
    with (yantai.work / "complaints.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间", "处置时限"])
        writer.writerow(["C-1", *ZHIFU_POINTS[0], "暴露垃圾", "街口垃圾", "12345", "2026-11-20T10:05", "2026-11-23 18:00"])
        writer.writerow(["C-2", *ZHIFU_POINTS[1], "垃圾满溢", "桶满了", "12345", "2026-11-21 07:30+08:00", ""])
    yantai.cli("import", "complaints", "complaints.csv", "--crs", "gcj02")
    return yantai


def _table(path) -> tuple[list, list[list]]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], rows[1:]


def test_an_exported_workbooks_times_are_date_cells_that_import_back(sparse):
    """上报时间 and 处置时限 are date cells in the city's wall-clock time shown yyyy-mm-dd hh:mm (Excel sorts and
    filters them); the CSV keeps ISO text with the offset; importing the workbook back keeps every time."""
    sparse.cli("export", "complaints", "--format", "xlsx", "--out", "complaints.xlsx")
    head, rows = _table(sparse.work / "complaints.xlsx")
    by_id = {r[head.index("编号")].value: r for r in rows}
    reported, due = by_id["C-1"][head.index("上报时间")], by_id["C-1"][head.index("处置时限")]
    assert reported.value == datetime(2026, 11, 20, 10, 5) and reported.number_format == "yyyy-mm-dd hh:mm"
    assert due.value == datetime(2026, 11, 23, 18, 0) and due.number_format == "yyyy-mm-dd hh:mm"
    assert by_id["C-2"][head.index("上报时间")].value == datetime(2026, 11, 21, 7, 30)
    assert isinstance(by_id["C-2"][head.index("处置时限")].value, datetime)  # the category's deadline
    sparse.cli("export", "complaints", "--format", "csv", "--out", "complaints.csv.out.csv")
    with (sparse.work / "complaints.csv.out.csv").open(encoding="utf-8-sig") as fh:
        written = {r["source_id"]: r for r in csv.DictReader(fh)}
    assert written["C-1"]["reported_at"] == "2026-11-20T10:05:00+08:00", written["C-1"]
    before = sparse.sql("SELECT source_id, reported_at, due_at FROM complaints ORDER BY source_id")
    sparse.cli("import", "complaints", "complaints.xlsx")
    assert sparse.sql("SELECT source_id, reported_at, due_at FROM complaints ORDER BY source_id") == before


def test_a_sparse_districts_toilets_per_km2_are_not_printed_as_zero(sparse):
    """芝罘区's 3 toilets over ~180 km²: the command line prints 0.0166-ish (3 significant figures), not 0.0; the
    workbook keeps the number, shown to the same precision; a district without any prints 0."""
    rows = sparse.sql("SELECT code, ST_Area(geom::geography) / 1e6 FROM admin_areas WHERE level = 'district'")
    km2 = dict(rows)[ZHIFU]
    expected = 3 / km2
    assert expected < 0.05  # the district is as sparse as the test says
    printed = sparse.cli("analyze", "density", "--kind", "toilets", "--by", "district", "--out", "density.xlsx").stdout
    line = next(ln for ln in printed.splitlines() if ln.startswith(ZHIFU))
    assert f"{expected:.4f}"[:5] in line and " 0.0 " not in line + " ", line
    assert "每平方公里 0.000" in printed, printed  # the city's 3 toilets over 13,900 km², not 0.0
    head, cells = _table(sparse.work / "density.xlsx")
    per_km2 = head.index("每平方公里")
    zhifu = next(r for r in cells if r[0].value == ZHIFU)[per_km2]
    assert isinstance(zhifu.value, float) and zhifu.value == pytest.approx(expected, rel=0.02)
    assert zhifu.number_format == "#,##0.0000", zhifu.number_format
    empty = next(r for r in cells if r[0].value != ZHIFU)[per_km2]
    assert empty.value == 0 and empty.number_format == "#,##0"


@pytest.mark.browser
def test_the_density_pages_legend_gives_the_sparse_citys_toilets_per_km2(sparse, browser):
    """/map/density by district: its legend's per km² of the whole city (3 toilets over 13,900 km²) is 0.000216,
    as the command line says it, not 0.00."""
    from tests.chromium import serve_app

    printed = sparse.cli("analyze", "density", "--kind", "toilets", "--by", "district").stdout
    said = printed.split("每平方公里 ")[1].split(" ")[0]
    with serve_app(sparse.url) as base:
        report = browser.open(f"{base}/map/density?kind=toilets&by=district&lang=en", ready_js=READY_ANALYSIS,
                              timeout=90)
        assert not report.timed_out
        legend = browser.evaluate("document.querySelector('.hm-legend').textContent")
    assert f"Per km² {said}," in legend and said.startswith("0.000"), (said, legend)


def test_analysis_downloads_say_the_communities_cover_only_part_of_the_district(drawn, sparse, env_for):  # noqa: F811
    """Density and coverage by district with 向阳街道's communities drawn in 芝罘区: the workbooks (command line and
    /api/analysis/…?format=xlsx) say so under the table, as the page and the command line do; the CSVs carry the
    share drawn in a column of their own, for 芝罘区 only, and no note rows."""
    sparse.cli("analyze", "density", "--kind", "toilets", "--by", "district", "--out", "partly.xlsx")
    _, cells = _table(sparse.work / "partly.xlsx")
    texts = [r[0].value for r in cells]
    assert "说明" in texts, texts
    note = texts[texts.index("说明") + 1]
    assert "芝罘区" in note and "社区只覆盖部分面积" in note, note
    from api.app import create_app

    env_for(sparse.url)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        got = client.get("/api/analysis/coverage", params={"kind": "toilets", "by": "district", "format": "xlsx",
                                                             "lang": "en"})
        assert got.status_code == 200, got.text
        sheet = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
        first = [r[0] for r in sheet.iter_rows(values_only=True)]
        assert "Notes" in first and "cover only part of the area" in first[first.index("Notes") + 1], first
        got = client.get("/api/analysis/coverage", params={"kind": "toilets", "by": "district", "format": "csv"})
        assert got.status_code == 200, got.text
    table = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(table) == 11  # the districts, and nothing under them
    drawn_pct = {r["代码"]: r["社区所覆盖面积占比（%）"] for r in table}
    assert 0 < float(drawn_pct[ZHIFU]) < 10 and {v for k, v in drawn_pct.items() if k != ZHIFU} == {""}


def test_coverage_takes_the_layer_a_user_imported_into_as_its_kind(sparse):
    """`--kind garbage_stations` (the layer the trucks' stops were imported into) is the garbage points' coverage,
    120 m; a Chinese name too; --help names the kinds in Chinese; a kind of nothing is refused naming --kind."""
    by_layer = sparse.cli("analyze", "coverage", "--kind", "garbage_stations", "--by", "district").stdout
    by_key = sparse.cli("analyze", "coverage", "--kind", "garbage_points", "--by", "district").stdout
    assert by_layer == by_key and "120" in by_layer.splitlines()[0], by_layer
    assert sparse.cli("analyze", "coverage", "--kind", "公共厕所", "--by", "district").stdout == \
        sparse.cli("analyze", "coverage", "--kind", "toilets", "--by", "district").stdout
    helped = sparse.cli("analyze", "coverage", "--help").stdout
    assert "garbage_points (垃圾收集点)" in " ".join(helped.split()) and "garbage_stations" in helped, helped
    refused = sparse.cli("analyze", "coverage", "--kind", "benches", check=False)
    assert refused.returncode != 0 and "--kind" in refused.stderr + refused.stdout
    assert "garbage_points" in refused.stderr + refused.stdout and "Traceback" not in refused.stderr
