"""HTTP: the bulletin (周检查、月通报、年终考核) as JSON, an XLSX workbook, a PDF, and the page /reports."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Reader
from api.deps import Conn, Lang
from api.limits import COSTLY
from api.routes.session import with_session_bar
from data.params import PERIOD_KINDS, Period, parse_period
from data.vocab import city_tz
from layers.printing.data import street_shapes
from layers.reports.compose import bulletin, file_name
from layers.reports.document import write_pdf
from layers.reports.workbook import write_workbook

router = APIRouter(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_WRITERS = {"xlsx": (write_workbook, XLSX), "pdf": (write_pdf, "application/pdf")}


def period_query(
    conn: Conn,  # opened first: it sets the city's time zone the period is read in (data.catalog.load_city_tz)
    period: Annotated[str, Query(description=f"one of {', '.join(PERIOD_KINDS)}")],
    date: Annotated[str, Query(description="a day in the period (2026-10-30), or the period: 2026-10, 2026-Q3, "
                                           "2026, 2026-W44 (the city's time zone)")],
) -> Period:
    return parse_period(period, date)


ReportPeriod = Annotated[Period, Depends(period_query)]


@router.get("/api/reports/bulletin", summary="The bulletin of a week, month, quarter or year (JSON)",
            dependencies=[COSTLY])
def bulletin_json(period: ReportPeriod, conn: Conn, lang: Lang):
    return bulletin(conn, period, lang)


@router.get("/reports/bulletin.{suffix}", summary="The bulletin as an A4 PDF 通报 or an XLSX workbook",
            dependencies=[COSTLY])
def bulletin_file(suffix: Literal["pdf", "xlsx"], period: ReportPeriod, conn: Conn, lang: Lang):
    b = bulletin(conn, period, lang)
    extras = {"shapes": street_shapes(conn)} if suffix == "pdf" else {}
    conn.rollback()  # the read is over: no transaction stays open while the file is drawn
    write, media_type = _WRITERS[suffix]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"bulletin.{suffix}"
        write(b, out, lang, **extras)
        body = out.read_bytes()
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{file_name(period, suffix)}"'})


def _last_period(kind: str) -> str:
    """The last whole period of ``kind`` before today's in the city, as ``date`` names it (on 30 November
    2026: week 2026-W48, month 2026-10, quarter 2026-Q3, year 2025); an unknown kind gets the month (and
    its own error from parse_period)."""
    today = datetime.now(city_tz()).date()
    if kind == "week":
        year, week, _ = (today - timedelta(days=7)).isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "quarter":
        done = (today.month - 1) // 3  # whole quarters of this year so far
        return f"{today.year}-Q{done}" if done else f"{today.year - 1}-Q4"
    if kind == "year":
        return str(today.year - 1)
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@router.get("/reports", response_class=HTMLResponse, dependencies=[COSTLY],
            summary="The bulletin page: pick a period, see the rankings, download the PDF and XLSX (zh-CN; ?lang=en)")
def reports_page(request: Request, conn: Conn, lang: Lang, user: Reader,
                 period: Annotated[str, Query(description=f"one of {', '.join(PERIOD_KINDS)}")] = "month",
                 date: Annotated[str | None, Query(description="as for /api/reports/bulletin; default: the last whole "
                                                               "period of its kind (last week, month …)")] = None):
    from layers.web.bulletin_page import bulletin_page

    date = date or _last_period(period)
    b = bulletin(conn, parse_period(period, date), lang)
    page = bulletin_page(b, lang=lang, kind=period, date=date)
    return HTMLResponse(with_session_bar(page, user, lang, request.url.path + "?" + request.url.query))
