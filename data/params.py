"""Pure parsers of request and command parameters: one function per kind of value, one meaning everywhere.

Each takes the raw text (or ``None`` when absent) and the parameter's name,
and returns a typed value or raises :class:`~data.errors.InvalidParameter`
naming the parameter and the reason. Routes (``api/deps.py``), the CLI and
the stores all call these, so ``since=2025-01-01`` names the same moment on
every route: a time without a zone is in the city's time zone
(:func:`data.vocab.city_tz`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from data.errors import InvalidParameter
from data.vocab import city_tz

#: PostgreSQL refuses offsets past ±15:59 and no zone on Earth is past ±14:00.
MAX_UTC_OFFSET = timedelta(hours=14)
#: Years a campaign's data can name; outside them a date is a typo (and year 1 overflows time zones).
YEARS = (1900, 2100)
#: The one rule for area and grid codes (districts, streets, communities, grids, of any country's scheme),
#: on import and in every parameter: 1–32 ASCII letters, digits, '-' or '.'. GB/T 2260 codes (6/9/12
#: digits) and their grid codes fit; so do New York's MN03 and Taipei's 6301200042. '_' and '%' are left
#: out because area filters match codes as prefixes with SQL LIKE, where they are wildcards.
AREA_CODE = re.compile(r"[A-Za-z0-9.\-]{1,32}")
AREA_CODE_RULE = "an area code is 1–32 ASCII letters, digits, '-' or '.'"
AREA_CODE_RULE_ZH = "区划代码应为 1–32 个 ASCII 字母、数字、“-”或“.”"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

BBox = tuple[float, float, float, float]


def clean_text(raw: str | None, parameter: str, max_length: int = 1000) -> str | None:
    """``raw`` stripped, ``None`` when absent or empty; refuses control characters (NUL …) and huge values."""
    if raw is None:
        return None
    if _CONTROL.search(raw):
        raise InvalidParameter(parameter, "contains a control character (such as NUL); remove it",
                               "含有控制字符（如 NUL），请删除")
    text = raw.strip()
    if len(text) > max_length:
        raise InvalidParameter(parameter, f"is {len(text)} characters long; at most {max_length}",
                               f"长 {len(text)} 个字符，最多 {max_length} 个")
    return text or None


def area_code_problem(code: str, lang: str = "en") -> str | None:
    """Why ``code`` breaks :data:`AREA_CODE` (for a message; ``lang`` ``zh``: in Chinese), or ``None`` when valid."""
    if AREA_CODE.fullmatch(code):
        return None
    zh = lang == "zh"
    rule = AREA_CODE_RULE_ZH if zh else AREA_CODE_RULE
    if not code:
        return f"{rule}，不能为空" if zh else f"{rule}, not empty"
    if len(code) > 32:
        return f"{rule}，不能是 {len(code)} 个字符" if zh else f"{rule}, not {len(code)} characters"
    hint = ""
    if any(c.isdigit() and not c.isascii() for c in code):
        hint = "（是全角数字吗？请输入半角 0-9）" if zh else " (full-width digits? type them as 0-9)"
    elif any(c.isspace() for c in code):
        hint = "（其中有空格）" if zh else " (it contains a space)"
    return f"{rule}，不能是 {code!r}{hint}" if zh else f"{rule}, not {code!r}{hint}"


def parse_area_code(raw: str | None, parameter: str) -> str | None:
    """An admin-area or grid code, or the first characters of one (a prefix filter); ``None`` when absent.

    One rule for every level and every route (:data:`AREA_CODE`); full-width
    digits (３７９９) and control characters are refused rather than guessed at.
    """
    text = clean_text(raw, parameter, 128)
    if text is None:
        return None
    problem = area_code_problem(text)
    if problem:
        raise InvalidParameter(parameter, problem, area_code_problem(text, "zh"))
    return text


def parse_time_zone(raw: str | None, parameter: str) -> str | None:
    """An IANA time zone name (Asia/Shanghai, America/New_York); ``None`` when absent."""
    text = clean_text(raw, parameter, 64)
    if text is None:
        return None
    try:
        ZoneInfo(text)
    except (ValueError, ZoneInfoNotFoundError):
        raise InvalidParameter(parameter, f"{text!r} is not a time zone; name one like Asia/Shanghai, "
                                          "Asia/Taipei or America/New_York",
                               f"{text!r} 不是时区；请写 Asia/Shanghai、Asia/Taipei 或 America/New_York 这样的名称") from None
    return text


def parse_epsg(raw: str | None, parameter: str) -> int | None:
    """An EPSG code given as ``EPSG:4549`` or ``4549``; ``None`` when absent."""
    text = clean_text(raw, parameter, 20)
    if text is None:
        return None
    match = re.fullmatch(r"(?:EPSG:)?([0-9]{4,6})", text, re.IGNORECASE)
    if not match:
        raise InvalidParameter(parameter, f"expected an EPSG code such as EPSG:4549, not {text!r}",
                               f"应为 EPSG 代码（如 EPSG:4549），而不是 {text!r}")
    return int(match.group(1))


def compact_utc(value: datetime) -> str:
    """An instant as the compact UTC stamp links carry (20261201T013000Z: a grid sheet's ``printed``), which
    :func:`parse_instant` reads back."""
    return f"{value.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def parse_instant(raw: str | None, parameter: str, *, end_of_day: bool = False,
                  tz: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime; ``None`` when absent.

    A date alone is the start of that day, or the start of the next day when
    ``end_of_day`` (for exclusive upper ends that name a whole day); a time
    without a zone is in ``tz`` (the city's time zone by default). Offsets past
    ±14:00 and years outside 1900–2100 are refused.
    """
    text = clean_text(raw, parameter, 64)
    if text is None:
        return None
    zone = tz or city_tz()
    try:
        if _DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text)
            value = datetime.combine(day, time.min, tzinfo=zone)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidParameter(parameter, f"{text!r} is not an ISO 8601 date (2026-01-31) "
                                          "or date-time (2026-01-31T08:00, 2026-01-31T00:00:00Z)",
                               f"{text!r} 不是 ISO 8601 日期（2026-01-31）或日期时间（2026-01-31T08:00、"
                               "2026-01-31T00:00:00Z）") from None
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise _bad_year(parameter, value.year)
    if end_of_day and _DATE_ONLY.fullmatch(text):
        # Checked before the shift: the end of 2100-12-31 is 2101-01-01, still a valid bound.
        value += timedelta(days=1)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise InvalidParameter(parameter, f"time zone offset {text[-6:]!r} is beyond ±14:00",
                               f"时区偏移 {text[-6:]!r} 超出 ±14:00")
    return value


