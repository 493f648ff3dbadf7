"""ASGI middleware: request body limit and one structured log line per request."""

from __future__ import annotations

import json
import logging
import sys
import time
from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException

from data.settings import ServerSettings

access_log = logging.getLogger("hygiene_map.access")

# Query parameters that may carry secrets (map keys, tokens): never logged.
_SECRET_PARAMS = {"token", "access_token", "tk", "key", "api_key", "password"}


def _safe_query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs])


def _too_large(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes (HYGIENE_MAP_MAX_BODY_BYTES)"


class BodyTooLarge(HTTPException):
    """A body over the limit, found while it streams in: 413.

    An HTTPException, so that FastAPI passes it on from its body reading
    (any other error there becomes "400 error parsing the body") to the
    error handlers, which answer ``{"detail": …}`` with status 413.
    """

    def __init__(self, limit: int):
        super().__init__(413, _too_large(limit))


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
        body = json.dumps({"detail": _too_large(limit)}).encode()
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
