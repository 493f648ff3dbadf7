"""Where an inspector stands (the field page, issue 15): the place types near a point, and a grid to start from.

A toilet within 30 m of the point offers the 公厕 checklist items first, a
garbage point the 垃圾收集点/转运站 items, and so on: each place type of the
checklist that has a layer of its own is looked up in that layer's table.
The SQL of these look-ups is here and nowhere else.
"""

from __future__ import annotations

import json
import math

from psycopg2 import sql

from layers.workflow.refusals import no_grid

#: How near (metres) a facility must be for its place type to come first.
NEAR_M = 30.0
# Place type → (table, (column, value) its rows must have, or None). Back lanes are roads of the class 背街小巷; the other place types
# (门前三包, 病媒生物) have no layer: they are offered after these, everywhere.
_PLACE_TABLES = (
    ("公厕", "toilets", None),
    ("垃圾收集点/转运站", "garbage_stations", None),
    ("农贸市场", "markets", None),
    ("健康步道/公园", "health_trails", None),
    ("城中村/城乡结合部", "urban_villages", None),
    ("背街小巷", "roads", ("class", "背街小巷")),
)
_METRES_PER_DEGREE = 111_320.0


def _nearest_query() -> sql.Composed:
    """One UNION ALL over the place tables: the nearest row of each within the radius."""
    parts = []
    for place_type, table, condition in _PLACE_TABLES:
        where = sql.SQL(" AND {} = {}").format(sql.Identifier(condition[0]), sql.Literal(condition[1])) \
            if condition else sql.SQL("")
        parts.append(sql.SQL(
            """(SELECT {place_type} AS place_type, {layer} AS layer, name,
                       ST_Distance(geom::geography, p.g::geography) AS distance_m
                FROM {table}, p
                WHERE geom && ST_Expand(p.g, %(deg)s)
                  AND ST_DWithin(geom::geography, p.g::geography, %(radius)s){where}
                ORDER BY 4 LIMIT 1)""").format(place_type=sql.Literal(place_type), layer=sql.Literal(table),
                                                table=sql.Identifier(table), where=where))
    return sql.SQL("WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g) "
                   "SELECT * FROM ({}) near ORDER BY distance_m").format(sql.SQL(" UNION ALL ").join(parts))


def places_near(conn, lon: float, lat: float, radius_m: float = NEAR_M) -> list[dict]:
    """The place types with a facility within ``radius_m`` of the WGS84 point, nearest first.

    Returns
    -------
    list of dict
        ``place_type``, ``layer`` (the table it was found in), ``name`` and
        ``distance_m`` of the nearest such facility.
    """
    # The box prefilter uses the tables' GiST indexes; a degree of longitude shrinks towards the poles.
    deg = radius_m / (_METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)) * 1.1
    with conn.cursor() as cur:
        cur.execute(_nearest_query(), {"lon": lon, "lat": lat, "radius": radius_m, "deg": deg})
        return [{"place_type": r[0], "layer": r[1], "name": r[2], "distance_m": round(float(r[3]), 1)}
                for r in cur.fetchall()]


def grid_at(conn, lon: float, lat: float) -> dict | None:
    """The grid holding the WGS84 point, with the unit its roster names now (``responsible_unit`` None: nobody
    yet), or None where no grid holds it: a finding there is charged to no unit, which the field page says."""
    with conn.cursor() as cur:
        cur.execute("SELECT code, responsible_unit FROM grids WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), "
                    "4326)) ORDER BY code LIMIT 1", (lon, lat))
        row = cur.fetchone()
    return {"code": row[0], "responsible_unit": row[1]} if row else None


def grid_place(conn, code: str, printed=None) -> dict:
    """A grid to start inspecting from (the printed sheet's QR code): its outline, a point inside, its street.

    A sheet outlives a regrid of its street, and its code may name another place by then, or none: when the
    street was cut again after ``printed`` (or the code is gone, whenever printed), the grid as the sheet showed
    it (``grid_shapes``), with ``redrawn`` = when it was cut first since. Raises NotFound for a code never known.
    """
    with conn.cursor() as cur:
        row = printed and _place(cur, "grid_shapes WHERE code = %s AND until > %s ORDER BY until", (code, printed))
        row = (row or _place(cur, "grids WHERE code = %s", (code,))
               or _place(cur, "grid_shapes WHERE code = %s ORDER BY until DESC", (code,)))
    if row is None:
        raise no_grid(code)
    return {"code": row[0], "name": row[1], "street_code": row[2], "geometry": json.loads(row[3]),
            "point": [row[4], row[5]], "bounds": [row[6], row[7], row[8], row[9]],
            "redrawn": row[10] and row[10].isoformat()}


def _place(cur, rows: str, params: tuple) -> tuple | None:
    """The first of ``rows`` (a table and its condition: grids, or grid_shapes with their ``until``) as a place."""
    name, until = ("NULL", "until") if rows.startswith("grid_shapes") else ("name", "NULL")
    cur.execute(f"""SELECT code, {name}, street_code, ST_AsGeoJSON(geom, 6), ST_X(p), ST_Y(p), ST_XMin(geom),
                           ST_YMin(geom), ST_XMax(geom), ST_YMax(geom), {until}
                    FROM (SELECT *, ST_PointOnSurface(geom) p FROM {rows} LIMIT 1) g""", params)
    return cur.fetchone()
