"""Complaints over HTTP: file (routed to its grid), move through the workflow, list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from api.auth import Reader, Writer
from api.bodies import Body, Instant, Text
from api.deps import Conn, Paged, Street, Transaction, Window, grid_query
from api.idempotency import IdempotencyKey, once
from api.routes.session import ROLES_ZH
from data.errors import Forbidden, InvalidParameter
from data.params import clean_text, parse_bool
from data.vocab import CLOSED, TRANSITIONS, Status
from layers.spec.complaints import LAYER as COMPLAINTS
from layers.workflow import complaints as cases
from layers.workflow import deadlines, public_outcome, public_staff
from layers.workflow.access import column_grant, personal_rows, shown_row

PointCrs = Literal[cases.POINT_CRS]

router = APIRouter(tags=["complaints"])

# Clocks differ a little; a report "from the future" beyond this is refused.
FUTURE_SLACK = timedelta(minutes=10)
COMPLAINT_ID = Path(..., ge=1, le=2**63 - 1)
#: What a complainant wrote: searched only where the caller may read it (``column_grant``).
DESCRIPTION = next(f for f in COMPLAINTS.fields if f.column == "description")
ATTRIBUTES = next(f for f in COMPLAINTS.stored if f.column == "attributes")  # the hotline caller's name, number


def not_future(value: datetime, parameter: str) -> datetime:
    """``value``, or InvalidParameter when it lies beyond :data:`FUTURE_SLACK` in the future (a report, a finding)."""
    if value > datetime.now(UTC) + FUTURE_SLACK:
        raise InvalidParameter(parameter, f"{value.isoformat()} lies in the future", f"{value.isoformat()} 是将来的时间")
    return value


def page_limit(asked: int | None, settings) -> int:
    """The page size asked (else the default), or InvalidParameter when it is over the cap (complaints, findings)."""
    limit = asked or settings.page_default
    if limit > settings.page_max:
        raise InvalidParameter("limit", f"at most {settings.page_max} per page, not {limit}",
                               f"每页最多 {settings.page_max} 条，不能是 {limit}")
    return limit


class ComplaintIn(Body):
    """A citizen complaint or inspection finding at a point."""

    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False, examples=[121.38])
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False, examples=[37.49])
    crs: PointCrs = Field("wgs84", description="coordinates as given: WGS84, "
                                                   "GCJ-02 (Gaode, Tencent) or BD-09 (Baidu)")
    category: Text = Field(..., min_length=1, max_length=50, description="event type, e.g. 暴露垃圾")
    description: Text | None = Field(None, max_length=2000)
    source: Text = Field(..., min_length=1, max_length=50, description="channel: 12345, 12319, 微信, 暗访 …")
    reported_at: Instant | None = Field(None, description="ISO 8601; without a zone: the city's time zone")


class NoteIn(Body):
    """A staff note on a step of a case (why); the bodies below add what the step is."""

    note: Text | None = Field(None, max_length=1000)


class TransitionIn(NoteIn):
    """The next workflow state and a note (why; required when closing unregistered or sending back)."""

    status: Status
    public_reply: Text | None = Field(None, max_length=1000, description=(
        "a reply to the residents, shown on their tracking pages: required to close a case they reported "
        "straight from 受理 (不予立案) when no public reply says why yet"))


class DeadlineIn(Body):
    """A new deadline and why: an extension request (延期申请), or the campaign office's deadline (限期整改)."""

    due_at: Instant = Field(..., description="ISO 8601; without a zone: the city's time zone",
                             examples=["2026-12-05T18:00:00+08:00"])
    reason: Text = Field(..., min_length=1, max_length=1000, description="why (staff text, never shown publicly)")


class DecisionIn(NoteIn):
    """The campaign office's decision on an extension request; a note is required to reject."""

    decision: Literal[tuple(deadlines.DECISIONS)]


def _may_handle(user, current: dict) -> bool:
    """THE test of who moves a complaint or asks for more time: its street's or grids' staff, or an admin."""
    return user is not None and user.may_write_complaint(current["street_code"], current["grid_code"])


def handled(user, conn, complaint_id: int) -> dict:
    """The complaint, locked, when ``user`` may handle it (``User.may_write_complaint``); else Forbidden."""
    current = cases.get(conn, complaint_id, lock=True)
    if not _may_handle(user, current):
        raise Forbidden(f"user {user.name!r} may handle complaints in {user.scope_text()}, not complaint "
                        f"{complaint_id} in grid {current['grid_code'] or '-'} of street {current['street_code']}",
                        f"用户 {user.name!r} 的办理范围是{user.scope_text('zh')}，不能办理街道 {current['street_code']} "
                        f"网格 {current['grid_code'] or '-'} 中的投诉 {complaint_id}")
    return current


