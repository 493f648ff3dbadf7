"""OGC API – Features (Part 1 core + GeoJSON + HTML, Part 2 CRS) and Tiles under /ogc.

Every layer of the registry is one collection. The SQL lives in
:mod:`layers.store.ogc` (features) and :mod:`layers.store.tiles` (the same vector tiles
as ``/tiles``); this module only does HTTP: parameters, links, formats.

Errors: OGC API – Features asks for **400** on an invalid or unknown query
parameter, where the rest of this API answers 422 (api/errors.py). The
mapping is kept local to /ogc by :class:`OgcRoute`, a route class that turns
the project's exceptions into OGC exception documents
(``{"code", "description"}``) before the app-wide handlers see them;
api/errors.py stays the one mapping for everything else.
"""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from api.deps import get_conn
from api.errors import _validation_message, status_for
from data.errors import HygieneMapError, InvalidParameter, NotFound
from data.settings import TileSettings
from layers.spec.model import LayerSpec
from layers.spec.registry import LAYERS, get_layer
from layers.store import ogc
from layers.store.features import layer_extent
from layers.store.tiles import get_tile, parse_tile, tile_mode
from layers.web import ogc_html

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
MVT = "application/vnd.mapbox-vector-tile"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"

_CODES = {400: "InvalidParameterValue", 404: "NotFound", 503: "ServiceUnavailable"}


def _exception(status: int, message: str) -> Response:
    body = {"code": _CODES.get(status, "Error"), "description": message, "detail": message}
    headers = {"Retry-After": "5"} if status == 503 else None
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


class OgcRoute(APIRoute):
    """A route whose errors follow OGC API – Features: 400 for bad parameters, 404 for unknown ids."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def ogc_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (InvalidParameter, RequestValidationError) as exc:
                message = exc.message if isinstance(exc, InvalidParameter) else _validation_message(exc)
                return _exception(400, message)
            except HygieneMapError as exc:
                return _exception(status_for(exc), exc.message)

        return ogc_handler


router = APIRouter(prefix="/ogc", tags=["OGC API"], route_class=OgcRoute)


def get_ogc_lang(request: Request) -> str:
    """Language of titles and pages: ``lang=en`` for English, Chinese otherwise."""
    raw = request.query_params.get("lang", "zh")
    if raw not in ("zh", "zh-CN", "en"):
        raise InvalidParameter("lang", f"must be zh or en, not {raw!r}")
    return "en" if raw == "en" else "zh"


def get_format(request: Request) -> str:
    """``json`` or ``html``: the ``f`` parameter, else the Accept header (browsers get HTML)."""
    raw = request.query_params.get("f")
    if raw is not None:
        if raw in ("json", "geojson"):
            return "json"
        if raw == "html":
            return "html"
        raise InvalidParameter("f", f"must be json or html, not {raw!r}")
    accept = request.headers.get("accept", "")
    return "html" if HTML in accept and "json" not in accept else "json"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def _self_links(request: Request, fmt: str, json_type: str = JSON) -> list[dict]:
    """``self`` and ``alternate`` links of a resource in both formats, keeping the other parameters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "f"]
    url = str(request.url.replace(query=""))

    def with_f(f: str) -> str:
        return url + "?" + urlencode([*params, ("f", f)])

    json_link = _link(with_f("json"), "self" if fmt == "json" else "alternate", json_type, "JSON")
    html_link = _link(with_f("html"), "self" if fmt == "html" else "alternate", HTML, "HTML")
    return [json_link, html_link] if fmt == "json" else [html_link, json_link]


