"""Scores of an inspection round (谁丢分谁负责): per street and per responsible unit (no HTTP here).

Every street of the round and every unit holding a grid in them at some time
in the round's span (or the period's), by the assignment history, starts from
the base score (``HYGIENE_MAP_INSPECTION_SCORE_BASE``) and loses each of its
findings' deductions, whatever the finding's status: a rectified problem was
still found. A finding's points are lost by the unit stored with it — the
unit that held the grid when it was observed — even after the grid changes
hands. Ranks: highest score first, equal scores share a rank (1, 1, 3).
A score may go below zero; the rank still tells the worst apart. A period's score is the mean of its rounds'
scores (one round: that round's). A round that has not started scores no one.
"""

from __future__ import annotations

from datetime import datetime

from data.clock import REFERENCE_TIME_SQL
from data.settings import InspectionSettings
from data.vocab import RECTIFIED, TO_RECTIFY, city_tz
from layers.workflow.grids import HOLDERS_SQL
from layers.workflow.inspections import get_round

# What a score covers: the findings counted (their deductions lost) and the rounds whose streets are scored.
# One round (its ranking, issue 15), or a period: the findings observed in it and the rounds whose midpoint lies
# in it or that found something in it (the bulletin's 周检查/月通报, issue 16). Both run the statements below.
# The units listed besides those charged with a finding: (street_code, unit) of whoever held a grid at some
# time in [start, end) — a round's own span, or the period's — by the grid assignment history (the
# bulletin's credit); a grid since retired (grid_archive) was held until it was retired, not since.
# A unit that took a grid over after the round ended is not listed: it was not there to be inspected.
_HELD = f"""SELECT gs.street_code, h.unit FROM ({HOLDERS_SQL}) h
            JOIN (SELECT code, street_code, 'infinity'::timestamptz AS gone FROM grids
                  UNION ALL
                  SELECT code, street_code, max(retired_at) FROM grid_archive a
                  WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = a.code)
                  GROUP BY code, street_code) gs ON gs.code = h.grid_code
            WHERE h.since < least(%(end)s, gs.gone) AND h.until > %(start)s AND gs.gone > %(start)s"""
_ROUND = {"findings": "round_id = %(id)s", "rounds": "id = %(id)s", "holders": _HELD}
# A round belongs to the period holding its midpoint (a weekly round from Sunday to Sunday is the week's, a
# round planned across a month's end one month's, not both), or to any period it found something in: a round
# merely overlapping a period by a day would score its streets at the base there, as inspected and faultless,
# and planning next week's round would rewrite a printed bulletin.
_PERIOD = {"findings": "observed_at >= %(start)s AND observed_at < %(end)s",
           "rounds": "(starts + (ends - starts) / 2 >= %(start)s AND starts + (ends - starts) / 2 < %(end)s) "
                     "OR id IN (SELECT round_id FROM inspection_findings "
                     "WHERE observed_at >= %(start)s AND observed_at < %(end)s)",
           "holders": _HELD}
# The one rule every reader of scores goes through (JSON, page, XLSX, PDF, ranks, units): a round that has not
# started is no round yet: it has no findings, and scoring its streets at the base would tell the streets and the
# public of an unannounced visit (暗访) before it happens. ``rs``: each (round, street) scored.
_SCOPE = """r AS (SELECT id, streets FROM inspection_rounds WHERE ({rounds}) AND starts <= now()),
            f AS (SELECT round_id, street_code, responsible_unit AS unit, deduction FROM inspection_findings
                  WHERE ({findings}) AND round_id IN (SELECT id FROM r)),
            rs AS (SELECT DISTINCT r.id AS round_id, unnest(r.streets) AS code FROM r)"""
# A period's score is the mean of its rounds' scores (each round's base − what that round found in the period),
# as a 年终考核 averages them: a street inspected four times is not ranked below one inspected once for that alone.
# One round (a week, a month) gives its round's score. Deductions and findings are the period's sums.
_STREETS = """
    WITH {scope},
         t AS (SELECT rs.code, rs.round_id, count(f.deduction) AS n, coalesce(sum(f.deduction), 0) AS lost
               FROM rs LEFT JOIN f ON f.street_code = rs.code AND f.round_id = rs.round_id
               GROUP BY rs.code, rs.round_id),
         st AS (SELECT code, sum(n) AS findings, sum(lost) AS lost, round(avg(%(base)s - lost)::numeric, 2) AS score
                FROM t GROUP BY code)
    SELECT st.code, a.name, a.name_en, st.findings, st.lost, st.score, rank() OVER (ORDER BY st.score DESC)
    FROM st LEFT JOIN admin_areas a ON a.level = 'street' AND a.code = st.code
    ORDER BY 7, 1"""

