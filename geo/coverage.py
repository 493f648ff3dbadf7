"""Coverage of facilities: covered area and population per area, and the gaps.

A facility covers the disc of its service radius (straight line). The disc
is drawn by PostGIS as a regular polygon of n = ``4 * QUAD_SEGS`` = 64
vertices whose circumradius is enlarged by the factor that makes its area
equal to the circle's (k = √(2π / (n sin(2π/n)))): its area equals πr²
exactly and its boundary stays within ``RADIAL_ERROR`` (8.0e-4 · r, 24 cm at
300 m) of the true circle on either side, so a covered share differs from
exact circles by far less than 0.1 % (tests check this against shapely with
2,048-gons). A plain inscribed 32-gon would lose 0.6 % of each disc.

Population is spread over residential land (land use class R) where the
area has any, else over the whole area; covered population is the
population on the covered part. Districts and streets add up their
communities' covered population (the finest level with population), so
every level gives the same city total, as long as all their people are in
communities with a population (:mod:`geo.residents`): else part of the
people would speak for all, and their covered population is unknown. One
with no community with a population below it (a city of districts with
census figures) spreads its own population, as the what-if does.

Algorithm (straight line): :mod:`geo.coverage_fast` in shapely — each
area's residential land cut once and kept in the database until an area or
the land use changes (migration 0760, :mod:`geo.kept`), each facility's disc
drawn once, the discs touching a 2 km block of areas unioned once and cut by
each area of the block; a store (``store=``) may keep both between requests
so that a changed facility re-measures only the areas its disc touches. ``engine="postgis"`` computes the same answer in the database
(each disc once, their union cut into small pieces with ST_Subdivide, each
area intersecting only the pieces near it): the reference the shapely engine
is tested against, and the engine of walking coverage.
"""

from __future__ import annotations

import math

from psycopg2 import sql

from data.catalog import metric_srid as city_srid
from data.errors import InvalidParameter
from data.params import parse_area_code
from data.standards import Rule, load
from data.vocab import FACILITY_KINDS, FacilityKind, facility_key, facility_kinds_help
from geo import coverage_fast as fast
from geo import coverage_kept
from geo.metric import metric_polygon
from geo.residents import covered_share, residents, unknown_residents

QUAD_SEGS = 16
SIDES = 4 * QUAD_SEGS
#: Enlargement of the polygon's circumradius so that its area is πr².
AREA_FACTOR = math.sqrt(2 * math.pi / (SIDES * math.sin(2 * math.pi / SIDES)))
#: Largest distance of the polygon's boundary from the true circle, as a share of r.
RADIAL_ERROR = max(AREA_FACTOR - 1, 1 - AREA_FACTOR * math.cos(math.pi / SIDES))
#: Smallest and largest service radius accepted (metres): below a metre the buffers' arithmetic runs
#: into denormal numbers (GEOS answers NaN), and no facility serves less.
MIN_RADIUS_M = 1.0
MAX_RADIUS_M = 10_000.0
#: A district's or street's residents (geo.residents) and per community (code, population, covered share).
AddedUp = tuple[dict[str, tuple[int | None, bool]], list[tuple[str, int, float]]]
#: How distance is measured: as the crow flies, or walking along the roads (geo.walking).
METHODS = ("straight", "walk")

#: Area levels: (SQL giving code, name, name_en, population, geom).
LEVELS = {
    "district": "SELECT code, name, name_en, population, geom FROM admin_areas WHERE level = 'district'",
    "street": "SELECT code, name, name_en, population, geom FROM admin_areas WHERE level = 'street'",
    "community": "SELECT code, name, name_en, population, geom FROM admin_areas WHERE level = 'community'",
    "grid": "SELECT code, coalesce(name, code), name, NULL::integer, geom FROM grids",
    "urban_village": "SELECT coalesce(source_id, id::text), name, NULL, population, geom FROM urban_villages",
}


def facility_kind(kind: str) -> FacilityKind:
    """The facility kind ``kind`` names: a key of :data:`data.vocab.FACILITY_KINDS`, its layer or its Chinese name."""
    key = facility_key(kind)
    if key is None:
        raise InvalidParameter("kind", f"must be one of {facility_kinds_help()}, not {kind!r}",
                               f"须为 {facility_kinds_help('zh')}，不能是 {kind!r}")
    return FACILITY_KINDS[key]


