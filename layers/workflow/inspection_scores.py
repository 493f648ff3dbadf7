"""Scores of an inspection round (谁丢分谁负责): per street and per responsible unit (no HTTP here).

Every street of the round and every unit holding a grid in them starts from
the base score (``HYGIENE_MAP_INSPECTION_SCORE_BASE``) and loses each of its
findings' deductions, whatever the finding's status: a rectified problem was
still found. A finding's points are lost by the unit stored with it — the
unit that held the grid when it was observed — even after the grid changes
hands. Ranks: highest score first, equal scores share a rank (1, 1, 3).
A score may go below zero; the rank still tells the worst apart.
"""

from __future__ import annotations

from data.settings import InspectionSettings
from layers.workflow.inspections import get_round

_STREETS = """
    WITH s AS (SELECT unnest(streets) AS code FROM inspection_rounds WHERE id = %(id)s),
         t AS (SELECT s.code, count(f.id) AS findings, coalesce(sum(f.deduction), 0) AS lost
               FROM s LEFT JOIN inspection_findings f ON f.round_id = %(id)s AND f.street_code = s.code
               GROUP BY s.code)
    SELECT t.code, a.name, a.name_en, t.findings, t.lost, %(base)s - t.lost,
           rank() OVER (ORDER BY t.lost)
    FROM t LEFT JOIN admin_areas a ON a.level = 'street' AND a.code = t.code
    ORDER BY 7, 1"""

# Units: those charged with a finding of the round, and those holding a grid of its streets now
# (a unit nobody found fault with keeps the base score). A finding in no grid has no unit (NULL).
_UNITS = """
    WITH f AS (SELECT responsible_unit AS unit, deduction FROM inspection_findings WHERE round_id = %(id)s),
         u AS (SELECT DISTINCT g.responsible_unit AS unit FROM grids g JOIN inspection_rounds r
                 ON r.id = %(id)s AND g.street_code = ANY (r.streets) WHERE g.responsible_unit IS NOT NULL
               UNION SELECT unit FROM f),
         t AS (SELECT u.unit, count(f.deduction) AS findings, coalesce(sum(f.deduction), 0) AS lost
               FROM u LEFT JOIN f ON f.unit IS NOT DISTINCT FROM u.unit GROUP BY u.unit)
    SELECT unit, findings, lost, %(base)s - lost, rank() OVER (ORDER BY lost) FROM t
    ORDER BY 5, 1 NULLS LAST"""


def scores(conn, round_id: int, settings: InspectionSettings | None = None) -> dict:
    """``{"round", "base", "streets": [...], "units": [...]}``, each entry with findings, deductions, score, rank."""
    settings = settings or InspectionSettings.from_env()
    the_round = get_round(conn, round_id)
    params = {"id": round_id, "base": settings.score_base}
    with conn.cursor() as cur:
        cur.execute(_STREETS, params)
        streets = [{"street_code": r[0], "name": r[1], "name_en": r[2], "findings": r[3], "deductions": float(r[4]),
                    "score": float(r[5]), "rank": r[6]} for r in cur.fetchall()]
        cur.execute(_UNITS, params)
        units = [{"unit": r[0], "findings": r[1], "deductions": float(r[2]), "score": float(r[3]), "rank": r[4]}
                 for r in cur.fetchall()]
    return {"round": the_round, "base": settings.score_base, "streets": streets, "units": units}
