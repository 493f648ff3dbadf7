"""The public channel over HTTP (issue 17): report without an account, follow by tracking number, rate.

``router`` answers anyone, even when reads need a token (a resident has
none); ``HYGIENE_MAP_PUBLIC_CHANNEL=0`` closes it (403). Its abuse guards:
a per-client limit on reports and ratings and one on reads (429 with
Retry-After), a honeypot field, a single-use proof-of-work challenge, and
the server's body limit. ``staff_router`` (behind the reads dependency like
every router) gives staff of the case's street the reporters' contact
numbers and lets them reply to the public.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api.auth import Writer
from api.bodies import Body, Phone, Text
from api.deps import Conn, Lang, Street, Transaction, Window, bbox_required, check_basemap
from api.errors import status_for
from api.idempotency import IdempotencyKey, once
from api.routes.complaints import COMPLAINT_ID, PointCrs
from api.routes.layers import tile_response
from api.routes.pages import context_labels
from api.uploads import field, file_bytes, multipart
from api.urls import client_address
from data.catalog import city_view, event_types
from data.errors import Forbidden, InvalidParameter, NotFound, TooBusy
from data.params import BBox, clean_text
from data.settings import MapSettings, PublicSettings, TileSettings
from data.vocab import PUBLIC_CHANNEL, RATINGS
from layers.spec.registry import get_layer
from layers.store.tiles import parse_tile
from layers.web.basemap import basemap_config, page_basemap
from layers.web.public_map import CONTEXT_LABELS, CONTEXT_TILES, PAGE_CSP, page_csp
from layers.web.report_page import report_html
from layers.web.tracking_page import refused_html, tracking_html
from layers.workflow import public, public_challenges, public_photos, public_staff


class ClientWindow:
    """At most ``limit`` events per client within a sliding window of ``period_s`` seconds.

    One per app (``app.state.client_window``, made by create_app), so per server process.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque] = {}

    def admit(self, bucket: str, client: str, limit: int, period_s: float, setting: str) -> None:
        """Count one event of ``client`` in ``bucket``, or raise :class:`TooBusy` with the seconds to wait."""
        with self._lock:
            self._check(bucket, client, limit, period_s, setting).append(time.monotonic())

    def check(self, bucket: str, client: str, limit: int, period_s: float, setting: str) -> None:
        """Raise :class:`TooBusy` when ``client`` has no event left in ``bucket``; count nothing."""
        with self._lock:
            self._check(bucket, client, limit, period_s, setting)

    def note(self, bucket: str, client: str) -> None:
        """Count one event of ``client`` in ``bucket`` (checked before with :meth:`check`)."""
        with self._lock:
            self._seen.setdefault((bucket, client), deque()).append(time.monotonic())

    def _check(self, bucket: str, client: str, limit: int, period_s: float, setting: str) -> deque:
        now = time.monotonic()
        seen = self._seen.setdefault((bucket, client), deque())
        while seen and seen[0] <= now - period_s:
            seen.popleft()
        if len(seen) >= limit:
            wait = max(1, int(seen[0] + period_s - now) + 1)
            raise TooBusy(f"this client has reached {limit} per {int(period_s)} s ({setting}); "
                          f"try again in {wait} s", wait,
                          zh=f"此客户端已达到每 {int(period_s)} 秒 {limit} 次的上限（{setting}）；请 {wait} 秒后再试")
        if len(self._seen) > 100_000:  # forget idle clients rather than grow without end
            for key in [k for k, v in self._seen.items() if not v and k != (bucket, client)]:
                del self._seen[key]
        return seen


def _open_channel() -> PublicSettings:
    settings = PublicSettings.from_env()
    if not settings.channel_open:
        raise Forbidden("the public channel is closed on this server (HYGIENE_MAP_PUBLIC_CHANNEL=0)",
                        "本服务器已关闭群众投诉渠道（HYGIENE_MAP_PUBLIC_CHANNEL=0）")
    return settings


def public_write(request: Request) -> Iterator[PublicSettings]:
    """Admit one public write (report, rating) of this client; the channel's settings.

    Only a write that is made counts against the client's reports per hour:
    a resident whose report was refused (outside the city, a word too many)
    and who corrects it has lost none. A refused write counts as a read
    instead, so refusals cannot be asked for without end.
    """
    s = _open_channel()
    window, client = request.app.state.client_window, client_address(request)
    window.check("write", client, s.reports_per_hour, 3600, "HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR")
    try:
        yield s
    except Exception:
        window.note("read", client)
        raise
    window.note("write", client)


def public_read(request: Request) -> PublicSettings:
    """Admit one public read (tracking page, nearby, challenge) of this client; the channel's settings."""
    s = _open_channel()
    request.app.state.client_window.admit("read", client_address(request), s.reads_per_minute, 60,
                                     "HYGIENE_MAP_PUBLIC_READS_PER_MINUTE")
    return s


