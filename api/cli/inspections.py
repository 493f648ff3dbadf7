"""`hygiene-map inspections`: plan rounds (明察暗访), list them with what is still to rectify and overdue, and write
a round's 问题清单 (problem list) as XLSX or PDF (issue 15)."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.output import LANG
from data.said import plural, say
from data.vocab import ROUND_KINDS

#: What the inspections commands print, in Chinese and in English (data.said.say); the numbers and codes are the same.
_SAID = {
    "problems": ("已写入 {out}：检查轮次 {round} 的问题 {findings} 条，责任单位 {units} 个，扣 {points:g} 分",
                 "wrote {out}: {findings} finding{findings_s} of round {round}, {units} unit{units_s}, "
                 "{points:g} point{points_s}"),
    "problems_street": ("已写入 {out}：检查轮次 {round} 街道 {street} 的问题 {findings} 条，责任单位 {units} 个，"
                        "扣 {points:g} 分",
                        "wrote {out}: {findings} finding{findings_s} of round {round}, street {street}, "
                        "{units} unit{units_s}, {points:g} point{points_s}"),
    "round": ("检查轮次 {id}：{name}（{kind}，{mode}），{starts} 至 {ends}，街道 {streets}",
              "round {id}: {name} ({kind}, {mode}), {starts} until {ends}, streets {streets}"),
    "listed": ("{id}\t{kind}\t{mode}\t{name}\t{starts} – {ends}\t街道 {streets}\t问题 {findings} 条，待整改 {to_rectify} 条，"
               "超期 {overdue} 条",
               "{id}\t{kind}\t{mode}\t{name}\t{starts} – {ends}\tstreets {streets}\tfindings {findings}, "
               "to rectify {to_rectify}, overdue {overdue}"),
    "edited": ("已修改检查轮次 {id}（{changed}）：{name}（{kind}，{mode}），{starts} 至 {ends}，街道 {streets}",
               "corrected round {id} ({changed}): {name} ({kind}, {mode}), {starts} until {ends}, streets {streets}"),
    "unchanged": ("检查轮次 {id} 没有变化：所给的值与现有的相同", "round {id} unchanged: the values given are those it has"),
    "deleted": ("已删除检查轮次 {id}：{name}（{kind}，{mode}），{starts} 至 {ends}，街道 {streets}",
                "deleted round {id}: {name} ({kind}, {mode}), {starts} until {ends}, streets {streets}"),
    "no_round": ("尚无检查轮次：请用 `hygiene-map inspections round` 安排",
                 "no round yet: plan one with `hygiene-map inspections round`"),
}


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
        raise InvalidParameter("--out", f"{out.name!r}: the problem list is written as FILE.xlsx or FILE.pdf",
                               f"{out.name!r}：问题清单只能写成 文件.xlsx 或 文件.pdf")
    if not out.parent.exists():
        raise InvalidParameter("--out", f"the folder {out.parent} does not exist", f"文件夹 {out.parent} 不存在")
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
    counts = {"findings": len(plist.problems), "units": len(plist.units()),
              "points": sum(p.deduction for p in plist.problems)}
    click.echo(say(_SAID, "problems_street" if street else "problems", lang, out=out, round=round_id, street=street,
                   **counts, **{f"{k}_s": plural(n) for k, n in counts.items()}))


@inspections.command("round")
@click.option("--name", required=True, help="the round's name: 2026年12月第1周周检查")
@click.option("--kind", type=click.Choice(ROUND_KINDS), required=True, help="周检查, 月度暗访, 专项检查 or 复审模拟")
@click.option("--unannounced/--announced", default=None,
              help="暗访 or 明察: an unannounced round is kept from the streets it inspects and from the public until "
                   "it starts  [default: unannounced for 月度暗访 only]")
@click.option("--starts", required=True, help="ISO 8601 date or time (without a zone: the city's): 2026-11-30")
@click.option("--ends", required=True, help="exclusive: 2026-12-07 is the week of 30 November, Monday to Sunday")
@click.option("--streets", required=True, help="the street codes it covers, comma-separated")
@LANG
def round_command(name: str, kind: str, unannounced: bool | None, starts: str, ends: str, streets: str,
                  lang: str) -> None:
    """Plan a round of inspections over --streets from --starts until --ends (as POST /api/inspections/rounds)."""
    from api.cli.users import cli_actor
    from data.db import connect
    from data.params import clean_text, parse_instant, parse_list
    from layers.workflow.inspections import create_round

    conn = connect()  # first: it sets the city's time zone the times are read in
    try:
        made = create_round(conn, name=clean_text(name, "--name", 200), kind=kind,
                            starts=parse_instant(starts, "--starts"), ends=parse_instant(ends, "--ends"),
                            streets=list(parse_list(streets, "--streets")), actor=cli_actor(),
                            unannounced=unannounced)
        conn.commit()
    finally:
        conn.close()
    click.echo(say(_SAID, "round", lang, id=made["id"], name=made["name"], kind=made["kind"],
                   mode=_MODE[made["unannounced"]], starts=_local(made["starts"]), ends=_local(made["ends"]),
                   streets=", ".join(made["streets"])))


#: How a round is made: unannounced (暗访) or announced (明察).
_MODE = {True: "暗访", False: "明察"}


def _local(instant: str) -> str:
    """An ISO instant as the city's wall-clock time (2026-11-30 00:00), as the office planned it (and as the
    errors about a round's times say it)."""
    from layers.workflow.finding_times import said

    return said(instant)


