"""A district's or street's residents, added up from the finer areas inside it only where all of them are known.

A city's population usually comes per community (its census), none on its districts and streets: their residents
are then their communities' sum, in density and coverage alike. The finer areas of an area are its communities and,
for a district, its streets that have no community (their people are in no community). Where one of them has no
population, that sum is only part of the area's people: a rate over it would set all the area's facilities
against some of its residents. The area's own figure is used instead, None when it has none.
"""

from __future__ import annotations

#: The levels whose residents are added up from finer areas.
ADDED_UP = ("district", "street")

_QUERY = """
SELECT a.code, CASE WHEN f.n > 0 AND f.known = f.n THEN f.people ELSE a.population END,
       f.n > 0 AND f.known = f.n AND f.streets = 0
FROM admin_areas a CROSS JOIN LATERAL (
    SELECT count(*) AS n, count(l.population) AS known, sum(l.population)::bigint AS people,
           count(*) FILTER (WHERE l.level = 'street') AS streets
    FROM admin_areas l
    WHERE l.code LIKE a.code || '%%' AND (l.level = 'community' OR (
          a.level = 'district' AND l.level = 'street' AND NOT EXISTS (
              SELECT 1 FROM admin_areas c WHERE c.level = 'community' AND c.code LIKE l.code || '%%')))
) f
WHERE a.level = %(level)s AND a.code LIKE %(prefix)s
"""


def residents(conn, by: str, code_prefix: str | None = None) -> dict[str, tuple[int | None, bool]]:
    """Per area of level ``by`` (district or street) whose code starts with ``code_prefix``: its residents (None
    when unknown) and whether all of them live in communities with a population (so that their covered share can
    be added up from the communities').

    The residents are the sum over the area's finer areas (its communities, and a district's streets without
    any) when every one of them has a population, else the area's own figure.
    """
    with conn.cursor() as cur:
        cur.execute(_QUERY, {"level": by, "prefix": (code_prefix or "") + "%"})
        return {code: (None if people is None else int(people), whole) for code, people, whole in cur.fetchall()}
