"""OGC API – Features (Part 1 core + GeoJSON + HTML, Part 2 CRS) under /ogc; the Tiles are in ogc_tiles.py.

Every layer of the registry is one collection. The SQL lives in
:mod:`layers.store.ogc`; this module only does HTTP: parameters, links, formats.

Errors: OGC API – Features asks for **400** on an invalid or unknown query
parameter, where the rest of this API answers 422 (api/errors.py). The
mapping is kept local to /ogc by :class:`OgcRoute`, a route class that turns
the project's exceptions into OGC exception documents
(``{"code", "description"}``) before the app-wide handlers see them;
api/errors.py stays the one mapping for everything else.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from api.auth import Reader
from api.deps import Conn, Lang
from api.errors import status_for
from api.urls import base_url
from api.validation import validation_message
from data.errors import HygieneMapError, InvalidParameter, NotFound
from layers.spec.model import LayerSpec
from layers.spec.registry import LAYERS, get_layer
from layers.store import ogc
from layers.store.features import feature_collection, layer_extent
from layers.web import ogc_html
from layers.workflow.access import User

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"

_CODES = {400: "InvalidParameterValue", 404: "NotFound", 503: "ServiceUnavailable"}


def _exception(status: int, message: str, zh: str | None = None) -> Response:
    body = {"code": _CODES.get(status, "Error"), "description": message, "detail": message}
    body |= {"detail_zh": zh} if zh else {}
    headers = {"Retry-After": "5"} if status == 503 else None
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


class OgcRoute(APIRoute):
    """A route whose errors follow OGC API – Features: 400 for bad parameters, 404 for unknown ids."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def ogc_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except InvalidParameter as exc:
                return _exception(400, exc.message, exc.zh)
            except RequestValidationError as exc:
                return _exception(400, *validation_message(exc))
            except HygieneMapError as exc:
                return _exception(status_for(exc), exc.message, exc.zh)

        return ogc_handler


router = APIRouter(prefix="/ogc", tags=["OGC API"], route_class=OgcRoute)


def get_format(request: Request) -> str:
    """``json`` or ``html``: the ``f`` parameter, else the Accept header (browsers get HTML)."""
    raw = request.query_params.get("f")
    if raw is not None:
        if raw in ("json", "geojson"):
            return "json"
        if raw == "html":
            return "html"
        raise InvalidParameter("f", f"must be json or html, not {raw!r}", f"应为 json 或 html，而不是 {raw!r}")
    accept = request.headers.get("accept", "")
    return "html" if HTML in accept and "json" not in accept else "json"


Format = Annotated[str, Depends(get_format)]


def ogc_base(request: Request) -> str:
    """The absolute URL of /ogc for this request (api.urls.base_url: never an unchecked Host)."""
    return base_url(request) + "/ogc"


def _here(request: Request) -> str:
    """This request's absolute URL without its query, on the checked base URL."""
    path, root = request.url.path, request.scope.get("root_path", "")
    if root and path.startswith(root):  # the base URL carries the prefix already
        path = path[len(root):]
    return base_url(request) + path


