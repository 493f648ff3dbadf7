"""Text stays text in every sheet the project writes: no spreadsheet formula injection.

A resident's complaint, an inspector's note, a unit's or a plan's name is
text from people (the public /report channel needs no account). A
spreadsheet evaluates such text when it looks like a formula:

- XLSX: openpyxl stores any ``str`` starting with ``=`` as a formula, which
  Excel and WPS evaluate on opening (``=HYPERLINK(…&A1)`` sends the
  neighbouring cells away). :func:`keep_text` and :func:`text_row` store it as
  a string cell: the office sees the words as typed. Text starting with
  ``+ - @`` is already a string cell in XLSX.
- CSV has no cell types: Excel evaluates a cell starting with ``= + - @``
  (and tab or CR). :func:`csv_text` puts an apostrophe before such text, as
  OWASP advises ("CSV Injection"); Excel shows the words, with the apostrophe.

Numbers stay numbers: an int or float is never touched, nor text that is a
plain number (``-3.5``, ``+86``: Excel reads it as that number, not as a
formula), nor a lone ``-``. The project writes no formula of its own.

Times are date cells in every workbook (:func:`time_cell`): the city's wall-clock time without a zone (Excel
has none), formatted ``yyyy-mm-dd hh:mm`` (dates ``yyyy-mm-dd``), so that a clerk sorts and filters them as
dates. CSV keeps ISO-8601 text with the offset: scripts read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from data.vocab import city_tz

#: The first characters with which a spreadsheet opening a CSV takes a cell for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Text that is a plain number (a spreadsheet reads it as that number, never as a formula).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_text(value):
    """``value`` for a CSV cell: text starting with ``= + - @``, tab or CR (other than a plain number) with a
    leading apostrophe, so that a spreadsheet shows it instead of evaluating it; anything else as it is."""
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS) and value not in ("-", "+")
            and not _NUMBER.fullmatch(value)):  # a lone dash is a table's "none", never a formula
        return "'" + value
    return value


def csv_row(values: Iterable) -> list:
    """A CSV row's values through :func:`csv_text`."""
    return [csv_text(v) for v in values]


def csv_frame(frame):
    """A copy of a pandas frame for ``to_csv``: its headers and text cells through :func:`csv_text`; columns of
    numbers, booleans or times as they were."""
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    frame = frame.copy()
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if not (is_numeric_dtype(column) or is_bool_dtype(column) or is_datetime64_any_dtype(column)):
            frame.isetitem(j, column.map(csv_text))
    frame.columns = [csv_text(name) for name in frame.columns]
    return frame


def csv_unguarded(value):
    """A cell as :func:`csv_text` wrote it, its guard taken off: ``'-1号公厕`` is ``-1号公厕``. Only an apostrophe
    that :func:`csv_text` would have put there goes (``'=SUM(A1)``, not ``'abc`` nor ``'-3.5``, text an office
    typed itself)."""
    if isinstance(value, str) and value[:1] == "'" and csv_text(value[1:]) == value:
        return value[1:]
    return value


def csv_unescaped(frame):
    """A table read back (every column text): the apostrophe :func:`csv_text` put before a cell taken off again,
    so that an export (or a rejects file) edited and imported back gives the words it was written from."""
    frame = frame.copy()
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        guarded = column.str.startswith("'", na=False)  # few cells are: only they are looked at
        if guarded.any():
            frame.isetitem(j, column.mask(guarded, column[guarded].map(csv_unguarded)))
    return frame  # its headers as written: the column plan names them so


def keep_text(book) -> None:
    """Every cell of an openpyxl workbook (not a write-only one) that openpyxl took for a formula because its
    text starts with ``=``, made a string cell again: written text is never evaluated."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def text_row(sheet, values: Iterable) -> list:
    """A row for ``sheet.append`` of a write-only worksheet: text starting with ``=`` as a string cell (openpyxl
    would store a formula), other values as they are."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(sheet, value)
            value.data_type = "s"
        row.append(value)
    return row


#: The number formats of time and date cells in every workbook the project writes.
TIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def time_cell(value):
    """A time as a workbook cell holds it: an aware time (or ISO text with an offset) as the city's wall-clock
    time without a zone, a naive one or a date as it is, None as None."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(city_tz()).replace(tzinfo=None)
    return value


def time_format(value) -> str | None:
    """The number format of a cell holding ``value``: a date-time's, a date's, or None for anything else."""
    if isinstance(value, datetime):
        return TIME_FORMAT
    return DATE_FORMAT if isinstance(value, date) else None


def format_times(book) -> None:
    """Every date or time cell of an openpyxl workbook (not a write-only one) given :func:`time_format`'s format
    (openpyxl's own shows seconds, which no one reads): write the values with :func:`time_cell` first."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                fmt = time_format(cell.value)
                if fmt:
                    cell.number_format = fmt


def timed_cell(sheet, value):
    """A value for a write-only worksheet's row: a time as a date cell in :func:`time_format`'s format (through
    :func:`time_cell`), anything else as it is."""
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, date):  # text stays text, even text that reads as a time
        return value
    value = time_cell(value)
    fmt = time_format(value)
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = fmt
    return cell
