"""GeoJSON features of a layer, encoded by PostGIS.

PostGIS builds each Feature with ``json_build_object`` and ``ST_AsGeoJSON``
and joins them with ``string_agg``; Python only wraps the joined bytes in the
FeatureCollection (orjson for the small metadata). No geometry passes through
Python objects. Plain functions over a connection and typed parameters, so
the web API and the OGC API share them (no web imports here).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

import orjson
from psycopg2 import sql

from data.catalog import check_street
from data.errors import InvalidParameter
from data.settings import FeatureSettings
from layers.spec.model import LayerSpec

# Decimal places of coordinates in the output: 6 ≈ 0.1 m, finer than any source.
COORD_DECIMALS = 6
STREET_CODE = re.compile(r"^\d{9}$")
MAX_OFFSET = 2**31 - 1  # beyond this a page is meaningless (and PostgreSQL's OFFSET would overflow sooner or later)
# Filter columns whose values live in a lookup table: unknown values are a clear 422, not an empty page.
LOOKUPS = {"category": ("event_types", "name")}


@dataclass(frozen=True)
class FeatureQuery:
    """What to select from a layer. Build it with :func:`feature_query` to validate the parts."""

    bbox: tuple[float, float, float, float] | None = None
    limit: int = 1000
    offset: int = 0
    street: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (column, allowed values)


def parse_bbox(raw: str | None, parameter: str = "bbox") -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` in WGS84 → a tuple, or InvalidParameter saying what is wrong."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidParameter(parameter, f"expected 4 numbers minlon,minlat,maxlon,maxlat, got {raw!r}")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InvalidParameter(parameter, f"expected 4 numbers minlon,minlat,maxlon,maxlat, got {raw!r}") from None
    minx, miny, maxx, maxy = values
    if not all(math.isfinite(v) for v in values):
        raise InvalidParameter(parameter, "coordinates must be finite numbers")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter(parameter, f"{raw!r} is outside WGS84 (longitude −180…180, latitude −90…90)")
    if minx > maxx or miny > maxy:
        raise InvalidParameter(parameter, f"{raw!r}: min must not exceed max (order is minlon,minlat,maxlon,maxlat)")
    return values  # type: ignore[return-value]


def parse_time(raw: str | None, parameter: str) -> datetime | None:
    """An ISO 8601 date or date-time, or InvalidParameter."""
    if raw is None or raw == "":
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(parameter, f"{raw!r} is not an ISO 8601 date or date-time (e.g. 2025-01-31)") from None


def feature_query(
    spec: LayerSpec,
    *,
    bbox: str | tuple | None = None,
    limit: int | None = None,
    offset: int = 0,
    street: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    filters: dict[str, str | None] | None = None,
    settings: FeatureSettings | None = None,
) -> FeatureQuery:
    """Validate raw request parameters against a layer and the limits; InvalidParameter names the bad one.

    ``filters`` maps a filter column (e.g. ``category``, ``status``) to a
    comma-separated list of values; only the layer's ``filter_columns`` are accepted.
    """
    settings = settings or FeatureSettings.from_env()
    if limit is None:
        limit = settings.default_limit
    if not 1 <= limit <= settings.max_limit:
        raise InvalidParameter("limit", f"must be between 1 and {settings.max_limit}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameter("offset", f"must be between 0 and {MAX_OFFSET}, not {offset}")
    box = parse_bbox(bbox) if isinstance(bbox, str) or bbox is None else tuple(float(v) for v in bbox)
    if street is not None and street != "" and not STREET_CODE.match(street):
        raise InvalidParameter("street", f"a street code has 9 digits (district 6 + street 3), not {street!r}")
    since_t = since if isinstance(since, datetime) else parse_time(since, "since")
    until_t = until if isinstance(until, datetime) else parse_time(until, "until")
    if (since_t or until_t) and not spec.time_column:
        raise InvalidParameter("since" if since_t else "until", f"layer {spec.id!r} has no time to filter on")
    if since_t and until_t and since_t > until_t:
        raise InvalidParameter("since", "must not be after until")
    chosen = []
    for column, raw in (filters or {}).items():
        if raw is None or raw == "":
            continue
        if column not in spec.filter_columns:
            raise InvalidParameter(column, f"layer {spec.id!r} cannot be filtered by {column}")
        values = tuple(v.strip() for v in raw.split(",") if v.strip())
        if column == spec.style_column and spec.categories:
            known = {c.value for c in spec.categories}
            unknown = [v for v in values if v not in known]
            if unknown:
                raise InvalidParameter(column, f"unknown value {unknown[0]!r}; values are: {', '.join(sorted(known))}")
        chosen.append((column, values))
    return FeatureQuery(box, limit, offset, street or None, since_t, until_t, tuple(chosen))




def check_query(conn, query: FeatureQuery) -> None:
    """NotFound for an unknown street, InvalidParameter for an unknown looked-up filter value."""
    if query.street:
        check_street(conn, query.street)
    for column, values in query.filters:
        if column not in LOOKUPS:
            continue
        table, key = LOOKUPS[column]
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT {k} FROM {t} ORDER BY {k}").format(k=sql.Identifier(key), t=sql.Identifier(table)))
            known = [r[0] for r in cur.fetchall()]
        unknown = [v for v in values if v not in known]
        if unknown:
            raise InvalidParameter(column, f"unknown value {unknown[0]!r}; values are: {', '.join(known)}")


def where_clause(spec: LayerSpec, query: FeatureQuery, geom: sql.Composable = sql.Identifier("geom")):
    """(SQL condition, parameters) selecting the query's rows of a layer; ``TRUE`` when unfiltered.

    Shared by features and tiles so both filter the same way.
    """
    parts: list[sql.Composable] = []
    params: list = []
    if query.bbox:
        parts.append(sql.SQL("{} && ST_MakeEnvelope(%s, %s, %s, %s, 4326)").format(geom))
        params.extend(query.bbox)
    if query.street:
        if spec.street_filter == "column":
            parts.append(sql.SQL("street_code = %s"))
            params.append(query.street)
        elif spec.street_filter == "admin":
            parts.append(sql.SQL("(code = %s OR parent_code = %s)"))
            params.extend([query.street, query.street])
        else:
            parts.append(sql.SQL(
                "ST_Intersects({}, (SELECT a.geom FROM admin_areas a WHERE a.code = %s AND a.level = 'street'))"
            ).format(geom))
            params.append(query.street)
    if query.since:
        parts.append(sql.SQL("{} >= %s").format(sql.Identifier(spec.time_column)))
        params.append(query.since)
    if query.until:
        parts.append(sql.SQL("{} < %s").format(sql.Identifier(spec.time_column)))
        params.append(query.until)
    for column, values in query.filters:
        parts.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
        params.append(list(values))
    if not parts:
        return sql.SQL("TRUE"), params
    return sql.SQL(" AND ").join(parts), params


def properties_sql(spec: LayerSpec) -> sql.Composable:
    """``json_build_object('col', col, …)`` of a layer's property columns."""
    args = []
    for column in spec.columns:
        args.append(sql.Literal(column))
        args.append(sql.Identifier(column))
    return sql.SQL("json_build_object({})").format(sql.SQL(", ").join(args))


