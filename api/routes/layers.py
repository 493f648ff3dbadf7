"""HTTP routes of the layers: list, GeoJSON features, vector tiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.routing import Match, Route

from api.auth import SESSION_COOKIE, Reader
from api.deps import Conn, Filtered, Lang, LayerFilters, Paged, bbox_query, bbox_required
from data.db_async import run_steps_async
from data.params import BBox
from data.settings import AuthSettings, TileSettings
from layers.spec.model import LayerSpec
from layers.spec.registry import LAYERS, get_layer
from layers.store.features import FeatureQuery, feature_query, get_features, layer_extent
from layers.store.heat import get_heat_cells
from layers.store.summary import layer_counts
from layers.store.tiles import Tile, get_tile, parse_tile, tile_mode, tile_steps
from layers.workflow.access import User, readable

router = APIRouter(tags=["layers"])

GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"
_SESSION_COOKIE = SESSION_COOKIE.encode()


@router.get("/api/layers", summary="Every layer: names, geometry type, count, extent, style and legend")
def list_layers(lang: Lang, user: Reader, conn: Conn):
    counts = layer_counts(conn)
    out = []
    for spec in LAYERS:
        shown = readable(spec, user, spec.popup)  # a popup lists only what the caller reads
        count, exact = counts.get(spec.id, (0, True))
        out.append({
            "id": spec.id,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "name": spec.name(lang),
            "geometry_type": spec.geometry_type,
            "count": count,
            "count_exact": exact,
            "extent": layer_extent(conn, spec),
            "style": {"column": spec.style_column, "default_color": spec.color},
            "legend": spec.legend(lang),
            "popup": [{"column": f.column, "label": f.label(lang)} for f in spec.popup if f.column in shown],
            "display": [{"min_zoom": d.min_zoom, "max_zoom": d.max_zoom, "mode": d.mode} for d in spec.display],
            "links": {"features": f"/api/layers/{spec.id}/features", "tiles": f"/tiles/{spec.id}/{{z}}/{{x}}/{{y}}.pbf"},
        })
    return out


def _query(spec, filters: LayerFilters, user: User | None, **page) -> FeatureQuery:
    """The layer's query of the request's filters (and bbox, page), as ``user`` may read it."""
    return feature_query(spec, street=filters.street, window=filters.window, filters=filters.values, viewer=user,
                         **page)


@router.get(
    "/api/layers/{layer_id}/features",
    summary="GeoJSON features of a layer, built by PostGIS",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def layer_features(layer_id: str, bbox: Annotated[BBox | None, Depends(bbox_query)],
                   page: Paged, filters: Filtered, user: Reader, conn: Conn):
    spec = get_layer(layer_id)
    query = _query(spec, filters, user, bbox=bbox, limit=page.limit, offset=page.offset)
    return Response(get_features(conn, spec, query), media_type=GEOJSON)


@router.get(
    "/tiles/{layer_id}/{z}/{x}/{y}.pbf",
    summary="Mapbox vector tile of a layer (ST_AsMVT); 204 when empty",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}},
)
async def layer_tile(request: Request, layer_id: str, z: int, x: int, y: int, filters: Filtered, user: Reader):
    spec = get_layer(layer_id)
    settings = TileSettings.from_env()
    tile = parse_tile(z, x, y, settings)
    return await pooled_tile_response(request, spec, tile, _query(spec, filters, user), settings)


class AnonymousTileRoute(Route):
    """``/tiles/…`` for most of a map's requests: GET, no query string, no credentials, reads open.

    The same answer as :func:`layer_tile` (the same statements, :func:`tile_answer`,
    errors raised to the same handlers), without FastAPI's dependency solving
    and parameter validation: a tenth of a millisecond per dependency, and a map
    view asks for dozens of tiles; and without a worker thread: the statement
    runs on an asynchronous connection (:mod:`data.db_async`). Any other request (filters, a token or a
    session cookie, a coordinate that is not plain digits, reads needing a token)
    does not match here and goes on to :func:`layer_tile`; create_app puts this
    route first.
    """

    def __init__(self):
        super().__init__("/tiles/{layer_id}/{z:int}/{x:int}/{y:int}.pbf", self.endpoint, methods=["GET"],
                         include_in_schema=False)

    def matches(self, scope):
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
            return Match.NONE, {}
        for name, value in scope.get("headers") or ():
            if name == b"authorization" or (name == b"cookie" and _SESSION_COOKIE in value):
                return Match.NONE, {}
        match, child_scope = super().matches(scope)
        if match != Match.FULL or AuthSettings.from_env().reads_need_token:
            return Match.NONE, {}
        return match, child_scope

    @staticmethod
    async def endpoint(request: Request) -> Response:
        """The tile's statement on an asynchronous connection (data.db_async), on the event loop: no worker
        thread (unfiltered and public, it needs no other statement)."""
        params = request.path_params
        spec = get_layer(params["layer_id"])
        settings = TileSettings.from_env()
        tile = parse_tile(params["z"], params["x"], params["y"], settings)
        query = _query(spec, LayerFilters(), None)
        async with request.app.state.async_db.connection() as conn:
            data = await run_steps_async(conn, tile_steps(conn, spec, tile, query, settings))
        return tile_answer(data, spec, tile, query, settings)


async def pooled_tile_response(request: Request, spec: LayerSpec, tile: Tile, query: FeatureQuery | None,
                               settings: TileSettings) -> Response:
    """:func:`tile_response` on a pooled connection, all in one worker thread.

    A tile route is ``async def`` and takes no ``Conn``: a sync route and its
    connection dependency would hand the request to a worker thread and back
    three times (connection, route, giving the connection back); on a busy
    machine each hand-over waits for a core, and together they cost as much
    as the tile's query.
    """
    def work() -> Response:
        with request.app.state.db.connection() as conn:
            return tile_response(conn, spec, tile, query, settings)

    return await run_in_threadpool(work)


def tile_response(conn, spec: LayerSpec, tile: Tile, query: FeatureQuery | None, settings: TileSettings) -> Response:
    """A tile read on ``conn`` as :func:`tile_answer`."""
    return tile_answer(get_tile(conn, spec, tile, query, settings), spec, tile, query, settings)


def tile_answer(data: bytes, spec: LayerSpec, tile: Tile, query: FeatureQuery | None,
                settings: TileSettings) -> Response:
    """A tile as an MVT response (204 when empty), cacheable, saying how it was drawn (``X-Tile-Mode``)."""
    # A tile read with credentials may hold columns others may not see: no shared cache keeps it.
    # Nor one read on a server where reading needs a token (OGC tiles pass no query: public columns only).
    viewer = query.viewer if query is not None else None
    shared = viewer is None and not AuthSettings.from_env().reads_need_token
    cache = f"{'public' if shared else 'private'}, max-age={settings.cache_max_age_s}"
    if viewer is not None and readable(spec, viewer).keys() != readable(spec, None).keys():
        # It holds what an anonymous reader may not see (a grid's phone): a shared office browser keeps none
        # of it, since the next person at that browser would be served it for the same URL.
        cache = "private, no-store"
    # A browser keeps one answer per URL: the one read with a token or cookie is not the one read without.
    headers = {"Cache-Control": cache, "Vary": "Authorization, Cookie", "X-Tile-Mode": tile_mode(spec, tile.z)}
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/api/layers/{layer_id}/heat", summary="Feature counts on a grid of 8-pixel cells, for a heatmap")
def layer_heat(layer_id: str, bbox: Annotated[BBox, Depends(bbox_required)],
               zoom: Annotated[int, Query(description="map zoom the cells are sized for")],
               filters: Filtered, user: Reader, conn: Conn):
    spec = get_layer(layer_id)
    query = _query(spec, filters, user, bbox=bbox)
    return Response(get_heat_cells(conn, spec, zoom, query), media_type="application/json")