# Units: those charged with a finding, and those holding a grid of the scored streets (``holders`` of the
# scope; a unit nobody found fault with keeps the base score), each scored in the rounds over its streets (or
# that charged it) as a street is. A finding in no grid, or in one nobody held then, has no unit (NULL): listed
# last with what it lost, never ranked among the units.
_UNITS = """
    WITH {scope},
         ur AS (SELECT DISTINCT hg.unit, rs.round_id FROM ({holders}) hg JOIN rs ON hg.street_code = rs.code
                WHERE hg.unit IS NOT NULL
                UNION SELECT unit, round_id FROM f),
         t AS (SELECT ur.unit, ur.round_id, count(f.deduction) AS n, coalesce(sum(f.deduction), 0) AS lost
               FROM ur LEFT JOIN f ON f.unit IS NOT DISTINCT FROM ur.unit AND f.round_id = ur.round_id
               GROUP BY ur.unit, ur.round_id),
         tt AS (SELECT unit, sum(n) AS findings, sum(lost) AS lost, round(avg(%(base)s - lost)::numeric, 2) AS score
                FROM t GROUP BY unit)
    SELECT unit, findings, lost, score,
           CASE WHEN unit IS NOT NULL THEN rank() OVER (PARTITION BY unit IS NULL ORDER BY score DESC) END FROM tt
    ORDER BY 5 NULLS LAST, 1 NULLS LAST"""


def _scored(conn, scope: dict, params: dict) -> tuple[list[dict], list[dict]]:
    """(streets, units) of the findings and rounds ``scope`` selects (:data:`_ROUND` or :data:`_PERIOD`)."""
    clauses = {"scope": _SCOPE.format(**scope), "holders": scope["holders"]}
    with conn.cursor() as cur:
        cur.execute(_STREETS.format(**clauses), params)
        # name_en as by_item and the finding lists give it: the Chinese name where the area has no English one.
        streets = [{"street_code": r[0], "name": r[1], "name_en": r[2] or r[1], "findings": r[3], "deductions": float(r[4]),
                    "score": float(r[5]), "rank": r[6]} for r in cur.fetchall()]
        cur.execute(_UNITS.format(**clauses), params)
        units = [{"unit": r[0], "findings": r[1], "deductions": float(r[2]), "score": float(r[3]), "rank": r[4]}
                 for r in cur.fetchall()]
    return streets, units


def scores(conn, round_id: int, settings: InspectionSettings | None = None) -> dict:
    """``{"round", "base", "streets": [...], "units": [...], "by_item": [...]}``: each street and unit with findings,
    deductions, score, rank; ``by_item``, how the deductions are made (:func:`deductions_by_item`)."""
    settings = settings or InspectionSettings.from_env()
    the_round = get_round(conn, round_id)
    params = {"id": round_id, "base": settings.score_base, "start": datetime.fromisoformat(the_round["starts"]),
              "end": datetime.fromisoformat(the_round["ends"])}
    streets, units = _scored(conn, _ROUND, params)
    return {"round": the_round, "base": settings.score_base, "streets": streets, "units": units,
            "by_item": deductions_by_item(conn, round_id=round_id)}


def period_scores(conn, start, end, settings: InspectionSettings | None = None) -> dict:
    """The scores of a period [start, end): ``{"base", "streets", "units"}``.

    The rounds scored are those already started whose midpoint lies in the period or that found something in it;
    the streets, theirs; the units, those charged with such a finding and those that held a grid of those streets
    at some time in the period. In each of its rounds a street (a unit) loses from the base what that round found
    there (charged to it) in the period; its score is the mean over its rounds, its findings and deductions the
    period's sums.
    """
    settings = settings or InspectionSettings.from_env()
    streets, units = _scored(conn, _PERIOD, {"start": start, "end": end, "base": settings.score_base})
    return {"base": settings.score_base, "streets": streets, "units": units}


