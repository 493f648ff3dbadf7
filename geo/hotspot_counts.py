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
thread, on a connection of its own, holding a SHARE lock on complaints so
that no write falls between the fill and the triggers, committed at once;
that first request bins afresh, as every request did before. Sizes derived
from a filtered count change with every filter and are binned afresh rather
than registered. At most HYGIENE_MAP_HOTSPOT_KEPT_GRIDS grids are kept (the
oldest goes): each costs its triggers on every complaint write.
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
import psycopg2

from data.settings import AnalysisSettings

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
           categories: list[str] | None = None, by_month: bool = False, keep: bool = False) -> np.ndarray | list:
    """Rows (q, r, n) of the complaints in the window and categories; with ``by_month`` a list of (q, r, month, n).

    ``keep``: register the grid when it is not kept yet (see the module's
    docstring). The answer is the same either way, to the complaint.
    """
    where, params = filters(since, until, categories)
    params.update(size=size, srid=srid, tz=tz)
    if kept_grid(conn, size, srid, tz) is None and keep and not _writing_complaints(conn):
        register_later(conn, size, srid, tz)  # this request bins afresh; the next ones read the kept counts
    group = "q, r, month" if by_month else "q, r"
    # One statement, so one snapshot: kept counts plus the edges when the grid is kept in it, else every
    # complaint binned (a grid may be dropped between two statements).
    kept = "(SELECT id FROM hotspot_grids WHERE cell_m = %(size)s AND srid = %(srid)s AND tz = %(tz)s)"
    kept_where, raw_where = _split(conn, params, since, until, categories)
    parts = [f"SELECT {group}, 1 FROM ({binned_sql(f'{where} AND NOT EXISTS {kept}', by_month)}) b"]
    if kept_where is not None:
        parts.append(f"SELECT {group}, n FROM hotspot_counts WHERE grid = {kept} AND {kept_where}")
        if raw_where is not None:
            parts.append(f"SELECT {group}, 1 FROM ({binned_sql(f'{where} AND {raw_where} AND EXISTS {kept}', by_month)}) b")
    else:  # no whole month in the window: its complaints themselves
        parts = [f"SELECT {group}, 1 FROM ({binned_sql(where, by_month)}) b"]
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


def kept_grid(conn, size: float, srid: int, tz: str) -> int | None:
    """The id of the kept grid of this size, CRS and time zone, or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM hotspot_grids WHERE cell_m = %s AND srid = %s AND tz = %s", (size, srid, tz))
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


def register(dsn: str, password: str | None, size: float, srid: int, tz: str) -> int | None:
    """Register and fill a grid on a connection of its own, committed at once; its id (None: not now).

    The SHARE lock waits for the transactions writing complaints (at most
    :data:`LOCK_WAIT_MS`) and holds new ones off until the counts are in.
    Any failure (writers held on, the server busy) leaves nothing behind:
    the analysis bins afresh meanwhile, and the next request tries again.
    """
    try:
        side = psycopg2.connect(dsn, password=password or None)
    except psycopg2.Error:  # the server went away (a test's database dropped): nothing to keep
        return None
    try:
        with side.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = %s", (f"{LOCK_WAIT_MS}ms",))
            cur.execute("SET LOCAL statement_timeout = %s", (f"{FILL_TIMEOUT_MS}ms",))
            cur.execute("LOCK TABLE complaints IN SHARE MODE")
            cur.execute("INSERT INTO hotspot_grids (cell_m, srid, tz) VALUES (%s, %s, %s) "
                        "ON CONFLICT (cell_m, srid, tz) DO NOTHING RETURNING id", (size, srid, tz))
            row = cur.fetchone()
            if row is None:  # registered meanwhile by another process
                return None
            params = {"grid": row[0], "size": size, "srid": srid, "tz": tz}
            cur.execute("INSERT INTO hotspot_counts (grid, month, category, q, r, n) "
                        f"SELECT %(grid)s, month, category, q, r, count(*) FROM ({binned_sql('true', True, True)}) b "
                        "GROUP BY month, category, q, r", params)
            cur.execute("DELETE FROM hotspot_grids WHERE id NOT IN "
                        "(SELECT id FROM hotspot_grids ORDER BY id DESC LIMIT %s)",
                        (max(1, AnalysisSettings.from_env().hotspot_kept_grids),))
            cur.execute("ANALYZE hotspot_grids, hotspot_counts")  # the planner must know their sizes
        side.commit()
        return params["grid"]
    except psycopg2.Error:
        return None
    finally:
        if not side.closed:  # a server that went away (a dropped database) closes it under us
            side.close()  # closing rolls back what was not committed
