"""Complaints over HTTP: file (routed to its grid), move through the workflow, list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import reader, require_writer
from api.deps import get_conn
from data.errors import Forbidden, InvalidParameter
from data.vocab import Status
from layers.workflow import complaints as cases
from layers.workflow.access import User

router = APIRouter(tags=["complaints"])

# A time without a zone is the city's local time (China Standard Time).
CITY_TZ = timezone(timedelta(hours=8))
# Clocks differ a little; a report "from the future" beyond this is refused.
FUTURE_SLACK = timedelta(minutes=10)


def no_nul(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters: refuse them as a bad field, not a server error."""
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


class ComplaintIn(BaseModel):
    """A citizen complaint or inspection finding at a point."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False, examples=[121.38])
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False, examples=[37.49])
    crs: Literal["wgs84", "gcj02", "bd09"] = Field("wgs84", description="coordinates as given: WGS84, "
                                                   "GCJ-02 (Gaode, Tencent) or BD-09 (Baidu)")
    category: str = Field(..., min_length=1, max_length=50, description="event type, e.g. 暴露垃圾")
    description: str | None = Field(None, max_length=2000)
    source: str = Field(..., min_length=1, max_length=50, description="channel: 12345, 12319, 微信, 暗访 …")
    reported_at: datetime | None = Field(None, description="ISO 8601; without a zone: China Standard Time")

    @field_validator("category", "description", "source")
    @classmethod
    def _no_nul(cls, value):
        return no_nul(value)


class TransitionIn(BaseModel):
    """The next workflow state and a note (why; required when closing unregistered or sending back)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Status
    note: str | None = Field(None, max_length=1000)

    @field_validator("note")
    @classmethod
    def _no_nul(cls, value):
        return no_nul(value)


def _to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return lon, lat
    from geo import coords

    convert = coords.gcj02_to_wgs84 if crs == "gcj02" else coords.bd09_to_wgs84
    x, y = convert(lon, lat)
    return float(x[0] if hasattr(x, "__len__") else x), float(y[0] if hasattr(y, "__len__") else y)


@router.post("/api/complaints", status_code=201, summary="File a complaint; it is routed to the grid containing it")
def post_complaint(body: ComplaintIn, user: User = Depends(require_writer), conn=Depends(get_conn)):
    reported = body.reported_at or datetime.now(UTC)
    if reported.tzinfo is None:
        reported = reported.replace(tzinfo=CITY_TZ)
    if reported > datetime.now(UTC) + FUTURE_SLACK:
        raise InvalidParameter("reported_at", f"{reported.isoformat()} lies in the future")
    lon, lat = _to_wgs84(body.lon, body.lat, body.crs)
    routed = cases.route(conn, lon, lat)
    if not user.may_write_complaint(routed["street_code"], routed["grid_code"]):
        raise Forbidden(f"user {user.name!r} may file complaints in {user.scope_text()}, not in grid "
                        f"{routed['grid_code'] or '-'} of street {routed['street_code']}")
    complaint = cases.create(conn, lon=lon, lat=lat, category=body.category, description=body.description,
                             channel=body.source, reported_at=reported, actor=user.name, routed=routed)
    conn.commit()
    return JSONResponse(complaint, status_code=201, headers={"Location": f"/api/complaints/{complaint['id']}"})


@router.patch("/api/complaints/{complaint_id}", summary="Move a complaint to its next workflow state")
def patch_complaint(body: TransitionIn, complaint_id: int = Path(..., ge=1, le=2**63 - 1),
                    user: User = Depends(require_writer), conn=Depends(get_conn)):
    current = cases.get(conn, complaint_id, lock=True)
    if not user.may_write_complaint(current["street_code"], current["grid_code"]):
        raise Forbidden(f"user {user.name!r} may handle complaints in {user.scope_text()}, not complaint "
                        f"{complaint_id} in grid {current['grid_code'] or '-'} of street {current['street_code']}")
    result = cases.transition(conn, complaint_id, body.status, body.note, user.name)
    conn.commit()
    result["events"] = cases.events(conn, complaint_id)
    return result


@router.get("/api/complaints/{complaint_id}", summary="One complaint with its status history")
def get_complaint(complaint_id: int = Path(..., ge=1, le=2**63 - 1), user: User | None = Depends(reader),
                  conn=Depends(get_conn)):
    complaint = cases.get(conn, complaint_id)
    complaint["events"] = cases.events(conn, complaint_id)
    return complaint


@router.get("/api/complaints", summary="Complaints, newest first, a page at a time")
def list_complaints(
    street: str | None = Query(None, pattern=r"^[0-9]{9}$"),
    grid: str | None = Query(None, pattern=r"^[0-9]{13,15}$"),
    status: Status | None = Query(None),
    overdue: bool | None = Query(None, description="true: open and past due; false: not"),
    open: bool | None = Query(None, description="true: not yet closed (结案); false: closed"),
    since: datetime | None = Query(None, description="reported at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="reported before (ISO 8601)"),
    limit: int | None = Query(None, ge=1),
    offset: int = Query(0, ge=0, le=10_000_000),
    user: User | None = Depends(reader),
    conn=Depends(get_conn),
):
    settings = cases.ComplaintSettings.from_env()
    limit = limit or settings.page_default
    if limit > settings.page_max:
        raise InvalidParameter("limit", f"at most {settings.page_max} per page, not {limit}")
    since = since.replace(tzinfo=CITY_TZ) if since and since.tzinfo is None else since
    until = until.replace(tzinfo=CITY_TZ) if until and until.tzinfo is None else until
    if since and until and since >= until:
        raise InvalidParameter("since", "must be before until")
    return cases.search(conn, street=street, grid=grid, status=status, overdue=overdue, is_open=open, since=since, until=until,
                        limit=limit, offset=offset)
