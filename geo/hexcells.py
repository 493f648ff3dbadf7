"""The hexagons that touch the city, for Gi*: chosen in shapely, drawn by PostGIS.

Which cells of the grid touch the city was one PostGIS statement testing every
hexagon of the outline's bounding box against the union of the districts. On a
real coastline (New York's boroughs: 82,000 vertices in 94 parts) that costs
about half a millisecond per hexagon, and a 100 m grid (some 100,000 hexagons
to test) ran past the statement time-out. Here the outline is read once,
prepared, and tested against all hexagons at once (``shapely.intersects``
vectorised over a prepared geometry: the same DE-9IM predicate, so the same
cells); only the chosen cells go back to PostGIS to be projected to WGS 84 and
written as GeoJSON, exactly as before. Population per hexagon (the share of
each community's residents by area) pairs cells and communities through an
STR-tree instead of testing every community against every cell.
"""

from __future__ import annotations

import numpy as np
import shapely

from data.errors import InvalidParameter, NotFound
from data.settings import AnalysisSettings
from geo import hexgrid
from geo.metric import metric_polygon

#: The city's outline in its metric CRS: the union of the coarsest level of admin areas it has.
CITY_SQL = f"""
    SELECT ST_Union({metric_polygon("geom")})
    FROM admin_areas
    WHERE level = (SELECT level FROM admin_areas
                   ORDER BY array_position(ARRAY['district','street','community'], level) LIMIT 1)
"""
#: The corners of the pointy-top hexagon of circumradius 1 centred on the origin, closed (as the SQL template was).
_CORNERS = np.radians(30.0 + 60.0 * (np.arange(7) % 6))
_UNIT = np.column_stack([np.cos(_CORNERS), np.sin(_CORNERS)])


