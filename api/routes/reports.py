"""HTTP: the bulletin (周检查、月通报、年终考核) as JSON and as an XLSX workbook."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import Conn, Lang
from api.limits import COSTLY
from data.params import PERIOD_KINDS, Period, parse_period
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
    conn.rollback()  # the read is over: no transaction stays open while the file is drawn
    write, media_type = _WRITERS[suffix]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"bulletin.{suffix}"
        write(b, out, lang)
        body = out.read_bytes()
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{file_name(period, suffix)}"'})
