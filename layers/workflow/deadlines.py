"""SQL about a complaint's deadline after filing: 限期整改 and 延期申请与审批 (no HTTP here).

A complaint's deadline (``complaints.due_at``) is set when it is filed or
imported. Afterwards, as on a 12345 hotline system:

- whoever may handle the complaint asks for more time (:func:`request_extension`):
  a later time and a reason; one request awaits a decision at a time;
- the campaign office (创卫办, role admin) approves it — ``due_at`` becomes the
  time asked for — or rejects it with a note (:func:`decide`);
- the campaign office sets a deadline itself, with a reason (:func:`set_deadline`).

Every request, decision and change is a row of ``complaint_deadlines``
(migration 0830, append-only). The functions take the complaint as read with
its row lock (``layers.workflow.complaints.get(conn, id, lock=True)``), so two
requests or decisions on one complaint happen one after the other. A deadline
is "in the past" when it is not after the time overdue is judged at
(:mod:`data.clock`): a deadline that would leave the complaint overdue at once
is refused.
"""

from __future__ import annotations

from datetime import datetime

from data.clock import reference_time
from data.errors import Conflict, InvalidParameter, NotFound
from data.vocab import CLOSED, city_tz
from layers.workflow.access import audit

REQUEST, APPROVE, REJECT, SET = "request", "approve", "reject", "set"
#: The decisions on a request, as the API spells them.
DECISIONS = {"approve": APPROVE, "reject": REJECT}

#: The requests still awaiting a decision (used by the complaint list's ``pending_extension`` filter).
PENDING_SQL = ("SELECT r.id, r.complaint_id FROM complaint_deadlines r WHERE r.kind = 'request' "
               "AND NOT EXISTS (SELECT 1 FROM complaint_deadlines d WHERE d.request_id = r.id)")

_COLUMNS = ("id", "kind", "request_id", "due_before", "due_after", "reason", "actor", "at")


def _row(r) -> dict:
    out = dict(zip(_COLUMNS, r))
    for k in ("due_before", "due_after", "at"):
        out[k] = out[k].isoformat() if out[k] is not None else None
    return out


def history(conn, complaint_id: int) -> list[dict]:
    """Every request, decision and direct change of the complaint's deadline, in the order written.

    Each: ``id``, ``kind`` (request, approve, reject, set), ``request_id`` (the
    request a decision answers), ``due_before`` (the deadline then),
    ``due_after`` (the time asked for, or the new deadline), ``reason`` (staff
    text: why, or the decision's note), ``actor`` and ``at``.
    """
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM complaint_deadlines WHERE complaint_id = %s ORDER BY id",
                    (complaint_id,))
        return [_row(r) for r in cur.fetchall()]


def pending(conn, complaint_id: int) -> dict | None:
    """The complaint's extension request awaiting a decision, or None."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join('q.' + c for c in _COLUMNS)} FROM ({PENDING_SQL}) p "
                    "JOIN complaint_deadlines q ON q.id = p.id WHERE p.complaint_id = %s", (complaint_id,))
        row = cur.fetchone()
    return _row(row) if row else None


def _said(when: datetime | str) -> str:
    """A time as a refusal says it: in the city's time, to the minute (2026-12-03T02:04+08:00)."""
    when = datetime.fromisoformat(when) if isinstance(when, str) else when
    return when.astimezone(city_tz()).isoformat(timespec="minutes")


def _still_open(current: dict, what: str, what_zh: str) -> None:
    if current["status"] == CLOSED:
        raise Conflict(f"complaint {current['id']} is closed ({CLOSED}): {what} no longer applies to it",
                       f"投诉 {current['id']} 已{CLOSED}：不能再{what_zh}")


def _in_future(conn, due_at: datetime) -> None:
    judged = reference_time(conn)
    if due_at <= judged:
        raise InvalidParameter("due_at", f"{_said(due_at)} is in the past: a deadline must be after "
                                         f"{_said(judged)}, the time overdue is judged at",
                               f"{_said(due_at)} 已过去：期限须晚于判定超期的时间 {_said(judged)}")


