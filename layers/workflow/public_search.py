"""What the staff's complaint search knows of the public channel (no HTTP here): a resident's tracking number
(查询码) as read out on the phone, and the cases awaiting the unit's public reply.

Kept apart from :mod:`layers.workflow.public` (which imports the complaints module) so that
:mod:`layers.workflow.complaints` can use it without an import cycle.
"""

from __future__ import annotations

from psycopg2 import sql

from data.vocab import UNSATISFIED
from layers.workflow.access import RowScope

#: Crockford's base32 alphabet (no I, L, O, U): read aloud and typed from a phone without mix-ups.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 10  # 50 random bits
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def normal_tracking(raw: str | None) -> str | None:
    """A tracking number as typed (any case, dashes or spaces, I/L for 1, O for 0) in its stored form, or None
    when the text cannot be one."""
    text = "".join((raw or "").split()).replace("-", "").upper().translate(_READ_AS)
    if len(text) != TRACKING_LENGTH or any(ch not in CROCKFORD for ch in text):
        return None
    return text


def tracking_clause(conn, entitled: bool | RowScope) -> str | None:
    """The ids (a SELECT for the search's union) of the case a resident's tracking number (``%(tracking)s``)
    belongs to, among the cases the user handles (their street's or grids' codes in ``%(described)s``) (``entitled``: every case, those of its street or grids, or
    none, which is None: a planner or a reader of another street does not learn whose report a number is)."""
    found = "SELECT r.complaint_id FROM public_reports r WHERE r.tracking = %(tracking)s"
    if entitled is True:
        return found
    if isinstance(entitled, RowScope):
        own = sql.SQL("t.{} = ANY(%(described)s)").format(sql.Identifier(entitled.column)).as_string(conn)
        return ("SELECT r.complaint_id FROM public_reports r JOIN complaints t ON t.id = r.complaint_id "
                f"WHERE r.tracking = %(tracking)s AND {own}")
    return None


#: A case reported through the public channel that its unit has not answered publicly since the latest thing a
#: resident wrote to it: a report (a supporter's addition after a reply awaits an answer again) or a 不满意
#: rating, whose reason says what is still wrong (the one that reopened the case, or a later one).
AWAITING_REPLY = f"""EXISTS (SELECT 1 FROM (SELECT r.created_at AS at FROM public_reports r WHERE r.complaint_id = c.id
                        UNION ALL SELECT g.rated_at FROM public_ratings g WHERE g.complaint_id = c.id
                        AND g.rating = '{UNSATISFIED}') w WHERE w.at >
                        coalesce((SELECT max(p.at) FROM public_replies p WHERE p.complaint_id = c.id), '-infinity'))"""


def own_rows(conn, scope: RowScope) -> str:
    """The clause keeping a street user's (or an inspector's) own cases: its street's, or its grids'."""
    return sql.SQL("c.{} = ANY(%(own_rows)s)").format(sql.Identifier(scope.column)).as_string(conn)
