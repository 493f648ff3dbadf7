"""ASGI middleware: request body limit and one structured log line per request (no secret in it)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException

from data.redact import redact
from data.settings import ServerSettings

access_log = logging.getLogger("hygiene_map.access")

#: The query parameters whose value is logged: the routes' own parameters that say what was asked for and nothing
#: about who asked (places, codes, filters, pages, formats). Every other value is logged as ``***``: a token under
#: any name, the search words ``q`` (a caller's number or name as often as a place), a position (``lat``/``lon``:
#: where a resident stands), Open311's personal fields when a client puts them in the query string (description,
#: email, first_name, last_name, address_string, device_id, phone) and any name no route takes (``?tel=``,
#: ``?contact=``). A name is added here only when its values can never be personal.
LOGGED_PARAMS = frozenset({
    "_", "lang", "f", "format", "encoding", "basemap", "paper", "landscape", "printed", "zoom", "limit", "offset",
    "bbox", "bbox-crs", "crs", "street", "grid", "code", "category", "kind", "status", "open", "overdue",
    "awaiting_reply", "pending_extension", "since", "until", "date", "period", "datetime", "start_date", "end_date",
    "by", "cell", "emerging", "gaps", "method", "radius", "per_population", "objective", "add", "top", "plan",
    "round", "place_type", "service_code", "jurisdiction_id",
})


def _safe_query(raw: bytes) -> str:
    """The query string as logged: the value of a :data:`LOGGED_PARAMS` name passed through
    :func:`~data.redact.redact` (``?bbox=Bearer …`` by mistake), every other value ``***``."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, redact(v) if k in LOGGED_PARAMS else "***") for k, v in pairs], safe="*")


# PostgreSQL's DETAIL quotes the values of a failing row or key (a caller's words, a phone): the reason stays in
# the log, the values do not. A row's values may span lines and hold brackets: up to the end of the DETAIL.
_ROW_VALUES = re.compile(r"(Failing row contains |Key \(.*?\)=)\(.*?\)"
                         r"(?=(?: already exists| is not present| conflicts with)|\.?\n(?:[A-Z]+:|\n)|\.?\s*\Z)", re.S)


def scrub(text: str) -> str:
    """``text`` as logged: secrets masked (:func:`data.redact.redact`) and no row values of a database error."""
    return _ROW_VALUES.sub(r"\1(***)", redact(text))


class RedactingFilter(logging.Filter):
    """Masks passwords, tokens and session ids (:func:`data.redact.redact`) in a record and its traceback, and the
    row values a database error quotes (:func:`scrub`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The arguments each, kept apart from the message: formatters (uvicorn's access log) read them.
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        # A secret only the whole text shows (``"password=%s"``): log the whole text, masked.
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            return True
        if scrub(text) != text:
            record.msg, record.args = scrub(text), None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_redaction() -> None:
    """Put :class:`RedactingFilter` on every handler the server logs through (ours, uvicorn's, the root's)."""
    for name in (None, "hygiene_map", "hygiene_map.access", "hygiene_map.api", "uvicorn", "uvicorn.error",
                 "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


# An answer to a caller with credentials may hold what only that caller reads (a complaint's words, a grid's
# phone): kept by no shared cache (an intranet proxy keeping every 200) and by no browser of a shared office
# computer, unless its route said otherwise (tiles read with credentials: private, max-age).
_CALLERS_CACHE = (b"cache-control", b"private, no-store")


def _uncached_for_callers(scope, message: dict) -> dict:
    """``message`` (a response start) with ``Cache-Control: private, no-store`` when the request was made with
    credentials (api/auth.py put its user in the request's state) and the route set no Cache-Control."""
    if (scope.get("state") or {}).get("user") is None:
        return message
    headers = list(message.get("headers") or [])
    if any(name.lower() == b"cache-control" for name, _ in headers):
        return message
    return {**message, "headers": [*headers, _CALLERS_CACHE]}


def _too_large(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes (HYGIENE_MAP_MAX_BODY_BYTES)"


def too_large_zh(limit: int) -> str:
    """:func:`_too_large` in Chinese (the answer's ``detail_zh``)."""
    return f"请求内容超过 {limit} 字节的上限（HYGIENE_MAP_MAX_BODY_BYTES）"


class BodyTooLarge(HTTPException):
    """A body over the limit, found while it streams in: 413.

    An HTTPException, so that FastAPI passes it on from its body reading
    (any other error there becomes "400 error parsing the body") to the
    error handlers, which answer ``{"detail": …}`` with status 413.
    """

    def __init__(self, limit: int):
        super().__init__(413, _too_large(limit))
        self.zh = too_large_zh(limit)


class RequestGuard:
    """Refuses bodies over ``max_body_bytes`` with 413 and logs every request as one JSON line.

    The body limit is checked against Content-Length up front and against the
    bytes actually received as they stream in (chunked bodies have no length):
    the request is refused as soon as it passes the limit, so at most the
    limit plus one chunk is ever held, and the answer is 413 either way.
    """

    def __init__(self, app, settings: ServerSettings | None = None):
        self.app = app
        self.settings = settings or ServerSettings.from_env()
        if self.settings.log_requests and not access_log.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            access_log.addHandler(handler)
            access_log.setLevel(logging.INFO)
            access_log.propagate = False
        install_log_redaction()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status_holder = {"status": 500}
        limit = self.settings.max_body_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit, status_holder)
            return self._log(scope, status_holder["status"], started)

        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        response_started = False

        async def tracking_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder["status"] = message["status"]
                message = _uncached_for_callers(scope, message)
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Raised where no handler answered it (a body read outside FastAPI's routing).
            if not response_started:
                await self._reject(send, limit, status_holder)
        finally:
            self._log(scope, status_holder["status"], started)

    async def _reject(self, send, limit: int, status_holder: dict) -> None:
        body = json.dumps({"detail": _too_large(limit), "detail_zh": too_large_zh(limit)}).encode()
        status_holder["status"] = 413
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _log(self, scope, status: int, started: float) -> None:
        if not self.settings.log_requests:
            return
        state = scope.get("state") or {}
        user = state.get("user")
        record = {
            "method": scope.get("method"),
            "path": scope.get("path"),
            "query": _safe_query(scope.get("query_string", b"")),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user": getattr(user, "name", user) if user is not None else None,
            "client": (scope.get("client") or [None])[0],
        }
        access_log.info(json.dumps(record, ensure_ascii=False))
