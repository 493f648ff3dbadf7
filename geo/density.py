"""Facility density per area, judged against the planning bands of the standards table.

Where an area has land use, the expected number of toilets is the sum over
land-use classes of (class area in km² × the class band, STANDARDS §1: R 3–5,
A/B/S 4–11, G 5–6, M/W 1–2 per km²); classes without a band add nothing.
Without land use, the whole-city band (3–5 per km²) times the area is used.
The count is then below, within or above that range.

Without land use, an area larger than :data:`WHOLE_AREA_MAX_KM2` is not
judged (status ``unjudged``): at that size it is a county or a district with
farmland, hills or country parks, and the built-up band over all of its km²
asks for thousands of toilets it was never meant to have (Yantai's 福山区,
972 km²: 2,915–4,859). Smaller areas (streets, urban districts) are judged
over their whole area, with the basis saying so.

A city with no facility of the kind in its data at all (none imported yet) gets
no verdict either (status ``no_data``): its zeros are missing data, and
"below the band" in every row of a workbook would read as a finding.
"""

from __future__ import annotations

from psycopg2 import sql

from data.catalog import metric_srid as city_srid
from data.params import parse_area_code
from data.standards import Rule, load
from data.vocab import FacilityKind
from geo.coverage import LEVELS, check_level, facility_kind, has_facilities, kind_filter, not_in_service
from geo.metric import metric_polygon
from geo.residents import ADDED_UP, partly_drawn, residents

#: Rules whose metric is density_land_use_<classes>; the city band is density_city.
DENSITY_KIND = "toilets"

#: Without land use, areas larger than this (km²) are not judged: the whole area cannot stand for built-up land.
#: 100 km² keeps a city's streets and compact urban districts (Hong Kong's urban districts are 7–85 km²) and leaves
#: out counties and rural districts (Yantai's smallest, 芝罘区, is 198 km²; HK's New Territories districts 136–175).
WHOLE_AREA_MAX_KM2 = 100.0

Bands = tuple[list[tuple[list[str], Rule]], Rule | None]


def _bands(rules: dict[str, Rule]) -> Bands:
    by_class, city = [], None
    for rule in rules.values():
        if rule.kind != DENSITY_KIND:
            continue
        if rule.metric.startswith("density_land_use_"):
            by_class.append((rule.metric.removeprefix("density_land_use_").split("|"), rule))
        elif rule.metric == "density_city":
            city = rule
    return by_class, city


def density(conn, kind: str = "toilets", by: str = "street", *, code_prefix: str | None = None) -> dict:
    """Facilities per km² and per 10,000 residents for each area, with a verdict where a band exists.

    Parameters
    ----------
    conn : psycopg2 connection
    kind : str
        One of :data:`data.vocab.FACILITY_KINDS`; only toilets have density bands.
    by : str
        district, street, community, grid or urban_village.
    code_prefix : str, optional
        Only areas whose code starts with this.

    Returns
    -------
    dict
        ``rows`` (code, name, count, area_km2, per_km2, population,
        per_10k_residents, expected_min, expected_max, status
        below/within/above, ``unjudged`` (no land use and larger than
        :data:`WHOLE_AREA_MAX_KM2`: no expected range) or None (no band),
        basis land_use or city; ``no_data`` where the city has no facility of the kind at all),
        ``rules`` applied and ``summary``. A district's or street's population is
        :func:`geo.residents.residents`: None, and so no rate, where only some
        of its communities have one, or they cover only part of it
        (``partly_drawn``), and it has none of its own.
    """
    spec = facility_kind(kind)
    code_prefix = parse_area_code(code_prefix, "street")
    check_level(by)
    fetched = _measure(conn, spec, by, code_prefix)
    # A district's or street's residents as coverage counts them, so both analyses give an area the same.
    added_up = residents(conn, by, code_prefix) if by in ADDED_UP else {}
    bands = _bands(load()) if kind == DENSITY_KIND else ([], None)
    used: dict[str, Rule] = {}
    rows = []
    counts = {"below": 0, "within": 0, "above": 0, "unjudged": 0, "no_data": 0}
    present, idle = has_facilities(conn, spec), not_in_service(conn, spec)
    missing = not present and not idle  # none at all, not none in service (whose zeros are a real finding)
    for code, name, name_en, pop, area_m2, n, land_m2, geom in fetched:
        pop = added_up[code].people if code in added_up else pop
        km2 = area_m2 / 1e6
        lo, hi, basis = _expected(km2, land_m2, bands, used)
        status = None
        if basis == "city" and km2 > WHOLE_AREA_MAX_KM2:  # its range would be the band over hills and fields
            lo = hi = None
            status = "unjudged"
        elif lo is not None:
            status = "no_data" if missing else "below" if n < lo else ("above" if n > hi else "within")
        if status:
            counts[status] += 1
        rows.append({"code": code, "name": name, "name_en": name_en, "count": int(n), "area_km2": km2,
                     "per_km2": n / km2 if km2 else None, "population": pop,
                     "per_10k_residents": (n / pop * 10_000) if pop else None,
                     "expected_min": lo, "expected_max": hi, "status": status, "basis": basis, "geometry": geom})
    return {"kind": kind, "by": by, "rows": rows, "rules": list(used.values()), "facilities": present,
            "not_in_service": idle, "summary": {"areas": len(rows), **counts, **_together(rows)},
            "partly_drawn": partly_drawn(conn, by, added_up)}


