"""SQL about users, tokens and the audit log (no HTTP here).

A token is 32 random bytes shown once as URL-safe text; only its SHA-256
hex digest is stored, so a stolen database does not reveal tokens.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from data.catalog import check_street
from data.errors import Conflict, InvalidParameter, NotFound
from data.vocab import ROLES, SCOPED_ROLES


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of a token: SHA-256 hex digest of its UTF-8 text."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    """Who is calling, and what they may touch.

    ``street_code`` scopes a street user (and optionally an inspector);
    ``grid_codes`` scopes an inspector to named grids.
    """

    id: int
    name: str
    role: str
    street_code: str | None = None
    grid_codes: tuple[str, ...] = field(default_factory=tuple)

    def may_write_grid(self, street_code: str) -> bool:
        """Change a grid's assignment: admin anywhere, a street user in its own street."""
        return self.role == "admin" or (self.role == "street" and street_code == self.street_code)

    def may_write_complaint(self, street_code: str | None, grid_code: str | None) -> bool:
        """Create or move a complaint: admin; street user in its street; inspector in its grids."""
        if self.role == "admin":
            return True
        if self.role == "street":
            return street_code is not None and street_code == self.street_code
        if self.role == "inspector":
            if self.grid_codes:
                return grid_code is not None and grid_code in self.grid_codes
            return street_code is not None and street_code == self.street_code
        return False

    def scope_text(self) -> str:
        if self.role == "street":
            return f"street {self.street_code}"
        if self.role == "inspector":
            return f"grids {', '.join(self.grid_codes)}" if self.grid_codes else f"street {self.street_code}"
        return "everything" if self.role == "admin" else "read only"


def add_user(conn, name: str, role: str, *, street_code: str | None = None, grid_codes: list[str] | None = None,
             created_by: str) -> tuple[User, str]:
    """Create a user; return it with its token (the only time the token exists in clear).

    Checks that the role is known, that street and inspector users have a
    scope, and that the scope exists. Commits nothing: the caller does.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidParameter("NAME", "must not be empty")
    if role not in ROLES:
        raise InvalidParameter("--role", f"must be one of {', '.join(ROLES)}, not {role!r}")
    grid_codes = [g.strip() for g in (grid_codes or []) if g.strip()]
    if role == "street" and not street_code:
        raise InvalidParameter("--street", "a street user needs --street CODE")
    if role == "inspector" and not street_code and not grid_codes:
        raise InvalidParameter("--grids", "an inspector needs --grids CODES or --street CODE")
    if role not in SCOPED_ROLES and (street_code or grid_codes):
        raise InvalidParameter("--street", f"a {role} is not scoped; leave out --street and --grids")
    if street_code:
        check_street(conn, street_code, "--street")
    with conn.cursor() as cur:
        if grid_codes:
            cur.execute("SELECT array_agg(g) FROM unnest(%s::text[]) g WHERE g NOT IN (SELECT code FROM grids)",
                        (grid_codes,))
            unknown = cur.fetchone()[0]
            if unknown:
                raise NotFound(f"--grids: no grid with code {', '.join(unknown)}")
        cur.execute("SELECT 1 FROM users WHERE name = %s", (name,))
        if cur.fetchone() is not None:
            raise Conflict(f"a user named {name!r} already exists")
        token = new_token()
        cur.execute(
            """INSERT INTO users (name, role, street_code, grid_codes, token_sha256, created_by)
               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
            (name, role, street_code, grid_codes, token_digest(token), created_by),
        )
        user = User(cur.fetchone()[0], name, role, street_code, tuple(grid_codes))
    audit(conn, created_by, "user.add", f"user:{name}", None,
          {"role": role, "street_code": street_code, "grid_codes": grid_codes})
    return user, token


def user_for_token(conn, token: str) -> User | None:
    """The enabled user holding this token, or None."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id, name, role, street_code, grid_codes FROM users
               WHERE token_sha256 = %s AND disabled_at IS NULL""",
            (token_digest(token),),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return User(row[0], row[1], row[2], row[3], tuple(row[4] or ()))


def audit(conn, actor: str, action: str, target: str, before, after, detail=None) -> None:
    """Append one audit row (in the caller's transaction)."""

    def js(value):
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)

    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO audit_log (actor, action, target, before, after, detail)
               VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)""",
            (actor, action, target, js(before), js(after), js(detail)),
        )


def disable_user(conn, name: str, actor: str) -> None:
    """Disable a user: its token stops working at once (the row stays, for the audit trail)."""
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET disabled_at = now() WHERE name = %s AND disabled_at IS NULL RETURNING id",
                    (name,))
        if cur.fetchone() is None:
            raise NotFound(f"no enabled user named {name!r}")
    audit(conn, actor, "user.disable", f"user:{name}", {"disabled": False}, {"disabled": True})
