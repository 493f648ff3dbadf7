"""Answers of the analyses, kept while the tables they read have not changed.

A coverage map of a city takes seconds of PostGIS work, and planners open
the same few maps again and again while the facilities under them stay the
same for weeks. Every statement that changes a table the analyses read adds
a row to ``data_changes`` (migration 0500); an answer is kept under the
request *and* the count of those rows per table it depends on, read in the
same transaction before the analysis runs. A commit that changes one of the
tables raises its count, so the next request computes afresh: an answer is
never older than the data it was asked about. Identical requests arriving
while one is being computed wait for it instead of computing it again.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from data.settings import CacheSettings
from layers.analysis.registry import Analysis, Args, key

#: The tables every analysis reads: areas, grids, facilities, roads and the city's settings.
PLACE_TABLES = ("admin_areas", "city_settings", "grids", "toilets", "garbage_stations", "markets",
                "health_trails", "urban_villages", "land_use", "roads")
#: And those of the complaint analyses (hot spots, priority) on top.
COMPLAINT_TABLES = PLACE_TABLES + ("complaints", "event_types")


def data_stamp(conn, tables: tuple[str, ...]) -> tuple:
    """``((table, changes), …)`` for ``tables``, as this transaction sees them."""
    with conn.cursor() as cur:
        cur.execute("SELECT table_name, count(*) FROM data_changes WHERE table_name = ANY(%s) "
                    "GROUP BY table_name ORDER BY table_name", (list(tables),))
        return tuple(cur.fetchall())


def standards_stamp(env: Mapping[str, str] | None = None) -> tuple:
    """The city's standards override file and when it was last written: its thresholds change the answers."""
    env = os.environ if env is None else env
    override = env.get("HYGIENE_MAP_STANDARDS_FILE")
    if not override:
        return ()
    try:
        return (override, os.stat(override).st_mtime_ns)
    except OSError:
        return (override,)  # load() reports the missing file when the analysis runs


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.body: Any = None
        self.error: BaseException | None = None


class AnswerCache:
    """A bounded, least-recently-used map from a key to an answer, computed once per key.

    Thread-safe: the server runs synchronous routes on a thread pool.
    """

    def __init__(self, settings: CacheSettings | None = None):
        self.settings = settings or CacheSettings.from_env()
        self._answers: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def answer(self, key: Hashable, compute: Callable[[], Any],
               size: Callable[[Any], int] = len) -> tuple[Any, bool]:
        """``(answer, from_cache)``; ``compute`` runs only when no answer for ``key`` is kept or under way.

        Answers are bytes (``size`` = their length) or, for a part shared by
        several answers, any value with ``size`` estimating its bytes. An
        error raised by ``compute`` reaches every caller waiting on it and is not kept.
        """
        if self.settings.max_entries <= 0:
            return compute(), False
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                self.hits += 1
                return self._answers[key][0], True
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
                self.misses += 1
            else:
                self.hits += 1
        if not owner:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            return pending.body, True
        try:
            body = compute()
        except BaseException as exc:
            pending.error = exc
            with self._lock:
                del self._pending[key]
            pending.done.set()
            raise
        pending.body = body
        with self._lock:
            del self._pending[key]
            nbytes = size(body)
            if nbytes <= self.settings.max_bytes:
                self._answers[key] = (body, nbytes)
                self._bytes += nbytes
                while len(self._answers) > self.settings.max_entries or self._bytes > self.settings.max_bytes:
                    _, (_, dropped) = self._answers.popitem(last=False)
                    self._bytes -= dropped
        pending.done.set()
        return body, False


def cached_geojson(db, cache: AnswerCache, analysis: Analysis, args: Args, lang: str,
                   fmt: str = "geojson") -> tuple[bytes, bool]:
    """``(answer, from_cache)`` of one analysis request, kept while the tables it reads are unchanged: its
    GeoJSON, or with ``fmt`` ``xlsx`` or ``csv`` its table as a spreadsheet (:func:`~layers.analysis.encode.table_bytes`).

    The stamp is read on a connection of ``db`` (a pool) given back at once,
    and the analysis gets its own only when it runs: requests waiting for an
    identical one under way hold no connection. Computing after the stamp
    was read can only see newer data than the stamp says, never older.
    """
    with db.connection() as conn:
        stamp = (data_stamp(conn, analysis.tables), standards_stamp())

    def run() -> bytes:
        from layers.analysis.encode import table_bytes

        with db.connection() as conn:
            result = analysis.run(conn, args, cache)
            if fmt == "geojson":
                return analysis.geojson(result, args, lang)
            return table_bytes(analysis.rows(result), fmt, lang, analysis.name, grids=analysis.of_grids(result),
                               notes=analysis.notes(result, lang), total=analysis.total(result, lang))

    return cache.answer((key(analysis, args, lang), fmt, stamp), run)


def shared_part(cache: AnswerCache | None, conn, name: Hashable, tables: tuple[str, ...],
                compute: Callable[[], Any], size: Callable[[Any], int]) -> Any:
    """A part several answers share (``name``), kept while ``tables`` are unchanged; computed when there is no cache."""
    if cache is None:
        return compute()
    part, _ = cache.answer((name, data_stamp(conn, tables), standards_stamp()), compute, size=size)
    return part
