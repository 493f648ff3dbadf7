"""The staff side of the public channel (issue 17): a case's public reports as its street's staff see them —
the reporters' contact numbers, the unit's public replies — and the residents' ratings summed by street or unit.

:mod:`layers.workflow.public` is the residents' side (reporting, following, rating); only this module reads
``public_contacts``, and only for staff of the case's street or grids (or an admin).
"""

from __future__ import annotations

from datetime import datetime

from data.errors import Forbidden
from data.vocab import NOT_FILED, RATINGS
from layers.workflow import complaints as cases
from layers.workflow.access import User, audit


def staff_case(conn, user: User, complaint_id: int, what: tuple[str, str]) -> dict:
    """The case, when ``user`` is staff of its street or grids (or an admin); else Forbidden saying ``what`` (in
    English and Chinese)."""
    case = cases.get(conn, complaint_id)
    if not user.may_write_complaint(case["street_code"], case["grid_code"]):
        raise Forbidden(f"user {user.name!r} may {what[0]} in {user.scope_text()}, not for complaint {complaint_id} "
                        f"of street {case['street_code']}", f"用户 {user.name!r} 可{what[1]}"
                        f"的范围为{user.scope_text('zh')}，不包括街道 {case['street_code']} 的投诉 {complaint_id}")
    return case


def reply(conn, user: User, complaint_id: int, text: str) -> dict:
    """Add the responsible unit's reply to the public (shown on every tracking page of the case)."""
    staff_case(conn, user, complaint_id, ("reply to the public", "答复群众"))
    with conn.cursor() as cur:
        cur.execute("INSERT INTO public_replies (complaint_id, reply, actor) VALUES (%s, %s, %s) RETURNING id, at",
                    (complaint_id, text, user.name))
        reply_id, at = cur.fetchone()
    audit(conn, user.name, "complaint.public_reply", f"complaint:{complaint_id}", None, {"reply": text})
    return {"id": reply_id, "complaint_id": complaint_id, "reply": text, "at": at.isoformat()}


def contacts(conn, user: User, complaint_id: int) -> list[dict]:
    """The public reports on a case with their contact numbers, their own descriptions (a supporter's 补充 is
    only here: the case keeps the first report's) and their latest rating with its reason: staff of the case's
    street (or grids) only."""
    staff_case(conn, user, complaint_id, ("read reporters' contact numbers", "查看反映人的联系电话"))
    with conn.cursor() as cur:
        cur.execute(
            """SELECT r.tracking, r.joined, r.channel, r.created_at, p.phone, r.description,
                      g.rating, g.reason, g.rated_at
               FROM public_reports r LEFT JOIN public_contacts p ON p.tracking = r.tracking
               LEFT JOIN LATERAL (SELECT rating, reason, rated_at FROM public_ratings x WHERE x.tracking = r.tracking
                                  ORDER BY x.closed_at DESC LIMIT 1) g ON true
               WHERE r.complaint_id = %s ORDER BY r.created_at, r.tracking""", (complaint_id,))
        return [{"tracking": q[0], "joined": q[1], "channel": q[2], "reported_at": q[3].isoformat(),
                 "phone": q[4], "description": q[5],
                 "rating": q[6] and {"rating": q[6], "reason": q[7], "at": q[8].isoformat()}}
                for q in cur.fetchall()]


def replies(conn, complaint_id: int) -> list[dict]:
    """The unit's public replies to a case, oldest first, each with who wrote it (staff only: the tracking page
    shows the reply and its time)."""
    with conn.cursor() as cur:
        cur.execute("SELECT id, reply, at, actor FROM public_replies WHERE complaint_id = %s ORDER BY at, id",
                    (complaint_id,))
        return [{"id": q[0], "reply": q[1], "at": q[2].isoformat(), "actor": q[3]} for q in cur.fetchall()]


def reported(conn, complaint_id: int) -> bool:
    """Whether the case came through the public channel (it has a public report, a resident's or a partner's)."""
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM public_reports WHERE complaint_id = %s)", (complaint_id,))
        return cur.fetchone()[0]


#: What :func:`satisfaction` groups by: the street (code and name), or the responsible unit of the case's grid.
_BY = {"street": ("l.street_code", "s.name"), "unit": ("coalesce(g.responsible_unit, '')", "NULL::text")}


def satisfaction(conn, *, street: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, by: str = "street") -> list[dict]:
    """Per street (or per responsible unit, ``by="unit"``): reporters' latest rating of each report rated in
    [since, until), and the share satisfied. A rating of a closing without filing (不予立案) is left out: it judges
    no handling by the unit (a resident who disputes it gets the case reconsidered instead).

    ``satisfied_share`` is (满意 + 基本满意) / rated, the figure the reviews weigh; None with no rating. Each
    row names its ``street_code`` and ``street``, or its ``unit`` (None: grids without one).
    """
    key, name = _BY[by]
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH latest AS (
                   SELECT DISTINCT ON (r.tracking) r.tracking, r.rating, c.street_code, c.grid_code
                   FROM public_ratings r JOIN complaints c ON c.id = r.complaint_id
                   WHERE (%(street)s::text IS NULL OR c.street_code = %(street)s)
                     AND (%(since)s::timestamptz IS NULL OR r.rated_at >= %(since)s)
                     AND (%(until)s::timestamptz IS NULL OR r.rated_at < %(until)s)
                     -- a rating of a 不予立案 closing judges no handling: the closing step is at the rating's closed_at
                     AND NOT EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = r.complaint_id
                                     AND e.from_status = %(nf_from)s AND e.to_status = %(nf_to)s AND e.at = r.closed_at)
                   ORDER BY r.tracking, r.rated_at DESC)
               SELECT {key}, {name}, count(*), count(*) FILTER (WHERE l.rating = %(r0)s),
                      count(*) FILTER (WHERE l.rating = %(r1)s), count(*) FILTER (WHERE l.rating = %(r2)s)
               FROM latest l LEFT JOIN admin_areas s ON s.code = l.street_code AND s.level = 'street'
                    LEFT JOIN grids g ON g.code = l.grid_code
               GROUP BY 1, 2 ORDER BY 1""",
            {"street": street, "since": since, "until": until, "nf_from": NOT_FILED[0], "nf_to": NOT_FILED[1],
             "r0": RATINGS[0], "r1": RATINGS[1], "r2": RATINGS[2]})
        rows = cur.fetchall()
    return [{**({"street_code": r[0], "street": r[1]} if by == "street" else {"unit": r[0] or None}),
             "rated": r[2], RATINGS[0]: r[3], RATINGS[1]: r[4], RATINGS[2]: r[5],
             "satisfied_share": round((r[3] + r[4]) / r[2], 4) if r[2] else None} for r in rows]
