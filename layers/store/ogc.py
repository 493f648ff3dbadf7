"""OGC API – Features (Parts 1 and 2) and Tiles over the layer registry: parameters and SQL, no HTTP.

The HTTP side is ``api/routes_ogc.py``. Everything here is a plain function
over a connection and typed values, sharing the layer code of the web map:
the registry (:mod:`layers.spec.registry`), the WHERE clause and property
encoding of :mod:`layers.store.features` and, for tiles, :mod:`layers.store.tiles`.

Coordinates: rows are stored in EPSG:4326 (lon/lat in PostGIS). Output in
CRS84 is lon/lat; EPSG:4326 and EPSG:4490 (CGCS2000) are lat/lon, the axis
order their EPSG definitions give, as OGC API – Features Part 2 requires.
CGCS2000 and WGS84 differ by less than a metre for mapping, so the project
treats them as one datum (DESIGN §3): EPSG:4490 output is the same numbers
as EPSG:4326, declared as CGCS2000.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import orjson
from psycopg2 import sql

from data.errors import InvalidParameter, NotFound
from data.settings import OgcSettings
from layers.spec.model import LayerSpec
from layers.store.features import COORD_DECIMALS, MAX_OFFSET, FeatureQuery, properties_sql, where_clause

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
# Output CRSs, in the order a collection lists them; the first is the default and storage CRS.
SUPPORTED_CRS = (CRS84, EPSG4326, EPSG4490)
LAT_LON_CRS = frozenset({EPSG4326, EPSG4490})
_CRS_ALIASES = {
    "crs84": CRS84, "ogc:crs84": CRS84, "[ogc:crs84]": CRS84,
    "epsg:4326": EPSG4326, "[epsg:4326]": EPSG4326,
    "epsg:4490": EPSG4490, "[epsg:4490]": EPSG4490,
}

# The parameters the items endpoint defines; any other is a property filter or an error.
ITEMS_PARAMETERS = frozenset({"f", "lang", "bbox", "bbox-crs", "limit", "offset", "datetime", "crs"})

# Conformance classes claimed by /ogc/conformance: only what the endpoints do.
CONF_FEATURES_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CONF_GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
CONF_HTML = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
CONF_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"




@dataclass(frozen=True)
class ItemsQuery:
    """A validated items request: the shared feature filter plus what only OGC API has."""

    base: FeatureQuery  # bbox (lon/lat), limit, offset; no street/time/filters
    boxes: tuple[tuple[float, float, float, float], ...] = ()  # lon/lat boxes (two when crossing 180°)
    start: datetime | None = None  # datetime interval, both ends inclusive
    end: datetime | None = None
    equals: tuple[tuple[str, object], ...] = ()  # (column, value) property filters
    crs: str = CRS84


def parse_crs(raw: str | None, parameter: str = "crs") -> str:
    """A supported CRS URI (CRS84 when absent), or InvalidParameter listing the supported ones."""
    if raw is None or raw == "":
        return CRS84
    value = raw.strip()
    if value in SUPPORTED_CRS:
        return value
    alias = _CRS_ALIASES.get(value.lower())
    if alias:
        return alias
    raise InvalidParameter(parameter, f"unsupported CRS {raw!r}; supported: {', '.join(SUPPORTED_CRS)}")


def parse_limit(raw: str | None, settings: OgcSettings) -> int:
    """The page size: the default when absent, the cap when larger (the standard says cap, not fail)."""
    if raw is None or raw == "":
        return settings.default_limit
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter("limit", f"must be a whole number from 1 to {settings.max_limit}, not {raw!r}") from None
    if value < 1:
        raise InvalidParameter("limit", f"must be a whole number from 1 to {settings.max_limit}, not {raw!r}")
    return min(value, settings.max_limit)


def parse_offset(raw: str | None) -> int:
    """Features to skip (0 when absent), or InvalidParameter."""
    if raw is None or raw == "":
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter("offset", f"must be a whole number from 0 to {MAX_OFFSET}, not {raw!r}") from None
    if not 0 <= value <= MAX_OFFSET:
        raise InvalidParameter("offset", f"must be a whole number from 0 to {MAX_OFFSET}, not {raw!r}")
    return value


def parse_ogc_bbox(raw: str | None, bbox_crs: str = CRS84) -> tuple[tuple[float, float, float, float], ...]:
    """The ``bbox`` parameter as lon/lat boxes (none, one, or two when it crosses the antimeridian).

    Four numbers (lower left, upper right) or six (with heights, ignored), in
    the axis order of ``bbox_crs``: lon,lat for CRS84, lat,lon for EPSG:4326/4490.
    """
    if raw is None or raw == "":
        return ()
    order = "minlat,minlon,maxlat,maxlon" if bbox_crs in LAT_LON_CRS else "minlon,minlat,maxlon,maxlat"
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter("bbox", f"expected 4 numbers {order} (or 6 with heights), got {raw!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameter("bbox", f"expected 4 numbers {order} (or 6 with heights), got {raw!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidParameter("bbox", f"coordinates must be finite numbers, got {raw!r}")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if bbox_crs in LAT_LON_CRS:
        values = [values[1], values[0], values[3], values[2]]
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter("bbox", f"{raw!r} is outside longitude −180…180, latitude −90…90 (order {order})")
    if miny > maxy:
        raise InvalidParameter("bbox", f"{raw!r}: the lower latitude exceeds the upper one (order {order})")
    if minx > maxx:  # crosses the antimeridian: two boxes
        return ((minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy))
    return ((minx, miny, maxx, maxy),)


def _parse_instant(raw: str, upper: bool) -> datetime:
    """One end of a datetime: an RFC 3339 date-time, or a date (its start, or its end when ``upper``)."""
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if upper else time.min)
            return moment.replace(tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            "datetime", f"{raw!r} is not an RFC 3339 date or date-time (e.g. 2025-01-31 or 2025-01-31T08:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_datetime(raw: str | None) -> tuple[datetime | None, datetime | None]:
    """``datetime``: an instant, or an interval ``start/end`` with ``..`` or empty for an open end.

    Returns (start, end), both inclusive; a date instant means that whole day (UTC).
    """
    if raw is None or raw == "":
        return None, None
    if "/" not in raw:
        return _parse_instant(raw, upper=False), _parse_instant(raw, upper=True)
    parts = raw.split("/")
    if len(parts) != 2:
        raise InvalidParameter("datetime", f"an interval has one '/': start/end, got {raw!r}")
    low, high = (p.strip() for p in parts)
    start = None if low in ("", "..") else _parse_instant(low, upper=False)
    end = None if high in ("", "..") else _parse_instant(high, upper=True)
    if start is None and end is None:
        raise InvalidParameter("datetime", f"an interval needs at least one end, got {raw!r}")
    if start and end and start > end:
        raise InvalidParameter("datetime", f"the start of {raw!r} is after its end")
    return start, end


# How a queryable's SQL type is described (JSON Schema) and how a filter value is parsed.
_JSON_TYPES = {
    "integer": ("integer", None), "bigint": ("integer", None), "smallint": ("integer", None),
    "numeric": ("number", None), "double precision": ("number", None), "real": ("number", None),
    "boolean": ("boolean", None), "timestamp with time zone": ("string", "date-time"),
    "timestamp without time zone": ("string", "date-time"), "date": ("string", "date"),
}


def column_types(conn, spec: LayerSpec) -> dict[str, str]:
    """SQL data type of each property column of a layer (information_schema)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND column_name = ANY(%s)",
            (spec.table, list(spec.columns)),
        )
        return dict(cur.fetchall())


