"""Rows in PostgreSQL's binary COPY format, built a column at a time in numpy (no Python per row).

A bulk import spends less in both places this way: the client formats no
number or time as text (floats, times and points go as their bytes), and the
server parses none. Each column becomes (lengths, bytes): a length per row
(-1 for NULL) and the values' bytes back to back; the rows are then laid out
by offsets, every field its 4-byte length and its bytes (the format of
https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, no flags, no header extension
TRAILER = b"\xff\xff"
_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us").astype("int64")  # PostgreSQL's time zero
_EWKB_POINT_4326 = np.frombuffer(bytes.fromhex("0101000020E6100000"), dtype=np.uint8)  # LE point with SRID 4326
_INTEGERS = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8"}
_TEXT = {"text", "character varying", "jsonb"}


def supported(sql_type: str) -> bool:
    """Whether a column of this type (``format_type`` of the table) is sent in binary here."""
    return (sql_type in _TEXT or sql_type in _INTEGERS or sql_type.startswith("geometry")
            or sql_type in ("double precision", "boolean", "timestamp with time zone"))


def encode(sql_type: str, values) -> tuple[np.ndarray, np.ndarray]:
    """One column as (lengths, bytes). Geometry columns take an (n, 2) array of WGS84 lon/lat (points)."""
    if sql_type.startswith("geometry"):
        xy = np.ascontiguousarray(values, dtype="<f8")
        rows = np.concatenate([np.broadcast_to(_EWKB_POINT_4326, (len(xy), 9)), xy.view(np.uint8)], axis=1)
        return np.full(len(xy), 25, dtype=np.int64), rows.ravel()
    if sql_type in _TEXT:
        return _text(values, "\x01" if sql_type == "jsonb" else "")  # jsonb: its version byte first
    values = np.asarray(values) if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if values.dtype.kind in "iuf" and (sql_type == "double precision" or sql_type in _INTEGERS):
        return _number(sql_type, values)  # numbers as numbers (the metric pair, ids): nothing to parse
    null = pd.isna(values)
    if sql_type == "timestamp with time zone":
        if values.dtype.kind != "M":  # ISO 8601 text with its offset, or None: pandas' C parser
            values = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=True
                                    ).dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
        null = np.isnat(values)
        return _fixed((values.astype("datetime64[us]").astype("int64") - _EPOCH_US).astype(">i8"), null)
    if sql_type == "boolean":
        return _fixed(np.asarray([v == "true" or v is True for v in values], dtype=np.uint8), null)
    numbers = pd.to_numeric(pd.Series(values, dtype=object).where(~null, np.nan), errors="raise")
    if sql_type == "double precision":
        return _fixed(numbers.to_numpy(dtype="float64").astype(">f8"), null)
    return _fixed(numbers.fillna(0).to_numpy().astype("int64").astype(_INTEGERS[sql_type]), null)


def _number(sql_type: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A numeric array (NaN: NULL) as doubles or integers."""
    null = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), dtype=bool)
    if sql_type == "double precision":
        return _fixed(values.astype(">f8"), null)
    return _fixed(np.where(null, 0, values).astype("int64").astype(_INTEGERS[sql_type]), null)


def _fixed(values: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    width = values.dtype.itemsize
    lengths = np.where(null, -1, width).astype(np.int64)
    return lengths, values[~null].view(np.uint8).ravel()


def _text(values, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Text as UTF-8, the column's values joined and encoded at once, each value's bytes found by NUL separators.

    A NUL never is in text PostgreSQL takes; a value holding one is left to the server to refuse.
    """
    values = np.asarray(values, dtype=object)
    present = values.tolist()
    try:  # the common column: every value text, none missing
        joined, null = prefix + ("\x00" + prefix).join(present), None
    except TypeError:  # NULLs, or a value that is not text (a number a reader kept as one)
        null = pd.isna(values)
        present = [v if isinstance(v, str) else str(v) for v in values[~null].tolist()]
        joined = prefix + ("\x00" + prefix).join(present)
    split = np.frombuffer(joined.encode(), dtype=np.uint8)
    separators = split == 0
    ends = np.flatnonzero(separators)
    if not present:
        sizes, data = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint8)
    elif len(ends) == len(present) - 1:
        sizes, data = np.diff(ends, prepend=-1, append=len(split)) - 1, split[~separators]
    else:  # a NUL in a value: each value encoded alone
        sizes = np.fromiter(map(len, map(str.encode, present)), dtype=np.int64, count=len(present)) + len(prefix)
        data = np.frombuffer((prefix + prefix.join(present)).encode(), dtype=np.uint8)
    if null is None:
        return sizes.astype(np.int64), data
    lengths = np.full(len(values), -1, dtype=np.int64)
    lengths[~null] = sizes
    return lengths, data


def rows(columns: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """The COPY bytes of the rows whose columns (each from :func:`encode`) are given in the COPY's order."""
    n = len(columns[0][0])
    sizes = [np.maximum(lengths, 0) + 4 for lengths, _ in columns]
    row_sizes = 2 + np.sum(sizes, axis=0)
    at = np.concatenate([[0], np.cumsum(row_sizes)[:-1]]).astype(np.int64)
    out = np.empty(int(row_sizes.sum()), dtype=np.uint8)
    _put(out, at, np.full(n, len(columns), dtype=">i2"))
    at = at + 2
    for (lengths, data), size in zip(columns, sizes):
        _put(out, at, lengths.astype(">i4"))
        _scatter(out, at + 4, lengths, data)
        at = at + size
    return out.tobytes()


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Fixed-width values (big-endian numbers) written at the given offsets."""
    width = values.dtype.itemsize
    out[at[:, None] + np.arange(width)] = values.view(np.uint8).reshape(-1, width)


def _scatter(out: np.ndarray, at: np.ndarray, lengths: np.ndarray, data: np.ndarray) -> None:
    """Each row's bytes (``lengths`` of ``data``, back to back) written at its offset."""
    keep = lengths > 0
    sizes, starts = lengths[keep], at[keep]
    if len(sizes) == 0:
        return
    if (sizes == sizes[0]).all():  # one width (points, numbers, codes): a 2-D assignment
        out[starts[:, None] + np.arange(sizes[0])] = data.reshape(-1, sizes[0])
        return
    ends = np.cumsum(sizes)
    out[np.repeat(starts - (ends - sizes), sizes) + np.arange(int(ends[-1]))] = data
