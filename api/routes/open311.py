"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) under /open311/v2/, in XML and JSON.

Services are the event types; a service request is a public report, its
``service_request_id`` the tracking number of /report/{tracking}. Reading
needs no key (it is the public channel: ``HYGIENE_MAP_PUBLIC_CHANNEL=0``
closes it, and a per-client read limit applies); posting needs the
``api_key`` of a partner channel (``hygiene-map channels add NAME``), sent
form-encoded as the spec says, and files the report under the channel's
name. Requests are created at once, so ``tokens/{token}`` answers the
request a token names (the token is the tracking number). Every error is
in the spec's format: ``[{"code": 400, "description": …}]`` or
``<errors><error><code/><description/></error></errors>``, with that HTTP status, and where the
error has it the same in Chinese as ``detail_zh`` (as the rest of the API), an extra member beside the two.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from api.deps import Conn, Transaction
from api.errors import status_for
from api.routes.public import public_read
from api.urls import base_url
from data.errors import Forbidden, HygieneMapError, InvalidParameter, NotFound, TooBusy
from data.params import clean_text, parse_instant, parse_lang, parse_list, parse_number
from layers.workflow import open311, public

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
CHANGESET = "2026-11-30T00:00:00Z"  # when this interface last changed (the discovery document's changeset)
MAX_DAYS = 90  # the spec's widest date range, and the default range
MAX_REQUESTS = 1000
# The element a list's items are written in (XML).
_ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
         "values": "value", "endpoints": "endpoint", "formats": "format"}

router = APIRouter(prefix="/open311", tags=["open311"])


def _fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(f"format {fmt!r} is not served; use .xml or .json", f"不提供 {fmt!r} 格式；请用 .xml 或 .json")
    return fmt