def queryables(conn, spec: LayerSpec, lang: str = "zh") -> dict[str, dict]:
    """JSON Schema of each property a collection can be filtered by (``name=value`` on items)."""
    types = column_types(conn, spec)
    labels = {f.column: f.label(lang) for f in spec.popup}
    out: dict[str, dict] = {}
    for column in spec.columns:
        json_type, fmt = _JSON_TYPES.get(types.get(column, "text"), ("string", None))
        entry: dict = {"title": labels.get(column, column), "type": json_type}
        if fmt:
            entry["format"] = fmt
        if column == spec.style_column and spec.categories:
            entry["enum"] = [c.value for c in spec.categories]
        out[column] = entry
    return out


def _filter_value(column: str, raw: str, sql_type: str):
    json_type = _JSON_TYPES.get(sql_type, ("string", None))[0]
    try:
        if json_type == "integer":
            return int(raw)
        if json_type == "number":
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        raise InvalidParameter(column, f"must be a {json_type}, not {raw!r}") from None
    if json_type == "boolean":
        if raw.lower() not in ("true", "false"):
            raise InvalidParameter(column, f"must be true or false, not {raw!r}")
        return raw.lower() == "true"
    if sql_type.startswith("timestamp"):
        return _parse_instant(raw, upper=False)
    return raw


