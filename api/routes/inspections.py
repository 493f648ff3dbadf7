"""明察暗访 over HTTP (issue 15): the checklist, rounds, findings and their rectification, scores."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api.auth import Reader, Writer
from api.bodies import Body, Instant, Text
from api.deps import Conn, Lang, Paged, Street, Transaction
from api.idempotency import IdempotencyKey, once
from api.limits import Costly
from api.routes.complaints import PointCrs, not_future, page_limit
from api.routes.session import ROLES_ZH
from api.uploads import field, file_bytes, multipart
from api.urls import base_url
from data import checklist
from data.catalog import check_street
from data.errors import Forbidden, InvalidParameter, NotFound
from data.params import clean_text
from data.settings import ComplaintSettings
from data.vocab import PLACE_TYPES, FindingStatus, RoundKind
from geo import coords
from layers.spec.inspection_findings import LAYER as FINDINGS
from layers.workflow import inspection_photos as pictures
from layers.workflow import inspection_places as places
from layers.workflow import inspection_rounds as rounds
from layers.workflow import inspections as work
from layers.workflow.access import named_for, shown_row
from layers.workflow.inspection_scores import scores

router = APIRouter(tags=["inspections"])
# One Path object per parameter name: FastAPI keeps the name it was first used for on the object.
ROUND_ID = Path(..., ge=1, le=2**63 - 1)
FINDING_ID = Path(..., ge=1, le=2**63 - 1)
PHOTO_ID = Path(..., ge=1, le=2**63 - 1)


class RoundIn(Body):
    """A round of inspections over some streets."""

    name: Text = Field(..., min_length=1, max_length=200, examples=["2026年11月月度暗访"])
    kind: RoundKind
    unannounced: bool | None = Field(None, description="暗访: kept from the street offices it inspects and from the "
                                     "public until it starts; default: true for 月度暗访, false for the other kinds")
    starts: Instant = Field(..., description="ISO 8601; without a zone: the city's time zone")
    ends: Instant = Field(..., description="exclusive; ISO 8601")
    streets: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(..., min_length=1, max_length=500)


class RoundEdit(Body):
    """A correction of a round planned by mistake: the fields given change, the others stay; why, for the audit log."""

    name: Text | None = Field(None, min_length=1, max_length=200)
    kind: RoundKind | None = Field(None, description="a new kind without unannounced: that kind's usual 暗访 or 明察")
    unannounced: bool | None = None
    starts: Instant | None = Field(None, description="ISO 8601; without a zone: the city's time zone")
    ends: Instant | None = Field(None, description="exclusive; ISO 8601")
    streets: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(None, min_length=1,
                                                                                     max_length=500)
    reason: Text = Field(..., min_length=1, max_length=500, examples=["名称输错"])


class RoundRemoval(Body):
    """Why a round is deleted (the query of DELETE, as an idempotent request's fingerprint)."""

    reason: str


class FindingIn(Body):
    """A checklist item seen at a point during a round."""

    round_id: int = Field(..., ge=1, le=2**63 - 1)
    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False)
    crs: PointCrs = Field("wgs84", description="coordinates as given: WGS84, GCJ-02 or BD-09")
    item: Text = Field(..., min_length=1, max_length=50, description="checklist item code, e.g. TLT-01")
    note: Text | None = Field(None, max_length=2000)
    observed_at: Instant = Field(..., description="ISO 8601; without a zone: the city's time zone")
    client_id: Text = Field(..., min_length=1, max_length=100,
                           description="chosen by the phone (a UUID); sending it again answers the same finding")


class MoveIn(Body):
    """The next rectification state and a note (required for a failed re-check); when, if not now."""

    status: FindingStatus
    note: Text | None = Field(None, max_length=1000)
    at: Instant | None = Field(None, description="when it happened, for a paper record entered afterwards (ISO 8601; "
                               "without a zone: the city's time zone); not before the finding's last step; default now")


@router.get("/api/inspections/checklist", summary="The checklist items, per place type, with sources and labels")
def get_checklist(lang: Lang, place_type: str | None = Query(None, description="one of the place types")):
    if place_type is not None and place_type not in PLACE_TYPES:
        raise InvalidParameter("place_type", f"must be one of {', '.join(PLACE_TYPES)}, not {place_type!r}",
                               f"应为 {'、'.join(PLACE_TYPES)} 之一，而不是 {place_type!r}")
    items = [i.as_dict(lang) for i in checklist.load().values() if place_type in (None, i.place_type)]
    return {"place_types": [{"name": k, "name_en": v} for k, v in PLACE_TYPES.items()], "items": items}


def _office_only(user, what: str, what_zh: str) -> None:
    """Forbidden unless ``user`` is the campaign office (admin), who plans rounds: ``what`` it may not do."""
    if user.role != "admin":
        raise Forbidden(f"user {user.name!r} ({user.role}) may not {what}: only admins do",
                        f"用户 {user.name!r}（{ROLES_ZH.get(user.role, user.role)}）不能{what_zh}：只有管理员可以")


