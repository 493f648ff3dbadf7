"""Dates and times written the Chinese way, rewritten as pandas reads them.

Offices type and export times as 2026年11月30日 14:05, 2026年11月30日下午2点05分 or 2026年11月30日14时05分, which
pandas does not read. Each is rewritten (2026-11-30 2:05:00 PM) before the column is parsed, so a file may mix
them with ISO times row by row; a value without a year (11月30日) stays unreadable and is named as before. 晚上12点
is the midnight that ends the day (the next day's 0:00), 凌晨12点 the one that starts it, and 下午14点 a 24-hour time. Only
values holding one of the characters are looked at: the common file, with none, costs a few scans.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd

#: 2026年11月30日 (号 for 日; full-width or ASCII digits are both digits to ``\d``).
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?")
#: 14时05分30秒, 14点05分, 14时, 2點 (时 and 点, simplified or traditional).
_TIME = re.compile(r"(\d{1,2})\s*[时時点點]\s*(?:(\d{1,2})\s*分)?\s*(?:(\d{1,2})\s*秒)?")
#: The part of the day before a time: 上午 9:30 is 9:30 AM, 下午 2:05 is 2:05 PM.
_HALF = re.compile(r"(上午|早上|凌晨|下午|中午|晚上)\s*(\d{1,2}:\d{2}(?::\d{2})?)")
_PM = ("下午", "中午", "晚上")
_MARKS = frozenset("年时時点點午")
#: 晚上12点 of a day, as :func:`_half` leaves it: midnight at that day's end.
_DAY_END = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\s*24:(\d{2}(?::\d{2})?)")


def _clock(m: re.Match) -> str:
    return f"{m.group(1)}:{m.group(2) or '00'}:{m.group(3) or '00'}"


def _half(m: re.Match) -> str:
    part, clock = m.group(1), m.group(2)
    hour, rest = clock.split(":", 1)
    if int(hour) > 12:  # 下午14:05: a 24-hour time, the part of the day only repeats it
        return clock
    if int(hour) == 12 and part == "晚上":  # 晚上12点 is the midnight that ends the day, not noon (:func:`_day_end`)
        return f"24:{rest}"
    return f"{clock} {'PM' if part in _PM else 'AM'}"


def _day_end(m: re.Match) -> str:
    try:
        following = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + timedelta(days=1)
    except ValueError:  # 2月30日: left unreadable, so the row is named
        return m.group(0)
    return f"{following:%Y-%m-%d} 00:{m.group(4)}"


def western(values: pd.Series) -> pd.Series:
    """``values`` (text) with every Chinese-written date and time rewritten (2026年11月30日 下午2点05分 →
    2026-11-30 2:05:00 PM); values without such characters untouched, the same object when there are none."""
    text = "".join(v for v in values.to_numpy(dtype=object) if isinstance(v, str))
    if not any(mark in text for mark in _MARKS):
        return values
    out = values.copy()
    marked = out.map(lambda v: isinstance(v, str) and not _MARKS.isdisjoint(v))
    rewritten = (out[marked].str.replace(_DATE, r"\1-\2-\3 ", regex=True)
                 .str.replace(_TIME, _clock, regex=True).str.replace(_HALF, _half, regex=True)
                 .str.replace(_DAY_END, _day_end, regex=True)
                 .str.replace(r"\s+", " ", regex=True).str.strip())
    out[marked] = rewritten
    return out
