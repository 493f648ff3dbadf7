"""Complaint counts per hexagon for Gi*: from the counts the database keeps, else binned afresh.

Migration 0750 keeps, for each registered hexagon grid (edge length, metric
CRS, time zone of its months), the count of complaints per cell, month and
category, updated by triggers in the transaction of every write. A request
then sums some 10^5 kept counts instead of binning 10^6 complaints: the
whole months of its window come from the kept counts, the parts of months at
either end (a window starting on the 15th) from the complaints themselves,
through the index on ``reported_at``.

A grid is registered the first time its size is asked for without a time
window or category (the default map) or with an explicit ``cell``: in a
thread, on connections of its own, announced first (the triggers count for
it from then on) and filled from a snapshot taken at that moment, so that
complaint writes go on during the fill (:func:`register`, migration 0795);
that first request, and any until the fill is in, bins afresh: in numpy from
the complaints' coordinates (:mod:`geo.hotspot_points`), the monthly series of
emerging hot spots in SQL. Sizes derived
from a filtered count change with every filter and are binned afresh rather
than registered. At most HYGIENE_MAP_HOTSPOT_KEPT_GRIDS grids are kept (the
oldest goes): each costs its triggers on every complaint write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import numpy as np
import psycopg2

from data.settings import AnalysisSettings
from geo import hotspot_points

#: How long registering a grid waits for writers of complaints before it gives up (this request bins afresh).
LOCK_WAIT_MS = 2_000
#: How long a fill may take (a million complaints: seconds; far more on a loaded server).
FILL_TIMEOUT_MS = 600_000

_lock = threading.Lock()
_pending: dict[tuple, threading.Thread] = {}


def filters(since: datetime | None, until: datetime | None, categories: list[str] | None) -> tuple[str, dict]:
    """The WHERE clause on complaints of a window [since, until) and categories, and its parameters."""
    where, params = ["true"], {}
    if since is not None:
        where.append("reported_at >= %(since)s")
        params["since"] = since
    if until is not None:
        where.append("reported_at < %(until)s")
        params["until"] = until
    if categories:
        where.append("category = ANY(%(categories)s)")
        params["categories"] = list(categories)
    return " AND ".join(where), params


def binned_sql(where: str, with_month: bool = False, with_category: bool = False) -> str:
    """Complaints → (q, r[, month][, category]) rows, the hexagon by ``hm_hex_q`` / ``hm_hex_r`` (migration 0750).

    Rows whose stored metric coordinates are in another CRS (see migration
    0300) are projected on the fly in a second branch, so the common branch
    stays plain arithmetic. Months start in ``%(tz)s``.
    """
    extra = ", date_trunc('month', reported_at AT TIME ZONE %(tz)s) AS month" if with_month else ""
    extra += ", category" if with_category else ""
    carry = (", month" if with_month else "") + (", category" if with_category else "")
    return f"""
        SELECT hm_hex_q(x, y, %(size)s) AS q, hm_hex_r(x, y, %(size)s) AS r {carry}
        FROM (SELECT metric_x AS x, metric_y AS y {extra} FROM complaints
              WHERE metric_srid = %(srid)s AND {where}
              UNION ALL
              SELECT ST_X(ST_Transform(geom, %(srid)s)), ST_Y(ST_Transform(geom, %(srid)s)) {extra} FROM complaints
              WHERE metric_srid IS DISTINCT FROM %(srid)s AND {where}) xy
        WHERE abs(x) < 5e8 * %(size)s AND abs(y) < 5e8 * %(size)s  -- as hm_hotspot_keys: the hexagon fits an integer
    """


def counts(conn, *, size: float, srid: int, tz: str, since: datetime | None = None, until: datetime | None = None,
           categories: list[str] | None = None, by_month: bool = False, keep: bool = False,
           points: Callable | None = None) -> np.ndarray | list:
    """Rows (q, r, n) of the complaints in the window and categories; with ``by_month`` a list of (q, r, month, n).

    ``keep``: register the grid when it is not kept yet (see the module's
    docstring). The answer is the same either way, to the complaint.
    ``points``: ``(conn, srid, where, params) -> (x, y)`` of the matching complaints
    (:func:`geo.hotspot_points.read`, or one that keeps them): a size not kept is
    counted from them in numpy rather than by a SQL pass over the complaints.
    """
    where, params = filters(since, until, categories)
    params.update(size=size, srid=srid, tz=tz)
    kept_now = kept_grid(conn, size, srid, tz, filling=True)
    register = keep and kept_now is None and not _writing_complaints(conn)
    if not by_month and (kept_now is None or kept_grid(conn, size, srid, tz) is None):
        # Not kept (or still filling): every matching complaint binned, in numpy from their coordinates.
        x, y = (points or hotspot_points.read)(conn, srid, where, params)
        found = hotspot_points.counts(x, y, size, hotspot_points.constants(conn))
        if register:  # once they are read: the fill's pass over the complaints then does not share the cores
            register_later(conn, size, srid, tz)  # the next requests read the kept counts
        return found
    if register:
        register_later(conn, size, srid, tz)
    group = "q, r, month" if by_month else "q, r"
    # One statement, so one snapshot: kept counts plus the edges when the grid is kept in it, else every
    # complaint binned (a grid may be dropped between two statements).
    kept = "(SELECT id FROM hotspot_grids WHERE cell_m = %(size)s AND srid = %(srid)s AND tz = %(tz)s AND NOT filling)"
    kept_where, raw_where = _split(conn, params, since, until, categories)
    # Each part summed by cell on its own (a parallel hash aggregate each): summed only after the union, the
    # ~450,000 kept counts of a city went through one sort spilled to disk, 3× slower.
    binned = f"SELECT {group}, count(*) FROM ({{}}) b GROUP BY {group}"
    parts = [binned.format(binned_sql(f"{where} AND NOT EXISTS {kept}", by_month))]
    if kept_where is not None:
        parts.append(f"SELECT {group}, sum(n) FROM hotspot_counts WHERE grid = {kept} AND {kept_where} GROUP BY {group}")
        if raw_where is not None:
            parts.append(binned.format(binned_sql(f"{where} AND {raw_where} AND EXISTS {kept}", by_month)))
    else:  # no whole month in the window: its complaints themselves
        parts = [binned.format(binned_sql(where, by_month))]
    with conn.cursor() as cur:
        # Without JIT: the branches priced but never run would have it compile for seconds.
        cur.execute("SET LOCAL jit = off")
        cur.execute(f"SELECT {group}, sum(n) FROM ({' UNION ALL '.join(parts)}) u(q, r{', month' if by_month else ''}, n) "
                    f"GROUP BY {group}", params)
        rows = cur.fetchall()
        cur.execute("SET LOCAL jit TO DEFAULT")
    return rows if by_month else np.array(rows, dtype=np.int64).reshape(-1, 3)


def _split(conn, params: dict, since, until, categories) -> tuple[str | None, str | None]:
    """The condition on kept counts (whole months of the window) and on complaints (the rest), None when empty.

    The whole months run from the first month start at or after ``since`` to
    the last at or before ``until``, both in the grid's time zone.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT date_trunc('month', %(since)s::timestamptz AT TIME ZONE %(tz)s) "
                    "+ CASE WHEN date_trunc('month', %(since)s::timestamptz AT TIME ZONE %(tz)s) "
                    "= %(since)s::timestamptz AT TIME ZONE %(tz)s THEN interval '0' ELSE interval '1 month' END, "
                    "date_trunc('month', %(until)s::timestamptz AT TIME ZONE %(tz)s)",
                    {"since": since, "until": until, "tz": params["tz"]})
        params["month_lo"], params["month_hi"] = cur.fetchone()
    kept, raw = ["true"], []
    if since is not None:
        kept.append("month >= %(month_lo)s")
        raw.append("reported_at < (%(month_lo)s::timestamp AT TIME ZONE %(tz)s)")
    if until is not None:
        kept.append("month < %(month_hi)s")
        raw.append("reported_at >= (%(month_hi)s::timestamp AT TIME ZONE %(tz)s)")
    if categories:
        kept.append("category = ANY(%(categories)s)")
    if since is not None and until is not None and params["month_lo"] >= params["month_hi"]:
        return None, None
    return " AND ".join(kept), ("(" + " OR ".join(raw) + ")") if raw else None


