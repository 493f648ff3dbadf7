"""The bulletin as an XLSX workbook: one sheet per table, headers in the bulletin's language, numbers as
numbers (rates as percentages), and a sheet of the figures' definitions with their sources and labels."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from layers.io.cells import DATE_FORMAT, TIME_FORMAT, keep_text, time_cell
from layers.io.columns import EXPORT_COORD_HEADERS
from layers.reports.changes import COV_HEAD, change_lines, coverage_rows
from layers.reports.compose import extra_figures
from layers.reports.figures import figures
from layers.reports.rectification import ROW_FIGURES as RECT_FIGURES
from layers.reports.rectification import TEXT as RECT_TEXT
from layers.reports.rectification import period_figures_shown

_RATE = "0.0%"
_HOURS = "0.0"
_DATE = DATE_FORMAT
#: The figure columns of the street and unit sheets, in order (codes of data/figures.csv).
ROW_FIGURES = ("received", "filed", "due", "closed", "on_time", "closed_rate", "on_time_rate", "rework_rate",
               "open_at_end", "overdue_at_end", "median_hours")
_UNITS_EN = {"件": "count", "小时": "hours", "名": "place", "分": "points", "处": "count", "次": "times", "个百分点": "percentage points"}
_TEXT = {
    "zh": {"summary": "概况", "streets": "街道排名", "units": "责任单位排名", "categories": "问题类别",
           "definitions": "指标说明", "street": "街道", "unit": "责任单位", "code": "代码", "category": "问题类别",
           "previous": "上期受理数", "change": "增减", "change_rate": "增减率", "item": "项目", "value": "本期",
           "before": "上期", "period": "统计期", "start": "起", "end": "止（不含）", "text": "摘要",
           "unit_col": "单位", "definition": "定义", "source": "依据", "label": "出处标注",
           "trend": "近期趋势", "hotspots": "热点变化", "coverage": "设施变化", "none": "无",
           "hot_head": ["模式", "街道代码", "街道", "窗口内投诉数", "Gi* z", *EXPORT_COORD_HEADERS["zh"], "q", "r"]},
    "en": {"summary": "Summary", "streets": "Streets", "units": "Units", "categories": "Categories",
           "definitions": "Definitions", "street": "Street", "unit": "Responsible unit", "code": "Code",
           "category": "Event type", "previous": "Previous period", "change": "Change", "change_rate": "Change rate",
           "item": "Figure", "value": "This period", "before": "Previous period", "period": "Period",
           "start": "From", "end": "Until (exclusive)", "text": "Summary", "unit_col": "Unit",
           "definition": "Definition", "source": "Source", "label": "Label",
           "trend": "Trend", "hotspots": "Emerging hot spots", "coverage": "Facilities", "none": "none",
           "hot_head": ["Pattern", "Street code", "Street", "Complaints in window", "Gi* z", *EXPORT_COORD_HEADERS["en"],
                        "q", "r"]},
}


def _format(code: str) -> str | None:
    if code.endswith("_rate") or code == "satisfaction":
        return _RATE
    return _HOURS if code == "median_hours" else "0.##" if code in ("deductions", "score") else None


def _day(instant: str) -> date:
    """The city's calendar day of an ISO instant written in the city's time (a date cell, not text)."""
    return time_cell(instant).date()


def _sheet(book, title: str, header: list[str], rows: list[list], formats: list[str | None], widths: list[int]):
    from openpyxl.styles import Font

    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for j, fmt in enumerate(formats, start=1):
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
    for j, width in enumerate(widths):
        sheet.column_dimensions[sheet.cell(1, j + 1).column_letter].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _changes(book, b: dict, t: dict, defs: dict, lang: str) -> None:
    """The sheets of the trend (the last 12 periods), the emerging hot spots and the facilities."""
    rows = [[_day(p["start"]), _day(p["end"]), p["received"], p["filed"], p["due"], p["closed"], p["closed_rate"]]
            for p in b["trend"]]
    _sheet(book, t["trend"], [t["start"], t["end"], *(defs[c].name(lang) for c in ("received", "filed", "due", "closed",
                                                                                    "closed_rate"))],
           rows, [_DATE] * 2 + [None] * 4 + [_RATE], [12, 12, 10, 10, 10, 10, 10])
    h = b["hotspots"]
    rows = [[c["pattern_name"], c["street"], c["street_name"], c["count"], c["gi_z"], c["lon"], c["lat"], c["q"], c["r"]]
            for c in h["cells"]] or [[h.get("reason") or t["none"]]]
    _sheet(book, t["hotspots"], t["hot_head"], rows, [None] * 9, [14, 12, 14, 12, 8, 12, 12, 8, 8])
    c = b["coverage"]
    rows = coverage_rows(c) + [[], [c["reason"]], *([line] for line in change_lines(c, lang))]
    _sheet(book, t["coverage"], list(COV_HEAD[lang]), rows, [None] * 7 + ["0.000"] * 2,
           [24, 10, 20, 16, 10, 10, 10, 14, 14])


def _overdue_findings(book, b: dict, lang: str) -> None:
    """The sheet of the inspection findings overdue for rectification at the end (layers.reports.rectification),
    their definition in its last row; no sheet when nothing was ever found."""
    rect, t = b.get("rectification"), RECT_TEXT[lang]
    if rect is None:
        return
    head = [*t["head"][:2], t["head"][1] + ("代码" if lang == "zh" else " code"), *t["head"][2:]]
    rows = [[r["id"], r["street_name"], r["street_code"], r["unit"] or t["unassigned"], r["grid_code"], r["item_text"],
             r["deduction"], _day(r["observed_at"]), _local(r["due_at"]), r["days_overdue"], r["round"]]
            for r in rect["items"]] or [[t["none"]]]
    _sheet(book, t["sheet"], head, [*rows, [], [t["note"]]], [None] * 7 + [_DATE, TIME_FORMAT, "0.0", None],
           [8, 14, 12, 20, 16, 30, 8, 12, 16, 10, 20])


def _deductions(book, b: dict, lang: str) -> None:
    """The sheet of the period's deductions per street, unit and checklist item (扣分明细), with how they add up in
    its last row; no sheet when the period had no inspection."""
    ins, t = b["inspections"], RECT_TEXT[lang]
    if not ins:
        return
    rows = [[r["street_code"], r["street_name"], r["unit"] or t["unassigned"], r["item_code"], r["item_text"],
             r["deduction"], r["findings"], r["points"]] for r in ins["by_item"]] or [[t["items_none"]]]
    _sheet(book, t["items_title"], list(t["items_head"]), [*rows, [], [t["items_note"].format(base=ins["base"])]],
           [None] * 5 + ["0.##", None, "0.##"], [12, 14, 22, 10, 36, 10, 8, 8])


def _local(instant: str) -> datetime:
    """The city's wall-clock time of an ISO instant written in the city's time (a date-time cell, no zone)."""
    return time_cell(instant)


def write_workbook(b: dict, out: Path, lang: str = "zh") -> None:
    """Write bulletin ``b`` (:func:`layers.reports.compose.bulletin`, built in ``lang``) to ``out``."""
    from openpyxl import Workbook

    t, defs = _TEXT[lang], figures()
    book = Workbook()
    book.remove(book.active)
    summary_rows = [[t["period"], b["period"]["label"], None], [t["start"], _day(b["period"]["start"]), None],
                    [t["end"], _day(b["period"]["end"]), None], [t["text"], b[f"summary_{lang}"], None]]
    summary_rows += [[defs[c].name(lang), b["totals"][c], b["previous_totals"][c]] for c in ROW_FIGURES]
    sheet = _sheet(book, t["summary"], [t["item"], t["value"], t["before"]], summary_rows, [None, None, None],
                   [22, 60, 16])
    for k in (2, 3):
        sheet.cell(k + 1, 2).number_format = _DATE
    for k, code in enumerate(ROW_FIGURES, start=6):
        for cell in (sheet.cell(k, 2), sheet.cell(k, 3)):
            cell.number_format = _format(code) or "General"
    hours = "（小时）" if lang == "zh" else " (h)"
    ranks = [defs["rank"].name(lang), defs["rank_change"].name(lang)]
    for table, noun in (("streets", "street"), ("units", "unit")):
        coded = table == "streets"  # a unit is known by its name: a code column would repeat it
        codes = (*ROW_FIGURES, *extra_figures(b, table), *period_figures_shown(b))
        figure_header = [defs[c].name(lang) + (hours if c == "median_hours" else "") for c in codes]
        if b.get("rectification"):  # not (yet) in data/figures.csv: defined on the sheet of overdue findings
            codes += RECT_FIGURES
            figure_header += [RECT_TEXT[lang][c] for c in RECT_FIGURES]
        rows = [[r["rank"], r["rank_change"], *([r["code"]] if coded else []), r["name"], *(r[c] for c in codes)]
                for r in b[table]]
        _sheet(book, t[table], [*ranks, *([t["code"]] if coded else []), t[noun], *figure_header], rows,
               [None] * (3 + coded) + [_format(c) for c in codes], [8, 10, *([14] if coded else []), 26]
               + [12] * len(codes))
    rows = [[r["name"], r["received"], r["previous"], r["change"], r["change_rate"]] for r in b["categories"]]
    _sheet(book, t["categories"], [t["category"], defs["received"].name(lang), t["previous"], t["change"],
                                   t["change_rate"]], rows, [None, None, None, None, _RATE], [26, 12, 14, 10, 10])
    _changes(book, b, t, defs, lang)
    _overdue_findings(book, b, lang)
    _deductions(book, b, lang)
    rows = [[d["name"], d["unit"] if lang == "zh" else _UNITS_EN.get(d["unit"], d["unit"]), d["definition"], d["source"], f"{d['label']} {d['label_text']}".strip()]
            for d in b["definitions"]]
    _sheet(book, t["definitions"], [t["item"], t["unit_col"], t["definition"], t["source"], t["label"]], rows,
           [None] * 5, [18, 8, 60, 50, 18])
    keep_text(book)  # names of units and areas are words, never formulas
    book.save(out)
