"""Taipei's toilets exported to CSV, edited in a spreadsheet and imported back (the planner's round trip): the
apostrophe the export puts before a cell Excel would run as a formula (``'-1號公廁``) is not kept as a word."""

from __future__ import annotations

import csv

from tests.real_city import taipei  # noqa: F401  (a fixture, used by name)

#: Names a ledger may hold that a spreadsheet would take for formulas, and one typed with an apostrophe of its own.
NAMES = ("-1號公廁", "=士林公廁", "+2號公廁", "@捷運劍潭站", "'士林夜市公廁")


def _rows(path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_an_export_csv_imported_back_keeps_the_names_without_the_formula_guard(taipei):  # noqa: F811
    """The ledger's five names come out of the export guarded (all but the office's own apostrophe) and go back
    in as they were; the rest of the file is unchanged by the round trip."""
    rows = _rows(taipei.work / "taipei_public_toilets.csv")
    header, body = rows[0], rows[1:1 + len(NAMES)]
    name = header.index("公廁名稱")
    for row, text in zip(body, NAMES, strict=True):
        row[name] = text
    with (taipei.work / "ledger.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    taipei.cli("import", "toilets", "ledger.csv", "--source", "士林公廁台帳")
    query = "SELECT source_id, name FROM toilets WHERE source = '士林公廁台帳'"
    before = dict(taipei.sql(query))
    assert sorted(before.values()) == sorted(NAMES)

    taipei.cli("export", "toilets", "--format", "csv", "--out", "toilets.csv")
    cells = {cell for row in _rows(taipei.work / "toilets.csv") for cell in row}
    assert {"'-1號公廁", "'=士林公廁", "'+2號公廁", "'@捷運劍潭站", "'士林夜市公廁"} <= cells
    total = taipei.one("SELECT count(*) FROM toilets")
    taipei.cli("import", "toilets", "toilets.csv")
    assert dict(taipei.sql(query)) == before
    assert taipei.one("SELECT count(*) FROM toilets") == total