def link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def _self_links(request: Request, fmt: str, json_type: str = JSON) -> list[dict]:
    """``self`` and ``alternate`` links of a resource in both formats, keeping the other parameters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "f"]
    url = _here(request)

    def with_f(f: str) -> str:
        return url + "?" + urlencode([*params, ("f", f)])

    json_link = link(with_f("json"), "self" if fmt == "json" else "alternate", json_type, "JSON")
    html_link = link(with_f("html"), "self" if fmt == "html" else "alternate", HTML, "HTML")
    return [json_link, html_link] if fmt == "json" else [html_link, json_link]


def json_response(body: dict, media_type: str = JSON, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


@router.get("", summary="Landing page of the OGC API", response_class=Response)
@router.get("/", include_in_schema=False, response_class=Response)
def landing(request: Request, fmt: Format, lang: Lang):
    base = ogc_base(request)
    root = base_url(request)
    body = {
        "title": "hygiene-map OGC API" if lang == "en" else "hygiene-map 卫生城市创建 OGC API",
        "description": ("Layers of the hygiene campaign map as OGC API – Features and Tiles"
                        if lang == "en" else "卫生城市创建图层：OGC API – Features 与 Tiles 服务"),
        "links": [
            *_self_links(request, fmt),
            link(f"{root}/openapi.json", "service-desc", OPENAPI, "OpenAPI definition"),
            link(f"{root}/docs", "service-doc", HTML, "API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON,
                  "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "Collections"),
            link(f"{base}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", JSON, "Collections"),
            link(f"{base}/tileMatrixSets", REL_TILING_SCHEMES, JSON, "Tile matrix sets"),
        ],
    }
    if fmt == "html":
        return HTMLResponse(ogc_html.landing(body, lang))
    return json_response(body)


def conformance_classes() -> list[str]:
    """The conformance classes this service implements."""
    return [ogc.CONF_FEATURES_CORE, ogc.CONF_GEOJSON, ogc.CONF_HTML, ogc.CONF_CRS, *ogc.CONF_TILES]


@router.get("/conformance", summary="Conformance classes implemented", response_class=Response)
def conformance(request: Request, fmt: Format, lang: Lang):
    body = {"conformsTo": conformance_classes()}
    if fmt == "html":
        return HTMLResponse(ogc_html.conformance(body, lang))
    return json_response(body)


def _collection(request: Request, conn, spec: LayerSpec, lang: str, user: User | None) -> dict:
    base = ogc_base(request)
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
            link(f"{here}?f=json", "self", JSON, spec.name(lang)),
            link(f"{here}?f=html", "alternate", HTML, spec.name(lang)),
            # No ?f=json here: clients append the feature id to this href (GDAL asked items?f=json/1 for
            # feature 1); the items answer JSON by the Accept header, as without any f.
            link(f"{here}/items", "items", GEOJSON, "Features (GeoJSON)"),
            link(f"{here}/items?f=html", "items", HTML, "Features (HTML)"),
            link(f"{here}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "Queryable properties"),
            link(f"{here}/schema", "describedby", "application/schema+json", "Feature schema"),
            link(f"{here}/tiles", REL_TILESETS_VECTOR, JSON, "Vector tilesets"),
        ],
        "itemType": "feature",
        "crs": list(ogc.SUPPORTED_CRS),
        "storageCrs": ogc.CRS84,
        "queryables": ogc.filterable(spec, user),
    }
    if extent:
        out["extent"] = extent
    return out


@router.get("/collections", summary="Every layer as a collection", response_class=Response)
def collections(request: Request, fmt: Format, lang: Lang, user: Reader,
                conn: Conn):
    body = {
        "links": _self_links(request, fmt),
        "collections": [_collection(request, conn, spec, lang, user) for spec in LAYERS],
        "crs": list(ogc.SUPPORTED_CRS),
    }
    if fmt == "html":
        return HTMLResponse(ogc_html.collections(body, lang))
    return json_response(body)


@router.get("/collections/{collection_id}", summary="One collection: extent, CRSs, queryables",
            response_class=Response)
def collection(request: Request, collection_id: str, fmt: Format,
               lang: Lang, user: Reader, conn: Conn):
    spec = collection_spec(collection_id)
    body = _collection(request, conn, spec, lang, user)
    body["links"] = _self_links(request, fmt) + body["links"][2:]
    if fmt == "html":
        return HTMLResponse(ogc_html.collection(body, lang))
    return json_response(body)


def collection_spec(collection_id: str) -> LayerSpec:
    try:
        return get_layer(collection_id)
    except NotFound:
        raise NotFound(f"no collection {collection_id!r}; collections are: {', '.join(s.id for s in LAYERS)}",
                       f"没有图层集合 {collection_id!r}；现有集合：{'、'.join(s.id for s in LAYERS)}") from None


def _properties_schema(request: Request, conn, collection_id: str, lang: str, user: User | None) -> Response:
    """The JSON Schema of a collection's properties, under this request's URL."""
    spec = collection_spec(collection_id)
    return json_response({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _here(request),
        "type": "object",
        "title": spec.name(lang),
        "properties": ogc.queryables(conn, spec, lang, user),
    }, "application/schema+json")


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties (JSON Schema)",
            response_class=Response)
def collection_queryables(request: Request, collection_id: str, lang: Lang, user: Reader, conn: Conn):
    return _properties_schema(request, conn, collection_id, lang, user)


@router.get("/collections/{collection_id}/schema", summary="Schema of the features' properties (JSON Schema)",
            response_class=Response)
def collection_schema(request: Request, collection_id: str, lang: Lang, user: Reader, conn: Conn):
    return _properties_schema(request, conn, collection_id, lang, user)


def _page_url(request: Request, offset: int, limit: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    params += [("limit", str(limit)), ("offset", str(offset))]
    return _here(request) + "?" + urlencode(params)


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection (GeoJSON); bbox, bbox-crs, limit, offset, datetime, crs, property=value",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, HTML: {}}}},
)
def items(
    request: Request,
    collection_id: str,
    fmt: Format,
    lang: Lang,
    user: Reader,
    conn: Conn,
    # Declared for the API definition; the values are read (and validated) from the query string by
    # layers.store.ogc.items_query, which also accepts ``property=value`` for every queryable property.
    bbox: str | None = Query(None, description="minlon,minlat,maxlon,maxlat (CRS84), or in bbox-crs axis order"),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox: CRS84 (default), EPSG 4326, 4490"),
    limit: str | None = Query(None, description="features per page (default and cap are settings; more is cut)"),
    offset: str | None = Query(None, description="features to skip (the next/prev links carry it)"),
    datetime: str | None = Query(None, description="instant or interval start/end (.. for open) on reported_at; "
                                                   "a date or a time without a zone is in the city's time zone"),
    crs: str | None = Query(None, description="output CRS: CRS84 (default, lon/lat), EPSG 4326 or 4490 (lat/lon)"),
):
    spec = collection_spec(collection_id)
    query = ogc.items_query(conn, spec, _single_values(request), viewer=user)
    features, returned, matched = ogc.get_items(conn, spec, query, count=not spec.large)
    meta: dict = {"timeStamp": ogc.timestamp_now(), "numberReturned": returned}
    if matched is not None:
        meta["numberMatched"] = matched
    meta["links"] = _items_links(request, fmt, spec, lang, query.base, returned, matched)
    headers = {"Content-Crs": f"<{query.crs}>"}
    body = feature_collection(features, meta)
    if fmt == "html":
        return HTMLResponse(ogc_html.items(spec, orjson.loads(body), lang, query.crs), headers=headers)
    return Response(body, media_type=GEOJSON, headers=headers)


def _single_values(request: Request) -> dict[str, str]:
    """The query string as one value per name; a name given twice is an InvalidParameter."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise InvalidParameter(name, "given more than once", "给出了不止一次")
        params[name] = value
    return params


