"""A city that has not imported its toilets yet gets no density verdict, on Taipei's real districts.

Before, every district of a city with its outlines but no toilets read 低于标准 in the API, the workbook a
planner forwards and the command's total ("低于标准 12 个"), only a warning beside them saying the zeros were
missing data; the map already drew them 无数据. Now each row says 无数据 and the total counts no verdict; once the
toilets are imported, the verdicts come back.
"""

from __future__ import annotations

import openpyxl
import pytest

from tests.real_city import TAIPEI_FILES, new_city, taipei_areas


@pytest.fixture(scope="module")
def districts_only(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages, no toilets yet; its toilets file in the folder."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES) as city:
        taipei_areas(city)
        yield city


def _density(city, *extra) -> str:
    return city.cli("analyze", "density", "--kind", "toilets", "--by", "district", *extra).stdout


def test_no_toilets_in_the_data_no_verdict_in_the_table_workbook_and_total(districts_only):
    """12 districts, none 低于标准: each 无数据, the total says so and the warning names the missing layer."""
    shown = _density(districts_only)
    rows = [line.split() for line in shown.splitlines() if line.startswith("630")]
    assert len(rows) == 12 and {row[-1] for row in rows} == {"无数据"}, shown  # was 低于标准 in each
    assert "合计：12 个区域，无数据，不作判断" in shown, shown
    assert "没有公共厕所数据" in shown and "请先导入公共厕所图层" in shown, shown
    districts_only.cli("analyze", "density", "--kind", "toilets", "--by", "district", "--out", "density.xlsx")
    sheet = openpyxl.load_workbook(districts_only.work / "density.xlsx").worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    head = next(r for r in rows if "判定" in r)
    verdicts = [r[head.index("判定")] for r in rows[rows.index(head) + 1:] if r[0] and str(r[0]).startswith("63")]
    assert verdicts == ["无数据"] * 12, verdicts
    english = _density(districts_only, "--lang", "en")
    assert "total: 12 areas, not judged (no data)" in english, english


def test_the_verdicts_come_back_once_the_toilets_are_imported(districts_only):
    """The same districts with Taipei's 1,500-odd public toilets: every district judged again (whole area, 3–5/km²),
    no row 无数据."""
    districts_only.cli("import", "toilets", "taipei_public_toilets.csv", "--skip-bad")
    shown = _density(districts_only)
    rows = [line.split() for line in shown.splitlines() if line.startswith("630")]
    assert len(rows) == 12 and "无数据" not in shown and "合计：12 个区域：低于标准" in shown, shown
    assert {row[-1] for row in rows} <= {"低于标准", "符合标准", "高于标准"}, shown