# Findings not yet closed by a passed re-check at a time ``end`` (限期整改 still running or overdue), each as it
# stood then: the steps of its history known by then (its first step, the recording, counts from when it was
# observed: a phone may send it days later), its status then, its deadline then (a failed re-check set a new
# one), and whether that deadline had passed when judged — at ``end``, or at the reference time (a frozen
# data time, else now) when ``end`` is later, as complaints' overdue at the end is judged.
_UNCLOSED_AT = f"""
    WITH j AS (SELECT least(%(end)s::timestamptz, {REFERENCE_TIME_SQL}) AS judged),
         known AS (SELECT e.finding_id, e.seq, e.to_status, e.due_at FROM inspection_events e
                   JOIN inspection_findings f ON f.id = e.finding_id
                   WHERE f.observed_at < %(end)s AND (e.seq = 1 OR e.at < %(end)s)),
         st AS (SELECT DISTINCT ON (finding_id) finding_id, to_status FROM known ORDER BY finding_id, seq DESC),
         du AS (SELECT DISTINCT ON (finding_id) finding_id, due_at FROM known WHERE due_at IS NOT NULL
                ORDER BY finding_id, seq DESC)
    -- the grid the finding was found in (a regrid since renames places), as the complaints' lists name it
    SELECT f.id, f.round_id, r.name, f.street_code, a.name, a.name_en, f.responsible_unit,
           coalesce(f.origin_grid_code, f.grid_code), f.item_code,
           f.item_text, f.deduction, f.observed_at, s.status, s.due_at, s.due_at < j.judged,
           extract(epoch FROM j.judged - s.due_at) / 86400.0
    FROM inspection_findings f
    -- a finding written without a history (none is, by the code) stands as it is now
    CROSS JOIN LATERAL (SELECT coalesce((SELECT to_status FROM st WHERE st.finding_id = f.id), f.status) AS status,
                               coalesce((SELECT due_at FROM du WHERE du.finding_id = f.id), f.due_at) AS due_at) s
    JOIN inspection_rounds r ON r.id = f.round_id
    LEFT JOIN admin_areas a ON a.level = 'street' AND a.code = f.street_code
    CROSS JOIN j
    WHERE f.observed_at < %(end)s AND s.status IN (%(to_rectify)s, %(rectified)s)
    ORDER BY s.due_at, f.id"""


def unclosed_at(conn, end) -> list[dict]:
    """The findings observed before ``end`` and not closed at it (待整改, or 已整改 awaiting the re-check), each
    with its status and deadline as they were then, and ``overdue`` (待整改 past that deadline when judged:
    at ``end``, or at the reference time when ``end`` is later) with ``days_overdue``; earliest deadline first."""
    with conn.cursor() as cur:
        cur.execute(_UNCLOSED_AT, {"end": end, "to_rectify": TO_RECTIFY, "rectified": RECTIFIED})
        rows = cur.fetchall()
    out, zone = [], city_tz()
    for (fid, round_id, round_name, street, name, name_en, unit, grid, item, text, deduction, observed, status, due,
         late, days) in rows:
        overdue = status == TO_RECTIFY and bool(late)
        out.append({"id": fid, "round_id": round_id, "round": round_name, "street_code": street, "street_name": name,
                    "street_name_en": name_en or name, "unit": unit, "grid_code": grid, "item_code": item,
                    "item_text": text, "deduction": float(deduction), "observed_at": observed.astimezone(zone).isoformat(),
                    "status": status, "due_at": due.astimezone(zone).isoformat(), "overdue": overdue,
                    "days_overdue": round(float(days), 1) if overdue else None})
    return out


def deductions_by_item(conn, start=None, end=None, round_id: int | None = None) -> list[dict]:
    """How lost points are made (扣分明细): per street, unit and checklist item, the findings observed in [start, end)
    — or of round ``round_id`` — and the points they lost (the deduction stored with each finding), street and most
    points first."""
    where = "f.round_id = %(id)s" if round_id is not None else "f.observed_at >= %(start)s AND f.observed_at < %(end)s"
    with conn.cursor() as cur:
        cur.execute(f"""SELECT f.street_code, a.name, coalesce(a.name_en, a.name), f.responsible_unit, f.item_code,
                               f.item_text, f.deduction, count(*), sum(f.deduction)
                        FROM inspection_findings f
                        LEFT JOIN admin_areas a ON a.level = 'street' AND a.code = f.street_code
                        WHERE {where}
                        GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 9 DESC, 5, 4 NULLS LAST""",
                    {"id": round_id, "start": start, "end": end})
        return [{"street_code": r[0], "street_name": r[1], "street_name_en": r[2], "unit": r[3], "item_code": r[4],
                 "item_text": r[5], "deduction": float(r[6]), "findings": r[7], "points": float(r[8])}
                for r in cur.fetchall()]
