"""OGC API – Features (Parts 1 and 2) and Tiles over the layer registry: parameters and SQL, no HTTP.

The HTTP side is ``api/routes/ogc.py``. Everything here is a plain function
over a connection and typed values, sharing the layer code of the web map:
the registry (:mod:`layers.spec.registry`), the filters of
:mod:`layers.store.filters`, the feature encoding and paging of
:mod:`layers.store.features` and, for tiles, :mod:`layers.store.tiles`.
Numbers and instants are parsed by :mod:`data.params`, as on every route: a
date or a time without a zone is in the city's time zone.

Coordinates: rows are stored in EPSG:4326 (lon/lat in PostGIS). Output in
CRS84 is lon/lat; EPSG:4326 and EPSG:4490 (CGCS2000) are lat/lon, the axis
order their EPSG definitions give, as OGC API – Features Part 2 requires.
CGCS2000 and WGS84 differ by less than a metre for mapping, so the project
treats them as one datum (DESIGN §3): EPSG:4490 output is the same numbers
as EPSG:4326, declared as CGCS2000.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg2 import sql

from data.errors import InvalidParameter, NotFound
from data.params import BBox, TimeWindow, clean_text, parse_instant, parse_int, parse_number
from data.settings import OgcSettings
from layers.spec.model import LayerSpec
from layers.store.features import MAX_OFFSET, FeatureQuery, feature_sql, page_sql
from layers.store.filters import Filters, check_window, where_clause
from layers.workflow.access import User, readable

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
    """A validated items request: a page of filtered rows, and the CRS to write them in."""

    base: FeatureQuery
    crs: str = CRS84


def parse_crs(raw: str | None, parameter: str = "crs") -> str:
    """A supported CRS URI (CRS84 when absent), or InvalidParameter listing the supported ones."""
    value = clean_text(raw, parameter, 200)
    if value is None:
        return CRS84
    if value in SUPPORTED_CRS:
        return value
    alias = _CRS_ALIASES.get(value.lower())
    if alias:
        return alias
    raise InvalidParameter(parameter, f"unsupported CRS {raw!r}; supported: {', '.join(SUPPORTED_CRS)}",
                           f"不支持坐标系 {raw!r}；支持：{'、'.join(SUPPORTED_CRS)}")


def parse_limit(raw: str | None, settings: OgcSettings) -> int:
    """The page size: the default when absent, the cap when larger (the standard says cap, not fail)."""
    value = parse_int(raw, "limit", 1, 2**63 - 1, settings.default_limit)
    return min(value, settings.max_limit)


def parse_ogc_bbox(raw: str | None, bbox_crs: str = CRS84) -> tuple[BBox, ...]:
    """The ``bbox`` parameter as lon/lat boxes (none, one, or two when it crosses the antimeridian).

    Four numbers (lower left, upper right) or six (with heights, ignored), in
    the axis order of ``bbox_crs``: lon,lat for CRS84, lat,lon for EPSG:4326/4490.
    """
    text = clean_text(raw, "bbox", 200)
    if text is None:
        return ()
    order = "minlat,minlon,maxlat,maxlon" if bbox_crs in LAT_LON_CRS else "minlon,minlat,maxlon,maxlat"
    expected = f"expected 4 numbers {order} (or 6 with heights), got {raw!r}"
    expected_zh = f"应为 4 个数 {order}（或连高程共 6 个），而不是 {raw!r}"
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter("bbox", expected, expected_zh)
    values = [parse_number(p, "bbox", expected, expected_zh) for p in parts]
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if bbox_crs in LAT_LON_CRS:
        values = [values[1], values[0], values[3], values[2]]
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter("bbox", f"{raw!r} is outside longitude −180…180, latitude −90…90 (order {order})",
                               f"{raw!r} 超出经度 −180…180、纬度 −90…90（顺序 {order}）")
    if miny > maxy:
        raise InvalidParameter("bbox", f"{raw!r}: the lower latitude exceeds the upper one (order {order})",
                               f"{raw!r}：下边纬度大于上边纬度（顺序 {order}）")
    if minx > maxx:  # crosses the antimeridian: two boxes
        return ((minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy))
    return ((minx, miny, maxx, maxy),)


def _interval_end(text: str) -> datetime:
    """The exclusive bound after an inclusive end: the next day after a date, the next microsecond
    (PostgreSQL's resolution) after a date-time."""
    end = parse_instant(text, "datetime", end_of_day=True)
    return end if end != parse_instant(text, "datetime") else end + timedelta(microseconds=1)


def parse_datetime(raw: str | None) -> TimeWindow:
    """``datetime``: an instant, or an interval ``start/end`` with ``..`` or empty for an open end.

    Returns the matching :class:`~data.params.TimeWindow` (until exclusive);
    OGC API's ends are inclusive and a date instant means that whole day.
    """
    text = clean_text(raw, "datetime", 200)
    if text is None:
        return TimeWindow()
    if "/" not in text:
        return TimeWindow(parse_instant(text, "datetime"), _interval_end(text))
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidParameter("datetime", f"an interval has one '/': start/end, got {raw!r}",
                               f"时间段只有一个“/”：起/止，而不是 {raw!r}")
    low, high = (p.strip() for p in parts)
    start = None if low in ("", "..") else parse_instant(low, "datetime")
    end = None if high in ("", "..") else _interval_end(high)
    if start is None and end is None:
        raise InvalidParameter("datetime", f"an interval needs at least one end, got {raw!r}",
                               f"时间段至少要有一端，而不是 {raw!r}")
    if start and end and start >= end:
        raise InvalidParameter("datetime", f"the start of {raw!r} is after its end", f"{raw!r} 的开始晚于结束")
    return TimeWindow(start, end)


# How a queryable's SQL type is described (JSON Schema) and how a filter value is parsed.
_JSON_TYPES = {
    "integer": ("integer", None), "bigint": ("integer", None), "smallint": ("integer", None),
    "numeric": ("number", None), "double precision": ("number", None), "real": ("number", None),
    "boolean": ("boolean", None), "timestamp with time zone": ("string", "date-time"),
    "timestamp without time zone": ("string", "date-time"), "date": ("string", "date"),
}
_INT_BITS = {"smallint": 16, "integer": 32, "bigint": 64}


def filterable(spec: LayerSpec, viewer: User | None) -> list[str]:
    """The property columns ``viewer`` may filter by: those it reads on every row (no filter is an oracle)."""
    return [column for column, grant in readable(spec, viewer).items() if grant is True]


def column_types(conn, spec: LayerSpec) -> dict[str, str]:
    """SQL data type of each property column of a layer (information_schema)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND column_name = ANY(%s)",
            (spec.table, list(spec.columns)),
        )
        return dict(cur.fetchall())


def queryables(conn, spec: LayerSpec, lang: str = "zh", viewer: User | None = None) -> dict[str, dict]:
    """JSON Schema of each property ``viewer`` can filter a collection by (``name=value`` on items)."""
    types = column_types(conn, spec)
    labels = {f.column: f.label(lang) for f in spec.popup}
    out: dict[str, dict] = {}
    for column in filterable(spec, viewer):
        json_type, fmt = _JSON_TYPES.get(types.get(column, "text"), ("string", None))
        entry: dict = {"title": labels.get(column, column), "type": json_type}
        if fmt:
            entry["format"] = fmt
        if column == spec.style_column and spec.categories:
            entry["enum"] = [c.value for c in spec.categories]
        out[column] = entry
    return out


def _filter_value(column: str, text: str, sql_type: str):
    """A property filter's value typed for its column (``seats=2``, ``is_free=true``, ``name=…``)."""
    if sql_type in _INT_BITS:
        bound = 2 ** (_INT_BITS[sql_type] - 1)
        return parse_int(text, column, -bound, bound - 1)
    json_type = _JSON_TYPES.get(sql_type, ("string", None))[0]
    if json_type == "number":
        return parse_number(text, column, f"must be a number, not {text!r}", f"应为数字，而不是 {text!r}")
    if json_type == "boolean":
        if text.lower() not in ("true", "false"):
            raise InvalidParameter(column, f"must be true or false, not {text!r}", f"须为 true 或 false，而不是 {text!r}")
        return text.lower() == "true"
    if sql_type.startswith("timestamp"):
        return parse_instant(text, column)
    if sql_type == "date":
        return parse_instant(text, column).date()
    return text


def _property_filters(spec: LayerSpec, types: dict[str, str], params: Mapping[str, str],
                      viewer: User | None) -> tuple:
    """(column, (value,)) for each ``name=value`` that is not a standard parameter; InvalidParameter else."""
    out = []
    columns = filterable(spec, viewer)
    for name, raw in params.items():
        text = clean_text(raw, name)  # refuses NUL, which PostgreSQL text cannot hold
        if name in ITEMS_PARAMETERS or text is None:
            continue
        if name not in columns:
            raise InvalidParameter(
                name, f"unknown parameter; the standard ones are {', '.join(sorted(ITEMS_PARAMETERS))} and "
                f"the queryable properties of {spec.id!r} are {', '.join(columns)}",
                f"未知参数；标准参数有 {'、'.join(sorted(ITEMS_PARAMETERS))}，{spec.id!r} 可查询的属性有 "
                f"{'、'.join(columns)}")
        out.append((name, (_filter_value(name, text, types.get(name, "text")),)))
    return tuple(out)


def items_query(conn, spec: LayerSpec, params: Mapping[str, str], settings: OgcSettings | None = None,
                viewer: User | None = None) -> ItemsQuery:
    """Validate an items request's query parameters; InvalidParameter names the first bad one.

    ``params`` is the query string as a mapping (one value per name). Names
    other than the standard ones must be queryable properties of the layer.
    """
    settings = settings or OgcSettings.from_env()
    values = _property_filters(spec, column_types(conn, spec), params, viewer)
    crs = parse_crs(params.get("crs"))
    boxes = parse_ogc_bbox(params.get("bbox"), parse_crs(params.get("bbox-crs"), "bbox-crs"))
    window = parse_datetime(params.get("datetime"))
    check_window(spec, window, "datetime")
    filters = Filters(boxes, exact=True, window=window, values=values)
    limit = parse_limit(params.get("limit"), settings)
    offset = parse_int(params.get("offset"), "offset", 0, MAX_OFFSET, 0)
    return ItemsQuery(FeatureQuery(filters, limit, offset, viewer), crs)


def get_items(conn, spec: LayerSpec, query: ItemsQuery, *, count: bool) -> tuple[bytes, int, int | None]:
    """One page of a collection: (comma-joined GeoJSON features, number returned, number matched or None).

    ``count``: also count every matching feature (callers ask only for small
    layers: no COUNT(*) over a big table per request).
    """
    statement, params = page_sql(spec, query.base, feature_sql(spec, query.crs in LAT_LON_CRS, query.base.viewer))
    matched = None
    with conn.cursor() as cur:
        cur.execute(statement, params)
        returned, joined = cur.fetchone()
        if count:
            where, values = where_clause(spec, query.base.filters)
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(sql.Identifier(spec.table), where), values)
            matched = cur.fetchone()[0]
    return bytes(joined), returned, matched