@inspections.command("rounds")
@LANG
def rounds_command(lang: str) -> None:
    """List every round, newest first: its findings, those still to rectify and those overdue (督办)."""
    from data.db import connect
    from layers.workflow.inspections import rounds

    conn = connect()  # it sets the city's time zone the times are shown in
    try:
        listed = rounds(conn)
    finally:
        conn.close()
    for r in listed:
        click.echo(say(_SAID, "listed", lang, id=r["id"], kind=r["kind"], mode=_MODE[r["unannounced"]],
                       name=r["name"], starts=_local(r["starts"]), ends=_local(r["ends"]),
                       streets=",".join(r["streets"]), findings=r["findings"], to_rectify=r["to_rectify"],
                       overdue=r["overdue"]))
    if not listed:
        click.echo(say(_SAID, "no_round", lang))


#: A round's fields as a correction names them, in Chinese (English: the field's own name).
_FIELDS_ZH = {"name": "名称", "kind": "类型", "unannounced": "明察/暗访", "starts": "开始时间", "ends": "结束时间",
              "streets": "街道"}


def _round_words(r: dict) -> dict:
    """What the lines about one round say of it: its id, name, kind, 暗访 or 明察, times in the city's zone, streets."""
    return {"id": r["id"], "name": r["name"], "kind": r["kind"], "mode": _MODE[r["unannounced"]],
            "starts": _local(r["starts"]), "ends": _local(r["ends"]), "streets": ", ".join(r["streets"])}


def _why(reason: str) -> str:
    """--reason as the audit log keeps it: required, not blank (a correction says why, as a grid's does)."""
    from data.errors import InvalidParameter
    from data.params import clean_text

    why = clean_text(reason, "--reason", 500)
    if why is None:
        raise InvalidParameter("--reason", "say why", "请写明原因")
    return why


@inspections.command("edit-round")
@click.option("--round", "round_id", type=int, required=True, help="the round's id (hygiene-map inspections rounds)")
@click.option("--name", default=None, help="its name as it should read")
@click.option("--kind", type=click.Choice(ROUND_KINDS), default=None,
              help="its kind; without --unannounced/--announced, 暗访 or 明察 as that kind usually is")
@click.option("--unannounced/--announced", default=None, help="暗访 or 明察")
@click.option("--starts", default=None, help="ISO 8601 date or time (without a zone: the city's)")
@click.option("--ends", default=None, help="exclusive, as for `inspections round`")
@click.option("--streets", default=None, help="every street code it covers, comma-separated (the whole list)")
@click.option("--reason", required=True, help="why it is corrected (kept in the audit log)")
@LANG
def edit_round_command(round_id: int, name: str | None, kind: str | None, unannounced: bool | None,
                       starts: str | None, ends: str | None, streets: str | None, reason: str, lang: str) -> None:
    """Correct a round planned by mistake (as PATCH /api/inspections/rounds/ID): the options given change, the
    others stay. Refused while a finding it recorded would fall outside it, or once it has ended with findings."""
    from api.cli.users import cli_actor
    from data.db import session, transaction
    from data.params import clean_text, parse_instant, parse_list
    from layers.workflow.inspection_rounds import edit_round

    with session() as conn, transaction(conn):  # the session first: it sets the city's time zone of the times
        changes = {"name": clean_text(name, "--name", 200), "kind": kind, "unannounced": unannounced,
                   "starts": parse_instant(starts, "--starts") if starts else None,
                   "ends": parse_instant(ends, "--ends") if ends else None,
                   "streets": list(parse_list(streets, "--streets")) if streets is not None else None}
        made = edit_round(conn, round_id, changes, reason=_why(reason), actor=cli_actor())
    if not made["changed"]:
        click.echo(say(_SAID, "unchanged", lang, id=round_id))
        return
    changed = ("、" if lang == "zh" else ", ").join(_FIELDS_ZH[k] if lang == "zh" else k for k in made["changed"])
    click.echo(say(_SAID, "edited", lang, changed=changed, **_round_words(made)))


@inspections.command("delete-round")
@click.option("--round", "round_id", type=int, required=True, help="the round's id (hygiene-map inspections rounds)")
@click.option("--reason", required=True, help="why it is deleted (kept in the audit log)")
@LANG
def delete_round_command(round_id: int, reason: str, lang: str) -> None:
    """Delete a round planned by mistake (as DELETE /api/inspections/rounds/ID), only while it has no findings."""
    from api.cli.users import cli_actor
    from data.db import session, transaction
    from layers.workflow.inspection_rounds import delete_round

    with session() as conn, transaction(conn):
        gone = delete_round(conn, round_id, reason=_why(reason), actor=cli_actor())
    click.echo(say(_SAID, "deleted", lang, **_round_words(gone)))
