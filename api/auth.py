"""Authentication: a bearer token, or the session cookie of a page login; the roles of DESIGN §5.

Use in a route::

    from api.auth import Reader, Writer

    @router.put("/things/{code}")
    def change(code: str, user: Writer, conn: Transaction):
        if not user.may_write_grid(street_of(code)):
            raise Forbidden(...)

- ``current_user``: every write. No valid credentials → 401 (``Unauthorized``).
  Scope checks (403, ``Forbidden``) are the route's job, with the helpers on
  :class:`layers.workflow.access.User` (``may_write_grid``, ``may_write_complaint``),
  because only the route knows which street or grid is touched.
- ``reader``: every read; create_app puts it on every router, so a route added
  later is covered too. Returns the user or None; when
  ``HYGIENE_MAP_READS_NEED_TOKEN=1`` credentials are required — an HTML page
  then redirects to ``/login`` (:class:`~data.errors.LoginRequired`), anything
  under /api, /ogc, /tiles answers 401. Credentials given but wrong are always 401.
- ``require_writer``: 403 for a planner (reads everything, writes nothing).

Credentials: ``Authorization: Bearer <token>`` or the ``hm_session`` cookie set
by ``/login`` (api/routes/session.py). A write carried by the cookie must also
carry the session's CSRF token (``X-CSRF-Token`` header or ``csrf`` form field),
else 403: another site can make a browser send the cookie, not read the token.

Each request with credentials records the user's last use (``users list``), at most once per
:data:`layers.workflow.last_use.GRAIN` per account: see :func:`reader`.

Roles: admin (everything), planner (reads), street (its street's grids and
complaints), inspector (complaints in its grids). Tokens come from
``hygiene-map users add`` and are stored only as SHA-256 digests.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Conn
from data.db import transaction
from data.errors import Forbidden, LoginRequired, Unauthorized
from data.settings import AuthSettings
from layers.workflow.access import User, user_for_token
from layers.workflow.last_use import note_use
from layers.workflow.sessions import Session, session_for_id

SESSION_COOKIE = "hm_session"
CSRF_HEADER = "X-CSRF-Token"
_bearer = HTTPBearer(auto_error=False, description="token printed by `hygiene-map users add`")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="session of a page login (/login)")
# Paths that are an API (401 without credentials); every other GET is a page (redirect to /login).
_API_PREFIXES = ("/api/", "/ogc", "/tiles/")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _session(request: Request, conn, session_id: str | None) -> Session | None:
    if not session_id:
        return None
    session = session_for_id(conn, session_id)
    if session is None:
        raise _unauthorized(request, "the login session is unknown or has expired: log in again",
                            "登录会话不存在或已过期：请重新登录")
    return session


def _user(request: Request, conn, credentials: HTTPAuthorizationCredentials | None,
          session_id: str | None) -> User | None:
    if credentials is not None:
        user = user_for_token(conn, credentials.credentials)
        if user is None:
            raise Unauthorized("the token sent in the Authorization header is unknown or disabled",
                               "Authorization 头中的令牌不存在或已停用")
    else:
        session = _session(request, conn, session_id)
        if session is None:
            return None
        if request.method not in _SAFE_METHODS and not _csrf_ok(request, session):
            raise Forbidden(f"a write with the session cookie needs the session's CSRF token in {CSRF_HEADER}",
                            f"凭会话 Cookie 写入时，须在 {CSRF_HEADER} 中附上该会话的 CSRF 令牌")
        user = session.user
        request.state.session = session
    request.state.user = user  # the access log (api/middleware.py) names who called
    return user


def _csrf_ok(request: Request, session: Session) -> bool:
    given = request.headers.get(CSRF_HEADER) or ""
    return bool(given) and hmac.compare_digest(given, session.csrf_token)


def _unauthorized(request: Request, message: str, zh: str) -> Unauthorized:
    """401 for the API; a redirect to the login page for a page (a GET outside /api, /ogc, /tiles)."""
    if request.method in ("GET", "HEAD") and not request.url.path.startswith(_API_PREFIXES):
        return LoginRequired(message, zh)
    return Unauthorized(message, zh)


def current_user(request: Request, conn: Conn,
                 credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                 session_id: str | None = Depends(_cookie)) -> User:
    """The authenticated user; 401 without a valid bearer token or login session."""
    user = _user(request, conn, credentials, session_id)
    if user is None:
        raise Unauthorized("this request needs a token: send Authorization: Bearer <token> (hygiene-map users add)",
                           "此请求需要令牌：请发送 Authorization: Bearer <令牌>（令牌由 hygiene-map users add 生成）")
    return user


def require_writer(user: User = Depends(current_user)) -> User:
    """The authenticated user, unless their role writes nothing (planner → 403)."""
    if user.role == "planner":
        raise Forbidden(f"user {user.name!r} is a planner: a planner reads maps, analyses and figures but handles "
                        "no case, so writes nothing and reads no complainant's contact (a street office, inspector "
                        "or admin account does)",
                        f"用户 {user.name!r} 是规划人员：可查看地图、分析和统计，但不办理工单，不能写入，也不能查看投诉人联系方式"
                        "（需街道办、检查员或管理员账号）")
    return user


async def reader(request: Request,
                 credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                 session_id: str | None = Depends(_cookie)) -> User | None:
    """The caller of a read: a user, or None when reads are open (the default).

    A request without credentials (a map's tiles, mostly) is answered here, on
    the event loop, without a database connection or a worker thread; given
    credentials are looked up on a pooled connection of their own.
    """
    user = None
    if credentials is not None or session_id:
        user = await run_in_threadpool(_looked_up, request, credentials, session_id)
    if user is None and AuthSettings.from_env().reads_need_token:
        raise _unauthorized(request, "reading needs a token on this server: send Authorization: Bearer <token> "
                                     "or log in at /login",
                            "本服务器读取数据需要令牌：请发送 Authorization: Bearer <令牌>，或在 /login 登录")
    return user


def _looked_up(request: Request, credentials: HTTPAuthorizationCredentials | None,
               session_id: str | None) -> User | None:
    with request.app.state.db.connection() as conn:
        user = _user(request, conn, credentials, session_id)
        # Every request with credentials passes here first, on a connection of its own, so the last use is
        # recorded (and committed) here and not in the route's transaction; at most once per GRAIN per account.
        if user is not None and user.use_due:
            with transaction(conn):
                note_use(conn, user.id)
        return user


Reader = Annotated[User | None, Depends(reader)]
Writer = Annotated[User, Depends(require_writer)]
#: The dependency create_app puts on every router but /healthz and the login page.
READS = [Depends(reader)]