@router.post("/api/inspections/rounds", status_code=201, summary="Open a round of inspections (admin)")
def post_round(body: RoundIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey):
    _office_only(user, "open an inspection round", "发起检查轮次")

    def write() -> JSONResponse:
        made = work.create_round(conn, name=body.name, kind=body.kind, starts=body.starts, ends=body.ends,
                                 streets=body.streets, actor=user.name, unannounced=body.unannounced)
        return JSONResponse(made, status_code=201, headers={"Location": f"/api/inspections/rounds/{made['id']}"})

    return once(conn, user, key, request, body, write)


@router.get("/api/inspections/rounds", summary="Every round the caller may know of, newest first, with its counts of findings (an unannounced "
                    "round, 暗访, is kept from the public and the street offices until it starts)")
def list_rounds(user: Reader, conn: Conn):
    return {"items": [named_for(user, r) for r in work.rounds(conn) if not work.kept_from(user, r)]}


@router.get("/api/inspections/rounds/{round_id}", summary="One round")
def get_round(user: Reader, conn: Conn, round_id: int = ROUND_ID):
    return named_for(user, work.round_for(conn, round_id, user))


@router.patch("/api/inspections/rounds/{round_id}",
              summary="Correct a round (admin): name, kind, times, streets, 暗访 or 明察, while its findings stay in it")
def patch_round(body: RoundEdit, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey,
                round_id: int = ROUND_ID):
    _office_only(user, "correct an inspection round", "修改检查轮次")

    def write() -> JSONResponse:
        changes = body.model_dump(exclude={"reason"})
        return JSONResponse(named_for(user, rounds.edit_round(conn, round_id, changes, reason=body.reason,
                                                              actor=user.name)))

    return once(conn, user, key, request, body, write)


@router.delete("/api/inspections/rounds/{round_id}",
               summary="Delete a round planned by mistake (admin), only while it has no findings")
def delete_round(user: Writer, conn: Transaction, request: Request, key: IdempotencyKey, round_id: int = ROUND_ID,
                 reason: str = Query(..., max_length=500, description="why, for the audit log")):
    _office_only(user, "delete an inspection round", "删除检查轮次")
    why = clean_text(reason, "reason", 500)
    if why is None:
        raise InvalidParameter("reason", "say why the round is deleted", "请写明删除原因")

    def write() -> JSONResponse:
        return JSONResponse({"deleted": named_for(user, rounds.delete_round(conn, round_id, reason=why,
                                                                            actor=user.name))})

    return once(conn, user, key, request, RoundRemoval(reason=why), write)


@router.get("/api/inspections/rounds/{round_id}/scores",
            summary="Scores of a round per street and per responsible unit: base minus deductions, ranked")
def get_scores(user: Reader, conn: Conn, round_id: int = ROUND_ID):
    work.round_for(conn, round_id, user)
    answer = scores(conn, round_id)
    return {**answer, "round": named_for(user, answer["round"])}


@router.post("/api/inspections/findings", status_code=201,
             summary="Record a finding (inspector within its scope); the same client_id answers the same finding")
def post_finding(body: FindingIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey):
    def write() -> JSONResponse:
        not_future(body.observed_at, "observed_at")
        finding, new = work.record_finding(conn, user, round_id=body.round_id, lon=body.lon, lat=body.lat,
                                           crs=body.crs, item=body.item, note=body.note,
                                           observed_at=body.observed_at, client_id=body.client_id)
        return JSONResponse(shown_row(FINDINGS, user, finding), status_code=201 if new else 200,
                            headers={"Location": f"/api/inspections/findings/{finding['id']}"})

    return once(conn, user, key, request, body, write)


@router.patch("/api/inspections/findings/{finding_id}",
              summary="Rectify (已整改) or re-check (复查通过 / 复查未通过) a finding")
def patch_finding(body: MoveIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey,
                  finding_id: int = FINDING_ID):
    def write() -> JSONResponse:
        if body.at is not None:
            not_future(body.at, "at")
        moved = work.move(conn, user, finding_id, body.status, body.note, body.at)
        moved["events"] = work.events(conn, finding_id)
        return JSONResponse(shown_row(FINDINGS, user, moved))

    return once(conn, user, key, request, body, write)


@router.get("/api/inspections/findings/{finding_id}", summary="One finding with its history and photos")
def get_finding(user: Reader, conn: Conn, finding_id: int = FINDING_ID):
    stored = work.get_finding(conn, finding_id)
    finding = shown_row(FINDINGS, user, stored)
    finding["events"] = [shown_row(FINDINGS, user, e) for e in work.events(conn, finding_id)]
    if sees_photos(user, stored):
        finding["photos"] = pictures.photos(conn, finding_id)
    return finding


def sees_photos(user, finding: dict) -> bool:
    """Photos show people, doors and number plates: read as the finding's description is (personal)."""
    return shown_row(FINDINGS, user, {**finding, "description": True}).get("description") is True


@router.post("/api/inspections/findings/{finding_id}/photos", status_code=201,
             summary="Add a photo (multipart: stage=before|after, file); EXIF removed, stored by content hash")