def features_sql(spec: LayerSpec, query: FeatureQuery) -> tuple[sql.Composable, list]:
    """The statement returning (number of features, their comma-joined GeoJSON as bytes)."""
    where, params = where_clause(spec, query)
    order = sql.Identifier(spec.order_column)
    statement = sql.SQL(
        "SELECT count(*), convert_to(coalesce(string_agg(f.feature, ',' ORDER BY f.ord), ''), 'UTF8') FROM ("
        " SELECT {order} AS ord, json_build_object("
        "  'type', 'Feature', 'id', {id}, 'geometry', ST_AsGeoJSON({geom}, {decimals})::json,"
        "  'properties', {props})::text AS feature"
        " FROM {table} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s) f"
    ).format(
        order=order,
        id=sql.Identifier("id"),
        geom=sql.Identifier("geom"),
        decimals=sql.Literal(COORD_DECIMALS),
        props=properties_sql(spec),
        table=sql.Identifier(spec.table),
        where=where,
    )
    return statement, [*params, query.limit, query.offset]


def get_features(conn, spec: LayerSpec, query: FeatureQuery, *, links: list[dict] | None = None) -> bytes:
    """A GeoJSON FeatureCollection (UTF-8 bytes) of one page of a layer's features.

    The collection carries ``numberReturned`` and, when the page is full, a
    ``next`` offset (no total count: that would be a COUNT(*) over a big table).
    """
    check_query(conn, query)
    statement, params = features_sql(spec, query)
    with conn.cursor() as cur:
        cur.execute(statement, params)
        returned, joined = cur.fetchone()
    meta: dict = {"numberReturned": returned}
    if returned == query.limit:
        meta["nextOffset"] = query.offset + query.limit
    if links:
        meta["links"] = links
    # The metadata goes after the features: '{"type":…,"features":[…],"numberReturned":…}'.
    tail = orjson.dumps(meta)
    return b'{"type":"FeatureCollection","features":[' + bytes(joined) + b"]," + tail[1:]


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
