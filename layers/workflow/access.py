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
from data.settings import AccessSettings
from data.vocab import ROLES, SCOPED_ROLES
from layers.spec.model import Field, LayerSpec
from layers.workflow.last_use import DUE_SQL, GRAIN
from layers.workflow.refusals import not_one_of


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
    ``grid_codes`` scopes an inspector to named grids. ``use_due``: the lookup
    found its last use recorded longer ago than :data:`layers.workflow.last_use.GRAIN`
    (the caller records this one); bookkeeping, not who the user is.
    """

    id: int
    name: str
    role: str
    street_code: str | None = None
    grid_codes: tuple[str, ...] = field(default_factory=tuple)
    use_due: bool = field(default=False, compare=False, repr=False)

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

    def may_decide_deadlines(self) -> bool:
        """Set a complaint's deadline or decide an extension request: the campaign office (创卫办, admin) only."""
        return self.role == "admin"

    def scope_text(self, lang: str = "en") -> str:
        """What the user handles, in ``lang``: a street, grids, everything (admin) or nothing (read only)."""
        zh = lang == "zh"
        street = f"{'街道' if zh else 'street'} {self.street_code}"
        if self.role == "street":
            return street
        if self.role == "inspector":
            return f"{'网格' if zh else 'grids'} {'、'.join(self.grid_codes) if zh else ', '.join(self.grid_codes)}" \
                if self.grid_codes else street
        if self.role == "admin":
            return "全部" if zh else "everything"
        return "只读" if zh else "read only"


#: Who the command line acts as: it holds the database's credentials, so it reads every column.
OPERATOR = User(0, "operator", "admin")


@dataclass(frozen=True)
class RowScope:
    """The rows a column is shown on: those whose ``column`` is one of ``values`` (a user's street or grids)."""

    column: str
    values: tuple[str, ...]


def column_class(f: Field, settings: AccessSettings | None = None) -> str:
    """The class a column has on this server: its declared one, but grid contacts are public when
    ``HYGIENE_MAP_GRID_CONTACTS_PUBLIC=1`` (as on a 网格公示牌)."""
    if f.contact and (settings or AccessSettings.from_env()).grid_contacts_public:
        return "public"
    return f.column_class


def personal_rows(spec: LayerSpec, user: User) -> RowScope | None:
    """The rows of a layer whose personal columns a street user or an inspector handles, or None."""
    columns = {f.column for f in spec.fields}
    if user.role == "inspector" and user.grid_codes:
        return RowScope(spec.grid_column, user.grid_codes) if spec.grid_column else None
    if user.role in SCOPED_ROLES and user.street_code and "street_code" in columns:
        return RowScope("street_code", (user.street_code,))
    return None


def column_grant(spec: LayerSpec, f: Field, user: User | None,
                 settings: AccessSettings | None = None) -> bool | RowScope:
    """THE rule of who reads which column (DESIGN §9), used by every route through :func:`readable`.

    - public: anyone, also without a token;
    - internal: any authenticated user (the city's staff);
    - personal: an admin on every row; a street user on its street's rows; an
      inspector on its grids' rows (or its street's); a planner never (planners
      read everything but people's names, phones and what complainants wrote).

    Returns True (every row), a :class:`RowScope` (only those rows) or False.
    """
    klass = column_class(f, settings)
    if klass == "public":
        return True
    if user is None:
        return False
    if klass == "internal" or user.role == "admin":
        return True
    return personal_rows(spec, user) or False


def readable(spec: LayerSpec, user: User | None, fields: tuple[Field, ...] | None = None,
             settings: AccessSettings | None = None) -> dict[str, bool | RowScope]:
    """The columns of ``fields`` (default: the layer's feature properties) ``user`` may read,
    in order, each with True (every row) or the :class:`RowScope` it is shown on."""
    settings = settings or AccessSettings.from_env()
    if fields is None:
        by_column = {f.column: f for f in spec.fields}
        fields = tuple(by_column[c] for c in spec.columns if c in by_column)
    out: dict[str, bool | RowScope] = {}
    for f in fields:
        grant = column_grant(spec, f, user, settings)
        if grant:
            out[f.column] = grant
    return out


