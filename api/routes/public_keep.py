"""Keeping a report's link (F8): the QR code of the reporter's own tracking link, drawn on this server.

The link holds the report's key (``#k=``, the only way to rate), so the code is drawn only for the one
who sends that key (the X-Report-Key header, as the tracking page reads the report): a second phone can
scan it, or the resident can keep a screenshot. Nothing is sent to another host.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from api.deps import Conn, Lang
from api.routes.public import TRACKING, PublicRead
from api.urls import base_url
from data.errors import Forbidden
from layers.web.qr import qr_svg
from layers.workflow import public
from layers.workflow.public_challenges import holds_key

router = APIRouter(tags=["public"])
ReportKey = Annotated[str | None, Header(alias="X-Report-Key", max_length=64,
                                         description="the report's key, as the tracking page sends it")]


@router.get("/api/public/reports/{tracking}/qr.svg",
            summary="The QR code (SVG) of the reporter's tracking link, key included (X-Report-Key required)",
            responses={200: {"content": {"image/svg+xml": {}}}})
def report_link_qr(settings: PublicRead, conn: Conn, lang: Lang, request: Request, key: ReportKey = None,
                   tracking: str = TRACKING):
    """The tracking page's link with its key, as a QR code, for the reporter only (403 otherwise)."""
    tracking = public.report(conn, tracking)["tracking"]  # as stored (any case, I/L/O read as 1/0); else 404
    if not holds_key(conn, tracking, key):
        raise Forbidden("X-Report-Key: not the key of this report; only its reporter's link has a QR code",
                        "X-Report-Key：不是这条反映的凭证；只有反映人的链接才有二维码")
    link = (f"{base_url(request)}/report/{quote(tracking, safe='')}{'?lang=en' if lang == 'en' else ''}"
            f"#k={quote(key, safe='')}")
    # Private: it carries the key; never kept by a shared cache.
    return Response(qr_svg(link), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, no-store", "Vary": "X-Report-Key"})