def public_photo(request: Request) -> PublicSettings:
    """Admit one photo upload of this client (as many per hour as its reports can carry); the settings."""
    s = _open_channel()
    request.app.state.client_window.admit("photo", client_address(request), s.reports_per_hour * public_photos.PER_REPORT,
                                          3600, "HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR × 3 photos")
    return s


# Counted when the route function has returned (scope function), before the answer is sent.
PublicWrite = Annotated[PublicSettings, Depends(public_write, scope="function")]
PublicPhoto = Annotated[PublicSettings, Depends(public_photo)]
PublicRead = Annotated[PublicSettings, Depends(public_read)]
TRACKING = Path(..., min_length=1, max_length=40, description="the tracking number the report's answer gave")

router = APIRouter(tags=["public"])
staff_router = APIRouter(tags=["complaints"])


class ReportIn(Body):
    """A resident's report: where, what, optionally a phone number for a reply; and the solved challenge."""

    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False)
    crs: PointCrs = Field("wgs84", description="GPS: wgs84; a tap on a Gaode/Tencent map: gcj02; Baidu: bd09")
    category: Text = Field(..., min_length=1, max_length=50, description="event type, e.g. 暴露垃圾")
    description: Text | None = Field(None, max_length=1000)
    phone: Phone | None = Field(None, max_length=32,
                                description="for a reply (digits, + - . spaces, an area code in brackets); shown "
                                            "only to staff of the responsible street")
    website: Text | None = Field(None, max_length=200, description="leave empty (a field people never see)")
    challenge: Text | None = Field(None, max_length=64, description="from GET /api/public/challenge")
    nonce: Text | None = Field(None, max_length=64, description="sha256(challenge:nonce) starts with `bits` zeros")


class RatingIn(Body):
    """The reporter's rating of the closing; 不满意 needs a reason (and reopens the case once)."""

    rating: Text = Field(..., description=" / ".join(RATINGS))
    reason: Text | None = Field(None, max_length=500)
    key: Text | None = Field(None, max_length=64, description="the report's key: the challenge it was made with")


class ReplyIn(Body):
    """The responsible unit's reply to the public."""

    reply: Text = Field(..., min_length=1, max_length=2000)


@router.get("/api/public/challenge", summary="A single-use proof-of-work challenge for a report")
def get_challenge(settings: PublicRead, conn: Transaction):
    return public_challenges.issue_challenge(conn, settings)


@router.get("/api/public/nearby", summary="Open reports of the same type nearby (已有人反映，是否补充？)")
def get_nearby(settings: PublicRead, conn: Conn,
               lon: float = Query(..., ge=-180, le=180, allow_inf_nan=False),
               lat: float = Query(..., ge=-90, le=90, allow_inf_nan=False),
               category: str = Query(..., min_length=1, max_length=50), crs: PointCrs = Query("wgs84")):
    x, y = public.to_wgs84(lon, lat, crs)
    public.check_place(conn, x, y)  # outside the city: said before the resident is asked to join a case
    found = public.nearby_open(conn, x, y, clean_text(category, "category", 50) or "")
    return {"items": [{k: item[k] for k in ("status", "reported_at", "distance_m", "supporters")}
                      for item in found],
            "joins": bool(found)}


@router.post("/api/public/reports", status_code=201, summary="Report a problem (no account); a tracking number")
def post_report(body: ReportIn, settings: PublicWrite, conn: Transaction):
    if body.website:
        raise InvalidParameter("website", "must be left empty", "必须留空")
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    replayed = public_challenges.spend_challenge(conn, body.challenge, body.nonce, settings, fingerprint)
    if replayed is not None:  # the same report again (its answer was lost): the same tracking number
        return _report_answer(replayed, public.report(conn, replayed)["joined"], 200, {"Idempotent-Replayed": "true"})
    x, y = public.to_wgs84(body.lon, body.lat, body.crs)
    made = public.submit(conn, lon=x, lat=y, category=body.category, description=body.description,
                         phone=body.phone, channel=PUBLIC_CHANNEL)
    public_challenges.mark_challenge(conn, body.challenge, made["tracking"], fingerprint)
    return _report_answer(made["tracking"], made["joined"], 201)


def _report_answer(tracking: str, joined: bool, status: int, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"tracking": tracking, "joined": joined, "url": f"/report/{tracking}",
                         "api": f"/api/public/reports/{tracking}"},
                        status_code=status, headers={"Location": f"/api/public/reports/{tracking}", **(headers or {})})


@router.get("/api/public/reports/{tracking}",
            summary="Follow a report: its steps, the unit, the unit's replies (with X-Report-Key: the reporter's own "
                    "description and whether they may rate)")
