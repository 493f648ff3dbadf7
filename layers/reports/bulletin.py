"""The bulletin's figures per street, responsible unit and event type over a period: all its SQL is here.

One statement per period reads the period's complaints (a cohort: reported
in the period) and the stock still open at its end, and aggregates them by
``GROUPING SETS`` (street, unit, category, city). Each complaint counts for
the unit that held its grid when it was reported (grid assignment history,
:mod:`layers.workflow.grids`), not today's holder; a complaint a regrid moved
counts by the grid it was reported in (``origin_grid_code``), and one whose
grid did not exist when it was reported counts for no unit. The definitions are
``data/figures.csv`` (:mod:`layers.reports.figures`).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from data.clock import REFERENCE_TIME_SQL
from data.params import Period
from data.vocab import CLOSED, RECEIVED, TRANSITIONS
from layers.workflow.deadlines import APPROVE, SET
from layers.workflow.grids import HOLDERS_SQL

#: 不予立案: a case closed straight from 受理 was never filed (data.vocab.TRANSITIONS).
NOT_FILED = (RECEIVED, CLOSED)
#: The actor of the steps an import writes (layers/io): a re-import that moves a case out of 受理 (a hotline export
#: that now says 结案) stands for the steps taken before it, neither 不予立案 nor a late 立案.
IMPORT_ACTOR = "import"
#: 返工: a failed check sends a case back from 核查 to 处置.
REWORK = ("核查", "处置")
assert NOT_FILED[1] in TRANSITIONS[NOT_FILED[0]] and REWORK[1] in TRANSITIONS[REWORK[0]]

#: The counted figures of one row, in the order the statement gives them.
COUNTS = ("received", "filed", "due", "closed", "on_time", "reworked", "open_at_end", "overdue_at_end")

# A complaint's deadline as it stood at a time: the campaign office's later decisions (an extension approved, a
# deadline set: layers.workflow.deadlines) are undone by the deadline each first replaced, so a period's overdue
# figures stay what they were at its end when the bulletin is printed again after them.
DUE_THEN = (f"SELECT DISTINCT ON (complaint_id) complaint_id, due_before FROM complaint_deadlines "
            f"WHERE kind IN ('{APPROVE}', '{SET}') AND at >= {{end}} ORDER BY complaint_id, id")

# A complaint's closing time as it stood at a time: for a case reopened since (a 不满意 rating takes it from 结案
# back to 处置 and clears closed_at), its last close before then if no reopening followed it; else closed_at.
# Correlated, so only the few reopened cases read their history.
CLOSED_THEN = ("(SELECT CASE WHEN max(e.at) FILTER (WHERE e.to_status = %(closed)s) > coalesce(max(e.at) FILTER "
               "(WHERE e.from_status = %(closed)s), '-infinity') THEN max(e.at) FILTER (WHERE e.to_status = %(closed)s) "
               "END FROM complaint_events e WHERE e.complaint_id = c.id AND e.at < {end})")

_FIGURES = f"""
WITH h AS ({HOLDERS_SQL}),
     -- As each case stood at the period's end, so that a past bulletin printed again stays as it was: 返工 counts
     -- when it happened by then; a case that left 受理 for 立案 only after it was not filed then (an import that
     -- brought a case past 受理 left no such step, and one that moved it on a re-import stands for the steps
     -- before: its status says); 不予立案 whenever (closed unfiled later, it was not filed at the end either).
     ev AS (SELECT complaint_id,
                   bool_or(from_status = %(nf_from)s AND to_status = %(nf_to)s AND actor <> %(import)s) AS not_filed,
                   bool_or(from_status = %(nf_from)s AND to_status <> %(nf_to)s AND at >= %(end)s
                           AND actor <> %(import)s) AS filed_later,
                   bool_or(from_status = %(rw_from)s AND to_status = %(rw_to)s AND at < %(end)s) AS reworked,
                   bool_or(from_status = %(closed)s) AS reopened,
                   bool_or(from_status = %(closed)s AND to_status = %(received)s) AS reconsidered
            FROM complaint_events
            WHERE (from_status = %(nf_from)s AND (to_status = %(nf_to)s OR at >= %(end)s))
               OR (from_status = %(rw_from)s AND to_status = %(rw_to)s) OR from_status = %(closed)s
            GROUP BY complaint_id),
     dl AS ({DUE_THEN.format(end="%(end)s")}),
     -- a 不予立案 a resident's 不满意 sent back to 受理 (data.vocab.RECONSIDER) was filed if it left 受理 for 立案
     -- by the end (after its rejection, then); correlated, as only those few cases read their history again
     c AS (SELECT c.*, CASE WHEN ev.reconsidered THEN NOT EXISTS (
                      SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id AND e.from_status = %(nf_from)s
                      AND e.to_status <> %(nf_to)s AND e.at < %(end)s AND e.actor <> %(import)s)
                  ELSE coalesce(ev.not_filed OR ev.filed_later, false) END AS unfiled,
                  coalesce(ev.reworked, false) AS reworked,
                  CASE WHEN ev.reopened THEN {CLOSED_THEN.format(end="%(end)s")} ELSE c.closed_at END AS closed_then
           FROM complaints c LEFT JOIN ev ON ev.complaint_id = c.id
           WHERE c.reported_at < %(end)s
             AND (c.reported_at >= %(start)s OR c.closed_at IS NULL OR c.closed_at >= %(end)s)),
     x AS (SELECT c.street_code, coalesce(h.unit, '') AS unit, c.category, c.reported_at, c.closed_then AS closed_at,
                  -- the district of a complaint in no street ('' when in none either), to say where streets are missing
                  CASE WHEN c.street_code IS NULL THEN coalesce(c.district_code, '') END AS loose_district,
                  CASE WHEN dl.complaint_id IS NULL THEN c.due_at ELSE dl.due_before END AS due_at,
                  c.reported_at >= %(start)s AS fresh,
                  c.reported_at >= %(start)s AND c.status <> %(received)s AND NOT c.unfiled AS filed,
                  c.reworked,
                  (c.closed_then IS NULL OR c.closed_then >= %(end)s) AS open_at_end,
                  c.closed_then < %(end)s AS closed_by_end
           FROM c
           LEFT JOIN dl ON dl.complaint_id = c.id
           LEFT JOIN h ON h.grid_code = coalesce(c.origin_grid_code, c.grid_code)
                      AND c.reported_at >= h.since AND c.reported_at < h.until
           WHERE c.reported_at >= %(start)s OR c.closed_then IS NULL OR c.closed_then >= %(end)s),
     j AS (SELECT least(%(end)s::timestamptz, {REFERENCE_TIME_SQL}) AS judged)