def city_cells(conn, size: float, srid: int, with_population: bool,
               box: tuple[float, float, float, float] | None = None
               ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """The hexagons of edge ``size`` that touch the city (and whose centre lies in ``box``, when given): (q, r,
    GeoJSON in WGS 84, population or None).

    Ordered by r, then q. They read the places only (admin areas), never complaints.

    Parameters
    ----------
    conn : psycopg2 connection
    size : float
        Edge length (circumradius) in metres.
    srid : int
        The city's metric CRS.
    with_population : bool
        Also each hexagon's residents: every community's population spread over it by area.
    box : (minx, miny, maxx, maxy), optional
        The study area's rectangle in the metric CRS (:func:`geo.hotspot_scale.study_box`); the whole city without it.
    """
    outline = _outline(conn, srid)
    limit = AnalysisSettings.from_env().hotspot_max_cells
    q, r = _candidates(outline.bounds if box is None else _overlap(outline.bounds, box), size, limit)
    if box is not None:  # centres in the box only: the candidates reach a cell beyond it
        x, y = hexgrid.centres(q, r, size)
        within = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        q, r = q[within], r[within]
    hexagons = polygons(q, r, size)
    shapely.prepare(outline)
    inside = shapely.intersects(outline, hexagons)
    if int(inside.sum()) > limit:
        raise InvalidParameter("cell", f"{size:g} m gives {int(inside.sum()):,} cells (limit {limit:,}, "
                               "HYGIENE_MAP_HOTSPOT_MAX_CELLS); use a larger cell",
                               f"{size:g} 米会产生 {int(inside.sum()):,} 个六边形（上限 {limit:,}，"
                               "HYGIENE_MAP_HOTSPOT_MAX_CELLS）；请用更大的六边形")
    order = np.lexsort((q[inside], r[inside]))
    q, r, hexagons = q[inside][order], r[inside][order], hexagons[inside][order]
    pop = population(conn, hexagons, srid) if with_population else None
    return q, r, _geojson(conn, q, r, size, srid), pop


def _outline(conn, srid: int):
    """The city's outline (shapely, metric CRS); NotFound when the city has no admin areas."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT ST_AsBinary(g) FROM ({CITY_SQL}) c(g)", {"srid": srid})
        row = cur.fetchone()
    if row is None or row[0] is None:
        raise NotFound("the city has no admin areas: the hexagon grid needs the city's outline",
                       "本市尚未导入行政区划：热点网格需要城市边界")
    return shapely.from_wkb(bytes(row[0]))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    """The rectangle both rectangles cover (a degenerate one at ``b`` when they do not meet)."""
    lo = (max(a[0], b[0]), max(a[1], b[1]))
    return (*lo, max(min(a[2], b[2]), lo[0]), max(min(a[3], b[3]), lo[1]))


def _candidates(bounds: tuple[float, float, float, float], size: float, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(q, r) of every cell whose centre lies within a cell's reach of the bounding box.

    The axial range is a parallelogram over the box: about half of it lies
    outside, and is dropped before any geometry is built.
    """
    r_min, r_max, q_min, q_max = hexgrid.axial_range(bounds, size)
    if (r_max - r_min + 1) * (q_max - q_min + 1) > 4 * limit:
        raise InvalidParameter("cell", f"{size:g} m gives far more cells than the limit {limit:,} "
                               "(HYGIENE_MAP_HOTSPOT_MAX_CELLS) for this city; use a larger cell",
                               f"对本市而言，{size:g} 米产生的六边形远超上限 {limit:,}（HYGIENE_MAP_HOTSPOT_MAX_CELLS）；"
                               "请用更大的六边形")
    q, r = np.meshgrid(np.arange(q_min, q_max + 1), np.arange(r_min, r_max + 1))
    q, r = q.ravel(), r.ravel()
    x, y = hexgrid.centres(q, r, size)
    minx, miny, maxx, maxy = bounds
    near = (x >= minx - size) & (x <= maxx + size) & (y >= miny - size) & (y <= maxy + size)
    return q[near], r[near]


def polygons(q: np.ndarray, r: np.ndarray, size: float) -> np.ndarray:
    """The hexagons (q, r) of edge ``size`` as shapely polygons in the metric CRS."""
    x, y = hexgrid.centres(q, r, size)
    rings = size * _UNIT[None, :, :] + np.column_stack([x, y])[:, None, :]
    return shapely.polygons(rings)


#: The finest admin level any of whose areas has a population (communities, else streets, else districts).
POPULATION_LEVEL_SQL = """
SELECT level::text FROM admin_areas WHERE population IS NOT NULL
ORDER BY array_position(ARRAY['community', 'street', 'district'], level::text) LIMIT 1"""


def population_level(conn) -> str | None:
    """The admin level whose populations :func:`population` spreads (community, street or district), None if none."""
    with conn.cursor() as cur:
        cur.execute(POPULATION_LEVEL_SQL)
        row = cur.fetchone()
    return row[0] if row else None


def population(conn, hexagons: np.ndarray, srid: int) -> np.ndarray:
    """Residents per hexagon: each area's population times the share of its area the hexagon covers, the areas of
    the finest level that has populations (as coverage: a city of districts with census figures spreads theirs)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT population, ST_AsBinary({metric_polygon('geom')}) FROM admin_areas "
                    f"WHERE level::text = ({POPULATION_LEVEL_SQL}) AND population IS NOT NULL", {"srid": srid})
        rows = cur.fetchall()
    found = np.zeros(len(hexagons))
    if not rows:
        return found
    people = np.array([float(row[0]) for row in rows])
    areas = shapely.from_wkb([bytes(row[1]) for row in rows])
    whole = shapely.area(areas)
    cell, area = shapely.STRtree(hexagons).query(areas, predicate="intersects")[::-1]
    keep = whole[area] > 0  # a community of no area has no residents to spread
    cell, area = cell[keep], area[keep]
    share = shapely.area(shapely.intersection(hexagons[cell], areas[area])) / whole[area]
    np.add.at(found, cell, people[area] * share)
    return found


def _geojson(conn, q: np.ndarray, r: np.ndarray, size: float, srid: int) -> list[str]:
    """The cells as GeoJSON polygons in WGS 84 (6 decimals), in the order given, by PostGIS's own projection."""
    with conn.cursor() as cur:
        cur.execute(
            """
            WITH template AS (
                SELECT ST_MakePolygon(ST_MakeLine(array_agg(
                           ST_MakePoint(%(size)s * cos(radians(30 + 60 * mod(k, 6))), %(size)s * sin(radians(30 + 60 * mod(k, 6))))
                           ORDER BY k))) AS geom
                FROM generate_series(0, 6) k
            )
            SELECT ST_AsGeoJSON(ST_Transform(ST_SetSRID(
                       ST_Translate(t.geom, %(size)s * sqrt(3.0) * (c.q + c.r / 2.0), %(size)s * 1.5 * c.r), %(srid)s),
                   4326), 6)
            FROM unnest(%(q)s::integer[], %(r)s::integer[]) WITH ORDINALITY c(q, r, i), template t
            ORDER BY c.i
            """,
            {"size": size, "srid": srid, "q": q.tolist(), "r": r.tolist()},
        )
        return [row[0] for row in cur.fetchall()]