def get_report(settings: PublicRead, conn: Conn, tracking: str = TRACKING,
               key: Annotated[str | None, Header(alias="X-Report-Key", max_length=64,
                                                 description="the report's key: its reporter's own view")] = None):
    # The reporter's view (their words) must never be kept by a shared cache and handed to someone else.
    return JSONResponse(public.follow(conn, tracking, settings, key),
                        headers={"Cache-Control": "private, no-store", "Vary": "X-Report-Key"})


def _page_refusal(request: Request, lang: str) -> HTMLResponse | None:
    """None when this client may read a public page; else the refusal (closed 403, too busy 429) as a page in
    the resident's language, not the API's JSON."""
    try:
        public_read(request)
    except (Forbidden, TooBusy) as exc:
        wait = exc.retry_after if isinstance(exc, TooBusy) else None
        headers = {"Content-Security-Policy": PAGE_CSP, **({"Retry-After": str(wait)} if wait else {})}
        return HTMLResponse(refused_html(lang, wait), status_code=status_for(exc), headers=headers)
    return None


@router.get("/report", response_class=HTMLResponse,
            summary="The report page: place by GPS or a tap, category, description, photos, optional phone "
                    "(zh; ?lang=en)")
def report_page(request: Request, conn: Conn, lang: Lang,
                basemap: str | None = Query(None, description="none | osm | tianditu | gaode (default: the setting)"),
                code: str | None = Query(None, max_length=40, description="a tracking number: go to its page")):
    if refused := _page_refusal(request, lang):
        return refused
    if code and code.strip():  # the page's 查询 form: to the number's page (an unknown one says so there)
        try:
            found = public.read_tracking(code)
        except NotFound:
            found = code.strip()
        return RedirectResponse(f"/report/{quote(found, safe='')}" + ("?lang=en" if lang == "en" else ""),
                                status_code=303)
    check_basemap(basemap)
    maps = MapSettings.from_env()
    base = basemap_config(basemap or maps.basemap, maps)
    center, bounds = city_view(conn)
    return HTMLResponse(report_html(lang, event_types(conn, lang), center, bounds, base),
                        headers={"Content-Security-Policy": page_csp(base)})


@router.get("/report/{tracking}", response_class=HTMLResponse,
            summary="The tracking page: steps, a small map of the place, the unit's replies, the rating form after "
                    "结案 (zh; ?lang=en)")
def tracking_page(request: Request, conn: Conn, lang: Lang, tracking: str = TRACKING):
    if refused := _page_refusal(request, lang):
        return refused
    try:
        code = public.report(conn, tracking)["tracking"]
    except NotFound:
        return HTMLResponse(tracking_html(tracking, lang, found=False), status_code=404,
                            headers={"Content-Security-Policy": PAGE_CSP})
    base = page_basemap()  # the configured basemap, as /report draws it
    return HTMLResponse(tracking_html(code, lang, basemap=base), headers={"Content-Security-Policy": page_csp(base),
                                                                          "Cache-Control": "no-store"})


@router.post("/api/public/reports/{tracking}/rating", status_code=201,
             summary="The reporter rates the closing (满意/基本满意/不满意, with the report's key); 不满意 with a "
                     "reason reopens the case once")
def post_rating(body: RatingIn, settings: PublicWrite, conn: Transaction, tracking: str = TRACKING):
    return public.rate(conn, tracking, body.rating, body.reason, settings, body.key)


@staff_router.get("/api/complaints/{complaint_id}/contacts",
                  summary="Reporters' contact numbers and own descriptions, and the public replies given with who "
                          "gave them (staff of the complaint's street or grids)")
def get_contacts(user: Writer, conn: Conn, complaint_id: int = COMPLAINT_ID):
    return {"complaint_id": complaint_id, "reports": public_staff.contacts(conn, user, complaint_id),
            "replies": public_staff.replies(conn, complaint_id)}


@staff_router.post("/api/complaints/{complaint_id}/replies", status_code=201,
                   summary="The responsible unit's reply to the public, shown on the tracking page")
def post_reply(body: ReplyIn, user: Writer, conn: Transaction, request: Request, key: IdempotencyKey,
               complaint_id: int = COMPLAINT_ID):
    # With a key, a reply whose answer was lost and is sent again is published once (the case page sends one).
    return once(conn, user, key, request, body,
                lambda: JSONResponse(public_staff.reply(conn, user, complaint_id, body.reply), status_code=201))


@staff_router.get("/api/satisfaction",
                  summary="Reporters' satisfaction per street or responsible unit (latest rating of each report)")