def get_item(conn, spec: LayerSpec, fid: str, crs: str = CRS84, viewer: User | None = None) -> bytes:
    """One feature as GeoJSON bytes, or NotFound (an id that is not a whole number matches nothing)."""
    missing = NotFound(f"collection {spec.id!r} has no feature {fid!r}", f"图层 {spec.id!r} 中没有要素 {fid!r}")
    if not re.fullmatch(r"[0-9]{1,18}", fid):
        raise missing
    statement = sql.SQL("SELECT convert_to({feature}, 'UTF8') FROM {table} WHERE id = %s").format(
        feature=feature_sql(spec, crs in LAT_LON_CRS, viewer), table=sql.Identifier(spec.table))
    with conn.cursor() as cur:
        cur.execute(statement, (int(fid),))
        row = cur.fetchone()
    if row is None:
        raise missing
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
    if not re.fullmatch(r"[0-9]{1,2}", tile_matrix) or int(tile_matrix) > max_zoom:
        raise InvalidParameter("tileMatrix", f"must be one of 0 … {max_zoom} of {WEB_MERCATOR_QUAD}, not {tile_matrix!r}",
                               f"须为 {WEB_MERCATOR_QUAD} 的 0 … {max_zoom} 之一，而不是 {tile_matrix!r}")
    z = int(tile_matrix)
    size = 1 << z
    for name, raw in (("tileRow", tile_row), ("tileCol", tile_col)):
        if not re.fullmatch(r"[0-9]{1,8}", raw) or int(raw) >= size:
            raise InvalidParameter(name, f"must be 0 … {size - 1} at tileMatrix {z}, not {raw!r}",
                                   f"在 tileMatrix {z} 下须为 0 … {size - 1}，而不是 {raw!r}")
    return z, int(tile_col), int(tile_row)


def geometry_dimension(spec: LayerSpec) -> int | None:
    """0 points, 1 lines, 2 areas, None when a layer mixes them."""
    return {"Point": 0, "LineString": 1, "MultiLineString": 1, "Polygon": 2, "MultiPolygon": 2}.get(spec.geometry_type)
