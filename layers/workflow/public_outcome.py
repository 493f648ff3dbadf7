"""How a resident's report ended, as the public reads it (issue 17, walk "res" F2/F3/F6).

A case closed straight from 受理 (不予立案: not in scope, private land, not this office's duty) was not taken
up; the residents must read that and why — the unit's public reply, never the staff note, which other streets'
staff and planners read and which is not written for the public — and not mistake it for a case closed after
rectification. The office therefore cannot close a publicly reported case unfiled without a public reply
(:func:`require_public_reason`). The public also never gets a resident's exact point: coordinates are rounded
to :data:`PUBLIC_DECIMALS` for everyone but the reporter.
"""

from __future__ import annotations

from data.errors import InvalidParameter
from data.vocab import CLOSED, NOT_FILED, RECEIVED

#: Decimals of a published longitude or latitude: 1e-5° is about 1 m, enough to find the place, not the doorway.
PUBLIC_DECIMALS = 5
#: ``outcome`` of a closed case: closed after handling, or not taken up (不予立案).
HANDLED, NOT_TAKEN_UP = "handled", "not_taken_up"
#: What Open311's ``status_notes`` starts with for a case not taken up (one language there: partners show it).
NOT_TAKEN_UP_NOTE = "不予立案 (not taken up)"


def public_point(lon: float | None, lat: float | None) -> tuple[float | None, float | None]:
    """A point as the public may see it: rounded to :data:`PUBLIC_DECIMALS`."""
    if lon is None or lat is None:
        return lon, lat
    return round(lon, PUBLIC_DECIMALS), round(lat, PUBLIC_DECIMALS)


def last_step_from(conn, complaint_id: int) -> str | None:
    """The status the case's latest step came from (None for a case with no step)."""
    with conn.cursor() as cur:
        cur.execute("SELECT from_status FROM complaint_events WHERE complaint_id = %s ORDER BY seq DESC LIMIT 1",
                    (complaint_id,))
        row = cur.fetchone()
    return row[0] if row else None


def outcome(conn, complaint_id: int, status: str, replies: list[dict]) -> dict:
    """``outcome`` (None while open, :data:`HANDLED` or :data:`NOT_TAKEN_UP`) and ``outcome_reason``: for a case
    not taken up, the unit's latest public reply (None if it gave none, as before replies were required)."""
    if status != CLOSED:
        return {"outcome": None, "outcome_reason": None}
    if last_step_from(conn, complaint_id) != NOT_FILED[0]:
        return {"outcome": HANDLED, "outcome_reason": None}
    return {"outcome": NOT_TAKEN_UP, "outcome_reason": replies[-1]["reply"] if replies else None}


def _answered_since_received(conn, complaint_id: int) -> bool:
    """Whether the unit has replied publicly since the case last came into 受理 (filed, or sent back by a
    resident's 不满意 for a fresh decision: the earlier reply answered the earlier decision)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT EXISTS (SELECT 1 FROM public_replies p WHERE p.complaint_id = %(id)s
                              AND p.at >= coalesce((SELECT max(e.at) FROM complaint_events e WHERE e.complaint_id = %(id)s
                                                    AND e.to_status = %(received)s), '-infinity'))""",
            {"id": complaint_id, "received": RECEIVED})
        return cur.fetchone()[0]


def require_public_reason(conn, complaint_id: int, frm: str, to: str, reported: bool,
                          public_reply: str | None) -> None:
    """InvalidParameter (``public_reply``) when a case residents reported is closed unfiled (不予立案) with no public
    reply saying why, neither given with the step nor written since it came into 受理."""
    if not reported or (frm, to) != NOT_FILED or (public_reply or "").strip():
        return
    if _answered_since_received(conn, complaint_id):
        return
    raise InvalidParameter(
        "public_reply", f"complaint {complaint_id} was reported by residents: closing it from {frm} unfiled "
        "(不予立案) needs a reply to the public saying why it is not taken up (the note is for staff only); "
        "send public_reply with the step, or POST /api/complaints/{id}/replies first",
        f"投诉 {complaint_id} 由群众反映：不予立案直接结案须向群众说明不予立案的理由（办理说明仅内部可见）；"
        "请随本次操作提交 public_reply，或先发布公开答复")
