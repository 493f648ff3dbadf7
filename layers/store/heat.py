"""Heatmap cells of a point layer: counts on a grid of screen pixels in the map's view, as JSON.

What a heatmap (Leaflet.heat) draws at city scale without sending a million
points: unfiltered requests up to zoom 13 are summed from the pre-counted
cells of :mod:`layers.store.tiles` (``complaint_cells``), others count the
points. Plain functions over a connection, like the tiles.
"""

from __future__ import annotations

import math

from psycopg2 import sql

from data.errors import InvalidParameter
from data.params import BBox
from data.settings import TileSettings
from layers.spec.model import LayerSpec
from layers.store.features import FeatureQuery
from layers.store.filters import Filters, check_filters, where_clause
from layers.store.tile_grid import CELL_M, CELL_TABLES, CELL_ZOOM, HALF_WORLD_M, MERCATOR_X, MERCATOR_Y, use_cells
from layers.store.tiles import SHORT_QUERY

HEAT_CELL_PX = 8  # heat cells of the web map, in screen pixels


def _mercator_y(lat: float) -> float:
    lat = max(-85.0511, min(85.0511, lat))
    return math.log(math.tan(math.radians(90 + lat) / 2)) * 6378137


def _heat_cells_json_sql(spec: LayerSpec, zoom: int, bbox: BBox):
    """Heat endpoint cells (8 px at ``zoom`` = 2^(14-zoom) base cells) from pre-counted cells in the bbox."""
    shift = 1 << (CELL_ZOOM + 1 - zoom)
    minx, miny, maxx, maxy = bbox
    k = HALF_WORLD_M / 180

    x0, x1 = math.floor((minx * k + HALF_WORLD_M) / CELL_M), math.floor((maxx * k + HALF_WORLD_M) / CELL_M)
    y0, y1 = math.floor((HALF_WORLD_M - _mercator_y(maxy)) / CELL_M), math.floor((HALF_WORLD_M - _mercator_y(miny)) / CELL_M)
    size = CELL_M * shift
    statement = sql.SQL(
        "SELECT convert_to(json_build_object('cells', coalesce(json_agg(json_build_array("
        "   round(degrees(2 * atan(exp(({half} - (gy + 0.5) * {size}) / 6378137)) - pi() / 2)::numeric, 6),"
        "   round((((gx + 0.5) * {size} - {half}) / {k})::numeric, 6), n)), '[]'::json),"
        "  'max', coalesce(max(n), 0))::text, 'UTF8') FROM ("
        " SELECT cx / %s AS gx, cy / %s AS gy, sum(n)::int AS n FROM {table}"
        " WHERE cx BETWEEN %s AND %s AND cy BETWEEN %s AND %s GROUP BY 1, 2 HAVING sum(n) > 0) c"
    ).format(half=sql.Literal(HALF_WORLD_M), size=sql.Literal(size), k=sql.Literal(k),
             table=sql.Identifier(CELL_TABLES[spec.id]))
    return statement, [shift, shift, x0, x1, y0, y1]


def bbox_pixels(bbox: BBox, zoom: int) -> tuple[float, float]:
    """Width and height of a WGS84 bbox in Web Mercator screen pixels (256-pixel tiles) at ``zoom``."""
    minx, miny, maxx, maxy = bbox
    metres_per_px = 2 * HALF_WORLD_M / (256 * (1 << zoom))
    return ((maxx - minx) * HALF_WORLD_M / 180 / metres_per_px,
            (_mercator_y(maxy) - _mercator_y(miny)) / metres_per_px)


def _check_heat(spec: LayerSpec, zoom: int, filters: Filters, settings: TileSettings) -> BBox:
    """The one view box of a heatmap request, or InvalidParameter naming what is wrong."""
    if spec.geometry_type != "Point":
        raise InvalidParameter("layer_id", f"layer {spec.id!r} has {spec.geometry_type} features; a heatmap "
                                           "counts points: ask it of a point layer (complaints, toilets …)",
                               f"图层 {spec.id!r} 的要素是 {spec.geometry_type}；热力图统计的是点："
                               "请选点图层（投诉、公厕等）")
    if not 0 <= zoom <= settings.max_zoom:
        raise InvalidParameter("zoom", f"must be between 0 and {settings.max_zoom}, not {zoom}",
                               f"须在 0 到 {settings.max_zoom} 之间，而不是 {zoom}")
    if len(filters.boxes) != 1:
        raise InvalidParameter("bbox", "is required for a heatmap (minlon,minlat,maxlon,maxlat)",
                               "热力图必须给出范围（minlon,minlat,maxlon,maxlat）")
    width_px, height_px = bbox_pixels(filters.boxes[0], zoom)
    if max(width_px, height_px) > settings.heat_max_px:
        # A screen is a few thousand pixels: a larger box at this zoom is a whole-world scrape, not a view.
        raise InvalidParameter(
            "bbox", f"is {width_px:,.0f} × {height_px:,.0f} pixels at zoom {zoom}; at most "
            f"{settings.heat_max_px:,} pixels a side (HYGIENE_MAP_HEAT_MAX_PX): zoom out or send a smaller bbox",
            f"在缩放级别 {zoom} 下为 {width_px:,.0f} × {height_px:,.0f} 像素；每边至多 {settings.heat_max_px:,} 像素"
            "（HYGIENE_MAP_HEAT_MAX_PX）：请降低缩放级别或缩小范围")
    return filters.boxes[0]


def get_heat_cells(conn, spec: LayerSpec, zoom: int, query: FeatureQuery) -> bytes:
    """JSON ``{"cells": [[lat, lon, count], …], "max": n}`` of a point layer's features in the query's bbox.

    Features are counted on a Web Mercator grid of HEAT_CELL_PX screen
    pixels at ``zoom``, each cell reported at its centre: what a heatmap
    (Leaflet.heat) draws at city scale without sending a million points.
    """
    box = _check_heat(spec, zoom, query.filters, TileSettings.from_env())
    check_filters(conn, query.filters)
    if zoom <= CELL_ZOOM and use_cells(spec, query.filters):
        statement, params = _heat_cells_json_sql(spec, zoom, box)
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return bytes(cur.fetchone()[0])
    where, params = where_clause(spec, query.filters)
    cell_m = 2 * HALF_WORLD_M / (1 << zoom) / 256 * HEAT_CELL_PX
    statement = sql.SQL(
        "SELECT convert_to(json_build_object('cells', coalesce(json_agg(json_build_array("
        "   round(degrees(2 * atan(exp(((cy + 0.5) * {cell}) / 6378137)) - pi() / 2)::numeric, 6),"
        "   round((((cx + 0.5) * {cell}) / {k})::numeric, 6), n)), '[]'::json),"
        "  'max', coalesce(max(n), 0))::text, 'UTF8') FROM ("
        " SELECT floor({mx} / {cell}) AS cx, floor({my} / {cell}) AS cy, count(*)::int AS n"
        " FROM {table} WHERE {where} GROUP BY 1, 2) c"
    ).format(
        cell=sql.Literal(cell_m), k=sql.Literal(HALF_WORLD_M / 180), mx=MERCATOR_X, my=MERCATOR_Y,
        table=sql.Identifier(spec.table), where=where,
    )
    with conn.cursor() as cur:
        cur.execute(sql.Composed([SHORT_QUERY, statement]), params)
        return bytes(cur.fetchone()[0])