def _writing_complaints(conn) -> bool:
    """Whether this transaction has written complaints: a fill elsewhere would wait for it, and cannot see its rows."""
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() "
                    "AND relation = 'complaints'::regclass AND mode = 'RowExclusiveLock')")
        return cur.fetchone()[0]


def kept_grid(conn, size: float, srid: int, tz: str, *, filling: bool = False) -> int | None:
    """The id of the kept grid of this size, CRS and time zone, or None; with ``filling`` also of one being filled."""
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM hotspot_grids WHERE cell_m = %s AND srid = %s AND tz = %s AND (%s OR NOT filling)",
                    (size, srid, tz, filling))
        row = cur.fetchone()
    return row[0] if row else None


def register_later(conn, size: float, srid: int, tz: str) -> None:
    """:func:`register` in a thread of its own, once per grid at a time (a fill takes seconds at city scale)."""
    key = (conn.dsn, size, srid, tz)
    with _lock:
        if key in _pending and _pending[key].is_alive():
            return
        worker = _pending[key] = threading.Thread(
            target=register, args=(conn.dsn, conn.info.password, size, srid, tz), daemon=True,
            name=f"hotspot counts {size:g} m")
    worker.start()


def settle(timeout: float | None = None) -> None:
    """Wait for the registrations under way (tests and benchmarks: the next request reads kept counts)."""
    with _lock:
        workers = list(_pending.values())
    for worker in workers:
        worker.join(timeout)