def _json(body: dict, media_type: str = JSON, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


@router.get("", summary="Landing page of the OGC API", response_class=Response)
@router.get("/", include_in_schema=False, response_class=Response)
def landing(request: Request, fmt: str = Depends(get_format), lang: str = Depends(get_ogc_lang)):
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    body = {
        "title": "hygiene-map OGC API" if lang == "en" else "hygiene-map 卫生城市创建 OGC API",
        "description": ("Layers of the hygiene campaign map as OGC API – Features and Tiles"
                        if lang == "en" else "卫生城市创建图层：OGC API – Features 与 Tiles 服务"),
        "links": [
            *_self_links(request, fmt),
            _link(f"{root}/openapi.json", "service-desc", OPENAPI, "OpenAPI definition"),
            _link(f"{root}/docs", "service-doc", HTML, "API documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            _link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON,
                  "Conformance classes"),
            _link(f"{base}/collections", "data", JSON, "Collections"),
            _link(f"{base}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", JSON, "Collections"),
            _link(f"{base}/tileMatrixSets", REL_TILING_SCHEMES, JSON, "Tile matrix sets"),
        ],
    }
    if fmt == "html":
        return HTMLResponse(ogc_html.landing(body, lang))
    return _json(body)


def conformance_classes() -> list[str]:
    """The conformance classes this service implements."""
    return [ogc.CONF_FEATURES_CORE, ogc.CONF_GEOJSON, ogc.CONF_HTML, ogc.CONF_CRS, *ogc.CONF_TILES]


@router.get("/conformance", summary="Conformance classes implemented", response_class=Response)
def conformance(request: Request, fmt: str = Depends(get_format), lang: str = Depends(get_ogc_lang)):
    body = {"conformsTo": conformance_classes()}
    if fmt == "html":
        return HTMLResponse(ogc_html.conformance(body, lang))
    return _json(body)


def _collection(request: Request, conn, spec: LayerSpec, lang: str) -> dict:
    base = _base(request)
    here = f"{base}/collections/{spec.id}"
    extent: dict = {}
    box = layer_extent(conn, spec)
    if box:
        extent["spatial"] = {"bbox": [box], "crs": ogc.CRS84}
    interval = ogc.temporal_extent(conn, spec)
    if interval:
        extent["temporal"] = {"interval": [interval], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    out = {
        "id": spec.id,
        "title": spec.name(lang),
        "description": f"{spec.name_zh} / {spec.name_en}",
        "links": [
            _link(f"{here}?f=json", "self", JSON, spec.name(lang)),
            _link(f"{here}?f=html", "alternate", HTML, spec.name(lang)),
            _link(f"{here}/items?f=json", "items", GEOJSON, "Features (GeoJSON)"),
            _link(f"{here}/items?f=html", "items", HTML, "Features (HTML)"),
            _link(f"{here}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "Queryable properties"),
            _link(f"{here}/schema", "describedby", "application/schema+json", "Feature schema"),
            _link(f"{here}/tiles", REL_TILESETS_VECTOR, JSON, "Vector tilesets"),
        ],
        "itemType": "feature",
        "crs": list(ogc.SUPPORTED_CRS),
        "storageCrs": ogc.CRS84,
        "queryables": list(spec.columns),
    }
    if extent:
        out["extent"] = extent
    return out


@router.get("/collections", summary="Every layer as a collection", response_class=Response)
def collections(request: Request, fmt: str = Depends(get_format), lang: str = Depends(get_ogc_lang),
                conn=Depends(get_conn)):
    body = {
        "links": _self_links(request, fmt),
        "collections": [_collection(request, conn, spec, lang) for spec in LAYERS],
        "crs": list(ogc.SUPPORTED_CRS),
    }
    if fmt == "html":
        return HTMLResponse(ogc_html.collections(body, lang))
    return _json(body)


@router.get("/collections/{collection_id}", summary="One collection: extent, CRSs, queryables",
            response_class=Response)
def collection(request: Request, collection_id: str, fmt: str = Depends(get_format),
               lang: str = Depends(get_ogc_lang), conn=Depends(get_conn)):
    spec = _spec(collection_id)
    body = _collection(request, conn, spec, lang)
    body["links"] = _self_links(request, fmt) + body["links"][2:]
    if fmt == "html":
        return HTMLResponse(ogc_html.collection(body, lang))
    return _json(body)


def _spec(collection_id: str) -> LayerSpec:
    try:
        return get_layer(collection_id)
    except NotFound:
        raise NotFound(f"no collection {collection_id!r}; collections are: {', '.join(s.id for s in LAYERS)}") from None


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties (JSON Schema)",
            response_class=Response)
def collection_queryables(request: Request, collection_id: str, lang: str = Depends(get_ogc_lang),
                          conn=Depends(get_conn)):
    spec = _spec(collection_id)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{spec.id}/queryables",
        "type": "object",
        "title": spec.name(lang),
        "properties": ogc.queryables(conn, spec, lang),
    }
    return _json(body, "application/schema+json")


@router.get("/collections/{collection_id}/schema", summary="Schema of the features' properties (JSON Schema)",
            response_class=Response)
def collection_schema(request: Request, collection_id: str, lang: str = Depends(get_ogc_lang),
                      conn=Depends(get_conn)):
    spec = _spec(collection_id)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{spec.id}/schema",
        "type": "object",
        "title": spec.name(lang),
        "properties": ogc.queryables(conn, spec, lang),
    }
    return _json(body, "application/schema+json")


