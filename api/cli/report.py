"""`hygiene-map report bulletin`: the bulletin of a week, month, quarter or year, as PDF or XLSX."""

from __future__ import annotations

from pathlib import Path

import click

from data.params import PERIOD_KINDS


@click.group("report")
def report() -> None:
    """Bulletins (周检查、月通报、年终考核): figures and rankings of streets and units."""


@report.command("bulletin")
@click.option("--period", "kind", type=click.Choice(PERIOD_KINDS), required=True, help="the kind of period")
@click.option("--date", "day", required=True,
              help="a day in the period (2026-10-30), or the period: 2026-10, 2026-Q3, 2026, 2026-W44")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="language")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the file to write: FILE.pdf (the 通报, A4) or FILE.xlsx (the tables)")
def bulletin_command(kind: str, day: str, lang: str, out: Path) -> None:
    """Write the bulletin of the period containing --date (in the city's time zone) to --out."""
    from data.db import connect
    from data.errors import InvalidParameter
    from data.params import parse_period
    from layers.printing.data import street_shapes
    from layers.reports.compose import bulletin
    from layers.reports.document import write_pdf
    from layers.reports.workbook import write_workbook

    writers = {".pdf": write_pdf, ".xlsx": write_workbook}
    if out.suffix.lower() not in writers:
        raise InvalidParameter("--out", f"{out.name!r}: the bulletin is written as FILE.pdf or FILE.xlsx",
                               f"{out.name!r}：通报只能写成 文件.pdf 或 文件.xlsx")
    conn = connect()
    try:
        period = parse_period(kind, day, ("--period", "--date"))
        b = bulletin(conn, period, lang)
        extras = {"shapes": street_shapes(conn)} if out.suffix.lower() == ".pdf" else {}
    finally:
        conn.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    writers[out.suffix.lower()](b, out, lang, **extras)
    t, streets = b["totals"], sum(s["code"] is not None for s in b["streets"])
    units = sum(u["code"] is not None for u in b["units"])
    click.echo(f"{out}：受理 {t['received']} 件，应结案 {t['due']} 件，结案 {t['closed']} 件；街道 {streets} 个，"
               f"责任单位 {units} 个" if lang == "zh" else
               f"{out}: {t['received']} received, {t['closed']} closed of {t['due']} due, {streets} streets, "
               f"{units} units")