def _xml_into(parent: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_into(ET.SubElement(parent, key), item)
    elif isinstance(value, list):
        for item in value:
            _xml_into(ET.SubElement(parent, _ITEM.get(parent.tag, "item")), item)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


def answer(data, fmt: str, root: str, status: int = 200, headers: dict | None = None) -> Response:
    """``data`` as JSON, or as XML under ``root`` (a list: one element per item), UTF-8 declared."""
    if fmt == "json":
        return JSONResponse(data, status_code=status, headers=headers, media_type=FORMATS["json"])
    element = ET.Element(root)
    _xml_into(element, data)
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")
    return Response(body, status_code=status, headers=headers, media_type=FORMATS["xml"])


def guarded(fmt: str, work: Callable[[str], Response]) -> Response:
    """Run ``work(format)``; a project error becomes the spec's error list (bad parameters are 400)."""
    shown = fmt if fmt in FORMATS else "json"
    try:
        return work(_fmt(fmt))
    except HygieneMapError as exc:
        status = 400 if isinstance(exc, InvalidParameter) else status_for(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooBusy) else None
        # The spec's error (code, description), plus the same in Chinese as the rest of the API has it
        # (detail_zh): an extra member, which JSON and XML readers of the spec's two fields pass over.
        said = {"code": status, "description": exc.message} | ({"detail_zh": exc.zh} if exc.zh else {})
        return answer([said], shown, "errors", status, headers)


async def form_fields(request: Request) -> dict:
    """The fields of a form-encoded POST (the spec's encoding); a repeated name keeps its last value.

    Anything else (JSON, multipart) gives no fields, and the request is refused for what it lacks.
    """
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {"": "not form-encoded"}
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


Form = Annotated[dict, Depends(form_fields)]


@router.get("/discovery.{fmt}", summary="Open311 service discovery")
@router.get("/v2/discovery.{fmt}", include_in_schema=False)
def discovery(request: Request, fmt: str):
    def work(f):
        endpoint = {"specification": SPEC, "url": base_url(request) + "/open311/v2", "changeset": CHANGESET,
                    "type": "production", "formats": ["text/xml", "application/json"]}
        return answer({"changeset": CHANGESET, "contact": "the city's hygiene campaign office",
                       "key_service": "api keys: hygiene-map channels add NAME (ask the city's administrator)",
                       "endpoints": [endpoint]}, f, "discovery")

    return guarded(fmt, work)


@router.get("/v2/services.{fmt}", summary="GeoReport v2: the services (event types); descriptions in Chinese, "
                                          "or English with lang=en")
def get_services(request: Request, conn: Conn, fmt: str):
    def work(f):
        public_read(request)
        lang = parse_lang(request.query_params.get("lang") or "zh")
        return answer(open311.services(conn, lang), f, "services")

    return guarded(fmt, work)


@router.get("/v2/services/{code}.{fmt}", summary="GeoReport v2: a service's definition (no extra attributes)")
def get_service(request: Request, conn: Conn, code: str, fmt: str):
    def work(f):
        public_read(request)
        name = open311.event_type_for(conn, clean_text(code, "service_code", 50) or "")
        found = next(s for s in open311.services(conn) if s["service_name"] == name)
        return answer({"service_code": found["service_code"], "attributes": []}, f, "service_definition")

    return guarded(fmt, work)


def _window(query) -> tuple[datetime, datetime]:
    """start_date/end_date as the spec reads them: at most 90 days apart, the last 90 days by default."""
    since = parse_instant(query.get("start_date"), "start_date")
    until = parse_instant(query.get("end_date"), "end_date")
    if since is None and until is None:
        until = datetime.now(UTC) + timedelta(minutes=1)
    if since is None:
        since = until - timedelta(days=MAX_DAYS)
    if until is None:
        until = since + timedelta(days=MAX_DAYS)
    if until < since:
        raise InvalidParameter("end_date", "lies before start_date", "早于 start_date")
    if until - since > timedelta(days=MAX_DAYS):
        raise InvalidParameter("start_date", f"start_date and end_date may be at most {MAX_DAYS} days apart",
                               f"start_date 与 end_date 最多相隔 {MAX_DAYS} 天")
    return since, until


def _trackings(raw: str | None) -> list[str]:
    """The well-formed tracking numbers of a comma-separated list (others name no request)."""
    out = []
    for item in parse_list(raw, "service_request_id") or []:
        try:
            out.append(public.read_tracking(item))
        except NotFound:
            continue
    return out


@router.get("/v2/requests.{fmt}", summary="GeoReport v2: service requests (the spec's filters)")
def get_requests(request: Request, conn: Conn, fmt: str):
    def work(f):
        public_read(request)
        q = request.query_params
        if q.get("service_request_id"):  # overrides every other parameter (the spec)
            return answer(open311.find_requests(conn, ids=_trackings(q["service_request_id"]),
                                               base=base_url(request)), f,
                          "service_requests")
        statuses = parse_list(q.get("status"), "status")
        if statuses and not set(statuses) <= {"open", "closed"}:
            raise InvalidParameter("status", "open, closed or both (comma-separated)", "应为 open、closed 或两者（用逗号分隔）")
        since, until = _window(q)
        codes = list(parse_list(q.get("service_code"), "service_code"))
        found = open311.find_requests(conn, codes=codes, since=since, until=until, statuses=list(statuses),
                                      limit=MAX_REQUESTS, base=base_url(request))
        return answer(found, f, "service_requests")

    return guarded(fmt, work)


def _one(request: Request, conn, fmt: str, given: str, shape: Callable[[dict], dict]) -> Response:
    """The request a tracking number names, shaped by ``shape``, in the spec's list form; 404 when none."""
    def work(f):
        public_read(request)
        found = open311.find_requests(conn, ids=[public.read_tracking(given)], base=base_url(request))
        if not found:
            raise NotFound(f"no service request {given!r}", f"没有服务请求 {given!r}")
        return answer([shape(found[0])], f, "service_requests")

    return guarded(fmt, work)


@router.get("/v2/requests/{service_request_id}.{fmt}", summary="GeoReport v2: one service request")
def get_request(request: Request, conn: Conn, service_request_id: str, fmt: str):
    return _one(request, conn, fmt, service_request_id, lambda found: found)


@router.get("/v2/tokens/{token}.{fmt}", summary="GeoReport v2: the request a token names (the token is its id)")
def get_token(request: Request, conn: Conn, token: str, fmt: str):
    return _one(request, conn, fmt, token, lambda found: {"service_request_id": found["service_request_id"],
                                                          "token": token})


def _point(fields: dict) -> tuple[float, float]:
    if not fields.get("lat") or not fields.get("long"):
        raise InvalidParameter("lat/long", "this server locates a request by lat and long (WGS84); "
                                           "address_string and address_id alone are not enough",
                               "本服务器按 lat 和 long（WGS84）确定请求的位置；只有 address_string 和 address_id 不够")
    lat, lon = parse_number(fields["lat"], "lat"), parse_number(fields["long"], "long")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidParameter("lat/long", f"({lat}, {lon}) is not a WGS84 latitude and longitude",
                               f"({lat}, {lon}) 不是 WGS84 纬度和经度")
    return lon, lat


@router.post("/v2/requests.{fmt}", summary="GeoReport v2: post a service request (form-encoded, with api_key)")
def post_request(conn: Transaction, fields: Form, fmt: str):
    def work(f):
        if "" in fields:
            raise InvalidParameter("Content-Type", "send the fields form-encoded "
                                                   "(application/x-www-form-urlencoded), as GeoReport v2 says",
                                   "请按 GeoReport v2 的规定以表单编码（application/x-www-form-urlencoded）发送字段")
        channel = open311.channel_for_key(conn, clean_text(fields.get("api_key"), "api_key", 100))
        if channel is None:
            raise Forbidden("invalid api_key received: ask the city for a channel key "
                               "(hygiene-map channels add NAME)",
                            "收到的 api_key 无效：请向本市申请渠道密钥（hygiene-map channels add 名称）")
        code = clean_text(fields.get("service_code"), "service_code", 50)
        if not code:
            raise InvalidParameter("service_code", "is required", "必须填写")
        try:
            category = open311.event_type_for(conn, code)
        except NotFound as exc:
            raise InvalidParameter("service_code", exc.message, exc.zh or f"没有 service_code 为 {code!r} 的服务") from None
        lon, lat = _point(fields)
        description = clean_text(fields.get("description"), "description", 1000)
        phone = clean_text(fields.get("phone"), "phone", 32)
        made = public.submit(conn, lon=lon, lat=lat, category=category, description=description,
                             phone=phone, channel=channel)
        notice = "已并入附近同类未结案件 (joined an open case nearby)" if made["joined"] else "受理 (received)"
        return answer([{"service_request_id": made["tracking"], "service_notice": notice, "account_id": None}],
                      f, "service_requests")

    return guarded(fmt, work)
