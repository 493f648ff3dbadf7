"""HTTP: what-if coverage (nothing written) and coverage plans (named drafts; admins and planners save them).

- ``POST /api/analysis/coverage/whatif`` — draft edits → the changed areas before/after with their gaps; costly
  work (api/limits.py: a cold first call builds the kept coverage state, seconds at city scale), so past the
  limits it answers 429 with Retry-After; the planner page sends one draft at a time and, on 429, its latest
  draft again after Retry-After;
- ``POST /api/plans`` — save a draft under a name (admin, planner);
- ``GET /api/plans``, ``GET /api/plans/{plan_id}`` — the plans, one plan with its edits;
- ``GET /api/plans/{plan_id}/compare?format=json|xlsx`` — before/after per area and for the city;
- ``GET /api/plans/{plan_id}/export`` — the plan's facilities as GeoJSON;
  both take the caller's ``kind``, ``radius``, ``by`` and refuse one that is not the plan's (422 naming it);
- ``GET /plans``, ``GET /plans/{plan_id}`` — the pages: the plans, one plan's comparison as it prints, with links
  to the workbook, the GeoJSON, the printed map and the coverage map with the plan loaded as a draft (``?plan=``);
- ``GET /plans/{plan_id}.pdf?paper=A4|A3`` — the plan printed: its map, then its tables (layers.printing.plan_pdf).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field, field_validator

from api.auth import Reader, current_user
from api.bodies import Body, Text
from api.deps import Conn, Lang, Transaction
from api.limits import Costly
from api.routes.prints import PDF_RESPONSES, PaperSize
from api.routes.session import ROLES_ZH, with_session_bar
from api.validation import Refusal
from data.errors import Forbidden
from data.vocab import CITY_WIDE_ROLES
from layers.analysis import plans
from layers.analysis.whatif import MAX_EDITS, parse_edits, whatif
from layers.workflow.access import User, named_for

router = APIRouter(tags=["analysis"])
#: A plan's id (a bigint: larger numbers name no plan, and are refused before any SQL).
PlanId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the plan's id")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a caller believes the plan is about: given, each must be the plan's own (a 422 naming it otherwise).
FitKind = Annotated[str | None, Query(description="the plan's kind, checked: a 422 if the plan is of another")]
FitRadius = Annotated[float | None, Query(description="the plan's radius in metres, checked: a 422 if another")]
FitBy = Annotated[str | None, Query(description="the plan's level, checked: a 422 if another")]


class DraftIn(Body):
    """A draft: edits to one facility kind at one radius."""

    kind: Text = "toilets"
    radius: float | None = Field(None, description="metres; default: the kind's standard")
    by: Text | None = Field(None, description="community, urban_village or grid, or the city's finest admin level "
                                              "(district or street); default: community, else the finest level")
    edits: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_EDITS,
                                        description="[{op: add|move|remove, id?, lon?, lat?}]")

    @field_validator("radius", mode="before")
    @classmethod
    def _no_switch(cls, value):
        # JSON true would otherwise be read as 1: a 1 m radius, a plan saved with it.
        if isinstance(value, bool):
            raise Refusal(f"must be a number of metres, not {str(value).lower()}",
                          f"应为米数，而不是 {str(value).lower()}")
        return value


class PlanIn(DraftIn):
    name: Text = Field(description="the plan's name (unique)")


def planner(user: Annotated[User, Depends(current_user)]) -> User:
    """An admin or a planner: who saves plans."""
    if user.role not in CITY_WIDE_ROLES:
        raise Forbidden(f"user {user.name!r} is a {user.role} user: only admins and planners save plans",
                        f"用户 {user.name!r} 是{ROLES_ZH.get(user.role, user.role)}账号：只有管理员和规划人员能保存规划方案")
    return user


@router.post("/api/analysis/coverage/whatif", summary="What-if coverage of draft edits (nothing is written)")
def coverage_whatif(body: DraftIn, conn: Conn, _: Costly) -> dict:
    result = whatif(conn, body.kind, body.radius, parse_edits(body.edits), body.by)
    conn.rollback()
    return result


@router.post("/api/plans", status_code=201, summary="Save a what-if draft as a named plan (admin, planner)")
def save_plan(body: PlanIn, user: Annotated[User, Depends(planner)], conn: Transaction) -> dict:
    return plans.save_plan(conn, body.model_dump(), user.name)


@router.get("/api/plans", summary="The coverage plans, newest first (who saved each: for a login)")
def list_plans(conn: Conn, user: Reader) -> list[dict]:
    return [named_for(user, p) for p in plans.list_plans(conn)]


@router.get("/api/plans/{plan_id}", summary="One coverage plan with its edits (who saved it: for a login)")
def get_plan(plan_id: PlanId, conn: Conn, user: Reader) -> dict:
    return named_for(user, plans.get_plan(conn, plan_id))


@router.get("/api/plans/{plan_id}/compare", summary="A plan against today's facilities: before/after (JSON or XLSX)")
def compare_plan(plan_id: PlanId, conn: Conn, lang: Lang, user: Reader,
                 format: Annotated[Literal["json", "xlsx"], Query(description="json or xlsx")] = "json",
                 kind: FitKind = None, radius: FitRadius = None, by: FitBy = None):
    result = plans.compare_plan(conn, plan_id, kind=kind, radius=radius, by=by)
    conn.rollback()
    result["plan"] = named_for(user, result["plan"])
    if format == "json":
        return JSONResponse(result)
    return Response(plans.comparison_xlsx(result, lang), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.xlsx"'})


@router.get("/api/plans/{plan_id}/export", summary="A plan's facilities as GeoJSON")
def export_plan(plan_id: PlanId, conn: Conn, kind: FitKind = None, radius: FitRadius = None,
                by: FitBy = None) -> Response:
    return Response(plans.plan_geojson(conn, plan_id, kind=kind, radius=radius, by=by), media_type="application/geo+json",
                    headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.geojson"'})


@router.get("/plans", response_class=HTMLResponse, summary="The coverage plans page (zh-CN; ?lang=en)")
def plans_list_page(request: Request, conn: Conn, lang: Lang, user: Reader) -> HTMLResponse:
    from layers.web.plan_page import plans_page

    page = plans_page([named_for(user, p) for p in plans.list_plans(conn)], lang)
    return HTMLResponse(with_session_bar(page, user, lang, request.url.path + "?" + request.url.query))


# Before /plans/{plan_id}, whose path would take "7.pdf" for an id (and refuse it).
@router.get("/plans/{plan_id}.pdf", response_class=Response, responses=PDF_RESPONSES,
            summary="One plan printed: its map (landscape A4, or A3), then its before/after tables (zh-CN; ?lang=en)")
def plan_print(plan_id: PlanId, conn: Conn, lang: Lang, user: Reader, _: Costly, paper: PaperSize = "A4") -> Response:
    from layers.printing.plan_pdf import plan_pdf

    return Response(plan_pdf(conn, plan_id, user, paper, lang), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="plan-{plan_id}.pdf"', "Cache-Control": "no-store"})


@router.get("/plans/{plan_id}", response_class=HTMLResponse,
            summary="One plan against today's facilities, as it prints (zh-CN; ?lang=en)")
def plan_comparison_page(request: Request, plan_id: PlanId, conn: Conn, lang: Lang, user: Reader,
                         _: Costly) -> HTMLResponse:
    from layers.web.plan_page import plan_page

    result = plans.compare_plan(conn, plan_id)
    conn.rollback()
    page = plan_page({**result, "plan": named_for(user, result["plan"])}, lang)
    return HTMLResponse(with_session_bar(page, user, lang, request.url.path + "?" + request.url.query))
