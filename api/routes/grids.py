"""Grid responsibilities over HTTP: list, assign, history (DESIGN §5)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from api.auth import Reader, Writer
from api.bodies import Body, Instant, Phone, Text
from api.deps import Conn, GridCode, Lang, Printed, Street, Transaction, street_required
from api.routes.session import with_session_bar
from data import catalog
from data.errors import Forbidden, NotFound
from data.said import grid_name
from layers.spec.grids import LAYER as GRIDS
from layers.workflow import grids as grid_admin
from layers.workflow import public_staff
from layers.workflow.access import shown_row

router = APIRouter(tags=["grids"])


class AssignmentIn(Body):
    """A grid's responsible unit (责任单位), manager (网格长) and phone, and why it changes."""

    unit: Text = Field(..., min_length=1, max_length=grid_admin.UNIT_MAX, examples=["芝阳社区居民委员会"])
    manager: Text = Field(..., min_length=1, max_length=grid_admin.MANAGER_MAX, examples=["王伟"])
    phone: Phone = Field(..., examples=["0535-6123456"])
    reason: Text = Field(..., min_length=1, max_length=500, examples=["人员调整"])
    since: Instant | None = Field(None, examples=["2026-11-01"],
                                  description="when a grid's first unit has held it since (ISO 8601; without a "
                                              "zone, the city's): not for a grid that has had a unit, nor in the "
                                              "future, nor before the regrid that cut it")


@router.get("/api/grids", summary="Grids with their current assignment (GeoJSON)")
def list_grids(street: Street, user: Reader, conn: Conn):
    collection = orjson.loads(grid_admin.grids_geojson(conn, street))
    for feature in collection["features"]:
        feature["properties"] = shown_row(GRIDS, user, feature["properties"])
        # The English pages' name (「East Village 2号网格」 → "East Village grid 2"), as areas have name_en.
        feature["properties"]["name_en"] = grid_name(feature["properties"].get("name"), "en")
    return Response(orjson.dumps(collection), media_type="application/geo+json")


@router.put("/api/grids/{code}/assignment", summary="Change a grid's responsible unit, manager and phone")
def put_assignment(body: AssignmentIn, code: GridCode, user: Writer,
                   conn: Transaction):
    if user.role == "inspector":
        raise Forbidden(f"user {user.name!r} is an inspector: inspectors update complaints, not grid assignments",
                        f"用户 {user.name!r} 是检查员：检查员可更新投诉，不能修改网格的责任分配")
    grid = grid_admin.get_grid(conn, code)
    if not user.may_write_grid(grid["street_code"]):
        raise Forbidden(f"user {user.name!r} may change grids of {user.scope_text()}, "
                        f"not grid {code} of street {grid['street_code']}",
                        f"用户 {user.name!r} 可修改的网格范围是{user.scope_text('zh')}，不能修改街道 {grid['street_code']} "
                        f"的网格 {code}")
    return grid_admin.assign(conn, code, body.unit, body.manager, body.phone, body.reason, user.name,
                             since=body.since)


@router.get("/api/grids/{code}/history", summary="Every assignment of a grid: when, who, before, after, why")
def get_history(code: GridCode, user: Reader, conn: Conn):
    answer = grid_admin.history(conn, code)
    street = _street_of(conn, code)
    answer["history"] = [shown_row(GRIDS, user, entry) for entry in answer["history"]]
    for entry in answer["history"]:
        for part in ("before", "after"):
            if entry[part]:
                # The grid's street and code: a street user reads by the one, a grid-scoped inspector by the other.
                shown = shown_row(GRIDS, user, {**entry[part], "street_code": street, "code": code},
                                  ASSIGNMENT_COLUMNS)
                entry[part] = {k: v for k, v in shown.items() if k not in ("street_code", "code")}
    return answer


# The keys of an assignment in a grid's history, and the grid columns they hold.
ASSIGNMENT_COLUMNS = {"unit": "responsible_unit", "manager": "grid_manager", "phone": "phone"}


def _street_of(conn, code: str) -> str | None:
    try:
        return grid_admin.get_grid(conn, code)["street_code"]
    except NotFound:  # a retired grid: its contacts stay hidden from street-scoped users
        return None


@router.get("/map/grids", response_class=HTMLResponse, tags=["pages"],
            summary="Street office map: grids by responsible unit, open and overdue complaints, table per unit")
def grids_page(request: Request, street: Annotated[str, Depends(street_required)], lang: Lang, user: Reader,
               conn: Conn, printed: Printed = None,
               grid: Annotated[str | None, Query(max_length=40, description="a grid to zoom to")] = None):
    from layers.web.grid_page import street_page

    info = catalog.street_info(conn, street)
    # A sheet or notice board printed before a regrid: its grid code may name another grid today.
    redrawn = grid_admin.shape_when_printed(conn, street, grid, printed) if grid and printed else None
    units = grid_admin.unit_table(conn, street)
    rated = {r["unit"]: r for r in public_staff.satisfaction(conn, street=street, by="unit")}  # residents' ratings
    for u in units:
        u["satisfied"] = rated.get(u["unit"], {}).get("satisfied_share")
    city = catalog.city_info(conn) or {}
    focus = {k: v for k, v in request.query_params.items() if k in ("grid", "printed")}
    page = street_page(info, units, lang, bool(city.get("is_demo")), viewer=user, redrawn=redrawn, focus=focus)
    return HTMLResponse(with_session_bar(page, user, lang, request.url.path + "?" + request.url.query))