def _items_links(request: Request, fmt: str, spec: LayerSpec, lang: str, page, returned: int,
                 matched: int | None) -> list[dict]:
    """self/alternate, next and prev pages, and the collection."""
    limit, offset = page.limit, page.offset
    links = _self_links(request, fmt, GEOJSON)
    more = offset + returned < matched if matched is not None else returned == limit
    page_type = GEOJSON if fmt == "json" else HTML
    if more:
        links.append(link(_page_url(request, offset + limit, limit), "next", page_type, "Next page"))
    if offset > 0:
        links.append(link(_page_url(request, max(0, offset - limit), limit), "prev", page_type, "Previous page"))
    links.append(link(f"{ogc_base(request)}/collections/{spec.id}", "collection", JSON, spec.name(lang)))
    return links


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature (GeoJSON)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}, HTML: {}}}})
def item(request: Request, collection_id: str, feature_id: str, fmt: Format,
         lang: Lang, user: Reader, conn: Conn):
    spec = collection_spec(collection_id)
    for name in request.query_params:
        if name not in ("f", "lang", "crs"):
            raise InvalidParameter(name, "unknown parameter; a single feature takes f, lang and crs",
                                   "未知参数；单个要素只接受 f、lang 和 crs")
    crs = ogc.parse_crs(request.query_params.get("crs"))
    feature = orjson.loads(ogc.get_item(conn, spec, feature_id, crs, user))
    base = ogc_base(request)
    feature["links"] = [
        *_self_links(request, fmt, GEOJSON),
        link(f"{base}/collections/{spec.id}", "collection", JSON, spec.name(lang)),
    ]
    headers = {"Content-Crs": f"<{crs}>"}
    if fmt == "html":
        return HTMLResponse(ogc_html.item(spec, feature, lang), headers=headers)
    return Response(orjson.dumps(feature), media_type=GEOJSON, headers=headers)
