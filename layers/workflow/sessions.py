"""SQL about page-login sessions (no HTTP here): create, look up, end.

A session id is 32 random bytes given to the browser once (in a cookie);
only its SHA-256 digest is stored, like a token's. A session ends at its
expiry (``HYGIENE_MAP_SESSION_HOURS``), at logout, or when its user is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from layers.workflow.access import User, new_token, token_digest, user_for_token
from layers.workflow.last_use import DUE_SQL, GRAIN, note_use


@dataclass(frozen=True)
class Session:
    """A logged-in browser: its user and the CSRF token its writes must carry."""

    user: User
    csrf_token: str


def start_session(conn, token: str, hours: int) -> tuple[str, Session] | None:
    """Trade a user's token for a new session: (session id for the cookie, session), or None for a bad token.

    Also deletes expired sessions, so the table holds only live ones. Commits nothing.
    """
    user = user_for_token(conn, token)
    if user is None:
        return None
    note_use(conn, user.id, every_time=True)  # a login is always recorded (`users list`: last use)
    session_id, csrf = new_token(), new_token()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sessions WHERE expires_at < now()")
        cur.execute("INSERT INTO sessions (id_sha256, user_id, csrf_token, expires_at) VALUES (%s, %s, %s, now() + %s)",
                    (token_digest(session_id), user.id, csrf, timedelta(hours=hours)))
    return session_id, Session(user, csrf)


def session_for_id(conn, session_id: str) -> Session | None:
    """The live session of a cookie's id (its user enabled), or None."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT u.id, u.name, u.role, u.street_code, u.grid_codes, s.csrf_token, {DUE_SQL}
               FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.id_sha256 = %s AND s.expires_at > now() AND u.disabled_at IS NULL""",
            (GRAIN, token_digest(session_id)))
        row = cur.fetchone()
    if row is None:
        return None
    return Session(User(row[0], row[1], row[2], row[3], tuple(row[4] or ()), use_due=row[6]), row[5])


def end_session(conn, session_id: str) -> None:
    """Forget a session (logout). Commits nothing."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sessions WHERE id_sha256 = %s", (token_digest(session_id),))
