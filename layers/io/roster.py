"""A street's grid roster (网格责任名册) as an XLSX workbook: written for the office, read back to assign.

The office fills in units, managers and phones in Excel and hands the file
back; ``hygiene-map grids assign`` reads it with either header language.
"""

from __future__ import annotations

from pathlib import Path

from data.errors import InvalidInput
from layers.io.cells import format_times, keep_text

# Roster columns: key, zh-CN header, English header. A roster is read with either.
ROSTER_COLUMNS = [
    ("code", "网格编码", "grid_code"),
    ("community_code", "社区编码", "community_code"),
    ("community", "社区", "community"),
    ("unit", "责任单位", "responsible_unit"),
    ("manager", "网格长", "grid_manager"),
    ("phone", "联系电话", "phone"),
    ("facilities", "设施数（公厕、垃圾点、市场）", "facilities (toilets, garbage points, markets)"),
    ("open", "未结投诉", "open_complaints"),
    ("overdue", "超期投诉", "overdue_complaints"),
    ("reason", "变更原因", "reason"),
]
_HEADER_KEYS = {h: key for key, zh, en in ROSTER_COLUMNS for h in (zh, en)}
_REQUIRED = ("code", "unit", "manager", "phone")
_WIDTHS = (17, 14, 14, 30, 10, 15, 12, 9, 9, 20)


def _cell_text(value) -> str | None:
    """A cell as text: whole floats without ``.0`` (Excel stores codes typed as numbers so), blanks as None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def read_roster(path: Path) -> list[dict]:
    """Rows of a roster workbook (first sheet; headers in zh-CN or English) as dicts with their line number."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file", zh=f"{path}：文件不存在") from None
    except Exception as exc:  # openpyxl raises several kinds for a non-workbook
        raise InvalidInput(f"{path}: not an .xlsx workbook ({type(exc).__name__})",
                           zh=f"{path}：不是 .xlsx 工作簿（{type(exc).__name__}）") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InvalidInput(f"{path}: the first sheet is empty", zh=f"{path}：第一个工作表是空的")
        keys = [_HEADER_KEYS.get(_cell_text(h) or "") for h in header]
        missing = [zh for key, zh, _ in ROSTER_COLUMNS if key in _REQUIRED and key not in keys]
        if missing:
            raise InvalidInput(f"{path} row 1: missing column(s) {', '.join(missing)} (zh-CN or English headers)",
                               zh=f"{path} 第 1 行：缺少列 {'、'.join(missing)}（表头可用中文或英文）")
        out = []
        for line, values in enumerate(rows, start=2):
            record = {k: _cell_text(v) for k, v in zip(keys, values) if k}
            if any(record.get(k) for k in _REQUIRED):  # else a blank line
                out.append({"line": line, **record})
        return out
    finally:
        book.close()


def write_roster(rows: list[dict], out: Path, lang: str = "zh") -> None:
    """Write roster ``rows`` (from :func:`layers.workflow.grids.roster`) to ``out`` as XLSX, headers in ``lang``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "网格责任名册" if lang == "zh" else "grid roster"
    sheet.append([zh if lang == "zh" else en for _, zh, en in ROSTER_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        # Codes as text, so spreadsheets keep every digit.
        sheet.append([r.get(key) if key != "reason" else None for key, _, _ in ROSTER_COLUMNS])
    for col, width in zip("ABCDEFGHIJ", _WIDTHS):
        sheet.column_dimensions[col].width = width
    sheet.freeze_panes = "A2"
    keep_text(book)  # a unit's or manager's name is words, never a formula
    format_times(book)  # any time a date cell as in every workbook (layers.io.cells)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