def kind_filter(kind: FacilityKind, *, serving: bool = True) -> sql.Composable:
    """The SQL condition that selects the kind's rows of its table: those in service, for one closed or under
    construction reaches no one (every analysis and the what-if planner count facilities through this); with
    ``serving=False`` those not in service."""
    state = sql.SQL("{}" if serving else "NOT {}").format(sql.Identifier("in_service"))
    if kind.category is None:
        return state
    return sql.SQL("{} AND {} = {}").format(state, sql.Identifier("kind"), sql.Literal(kind.category))


def check_level(by: str) -> str:
    """``by`` when it is an area level of :data:`LEVELS`."""
    if by not in LEVELS:
        raise InvalidParameter("by", f"must be one of {', '.join(LEVELS)}, not {by!r}", f"须为 {'、'.join(LEVELS)} 之一，不能是 {by!r}")
    return by


def check_method(method: str) -> str:
    """``method`` when it is one of :data:`METHODS`."""
    if method not in METHODS:
        raise InvalidParameter("method", f"must be straight or walk, not {method!r}", f"须为 straight 或 walk，不能是 {method!r}")
    return method


def radius_rule(rules: dict[str, Rule], kind: str, radius_m: float) -> Rule | None:
    """The service-radius rule of ``kind`` whose value is ``radius_m`` (garbage points at 70 m: the planning
    guidance; toilets at 500 m: the national rankings' circle), or None for a radius of no rule."""
    for rule in rules.values():
        if rule.kind == kind and (rule.metric or "").startswith("service_radius") and rule.unit == "m" \
                and abs(rule.number() - radius_m) <= 1e-9:
            return rule
    return None


def resolve(kind: str, radius_m: float | None, rule_id: str | None = None) -> tuple[FacilityKind, float, Rule | None]:
    """The kind, the radius to use and the rule it comes from.

    Parameters
    ----------
    kind : str
        A key of :data:`data.vocab.FACILITY_KINDS`.
    radius_m : float, optional
        An explicit radius; when it differs from the rule's, no rule is named.
    rule_id : str, optional
        A rule of the standards table to take the radius from instead of the kind's default.
    """
    spec = facility_kind(kind)
    rules = load()
    rule = None
    if rule_id:
        if rule_id not in rules:
            raise InvalidParameter("rule", f"no standard with id {rule_id!r}", f"没有编号为 {rule_id!r} 的标准")
        rule = rules[rule_id]
    elif spec.rule_id:
        rule = rules[spec.rule_id]
    if radius_m is None:
        if rule is None:
            raise InvalidParameter("radius", f"no standard gives a service radius for {kind}: give --radius / radius=",
                                   f"没有标准规定{spec.name_zh}的服务半径：请给出 --radius / radius=")
        radius_m = rule.number()
    elif rule is None or abs(rule.number() - radius_m) > 1e-9:
        rule = radius_rule(rules, spec.key, radius_m)  # another radius of the kind's standards, else the user's own
    if not (MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M):
        raise InvalidParameter("radius", f"must be between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g} metres, "
                                         f"not {radius_m:g}",
                               f"须在 {MIN_RADIUS_M:g} 至 {MAX_RADIUS_M:g} 米之间，不能是 {radius_m:g}")
    return spec, float(radius_m), rule


_DISCS = """
            SELECT CASE WHEN GeometryType(f.geom) = 'POINT'
                        THEN ST_Buffer(ST_Transform(f.geom, %(srid)s), %(radius)s * %(factor)s, 'quad_segs={quad}')
                        ELSE ST_Buffer(ST_Transform(f.geom, %(srid)s), %(radius)s, 'quad_segs={quad}') END AS g
            FROM {table} f
            WHERE {where} AND f.geom && (SELECT ST_Expand(ST_Extent(g4)::geometry, %(margin_deg)s) FROM areas)"""
# Walking: the service area built by geo.walking in this session replaces the discs.
_WALK_DISCS = "SELECT g FROM walk_cover WHERE g IS NOT NULL"


