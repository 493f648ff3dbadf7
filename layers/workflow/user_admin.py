"""SQL of an administrator's user upkeep (no HTTP here): replace a token, enable again, list.

A user keeps its name for good: the audit log, 经办人 and print jobs name it,
so a new token is issued to the same user (:func:`rotate_token`) rather than
to a new one under another name. Nothing here commits: the caller does.
"""

from __future__ import annotations

from data.errors import Conflict, NotFound
from layers.workflow.access import User, audit, new_token, token_digest


def _end_sessions(cur, user_id: int) -> int:
    """Log the user's browsers out (their page sessions were opened with a token now replaced or revived)."""
    cur.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))
    return cur.rowcount


def rotate_token(conn, name: str, actor: str) -> tuple[User, str, bool]:
    """Give the user ``name`` a new token: (user, the token in clear, whether the user is disabled).

    The old token stops at once and the user's page sessions end. A disabled user stays disabled (its token was
    perhaps stolen): ``users enable`` lets the new token in.
    """
    token = new_token()
    with conn.cursor() as cur:
        cur.execute("""UPDATE users SET token_sha256 = %s WHERE name = %s
                       RETURNING id, role, street_code, grid_codes, disabled_at IS NOT NULL""",
                    (token_digest(token), name))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no user named {name!r}", f"没有名为 {name!r} 的用户")
        ended = _end_sessions(cur, row[0])
    audit(conn, actor, "user.rotate", f"user:{name}", None, {"token": "replaced"}, {"sessions_ended": ended})
    return User(row[0], name, row[1], row[2], tuple(row[3] or ())), token, row[4]


def enable_user(conn, name: str, actor: str) -> None:
    """Enable a disabled user again, with the token it holds (``users rotate`` first when that one leaked).

    Page sessions opened before it was disabled stay ended: its people log in again.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT id, disabled_at IS NOT NULL FROM users WHERE name = %s", (name,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no user named {name!r}", f"没有名为 {name!r} 的用户")
        if not row[1]:
            raise Conflict(f"user {name!r} is not disabled", f"用户 {name!r} 未被停用")
        cur.execute("UPDATE users SET disabled_at = NULL WHERE id = %s", (row[0],))
        _end_sessions(cur, row[0])
    audit(conn, actor, "user.enable", f"user:{name}", {"disabled": True}, {"disabled": False})


def list_users(conn, unused_days: int | None = None) -> list[dict]:
    """Every user, by name: name, role, scope, created (when, by whom), disabled (when, or None), last used (when, or
    None: never). Never a token nor its hash.

    With ``unused_days``, only the enabled users not used for that many days: last used before then, or never used
    and created before then (an account made yesterday is not dormant). The disabled ones are shut already.
    """
    where, params = "", ()
    if unused_days is not None:
        where = """WHERE disabled_at IS NULL
                   AND coalesce(last_used_at, created_at) < now() - make_interval(days => %s)"""
        params = (unused_days,)
    with conn.cursor() as cur:
        cur.execute(f"""SELECT id, name, role, street_code, grid_codes, created_at, created_by, disabled_at,
                               last_used_at
                        FROM users {where} ORDER BY name""", params)
        rows = cur.fetchall()
    return [{"user": User(r[0], r[1], r[2], r[3], tuple(r[4] or ())), "created_at": r[5], "created_by": r[6],
             "disabled_at": r[7], "last_used_at": r[8]} for r in rows]
