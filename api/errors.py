"""One mapping from the project's exceptions to HTTP statuses.

Every response to an error is JSON ``{"detail": message}`` (plus
``problems`` for bad rows); no stack trace ever reaches a user. A browser
opening a page (a GET asking for HTML, outside the API's paths) gets the same
message as a small page in its language instead of raw JSON.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.validation import validation_message
from data import errors

STATUS = {
    errors.InvalidParameter: 422,
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.TooBusy: 429,
    errors.DatabaseUnavailable: 503,
    errors.SetupError: 503,
}

log = logging.getLogger("hygiene_map.api")


def status_for(exc: errors.HygieneMapError) -> int:
    for klass in type(exc).__mro__:
        if klass in STATUS:
            return STATUS[klass]
    return 500


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "what is wrong and, where it applies, how to fix it"},
        "detail_zh": {"type": "string", "description": "the same in Chinese, where the error has it"},
        "problems": {"type": "array", "description": "for bad input rows: one entry per problem"},
    },
}


def _document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document describe the error body this app really sends.

    FastAPI documents 422 as its own list-of-errors shape; every error here
    (422 included) is ``{"detail": message}``.
    """
    build = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        doc = build()
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = ERROR_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for path_item in doc.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses") if isinstance(operation, dict) else None
                if responses and "422" in responses:
                    responses["422"] = {
                        "description": "Invalid parameter or body",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    }
        app.openapi_schema = doc
        return doc

    app.openapi = openapi


#: Paths whose clients read JSON (or XML) errors whatever they accept: the API, OGC API, Open311, tiles, files.
_MACHINE_PATHS = ("/api/", "/ogc", "/open311", "/tiles/", "/static/", "/openapi.json")
_PAGE_WORDS = {"zh": ("页面无法显示", "返回首页", "English"), "en": ("This page cannot be shown", "Home", "中文")}


def _answer(request: Request, body: dict, status: int, headers: dict | None = None):
    """The error as JSON, or as a small page for a browser opening a page (its Accept asks for HTML)."""
    path, accept = request.url.path, request.headers.get("accept", "")
    if request.method != "GET" or "text/html" not in accept or path.startswith(_MACHINE_PATHS):
        return JSONResponse(body, status_code=status, headers=headers)
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    title, home, other = _PAGE_WORDS[lang]
    flip = request.url.include_query_params(lang="zh" if lang == "en" else "en")
    page = (f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
            f'<body><h1>{title}{f"（{status}）" if lang == "zh" else f" ({status})"}</h1><p id="hm-error">{html.escape(str(body.get(f"detail_{lang}", body["detail"])))}</p>'
            f'<p><a href="/{"?lang=en" if lang == "en" else ""}">{home}</a> · '
            f'<a href="{html.escape(str(flip))}">{other}</a></p></body></html>')
    return HTMLResponse(page, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on an app, and document the error body they send."""
    _document_errors(app)

    @app.exception_handler(errors.HygieneMapError)
    async def _project_error(request: Request, exc: errors.HygieneMapError):
        status = status_for(exc)
        body = {"detail": exc.message} | ({"detail_zh": exc.zh} if exc.zh else {})
        if isinstance(exc, errors.DatabaseUnreachable):  # the server's address and libpq's reason: the log only
            log.warning("%s %s: %s", request.method, request.url.path, exc.message)
            body = dict(zip(("detail", "detail_zh"), errors.DatabaseUnreachable.PUBLIC, strict=True))
        if isinstance(exc, errors.InvalidInput) and exc.problems:
            body["problems"] = exc.problems
        if isinstance(exc, errors.LoginRequired):  # a page: to the login form, and back here after it
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
        headers = {"Retry-After": "5"} if status == 503 else None
        if isinstance(exc, errors.TooBusy):
            headers = {"Retry-After": str(exc.retry_after)}
        if isinstance(exc, errors.Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        return _answer(request, body, status, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        english, chinese = validation_message(exc)
        return _answer(request, {"detail": english} | ({"detail_zh": chinese} if chinese else {}), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        zh = getattr(exc, "zh", None)  # a body over the limit says it in Chinese too (api.middleware)
        return _answer(request, {"detail": exc.detail} | ({"detail_zh": zh} if zh else {}), exc.status_code,
                       getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(request, {"detail": "internal error; it has been logged"}, 500)
