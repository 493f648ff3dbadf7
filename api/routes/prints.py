"""HTTP for printed field maps: a grid sheet and a street atlas as PDF."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, Response

from api.auth import Reader, current_user
from api.deps import Conn, GridCode, Lang, StreetCode
from api.limits import Costly, hold_costly
from api.urls import base_url
from data.errors import InvalidParameter
from data.settings import PrintSettings
from layers.workflow.access import User

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


# ---- The atlas as a print job (layers/printing/jobs.py): started, polled, fetched ----------------------------

#: A job's id in a path: what jobs.start makes (token_urlsafe), nothing else reaches the database.
JobId = Annotated[str, FastPath(pattern=r"^[A-Za-z0-9_-]{10,64}$", description="a print job's id")]
SignedIn = Annotated[User, Depends(current_user)]


@router.post("/streets/{code}/atlas/jobs", status_code=202,
             summary="Start printing a street's atlas in the background (202, its id, Location: its state)")
def start_atlas_job(request: Request, code: StreetCode, options: Options, user: SignedIn, conn: Conn):
    """The atlas of ``GET atlas.pdf`` as a job: poll ``Location`` (``GET /print/jobs/{id}``) for its progress,
    then fetch ``/print/jobs/{id}/atlas.pdf``. Only its starter (or an admin) reads it; kept a day after it ends.
    Takes a costly-work slot (api/limits.py) until it ends."""
    from layers.printing import jobs
    from layers.printing.docs import check_atlas

    settings = PrintSettings.from_env()
    check_atlas(conn, code, options, settings.max_pages_http)  # a wrong street or a long atlas: 4xx now
    conn.rollback()
    release = hold_costly(request, user)  # 429 when too many run; given back by the job's thread
    try:
        job_id = jobs.start(conn, user, code, options.paper, options.lang)
        threading.Thread(target=jobs.run, name=f"print-job-{job_id}", daemon=True,
                         args=(request.app.state.db, job_id, code, options, settings, release)).start()
    except BaseException:
        release()
        raise
    answer = jobs.status(conn, job_id, user, options.lang)
    return JSONResponse(answer, status_code=202, headers={"Location": f"/print/jobs/{job_id}"})


@router.get("/jobs/{job_id}", summary="A print job's state: queued, running (pages done of total), done, failed")
def atlas_job(job_id: JobId, user: SignedIn, conn: Conn, lang: Lang):
    from layers.printing import jobs

    return jobs.status(conn, job_id, user, lang)


@router.get("/jobs/{job_id}/atlas.pdf", response_class=Response, responses={200: _PDF},
            summary="The PDF of a finished print job (404 before it is done, and to anyone but its starter)")
def atlas_job_pdf(job_id: JobId, user: SignedIn, conn: Conn):
    from layers.printing import jobs

    street, pdf = jobs.pdf(conn, job_id, user)
    conn.rollback()
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="atlas-{street}.pdf"', "Cache-Control": "no-store"})
