"""Mapbox vector tiles of a layer, encoded by PostGIS (ST_AsMVT).

Per zoom level:

- lines and areas are simplified to the tile's pixel size, and at low zoom
  features smaller than a few pixels are left out (biggest first when capped);
- the complaints layer (millions of points) is aggregated where its spec's
  display says so: ``heat`` zooms get one point per 1/64-tile cell with a
  ``count``; ``hex`` zooms get flat-topped hexagons with a ``count``, each
  hexagon counted over all its points, so neighbouring tiles agree;
  unfiltered heat tiles (and the heatmap cells of :mod:`layers.store.heat`) up
  to zoom 13 are summed from the pre-counted ``complaint_cells`` (migrations
  0200, 0201) instead of the points (those statements: :mod:`layers.store.tile_counts`; the tile grid
  itself: :mod:`layers.store.tile_grid`);
- raw complaints (zoom 15 and up) are read from their covering index in tile
  order (migration 0790), not row by row from the table;
- every tile has a feature cap, halved until the tile is under the byte cap.

Plain functions over a connection and typed parameters (no web imports), so
the OGC API can reuse them.
"""

from __future__ import annotations

import math
from dataclasses import replace

from psycopg2 import Error, sql

from data.db import Steps, outside_transaction, run_steps
from data.settings import TileSettings
from layers.spec.model import LayerSpec
from layers.store import tile_counts
from layers.store.columns import shown_columns
from layers.store.features import FeatureQuery
from layers.store.filters import check_filters, where_clause
from layers.store.prepared import GENERIC_PLAN, prepared_call, prepared_done, statement_name
from layers.store.tile_grid import CELL_ZOOM, HALF_WORLD_M, Tile, parse_tile, use_cells
from layers.workflow.access import readable

__all__ = ["Tile", "parse_tile", "get_tile", "tile_steps", "tile_mode", "time_columns"]

BUFFER_PX = 64  # tile-grid units of buffer around each tile (of 4096)
SMALL_FEATURE_PX = 1  # at low zoom, lines shorter / areas narrower than this many pixels are left out
DETAIL_ZOOM = 14  # from this zoom on, every feature is kept


# Layers whose table has a covering index in tile order (migration 0790): layer id -> the SQL functions
# of its key, the column and row (from 180°W, from the top) of the zoom-KEY_ZOOM tile holding a point.
TILE_KEYS = {"complaints": ("complaint_tile_x", "complaint_tile_y")}
KEY_ZOOM = 19
KEY_MIN_ZOOM = 14  # a zoom-14 tile spans 34 key columns; further out the GiST index reads less


def _keyed(spec: LayerSpec, tile: Tile) -> bool:
    """Whether the tile's rows are read from the layer's tile index."""
    return spec.id in TILE_KEYS and tile.z >= KEY_MIN_ZOOM


def _tile_rows(spec: LayerSpec, tile: Tile) -> sql.Composable:
    """The condition finding the rows of the tile and its buffer (parameters: :func:`_tile_row_params`).

    On a layer with a tile index, the key columns and rows covering the
    buffered tile (a superset: ST_AsMVTGeom drops what lies beyond the
    buffer), read from that index alone; else the GiST index on ``geom``.
    """
    if not _keyed(spec, tile):
        return sql.SQL("geom && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326)")
    kx, ky = (sql.SQL("{}(geom)").format(sql.Identifier(f)) for f in TILE_KEYS[spec.id])
    # = ANY on the first key column: one short index range per key column, in tile order. The key cells
    # overhang the buffer by up to a cell: the buffered tile in degrees (not indexed, tested on the index's
    # copy of geom) keeps their rows out of the cap and out of ST_AsMVTGeom.
    return sql.SQL("{} = ANY(%s) AND {} BETWEEN %s AND %s AND ST_X(geom) BETWEEN %s AND %s "
                   "AND ST_Y(geom) BETWEEN %s AND %s").format(kx, ky)


