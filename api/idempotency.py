"""The ``Idempotency-Key`` header of writes (draft-ietf-httpapi-idempotency-key-header).

A write route declares ``key: IdempotencyKey`` and wraps its work in
:func:`once`: with a key, a retry of the same request answers the first
result (same status, body and Location, plus ``Idempotent-Replayed: true``)
instead of writing again; without a key the route behaves as before. The
key's value is an RFC 8941 string (``"8e03978e-…"``; a bare token is taken
as well): 1–255 printable ASCII characters. Errors: the key reused with
another body → 422, the first request still running → 409, a malformed or
repeated header → 422; each names ``Idempotency-Key``. Keys expire after
``HYGIENE_MAP_IDEMPOTENCY_TTL_HOURS`` (24 by default).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from data.errors import InvalidParameter
from layers.workflow import idempotency as store
from layers.workflow.access import User

KEY_MAX = 255
HEADER = "Idempotency-Key"


def _unquote(raw: str) -> str:
    """An sf-string's content (backslash escapes only before ``"`` and ``\\``), or a bare value as given."""
    if not raw.startswith('"'):
        return raw
    if len(raw) < 2 or not raw.endswith('"'):
        raise InvalidParameter(HEADER, 'a quoted key must end with a double quote, as in "8e03978e-40d5"',
                               '带引号的键须以双引号结尾，例如 "8e03978e-40d5"')
    out, chars = [], iter(raw[1:-1])
    for ch in chars:
        if ch == "\\":
            ch = next(chars, "")
            if ch not in ('"', "\\"):
                raise InvalidParameter(HEADER, 'only \\" and \\\\ may be escaped in a quoted key',
                                       '带引号的键中只有 \\" 和 \\\\ 可以转义')
        elif ch == '"':
            raise InvalidParameter(HEADER, 'a double quote inside a quoted key must be escaped as \\"',
                                   '带引号的键中的双引号须写作 \\"')
        out.append(ch)
    return "".join(out)


def idempotency_key(
    request: Request,
    idempotency_key: Annotated[str | None, Header(
        alias=HEADER, description='a unique key per request, e.g. a UUID ("8e03978e-40d5-43e8-bc93-6894a57f9324"): '
                                  "a retry with the same key and body answers the first result instead of "
                                  "writing again; kept for HYGIENE_MAP_IDEMPOTENCY_TTL_HOURS (24 h)")] = None,
) -> str | None:
    """The request's idempotency key, or None when it sent none."""
    if idempotency_key is None:
        return None
    if len(request.headers.getlist(HEADER)) > 1:
        raise InvalidParameter(HEADER, "was sent more than once; send one key per request", "发送了多次；每个请求只发送一个键")
    key = _unquote(idempotency_key.strip())
    if not 1 <= len(key) <= KEY_MAX:
        raise InvalidParameter(HEADER, f"must be 1 to {KEY_MAX} characters long, not {len(key)}",
                               f"长度应为 1 到 {KEY_MAX} 个字符，而不是 {len(key)} 个")
    if any(not " " <= ch <= "~" for ch in key):
        raise InvalidParameter(HEADER, "may contain printable ASCII characters only (a UUID is a good key)",
                               "只能包含可打印的 ASCII 字符（用 UUID 作键最好）")
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def once(conn, user: User, key: str | None, request: Request, body: BaseModel,
         write: Callable[[], JSONResponse]) -> JSONResponse:
    """``write()``'s answer, given once per key: the stored first answer for a retry.

    ``conn`` is the route's transaction; the answer is kept in it, with the
    write. ``body`` is the parsed request body, whose fingerprint tells a
    retry from another request under the same key.
    """
    if key is None:
        return write()
    route = f"{request.method} {request.url.path}"
    print_ = store.fingerprint(body.model_dump(mode="json"))
    first = store.claim(conn, user.id, route, key, print_)
    if first is not None:
        headers = {"Idempotent-Replayed": "true", **({"Location": first.location} if first.location else {})}
        return JSONResponse(first.body, status_code=first.status, headers=headers)
    response = write()
    store.record(conn, user.id, route, key, print_,
                 store.Answer(response.status_code, json.loads(response.body), response.headers.get("location")))
    return response