SELECT GROUPING(street_code, unit, category, loose_district) AS g, street_code, unit, category, loose_district,
       count(*) FILTER (WHERE fresh),
       count(*) FILTER (WHERE filed),
       count(*) FILTER (WHERE filed AND (closed_by_end OR due_at < j.judged)),
       count(*) FILTER (WHERE filed AND closed_by_end),
       count(*) FILTER (WHERE filed AND closed_by_end AND closed_at <= due_at),
       count(*) FILTER (WHERE filed AND reworked),
       count(*) FILTER (WHERE open_at_end),
       count(*) FILTER (WHERE open_at_end AND due_at < j.judged),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - reported_at) / 3600.0)
           FILTER (WHERE filed AND closed_by_end)
FROM x CROSS JOIN j
GROUP BY GROUPING SETS ((street_code), (unit), (category), (loose_district), ())"""

# GROUPING(street_code, unit, category, loose_district): the bit of a column is 1 when the row is NOT grouped by it.
_GROUPS = {0b0111: "streets", 0b1011: "units", 0b1101: "categories", 0b1110: "districts", 0b1111: "city"}


@dataclass
class Figures:
    """The counted figures of one street, unit, category or the city, and the rates made from them."""

    received: int = 0
    filed: int = 0
    due: int = 0
    closed: int = 0
    on_time: int = 0
    reworked: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    median_hours: float | None = None

    @property
    def closed_rate(self) -> float | None:
        return self.closed / self.due if self.due else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def rework_rate(self) -> float | None:
        return self.reworked / self.filed if self.filed else None

    def as_dict(self) -> dict:
        """JSON-ready: counts, rates (0–1, None when there is nothing to divide by) and median hours."""
        return {"received": self.received, "filed": self.filed, "due": self.due, "closed": self.closed,
                "on_time": self.on_time, "closed_rate": _round(self.closed_rate),
                "on_time_rate": _round(self.on_time_rate), "rework_rate": _round(self.rework_rate),
                "open_at_end": self.open_at_end, "overdue_at_end": self.overdue_at_end,
                "median_hours": None if self.median_hours is None else round(self.median_hours, 2)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def period_figures(conn, period: Period) -> dict[str, dict]:
    """The figures of ``period``: ``{"streets": {code: Figures}, "units": {name: Figures},
    "categories": {name: Figures}, "districts": {code: Figures}, "city": {None: Figures}}`` (units without a holder
    under ``""``; the complaints in no street under the street None, and by their district under ``districts``,
    ``""`` for those in no district either)."""
    params = {"start": period.start, "end": period.end, "received": RECEIVED, "closed": CLOSED,
              "nf_from": NOT_FILED[0], "nf_to": NOT_FILED[1], "rw_from": REWORK[0], "rw_to": REWORK[1],
              "import": IMPORT_ACTOR}
    out: dict[str, dict] = {name: {} for name in _GROUPS.values()}
    with conn.cursor() as cur:
        cur.execute(_FIGURES, params)
        for g, street, unit, category, district, *values in cur.fetchall():
            group = _GROUPS[g]
            key = {"streets": street, "units": unit, "categories": category, "districts": district, "city": None}[group]
            if group == "districts" and district is None:  # the complaints in a street
                continue
            median = values.pop()
            out[group][key] = Figures(*(int(v) for v in values), median_hours=None if median is None else float(median))
    out["city"].setdefault(None, Figures())
    return out


def names(conn) -> dict[str, dict[str, tuple[str, str]]]:
    """Names of the streets, districts and event types: ``{"streets": {code: (zh, en)}, "districts": {code: (zh, en)},
    "categories": {name: (zh, en)}}``."""
    with conn.cursor() as cur:
        cur.execute("SELECT level, code, name, coalesce(name_en, name) FROM admin_areas "
                    "WHERE level IN ('street', 'district') ORDER BY code")
        areas = cur.fetchall()
        streets = {c: (n, e) for level, c, n, e in areas if level == "street"}
        districts = {c: (n, e) for level, c, n, e in areas if level == "district"}
        cur.execute("SELECT name, coalesce(name_en, name) FROM event_types ORDER BY name")
        categories = {n: (n, e) for n, e in cur.fetchall()}
    return {"streets": streets, "districts": districts, "categories": categories}


# The trend: received, filed, due and closed of each of several periods (the last 12), in one statement over
# their bounds (computed in Python: local midnights, summer time included). The same definitions as
# _FIGURES, each as the case stood at its period's end: a period's cohort is the complaints reported in it; filed
# unless still at 受理 then or closed from it; due when closed by the period's end or past its limit then (at the
# data time, when the end is later). A step out of 受理 before the first period's end was before every end.
_TREND = f"""
WITH p AS (SELECT k, s, e FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY AS p(s, e, k)),
     ev AS (SELECT complaint_id,
                   bool_or(from_status = %(nf_from)s AND to_status = %(nf_to)s AND actor <> %(import)s) AS not_filed,
                   min(at) FILTER (WHERE from_status = %(nf_from)s AND to_status <> %(nf_to)s
                                   AND actor <> %(import)s) AS filed_at,
                   bool_or(from_status = %(closed)s) AS reopened,
                   bool_or(from_status = %(closed)s AND to_status = %(received)s) AS reconsidered
            FROM complaint_events
            WHERE (from_status = %(nf_from)s AND (to_status = %(nf_to)s OR at >= (SELECT min(e) FROM p)))
               OR from_status = %(closed)s
            GROUP BY complaint_id),
     ref AS (SELECT {REFERENCE_TIME_SQL} AS t),
     ch AS (SELECT DISTINCT complaint_id FROM complaint_deadlines WHERE kind IN ('{APPROVE}', '{SET}')),
     x AS (SELECT p.k, CASE WHEN ev.reopened THEN {CLOSED_THEN.format(end="p.e")} ELSE c.closed_at END < p.e
                           AS closed_by_end,
                  CASE WHEN ch.complaint_id IS NULL THEN c.due_at  -- only the few with decided deadlines look back
                       ELSE coalesce((SELECT d.due_before FROM ({DUE_THEN.format(end="p.e")}) d
                                      WHERE d.complaint_id = c.id), c.due_at) END < least(p.e, ref.t) AS late,
                  c.status <> %(received)s AND NOT coalesce(ev.not_filed OR ev.filed_at >= p.e, false) AS filed
           FROM p CROSS JOIN ref
           JOIN complaints c ON c.reported_at >= p.s AND c.reported_at < p.e
           LEFT JOIN ev ON ev.complaint_id = c.id
           LEFT JOIN ch ON ch.complaint_id = c.id)