def get_satisfaction(street: Street, window: Window, conn: Conn,
                     by: Literal["street", "unit"] = Query("street", description="street (default) or unit")):
    return {"by": by, "items": public_staff.satisfaction(conn, street=street, since=window.since, until=window.until,
                                                   by=by)}


@router.post("/api/public/reports/{tracking}/photos", status_code=201,
             summary="Add a photo to the report just made (multipart: challenge, file; up to 3, EXIF removed)")
async def post_report_photo(request: Request, settings: PublicPhoto, conn: Transaction, tracking: str = TRACKING):
    parts = multipart(await request.body(), request.headers.get("content-type", ""),
                      "a challenge field (the report's) and a file", "（该报告的）challenge 字段和文件")
    data, challenge, code = file_bytes(parts), field(parts, "challenge"), public.read_tracking(tracking)
    if not challenge:  # a form without it is malformed (422); a wrong one is someone else's report (403)
        raise InvalidParameter("challenge", "is missing: send the challenge the report was made with as the "
                                            "multipart field 'challenge'",
                               "缺少 challenge：请把提交反映时用的 challenge 放在 multipart 字段 'challenge' 中发送")
    photo, new = await run_in_threadpool(public_photos.add_resident_photo, conn, code, challenge, data, settings)
    return JSONResponse(public_photos.shown(photo), status_code=201 if new else 200, headers={"Location": photo["url"]})


@router.get("/api/public/photos/{key}", summary="A photo of a public report or its case (EXIF removed)")
def get_public_photo(settings: PublicRead, conn: Conn, key: str = Path(..., min_length=22, max_length=64,
                                                                          pattern=r"^[A-Za-z0-9_-]+$")):
    path, media_type = public_photos.photo_file(conn, key)
    # The key names one cleaned image for good: cacheable; served as an image only, never sniffed into a page.
    return FileResponse(path, media_type=media_type, headers={
        "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'", "Referrer-Policy": "no-referrer"})


@staff_router.post("/api/complaints/{complaint_id}/photos", status_code=201,
                   summary="Staff of the case's street add a before or after photo (multipart: stage, file)")
async def post_case_photo(request: Request, user: Writer, conn: Transaction, complaint_id: int = COMPLAINT_ID):
    parts = multipart(await request.body(), request.headers.get("content-type", ""), "a stage field and a file",
                      " stage 字段和文件")
    data, stage = file_bytes(parts), field(parts, "stage")
    photo, new = await run_in_threadpool(public_photos.add_staff_photo, conn, user, complaint_id, stage, data)
    return JSONResponse(photo, status_code=201 if new else 200, headers={"Location": photo["url"]})


@staff_router.get("/api/complaints/{complaint_id}/photos",
                  summary="Every photo of a case, who added it and from which report (staff of its street)")
def get_case_photos(user: Writer, conn: Conn, complaint_id: int = COMPLAINT_ID):
    public_staff.staff_case(conn, user, complaint_id, ("see the photos of public reports", "查看群众反映的照片"))
    return {"complaint_id": complaint_id, "photos": public_photos.case_photos(conn, complaint_id)}


#: The layers a public page's map may draw beneath the report: roads and area outlines (names only, no person).
CONTEXT_LAYERS = ("roads", "admin_areas")


def public_context(request: Request) -> PublicSettings:
    """Admit one map read of this client — a context tile, the facilities in view, a place found or described, the
    reports around a point: a map view asks for dozens at once, and none of them reveals a report's key or a
    person, so they do not spend the tracking reads (a resident tapping the map would use those up in a minute)."""
    s = _open_channel()
    request.app.state.client_window.admit("context", client_address(request), s.reads_per_minute * 10, 60,
                                          "HYGIENE_MAP_PUBLIC_READS_PER_MINUTE × 10 map tiles")
    return s


PublicContext = Annotated[PublicSettings, Depends(public_context)]


@router.get(CONTEXT_TILES + "{layer_id}/{z}/{x}/{y}.pbf", response_class=Response,
            summary="Roads and area outlines for the public pages' map (vector tile; public columns only)")
def public_context_tile(settings: PublicContext, conn: Conn, layer_id: Literal[CONTEXT_LAYERS], z: int, x: int,
                        y: int):
    tile_settings = TileSettings.from_env()
    # No viewer and no filter: the layer's public columns, as the OGC tiles serve them.
    return tile_response(conn, get_layer(layer_id), parse_tile(z, x, y, tile_settings), None, tile_settings)


@router.get(CONTEXT_LABELS, summary="Names of districts, streets, communities and roads in a view (public pages)")
def public_context_labels(settings: PublicContext, bbox: Annotated[BBox, Depends(bbox_required)], lang: Lang,
                          conn: Conn, zoom: str = Query(..., description="the map's zoom (0–22)")):
    return context_labels(bbox, lang, conn, zoom)
