"""The field page (/field) for inspectors, and its service worker (/field-sw.js)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from api.auth import Reader
from api.deps import Conn, Lang, Printed, grid_query
from api.routes.public import PAGE_CSP
from data import checklist
from data.catalog import city_view, street_info
from data.errors import LoginRequired, NotFound
from data.params import compact_utc
from data.vocab import PLACE_TYPES, RECHECK_FAILED, RECHECK_PASSED, RECTIFIED, TO_RECTIFY, city_tz
from layers.web.field_page import SW_PATH, field_html, service_worker
from layers.workflow import inspections as work
from layers.workflow.inspection_places import NEAR_M, grid_place

router = APIRouter(tags=["pages"])
# The page shows the photos it is about to send (blob: URLs) and registers its worker (same host).
FIELD_CSP = PAGE_CSP.replace("img-src 'self' data:", "img-src 'self' data: blob:") + "; worker-src 'self'"


@router.get("/field", response_class=HTMLResponse,
            summary="The inspectors' field page: record findings with photos, also offline (zh; ?lang=en; ?grid=CODE)")
def field_page(user: Reader, conn: Conn, lang: Lang, printed: Printed = None,
               grid: str | None = Depends(grid_query)):
    if user is None:  # a staff page even when reads are open: findings are recorded as someone
        raise LoginRequired("the field page records findings as you: log in first", "现场页面以您的名义记录问题：请先登录")
    center, bounds = city_view(conn)
    bounds = _street_view(conn, user) or bounds
    config = {"user": {"name": user.name, "role": user.role, "scope": user.scope_text(lang)},
              "rounds": work.rounds_for(conn, user), "center": list(center) if center else [0, 0], "bounds": bounds,
              "items": [i.as_dict(lang) for i in checklist.load().values()],
              "place_types": list(PLACE_TYPES),
              "place_names": {zh: en if lang == "en" else zh for zh, en in PLACE_TYPES.items()}, "near_m": NEAR_M,
              "time_zone": city_tz().key, "grid": grid_place(conn, grid, printed) if grid else None, "todo": _todo(user),
              "printed": printed and compact_utc(printed)}
    return HTMLResponse(field_html(lang, config),
                        headers={"Content-Security-Policy": FIELD_CSP, "Cache-Control": "private, no-cache"})


def _street_view(conn, user) -> list[float] | None:
    """The extent of the street a street office's or inspector's account works in, where the page opens; None for
    a city-wide account (or a street no longer among the areas): the whole city."""
    if not user.street_code:
        return None
    try:
        return street_info(conn, user.street_code)["bbox"]
    except NotFound:
        return None


def _todo(user) -> dict | None:
    """The findings the page lists for ``user`` to act on: a street office's 待整改 (to add the after photo and mark
    已整改), an inspector's or an admin's 已整改 (to re-check); a planner's none. The server still decides each."""
    # to_rectify: where the current round of rectification began (its after photos are those sent since).
    moves = {"rectified": RECTIFIED, "passed": RECHECK_PASSED, "failed": RECHECK_FAILED, "to_rectify": TO_RECTIFY}
    if user.role == "street":
        return {"action": "rectify", "status": TO_RECTIFY, "street": user.street_code, "moves": moves}
    if user.role in ("inspector", "admin"):
        return {"action": "recheck", "status": RECTIFIED, "street": user.street_code, "moves": moves}
    return None


@router.get(SW_PATH, include_in_schema=False)
def field_worker(user: Reader):
    """The service worker that keeps the field page and its files on the phone."""
    return Response(service_worker(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})
