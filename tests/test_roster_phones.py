"""Phones on a roster as offices type them: full-width digits (１３８６３５５００００, as some sheets hold them) are
the same number, stored as ASCII; a number too short to dial (0535-123) is refused naming its row, and nothing of
the roster is written. Taipei's 松山區 cut into grids from its real boundaries (tests/real_city.py)."""

from __future__ import annotations

import openpyxl
import pytest

from tests.real_city import TAIPEI_FILES, new_city, taipei_areas

SONGSHAN = "6300100"


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's areas, 松山區 cut into 500 m grids and its empty roster written as roster.xlsx."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        city.cli("grids", "generate", "--street", SONGSHAN, "--size", "500")
        city.cli("grids", "roster", "--street", SONGSHAN, "--out", "roster.xlsx")
        yield city


def _filled(city, name: str, phones: list[str]) -> str:
    """The roster with its first rows given a unit, a manager and ``phones`` (one per row), the rest left out."""
    book = openpyxl.load_workbook(city.work / "roster.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    unit, manager, phone = (header.index(h) + 1 for h in ("责任单位", "网格长", "联系电话"))
    for k, number in enumerate(phones, start=2):
        sheet.cell(k, unit, "松山區清潔隊")
        sheet.cell(k, manager, f"網格長{k}")
        sheet.cell(k, phone, number)
    sheet.delete_rows(len(phones) + 2, sheet.max_row)
    book.save(city.work / name)
    return name


def test_a_too_short_number_is_refused_naming_its_row(taipei):
    name = _filled(taipei, "短号.xlsx", ["02-2747-0001", "0535-123", "612345"])
    done = taipei.cli("grids", "assign", name, check=False)
    assert done.returncode != 0
    said = done.stderr + done.stdout
    assert "短号.xlsx 第 3 行：联系电话：'0535-123' 位数不足，不是完整的电话号码（带 0 开头区号的至少 10 位，其他至少 7 位）" in said, said
    assert "短号.xlsx 第 4 行：联系电话：'612345' 位数不足" in said, said
    assert "第 2 行" not in said
    assert taipei.one("SELECT count(*) FROM grids WHERE street_code = %s AND responsible_unit IS NOT NULL",
                      (SONGSHAN,)) == 0


def test_full_width_digits_are_the_same_number_stored_as_ascii(taipei):
    name = _filled(taipei, "全角.xlsx", ["１３８６３５５００００", "０２－２７４７－０００２"])
    taipei.cli("grids", "assign", name)
    assert sorted(p for (p,) in taipei.sql("SELECT phone FROM grids WHERE street_code = %s AND phone IS NOT NULL",
                                           (SONGSHAN,))) == ["02-2747-0002", "13863550000"]