def decided_by_office(user, conn, complaint_id: int, what: str, what_zh: str) -> dict:
    """The complaint, locked, when ``user`` is the campaign office (admin); else Forbidden."""
    if not user.may_decide_deadlines():
        raise Forbidden(f"user {user.name!r} is a {user.role} user: only the campaign office (创卫办, role admin) "
                        f"{what}; ask for more time with POST /api/complaints/{complaint_id}/deadline/requests",
                        f"用户 {user.name!r} 是{ROLES_ZH.get(user.role, user.role)}账号：只有创卫办（admin 角色）能{what_zh}；"
                        f"如需延期请用 POST /api/complaints/{complaint_id}/deadline/requests 申请")
    return cases.get(conn, complaint_id, lock=True)


def actions(user, current: dict, waiting: dict | None, reported: bool) -> dict:
    """What ``user`` may do to the complaint now, by the same tests the write routes make: the workflow steps
    (``steps``), an extension request (``request_extension``: open, none awaiting a decision), the decision on
    the one awaiting (``decide_extension``), a new deadline (``set_deadline``: open), and for a complaint
    ``reported`` through the public channel, reading its reporters' numbers and words and replying publicly
    (``public_reply``: the test of GET .../contacts and POST .../replies), and the photos of the work (``photos``:
    the test of GET and POST .../photos). Each route still checks for itself;
    this only spares a page offering (or fetching) what would be refused."""
    handles, office = _may_handle(user, current), user is not None and user.may_decide_deadlines()
    still_open = current["status"] != CLOSED
    return {"steps": list(TRANSITIONS[current["status"]]) if handles else [],
            "request_extension": handles and still_open and waiting is None,
            "decide_extension": office and waiting is not None, "set_deadline": office and still_open,
            "public_reply": handles and reported, "photos": handles}


def detail(conn, user, complaint_id: int) -> dict:
    """One complaint with its status history, its deadline history and the extension request awaiting a decision,
    each with what ``user`` may not read taken out (who and why are staff-only, as the status notes), and what
    ``user`` may do to it now (:func:`actions`)."""
    current = cases.get(conn, complaint_id)
    complaint = shown_row(COMPLAINTS, user, current)
    complaint["events"] = [shown_row(COMPLAINTS, user, e) for e in cases.events(conn, complaint_id)]
    renames = {"reason": "note"}
    waiting = deadlines.pending(conn, complaint_id)
    complaint["deadline_request"] = waiting and shown_row(COMPLAINTS, user, waiting, renames)
    complaint["deadline_changes"] = [shown_row(COMPLAINTS, user, r, renames)
                                     for r in deadlines.history(conn, complaint_id)]
    complaint["actions"] = actions(user, current, waiting, public_staff.reported(conn, complaint_id))
    complaint["responsible_unit"] = cases.responsible_unit(conn, current["grid_code"])
    complaint["area_names"] = cases.area_names(conn, current)
    return complaint


async def pending_extension_query(
    pending_extension: Annotated[str | None, Query(description="true: only complaints with an extension request "
                                                               "awaiting the campaign office's decision; "
                                                               "false: only those without")] = None,
) -> bool | None:
    """An optional yes/no: complaints with (or without) an extension request awaiting a decision."""
    return None if pending_extension is None else parse_bool(pending_extension, "pending_extension")


async def awaiting_reply_query(
    awaiting_reply: Annotated[str | None, Query(description="true: only complaints residents reported through the "
                                                            "public channel that await a public reply since their "
                                                            "latest report or 不满意 rating (a street user's or "
                                                            "inspector's own only); false: only the rest")] = None,
) -> bool | None:
    """An optional yes/no: complaints awaiting (or not) the unit's public reply to residents."""
    return None if awaiting_reply is None else parse_bool(awaiting_reply, "awaiting_reply")


@router.post("/api/complaints", status_code=201, summary="File a complaint; it is routed to the grid containing it")
def post_complaint(body: ComplaintIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey):
    def write() -> JSONResponse:
        reported = not_future(body.reported_at or datetime.now(UTC), "reported_at")
        complaint = cases.file_complaint(conn, user, lon=body.lon, lat=body.lat, crs=body.crs,
                                         category=body.category, description=body.description,
                                         channel=body.source, reported_at=reported)
        return JSONResponse(complaint, status_code=201, headers={"Location": f"/api/complaints/{complaint['id']}"})

    return once(conn, user, key, request, body, write)


