"""HTML pages (Folium maps) and the static files they load, all served by the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Reader
from api.deps import Conn, Lang, Street, bbox_required, check_basemap
from api.routes.session import with_session_bar
from api.static import mount_static
from data.catalog import city_info, city_view, event_types, street_info
from data.params import BBox, parse_int
from layers.store.context import labels
from layers.web.map_page import build_map

router = APIRouter(tags=["pages"])


@router.get("/map", response_class=HTMLResponse, summary="Overview map of every layer (zh-CN; ?lang=en)")
def overview_map(
    request: Request,
    lang: Lang,
    street: Street,
    user: Reader,
    conn: Conn,
    basemap: str | None = Query(None, description="none | osm | tianditu | gaode (default: the setting)"),
):
    check_basemap(basemap)
    street_row = street_info(conn, street) if street else None
    if street_row and lang == "en" and street_row.get("name_en"):
        street_row["name"] = street_row["name_en"]
    center, bounds = city_view(conn)
    page = build_map(city_info(conn), lang=lang, street=street_row, categories=event_types(conn, lang),
                     center=center, bounds=bounds, basemap=basemap, viewer=user)
    return HTMLResponse(with_session_bar(page, user, lang, request.url.path + "?" + request.url.query))


@router.get("/api/context/labels", summary="Names of districts, streets, communities and roads in a view "
                                          "(label points for maps without a basemap)")
def context_labels(bbox: Annotated[BBox, Depends(bbox_required)], lang: Lang, conn: Conn,
                   zoom: str = Query(..., description="the map's zoom (0–22): which kinds of places are named")):
    body = labels(conn, bbox, parse_int(zoom, "zoom", 0, 22), lang)
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "max-age=300"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    """No icon, and no 404 in every page's console either."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


def install(app, dependencies=()) -> None:
    """Mount /static (vendor packages, folium templates, the project's page files) and the page routes
    (with ``dependencies``: who may read them)."""
    mount_static(app)
    app.include_router(router, dependencies=list(dependencies))