def _write(conn, current: dict, kind: str, due_after: datetime | None, reason: str | None, actor: str,
           request_id: int | None = None) -> int:
    """Append one row; move ``due_at`` when the row gives a new deadline (approve, set)."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO complaint_deadlines (complaint_id, kind, request_id, due_before, due_after, reason, actor)
               VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (current["id"], kind, request_id, current["due_at"], due_after, reason, actor),
        )
        row_id = cur.fetchone()[0]
        if kind in (APPROVE, SET):
            cur.execute("UPDATE complaints SET due_at = %s, updated_at = now() WHERE id = %s",
                        (due_after, current["id"]))
    after = due_after.isoformat() if due_after is not None else None
    audit(conn, actor, f"complaint.deadline.{kind}", f"complaint:{current['id']}", {"due_at": current["due_at"]},
          {"due_at": after if kind in (APPROVE, SET) else current["due_at"]},
          {"row": row_id, "request_id": request_id, "asked": after if kind == REQUEST else None, "reason": reason})
    return row_id


def request_extension(conn, current: dict, due_at: datetime, reason: str, actor: str) -> int:
    """Ask for the complaint's deadline to move to ``due_at``; the new request's id.

    Raises
    ------
    Conflict
        the complaint is closed, or a request of it awaits a decision already.
    InvalidParameter
        ``due_at`` is in the past or not later than the current deadline; ``reason`` is empty.
    """
    _still_open(current, "an extension", "申请延期")
    waiting = pending(conn, current["id"])
    if waiting is not None:
        raise Conflict(f"complaint {current['id']} has extension request {waiting['id']} awaiting the campaign "
                       f"office's decision (to {_said(waiting['due_after'])}, asked by {waiting['actor']}): "
                       "one request at a time",
                       f"投诉 {current['id']} 的延期申请 {waiting['id']}（延至 {_said(waiting['due_after'])}，"
                       f"{waiting['actor']} 申请）正等待创卫办审批：一次只能有一个申请")
    if not (reason or "").strip():
        raise InvalidParameter("reason", "an extension request needs a reason saying why more time is needed",
                               "申请延期须写明需要更多时间的原因")
    _in_future(conn, due_at)
    if current["due_at"] is not None and due_at <= datetime.fromisoformat(current["due_at"]):
        raise InvalidParameter("due_at", f"{_said(due_at)} is not later than the current deadline "
                                         f"{_said(current['due_at'])}: an extension asks for more time",
                               f"{_said(due_at)} 不晚于当前期限 {_said(current['due_at'])}：延期须延后期限")
    return _write(conn, current, REQUEST, due_at, reason, actor)


def decide(conn, current: dict, request_id: int, decision: str, note: str | None, actor: str) -> int:
    """Approve (``due_at`` becomes the time asked for) or reject (with a note) a request; the decision's id.

    Raises
    ------
    NotFound
        no request ``request_id`` of this complaint.
    Conflict
        the request was decided already; approving a request of a closed complaint, or one whose time
        has passed or is no longer later than the deadline (changed since it was asked).
    InvalidParameter
        an unknown ``decision``; a rejection without a ``note``.
    """
    if decision not in DECISIONS:
        raise InvalidParameter("decision", f"must be one of {', '.join(DECISIONS)}, not {decision!r}",
                               f"须为 {'、'.join(DECISIONS)} 之一，而不是 {decision!r}")
    kind = DECISIONS[decision]
    asked = next((r for r in history(conn, current["id"]) if r["id"] == request_id and r["kind"] == REQUEST), None)
    if asked is None:
        raise NotFound(f"complaint {current['id']} has no extension request {request_id}",
                       f"投诉 {current['id']} 没有延期申请 {request_id}")
    waiting = pending(conn, current["id"])
    if waiting is None or waiting["id"] != request_id:
        raise Conflict(f"extension request {request_id} of complaint {current['id']} was decided already",
                       f"投诉 {current['id']} 的延期申请 {request_id} 已审批过")
    if kind == REJECT:
        if not (note or "").strip():
            raise InvalidParameter("note", "rejecting an extension request needs a note saying why",
                                   "驳回延期申请须在备注中写明原因")
        return _write(conn, current, REJECT, None, note, actor, request_id)
    _still_open(current, "an extension (reject the request instead)", "批准延期（请改为驳回该申请）")
    due_after = datetime.fromisoformat(asked["due_after"])
    if current["due_at"] is not None and due_after <= datetime.fromisoformat(current["due_at"]):
        raise Conflict(f"extension request {request_id} asks for {_said(asked['due_after'])}, not later than the "
                       f"deadline {_said(current['due_at'])} set since: reject it, or set a deadline",
                       f"延期申请 {request_id} 申请延至 {_said(asked['due_after'])}，不晚于其后设定的期限 "
                       f"{_said(current['due_at'])}：请驳回，或直接设定期限")
    if due_after <= reference_time(conn):
        raise Conflict(f"extension request {request_id} asks for {_said(asked['due_after'])}, which has passed: "
                       "reject it, or set a deadline",
                       f"延期申请 {request_id} 申请延至 {_said(asked['due_after'])}，该时间已过：请驳回，或直接设定期限")
    return _write(conn, current, APPROVE, due_after, note, actor, request_id)


#: The note of a request that lapsed because its case was closed before anyone decided it.
LAPSED_NOTE = "案件已结案，延期申请随之失效 (the case was closed: the request lapsed)"


def lapse(conn, current: dict, actor: str) -> int | None:
    """Reject, as lapsed, the extension request still waiting when the case is closed (by ``actor``, who closed
    it): else it waits in the campaign office's list for a decision that could only be a rejection. Its id, or
    None when no request was waiting."""
    waiting = pending(conn, current["id"])
    return None if waiting is None else _write(conn, current, REJECT, None, LAPSED_NOTE, actor, waiting["id"])


def set_deadline(conn, current: dict, due_at: datetime, reason: str, actor: str) -> int:
    """Set the complaint's deadline directly (限期整改, the campaign office); the change's id.

    The new deadline may be earlier or later than the current one, not in the
    past; a request awaiting a decision stays so (it is decided on its own).
    """
    _still_open(current, "a deadline", "设定期限")
    if not (reason or "").strip():
        raise InvalidParameter("reason", "setting a deadline needs a reason", "设定期限须写明原因")
    if current["due_at"] is not None and due_at == datetime.fromisoformat(current["due_at"]):
        raise InvalidParameter("due_at", f"{_said(due_at)} is the current deadline already",
                               f"{_said(due_at)} 已是当前期限")
    _in_future(conn, due_at)
    return _write(conn, current, SET, due_at, reason, actor)