def _tile_row_params(spec: LayerSpec, tile: Tile, extent: int) -> list:
    """The parameters of :func:`_tile_rows`: the tile and its margin, or the key ranges covering them."""
    if not _keyed(spec, tile):
        return [tile.z, tile.x, tile.y, BUFFER_PX / extent]
    key_m = 2 * HALF_WORLD_M / (1 << KEY_ZOOM)
    # ST_AsMVTGeom rounds to the tile grid before it clips: a point half a grid unit past the buffer
    # is kept. One unit more than the buffer, then; its edges lie well inside a key cell at every zoom
    # (≥ 0.15 m from its sides at zoom 22), so rounding cannot move a point out of the ranges.
    buffer_m = tile.width_m * (BUFFER_PX + 1) / extent
    x0, x1 = (math.floor((tile.xmin + HALF_WORLD_M + d) / key_m) for d in (-buffer_m, tile.width_m + buffer_m))
    y0, y1 = (math.floor((HALF_WORLD_M - tile.ymax + d) / key_m) for d in (-buffer_m, tile.width_m + buffer_m))
    west, east = ((tile.xmin + d) / (HALF_WORLD_M / 180) for d in (-buffer_m, tile.width_m + buffer_m))
    south, north = (_latitude(tile.ymax + d) for d in (-tile.width_m - buffer_m, buffer_m))
    return [list(range(x0, x1 + 1)), y0, y1, west, east, south, north]


def _latitude(y: float) -> float:
    """The latitude of a Web Mercator y (metres)."""
    return math.degrees(2 * math.atan(math.exp(y / 6378137)) - math.pi / 2)


# The SQL text of raw tiles by their shape (layer, the viewer's columns, zoom class, order, filters) and a name
# to prepare it under: a few dozen on a busy server. Composing it took longer than a small tile's query; the
# tile's numbers are parameters.
_RAW_TEXTS: dict[tuple, tuple[str, str]] = {}
_RAW_TEXTS_MAX = 512


def _raw_statement(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery, cap: int, extent: int,
                   by_id: bool) -> tuple[str, str, list]:
    """(SQL text, statement name, parameters) of a raw tile: its MVT and the number of rows read (``cap`` when
    cut short)."""
    shape = (spec.id, tuple(readable(spec, query.viewer).items()), tile.z < DETAIL_ZOOM, _keyed(spec, tile),
             by_id, query.filters, None if spec.geometry_type == "Point" else tile.z, query.iso_times)
    where, params = where_clause(spec, query.filters)
    cached = _RAW_TEXTS.get(shape)
    if cached is None:
        if len(_RAW_TEXTS) >= _RAW_TEXTS_MAX:
            _RAW_TEXTS.clear()
        cached = _RAW_TEXTS[shape] = (_raw_sql(spec, tile, query, where, extent, by_id).as_string(conn),
                                      statement_name())
    return *cached, [tile.z, tile.x, tile.y, *_tile_row_params(spec, tile, extent), *params, cap]


def _raw_sql(spec: LayerSpec, tile: Tile, query: FeatureQuery, where: sql.Composable, extent: int,
             by_id: bool) -> sql.Composable:
    """The raw tile's statement; parameters: the tile's z, x, y, its rows', the filters', the cap.

    ``by_id``: on a layer with a tile index, keep the first ``cap`` rows by id
    (the index yields rows west to east: cut short in its order, a tile would
    keep its western strip); unordered otherwise, which spares a sort.
    """
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
        shown = [(c, e) for c, e in shown if c in (spec.style_column, "name", "code", "level", "in_service")]
    # Times as whole seconds since 1970 (UTC): MVT has no time type, and rendering a timestamptz as text per
    # value was a quarter of ST_AsMVT's work; map.js shows them in the city's zone. The OGC tiles write
    # ISO 8601 text as the OGC features do: a GIS client shows it as a date.
    times = time_columns(spec)
    as_time = "(to_json({})#>>'{{}}')" if query.iso_times else "floor(date_part('epoch', {}))::bigint"
    columns = sql.SQL("").join(sql.SQL(", {} AS {}").format(sql.SQL(as_time).format(e) if c in times else e,
                                                            sql.Identifier(c)) for c, e in shown if c != "id")
    return sql.SQL(
        "SELECT ST_AsMVT(t, {name}, {extent}, 'geom', 'id') FILTER (WHERE t.geom IS NOT NULL), count(*) FROM ("
        " SELECT id{columns}, ST_AsMVTGeom({g}, ST_TileEnvelope(%s, %s, %s), {extent}, {buffer}, true) AS geom"
        " FROM {table} WHERE {rows} AND {where} AND {size} {order} LIMIT %s) t"
    ).format(
        name=sql.Literal(spec.id), extent=sql.Literal(extent), columns=columns, g=geom3857,
        buffer=sql.Literal(BUFFER_PX), table=sql.Identifier(spec.table), rows=_tile_rows(spec, tile), where=where,
        size=size_filter, order=order,
    )


