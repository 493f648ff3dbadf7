"""An analysis table written for a spreadsheet or a script keeps whole numbers whole where some are missing (a
district without population beside one with 57,000 residents): 57000, not 57000.0, and the missing one empty."""

from __future__ import annotations

import csv
import io

import openpyxl

from layers.analysis.encode import table_bytes

ROWS = [{"code": "370602", "name": "芝罘区", "area_km2": 198.4, "population": 57000, "covered_pop_pct": 17.34},
        {"code": "370611", "name": "福山区", "area_km2": 652.0, "population": None, "covered_pop_pct": None}]


def test_the_command_lines_csv_writes_a_population_as_a_whole_number():
    rows = list(csv.DictReader(io.StringIO(table_bytes(ROWS, "csv", keys=True).decode("utf-8-sig"))))
    assert [r["population"] for r in rows] == ["57000", ""], rows
    assert rows[0]["area_km2"] == "198.4"


def test_the_workbook_and_the_peoples_csv_keep_it_a_number():
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(ROWS, "xlsx", analysis="coverage"))).active
    head = [c.value for c in sheet[1]]
    cells = [row[head.index("人口")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [57000, None] and cells[0].data_type == "n"
    assert isinstance(cells[0].value, int)
    rows = list(csv.DictReader(io.StringIO(table_bytes(ROWS, "csv").decode("utf-8-sig"))))
    assert [r["人口"] for r in rows] == ["57000", ""], rows
