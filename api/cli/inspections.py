"""`hygiene-map inspections problems`: a round's 问题清单 (problem list) as XLSX or PDF (issue 15)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("inspections")
def inspections() -> None:
    """明察暗访: documents of inspection rounds."""


@inspections.command("problems")
@click.option("--round", "round_id", type=int, required=True, help="the round's id (GET /api/inspections/rounds)")
@click.option("--street", default=None, help="only this street's findings (a street code of the round)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="language")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the file to write: FILE.xlsx (the list as a table) or FILE.pdf (a map, then the list)")
def problems_command(round_id: int, street: str | None, lang: str, out: Path) -> None:
    """Write the problem list of --round (one --street's) to --out: per responsible unit, each finding with
    its number, place, item, deduction, deadline, status, description and photos."""
    from data.db import connect
    from data.errors import InvalidParameter
    from data.params import parse_area_code
    from layers.printing.problems_data import load_problems
    from layers.printing.problems_pdf import write_pdf
    from layers.printing.problems_xlsx import write_xlsx

    writers = {".pdf": write_pdf, ".xlsx": write_xlsx}
    if out.suffix.lower() not in writers:
        raise InvalidParameter("--out", f"{out.name!r}: the problem list is written as FILE.xlsx or FILE.pdf")
    if not out.parent.exists():
        raise InvalidParameter("--out", f"the folder {out.parent} does not exist")
    street = parse_area_code(street, "--street")
    conn = connect()
    try:
        plist = load_problems(conn, round_id, street, parameter="--street")  # every column (OPERATOR)
    finally:
        conn.close()  # drawing needs no database: end the read transaction first
    # Written beside the target, then renamed: a failed run leaves no half-written file.
    partial = out.with_name(out.name + ".partial")
    try:
        writers[out.suffix.lower()](plist, str(partial), lang)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    lost = sum(p.deduction for p in plist.problems)
    click.echo(f"wrote {out}: {len(plist.problems)} findings of round {round_id}"
               + (f", street {street}" if street else "") + f", {len(plist.units())} units, {lost:g} points")