def _together(rows: list[dict]) -> dict:
    """The areas' figures added up: count, km², per km²; residents and per 10,000 over the areas whose residents are
    known only (their facilities over their residents; None when no area's are), and how many areas' are not."""
    count, km2 = sum(r["count"] for r in rows), sum(r["area_km2"] for r in rows)
    known = [r for r in rows if r["population"] is not None]
    people = sum(r["population"] for r in known)
    return {"count": count, "area_km2": km2, "per_km2": count / km2 if km2 else None,
            "population": people or None, "without_population": len(rows) - len(known),
            "per_10k_residents": sum(r["count"] for r in known) / people * 10_000 if people else None}


def _measure(conn, spec: FacilityKind, by: str, code_prefix: str | None) -> list[tuple]:
    """Per area: code, names, population, area (m²), facilities inside, land-use class areas (m²), GeoJSON."""
    prefix = "AND code LIKE %(prefix)s" if code_prefix else ""
    query = sql.SQL(
        """
        WITH areas AS (
            SELECT code, name, name_en, population, geom, {metric_geom} AS g
            FROM ({level}) a(code, name, name_en, population, geom) WHERE true {prefix}
        )
        SELECT a.code, a.name, a.name_en, a.population, ST_Area(a.g),
               (SELECT count(*) FROM {table} f WHERE f.geom && a.geom AND ST_Intersects(f.geom, a.geom) AND {where}),
               (SELECT coalesce(jsonb_object_agg(class, m2), '{{}}'::jsonb) FROM (
                    SELECT l.class, sum(ST_Area(ST_Intersection(a.g, {metric_land}))) AS m2
                    FROM land_use l WHERE l.geom && a.geom AND ST_Intersects(l.geom, a.geom) GROUP BY l.class) lu),
               ST_AsGeoJSON(a.geom, 6)
        FROM areas a ORDER BY a.code
        """
    ).format(level=sql.SQL(LEVELS[by]), table=sql.Identifier(spec.table), where=kind_filter(spec),
             metric_geom=sql.SQL(metric_polygon("geom")), metric_land=sql.SQL(metric_polygon("l.geom")),
             prefix=sql.SQL(prefix))
    with conn.cursor() as cur:
        cur.execute(query, {"srid": city_srid(conn), "prefix": (code_prefix or "") + "%"})
        return cur.fetchall()


def _expected(km2: float, land_m2: dict, bands: Bands, used: dict[str, Rule]):
    """(lowest, highest expected count, basis) of one area; the rules applied are added to ``used``.

    The land-use bands where the area has land use (their classes' areas in
    km² times each band), else the city band times the whole area.
    """
    by_class, city_rule = bands
    if by_class and land_m2:
        lo = hi = 0.0
        for classes, rule in by_class:
            class_km2 = sum(land_m2.get(c, 0.0) for c in classes) / 1e6
            if class_km2 > 0:
                used[rule.id] = rule
                lo += class_km2 * rule.number()
                hi += class_km2 * (rule.upper() or rule.number())
        return lo, hi, "land_use"
    if city_rule is not None:
        used[city_rule.id] = city_rule
        return km2 * city_rule.number(), km2 * (city_rule.upper() or city_rule.number()), "city"
    return None, None, None
