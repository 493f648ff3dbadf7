"""Correcting and deleting an inspection round planned by mistake (a typo in its name, the wrong kind, streets or
dates), as SQL (no HTTP here).

A round is corrected only while it stays consistent with what it recorded: its findings must still lie in its
streets and its time. A round that has ended with findings keeps what it published — its scores, its problem list
and the bulletins' figures, as :func:`~layers.workflow.finding_units.charge_first_unit` leaves an ended round's
findings alone — and is no longer changed. A round is deleted only while it has no finding at all. Both take the
round's row lock, which a finding being recorded shares (``record_finding``): no finding slips in meanwhile.
Each change is in the audit log (who, when, why): ``inspection.round.edit`` with the changed fields before and
after, ``inspection.round.delete`` with the deleted round, each with its ``reason``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from data.catalog import check_street
from data.errors import Conflict, InvalidParameter
from data.vocab import ROUND_KINDS, UNANNOUNCED_KINDS
from layers.workflow.access import audit
from layers.workflow.finding_times import said
from layers.workflow.inspections import ROUND_COLUMNS, get_round, round_row
from layers.workflow.refusals import not_one_of

#: What a correction may change, in the order the round lists them.
FIELDS = ("name", "kind", "unannounced", "starts", "ends", "streets")
_TIMES = ("starts", "ends")


def checked_round(conn, *, kind: str, starts: datetime, ends: datetime, streets: list[str]) -> list[str]:
    """A round's ``streets``, blanks and repeats dropped, once its kind, its times and each street are checked
    (InvalidParameter or NotFound naming the field): as a round is planned, so it is corrected."""
    if kind not in ROUND_KINDS:
        raise not_one_of("kind", ROUND_KINDS, kind)
    if ends <= starts:
        raise InvalidParameter("ends", f"{said(ends)} is not after starts ({said(starts)})",
                               f"{said(ends)} 不晚于开始时间（{said(starts)}）")
    streets = list(dict.fromkeys(s.strip() for s in streets if s and s.strip()))
    if not streets:
        raise InvalidParameter("streets", "name at least one street code", "请至少写一个街道代码")
    for code in streets:
        check_street(conn, code, "streets")
    return streets


def _named(rnd: dict) -> tuple[str, str]:
    """How a refusal names a round, in English and in Chinese: its id and its name."""
    return f"round {rnd['id']} ({rnd['name']})", f"检查轮次 {rnd['id']}（{rnd['name']}）"


def _findings(conn, round_id: int, streets: list[str]) -> dict:
    """How many findings ``round_id`` has, those outside ``streets`` (and in which), the first and last observed."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT count(*), count(*) FILTER (WHERE coalesce(street_code <> ALL(%(streets)s::text[]), true)),
                      array_agg(DISTINCT coalesce(street_code, '-') ORDER BY coalesce(street_code, '-'))
                          FILTER (WHERE coalesce(street_code <> ALL(%(streets)s::text[]), true)),
                      min(observed_at), max(observed_at)
               FROM inspection_findings WHERE round_id = %(id)s""",
            {"id": round_id, "streets": streets},
        )
        n, outside, where, first, last = cur.fetchone()
    return {"count": n, "outside": outside, "outside_streets": where or [], "first": first, "last": last}


def _keep_findings(before: dict, after: dict, found: dict) -> None:
    """Conflict when the corrected round would leave out a finding it recorded (naming the field), or when it has
    ended with findings: what it published stands."""
    en, zh = _named(before)
    n = found["count"]
    if datetime.fromisoformat(before["ends"]) <= datetime.now(UTC):
        raise Conflict(f"{en} ended at {before['ends']} with {n} finding{'s' if n != 1 else ''}: its scores and "
                       "problem list stand as published, so it is no longer changed",
                       f"{zh}已于 {before['ends']} 结束，有问题 {n} 条：其评分和问题清单已按原样发布，不能再修改")
    if found["outside"]:
        codes = ", ".join(found["outside_streets"])
        raise Conflict(f"streets: {en} has {found['outside']} finding(s) in street {codes}, which the new streets "
                       f"({', '.join(after['streets'])}) leave out; keep that street",
                       f"streets：{zh}在街道 {'、'.join(found['outside_streets'])} 有问题 {found['outside']} 条，"
                       f"新的街道（{'、'.join(after['streets'])}）不包括该街道；请保留该街道")
    if found["first"] < after["starts"]:
        raise Conflict(f"starts: {en} has a finding observed at {said(found['first'])}, before the new start "
                       f"({said(after['starts'])}); start it no later than that",
                       f"starts：{zh}有 {said(found['first'])} 记录的问题，早于新的开始时间"
                       f"（{said(after['starts'])}）；开始时间不能晚于该问题")
    if found["last"] >= after["ends"]:
        raise Conflict(f"ends: {en} has a finding observed at {said(found['last'])}, not before the new end "
                       f"({said(after['ends'])}); end it after that",
                       f"ends：{zh}有 {said(found['last'])} 记录的问题，不早于新的结束时间"
                       f"（{said(after['ends'])}）；结束时间须晚于该问题")


def _corrected(conn, before: dict, changes: dict) -> dict:
    """The round as ``changes`` correct it, checked as a new round is: the fields not given are kept, except that
    a new kind without ``unannounced`` is unannounced (暗访) as that kind usually is, as when a round is planned."""
    given = {k: v for k, v in changes.items() if k in FIELDS and v is not None}
    if "name" in given and not given["name"].strip():
        raise InvalidParameter("name", "must not be empty", "不能为空")
    if given.get("kind", before["kind"]) != before["kind"] and "unannounced" not in given:
        given["unannounced"] = given["kind"] in UNANNOUNCED_KINDS
    after = {**{k: before[k] for k in FIELDS}, **{k: datetime.fromisoformat(before[k]) for k in _TIMES}, **given}
    after["name"] = after["name"].strip()
    after["streets"] = checked_round(conn, kind=after["kind"], starts=after["starts"], ends=after["ends"],
                                     streets=list(after["streets"]))
    return after


def edit_round(conn, round_id: int, changes: dict, *, reason: str, actor: str) -> dict:
    """Correct round ``round_id`` by ``changes`` (some of :data:`FIELDS`; None: kept) for ``reason``.

    Returns the round as stored with ``changed``, the fields that changed (none: nothing is written). Refused
    (Conflict) when it would leave out a finding it recorded, or when it has ended with findings.
    """
    if not any(changes.get(k) is not None for k in FIELDS):
        raise InvalidParameter("round", f"give at least one of {', '.join(FIELDS)} to change",
                               f"请至少给出要修改的一项：{'、'.join(FIELDS)}")
    before = get_round(conn, round_id, lock="update")
    after = _corrected(conn, before, changes)
    stored = {**before, **{k: datetime.fromisoformat(before[k]) for k in _TIMES}}
    changed = [k for k in FIELDS if after[k] != stored[k]]
    if not changed:
        return {**before, "changed": []}
    found = _findings(conn, round_id, after["streets"])
    if found["count"]:
        _keep_findings(before, after, found)
    with conn.cursor() as cur:
        cur.execute(
            f"""UPDATE inspection_rounds SET name = %(name)s, kind = %(kind)s, unannounced = %(unannounced)s,
                       starts = %(starts)s, ends = %(ends)s, streets = %(streets)s
                WHERE id = %(id)s RETURNING {', '.join(ROUND_COLUMNS)}""",
            {**{k: after[k] for k in FIELDS}, "id": round_id},
        )
        out = round_row(cur.fetchone())
    audit(conn, actor, "inspection.round.edit", f"inspection_round:{round_id}", {k: before[k] for k in changed},
          {k: out[k] for k in changed}, {"reason": reason})
    return {**out, "changed": changed}


def delete_round(conn, round_id: int, *, reason: str, actor: str) -> dict:
    """Delete round ``round_id`` for ``reason`` while it has no finding (Conflict naming the round and how many
    it has otherwise); return the round as it was. The audit log keeps it."""
    rnd = get_round(conn, round_id, lock="update")
    n = _findings(conn, round_id, rnd["streets"])["count"]
    if n:
        en, zh = _named(rnd)
        raise Conflict(f"{en} has {n} finding{'s' if n != 1 else ''}: only a round without findings may be "
                       f"deleted; correct it instead (PATCH /api/inspections/rounds/{round_id}, "
                       "hygiene-map inspections edit-round)",
                       f"{zh}已有问题 {n} 条，不能删除：只有尚无问题记录的检查轮次才能删除；可改为修改该轮次"
                       f"（PATCH /api/inspections/rounds/{round_id}，hygiene-map inspections edit-round）")
    with conn.cursor() as cur:
        cur.execute("DELETE FROM inspection_rounds WHERE id = %s", (round_id,))
    audit(conn, actor, "inspection.round.delete", f"inspection_round:{round_id}",
          {k: rnd[k] for k in (*FIELDS, "created_by", "created_at")}, None, {"reason": reason})
    return rnd
