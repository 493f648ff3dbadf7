"""When each account was last used (no HTTP here): a page login, or a request with its token or login cookie.

Kept to :data:`GRAIN`, not to the request: the lookup of a token or cookie
already reads the user's row, and it says whether the last use recorded is
older than the grain (:attr:`layers.workflow.access.User.use_due`); only
then is the row written, so a browser loading a hundred map tiles writes it
once, not a hundred times, and a quiet account costs nothing. A login is
recorded every time: it is rare (one per session) and is the use an
administrator asks about. Dormancy is counted in days (``users list
--unused-days``), so a quarter of an hour lost is nothing.
"""

from __future__ import annotations

from datetime import timedelta

#: How stale the recorded last use may be before a request records a new one.
GRAIN = timedelta(minutes=15)

#: SQL, over ``users u``: whether the recorded last use is older than the grain (its parameter).
DUE_SQL = "(u.last_used_at IS NULL OR u.last_used_at < now() - %s)"


def note_use(conn, user_id: int, *, every_time: bool = False) -> None:
    """Record now as ``user_id``'s last use: when the recorded one is older than :data:`GRAIN`, or ``every_time``
    (a login). Two requests racing write it once. Commits nothing: the caller does."""
    with conn.cursor() as cur:
        if every_time:
            cur.execute("UPDATE users SET last_used_at = now() WHERE id = %s", (user_id,))
        else:
            cur.execute(f"UPDATE users u SET last_used_at = now() WHERE u.id = %s AND {DUE_SQL}", (user_id, GRAIN))
