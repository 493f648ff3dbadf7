"""A district's or street's residents, added up from the finer areas inside it only where they are all of its people.

A city's population usually comes per community (its census), none on its districts and streets: their residents
are then their communities' sum, in density and coverage alike. The finer areas of an area are its communities and,
for a district, its streets that have no community (their people are in no community). Where one of them has no
population, that sum is only part of the area's people: a rate over it would set all the area's facilities
against some of its residents. The same where they cover only part of the area (a city drawing its communities
one street at a time: Yantai's 6 communities cover 13 of 芝罘区's 198 km²): they must cover at least
:data:`COVERS` of its area. Otherwise the area's own figure is used instead, None when it has none.

An area none of whose finer areas has a population (a city of districts with census figures and no communities
below them: Yantai's 11 districts, Hong Kong's 18) is its own finest level with population: its residents are
its own figure, spread like any area's over its residential land, else over its area (:func:`covered_share`).
Where only some of its finer areas have a figure, its covered residents stay unknown (a mix: the others' share
would speak for all, and the area's own figure counts the people of the communities too).
"""

from __future__ import annotations

import math
from typing import NamedTuple

#: The levels whose residents are added up from finer areas.
ADDED_UP = ("district", "street")

#: The share of an area's area its finer areas must cover (their areas added up) for their residents to be its
#: residents. Outlines from different offices never match exactly: Taipei's villages cover 98.2 % of 大同區 and
#: 99.9–100.9 % of the others; a city that has drawn some communities covers far less (Yantai: 7 %).
COVERS = 0.95

_QUERY = """
SELECT a.code, CASE WHEN f.n > 0 AND f.known = f.n AND f.share >= %(covers)s THEN f.people ELSE a.population END,
       f.n > 0 AND f.known = f.n AND f.streets = 0 AND f.share >= %(covers)s, f.n > 0 AND f.known = f.n, f.share,
       f.known
FROM admin_areas a CROSS JOIN LATERAL (
    SELECT count(*) AS n, count(l.population) AS known, sum(l.population)::bigint AS people,
           count(*) FILTER (WHERE l.level = 'street') AS streets,
           sum(ST_Area(l.geom::geography)) / nullif(ST_Area(a.geom::geography), 0) AS share
    FROM admin_areas l
    WHERE l.code LIKE a.code || '%%' AND (l.level = 'community' OR (
          a.level = 'district' AND l.level = 'street' AND NOT EXISTS (
              SELECT 1 FROM admin_areas c WHERE c.level = 'community' AND c.code LIKE l.code || '%%')))
) f
WHERE a.level = %(level)s AND a.code LIKE %(prefix)s
"""


class Residents(NamedTuple):
    """An area's residents (None when unknown), whether all of them live in communities with a population (so
    that their covered share can be added up from the communities'), and the share of its area its finer areas
    cover where they all have a population but cover too little of it to stand for it (else None)."""

    people: int | None
    whole: bool
    partly_drawn: float | None = None
    #: No finer area has a population: the area's own figure is its residents, spread over the area itself.
    own: bool = False
    #: Some finer areas have a population, others not: its covered residents are unknown.
    mixed: bool = False


def residents(conn, by: str, code_prefix: str | None = None) -> dict[str, Residents]:
    """Per area of level ``by`` (district or street) whose code starts with ``code_prefix``: its
    :class:`Residents`.

    The residents are the sum over the area's finer areas (its communities, and a district's streets without
    any) when every one of them has a population and together they cover :data:`COVERS` of its area, else the
    area's own figure.
    """
    with conn.cursor() as cur:
        cur.execute(_QUERY, {"level": by, "prefix": (code_prefix or "") + "%", "covers": COVERS})
        return {code: Residents(None if people is None else int(people), whole,
                                share if known and share is not None and share < COVERS else None,
                                own=counted == 0, mixed=counted > 0 and not known)
                for code, people, whole, known, share, counted in cur.fetchall()}


def covered_share(area: float, cov: float, res_area: float | None, res_cov: float) -> float:
    """Covered share of an area's people: of its residential land where it has any, else of its area (``res_area``
    None or NaN: none). The one rule coverage, the what-if, siting and a plan's compare spread people by."""
    if res_area is not None and not math.isnan(res_area) and res_area:
        return res_cov / res_area
    return cov / area if area else 0.0


def partly_drawn(conn, by: str, added_up: dict[str, Residents] | None) -> list[dict]:
    """The areas of ``added_up`` whose communities all have a population but cover too little of them: code,
    names and the covered share in %, in code order (said beside an answer whose residents they leave unknown)."""
    codes = sorted(code for code, r in (added_up or {}).items() if r.partly_drawn is not None)
    if not codes:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en FROM admin_areas WHERE level = %s AND code = ANY(%s) ORDER BY code",
                    (by, codes))
        return [{"code": code, "name": name, "name_en": name_en, "drawn_pct": 100.0 * added_up[code].partly_drawn}
                for code, name, name_en in cur.fetchall()]


# The city's area: its coarsest admin level's areas added up (districts; streets or communities in a city without).
_CITY_M2 = """
SELECT sum(ST_Area(geom::geography)) FROM admin_areas WHERE level = (
    SELECT level FROM admin_areas ORDER BY array_position(ARRAY['district', 'street', 'community'], level::text)
    LIMIT 1)
"""


def city_m2(conn) -> float | None:
    """The city's area in m² (its coarsest admin level's areas added up); None in a city without admin areas."""
    with conn.cursor() as cur:
        cur.execute(_CITY_M2)
        city = cur.fetchone()[0]
    return float(city) if city else None


def mixed(conn, by: str, added_up: dict[str, Residents] | None) -> list[dict]:
    """The areas of ``added_up`` only some of whose communities have a population (code and names, in code order):
    their covered residents are unknown, said beside the answer."""
    codes = sorted(code for code, r in (added_up or {}).items() if r.mixed)
    if not codes:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en FROM admin_areas WHERE level = %s AND code = ANY(%s) ORDER BY code",
                    (by, codes))
        return [{"code": code, "name": name, "name_en": name_en} for code, name, name_en in cur.fetchall()]


def unknown_residents(conn, by: str, added_up: dict[str, Residents] | None) -> dict[str, list[dict]]:
    """``partly_drawn`` and ``mixed`` (:func:`partly_drawn`, :func:`mixed`): the areas whose residents an answer
    leaves unknown, and why."""
    return {"partly_drawn": partly_drawn(conn, by, added_up), "mixed": mixed(conn, by, added_up)}
