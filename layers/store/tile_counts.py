"""Aggregated tiles of a point layer: one point per 1/64-tile cell with its count (heat), flat-topped hexagons
with the count of all their points (hex), and heat tiles summed from the pre-counted cells (migrations 0200, 0201)
when nothing narrows the layer. Statements only: :mod:`layers.store.tiles` runs them."""

from __future__ import annotations

import math

from psycopg2 import sql

from layers.spec.model import LayerSpec
from layers.store.features import FeatureQuery
from layers.store.filters import where_clause
from layers.store.tile_grid import (
    CELL_TABLES,
    CELL_ZOOM,
    HEAT_CELLS_PER_TILE,
    HEX_RADIUS_PX,
    MERCATOR_X,
    MERCATOR_Y,
    Tile,
    search_area,
)


def heat_sql(spec: LayerSpec, tile: Tile, query: FeatureQuery, extent: int):
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
        name=sql.Literal(spec.id), extent=sql.Literal(extent), cpx=sql.Literal(cell_px), mx=MERCATOR_X, my=MERCATOR_Y,
        xmin=sql.Literal(tile.xmin), ymax=sql.Literal(tile.ymax), cell=sql.Literal(cell_m),
        table=sql.Identifier(spec.table), area=search_area(tile, 0.0), where=where,
        last=sql.Literal(HEAT_CELLS_PER_TILE - 1),
    )
    return statement, params


def hex_sql(spec: LayerSpec, tile: Tile, query: FeatureQuery, extent: int):
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
        col=sql.Literal(col_m), row=sql.Literal(row_m), r=sql.Literal(radius_m), mx=MERCATOR_X, my=MERCATOR_Y,
        table=sql.Identifier(spec.table), area=search_area(tile, margin), where=where, name=sql.Literal(spec.id),
        extent=sql.Literal(extent), xmin=sql.Literal(tile.xmin), ymax=sql.Literal(tile.ymax),
        to_px=sql.Literal(to_px), w=sql.Literal(tile.width_m),
    )
    return statement, params


def heat_cells_tile_sql(spec: LayerSpec, tile: Tile, extent: int):
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