def register(dsn: str, password: str | None, size: float, srid: int, tz: str, *,
             pause: Callable[[str], None] | None = None) -> int | None:
    """Register and fill a grid on connections of its own, without holding complaint writers off; its id
    (None: not now).

    Three steps (migration 0795 tells why each complaint is then counted once):

    1. *announce*: under a SHARE lock on complaints (waiting at most :data:`LOCK_WAIT_MS` for the
       transactions writing them, holding new ones off for milliseconds) the grid is inserted as
       ``filling`` and a second connection takes its snapshot (REPEATABLE READ); the insert is
       committed, the lock goes. From here on the triggers count every write for the grid.
    2. *fill*: in that snapshot, the complaints binned by month, category and cell into a temporary
       table (the seconds of work; complaints are only read).
    3. *hand over*: those counts added to the grid's, a month per short transaction (what the
       triggers counted meanwhile stays: both are sums), then the grid marked kept.

    ``pause`` (tests) is called with "snapshot", "filled" and "merging" (after the first month) at
    those points. Any failure (writers held on, the server busy, the grid dropped meanwhile by an
    import) removes the grid: the analysis bins afresh meanwhile, and the next request tries again.
    """
    try:
        hold = psycopg2.connect(dsn, password=password or None)
        fill = psycopg2.connect(dsn, password=password or None)
    except psycopg2.Error:  # the server went away (a test's database dropped): nothing to keep
        return None
    grid = None
    try:
        grid = _announce(hold, fill, size, srid, tz)
        if grid is None:
            return None
        (pause or _go_on)("snapshot")
        _fill(fill, {"size": size, "srid": srid, "tz": tz}, pause or _go_on)
        return grid if _hand_over(fill, grid, pause or _go_on) else None
    except psycopg2.Error:
        _give_up(hold, grid)
        return None
    finally:
        for conn in (hold, fill):
            if not conn.closed:  # a server that went away (a dropped database) closes it under us
                conn.close()  # closing rolls back what was not committed


def _go_on(stage: str) -> None:
    """No pause (the default of :func:`register`)."""


