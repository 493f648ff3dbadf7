"""HTTP for printed field maps: a grid sheet and a street atlas as PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import Reader
from api.deps import Conn, GridCode, Lang, StreetCode
from api.limits import Costly
from api.urls import base_url
from data.errors import InvalidParameter
from data.settings import PrintSettings

# layers.printing.docs (matplotlib, pyproj, qrcode) is imported by the handlers, so
# that the app starts as fast without printing as before it.

router = APIRouter(prefix="/print", tags=["print"])

_PDF = {"content": {"application/pdf": {}}, "description": "a vector PDF"}
#: The paper of a print (every printed document takes it so): A4 or A3.
PaperSize = Annotated[str, Query(pattern="^(A4|A3)$", description="paper size: A4 (default) or A3")]
PDF_RESPONSES = {200: _PDF}


def get_print_options(
    request: Request,
    lang: Lang,
    user: Reader,
    paper: PaperSize = "A4",
    landscape: bool = Query(False, description="landscape instead of portrait"),
):
    """Paper, orientation and language of a print, whose columns it shows (the caller's), and the base URL
    its QR codes open (this request's, checked)."""
    from layers.printing.docs import PrintOptions

    return PrintOptions(paper=paper, landscape=landscape, lang=lang, viewer=user, base_url=base_url(request))


Options = Annotated[object, Depends(get_print_options)]


def _pdf(conn, document, filename: str) -> Response:
    # The document is loaded; end the request's read transaction before drawing it, which needs no
    # database and takes seconds (an atlas longer): an open transaction would keep its snapshot and locks.
    conn.rollback()
    return Response(document.to_bytes(), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


@router.get("/grids/{code}.pdf", response_class=Response, responses={200: _PDF},
            summary="Printable sheet of one grid (map, checklist, responsible unit, QR code)")
def grid_pdf(code: GridCode, options: Options, conn: Conn):
    from layers.printing.docs import grid_document

    document = grid_document(conn, code, options=options, settings=PrintSettings.from_env())
    return _pdf(conn, document, f"grid-{code}.pdf")


@router.get("/streets/{code}/atlas.pdf", response_class=Response, responses={200: _PDF},
            summary="Printable atlas of a street: cover, index, one sheet per grid")
def atlas_pdf(code: StreetCode, options: Options, conn: Conn, _: Costly):
    from layers.printing.docs import atlas_document

    settings = PrintSettings.from_env()
    document = atlas_document(conn, code, options=options, settings=settings, max_pages=settings.max_pages_http)
    return _pdf(conn, document, f"atlas-{code}.pdf")


@router.get("/streets/{code}/route.pdf", response_class=Response, responses={200: _PDF},
            summary="Printable inspection route through the street's grids that most need a visit")
def route_pdf(code: StreetCode, options: Options, conn: Conn, _: Costly,
              top: int = Query(10, ge=1, description="how many grids to visit")):
    from layers.printing.docs import route_document

    settings = PrintSettings.from_env()
    if top > settings.route_max_stops:  # named as this route names it (the document's own check says --top)
        raise InvalidParameter("top", f"must be between 1 and {settings.route_max_stops} "
                                      f"(HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS), not {top}",
                               f"须在 1 到 {settings.route_max_stops} 之间（HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS），不能是 {top}")
    document = route_document(conn, code, top, options=options, settings=settings)
    return _pdf(conn, document, f"route-{code}.pdf")
