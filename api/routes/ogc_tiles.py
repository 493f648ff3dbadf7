"""OGC API – Tiles under /ogc: the vector tiles of ``/tiles``, described by the standard's resources.

The tiles are :mod:`layers.store.tiles`'s (the same bytes as ``/tiles``);
this module serves the tile matrix set, each collection's tilesets and the
tiles at their OGC addresses. Errors follow OGC API (:class:`api.routes.ogc.OgcRoute`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Lang
from api.routes.layers import MVT, pooled_tile_response
from api.routes.ogc import JSON, OgcRoute, collection_spec, json_response, link, ogc_base
from data.errors import InvalidParameter, NotFound
from data.settings import TileSettings
from layers.spec.model import LayerSpec
from layers.store import ogc
from layers.store.features import FeatureQuery
from layers.store.tiles import parse_tile, tile_mode, time_columns
from layers.workflow.access import readable

REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
# How an OGC tile carries a time (MVT has no time type): ISO 8601 text, as the OGC features do
# (layers.store.tiles.time_columns; the /tiles of the project's own map carry whole seconds).
_TIME = {"type": "string", "format": "date-time"}

#: What an OGC tile holds: every feature, public columns (no viewer, whoever asks), times as text.
OGC_TILE = FeatureQuery(iso_times=True)

router = APIRouter(prefix="/ogc", tags=["OGC API"], route_class=OgcRoute)


def _tms_summary(base: str) -> dict:
    return {
        "id": ogc.WEB_MERCATOR_QUAD, "title": "Google Maps Compatible for the World", "uri": ogc.WEB_MERCATOR_QUAD_URI,
        "links": [link(f"{base}/tileMatrixSets/{ogc.WEB_MERCATOR_QUAD}", "self", JSON, ogc.WEB_MERCATOR_QUAD)],
    }


@router.get("/tileMatrixSets", summary="Tile matrix sets (WebMercatorQuad)", response_class=Response)
def tile_matrix_sets(request: Request):
    base = ogc_base(request)
    return json_response({"links": [link(f"{base}/tileMatrixSets", "self", JSON)], "tileMatrixSets": [_tms_summary(base)]})


@router.get("/tileMatrixSets/{tms_id}", summary="One tile matrix set (OGC TMS 2.0 JSON)", response_class=Response)
def tile_matrix_set(tms_id: str):
    _check_tms(tms_id)
    return json_response(ogc.web_mercator_quad(TileSettings.from_env().max_zoom))


def _check_tms(tms_id: str) -> None:
    if tms_id != ogc.WEB_MERCATOR_QUAD:
        raise NotFound(f"no tile matrix set {tms_id!r}; the one served is {ogc.WEB_MERCATOR_QUAD}",
                       f"没有瓦片矩阵集 {tms_id!r}；本服务只提供 {ogc.WEB_MERCATOR_QUAD}")


def _tileset(request: Request, spec: LayerSpec, lang: str, full: bool) -> dict:
    base = ogc_base(request)
    here = f"{base}/collections/{spec.id}/tiles/{ogc.WEB_MERCATOR_QUAD}"
    out = {
        "title": spec.name(lang),
        "dataType": "vector",
        "crs": ogc.EPSG3857,
        "tileMatrixSetURI": ogc.WEB_MERCATOR_QUAD_URI,
        "links": [
            link(here, "self", JSON, spec.name(lang)),
            link(f"{base}/tileMatrixSets/{ogc.WEB_MERCATOR_QUAD}", REL_TILING_SCHEME, JSON, ogc.WEB_MERCATOR_QUAD),
        ],
    }
    if full:
        out["links"].append(link(here + "/{tileMatrix}/{tileRow}/{tileCol}", "item", MVT,
                                  "Mapbox vector tile", templated=True))
        times = time_columns(spec)
        zooms = {tile_mode(spec, z) for z in range(TileSettings.from_env().max_zoom + 1)}
        layer = {"id": spec.id, "title": spec.name(lang), "dataType": "vector",
                 "propertiesSchema": {"type": "object", "properties": {
                     c: _TIME if c in times else {} for c in readable(spec, OGC_TILE.viewer)}}}
        dimension = ogc.geometry_dimension(spec)
        if dimension is not None:
            layer["geometryDimension"] = dimension
        if zooms != {"features"}:
            layer["description"] = ("At some zoom levels the tiles carry aggregated cells with a 'count' "
                                    "(heat points or hexagons) instead of single features.")
        out["layers"] = [layer]
    return out


@router.get("/collections/{collection_id}/tiles", summary="Vector tilesets of a collection", response_class=Response)
def collection_tilesets(request: Request, collection_id: str, lang: Lang):
    spec = collection_spec(collection_id)
    return json_response({
        "links": [link(f"{ogc_base(request)}/collections/{spec.id}/tiles", "self", JSON)],
        "tilesets": [_tileset(request, spec, lang, full=False)],
    })


@router.get("/collections/{collection_id}/tiles/{tms_id}", summary="Vector tileset metadata of a collection",
            response_class=Response)
def collection_tileset(request: Request, collection_id: str, tms_id: str, lang: Lang):
    spec = collection_spec(collection_id)
    _check_tms(tms_id)
    return json_response(_tileset(request, spec, lang, full=True))


@router.get(
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="One vector tile (the /tiles implementation); 204 when empty",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}},
)
async def collection_tile(collection_id: str, tms_id: str, tile_matrix: str, tile_row: str, tile_col: str,
                          request: Request):
    spec = collection_spec(collection_id)
    _check_tms(tms_id)
    wanted = request.query_params.get("f")
    if wanted not in (None, "mvt"):
        raise InvalidParameter("f", f"tiles are Mapbox vector tiles: f=mvt, not {wanted!r}",
                               f"瓦片是 Mapbox 矢量瓦片：应为 f=mvt，而不是 {wanted!r}")
    settings = TileSettings.from_env()
    z, x, y = ogc.parse_tile_address(tile_matrix, tile_row, tile_col, settings.max_zoom)
    return await pooled_tile_response(request, spec, parse_tile(z, x, y, settings), OGC_TILE, settings)
