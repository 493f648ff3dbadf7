"""A file's column of times read as UTC: each value in its own zone if it states one, else in the city's.

pandas reads a column in one pass when it keeps one format; the rest are
read again (ISO 8601 in C, then one by one), and values with a zone are
parsed apart from those without, so a file mixing them reads each row as
written.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from data.errors import InvalidParameter

#: A time part followed by an explicit zone (Z, +08:00, +0800, +08): such a value states its own instant.
_ZONED = re.compile(r"[T ]\d{1,2}:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d:?\d\d|[+-]\d\d)$", re.IGNORECASE)


#: The end of a value that may be a zone: a sign, or Z last (the values joined by NUL).
_ZONE_TAIL = re.compile(r"[+-][^\x00]{0,5}\x00|[Zz]\x00")


def _zoned(values: np.ndarray) -> np.ndarray:
    """Which values end in a zone (:data:`_ZONED`); the regex runs only where the last six characters could hold one."""
    try:
        if not _ZONE_TAIL.search("\x00".join(values) + "\x00"):
            return np.zeros(len(values), dtype=bool)  # the common file: no value could end in a zone (one scan in C)
    except TypeError:  # a value that is not text
        pass
    search = _ZONED.search
    # A zone's sign lies within the last six characters (+08:00), a Z last: most times are ruled out unsearched.
    maybe = (isinstance(v, str) and ("+" in v[-6:] or "-" in v[-6:] or v[-1:] in ("Z", "z")) for v in values)
    return np.fromiter((m and search(v) is not None for m, v in zip(maybe, values)), dtype=bool, count=len(values))


def utc_times(stripped: pd.Series, empty: np.ndarray, timezone: str) -> np.ndarray:
    """Each value as a UTC datetime64[us] (NaT where unreadable or empty).

    Values with a zone are read in it; the others in ``timezone``. The two
    kinds are parsed apart, so a file that mixes them reads each row as
    written (pandas refuses "mixed timezones" in one column).
    """
    zoned = _zoned(stripped.to_numpy(dtype=object)) & ~empty
    utc = np.full(len(stripped), np.datetime64("NaT"), dtype="datetime64[us]")
    local = ~zoned
    try:
        parsed = _parse_times(stripped[local].where(~empty[local], None), empty[local])
    except ValueError:  # zones spelled otherwise (… UTC, GMT+8) among times without one: each value alone
        parsed = _one_by_one(stripped[local], timezone)
    try:
        if getattr(parsed.dt, "tz", None) is None:
            parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
        parsed = parsed.dt.tz_convert("UTC")
    except Exception:
        raise InvalidParameter("--timezone", f"unknown time zone {timezone!r}", f"未知的时区 {timezone!r}") from None
    utc[local] = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    if zoned.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            stated = pd.to_datetime(stripped[zoned], utc=True, format="mixed", errors="coerce")
        utc[zoned] = stated.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    return utc


def _one_by_one(values: pd.Series, timezone: str) -> pd.Series:
    """Times read one at a time (slow: only for a column pandas cannot read as one), as UTC."""
    def one(text):
        stamp = pd.to_datetime(text, errors="coerce") if text else pd.NaT
        if pd.isna(stamp):
            return pd.NaT
        return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize(timezone, ambiguous="NaT",
                                                                              nonexistent="shift_forward")
    return pd.to_datetime(pd.Series([one(v) for v in values], index=values.index, dtype=object), utc=True)


def _parse_times(values: pd.Series, empty: np.ndarray) -> pd.Series:
    """Times as pandas reads them, in one pass when the file keeps one format."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": the retry below handles it
        try:
            parsed = pd.to_datetime(values, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            parsed = pd.Series(pd.NaT, index=values.index)
        retry = parsed.isna().to_numpy() & ~empty
        if retry.any():
            parsed_retry = _parse_rest(values[retry])
            if getattr(parsed.dt, "tz", None) is None and getattr(parsed_retry.dt, "tz", None) is not None:
                parsed_retry = parsed_retry.dt.tz_convert(None)
            if getattr(parsed.dt, "tz", 0) is None and getattr(parsed_retry.dt, "tz", 0) is None:
                # Both without a zone: merged in numpy (through objects: ≈ 10 µs a row).
                both = parsed.to_numpy(dtype="datetime64[us]").copy()
                both[retry] = parsed_retry.to_numpy(dtype="datetime64[us]")
                return pd.Series(both, index=values.index)
            parsed = parsed.astype(object)
            parsed[retry] = parsed_retry.astype(object)
            parsed = pd.to_datetime(parsed, errors="coerce", utc=False)
    return parsed


def _parse_rest(values: pd.Series) -> pd.Series:
    """Times in a format other than the file's first: ISO 8601 in C, the rest one by one (≈ 40× slower)."""
    mixed = values
    try:
        iso = pd.to_datetime(values, errors="coerce", format="ISO8601")
        if iso.dt.tz is None:
            mixed = values[iso.isna().to_numpy()]
    except (ValueError, TypeError, OverflowError):  # offsets differ within the file
        iso = None
    rest = pd.to_datetime(mixed, errors="coerce", format="mixed")
    if mixed is values:
        return rest
    if getattr(rest.dt, "tz", None) is not None:
        # A zone only among the rest: parse them all as before, one rule for every value.
        return pd.to_datetime(values, errors="coerce", format="mixed")
    return pd.concat([iso[iso.notna()], rest]).reindex(values.index)


def utc_text(utc: np.ndarray) -> np.ndarray:
    """UTC datetime64 values as timestamptz text ('…+00'), None for NaT."""
    # numpy formats a million timestamps in C; Series.dt.strftime is per value.
    text = np.char.add(np.datetime_as_string(utc, unit="us"), "+00").astype(object)
    text[np.isnat(utc)] = None
    return text
