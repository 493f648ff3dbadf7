"""What one grid sheet's map shows: the neighbouring grids, roads, urban villages and health trails, facilities
and open complaints inside the page's frame, as four index look-ups (:func:`load_page`). Geometries come out of
PostGIS in the city's metric CRS as WKB, as in :mod:`layers.printing.data`."""

from __future__ import annotations

from data.vocab import CLOSED
from layers.printing.data import FRAME_SEGMENT_M, City, Feature, Grid, PageData, wkb

_FRAME_CTE = """
WITH frame AS (
    SELECT ST_Transform(ST_Segmentize(ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, %(srid)s), %(seg)s), 4326) AS g
), grid AS (
    SELECT geom FROM grids WHERE code = %(code)s
)
"""

# Facilities and open complaints in the frame, with the columns a checklist
# row needs. The nearest named road stands in for a missing address (the
# demo city and many imports have none), only for rows of the checklist.
_POINTS_SQL = _FRAME_CTE + """
, pts AS (
    SELECT 'markets' AS layer, m.id, m.kind, m.name, m.address,
           concat_ws(' ', m.kind, m.stalls || '摊位') AS detail,
           NULL::text AS status, NULL::timestamptz AS due_at, NULL::timestamptz AS reported_at, m.geom,
           m.in_service
    FROM markets m, frame WHERE m.geom && frame.g
    UNION ALL
    SELECT 'toilets', t.id, t.kind, t.name, t.address, concat_ws(' ', t.grade, t.kind),
           NULL, NULL, NULL, t.geom, t.in_service
    FROM toilets t, frame WHERE t.geom && frame.g
    UNION ALL
    SELECT 'garbage_stations', s.id, s.kind, s.name, s.address,
           concat_ws(' ', s.kind, CASE WHEN s.sorted THEN '分类' WHEN NOT s.sorted THEN '未分类' END),
           NULL, NULL, NULL, s.geom, s.in_service
    FROM garbage_stations s, frame WHERE s.geom && frame.g
    UNION ALL
    SELECT 'complaints', c.id, c.category, NULL, c.address,
           (SELECT e.name_en FROM event_types e WHERE e.name = c.category),  -- for English pages
           c.status, c.due_at, c.reported_at, c.geom, true
    FROM complaints c, frame WHERE c.geom && frame.g AND c.status <> %(closed)s
)
SELECT p.layer, p.id, p.kind, p.name, p.address, p.detail, p.status, p.due_at, p.reported_at,
       coalesce(p.due_at < %(as_of)s, false) AS overdue,
       ST_Intersects(p.geom, grid.geom) AS in_grid,
       CASE WHEN ST_Intersects(p.geom, grid.geom) AND p.address IS NULL THEN (
           SELECT r.name FROM (
               SELECT r.name, r.geom FROM roads r WHERE r.name IS NOT NULL ORDER BY r.geom <-> p.geom LIMIT 8
           ) r ORDER BY ST_Distance(r.geom::geography, p.geom::geography) LIMIT 1
       ) END AS near_road,
       ST_X(ST_Transform(p.geom, %(srid)s)), ST_Y(ST_Transform(p.geom, %(srid)s)), p.in_service
FROM pts p, grid
"""

# Urban villages and health trails touching the grid go on the checklist too,
# numbered at a point inside the part that lies in the grid.
_AREAS_SQL = _FRAME_CTE + """
SELECT 'urban_villages' AS layer, v.id, v.kind, v.name, v.renovation_status AS detail,
       ST_AsBinary(ST_Transform(v.geom, %(srid)s)),
       ST_Intersects(v.geom, grid.geom),
       CASE WHEN ST_Intersects(v.geom, grid.geom) THEN
            ST_AsBinary(ST_Transform(ST_PointOnSurface(ST_Intersection(v.geom, grid.geom)), %(srid)s)) END,
       true AS in_service
FROM urban_villages v, frame, grid WHERE v.geom && frame.g
UNION ALL
SELECT 'health_trails', h.id, h.kind, h.name,
       concat_ws(' ', h.kind, round(h.length_m) || 'm'),
       ST_AsBinary(ST_Transform(h.geom, %(srid)s)),
       ST_Intersects(h.geom, grid.geom),
       CASE WHEN ST_Intersects(h.geom, grid.geom) THEN
            ST_AsBinary(ST_Transform(ST_PointOnSurface(ST_Intersection(h.geom, grid.geom)), %(srid)s)) END,
       h.in_service
FROM health_trails h, frame, grid WHERE h.geom && frame.g
"""

_ROADS_SQL = _FRAME_CTE + """
SELECT r.class, r.name, ST_AsBinary(ST_Transform(r.geom, %(srid)s)), ST_Intersects(r.geom, grid.geom)
FROM roads r, frame, grid WHERE r.geom && frame.g
"""

_NEIGHBOURS_SQL = _FRAME_CTE + """
SELECT n.code, n.community_code, n.street_code, ST_AsBinary(ST_Transform(n.geom, %(srid)s))
FROM grids n, frame WHERE n.geom && frame.g AND n.code <> %(code)s
"""


def load_page(conn, grid: Grid, frame: tuple[float, float, float, float], city: City) -> PageData:
    """What a grid page shows inside ``frame`` (metric CRS): four index look-ups."""
    params = {"x0": frame[0], "y0": frame[1], "x1": frame[2], "y1": frame[3], "srid": city.metric_srid,
              "seg": FRAME_SEGMENT_M, "code": grid.code, "closed": CLOSED, "as_of": city.as_of}
    page = PageData(grid=grid, frame=frame)
    with conn.cursor() as cur:
        cur.execute(_NEIGHBOURS_SQL, params)
        page.neighbours = [(code, community, street, wkb(g)) for code, community, street, g in cur.fetchall()]
        cur.execute(_ROADS_SQL, params)
        page.roads = [(klass, name, wkb(g), inside) for klass, name, g, inside in cur.fetchall()]
        cur.execute(_AREAS_SQL, params)
        for layer, fid, kind, name, detail, g, inside, label_at, in_service in cur.fetchall():
            geom = wkb(g)
            if layer == "urban_villages":
                page.villages.append((name, kind, geom))
            else:
                page.trails.append((name, kind, geom, in_service))
            if inside:
                at = wkb(label_at)
                page.areas.append(Feature(layer, fid, kind, name, None, detail, None, None, None, False, True,
                                          None, at.x, at.y, in_service))
        cur.execute(_POINTS_SQL, params)
        page.points = [Feature(*row) for row in cur.fetchall()]
    return page