def _announce(hold, fill, size: float, srid: int, tz: str) -> int | None:
    """Insert the grid as filling and take ``fill``'s snapshot while no complaint write is under way; the id."""
    with hold.cursor() as cur:
        cur.execute("SET LOCAL lock_timeout = %s", (f"{LOCK_WAIT_MS}ms",))
        # A registration that died half-way (its process killed) left its grid filling: gone after twice the
        # longest fill, so that the size can be registered again.
        cur.execute("DELETE FROM hotspot_grids WHERE filling AND kept_at < now() - %s * interval '2 ms'",
                    (FILL_TIMEOUT_MS,))
        cur.execute("LOCK TABLE complaints IN SHARE MODE")
        cur.execute("INSERT INTO hotspot_grids (cell_m, srid, tz, filling) VALUES (%s, %s, %s, true) "
                    "ON CONFLICT (cell_m, srid, tz) DO NOTHING RETURNING id", (size, srid, tz))
        row = cur.fetchone()
        if row is None:  # registered meanwhile by another process
            hold.rollback()
            return None
    fill.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    with fill.cursor() as cur:
        # The snapshot, and ACCESS SHARE on complaints until the fill is read (no TRUNCATE under it).
        cur.execute("SELECT count(*) FROM complaints WHERE false")
    hold.commit()
    return row[0]


def _fill(fill, params: dict, pause: Callable[[str], None]) -> None:
    """The complaints of ``fill``'s snapshot binned by month, category and cell into the temporary ``hm_fill``."""
    with fill.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = %s", (f"{FILL_TIMEOUT_MS}ms",))
        cur.execute("CREATE TEMP TABLE hm_fill ON COMMIT PRESERVE ROWS AS "
                    f"SELECT month, category, q, r, count(*) AS n FROM ({binned_sql('true', True, True)}) b "
                    "GROUP BY month, category, q, r", params)
        cur.execute("CREATE INDEX ON hm_fill (month)")  # the hand-over reads it a month at a time
        cur.execute("ANALYZE hm_fill")
    pause("filled")
    fill.commit()
    fill.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED)


def _hand_over(fill, grid: int, pause: Callable[[str], None]) -> bool:
    """Add ``hm_fill`` to the grid's counts a month at a time, then mark it kept; False when it was dropped."""
    with fill.cursor() as cur:
        cur.execute("SELECT DISTINCT month FROM hm_fill ORDER BY 1")
        months = [r[0] for r in cur.fetchall()]
    for i, month in enumerate(months):
        with fill.cursor() as cur:  # a dropped grid: the foreign key refuses the rows (psycopg2.Error)
            cur.execute("INSERT INTO hotspot_counts AS c (grid, month, category, q, r, n) "
                        "SELECT %s, month, category, q, r, n FROM hm_fill WHERE month = %s "
                        "ON CONFLICT (grid, month, category, q, r) DO UPDATE SET n = c.n + EXCLUDED.n", (grid, month))
        fill.commit()
        if i == 0:
            pause("merging")
    with fill.cursor() as cur:
        cur.execute("UPDATE hotspot_grids SET filling = false WHERE id = %s AND filling RETURNING id", (grid,))
        if cur.fetchone() is None:
            fill.rollback()
            return False
        cur.execute("DELETE FROM hotspot_grids WHERE NOT filling AND id NOT IN "
                    "(SELECT id FROM hotspot_grids WHERE NOT filling ORDER BY id DESC LIMIT %s)",
                    (max(1, AnalysisSettings.from_env().hotspot_kept_grids),))
        cur.execute("ANALYZE hotspot_grids, hotspot_counts")  # the planner must know their sizes
    fill.commit()
    return True


def _give_up(hold, grid: int | None) -> None:
    """Drop a grid whose fill failed (what it holds is partial), if the server is still there."""
    if grid is None or hold.closed:
        return
    try:
        hold.rollback()
        with hold.cursor() as cur:
            cur.execute("DELETE FROM hotspot_grids WHERE id = %s AND filling", (grid,))
        hold.commit()
    except psycopg2.Error:
        pass  # the server went away: nothing to keep either way