def items_query(conn, spec: LayerSpec, params: Mapping[str, str], settings: OgcSettings | None = None) -> ItemsQuery:
    """Validate an items request's query parameters; InvalidParameter names the first bad one.

    ``params`` is the query string as a mapping (one value per name). Names
    other than the standard ones must be queryable properties of the layer.
    """
    settings = settings or OgcSettings.from_env()
    types = column_types(conn, spec)
    equals = []
    for name, raw in params.items():
        if "\x00" in raw:  # PostgreSQL text cannot hold NUL: say so instead of failing in the driver
            raise InvalidParameter(name, "must not contain a NUL character")
        if name in ITEMS_PARAMETERS:
            continue
        if name not in spec.columns:
            raise InvalidParameter(
                name, f"unknown parameter; the standard ones are {', '.join(sorted(ITEMS_PARAMETERS))} and "
                f"the queryable properties of {spec.id!r} are {', '.join(spec.columns)}")
        equals.append((name, _filter_value(name, raw, types.get(name, "text"))))
    crs = parse_crs(params.get("crs"))
    boxes = parse_ogc_bbox(params.get("bbox"), parse_crs(params.get("bbox-crs"), "bbox-crs"))
    start, end = parse_datetime(params.get("datetime"))
    if (start or end) and not spec.time_column:
        raise InvalidParameter("datetime", f"collection {spec.id!r} has no temporal property to filter on")
    base = FeatureQuery(bbox=None, limit=parse_limit(params.get("limit"), settings),
                        offset=parse_offset(params.get("offset")))
    return ItemsQuery(base, boxes, start, end, tuple(equals), crs)


def _where(spec: LayerSpec, query: ItemsQuery) -> tuple[sql.Composable, list]:
    where, params = where_clause(spec, query.base)
    parts, values = [where], list(params)
    if query.boxes:
        boxes = sql.SQL(" OR ").join(
            # ST_Intersects, not a bare &&: the index boxes are float4, a point just outside would pass.
            sql.SQL("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))") for _ in query.boxes)
        parts.append(sql.SQL("({})").format(boxes))
        for box in query.boxes:
            values.extend(box)
    if query.start:
        parts.append(sql.SQL("{} >= %s").format(sql.Identifier(spec.time_column)))
        values.append(query.start)
    if query.end:
        parts.append(sql.SQL("{} <= %s").format(sql.Identifier(spec.time_column)))
        values.append(query.end)
    for column, value in query.equals:
        parts.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
        values.append(value)
    return sql.SQL(" AND ").join(parts), values


def _geometry_sql(crs: str) -> sql.Composable:
    geom = sql.SQL("ST_FlipCoordinates(geom)") if crs in LAT_LON_CRS else sql.Identifier("geom")
    return sql.SQL("ST_AsGeoJSON({}, {})::json").format(geom, sql.Literal(COORD_DECIMALS))


def _feature_sql(spec: LayerSpec, crs: str) -> sql.Composable:
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', id, 'geometry', {geom}, 'properties', {props})::text"
    ).format(geom=_geometry_sql(crs), props=properties_sql(spec))


def get_items(conn, spec: LayerSpec, query: ItemsQuery, *, count: bool) -> tuple[bytes, int, int | None]:
    """One page of a collection: (comma-joined GeoJSON features, number returned, number matched or None).

    ``count``: also count every matching feature (callers ask only for small
    layers: no COUNT(*) over a big table per request).
    """
    where, params = _where(spec, query)
    order = sql.Identifier(spec.order_column)
    # The page's ids first, the GeoJSON after: PostgreSQL evaluates the select list of the rows an
    # OFFSET skips too, so building features in the same query makes deep pages slow (city scale:
    # 11.5 s at offset 990,000 against 0.6 s this way; bench/ogc_paging.py).
    statement = sql.SQL(
        "SELECT count(*), convert_to(coalesce(string_agg(f.feature, ',' ORDER BY f.ord), ''), 'UTF8') FROM ("
        " SELECT {order} AS ord, {feature} AS feature FROM {table}"
        " JOIN (SELECT id FROM {table} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s) page USING (id)) f"
    ).format(order=order, feature=_feature_sql(spec, query.crs), table=sql.Identifier(spec.table), where=where)
    matched = None
    with conn.cursor() as cur:
        cur.execute(statement, [*params, query.base.limit, query.base.offset])
        returned, joined = cur.fetchone()
        if count:
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(sql.Identifier(spec.table), where), params)
            matched = cur.fetchone()[0]
    return bytes(joined), returned, matched