async def post_photo(request: Request, user: Writer, conn: Transaction, finding_id: int = FINDING_ID):
    parts = multipart(await request.body(), request.headers.get("content-type", ""), "a stage field and a file",
                      " stage 字段和文件")
    data, stage = file_bytes(parts), field(parts, "stage")

    def write():  # the database and Pillow block: off the event loop
        return pictures.add_photo(conn, user, work.get_finding(conn, finding_id, lock=True), stage, data)

    photo, new = await run_in_threadpool(write)
    return JSONResponse(photo, status_code=201 if new else 200, headers={"Location": photo["url"]})


@router.get("/api/inspections/findings/{finding_id}/photos/{photo_id}", summary="One photo's image")
def get_photo(user: Reader, conn: Conn, finding_id: int = FINDING_ID, photo_id: int = PHOTO_ID):
    if not sees_photos(user, work.get_finding(conn, finding_id)):
        raise NotFound(f"finding {finding_id} has no photo {photo_id} you may see",
                       f"暗访问题 {finding_id} 没有您可查看的照片 {photo_id}")
    path, media_type = pictures.photo_file(conn, finding_id, photo_id)
    # Personal: a shared office browser keeps no copy once the page is left (README, who reads what).
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, no-store"})


@router.get("/api/inspections/findings", summary="Findings, newest observed first, a page at a time (with their photos and history for those who may see "
                    "them)")
def list_findings(street: Street, page: Paged, user: Reader, conn: Conn,
                  round_id: int | None = Query(None, alias="round", ge=1, le=2**63 - 1),
                  status: FindingStatus | None = Query(None),
                  overdue: bool | None = Query(None, description="true: only findings waiting for rectification "
                                                                 "past their deadline (限期整改 overdue); false: the others")):
    settings = ComplaintSettings.from_env()
    limit = page_limit(page.limit, settings)
    # A street or round that does not exist is said, not answered with an empty page (as /api/complaints does).
    if street is not None:
        check_street(conn, street)
    if round_id is not None:
        work.round_for(conn, round_id, user)
    found = work.search(conn, round_id=round_id, street=street, status=status, overdue=overdue, limit=limit,
                        offset=page.offset)
    # Photos (as one finding shows them) for those who may see them: the rectifier sees what the inspector saw.
    # The history goes with them, to the same readers only (what each side wrote is about the same place and
    # people as the description): the field page's cards show the latest exchange from it.
    seen = {item["id"] for item in found["items"] if sees_photos(user, item)}
    taken = pictures.photos_of(conn, list(seen)) if seen else {}
    history = work.events_of(conn, list(seen)) if seen else {}
    found["items"] = [{**shown_row(FINDINGS, user, item),
                       **({"photos": taken.get(item["id"], []),
                           "events": [shown_row(FINDINGS, user, e) for e in history.get(item["id"], [])]}
                          if item["id"] in seen else {})}
                      for item in found["items"]]
    return found


@router.get("/api/inspections/places",
            summary="Place types with a facility within 30 m of a point, nearest first (the field page's checklist), "
                    "and the grid holding it with its responsible unit (null: none yet)")
def get_places(user: Reader, conn: Conn, lon: float = Query(..., ge=-180, le=180, allow_inf_nan=False),
               lat: float = Query(..., ge=-90, le=90, allow_inf_nan=False), crs: PointCrs = Query("wgs84")):
    x, y = coords.to_wgs84(lon, lat, crs)
    return {"radius_m": places.NEAR_M, "items": places.places_near(conn, float(x), float(y)),
            "grid": places.grid_at(conn, float(x), float(y))}


# -- 问题清单: a round's problem list as a document (layers.printing.problems_*) ---------------------------------
_DOCUMENTS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


@router.get("/api/inspections/rounds/{round_id}/problems.{fmt}", response_class=Response,
            responses={200: {"content": {t: {} for t in _DOCUMENTS.values()}, "description": "XLSX or PDF"}},
            summary="A round's 问题清单 (one street's with ?street=) as XLSX or PDF: per unit, each finding, a map")
def get_problems(request: Request, user: Reader, conn: Conn, street: Street, lang: Lang, _: Costly,
                 round_id: int = ROUND_ID,
                 fmt: Literal["xlsx", "pdf"] = Path(..., description="xlsx (a table) or pdf (a map, then the list)")):
    from layers.printing.problems_data import load_problems
    from layers.printing.problems_pdf import pdf_bytes
    from layers.printing.problems_xlsx import xlsx_bytes

    work.round_for(conn, round_id, user)
    plist = load_problems(conn, round_id, street, viewer=user)  # descriptions and photos as the caller may see them
    conn.rollback()  # loaded: end the read transaction before drawing, which needs no database
    body = pdf_bytes(plist, lang) if fmt == "pdf" else xlsx_bytes(plist, lang, base_url(request))
    name = f"problems-{round_id}{'-' + street if street else ''}.{fmt}"
    return Response(body, media_type=_DOCUMENTS[fmt],
                    headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})