@router.patch("/api/complaints/{complaint_id}", summary="Move a complaint to its next workflow state")
def patch_complaint(body: TransitionIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey,
                    complaint_id: int = COMPLAINT_ID):
    def write() -> JSONResponse:
        current = handled(user, conn, complaint_id)
        reply = clean_text(body.public_reply, "public_reply")
        if body.status in TRANSITIONS[current["status"]]:  # an illegal step is refused by its own words below
            public_outcome.require_public_reason(conn, complaint_id, current["status"], body.status,
                                                 public_staff.reported(conn, complaint_id), reply)
        result = cases.transition(conn, complaint_id, body.status, body.note, user.name)
        if reply:  # after the step: a step refused writes no reply
            public_staff.reply(conn, user, complaint_id, reply)
        result["events"] = cases.events(conn, complaint_id)
        return JSONResponse(result)

    return once(conn, user, key, request, body, write)


@router.post("/api/complaints/{complaint_id}/deadline/requests", status_code=201,
             summary="Ask the campaign office for more time (延期申请): a later deadline and why")
def post_extension_request(body: DeadlineIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey,
                           complaint_id: int = COMPLAINT_ID):
    def write() -> JSONResponse:
        current = handled(user, conn, complaint_id)
        deadlines.request_extension(conn, current, body.due_at, body.reason, user.name)
        return JSONResponse(detail(conn, user, complaint_id), status_code=201,
                            headers={"Location": f"/api/complaints/{complaint_id}"})

    return once(conn, user, key, request, body, write)


@router.post("/api/complaints/{complaint_id}/deadline/requests/{request_id}/decision",
             summary="Approve or reject an extension request (the campaign office)")
def post_extension_decision(body: DecisionIn, user: Writer, conn: Transaction, request: Request,
                            key: IdempotencyKey, complaint_id: int = COMPLAINT_ID,
                            request_id: int = Path(..., ge=1, le=2**63 - 1)):
    def write() -> JSONResponse:
        current = decided_by_office(user, conn, complaint_id, "approves or rejects extension requests", "批准或驳回延期申请")
        deadlines.decide(conn, current, request_id, body.decision, body.note, user.name)
        return JSONResponse(detail(conn, user, complaint_id))

    return once(conn, user, key, request, body, write)


@router.put("/api/complaints/{complaint_id}/deadline", summary="Set a complaint's deadline (限期整改, the campaign office)")
def put_deadline(body: DeadlineIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey,
                 complaint_id: int = COMPLAINT_ID):
    def write() -> JSONResponse:
        current = decided_by_office(user, conn, complaint_id, "sets deadlines directly", "直接设定整改期限")
        deadlines.set_deadline(conn, current, body.due_at, body.reason, user.name)
        return JSONResponse(detail(conn, user, complaint_id))

    return once(conn, user, key, request, body, write)


@router.get("/api/complaints/{complaint_id}",
            summary="One complaint with its status history and its deadline requests and changes")
def get_complaint(user: Reader, conn: Conn, complaint_id: int = COMPLAINT_ID):
    return detail(conn, user, complaint_id)


@router.get("/api/complaints", summary="Complaints, newest first, a page at a time")
def list_complaints(
    street: Street,
    grid: Annotated[str | None, Depends(grid_query)],
    window: Window,
    page: Paged,
    user: Reader,
    conn: Conn,
    status: Status | None = Query(None),
    overdue: bool | None = Query(None, description="true: open and past due; false: not"),
    open: bool | None = Query(None, description="true: not yet closed (结案); false: closed"),
    pending_extension: Annotated[bool | None, Depends(pending_extension_query)] = None,
    awaiting_reply: Annotated[bool | None, Depends(awaiting_reply_query)] = None,
    q: str | None = Query(None, description="a complaint's id or hotline number, a resident's tracking number "
                                            "(查询码, where the user handles the case), or its caller's number or name "
                                            "where the user may read them (found first), or words of its address "
                                            "(and of its description, where the user may read it)"),
):
    settings = cases.ComplaintSettings.from_env()
    limit = page_limit(page.limit, settings)
    found = cases.search(conn, street=street, grid=grid, status=status, overdue=overdue, is_open=open,
                         since=window.since, until=window.until, pending_extension=pending_extension,
                         awaiting_reply=awaiting_reply,
                         # The replies a street office owes are its own street's (as /cases lists them).
                         awaiting_scope=personal_rows(COMPLAINTS, user) if user else None,
                         text=clean_text(q, "q", 100), described=column_grant(COMPLAINTS, DESCRIPTION, user),
                         callers=column_grant(COMPLAINTS, ATTRIBUTES, user),
                         limit=limit, offset=page.offset)
    found["items"] = [shown_row(COMPLAINTS, user, item) for item in found["items"]]
    return found
