"""Write tests/data/office/臺北市公廁清冊.xls (run once; the file is committed).

An old-format (BIFF8, Excel 97–2003) workbook as offices' systems still export them: a title in a merged cell and a
date line above the header, then rows of Taipei's public toilets (data.taipei, Open Government Data License,
Taiwan 1.0): the first 200 and 古亭地政事務所 (row 951 of the CSV), which lies outside Taipei. Numbers are
written as numbers, as such exports do. Written with xlwt 1.3.0, which the project does not depend on:

    pip install --target /tmp/xlwt xlwt==1.3.0
    PYTHONPATH=/tmp/xlwt python tests/data/make_office_xls.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import xlwt

HERE = Path(__file__).parent
SOURCE = HERE.parent.parent.parent / "shared" / "real-data" / "taipei" / "taipei_public_toilets.csv"
OUT = HERE / "office" / "臺北市公廁清冊.xls"


def _cell(value: str):
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


def main() -> None:
    with open(SOURCE, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:201] + [rows[950]]  # rows[i] is the CSV's row i + 1
    assert body[-1][head.index("公廁名稱")] == "古亭地政事務所"
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("公廁清冊")
    sheet.write_merge(0, 0, 0, len(head) - 1, "臺北市公廁清冊")
    sheet.write(1, 0, "資料日期：2024-12-03")
    sheet.write(1, 3, "單位：座")
    for j, name in enumerate(head):
        sheet.write(2, j, name)
    for i, row in enumerate(body, start=3):
        for j, value in enumerate(row):
            sheet.write(i, j, _cell(value))
    OUT.parent.mkdir(exist_ok=True)
    book.save(str(OUT))


if __name__ == "__main__":
    main()
