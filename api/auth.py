"""Bearer-token authentication and the roles of DESIGN §5.

Use in a route::

    from api.auth import Reader, Writer

    @router.put("/things/{code}")
    def change(code: str, user: Writer, conn: Transaction):
        if not user.may_write_grid(street_of(code)):
            raise Forbidden(...)

- ``current_user``: every write. No or unknown token → 401 (``Unauthorized``).
  Scope checks (403, ``Forbidden``) are the route's job, with the helpers on
  :class:`layers.workflow.access.User` (``may_write_grid``, ``may_write_complaint``),
  because only the route knows which street or grid is touched.
- ``reader``: every read. Returns the user or None; when
  ``HYGIENE_MAP_READS_NEED_TOKEN=1`` a valid token is required. A token that
  is given but wrong is always 401, even for open reads.
- ``require_writer``: 403 for a planner (reads everything, writes nothing).

``Reader`` and ``Writer`` are the annotations a route declares its caller with.

Roles: admin (everything), planner (reads), street (its street's grids and
complaints), inspector (complaints in its grids). Tokens come from
``hygiene-map users add`` and are stored only as SHA-256 digests.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Conn
from data.errors import Forbidden, Unauthorized
from data.settings import AuthSettings
from layers.workflow.access import User, user_for_token

_bearer = HTTPBearer(auto_error=False, description="token printed by `hygiene-map users add`")




def _user(request: Request, conn, credentials: HTTPAuthorizationCredentials | None) -> User | None:
    if credentials is None:
        return None
    user = user_for_token(conn, credentials.credentials)
    if user is None:
        raise Unauthorized("the bearer token is unknown or disabled")
    request.state.user = user  # the access log (api/middleware.py) names who called
    return user


def current_user(request: Request, conn: Conn,
                 credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> User:
    """The authenticated user; 401 without a valid ``Authorization: Bearer`` token."""
    user = _user(request, conn, credentials)
    if user is None:
        raise Unauthorized("this request needs a token: send Authorization: Bearer <token> (hygiene-map users add)")
    return user


def require_writer(user: User = Depends(current_user)) -> User:
    """The authenticated user, unless their role writes nothing (planner → 403)."""
    if user.role == "planner":
        raise Forbidden(f"user {user.name!r} is a planner: planners read everything and write nothing")
    return user


def reader(request: Request, conn: Conn,
           credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> User | None:
    """The caller of a read: a user, or None when reads are open (the default)."""
    user = _user(request, conn, credentials)
    if user is None and AuthSettings.from_env().reads_need_token:
        raise Unauthorized("reading needs a token on this server: send Authorization: Bearer <token>")
    return user


Reader = Annotated[User | None, Depends(reader)]
Writer = Annotated[User, Depends(require_writer)]
