"""A round's 问题清单 as an XLSX workbook: one row per finding, numbered as on the map, and a sheet per unit total.

Headers in the list's language (Chinese first), numbers as numbers,
coordinates as numbers, times as Excel dates in the city's time zone (Excel
has no zones). The description is filled only where the viewer may read it
(:mod:`layers.printing.problems_data`); photos are counted, with their
addresses in the API.
"""

from __future__ import annotations

import io

from data.vocab import PLACE_TYPES, TO_RECTIFY
from layers.io.cells import format_times, keep_text, time_cell
from layers.io.columns import EXPORT_COORD_HEADERS
from layers.printing.problems_data import Problem, ProblemList
from layers.printing.problems_pdf import T, title
from layers.printing.style import term

_HEAD = {
    "zh": ("编号", "责任单位", "街道代码", "街道", "社区", "网格", "位置", *EXPORT_COORD_HEADERS["zh"], "问题代码", "场所类型", "问题",
           "扣分", "发现时间", "整改期限", "状态", "超期", "问题描述", "检查人", "整改前照片", "整改后照片", "照片地址",
           "问题ID"),
    "en": ("No.", "Responsible unit", "Street code", "Street", "Community", "Grid", "Place", *EXPORT_COORD_HEADERS["en"],
           "Item", "Place type", "Problem", "Points", "Observed", "Deadline", "Status", "Overdue", "Description",
           "Inspector", "Photos before", "Photos after", "Photo addresses", "Finding ID"),
}
_UNITS_HEAD = {"zh": ("责任单位", "问题数", "扣分", "待整改", "超期"),
               "en": ("Responsible unit", "Findings", "Points", "To rectify", "Overdue")}
_SHEETS = {"zh": ("问题清单", "责任单位汇总"), "en": ("Problems", "Units")}
_YES = {"zh": ("是", "否"), "en": ("yes", "no")}
_WIDTHS = (6, 24, 12, 14, 14, 16, 18, 11, 11, 10, 14, 40, 7, 17, 17, 10, 6, 40, 14, 8, 8, 40, 9)


def _row(p: Problem, lang: str, base: str = "") -> list:
    en = lang == "en"
    t = T[lang]
    place = f"{t['near']}{p.near_road}" if p.near_road else None
    urls = "\n".join(f"{base}/api/inspections/findings/{p.id}/photos/{ph.id}" for ph in p.photos)
    return [p.number, p.unit, p.street_code, (p.street_name_en if en and p.street_name_en else p.street_name),
            (p.community_name_en if en and p.community_name_en else p.community_name), p.grid_code, place,
            round(p.lon, 6), round(p.lat, 6), p.item_code, PLACE_TYPES.get(p.place_type, p.place_type) if en else p.place_type,
            p.item_text_en if en else p.item_text, p.deduction, time_cell(p.observed_at), time_cell(p.due_at),
            term(p.status, lang), _YES[lang][0 if p.overdue else 1], p.description if p.personal else None,
            p.inspector, sum(ph.stage == "before" for ph in p.photos) if p.personal else None,
            sum(ph.stage == "after" for ph in p.photos) if p.personal else None, urls or None, p.id]


def _sheet(book, name: str, head: tuple, rows: list[list], widths: tuple):
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(name)
    sheet.append(list(head))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(1, j).column_letter].width = width
    sheet.freeze_panes = "B2"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    return sheet


def write_xlsx(plist: ProblemList, out, lang: str = "zh", base: str = "") -> None:
    """Write ``plist`` to ``out`` (a path or a binary file) as a workbook in ``lang``; photo addresses start with
    ``base`` (the server's, over HTTP: a link to open, the first of each finding's one click away)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    sheet = _sheet(book, _SHEETS[lang][0], _HEAD[lang], [_row(p, lang, base) for p in plist.problems], _WIDTHS)
    links = _HEAD["zh"].index("照片地址") + 1
    for (cell,) in sheet.iter_rows(min_row=2, min_col=links, max_col=links):
        if base and cell.value:
            cell.hyperlink = cell.value.split("\n")[0]
    units = [[unit or T[lang]["no_unit"], len(group), sum(p.deduction for p in group),
              sum(p.status == TO_RECTIFY for p in group), sum(p.overdue for p in group)]
             for unit, group in plist.units()]
    _sheet(book, _SHEETS[lang][1], _UNITS_HEAD[lang], units, (30, 10, 10, 10, 10))
    book.properties.title = title(plist, lang)
    book.properties.creator = "hygiene-map"
    keep_text(book)  # an inspector's note is words, never a formula
    format_times(book)
    book.save(out)


def xlsx_bytes(plist: ProblemList, lang: str = "zh", base: str = "") -> bytes:
    """The workbook, in memory."""
    buffer = io.BytesIO()
    write_xlsx(plist, buffer, lang, base)
    return buffer.getvalue()