def shown_row(spec: LayerSpec, user: User | None, row: dict, renames: dict[str, str] | None = None) -> dict:
    """``row`` (a dict of a layer's columns) with what ``user`` may not read taken out: a column not
    readable is dropped, a column readable on some rows only is None on the others.

    For answers built outside the SQL builders (a grid's history, one complaint); ``renames``
    maps a key of ``row`` to the column it holds (``manager`` → ``grid_manager``).
    """
    renames, settings = renames or {}, AccessSettings.from_env()
    fields = {f.column: f for f in (*spec.stored, *spec.history)}
    out = {}
    for key, value in row.items():
        f = fields.get(renames.get(key, key))
        grant = True if f is None else column_grant(spec, f, user, settings)
        if grant is False:
            continue
        if isinstance(grant, RowScope) and row.get(grant.column) not in grant.values:
            value = None
        out[key] = value
    return out


def named_for(user: User | None, row: dict, key: str = "created_by") -> dict:
    """``row`` as ``user`` reads it: who made it (a round, a plan) is for the city's staff, any login, as every
    actor of a step is; None for anyone without one."""
    return row if user is not None or row.get(key) is None else {**row, key: None}


def add_user(conn, name: str, role: str, *, street_code: str | None = None, grid_codes: list[str] | None = None,
             created_by: str) -> tuple[User, str]:
    """Create a user; return it with its token (the only time the token exists in clear).

    Checks that the role is known, that street and inspector users have a
    scope, and that the scope exists. Commits nothing: the caller does.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidParameter("NAME", "must not be empty", "不能为空")
    if role not in ROLES:
        raise not_one_of("--role", ROLES, role)
    grid_codes = [g.strip() for g in (grid_codes or []) if g.strip()]
    if role == "street" and not street_code:
        raise InvalidParameter("--street", "a street user needs --street CODE", "街道用户须用 --street CODE 指定街道")
    if role == "inspector" and not street_code and not grid_codes:
        raise InvalidParameter("--grids", "an inspector needs --grids CODES or --street CODE",
                               "检查员须用 --grids CODES 指定网格，或用 --street CODE 指定街道")
    if role not in SCOPED_ROLES and (street_code or grid_codes):
        raise InvalidParameter("--street", f"a {role} is not scoped; leave out --street and --grids",
                               f"{role} 用户不限范围；请去掉 --street 和 --grids")
    if street_code:
        check_street(conn, street_code, "--street")
    with conn.cursor() as cur:
        if grid_codes:
            cur.execute("SELECT array_agg(g) FROM unnest(%s::text[]) g WHERE g NOT IN (SELECT code FROM grids)",
                        (grid_codes,))
            unknown = cur.fetchone()[0]
            if unknown:
                raise NotFound(f"--grids: no grid with code {', '.join(unknown)}",
                               f"--grids：没有编码为 {'、'.join(unknown)} 的网格")
        cur.execute("SELECT disabled_at IS NOT NULL FROM users WHERE name = %s", (name,))
        taken = cur.fetchone()
        if taken is not None:  # a name is for good (audit log, 经办人): its token is replaced, not its user
            raise Conflict(f"a user named {name!r} already exists{' (disabled)' if taken[0] else ''}: to give it a "
                           f"new token run `hygiene-map users rotate {name}`"
                           f"{f', then `hygiene-map users enable {name}`' if taken[0] else ''}",
                           f"已有名为 {name!r} 的用户{'（已停用）' if taken[0] else ''}：要为其换发令牌，请运行 "
                           f"`hygiene-map users rotate {name}`"
                           f"{f'，再运行 `hygiene-map users enable {name}`' if taken[0] else ''}")
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
    """The enabled user holding this token, or None (its ``use_due`` read in the same query: no extra trip)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT id, name, role, street_code, grid_codes, {DUE_SQL} FROM users u
               WHERE token_sha256 = %s AND disabled_at IS NULL""",
            (GRAIN, token_digest(token)),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return User(row[0], row[1], row[2], row[3], tuple(row[4] or ()), use_due=row[5])


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
            raise NotFound(f"no enabled user named {name!r}", f"没有名为 {name!r} 的启用中的用户")
    audit(conn, actor, "user.disable", f"user:{name}", {"disabled": False}, {"disabled": True})
