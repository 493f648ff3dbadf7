"""The one reference time "overdue" is judged at, on the web, the API, analyses and prints.

It is the city's data time when one is set and the data is still that
snapshot (a frozen extract, such as the demo: its deadlines are relative to
that time, and the pages and prints say "数据时间"), else the database's
``now()``. Once a complaint is reported after the data time the city is live
again, and a complaint filed today is judged today, not at an older snapshot
time (that check is one probe of the ``reported_at`` index). Every "past its
deadline" test is ``due_at < <reference time>`` with this expression, so one
grid shows the same overdue count everywhere.
"""

from __future__ import annotations

from datetime import datetime

from psycopg2 import sql

#: SQL for the data time in force, over ``city_settings s``: its data time while no complaint is newer, else NULL.
DATA_TIME_IN_FORCE_SQL = (
    # max() is one backward probe of complaints_reported_idx; an EXISTS (… reported_at > data_time) was
    # planned as a sequential scan expecting an early hit, and read every complaint when none is newer.
    "CASE WHEN (SELECT max(n.reported_at) FROM complaints n) > s.data_time THEN NULL ELSE s.data_time END"
)
#: SQL for the reference time (a timestamptz), usable inside any statement.
REFERENCE_TIME_SQL = f"coalesce((SELECT {DATA_TIME_IN_FORCE_SQL} FROM city_settings s LIMIT 1), now())"


def reference_time_sql() -> sql.SQL:
    """:data:`REFERENCE_TIME_SQL` as a composable, for statements built with psycopg2.sql."""
    return sql.SQL(REFERENCE_TIME_SQL)


def reference_time(conn) -> datetime:
    """The reference time itself: the city's data time while the data is that snapshot, else now()."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {REFERENCE_TIME_SQL}")
        return cur.fetchone()[0]