def time_columns(spec: LayerSpec) -> set[str]:
    """The columns a raw tile carries as whole seconds since 1970 UTC (ISO 8601 text with ``iso_times``)."""
    return {f.column for f in spec.fields if f.kind == "time"}


def tile_mode(spec: LayerSpec, zoom: int) -> str:
    """``heat`` or ``hex`` (aggregated) or ``features`` for a layer at a zoom."""
    mode = spec.mode_at(zoom)
    return mode if mode in ("heat", "hex") else "features"


def get_tile(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery | None = None,
             settings: TileSettings | None = None) -> bytes:
    """The MVT bytes of one tile of a layer (empty bytes for an empty tile).

    ``query`` carries the filters (street, time, category …); its bbox,
    limit and offset are ignored. A tile over the byte cap is re-encoded
    with half the features until it fits. The statements are
    :func:`tile_steps`', on this blocking connection.
    """
    query = query or FeatureQuery()
    check_filters(conn, query.filters)
    with outside_transaction(conn), conn.cursor() as cur:
        return run_steps(cur, tile_steps(conn, spec, tile, query, settings))


def tile_steps(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery | None = None,
               settings: TileSettings | None = None) -> Steps:
    """The statements of one tile, without running them: yields (SQL text, parameters), is sent each one's
    first row (or thrown its error), returns the MVT bytes.

    One place for the tile's SQL, run by :func:`get_tile` on a blocking
    connection or by :func:`data.db_async.run_steps_async` on an asynchronous
    one (autocommit). ``query``'s filters must be checked already
    (:func:`~layers.store.filters.check_filters`); ``conn`` only renders the
    text and keeps its prepared statements.
    """
    settings = settings or TileSettings.from_env()
    query = query or FeatureQuery()
    query = FeatureQuery(replace(query.filters, boxes=()), viewer=query.viewer, iso_times=query.iso_times)
    mode = tile_mode(spec, tile.z)
    if mode == "features":
        return _raw_steps(conn, spec, tile, query, settings)
    return _aggregated_steps(conn, spec, tile, query, settings, mode)


def _aggregated_steps(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery, settings: TileSettings,
                      mode: str) -> Steps:
    """A tile of heat points or hexagons with counts (never over the caps: at most one point per cell)."""
    if mode == "heat" and tile.z <= CELL_ZOOM and use_cells(spec, query.filters):
        statement, params = tile_counts.heat_cells_tile_sql(spec, tile, settings.extent)
    elif mode == "heat":
        statement, params = tile_counts.heat_sql(spec, tile, query, settings.extent)
    else:
        statement, params = tile_counts.hex_sql(spec, tile, query, settings.extent)
    # The settings travel with the query: one round trip to the server, not three.
    data = (yield sql.Composed([SHORT_QUERY, statement]).as_string(conn), params)[0]
    return bytes(data) if data is not None else b""


def _raw_steps(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery, settings: TileSettings) -> Steps:
    """A tile of single features: capped at ``max_features``, then halved until under ``max_bytes``."""
    cap, by_id = settings.max_features, False
    while True:
        text, name, params = _raw_statement(conn, spec, tile, query, cap, settings.extent, by_id)
        preparing = False
        if _keyed(spec, tile) and not by_id and not query.filters.narrowed:
            # The index-only read of the tile index is the plan for any tile: a generic plan is safe.
            text, params, preparing = prepared_call(conn, name, _FEW_ROWS + GENERIC_PLAN, text, params)
        else:
            text = _FEW_ROWS + text
        try:
            data, read = yield text, params
        except Error:
            if preparing:
                prepared_done(conn, name, ok=False)
            raise
        if preparing:
            prepared_done(conn, name, ok=True)
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
SHORT_QUERY = sql.SQL("SET LOCAL jit = off; SET LOCAL enable_sort = off; ")
_FEW_ROWS = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; "


