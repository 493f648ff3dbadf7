"""HTTP routes of the layers: list, GeoJSON features, vector tiles."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import get_conn, get_lang
from layers.spec.registry import LAYERS, get_layer
from layers.store.features import feature_query, get_features, layer_extent
from layers.store.summary import layer_counts
from layers.store.tiles import get_heat_cells, get_tile, parse_tile, tile_mode

router = APIRouter(tags=["layers"])

GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"


@router.get("/api/layers", summary="Every layer: names, geometry type, count, extent, style and legend")
def list_layers(lang: str = Depends(get_lang), conn=Depends(get_conn)):
    counts = layer_counts(conn)
    out = []
    for spec in LAYERS:
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
            "popup": [{"column": f.column, "label": f.label(lang)} for f in spec.popup],
            "display": [{"min_zoom": d.min_zoom, "max_zoom": d.max_zoom, "mode": d.mode} for d in spec.display],
            "links": {"features": f"/api/layers/{spec.id}/features", "tiles": f"/tiles/{spec.id}/{{z}}/{{x}}/{{y}}.pbf"},
        })
    return out


def _filters(category: str | None, status: str | None) -> dict[str, str | None]:
    return {"category": category, "status": status}


_BBOX = Query(None, description="minlon,minlat,maxlon,maxlat (WGS84)")
_STREET = Query(None, description="9-digit street code: only this street's features")
_SINCE = Query(None, description="complaints: reported at or after (ISO 8601)")
_UNTIL = Query(None, description="complaints: reported before (ISO 8601)")
_CATEGORY = Query(None, description="complaints: event type name(s), comma-separated")
_STATUS = Query(None, description="complaints: workflow state(s), comma-separated")


@router.get(
    "/api/layers/{layer_id}/features",
    summary="GeoJSON features of a layer, built by PostGIS",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def layer_features(
    request: Request,
    layer_id: str,
    bbox: str | None = _BBOX,
    limit: int | None = Query(None, description="features per page (default and cap are settings)"),
    offset: int = Query(0, description="features to skip"),
    street: str | None = _STREET,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    category: str | None = _CATEGORY,
    status: str | None = _STATUS,
    conn=Depends(get_conn),
):
    spec = get_layer(layer_id)
    query = feature_query(spec, bbox=bbox, limit=limit, offset=offset, street=street, since=since,
                          until=until, filters=_filters(category, status))
    body = get_features(conn, spec, query)
    return Response(body, media_type=GEOJSON)


@router.get(
    "/tiles/{layer_id}/{z}/{x}/{y}.pbf",
    summary="Mapbox vector tile of a layer (ST_AsMVT); 204 when empty",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}},
)
def layer_tile(
    layer_id: str,
    z: int,
    x: int,
    y: int,
    street: str | None = _STREET,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    category: str | None = _CATEGORY,
    status: str | None = _STATUS,
    conn=Depends(get_conn),
):
    spec = get_layer(layer_id)
    tile = parse_tile(z, x, y)
    query = feature_query(spec, street=street, since=since, until=until, filters=_filters(category, status))
    data = get_tile(conn, spec, tile, query)
    from data.settings import TileSettings

    headers = {
        "Cache-Control": f"public, max-age={TileSettings.from_env().cache_max_age_s}",
        "X-Tile-Mode": tile_mode(spec, tile.z),
    }
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/api/layers/{layer_id}/heat", summary="Feature counts on a grid of 8-pixel cells, for a heatmap")
def layer_heat(
    layer_id: str,
    bbox: str = Query(..., description="minlon,minlat,maxlon,maxlat (WGS84)"),
    zoom: int = Query(..., description="map zoom the cells are sized for"),
    street: str | None = _STREET,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    category: str | None = _CATEGORY,
    status: str | None = _STATUS,
    conn=Depends(get_conn),
):
    spec = get_layer(layer_id)
    query = feature_query(spec, bbox=bbox, street=street, since=since, until=until,
                          filters=_filters(category, status))
    return Response(get_heat_cells(conn, spec, zoom, query), media_type="application/json")
