"""GeoJSON features of a layer, encoded by PostGIS.

PostGIS builds each Feature with ``json_build_object`` and ``ST_AsGeoJSON``
and joins them with ``string_agg``; Python only wraps the joined bytes in the
FeatureCollection (orjson for the small metadata). No geometry passes through
Python objects. Plain functions over a connection and typed parameters, so
the web API and the OGC API share them (no web imports here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
from psycopg2 import sql

from data.errors import InvalidParameter
from data.params import BBox, TimeWindow
from data.settings import FeatureSettings
from layers.spec.model import LayerSpec
from layers.store.columns import properties_sql
from layers.store.filters import Filters, check_filters, check_window, unknown_value, where_clause
from layers.workflow.access import User

# Decimal places of coordinates in the output: 6 ≈ 0.1 m, finer than any source.
COORD_DECIMALS = 6
MAX_OFFSET = 2**31 - 1  # beyond this a page is meaningless (and PostgreSQL's OFFSET would overflow sooner or later)


@dataclass(frozen=True)
class FeatureQuery:
    """A page of a layer's filtered rows, as ``viewer`` may read them (None: anonymous, public columns).

    Build it with :func:`feature_query` to validate the parts.
    """

    filters: Filters = field(default_factory=Filters)
    limit: int = 1000
    offset: int = 0
    viewer: User | None = None
    #: Times in a tile as ISO 8601 text (the OGC tiles: what GIS clients show as dates) instead of whole seconds.
    iso_times: bool = False


def feature_query(
    spec: LayerSpec,
    *,
    bbox: BBox | None = None,
    limit: int | None = None,
    offset: int = 0,
    street: str | None = None,
    window: TimeWindow | None = None,
    filters: Mapping[str, tuple[str, ...]] | None = None,
    settings: FeatureSettings | None = None,
    viewer: User | None = None,
) -> FeatureQuery:
    """Check typed request values against a layer and the limits; InvalidParameter names the bad one.

    The values come parsed (``api/deps.py`` over :mod:`data.params`); this
    checks what depends on the layer: its time column, its filter columns
    (``filters`` maps e.g. ``category``, ``status`` to allowed values) and
    their known values, and the page size against the settings.
    """
    settings = settings or FeatureSettings.from_env()
    if limit is None:
        limit = settings.default_limit
    if not 1 <= limit <= settings.max_limit:
        raise InvalidParameter("limit", f"must be between 1 and {settings.max_limit}, not {limit}",
                               f"须在 1 到 {settings.max_limit} 之间，而不是 {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameter("offset", f"must be between 0 and {MAX_OFFSET}, not {offset}",
                               f"须在 0 到 {MAX_OFFSET} 之间，而不是 {offset}")
    window = window or TimeWindow()
    check_window(spec, window)
    chosen = []
    for column, values in (filters or {}).items():
        if not values:
            continue
        if column not in spec.filter_columns:
            raise InvalidParameter(column, f"layer {spec.id!r} cannot be filtered by {column}",
                                   f"图层 {spec.id!r} 不能按 {column} 筛选")
        if column == spec.style_column and spec.categories:
            known = {c.value for c in spec.categories}
            unknown = [v for v in values if v not in known]
            if unknown:
                raise unknown_value(column, unknown[0], sorted(known))
        chosen.append((column, tuple(values)))
    boxes = (tuple(float(v) for v in bbox),) if bbox else ()
    return FeatureQuery(Filters(boxes, False, street or None, window, tuple(chosen)), limit, offset, viewer)


def feature_sql(spec: LayerSpec, lat_lon: bool = False, viewer: User | None = None) -> sql.Composable:
    """One row as GeoJSON Feature text with the properties ``viewer`` may read; ``lat_lon`` swaps the
    axes (EPSG:4326/4490 order)."""
    geom = sql.SQL("ST_FlipCoordinates(geom)") if lat_lon else sql.Identifier("geom")
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON({geom}, {decimals})::json,"
        " 'properties', {props})::text"
    ).format(geom=geom, decimals=sql.Literal(COORD_DECIMALS), props=properties_sql(spec, viewer))


def page_sql(spec: LayerSpec, query: FeatureQuery, feature: sql.Composable) -> tuple[sql.Composable, list]:
    """The statement returning (number of features, their comma-joined GeoJSON as bytes) of one page.

    The page's ids first, the GeoJSON after: PostgreSQL evaluates the select
    list of the rows an OFFSET skips too, so building features in the same
    query makes deep pages slow (city scale: 11.5 s at offset 990,000 against
    0.6 s this way; bench/bench_ogc_paging.py).
    """
    where, params = where_clause(spec, query.filters)
    statement = sql.SQL(
        "SELECT count(*), convert_to(coalesce(string_agg(f.feature, ',' ORDER BY f.ord), ''), 'UTF8') FROM ("
        " SELECT {order} AS ord, {feature} AS feature FROM {table}"
        " JOIN (SELECT id FROM {table} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s) page USING (id)) f"
    ).format(order=sql.Identifier(spec.order_column), feature=feature, table=sql.Identifier(spec.table),
             where=where)
    return statement, [*params, query.limit, query.offset]


def feature_collection(features: bytes, meta: dict) -> bytes:
    """Comma-joined features (bytes from PostGIS) and metadata as one FeatureCollection.

    The metadata goes after the features: ``{"type":…,"features":[…],"numberReturned":…}``.
    """
    return b'{"type":"FeatureCollection","features":[' + features + b"]," + orjson.dumps(meta)[1:]


def get_features(conn, spec: LayerSpec, query: FeatureQuery) -> bytes:
    """A GeoJSON FeatureCollection (UTF-8 bytes) of one page of a layer's features.

    The collection carries ``numberReturned`` and, when the page is full, a
    ``next`` offset (no total count: that would be a COUNT(*) over a big table).
    """
    check_filters(conn, query.filters)
    statement, params = page_sql(spec, query, feature_sql(spec, viewer=query.viewer))
    with conn.cursor() as cur:
        cur.execute(statement, params)
        returned, joined = cur.fetchone()
    meta: dict = {"numberReturned": returned}
    if returned == query.limit:
        meta["nextOffset"] = query.offset + query.limit
    return feature_collection(bytes(joined), meta)


def layer_extent(conn, spec: LayerSpec) -> list[float] | None:
    """[minlon, minlat, maxlon, maxlat] of a layer: ST_EstimatedExtent for big tables, ST_Extent otherwise."""
    with conn.cursor() as cur:
        if spec.large:
            cur.execute(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                "(SELECT ST_EstimatedExtent('public', %s, 'geom') AS b) e",
                (spec.table,),
            )
        else:
            cur.execute(
                sql.SQL("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                        "(SELECT ST_Extent(geom) AS b FROM {}) e").format(sql.Identifier(spec.table))
            )
        row = cur.fetchone()
    if row is None or row[0] is None:
        return None
    return [round(v, 6) for v in row]
