"""A hotline export imported again with its cases closed: the bulletin counts them filed and closed.

An office imports its 12345 export as the cases come in (all at 受理) and again a week later, when the same
export says which were closed and when. The re-import writes a 受理 → 结案 step for each (its history); that step
stands for the steps the hotline took before (README, *Bulletins*: "an imported case's status at import stands
for its steps before"), not for 不予立案, so the month's 结案率 is the closed ÷ due of the export, not "—".
Taipei's real district outlines (data.taipei), complaints at a real place in 大同區.
"""

from __future__ import annotations

import csv
import re

import pytest
from openpyxl import load_workbook

from tests.real_city import new_city

#: Six calls of September 2025 at a garbage-truck stop of 大同區 (延平北路4段66號), Taipei time.
CALLS = [(f"12345-2025-{i:04d}", f"2025-09-{3 + 4 * i:02d} 10:00") for i in range(6)]
#: Four of them closed the next day, within their 24 h limit (暴露垃圾); two still at 受理.
CLOSED = {code: f"2025-09-{4 + 4 * i:02d} 09:00" for i, (code, _) in enumerate(CALLS[:4])}


def _export(path, closed: dict) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["工单编号", "经度", "纬度", "事件类型", "上报时间", "状态", "结案时间"])
        for code, reported in CALLS:
            writer.writerow([code, "121.510800", "25.070550", "暴露垃圾", reported,
                             "结案" if code in closed else "受理", closed.get(code, "")])


@pytest.fixture(scope="module")
def reimported(pg_server, tmp_path_factory):
    """Taipei's districts (and their offices as streets); the export imported at 受理, then again with 结案."""
    with new_city(pg_server, tmp_path_factory, "taipei", ["taipei_districts_town.geojson"]) as city:
        city.cli("import", "admin_areas", "taipei_districts_town.geojson", "--level", "district",
                 "--code-field", "CPID", "--name-field", "TNAME")
        city.cli("import", "admin_areas", "taipei_districts_town.geojson", "--level", "street",
                 "--code-field", "CPTID", "--name-field", "TNAME", "--parent-field", "CPID", "--source", "offices")
        _export(city.work / "12345.csv", {})
        city.cli("import", "complaints", "12345.csv")
        _export(city.work / "12345.csv", CLOSED)
        city.cli("import", "complaints", "12345.csv")
        yield city


def test_reimported_closed_cases_are_filed_and_closed(reimported):
    city = reimported
    # The re-import's history: one 受理 → 结案 step per closed case, by the import.
    assert city.one("SELECT count(*) FROM complaint_events WHERE from_status = '受理' AND to_status = '结案' "
                    "AND actor = 'import'") == 4
    city.cli("report", "bulletin", "--period", "month", "--date", "2025-09", "--out", "b.xlsx")
    sheet = load_workbook(city.work / "b.xlsx")["概况"]
    figures = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert (figures["受理数"], figures["立案数"], figures["应结案数"], figures["结案数"], figures["按期结案数"]) \
        == (6, 4, 4, 4, 4), figures
    assert figures["结案率"] == 1 and figures["期末未结案数"] == 2
    trend = list(load_workbook(city.work / "b.xlsx")["近期趋势"].iter_rows(values_only=True))
    assert trend[-1][2:6] == (6, 4, 4, 4), trend[-1]


def test_english_workbook_names_every_unit_in_english(reimported):
    """The English workbook's definitions sheet: no unit left in Chinese (个百分点 was)."""
    reimported.cli("report", "bulletin", "--period", "month", "--date", "2025-09", "--lang", "en", "--out", "en.xlsx")
    sheet = load_workbook(reimported.work / "en.xlsx")["Definitions"]
    units = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]}
    assert not [u for u in units if re.search(r"[\u4e00-\u9fff]", u)], units
    assert "percentage points" in units