def _bad_year(parameter: str, year: int) -> InvalidParameter:
    return InvalidParameter(parameter, f"year {year} is outside {YEARS[0]}–{YEARS[1]}",
                           f"年份 {year} 不在 {YEARS[0]}–{YEARS[1]} 之内")


@dataclass(frozen=True)
class TimeWindow:
    """``since`` inclusive, ``until`` exclusive; either may be open (``None``)."""

    since: datetime | None = None
    until: datetime | None = None

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None


def parse_window(since: str | None, until: str | None, names: tuple[str, str] = ("since", "until")) -> TimeWindow:
    """``since``/``until`` as a :class:`TimeWindow`: ``since`` inclusive, ``until`` exclusive.

    A date is the start of that day in the city's time zone on both ends, so
    ``since=2026-01-01&until=2026-02-01`` is the whole of January.
    """
    low = parse_instant(since, names[0])
    high = parse_instant(until, names[1])
    if low is not None and high is not None and low > high:
        raise InvalidParameter(names[0], f"{since!r} is after {names[1]} {until!r}",
                               f"{since!r} 晚于 {names[1]} {until!r}")
    return TimeWindow(low, high)


def parse_bbox(raw: str | None, parameter: str = "bbox") -> BBox | None:
    """``minlon,minlat,maxlon,maxlat`` in WGS84 → a tuple; ``None`` when absent."""
    text = clean_text(raw, parameter, 200)
    if text is None:
        return None
    expected = f"expected 4 numbers minlon,minlat,maxlon,maxlat, got {text!r}"
    expected_zh = f"应为 4 个数 minlon,minlat,maxlon,maxlat，实为 {text!r}"
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidParameter(parameter, expected, expected_zh)
    values = tuple(parse_number(p, parameter, expected, expected_zh) for p in parts)
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter(parameter, f"{text!r} is outside WGS84 (longitude −180…180, latitude −90…90)",
                               f"{text!r} 超出 WGS84 范围（经度 −180…180，纬度 −90…90）")
    if minx > maxx or miny > maxy:
        raise InvalidParameter(parameter, f"{text!r}: min must not exceed max (order is minlon,minlat,maxlon,maxlat)",
                               f"{text!r}：最小值不能大于最大值（顺序为 minlon,minlat,maxlon,maxlat）")
    return values  # type: ignore[return-value]