def _query(level_sql: str, spec: FacilityKind, gaps: bool, code_prefix: str | None, walk: bool = False,
           population: bool = True) -> sql.Composed:
    prefix = "AND code LIKE %(prefix)s" if code_prefix else ""
    gap_cte = gap_join = ""
    gap_col = "NULL"
    if gaps:
        gap_cte = """, gaps AS (
            SELECT a.code, ST_AsGeoJSON(ST_Transform(
                       coalesce(ST_Difference(a.g, u.g), a.g), 4326), 6) AS geojson
            FROM areas a LEFT JOIN (SELECT code, ST_Union(g) AS g FROM area_cov GROUP BY code) u USING (code)
        )"""
        gap_join = "LEFT JOIN gaps USING (code)"
        gap_col = "gaps.geojson"
    return sql.SQL(
        """
        WITH areas AS MATERIALIZED (
            SELECT code, name, name_en, population, geom AS g4, {metric_geom} AS g
            FROM ({level}) a(code, name, name_en, population, geom) WHERE true {prefix}
        ),
        -- Each facility's disc once (index pre-filter on the areas' extent), their union once,
        -- cut into small pieces so that each area intersects only the pieces near it.
        discs AS ({discs}),
        cover AS (SELECT ST_Subdivide(ST_Union(g), 256) AS g FROM discs),
        area_cov AS MATERIALIZED (
            SELECT a.code, ST_Intersection(a.g, c.g) AS g FROM areas a JOIN cover c ON ST_Intersects(a.g, c.g)
        ),
        -- Residential land per area: land-use polygons form a partition, so their parts add up.
        res AS MATERIALIZED (
            SELECT a.code, ST_Intersection(a.g, {metric_land}) AS g
            FROM areas a JOIN land_use l ON l.class = 'R' AND l.geom && a.g4 AND ST_Intersects(l.geom, a.g4)
            WHERE {with_population} AND a.population > 0
        ),
        res_cov AS (
            SELECT r.code, sum(ST_Area(ST_Intersection(r.g, c.g))) AS m2
            FROM res r JOIN area_cov c ON c.code = r.code AND ST_Intersects(r.g, c.g) GROUP BY r.code
        ),
        cov_sum AS (SELECT code, sum(ST_Area(g)) AS m2 FROM area_cov GROUP BY code),
        res_sum AS (SELECT code, sum(ST_Area(g)) AS m2 FROM res GROUP BY code)
        {gap_cte}
        SELECT a.code, a.name, a.name_en, a.population, ST_Area(a.g), coalesce(c.m2, 0),
               r.m2, coalesce(rc.m2, 0), ST_AsGeoJSON(a.g4, 6), {gap_col}
        FROM areas a LEFT JOIN cov_sum c USING (code) LEFT JOIN res_sum r USING (code)
             LEFT JOIN res_cov rc USING (code) {gap_join}
        ORDER BY a.code
        """
    ).format(level=sql.SQL(level_sql), prefix=sql.SQL(prefix), gap_cte=sql.SQL(gap_cte),
             metric_geom=sql.SQL(metric_polygon("geom")), metric_land=sql.SQL(metric_polygon("l.geom")),
             gap_join=sql.SQL(gap_join), gap_col=sql.SQL(gap_col),
             with_population=sql.SQL("true" if population else "false"),
             discs=sql.SQL(_WALK_DISCS if walk else _DISCS).format(table=sql.Identifier(spec.table),
                                                                    where=kind_filter(spec),
                                                                    quad=sql.SQL(str(QUAD_SEGS))))


