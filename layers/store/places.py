"""Places for the public report page, from the city's own data only (the project serves offline).

A resident must tell where they tap and find their street without an outside
geocoder: :func:`facilities` gives the city's public facilities in a view
(toilets, markets, garbage points, named) as light markers; :func:`search`
finds areas, facilities (by name or address) and roads by name;
:func:`describe` names a point (the area holding it, the nearest facility);
:func:`open_around` lists the open public reports near a point, with only
what the public may see of them (category, status, distance, the unit's first
photo): never a description, a contact or the resident's own photos.
"""

from __future__ import annotations

import math

from data.params import BBox
from data.vocab import CLOSED

#: The facility tables drawn and searched, by the kind the page names them.
FACILITIES = {"toilet": "toilets", "market": "markets", "garbage": "garbage_stations"}
#: Facilities are drawn from this zoom on (street level: a district would send hundreds).
FACILITY_ZOOM = 16
#: Most facilities in one answer, most search results, most open reports listed.
MAX_FACILITIES = 300
MAX_RESULTS = 12
MAX_AROUND = 20
#: How far around a chosen place open reports are shown, and how near a facility must be to name the place.
AROUND_M = 300
NEAR_M = 400
#: Open reports' pins are drawn this many decimals of a degree (about 10 m): where, not whose door.
PIN_DECIMALS = 4

_FACILITY_UNION = " UNION ALL ".join(
    f"SELECT '{kind}' AS kind, name, address, geom FROM {table} WHERE in_service AND coalesce(name, '') <> ''"
    for kind, table in FACILITIES.items())


def facilities(conn, bbox: BBox, zoom: int) -> str:
    """A GeoJSON FeatureCollection of the facilities in ``bbox`` (``name``, ``kind``), none below
    :data:`FACILITY_ZOOM`."""
    if zoom < FACILITY_ZOOM:
        return '{"type": "FeatureCollection", "features": []}'
    w, s, e, n = bbox
    with conn.cursor() as cur:
        cur.execute(f"""
            WITH f AS (SELECT * FROM ({_FACILITY_UNION}) u
                       WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) LIMIT %s)
            SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
                     'type', 'Feature', 'geometry', ST_AsGeoJSON(geom, 6)::json,
                     'properties', json_build_object('name', name, 'kind', kind))), '[]'::json))::text FROM f""",
                    (w, s, e, n, MAX_FACILITIES))
        return cur.fetchone()[0]


def _box(lat: float, metres: float) -> tuple[float, float]:
    """Degrees of longitude and latitude a little wider than ``metres`` at ``lat``: the GiST index narrows by it,
    the geography distance decides."""
    dlat = metres / 111_000.0
    return dlat / max(math.cos(math.radians(min(abs(lat), 89.0))), 1e-6), dlat