def parse_number(raw: str, parameter: str, expected: str | None = None, expected_zh: str | None = None) -> float:
    """A finite decimal number (ASCII), or InvalidParameter with ``expected`` (``expected_zh``) as the reason."""
    text = raw.strip()
    try:
        if not text.isascii():
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise InvalidParameter(parameter, expected or f"{raw!r} is not a number",
                               expected_zh or (None if expected else f"{raw!r} 不是数字")) from None
    if not math.isfinite(value):
        raise InvalidParameter(parameter, f"must be a finite number, not {raw!r}", f"应为有限的数，而不是 {raw!r}")
    return value


def parse_int(raw: str | int | None, parameter: str, low: int, high: int, default: int | None = None) -> int | None:
    """A whole number from ``low`` to ``high``; ``default`` when absent."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, int):
        value = raw
    else:
        text = raw.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):
            raise InvalidParameter(parameter, f"must be a whole number from {low} to {high}, not {raw!r}",
                                   f"应为 {low} 到 {high} 之间的整数，而不是 {raw!r}")
        value = int(text)
    if not low <= value <= high:
        raise InvalidParameter(parameter, f"must be a whole number from {low} to {high}, not {value}",
                               f"应为 {low} 到 {high} 之间的整数，而不是 {value}")
    return value


#: Yes/no words a switch accepts (those FastAPI accepted for a bool before, case-insensitive).
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def parse_bool(raw: str | bool | None, parameter: str, default: bool = False) -> bool:
    """A yes/no switch: 1/true/yes/on or 0/false/no/off (any case); ``default`` when absent."""
    if isinstance(raw, bool):
        return raw
    text = clean_text(raw, parameter, 10)
    if text is None:
        return default
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise InvalidParameter(parameter, f"must be 1/true/yes/on or 0/false/no/off, not {text!r}",
                           f"应为 1/true/yes/on 或 0/false/no/off，而不是 {text!r}")


def parse_list(raw: str | list[str] | None, parameter: str) -> tuple[str, ...]:
    """Values given comma-separated or repeated (``a,b`` or ``x=a&x=b``), stripped, empties dropped."""
    if raw is None:
        return ()
    parts = [raw] if isinstance(raw, str) else list(raw)
    values = []
    for part in parts:
        text = clean_text(part, parameter) or ""
        values.extend(v.strip() for v in text.split(",") if v.strip())
    return tuple(values)


def parse_lang(raw: str | None) -> str:
    """Page language: ``en`` on request, Chinese (``zh``) otherwise."""
    return "en" if (raw or "").strip().lower() == "en" else "zh"


# -- Report periods (bulletins: 周检查、月通报、年终考核) ---------------------------------------------

#: The periods a bulletin covers; weeks start on Monday (ISO 8601).
PERIOD_KINDS = ("week", "month", "quarter", "year")
_PERIOD_FORMS = (  # (pattern, the kinds it may name, how the message names it, in English and Chinese)
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), PERIOD_KINDS, "a day (2026-10-30)", "某一天（2026-10-30）"),
    (re.compile(r"(\d{4})-W(\d{2})"), ("week",), "an ISO week (2026-W44)", "ISO 周（2026-W44）"),
    (re.compile(r"(\d{4})-(\d{2})"), ("month", "quarter", "year"), "a month (2026-10)", "月份（2026-10）"),
    (re.compile(r"(\d{4})-Q([1-4])"), ("quarter", "year"), "a quarter (2026-Q3)", "季度（2026-Q3）"),
    (re.compile(r"(\d{4})"), ("year",), "a year (2026)", "年份（2026）"),
)
_PERIOD_ZH = {"week": "哪一周", "month": "哪个月", "quarter": "哪个季度", "year": "哪一年"}


@dataclass(frozen=True)
class Period:
    """A calendar period in the city's time zone: ``start`` inclusive, ``end`` exclusive (aware datetimes)."""

    kind: str
    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_of(self.kind, self.start.date() - timedelta(days=1), self.start.tzinfo)


