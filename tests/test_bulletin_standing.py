"""Who stands where in a bulletin: 红榜 and 黑榜 with ties (并列), units, the printed summary.

A campaign office publishes the red and the black list; a street tied with one on a list is on it too, never
left off because of its code. Complaints charged to no unit are no unit: never ranked among the units. New
York's week of 27 February 2023 from the real 311 day (no inspection and no grid that week, so the streets rank
by closure rate) has six community districts tied first and seven tied last at 0 %, and no unit.
"""

from __future__ import annotations

from datetime import date

import pytest

from data.db import connect
from data.params import period_of
from data.vocab import city_tz
from layers.reports.compose import bulletin, list_marks
from tests.new_york import SAMPLE, outlines
from tests.real_city import new_city


def _rows(*ranks: int) -> list[dict]:
    return [{"code": f"S{i:02d}", "rank": rank} for i, rank in enumerate(ranks)]


@pytest.mark.parametrize(("ranks", "red", "black"), [
    # Six tied first of twelve: all six red; the three worst black.
    ((1, 1, 1, 1, 1, 1, 7, 8, 9, 10, 11, 12), {0, 1, 2, 3, 4, 5}, {9, 10, 11}),
    # The third-worst tied with a fourth: both black.
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 12), {0, 1, 2}, {9, 10, 11}),
    # The middle tied across both cuts: only the clear ends are listed.
    ((1, 2, 2, 2, 2, 6), {0}, {5}),
    # Six of ten tied first would make the red list longer than half: none of them is on it.
    ((1, 1, 1, 1, 1, 1, 7, 8, 9, 10), set(), {7, 8, 9}),
    # All tied: neither list.
    ((1, 1, 1, 1), set(), set()),
])
def test_a_row_tied_with_the_last_of_a_list_is_on_it(ranks, red, black):
    marks = list_marks(_rows(*ranks))
    assert {int(c[1:]) for c, m in marks.items() if m == "red"} == red
    assert {int(c[1:]) for c, m in marks.items() if m == "black"} == black


@pytest.fixture(scope="module")
def newyork_day(pg_server, tmp_path_factory):
    """New York's outlines and its 311 day of 28 February 2023, imported from the real files."""
    files = ("boundaries/nybb.shp", "boundaries/nycdta2020.shp", "boundaries/nynta2020.shp", SAMPLE)
    with new_city(pg_server, tmp_path_factory, "nyc", files) as city:
        outlines(city)
        city.cli("import", "complaints", SAMPLE, "--skip-bad")
        yield city


def test_newyork_week_lists_every_district_tied_at_either_end(newyork_day, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", newyork_day.url)
    conn = connect(url=newyork_day.url)
    week = period_of("week", date(2023, 2, 28), city_tz())
    b = bulletin(conn, week)
    conn.close()
    assert b["ranked_by"] == "closed_rate"
    ranked = [r for r in b["streets"] if r["rank"] is not None]
    marks = list_marks(b["streets"])
    for rank in {r["rank"] for r in ranked}:  # equal rank, equal mark
        assert len({marks.get(r["code"]) for r in ranked if r["rank"] == rank}) == 1, rank
    first = [r for r in ranked if r["rank"] == 1]
    last = [r for r in ranked if r["rank"] == ranked[-1]["rank"]]
    assert len(first) > 3 and len(last) > 3 and {r["closed_rate"] for r in last} == {0}
    assert {marks.get(r["code"]) for r in first} == {"red"} and {marks.get(r["code"]) for r in last} == {"black"}
    assert sum(m == "red" for m in marks.values()) == len(first)
    assert sum(m == "black" for m in marks.values()) == len(last)
    # The summary names the whole black list, and says that ties made it longer than three.
    named = b["summary_zh"].split("排名后")[1].split("。")[0]
    assert named.startswith(f"3位（含并列，共{len(last)}个）的街道是")
    assert all(r["name"] in named for r in last)
    assert f"closure rate; {len(last)} with ties" in b["summary_en"]


def test_newyork_summary_prints_by_the_rules_of_chinese_line_breaking(newyork_day):
    """The week's summary (and why it has no hot spot analysis) in Chinese, as the PDF lays it out (A4 less margins, at 9 pt and larger): no line starts with 。，、）and no line
    ends with （, where the printed 通报 began a line with 。; nothing is lost or reordered."""
    from layers.printing.page import MARGIN_MM
    from layers.reports.layout import wrap

    conn = connect(url=newyork_day.url)
    b = bulletin(conn, period_of("week", date(2023, 2, 28), city_tz()))
    conn.close()
    text = b["summary_zh"]
    # One month of complaints: no emerging hot spots, and the Chinese bulletin says why in Chinese.
    assert b["hotspots"]["reason"] == "分析窗口内有投诉的月份不足4个（逐月计算趋势）"
    for size in (9, 10.5, 12):
        lines = wrap(text, 210 - 2 * MARGIN_MM, size)
        assert len(lines) > 3
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for line in lines:
            assert line[0] not in "。，、；：）", line
            assert line[-1] not in "（", line


def test_newyork_week_without_grids_ranks_no_unit(newyork_day, tmp_path):
    """No grid, so no unit: the complaints are charged to the unassigned row, which is not ranked (it ranked first
    among the units, and the PDF printed "责任单位排名后0位" over an empty table); the PDF says why no unit is ranked."""
    from layers.reports.document import write_pdf
    from tests.pdf_tools import pdftext

    conn = connect(url=newyork_day.url)
    b = bulletin(conn, period_of("week", date(2023, 2, 28), city_tz()))
    conn.close()
    assert [(u["code"], u["rank"], u["received"]) for u in b["units"]] == [(None, None, b["totals"]["received"])]
    write_pdf(b, tmp_path / "week.pdf")
    text = pdftext(tmp_path / "week.pdf").replace(" ", "")
    assert "本期没有可排名的责任单位" in text and "排名后0位" not in text
    assert "（无责任单位或无法归属）" in text  # still listed among the units with overdue cases
    said = newyork_day.cli("report", "bulletin", "--period", "week", "--date", "2023-02-28", "--out", "week.xlsx")
    streets = sum(s["code"] is not None for s in b["streets"])
    assert said.stdout.strip().endswith(f"街道 {streets} 个，责任单位 0 个"), said.stdout  # it said 1 units