SELECT p.k, count(x.k), count(*) FILTER (WHERE filed), count(*) FILTER (WHERE filed AND (closed_by_end OR late)),
       count(*) FILTER (WHERE filed AND closed_by_end)
FROM p LEFT JOIN x ON x.k = p.k
GROUP BY p.k ORDER BY p.k"""


def trend_figures(conn, periods: list[Period]) -> list[Figures]:
    """Received, filed, due and closed of each of ``periods`` (in their order), from one statement."""
    params = {"starts": [p.start for p in periods], "ends": [p.end for p in periods], "received": RECEIVED,
              "closed": CLOSED, "nf_from": NOT_FILED[0], "nf_to": NOT_FILED[1], "import": IMPORT_ACTOR}
    with conn.cursor() as cur:
        cur.execute(_TREND, params)
        return [Figures(received=r[1], filed=r[2], due=r[3], closed=r[4]) for r in cur.fetchall()]


def streets_at(conn, points: list[tuple[float, float]]) -> list[str | None]:
    """The code of the street each (lon, lat) lies in (None outside every street), in order."""
    if not points:
        return []
    with conn.cursor() as cur:
        cur.execute("""SELECT p.k, min(a.code) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, k)
                       LEFT JOIN admin_areas a ON a.level = 'street'
                            AND ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
                       GROUP BY p.k ORDER BY p.k""", ([p[0] for p in points], [p[1] for p in points]))
        return [r[1] for r in cur.fetchall()]


def facility_writes(conn, period: Period, kinds) -> dict[str, dict]:
    """Per facility kind (:data:`data.vocab.FACILITY_KINDS`): rows now present, rows whose ``updated_at`` is in the
    period (added or changed then: the tables keep no creation time), and the write statements the data-change
    stamps (``data_changes``) note on the kind's table in the period (they name the table, not the rows)."""
    out = {}
    with conn.cursor() as cur:
        for kind in kinds:
            where = sql.SQL("kind = %(category)s") if kind.category else sql.SQL("true")
            cur.execute(sql.SQL("""SELECT count(*), count(*) FILTER (WHERE updated_at >= %(start)s AND updated_at < %(end)s),
                                          (SELECT count(*) FROM data_changes WHERE table_name = %(table)s
                                             AND changed_at >= %(start)s AND changed_at < %(end)s)
                                   FROM {} WHERE {}""").format(sql.Identifier(kind.table), where),
                        {"category": kind.category, "start": period.start, "end": period.end, "table": kind.table})
            now, written, statements = cur.fetchone()
            out[kind.key] = {"now": now, "written": written, "table_writes": statements}
    return out
