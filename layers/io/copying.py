"""COPY … FROM STDIN fed from the client's chunks as a thread makes them.

The chunks are read, checked and encoded in a thread while the calling
thread sends the bytes made so far (psycopg2 lets go of Python's lock while
libpq sends): the client's work and the server's storing overlap. The input
is a run of statements, each followed by its bytes in parts
(:func:`copy_overlapped`); :func:`copy_into` is one statement for the whole
file, its rows as COPY text (binary rows: :mod:`layers.io.fresh`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from itertools import chain

import numpy as np
import pandas as pd
from psycopg2 import sql

from layers.io.times import utc_text

COPY_CHUNK_ROWS = 10_000  # rows formatted at a time (the memory of their text or bytes)
_DONE = object()


def copy_into(cur, conn, table: str, names: list[str], frames: Iterator[dict]) -> None:
    """COPY the rows of each frame (column name → values, in ``names``' order) as text, as the frames come."""
    copy_overlapped(cur, chain([copy_statement(conn, table, names, binary=False)],
                               (text for frame in frames for text in _copy_text(frame))))


def copy_statement(conn, table: str, names: list[str], *, binary: bool) -> str:
    """COPY table (names) FROM STDIN, in binary or text."""
    return sql.SQL("COPY {} ({}) FROM STDIN" + (" WITH (FORMAT binary)" if binary else "")).format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in names)).as_string(conn)


def copy_overlapped(cur, parts: Iterator, depth: int = 2) -> None:
    """Run the COPY … FROM STDIN statements of ``parts`` (a statement, then its input's bytes), made in a thread.

    A part may also be a function making the bytes: it is called by the
    sending thread, in turn (numpy encoding lets go of Python's lock, so it
    overlaps the thread reading and checking the next chunk). At most
    ``depth`` parts wait between the two threads. A failure on either side
    stops both; the making's own exception (the file's problem) is raised as
    it is, not what the server made of the input cut short.
    ``parts`` must not use the connection (its look-ups are made before,
    :meth:`FileState.once`: a connection in COPY answers no other query).
    """
    pending: queue.Queue = queue.Queue(maxsize=depth)
    stop, failure = threading.Event(), []

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for part in parts:
                if not hand_over(part):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, raised there
            failure.append(exc)
        hand_over(_DONE)

    maker = threading.Thread(target=make, name="import-chunks", daemon=True)
    maker.start()
    stream = _Parts(pending, failure)
    try:
        item = pending.get()
        while item is not _DONE and not failure:
            stream.ended = None
            cur.copy_expert(item, stream, size=1 << 20)
            item = stream.ended
    except Exception:
        if failure:
            raise failure[0] from None
        raise
    finally:
        stop.set()
        maker.join()
    if failure:
        raise failure[0]


class _Parts:
    """A COPY source handing over the parts made for one statement, each in one read (one send)."""

    def __init__(self, pending: queue.Queue, failure: list):
        self._pending, self._failure = pending, failure
        self.ended = None  # what ended the statement's input: the next statement, or the end

    def read(self, size: int = -1) -> bytes:
        if self.ended is not None:
            return b""
        item = self._pending.get()
        if isinstance(item, bytes):
            return item
        if callable(item):
            try:
                return item()
            except Exception as exc:  # psycopg2 would turn it into "error in .read() call": kept as it is
                self._failure.append(exc)
                item = _DONE
        self.ended = item
        return b""

    readline = read


def _copy_text(columns: dict) -> Iterator[bytes]:
    """Rows (columns: name → one value per row) as COPY text, COPY_CHUNK_ROWS rows at a time."""
    n = len(next(iter(columns.values()))) if columns else 0
    for start in range(0, n, COPY_CHUNK_ROWS):
        texts = [_column_text(values[start:start + COPY_CHUNK_ROWS]) for values in columns.values()]
        yield ("\n".join(map("\t".join, zip(*texts))) + "\n").encode()


def _constant(values: np.ndarray) -> bool:
    """Whether every value equals the first (None counts as a value); a sample rules most columns out fast."""
    if len(values) == 0:
        return False
    missing = pd.isna(values[: min(len(values), 64)])
    first_missing = bool(missing[0])
    if (missing != first_missing).any():
        return False
    if first_missing:
        return bool(pd.isna(values).all())
    sample = values[:: max(1, len(values) // 64)]
    if not all(v == values[0] for v in sample):
        return False
    return bool((values == values[0]).all())


# COPY's text format: these four characters are escaped, \\N is NULL.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _column_text(values) -> list[str]:
    """One column as COPY text: values as str, specials escaped, NULL as \\N."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":  # UTC times (values._time)
        return ["\\N" if t is None else t for t in utc_text(values)]
    values = np.asarray(values, dtype=object)
    if len(values) > 1 and _constant(values):  # the file's source, '{}' attributes, an absent field: one text for every row
        one = "\\N" if pd.isna(values[0]) else _column_text(values[:1])[0]
        return [one] * len(values)
    text = [v if type(v) is str else str(v) for v in values.tolist()]
    # One scan of the joined column decides whether any value needs escaping (rarely).
    joined = "".join(text)
    if any(c in joined for c in "\\\t\n\r"):
        text = [t.translate(_ESCAPES) for t in text]
    for i in np.flatnonzero(pd.isna(values)):
        text[i] = "\\N"
    return text


def kept_frames(columns: list[str], batches: Iterator[tuple[dict, np.ndarray]], counter: list[int]) -> Iterator[dict]:
    """Each chunk's kept rows as column → values (and lon, lat, geom); ``counter[0]`` counts them."""
    for out, keep in batches:
        kept = int(keep.sum())
        counter[0] += kept
        rows = slice(None) if kept == len(keep) else keep  # the common chunk keeps every row: no copies
        yield {c: _column(out[c])[rows] for c in columns} | {
            "lon": np.asarray(out["lon"])[rows], "lat": np.asarray(out["lat"])[rows],
            "geom": np.asarray(out["geom"], dtype=object)[rows] if out.get("geom") is not None else None}


def _column(values) -> np.ndarray:
    """A column's values as an array: times stay datetime64, the rest are objects."""
    values = np.asarray(values)
    return values if values.dtype.kind == "M" else values.astype(object, copy=False)