def period_of(kind: str, day: date, tz: tzinfo | None = None) -> Period:
    """The ``kind`` period (week, month, quarter, year) containing ``day``, bounded at midnight in ``tz``."""
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    elif kind == "year":
        first, after = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        months = 1 if kind == "month" else 3
        month = day.month if kind == "month" else 3 * ((day.month - 1) // 3) + 1
        first = date(day.year, month, 1)
        nxt = month + months
        after = date(day.year + (nxt > 12), (nxt - 1) % 12 + 1, 1)
    zone = tz or city_tz()
    return Period(kind, datetime.combine(first, time.min, tzinfo=zone), datetime.combine(after, time.min, tzinfo=zone))


def parse_period(kind: str | None, raw: str | None, names: tuple[str, str] = ("period", "date")) -> Period:
    """``period`` and ``date`` of a bulletin as a :class:`Period` in the city's time zone.

    ``date`` names a day in the period (``2026-10-30``) or the period itself:
    a month ``2026-10`` (month, quarter or year), a quarter ``2026-Q3``, a year
    ``2026`` or an ISO week ``2026-W44``.
    """
    kind_text = clean_text(kind, names[0], 10)
    if kind_text not in PERIOD_KINDS:
        raise InvalidParameter(names[0], f"must be one of {', '.join(PERIOD_KINDS)}, not {kind_text!r}",
                               f"应为 {'、'.join(PERIOD_KINDS)} 之一，而不是 {kind_text!r}")
    text = clean_text(raw, names[1], 20)
    if text is None:
        raise InvalidParameter(names[1], "is required: a day in the period (2026-10-30), 2026-10, 2026-Q3 or 2026",
                               "必须填写：期间内的某一天（2026-10-30）、2026-10、2026-Q3 或 2026")
    for pattern, kinds, form, form_zh in _PERIOD_FORMS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if kind_text not in kinds:
            fits = " or ".join(f[2] for f in _PERIOD_FORMS if kind_text in f[1])
            fits_zh = "或".join(f[3] for f in _PERIOD_FORMS if kind_text in f[1])
            raise InvalidParameter(names[1], f"{text!r} is {form}, which does not name one {kind_text}: "
                                             f"give {fits}",
                                   f"{text!r} 是{form_zh}，不能确定是{_PERIOD_ZH[kind_text]}：请给出{fits_zh}")
        return period_of(kind_text, _first_day(form, match, names[1], text))
    raise InvalidParameter(names[1], f"{text!r} is not a day (2026-10-30), an ISO week (2026-W44), "
                                     "a month (2026-10), a quarter (2026-Q3) or a year (2026)",
                           f"{text!r} 不是日期（2026-10-30）、ISO 周（2026-W44）、月份（2026-10）、季度（2026-Q3）或年份（2026）")


def _first_day(form: str, match: re.Match, parameter: str, text: str) -> date:
    """The first day the matched ``date`` form names (checked: a real day, a year campaigns can name)."""
    parts = [int(g) for g in match.groups()]
    if not YEARS[0] <= parts[0] <= YEARS[1]:
        raise _bad_year(parameter, parts[0])
    try:
        if form.startswith("an ISO week"):
            return date.fromisocalendar(parts[0], parts[1], 1)
        if form.startswith("a quarter"):
            return date(parts[0], 3 * parts[1] - 2, 1)
        return date(*parts, *([1] * (3 - len(parts))))
    except ValueError:
        raise InvalidParameter(parameter, f"{text!r} is not a real date", f"{text!r} 不是真实存在的日期") from None
