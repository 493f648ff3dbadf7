"""Place names for maps without a basemap: districts, streets, communities and roads in view, as label points.

The offline pages draw the city's own roads and area outlines as vector
tiles (``/tiles/roads``, ``/tiles/admin_areas``); their names come from here,
one small GeoJSON of points per view (``/api/context/labels``). Which names a
zoom shows is :data:`LABEL_ZOOMS`, so a whole city never sends every road name.
"""

from __future__ import annotations

from data.params import BBox

#: The zooms (inclusive) at which each kind of place is named: districts when the city is in view,
#: streets and communities as one zooms in, road names only at street level.
LABEL_ZOOMS = {"district": (0, 11), "street": (12, 14), "community": (14, 22), "road": (15, 22)}
#: Most labels of each kind in one answer (the largest areas, the longest roads in view first).
MAX_LABELS = 150
#: A road is named only where its piece in view is at least this many screen pixels long (room for its name).
ROAD_MIN_PX = 60

_SQL = """
WITH v AS (SELECT ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326) AS box,
                  ST_SetSRID(ST_MakePoint((%(w)s + %(e)s) / 2, (%(s)s + %(n)s) / 2), 4326) AS centre),
areas AS (
    -- An area is named at its point on surface; when that is out of view, the area under the view's
    -- centre is named there (so the community one is zoomed into keeps its name).
    SELECT a.level AS kind, CASE WHEN %(en)s AND a.name_en <> '' THEN a.name_en ELSE a.name END AS name,
           NULL::text AS class, CASE WHEN ST_Intersects(ST_PointOnSurface(a.geom), v.box) THEN ST_PointOnSurface(a.geom)
                                     WHEN ST_Intersects(a.geom, v.centre) THEN v.centre END AS at,
           ST_Area(a.geom) AS size
    FROM admin_areas a, v
    WHERE a.level = ANY(%(levels)s) AND a.geom && v.box AND coalesce(a.name, '') <> ''
    ORDER BY ST_Area(a.geom) DESC LIMIT %(cap)s),
roads AS (
    SELECT DISTINCT ON (r.name) 'road' AS kind, r.name, r.class,
           ST_PointOnSurface(ST_ClipByBox2D(r.geom, v.box)) AS at, ST_Length(ST_ClipByBox2D(r.geom, v.box)) AS size
    FROM roads r, v
    WHERE %(roads)s AND r.geom && v.box AND coalesce(r.name, '') <> ''
          AND ST_Length(ST_ClipByBox2D(r.geom, v.box)) >= %(min_deg)s
    ORDER BY r.name, ST_Length(ST_ClipByBox2D(r.geom, v.box)) DESC),
named AS (
    SELECT * FROM areas
    UNION ALL (SELECT * FROM roads ORDER BY size DESC LIMIT %(cap)s))
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
         'type', 'Feature', 'geometry', ST_AsGeoJSON(at, 6)::json,
         'properties', json_build_object('name', name, 'kind', kind, 'class', class))
       ORDER BY array_position(%(order)s, kind), size DESC), '[]'::json))::text
FROM named, v WHERE at IS NOT NULL AND ST_Intersects(at, v.box)
"""


def kinds_at(zoom: int) -> list[str]:
    """The kinds of places named at ``zoom``."""
    return [kind for kind, (low, high) in LABEL_ZOOMS.items() if low <= zoom <= high]


def _districts_only(conn) -> bool:
    """Whether the city's areas are districts only (a city set up with its districts and nothing finer yet)."""
    with conn.cursor() as cur:
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM admin_areas WHERE level <> 'district')")
        return cur.fetchone()[0]


def labels(conn, bbox: BBox, zoom: int, lang: str = "zh") -> str:
    """A GeoJSON FeatureCollection of label points (``name``, ``kind``, road ``class``) in ``bbox`` at ``zoom``,
    most important first (districts, streets, communities, roads; larger areas and longer roads first).

    Parameters
    ----------
    conn : psycopg2 connection
    bbox : BBox
        minlon, minlat, maxlon, maxlat of the view (WGS84).
    zoom : int
        The map's zoom; it decides which kinds are named (:data:`LABEL_ZOOMS`); in a city of districts only,
        the district is named at every zoom (at the view's centre when its own label point is out of view).
    lang : str
        ``en``: areas by their English name where they have one.
    """
    kinds = kinds_at(zoom)
    if zoom > LABEL_ZOOMS["district"][1] and _districts_only(conn):
        kinds.insert(0, "district")  # nothing finer names the place zoomed into: its district does
    w, s, e, n = bbox
    params = {"w": w, "s": s, "e": e, "n": n, "en": lang == "en", "cap": MAX_LABELS,
              "levels": [k for k in kinds if k != "road"], "roads": "road" in kinds,
              "order": list(LABEL_ZOOMS),
              # degrees of longitude per 256-pixel tile at this zoom, times the pixels a name needs
              "min_deg": ROAD_MIN_PX * 360.0 / (256 << zoom)}
    with conn.cursor() as cur:
        cur.execute(_SQL, params)
        return cur.fetchone()[0]
