"""Mapbox vector tiles of a layer, encoded by PostGIS (ST_AsMVT).

Per zoom level:

- lines and areas are simplified to the tile's pixel size, and at low zoom
  features smaller than a few pixels are left out (biggest first when capped);
- the complaints layer (millions of points) is aggregated where its spec's
  display says so: ``heat`` zooms get one point per 1/64-tile cell with a
  ``count``; ``hex`` zooms get flat-topped hexagons with a ``count``, each
  hexagon counted over all its points, so neighbouring tiles agree;
  unfiltered heat tiles (and heatmap cells) up to zoom 13 are summed from
  the pre-counted ``complaint_cells`` (migrations 0200, 0201) instead of the points;
- every tile has a feature cap, halved until the tile is under the byte cap.

Plain functions over a connection and typed parameters (no web imports), so
the OGC API can reuse them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from psycopg2 import sql

from data.errors import InvalidParameter
from data.params import BBox
from data.settings import TileSettings
from layers.spec.model import LayerSpec
from layers.store.columns import shown_columns
from layers.store.features import FeatureQuery
from layers.store.filters import Filters, check_filters, where_clause

HALF_WORLD_M = 20037508.342789244  # half the Web Mercator world width, metres
BUFFER_PX = 64  # tile-grid units of buffer around each tile (of 4096)
HEAT_CELLS_PER_TILE = 64  # heat cells along a tile side
HEX_RADIUS_PX = 12  # hexagon radius in screen pixels (256-pixel tiles)
SMALL_FEATURE_PX = 1  # at low zoom, lines shorter / areas narrower than this many pixels are left out
DETAIL_ZOOM = 14  # from this zoom on, every feature is kept


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @property
    def width_m(self) -> float:
        return 2 * HALF_WORLD_M / (1 << self.z)

    @property
    def xmin(self) -> float:
        return -HALF_WORLD_M + self.x * self.width_m

    @property
    def ymax(self) -> float:
        return HALF_WORLD_M - self.y * self.width_m


def parse_tile(z: int, x: int, y: int, settings: TileSettings | None = None) -> Tile:
    """A validated tile address, or InvalidParameter naming the bad coordinate."""
    settings = settings or TileSettings.from_env()
    if not 0 <= z <= settings.max_zoom:
        raise InvalidParameter("z", f"zoom must be between 0 and {settings.max_zoom}, not {z}")
    n = 1 << z
    if not 0 <= x < n:
        raise InvalidParameter("x", f"at zoom {z} x must be between 0 and {n - 1}, not {x}")
    if not 0 <= y < n:
        raise InvalidParameter("y", f"at zoom {z} y must be between 0 and {n - 1}, not {y}")
    return Tile(z, x, y)


# Web Mercator metres of a 4326 point, by the formula (cheaper than ST_Transform per point).
_MX = sql.SQL("(ST_X(geom) * {k})").format(k=sql.Literal(HALF_WORLD_M / 180))
_MY = sql.SQL("(ln(tan(radians(90 + ST_Y(geom)) / 2)) * 6378137)")


def _search_area(tile: Tile, margin: float) -> sql.Composable:
    """The tile (with a margin as a fraction of its width) in EPSG:4326, for the GiST index."""
    return sql.SQL("ST_Transform(ST_TileEnvelope({z}, {x}, {y}, margin => {m}), 4326)").format(
        z=sql.Literal(tile.z), x=sql.Literal(tile.x), y=sql.Literal(tile.y), m=sql.Literal(margin)
    )


# Layers whose table has a covering index in tile order (migration 0790): layer id -> the SQL functions
# of its key, the column and row (from 180°W, from the top) of the zoom-KEY_ZOOM tile holding a point.
TILE_KEYS = {"complaints": ("complaint_tile_x", "complaint_tile_y")}
KEY_ZOOM = 19
KEY_MIN_ZOOM = 14  # a zoom-14 tile spans 34 key columns; further out the GiST index reads less


def _keyed(spec: LayerSpec, tile: Tile) -> bool:
    """Whether the tile's rows are read from the layer's tile index."""
    return spec.id in TILE_KEYS and tile.z >= KEY_MIN_ZOOM


def _tile_rows(spec: LayerSpec, tile: Tile, extent: int) -> tuple[sql.Composable, list]:
    """The condition finding the rows of the tile and its buffer, with its parameters.

    On a layer with a tile index, the key columns and rows covering the
    buffered tile (a superset: ST_AsMVTGeom drops what lies beyond the
    buffer), read from that index alone; else the GiST index on ``geom``.
    """
    if not _keyed(spec, tile):
        return sql.SQL("geom && {}").format(_search_area(tile, BUFFER_PX / extent)), []
    key_m = 2 * HALF_WORLD_M / (1 << KEY_ZOOM)
    buffer_m = tile.width_m * BUFFER_PX / extent
    # The buffer's edges lie well inside a key cell at every zoom (≥ 0.15 m from its sides at zoom 22):
    # rounding cannot move a point the tile shows out of the ranges.
    x0, x1 = (math.floor((tile.xmin + HALF_WORLD_M + d) / key_m) for d in (-buffer_m, tile.width_m + buffer_m))
    y0, y1 = (math.floor((HALF_WORLD_M - tile.ymax + d) / key_m) for d in (-buffer_m, tile.width_m + buffer_m))
    kx, ky = (sql.SQL("{}(geom)").format(sql.Identifier(f)) for f in TILE_KEYS[spec.id])
    # = ANY on the first key column: one short index range per key column, in tile order.
    return sql.SQL("{} = ANY(%s) AND {} BETWEEN %s AND %s").format(kx, ky), [list(range(x0, x1 + 1)), y0, y1]


def _raw_sql(spec: LayerSpec, tile: Tile, query: FeatureQuery, cap: int, extent: int, by_id: bool = False):
    """The tile's MVT and the number of rows read (``cap`` when the tile was cut short).

    ``by_id``: on a layer with a tile index, keep the first ``cap`` rows by id
    (the index yields rows west to east: cut short in its order, a tile would
    keep its western strip); unordered otherwise, which spares a sort.
    """
    where, params = where_clause(spec, query.filters)
    rows, row_params = _tile_rows(spec, tile, extent)
    pixel_m = tile.width_m / extent
    geom3857 = sql.SQL("ST_Transform(geom, 3857)")
    size_filter = sql.SQL("TRUE")
    order = sql.SQL("")
    if spec.geometry_type != "Point":
        # Simplify to the tile grid before clipping: fewer vertices to encode.
        geom3857 = sql.SQL("ST_SimplifyPreserveTopology(ST_Transform(geom, 3857), {t})").format(
            t=sql.Literal(pixel_m))
        if tile.z < DETAIL_ZOOM:
            min_size = SMALL_FEATURE_PX * 16 * pixel_m  # 16 grid units per screen pixel
            size_filter = sql.SQL(
                "(CASE WHEN ST_Dimension(geom) = 1 THEN ST_Length(ST_Transform(geom, 3857)) "
                "ELSE sqrt(ST_Area(ST_Transform(geom, 3857))) END) >= {s}").format(s=sql.Literal(min_size))
            order = sql.SQL("ORDER BY ST_Perimeter(ST_Transform(geom, 3857)) + ST_Length(ST_Transform(geom, 3857)) DESC")
    if by_id and _keyed(spec, tile):
        order = sql.SQL("ORDER BY id")
    # Below the detail zoom a tile carries only what styles a feature and names it (smaller tiles);
    # the full popup fields come with the detail zooms and the GeoJSON endpoint.
    # Only the columns the viewer may read (layers.workflow.access), each as the viewer reads it.
    shown = shown_columns(spec, query.viewer)
    if tile.z < DETAIL_ZOOM:
        shown = [(c, e) for c, e in shown if c in (spec.style_column, "name", "code", "level")]
    columns = sql.SQL("").join(sql.SQL(", {} AS {}").format(e, sql.Identifier(c)) for c, e in shown if c != "id")
    statement = sql.SQL(
        "SELECT ST_AsMVT(t, {name}, {extent}, 'geom', 'id') FILTER (WHERE t.geom IS NOT NULL), count(*) FROM ("
        " SELECT id{columns}, ST_AsMVTGeom({g}, ST_TileEnvelope({z}, {x}, {y}), {extent}, {buffer}, true) AS geom"
        " FROM {table} WHERE {rows} AND {where} AND {size} {order} LIMIT %s) t"
    ).format(
        name=sql.Literal(spec.id), extent=sql.Literal(extent), columns=columns, g=geom3857,
        z=sql.Literal(tile.z), x=sql.Literal(tile.x), y=sql.Literal(tile.y), buffer=sql.Literal(BUFFER_PX),
        table=sql.Identifier(spec.table), rows=rows, where=where, size=size_filter, order=order,
    )
    return statement, [*row_params, *params, cap]


def _heat_sql(spec: LayerSpec, tile: Tile, query: FeatureQuery, extent: int):
    """One point per cell (1/64 of the tile side) with the number of features in it."""
    where, params = where_clause(spec, query.filters)
    cell_m = tile.width_m / HEAT_CELLS_PER_TILE
    cell_px = extent / HEAT_CELLS_PER_TILE
    statement = sql.SQL(
        "SELECT ST_AsMVT(t, {name}, {extent}, 'geom') FROM ("
        " SELECT count(*)::int AS count,"
        "  ST_MakePoint((cx + 0.5) * {cpx}, (cy + 0.5) * {cpx}) AS geom FROM ("
        "   SELECT floor(({mx} - {xmin}) / {cell})::int AS cx, floor(({ymax} - {my}) / {cell})::int AS cy"
        "   FROM {table} WHERE geom && {area} AND {where}) p"
        "  WHERE cx BETWEEN 0 AND {last} AND cy BETWEEN 0 AND {last}"
        "  GROUP BY cx, cy) t"
    ).format(
        name=sql.Literal(spec.id), extent=sql.Literal(extent), cpx=sql.Literal(cell_px), mx=_MX, my=_MY,
        xmin=sql.Literal(tile.xmin), ymax=sql.Literal(tile.ymax), cell=sql.Literal(cell_m),
        table=sql.Identifier(spec.table), area=_search_area(tile, 0.0), where=where,
        last=sql.Literal(HEAT_CELLS_PER_TILE - 1),
    )
    return statement, params


def _hex_sql(spec: LayerSpec, tile: Tile, query: FeatureQuery, extent: int):
    """Flat-topped hexagons on a world-fixed lattice, each with the count of all its points.

    The hexagon lattice is the union of two rectangular lattices (even
    columns, and odd columns shifted half a row); a point belongs to the
    nearer of its nearest centre in each. Hexagons that touch the tile are
    drawn whole and counted over all their points, so a hexagon on a tile
    edge shows the same count in both tiles.
    """
    where, params = where_clause(spec, query.filters)
    radius_m = tile.width_m / 256 * HEX_RADIUS_PX
    col_m = 3 * radius_m  # spacing of one sub-lattice's columns
    row_m = math.sqrt(3) * radius_m  # spacing of rows
    to_px = extent / tile.width_m
    margin = 2 * radius_m / tile.width_m
    statement = sql.SQL(
        "WITH p AS (SELECT mx, my, round(mx / {col}) AS ai, round(my / {row}) AS aj,"
        "   floor(mx / {col}) AS bi, floor(my / {row}) AS bj"
        "  FROM (SELECT {mx} AS mx, {my} AS my FROM {table} WHERE geom && {area} AND {where}) m),"
        " k AS (SELECT CASE WHEN (mx - ai * {col}) ^ 2 + (my - aj * {row}) ^ 2"
        "                     <= (mx - (bi + 0.5) * {col}) ^ 2 + (my - (bj + 0.5) * {row}) ^ 2"
        "              THEN 2 * ai ELSE 2 * bi + 1 END AS kx,"
        "         CASE WHEN (mx - ai * {col}) ^ 2 + (my - aj * {row}) ^ 2"
        "                     <= (mx - (bi + 0.5) * {col}) ^ 2 + (my - (bj + 0.5) * {row}) ^ 2"
        "              THEN 2 * aj ELSE 2 * bj + 1 END AS ky FROM p),"
        " counted AS (SELECT count(*)::int AS count, kx * {col} / 2 AS cx, ky * {row} / 2 AS cy"
        "  FROM k GROUP BY kx, ky)"
        " SELECT ST_AsMVT(t, {name}, {extent}, 'geom') FROM ("
        "  SELECT count, ("
        "   SELECT ST_MakePolygon(ST_MakeLine(array_agg(ST_MakePoint("
        "     (cx + {r} * cos(radians(60 * v)) - {xmin}) * {to_px},"
        "     ({ymax} - (cy + {r} * sin(radians(60 * v)))) * {to_px}) ORDER BY v)))"
        "   FROM generate_series(0, 6) v) AS geom"
        "  FROM counted"
        "  WHERE cx BETWEEN {xmin} - {r} AND {xmin} + {w} + {r} AND cy BETWEEN {ymax} - {w} - {r} AND {ymax} + {r}) t"
    ).format(
        col=sql.Literal(col_m), row=sql.Literal(row_m), r=sql.Literal(radius_m), mx=_MX, my=_MY,
        table=sql.Identifier(spec.table), area=_search_area(tile, margin), where=where, name=sql.Literal(spec.id),
        extent=sql.Literal(extent), xmin=sql.Literal(tile.xmin), ymax=sql.Literal(tile.ymax),
        to_px=sql.Literal(to_px), w=sql.Literal(tile.width_m),
    )
    return statement, params


def tile_mode(spec: LayerSpec, zoom: int) -> str:
    """``heat`` or ``hex`` (aggregated) or ``features`` for a layer at a zoom."""
    mode = spec.mode_at(zoom)
    return mode if mode in ("heat", "hex") else "features"


def get_tile(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery | None = None,
             settings: TileSettings | None = None) -> bytes:
    """The MVT bytes of one tile of a layer (empty bytes for an empty tile).

    ``query`` carries the filters (street, time, category …); its bbox,
    limit and offset are ignored. A tile over the byte cap is re-encoded
    with half the features until it fits.
    """
    settings = settings or TileSettings.from_env()
    query = query or FeatureQuery()
    query = FeatureQuery(replace(query.filters, boxes=()), viewer=query.viewer)
    check_filters(conn, query.filters)
    mode = tile_mode(spec, tile.z)
    if mode == "features":
        return _raw_tile(conn, spec, tile, query, settings)
    if mode == "heat" and tile.z <= CELL_ZOOM and _use_cells(spec, query.filters):
        statement, params = _heat_cells_tile_sql(spec, tile, settings.extent)
    elif mode == "heat":
        statement, params = _heat_sql(spec, tile, query, settings.extent)
    else:
        statement, params = _hex_sql(spec, tile, query, settings.extent)
    with conn.cursor() as cur:
        # The settings travel with the query: one round trip to the server, not three.
        cur.execute(sql.Composed([_SHORT, statement]), params)
        data = cur.fetchone()[0]
    return bytes(data) if data is not None else b""


def _raw_tile(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery, settings: TileSettings) -> bytes:
    """A tile of single features: capped at ``max_features``, then halved until under ``max_bytes``."""
    cap, by_id = settings.max_features, False
    with conn.cursor() as cur:
        while True:
            statement, params = _raw_sql(spec, tile, query, cap, settings.extent, by_id)
            cur.execute(sql.Composed([_FEW_ROWS, statement]), params)
            data, read = cur.fetchone()
            data = bytes(data) if data is not None else b""
            if read >= cap and not by_id and _keyed(spec, tile):
                by_id = True  # cut short in the index's order: again, keeping the first rows by id
                continue
            if len(data) <= settings.max_bytes or cap <= 1:
                return data
            cap, by_id = max(1, math.ceil(cap / 2)), True


# Tile queries are short: JIT compilation costs more than it saves, and the aggregates group far fewer
# cells than rows (hash, not sort). A tile of raw features reads few rows: a parallel worker costs more
# than it saves (and its few sorts are top-N sorts of the tile's rows, not to be traded for an index walk).
_SHORT = sql.SQL("SET LOCAL jit = off; SET LOCAL enable_sort = off; ")
_FEW_ROWS = sql.SQL("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; ")


HEAT_CELL_PX = 8  # heat cells of the web map, in screen pixels

# Pre-counted cells (migrations 0200, 0201): layer id -> table of (cx, cy, n) on the grid of 1/64 of a
# zoom-CELL_ZOOM tile side, counted from 180°W and from the top of the Web Mercator square.
CELL_TABLES = {"complaints": "complaint_cells"}
CELL_ZOOM = 13
CELL_M = 2 * HALF_WORLD_M / (1 << CELL_ZOOM) / HEAT_CELLS_PER_TILE


def _use_cells(spec: LayerSpec, filters: Filters) -> bool:
    """Pre-counted cells answer only the unfiltered question (every feature of the layer)."""
    return spec.id in CELL_TABLES and not filters.narrowed


def _heat_cells_tile_sql(spec: LayerSpec, tile: Tile, extent: int):
    """The heat tile from pre-counted cells: each tile cell is 2^(13-z) × 2^(13-z) base cells."""
    shift = 1 << (CELL_ZOOM - tile.z)
    first_x, first_y = tile.x * HEAT_CELLS_PER_TILE * shift, tile.y * HEAT_CELLS_PER_TILE * shift
    span = HEAT_CELLS_PER_TILE * shift
    cell_px = extent / HEAT_CELLS_PER_TILE
    statement = sql.SQL(
        "SELECT ST_AsMVT(t, {name}, {extent}, 'geom') FROM ("
        " SELECT sum(n)::int AS count, ST_MakePoint((gx + 0.5) * {cpx}, (gy + 0.5) * {cpx}) AS geom FROM ("
        "  SELECT (cx - %s) / %s AS gx, (cy - %s) / %s AS gy, n FROM {table}"
        "  WHERE cx >= %s AND cx < %s AND cy >= %s AND cy < %s) c"
        " GROUP BY gx, gy HAVING sum(n) > 0) t"
    ).format(name=sql.Literal(spec.id), extent=sql.Literal(extent), cpx=sql.Literal(cell_px),
             table=sql.Identifier(CELL_TABLES[spec.id]))
    return statement, [first_x, shift, first_y, shift, first_x, first_x + span, first_y, first_y + span]


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
                                           "counts points: ask it of a point layer (complaints, toilets …)")
    if not 0 <= zoom <= settings.max_zoom:
        raise InvalidParameter("zoom", f"must be between 0 and {settings.max_zoom}, not {zoom}")
    if len(filters.boxes) != 1:
        raise InvalidParameter("bbox", "is required for a heatmap (minlon,minlat,maxlon,maxlat)")
    width_px, height_px = bbox_pixels(filters.boxes[0], zoom)
    if max(width_px, height_px) > settings.heat_max_px:
        # A screen is a few thousand pixels: a larger box at this zoom is a whole-world scrape, not a view.
        raise InvalidParameter(
            "bbox", f"is {width_px:,.0f} × {height_px:,.0f} pixels at zoom {zoom}; at most "
            f"{settings.heat_max_px:,} pixels a side (HYGIENE_MAP_HEAT_MAX_PX): zoom out or send a smaller bbox")
    return filters.boxes[0]


def get_heat_cells(conn, spec: LayerSpec, zoom: int, query: FeatureQuery) -> bytes:
    """JSON ``{"cells": [[lat, lon, count], …], "max": n}`` of a point layer's features in the query's bbox.

    Features are counted on a Web Mercator grid of HEAT_CELL_PX screen
    pixels at ``zoom``, each cell reported at its centre: what a heatmap
    (Leaflet.heat) draws at city scale without sending a million points.
    """
    box = _check_heat(spec, zoom, query.filters, TileSettings.from_env())
    check_filters(conn, query.filters)
    if zoom <= CELL_ZOOM and _use_cells(spec, query.filters):
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
        cell=sql.Literal(cell_m), k=sql.Literal(HALF_WORLD_M / 180), mx=_MX, my=_MY,
        table=sql.Identifier(spec.table), where=where,
    )
    with conn.cursor() as cur:
        cur.execute(sql.Composed([_SHORT, statement]), params)
        return bytes(cur.fetchone()[0])