def get_item(conn, spec: LayerSpec, fid: str, crs: str = CRS84) -> bytes:
    """One feature as GeoJSON bytes, or NotFound (an id that is not a whole number matches nothing)."""
    if not re.fullmatch(r"\d{1,18}", fid):
        raise NotFound(f"collection {spec.id!r} has no feature {fid!r}")
    statement = sql.SQL("SELECT convert_to({feature}, 'UTF8') FROM {table} WHERE id = %s").format(
        feature=_feature_sql(spec, crs), table=sql.Identifier(spec.table))
    with conn.cursor() as cur:
        cur.execute(statement, (int(fid),))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"collection {spec.id!r} has no feature {fid!r}")
    return bytes(row[0])


def temporal_extent(conn, spec: LayerSpec) -> list[str | None] | None:
    """[first, last] of a layer's time column as RFC 3339 strings (index min/max, cheap), or None."""
    if not spec.time_column:
        return None
    column = sql.Identifier(spec.time_column)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT min({c}), max({c}) FROM {t}").format(c=column, t=sql.Identifier(spec.table)))
        first, last = cur.fetchone()
    return [_rfc3339(first), _rfc3339(last)]


def _rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feature_collection(features: bytes, meta: dict) -> bytes:
    """Wrap comma-joined features (bytes from PostGIS) and metadata into a FeatureCollection."""
    tail = orjson.dumps(meta)
    return b'{"type":"FeatureCollection","features":[' + features + b"]," + tail[1:]


def timestamp_now() -> str:
    """The response time stamp (``timeStamp``), RFC 3339 UTC, whole seconds."""
    return _rfc3339(datetime.now(UTC).replace(microsecond=0))



# OGC API – Tiles: the one tile matrix set the /tiles implementation uses.
WEB_MERCATOR_QUAD = "WebMercatorQuad"
WEB_MERCATOR_QUAD_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CONF_TILES = tuple(
    f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}"
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")
)
_HALF_WORLD_M = 20037508.342789244
_TILE_PX = 256
_PIXEL_M = 0.00028  # the standardized rendering pixel size (0.28 mm) that defines scale denominators


def web_mercator_quad(max_zoom: int) -> dict:
    """The WebMercatorQuad tile matrix set (OGC TMS 2.0 JSON) from zoom 0 to ``max_zoom``."""
    matrices = []
    for z in range(max_zoom + 1):
        cell = 2 * _HALF_WORLD_M / _TILE_PX / (1 << z)
        matrices.append({
            "id": str(z), "scaleDenominator": cell / _PIXEL_M, "cellSize": cell, "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-_HALF_WORLD_M, _HALF_WORLD_M], "tileWidth": _TILE_PX, "tileHeight": _TILE_PX,
            "matrixWidth": 1 << z, "matrixHeight": 1 << z,
        })
    return {
        "id": WEB_MERCATOR_QUAD, "title": "Google Maps Compatible for the World", "uri": WEB_MERCATOR_QUAD_URI,
        "crs": EPSG3857, "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def parse_tile_address(tile_matrix: str, tile_row: str, tile_col: str, max_zoom: int) -> tuple[int, int, int]:
    """(z, x, y) of a WebMercatorQuad tile address, or InvalidParameter naming the part out of range."""
    if not re.fullmatch(r"\d{1,2}", tile_matrix) or int(tile_matrix) > max_zoom:
        raise InvalidParameter("tileMatrix", f"must be one of 0 … {max_zoom} of {WEB_MERCATOR_QUAD}, not {tile_matrix!r}")
    z = int(tile_matrix)
    size = 1 << z
    for name, raw in (("tileRow", tile_row), ("tileCol", tile_col)):
        if not re.fullmatch(r"\d{1,8}", raw) or int(raw) >= size:
            raise InvalidParameter(name, f"must be 0 … {size - 1} at tileMatrix {z}, not {raw!r}")
    return z, int(tile_col), int(tile_row)


def geometry_dimension(spec: LayerSpec) -> int | None:
    """0 points, 1 lines, 2 areas, None when a layer mixes them."""
    return {"Point": 0, "LineString": 1, "MultiLineString": 1, "Polygon": 2, "MultiPolygon": 2}.get(spec.geometry_type)
