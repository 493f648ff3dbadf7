"""Places for the public report and tracking pages (no account): the city's facilities in a view, a place
search, a point in words and the open reports around it — all from the city's own data, no outside geocoder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import Conn, Lang, bbox_required
from api.routes.complaints import PointCrs
from api.routes.public import PublicContext
from data.errors import InvalidParameter
from data.params import BBox, clean_text, parse_int
from layers.store import places
from layers.workflow import public

router = APIRouter(tags=["public"])

LON = Query(..., ge=-180, le=180, allow_inf_nan=False)
LAT = Query(..., ge=-90, le=90, allow_inf_nan=False)


@router.get("/api/public/context/facilities",
            summary="The city's toilets, markets and garbage points in a view, by name (street zooms; public pages)")
def public_facilities(settings: PublicContext, bbox: Annotated[BBox, Depends(bbox_required)], conn: Conn,
                      zoom: str = Query(..., description="the map's zoom (0–22); none below 16")):
    body = places.facilities(conn, bbox, parse_int(zoom, "zoom", 0, 22))
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "max-age=300"})


@router.get("/api/public/places", summary="Find a place by the names the city's data holds (areas, facilities and "
                                          "their addresses, roads)")
def search_places(settings: PublicContext, conn: Conn, lang: Lang,
                  q: str = Query(..., max_length=50, description="a name or part of one, e.g. 旺角")):
    text = clean_text(q, "q", 50)
    if not text:
        raise InvalidParameter("q", "must name a place (a word or more)", "请输入地名（至少一个字）")
    return {"q": text, "items": places.search(conn, text, lang)}


@router.get("/api/public/place", summary="A point in words: the area holding it and the nearest facility")
def describe_place(settings: PublicContext, conn: Conn, lang: Lang, lon: float = LON, lat: float = LAT,
                   crs: PointCrs = Query("wgs84")):
    x, y = public.to_wgs84(lon, lat, crs)
    return places.describe(conn, x, y, lang)


@router.get("/api/public/around", summary="Open public reports around a point, any category (已有人反映？): "
                                          "where, category, status, distance, the unit's first photo")
def reports_around(settings: PublicContext, conn: Conn, lon: float = LON, lat: float = LAT,
                   crs: PointCrs = Query("wgs84")):
    x, y = public.to_wgs84(lon, lat, crs)
    return {"radius_m": places.AROUND_M, "items": places.open_around(conn, x, y)}