def coverage(conn, kind: str = "toilets", radius_m: float | None = None, by: str = "community", *,
             gaps: bool = False, rule_id: str | None = None, code_prefix: str | None = None,
             method: str = "straight", population: bool = True, engine: str = "shapely", store=None) -> dict:
    """Covered area and population per area for one facility kind.

    Parameters
    ----------
    conn : psycopg2 connection
    kind : str
        One of :data:`data.vocab.FACILITY_KINDS`.
    radius_m : float, optional
        Service radius in metres; by default the kind's rule in the standards table.
    by : str
        Area level: district, street, community, grid or urban_village.
    gaps : bool
        Also return each area's gap polygon (uncovered part) as GeoJSON.
    rule_id : str, optional
        Take the radius from this standards rule.
    code_prefix : str, optional
        Only areas whose code starts with this (e.g. a street code).
    method : str
        ``straight`` (as the crow flies) or ``walk`` (along the roads, see
        :mod:`geo.walking`; straight when there are no roads, and the result says so).
    population : bool
        Also compute covered population (the default); False skips the
        residential-land overlay and gives ``covered_pop_pct`` None.
    engine : str
        ``shapely`` (default) or ``postgis``: the same answer from the database, the reference (walking uses it).
    store : optional
        Where the straight-line state is kept (a :class:`layers.analysis.coverage_state.MaintainedState`).

    Returns
    -------
    dict
        ``rows``: one dict per area (code, name, name_en, area_km2, covered_area_pct, population, covered_pop_pct,
        population_spread, geometry, gaps); ``rule``: the applied rule or None; ``radius_m``, ``method``,
        ``summary``, ``partly_drawn`` and ``mixed`` (:mod:`geo.residents`).
    """
    check_level(by)
    check_method(method)
    code_prefix = parse_area_code(code_prefix, "street")
    spec, radius, rule = resolve(kind, radius_m, rule_id)
    srid = city_srid(conn)
    walk, used, nodes = _walk_cover(conn, spec, srid, radius) if method == "walk" else (False, "straight-line", None)
    params = {"srid": srid, "radius": radius, "factor": AREA_FACTOR,
              # Generous: a degree of longitude is ≥ 111 km·cos(lat) and cities lie below 55°N.
              "margin_deg": radius / 111_000.0 / math.cos(math.radians(60)),
              "prefix": (code_prefix or "") + "%"}
    if walk or engine == "postgis":
        fetched, added_up = _measure(conn, spec, by, params, gaps=gaps, code_prefix=code_prefix, walk=walk,
                                     population=population)
    else:
        fetched, added_up = _measure_fast(conn, store or fast.FreshState(), spec, by, srid, radius, gaps=gaps,
                                          code_prefix=code_prefix, population=population)
    rows, summary = _area_rows(fetched, added_up, population)
    return {"kind": spec.key, "by": by, "radius_m": radius, "rule": rule, "method": used,
            "method_key": "walk" if walk else "straight", "walk_nodes": nodes,
            "facilities": has_facilities(conn, spec), "not_in_service": not_in_service(conn, spec),
            "circle": f"equal-area {SIDES}-gon, boundary within {RADIAL_ERROR * 100:.3f} % of r of the true circle",
            "rows": rows, "summary": summary, **unknown_residents(conn, by, added_up and added_up[0])}


def has_facilities(conn, spec: FacilityKind) -> bool:
    """Whether the city has any facility of the kind: without one every area is a gap, which says nothing."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(sql.Identifier(spec.table),
                                                                               kind_filter(spec)))
        return cur.fetchone()[0]


def not_in_service(conn, spec: FacilityKind) -> int:
    """How many facilities of the kind are not in service: on the map but left out of the answer, which says so."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(sql.Identifier(spec.table),
                                                                     kind_filter(spec, serving=False)))
        return cur.fetchone()[0]


def _walk_cover(conn, spec: FacilityKind, srid: int, radius: float) -> tuple[bool, str, int | None]:
    """Build the walking service area (True) or say why the straight line is used instead (False); the road
    nodes reached (None without roads)."""
    from geo import walking

    if not walking.has_roads(conn):
        return False, "straight-line (walking asked, but there are no roads)", None
    reached = walking.build_walk_cover(conn, sql.Identifier(spec.table), kind_filter(spec), srid, radius)
    return True, (f"walking along roads (pgRouting pgr_drivingDistance, {reached:,} road nodes reached, "
                  f"{walking.WALK_ACCESS_M:g} m either side of a reached road)"), reached


def _measure(conn, spec: FacilityKind, by: str, params: dict, *, gaps: bool, code_prefix: str | None,
             walk: bool, population: bool) -> tuple[list[tuple], AddedUp | None]:
    """The areas' measures from PostGIS, and for districts and streets their residents and per community (code,
    population, covered share): their covered population is their communities' where they all have one (the
    finest level with population, so every level gives the same city total)."""
    people = residents(conn, by, code_prefix) if population and by in ("district", "street") else None
    with conn.cursor() as cur:
        cur.execute(_query(LEVELS[by], spec, gaps, code_prefix, walk=walk,
                           population=population and by != "grid" and _own_land(people)), params)
        fetched = cur.fetchall()
        if people is None:
            return fetched, None
        cur.execute(_query(LEVELS["community"], spec, False, code_prefix, walk=walk), params)
        shares = [(code, int(pop), covered_share(area, cov, res_area, res_cov))
                  for code, _n, _e, pop, area, cov, res_area, res_cov, _g, _gap in cur.fetchall() if pop]
    return fetched, (people, shares)