def _pattern(q: str) -> str:
    """``q`` as an ILIKE pattern matching it anywhere (its own % and _ taken literally)."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(conn, q: str, lang: str = "zh") -> list[dict]:
    """Places whose name (or a facility's address) holds ``q``: areas first, then facilities, then roads;
    names starting with ``q`` and shorter names first. Each: ``name``, ``kind`` (district/street/community,
    a facility kind, road), ``address`` (facilities), ``lon``/``lat`` and ``bbox`` (areas and roads)."""
    like = _pattern(q)
    with conn.cursor() as cur:
        cur.execute(f"""
            WITH hits AS (
              SELECT 0 AS rank, level AS kind,
                     CASE WHEN %(en)s AND coalesce(name_en, '') <> '' THEN name_en ELSE name END AS name,
                     NULL::text AS address, ST_PointOnSurface(geom) AS at, geom
              FROM admin_areas WHERE name ILIKE %(like)s OR name_en ILIKE %(like)s
              UNION ALL
              SELECT 1, kind, name, address, geom, NULL FROM ({_FACILITY_UNION}) f
              WHERE name ILIKE %(like)s OR address ILIKE %(like)s
              UNION ALL
              SELECT 2, 'road', name, NULL, ST_PointOnSurface(ST_Collect(geom)), ST_Collect(geom)
              FROM (SELECT name, geom FROM roads WHERE name ILIKE %(like)s LIMIT 500) r GROUP BY name)
            SELECT kind, name, address, ST_X(at), ST_Y(at),
                   CASE WHEN geom IS NULL THEN NULL ELSE ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom),
                                                               ST_YMax(geom)] END
            FROM hits ORDER BY rank, NOT (name ILIKE %(start)s), length(name), name LIMIT %(cap)s""",
                    {"like": like, "start": like[1:], "en": lang == "en", "cap": MAX_RESULTS})
        return [{"name": r[1], "kind": r[0], "address": r[2], "lon": round(r[3], 6), "lat": round(r[4], 6),
                 "bbox": [round(v, 6) for v in r[5]] if r[5] else None} for r in cur.fetchall()]


def describe(conn, lon: float, lat: float, lang: str = "zh") -> dict:
    """A WGS84 point in words: ``area`` (the smallest area holding it, with its district when that is
    another), ``near`` (the nearest facility within :data:`NEAR_M`, its kind and ``near_m``), or None."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT CASE WHEN %(en)s AND coalesce(name_en, '') <> '' THEN name_en ELSE name END
            FROM admin_areas WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
            ORDER BY array_position(ARRAY['district', 'street', 'community'], level)""",
                    {"lon": lon, "lat": lat, "en": lang == "en"})
        names = list(dict.fromkeys(r[0] for r in cur.fetchall()))  # a district imported again as a street once
        cur.execute(f"""
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom)
            SELECT f.kind, f.name, ST_Distance(f.geom::geography, p.geom::geography)
            FROM ({_FACILITY_UNION}) f, p
            WHERE f.geom && ST_Expand(p.geom, %(dlon)s, %(dlat)s)
              AND ST_DWithin(f.geom::geography, p.geom::geography, %(near)s)
            ORDER BY f.geom <-> p.geom LIMIT 1""",
                    {"lon": lon, "lat": lat, "near": NEAR_M, **dict(zip(("dlon", "dlat"), _box(lat, NEAR_M)))})
        row = cur.fetchone()
    area = " ".join(names[:1] + names[-1:]) if len(names) > 1 else (names[0] if names else None)
    return {"area": area, "near": row[1] if row else None, "near_kind": row[0] if row else None,
            "near_m": round(row[2]) if row else None}


def open_around(conn, lon: float, lat: float, radius_m: float = AROUND_M) -> list[dict]:
    """Open cases with a public report within ``radius_m`` of a WGS84 point, any category, nearest first:
    ``lon``/``lat`` (to :data:`PIN_DECIMALS`), ``category``, ``status``, ``distance_m``, ``supporters`` and
    ``photo`` (the unit's first photo, the only kind anyone may see; else None)."""
    with conn.cursor() as cur:
        cur.execute("""
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom)
            SELECT round(ST_X(c.geom)::numeric, %(dp)s)::float, round(ST_Y(c.geom)::numeric, %(dp)s)::float,
                   c.category, c.status,
                   round(ST_Distance(c.geom::geography, p.geom::geography))::int,
                   (SELECT count(*) - 1 FROM public_reports r WHERE r.complaint_id = c.id),
                   (SELECT key FROM public_photos ph WHERE ph.complaint_id = c.id AND ph.tracking IS NULL
                    ORDER BY ph.stage = 'after', ph.id LIMIT 1)
            FROM complaints c, p
            WHERE c.geom && ST_Expand(p.geom, %(dlon)s, %(dlat)s) AND c.status <> %(closed)s
              AND ST_DWithin(c.geom::geography, p.geom::geography, %(r)s)
              AND EXISTS (SELECT 1 FROM public_reports r WHERE r.complaint_id = c.id)
            ORDER BY 5, c.id LIMIT %(cap)s""",
                    {"lon": lon, "lat": lat, "dp": PIN_DECIMALS, "closed": CLOSED, "r": radius_m,
                     "cap": MAX_AROUND, **dict(zip(("dlon", "dlat"), _box(lat, radius_m)))})
        return [{"lon": r[0], "lat": r[1], "category": r[2], "status": r[3], "distance_m": r[4],
                 "supporters": max(r[5], 0), "photo": "/api/public/photos/" + r[6] if r[6] else None}
                for r in cur.fetchall()]