def _page_url(request: Request, offset: int, limit: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    params += [("limit", str(limit)), ("offset", str(offset))]
    return str(request.url.replace(query="")) + "?" + urlencode(params)


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection (GeoJSON); bbox, bbox-crs, limit, offset, datetime, crs, property=value",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, HTML: {}}}},
)
def items(
    request: Request,
    collection_id: str,
    # Declared for the API definition; the values are read (and validated) from the query string by
    # layers.store.ogc.items_query, which also accepts ``property=value`` for every queryable property.
    bbox: str | None = Query(None, description="minlon,minlat,maxlon,maxlat (CRS84), or in bbox-crs axis order"),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox: CRS84 (default), EPSG 4326, 4490"),
    limit: str | None = Query(None, description="features per page (default and cap are settings; more is cut)"),
    offset: str | None = Query(None, description="features to skip (the next/prev links carry it)"),
    datetime: str | None = Query(None, description="instant or interval start/end (.. for open) on reported_at"),
    crs: str | None = Query(None, description="output CRS: CRS84 (default, lon/lat), EPSG 4326 or 4490 (lat/lon)"),
    fmt: str = Depends(get_format),
    lang: str = Depends(get_ogc_lang),
    conn=Depends(get_conn),
):
    spec = _spec(collection_id)
    params = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise InvalidParameter(name, "given more than once")
        params[name] = value
    query = ogc.items_query(conn, spec, params)
    features, returned, matched = ogc.get_items(conn, spec, query, count=not spec.large)
    limit, offset = query.base.limit, query.base.offset
    links = _self_links(request, fmt, GEOJSON)
    more = offset + returned < matched if matched is not None else returned == limit
    page_type = GEOJSON if fmt == "json" else HTML
    if more:
        links.append(_link(_page_url(request, offset + limit, limit), "next", page_type, "Next page"))
    if offset > 0:
        links.append(_link(_page_url(request, max(0, offset - limit), limit), "prev", page_type, "Previous page"))
    links.append(_link(f"{_base(request)}/collections/{spec.id}", "collection", JSON, spec.name(lang)))
    meta: dict = {"timeStamp": ogc.timestamp_now(), "numberReturned": returned}
    if matched is not None:
        meta["numberMatched"] = matched
    meta["links"] = links
    headers = {"Content-Crs": f"<{query.crs}>"}
    body = ogc.feature_collection(features, meta)
    if fmt == "html":
        return HTMLResponse(ogc_html.items(spec, orjson.loads(body), lang, query.crs), headers=headers)
    return Response(body, media_type=GEOJSON, headers=headers)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature (GeoJSON)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}, HTML: {}}}})
def item(request: Request, collection_id: str, feature_id: str, fmt: str = Depends(get_format),
         lang: str = Depends(get_ogc_lang), conn=Depends(get_conn)):
    spec = _spec(collection_id)
    for name in request.query_params:
        if name not in ("f", "lang", "crs"):
            raise InvalidParameter(name, "unknown parameter; a single feature takes f, lang and crs")
    crs = ogc.parse_crs(request.query_params.get("crs"))
    feature = orjson.loads(ogc.get_item(conn, spec, feature_id, crs))
    base = _base(request)
    feature["links"] = [
        *_self_links(request, fmt, GEOJSON),
        _link(f"{base}/collections/{spec.id}", "collection", JSON, spec.name(lang)),
    ]
    headers = {"Content-Crs": f"<{crs}>"}
    if fmt == "html":
        return HTMLResponse(ogc_html.item(spec, feature, lang), headers=headers)
    return Response(orjson.dumps(feature), media_type=GEOJSON, headers=headers)


# ---- OGC API – Tiles: the vector tiles of /tiles, described by the standard's resources.

def _tms_summary(base: str) -> dict:
    return {
        "id": ogc.WEB_MERCATOR_QUAD, "title": "Google Maps Compatible for the World", "uri": ogc.WEB_MERCATOR_QUAD_URI,
        "links": [_link(f"{base}/tileMatrixSets/{ogc.WEB_MERCATOR_QUAD}", "self", JSON, ogc.WEB_MERCATOR_QUAD)],
    }