def _own_land(people: dict | None) -> bool:
    """Whether the areas' own residential land is needed: some spread their own figure (:func:`_area_rows`)."""
    return people is None or any(r.own and r.people for r in people.values())


def state(conn, store, spec: FacilityKind, by: str, srid: int, radius: float, code_prefix: str | None,
          population: bool) -> tuple[fast.Areas, fast.Cover]:
    """The areas of ``by`` and the kind's cover at ``radius``, from ``store`` (kept there or made afresh)."""
    akey = (by, srid, code_prefix, population)
    areas = store.areas(conn, akey, lambda: fast.load_areas(conn, by, LEVELS[by], srid, code_prefix, population))

    def build(wkb: dict) -> fast.Cover:  # nothing kept in this process: the database may keep it
        if code_prefix is None and spec.rule_id and load()[spec.rule_id].number() == radius:
            part = f"coverage cover {by} {srid} {spec.key} {radius!r} {'people' if population else 'area'}"
            return coverage_kept.cover(conn, part, fast.area_tables(by), spec.table, areas, wkb, radius,
                                       AREA_FACTOR, srid)
        return fast.build_cover(areas, wkb, radius, AREA_FACTOR)

    return areas, store.cover(
        conn, akey + (spec.key, radius), areas, spec.table,
        lambda: fast.facility_wkb(conn, sql.Identifier(spec.table), kind_filter(spec), srid), build)


def _measure_fast(conn, store, spec: FacilityKind, by: str, srid: int, radius: float, *, gaps: bool,
                  code_prefix: str | None, population: bool) -> tuple[list[tuple], AddedUp | None]:
    """:func:`_measure`'s answer from :mod:`geo.coverage_fast` (straight line only)."""
    people = residents(conn, by, code_prefix) if population and by in ("district", "street") else None
    areas, cover = state(conn, store, spec, by, srid, radius, code_prefix,
                         population and by != "grid" and _own_land(people))
    idx = range(len(areas.codes))
    fetched = fast.measures(areas, cover, idx, fast.gaps(conn, srid, areas, cover, idx) if gaps else None)
    if people is None:
        return fetched, None
    areas, cover = state(conn, store, spec, "community", srid, radius, code_prefix, True)
    shares = [(code, int(pop), covered_share(area, cov, res_area, res_cov))
              for code, _n, _e, pop, area, cov, res_area, res_cov, _g, _gap
              in fast.measures(areas, cover, range(len(areas.codes))) if pop]
    return fetched, (people, shares)


def _area_rows(fetched: list[tuple], added_up: AddedUp | None,
               population: bool) -> tuple[list[dict], dict]:
    """One row per area and the summary over them (areas add up; people where their share is known): a district's
    or street's share is its communities' (``added_up``) where all its people are in them."""
    rows = []
    total_area = total_cov = total_pop = total_pop_cov = 0.0
    for code, name, name_en, pop, area, cov, res_area, res_cov, geom, gap in fetched:
        spread = "residential" if res_area else "area"
        share = None
        own = True
        if added_up is not None:
            people, shares = added_up
            pop, whole, _, own = people[code][:4]
            # Where some live in no community with a population, the others' share would speak for all of them.
            inside = [(p, sh) for c, p, sh in shares if c.startswith(code)] if whole else []
            if inside:
                share = sum(p * sh for p, sh in inside) / sum(p for p, _ in inside)
                spread = "communities"
        if own and population and pop is not None and pop > 0:
            share = covered_share(area, cov, res_area, res_cov)  # its own figure: no community below has one
        if share is not None:
            total_pop += pop
            total_pop_cov += pop * share
        total_area += area
        total_cov += cov
        rows.append({"code": code, "name": name, "name_en": name_en, "area_km2": area / 1e6,
                     "covered_area_pct": 100.0 * cov / area if area else None,
                     "population": pop, "covered_pop_pct": 100.0 * share if share is not None else None,
                     "population_spread": spread, "geometry": geom, "gaps": gap})
    summary = {"areas": len(rows), "area_km2": total_area / 1e6,
               "covered_area_pct": 100.0 * total_cov / total_area if total_area else None,
               "population": int(total_pop) if total_pop else None,
               "covered_pop_pct": 100.0 * total_pop_cov / total_pop if total_pop else None}
    return rows, summary