@router.get("/tileMatrixSets", summary="Tile matrix sets (WebMercatorQuad)", response_class=Response)
def tile_matrix_sets(request: Request):
    base = _base(request)
    return _json({"links": [_link(f"{base}/tileMatrixSets", "self", JSON)], "tileMatrixSets": [_tms_summary(base)]})


@router.get("/tileMatrixSets/{tms_id}", summary="One tile matrix set (OGC TMS 2.0 JSON)", response_class=Response)
def tile_matrix_set(tms_id: str):
    _check_tms(tms_id)
    return _json(ogc.web_mercator_quad(TileSettings.from_env().max_zoom))


def _check_tms(tms_id: str) -> None:
    if tms_id != ogc.WEB_MERCATOR_QUAD:
        raise NotFound(f"no tile matrix set {tms_id!r}; the one served is {ogc.WEB_MERCATOR_QUAD}")


def _tileset(request: Request, spec: LayerSpec, lang: str, full: bool) -> dict:
    base = _base(request)
    here = f"{base}/collections/{spec.id}/tiles/{ogc.WEB_MERCATOR_QUAD}"
    out = {
        "title": spec.name(lang),
        "dataType": "vector",
        "crs": ogc.EPSG3857,
        "tileMatrixSetURI": ogc.WEB_MERCATOR_QUAD_URI,
        "links": [
            _link(here, "self", JSON, spec.name(lang)),
            _link(f"{base}/tileMatrixSets/{ogc.WEB_MERCATOR_QUAD}", REL_TILING_SCHEME, JSON, ogc.WEB_MERCATOR_QUAD),
        ],
    }
    if full:
        out["links"].append(_link(here + "/{tileMatrix}/{tileRow}/{tileCol}", "item", MVT,
                                  "Mapbox vector tile", templated=True))
        zooms = {tile_mode(spec, z) for z in range(TileSettings.from_env().max_zoom + 1)}
        layer = {"id": spec.id, "title": spec.name(lang), "dataType": "vector",
                 "propertiesSchema": {"type": "object", "properties": {c: {} for c in spec.columns}}}
        dimension = ogc.geometry_dimension(spec)
        if dimension is not None:
            layer["geometryDimension"] = dimension
        if zooms != {"features"}:
            layer["description"] = ("At some zoom levels the tiles carry aggregated cells with a 'count' "
                                    "(heat points or hexagons) instead of single features.")
        out["layers"] = [layer]
    return out


@router.get("/collections/{collection_id}/tiles", summary="Vector tilesets of a collection", response_class=Response)
def collection_tilesets(request: Request, collection_id: str, lang: str = Depends(get_ogc_lang)):
    spec = _spec(collection_id)
    return _json({
        "links": [_link(f"{_base(request)}/collections/{spec.id}/tiles", "self", JSON)],
        "tilesets": [_tileset(request, spec, lang, full=False)],
    })


@router.get("/collections/{collection_id}/tiles/{tms_id}", summary="Vector tileset metadata of a collection",
            response_class=Response)
def collection_tileset(request: Request, collection_id: str, tms_id: str, lang: str = Depends(get_ogc_lang)):
    spec = _spec(collection_id)
    _check_tms(tms_id)
    return _json(_tileset(request, spec, lang, full=True))


@router.get(
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="One vector tile (the /tiles implementation); 204 when empty",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}},
)
def collection_tile(collection_id: str, tms_id: str, tile_matrix: str, tile_row: str, tile_col: str,
                    request: Request, conn=Depends(get_conn)):
    spec = _spec(collection_id)
    _check_tms(tms_id)
    wanted = request.query_params.get("f")
    if wanted not in (None, "mvt"):
        raise InvalidParameter("f", f"tiles are Mapbox vector tiles: f=mvt, not {wanted!r}")
    settings = TileSettings.from_env()
    z, x, y = ogc.parse_tile_address(tile_matrix, tile_row, tile_col, settings.max_zoom)
    tile = parse_tile(z, x, y, settings)
    data = get_tile(conn, spec, tile, settings=settings)
    headers = {"Cache-Control": f"public, max-age={settings.cache_max_age_s}", "X-Tile-Mode": tile_mode(spec, z)}
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
