"""Page login: /login trades a token (from `hygiene-map users add`) for a session cookie; /logout ends it.

The cookie holds a random session id (its digest is in the ``sessions``
table), never the token: HttpOnly (no script reads it), SameSite=Strict (no
other site sends it) and Secure when the request came over https. Writes
made with the cookie carry the session's CSRF token (api/auth.py); the
token is given to pages by ``GET /api/session``.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import SESSION_COOKIE, Reader
from api.deps import Conn, Lang, Transaction
from data.db import transaction
from data.settings import AccessSettings
from layers.workflow.access import User
from layers.workflow.sessions import end_session, start_session

router = APIRouter(tags=["session"])

#: The roles in Chinese (the login page, and refusals naming a user's role).
ROLES_ZH = {"admin": "管理员", "planner": "规划人员", "street": "街道办", "inspector": "检查员"}
_TEXT = {
    "zh": {"title": "登录", "token": "令牌（管理员发给您的令牌）", "submit": "登录",
           "bad": "令牌无效或已停用。", "other": "English", "other_lang": "en", "as": "已登录", "logout": "退出",
           "leave": "退出登录", "leave_q": "退出登录？本机将不再保持您的登录。", "roles": ROLES_ZH},
    "en": {"title": "Log in", "token": "Token (the one your administrator gave you)", "submit": "Log in",
           "bad": "The token is unknown or disabled.", "other": "中文", "other_lang": "zh", "as": "Logged in as",
           "logout": "Log out", "leave": "Log out",
           "leave_q": "Log out? This computer will no longer keep you logged in.",
           "roles": {"admin": "admin", "planner": "planner", "street": "street office", "inspector": "inspector"}},
}


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no //other.host, no scheme): an open redirect is a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form_page(lang: str, target: str, error: bool = False) -> str:
    t, esc = _TEXT[lang], html.escape
    message = f'<p class="error" role="alert">{esc(t["bad"])}</p>' if error else ""
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(t['title'])} · hygiene-map</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;max-width:36em}}
input[type=password]{{width:100%;padding:.4em}}.error{{color:#b00}}</style></head>
<body><p style="float:right"><a href="/login?lang={t['other_lang']}&amp;next={esc(quote(target, safe='/'))}">{t['other']}</a></p>
<h1>{esc(t['title'])}</h1>{message}
<form method="post" action="/login"><label for="token">{esc(t['token'])}</label>
<p><input id="token" name="token" type="password" autocomplete="current-password" required></p>
<input type="hidden" name="next" value="{esc(target)}"><input type="hidden" name="lang" value="{lang}">
<p><button type="submit">{esc(t['submit'])}</button></p></form></body></html>"""


@router.get("/login", response_class=HTMLResponse, summary="Login form: paste your token (zh-CN; ?lang=en)")
def login_form(lang: Lang, next: str | None = None):  # noqa: A002 - the parameter's public name
    return HTMLResponse(_form_page(lang, _safe_next(next)))


@router.post("/login", response_class=HTMLResponse, summary="Trade a token for a session cookie")
async def login(request: Request):
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    lang = "en" if form.get("lang") == "en" else "zh"
    target = _safe_next(form.get("next"))
    settings = AccessSettings.from_env()
    with request.app.state.db.connection() as conn, transaction(conn):
        started = start_session(conn, (form.get("token") or "").strip(), settings.session_hours)
    if started is None:
        return HTMLResponse(_form_page(lang, target, error=True), status_code=401)
    session_id, _ = started
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=settings.session_hours * 3600, httponly=True,
                        samesite="strict", secure=_https(request), path="/")
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


@router.get("/logout", response_class=HTMLResponse, summary="Log-out page: one button that logs out (zh-CN; ?lang=en)")
def logout_page(lang: Lang):
    """A link to /logout (README, a bookmark) opens a page asking to confirm: logging out stays a POST, so that no
    link or image of another page ends a session by being loaded."""
    t, esc = _TEXT[lang], html.escape
    return HTMLResponse(f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(t['leave'])} · hygiene-map</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;max-width:36em}}</style></head>
<body><p style="float:right"><a href="/logout?lang={t['other_lang']}">{t['other']}</a></p>
<h1>{esc(t['leave'])}</h1><p>{esc(t['leave_q'])}</p>
<form method="post" action="/logout"><p><button id="hm-leave" type="submit">{esc(t['leave'])}</button></p></form>
</body></html>""")


@router.post("/logout", summary="End the login session and forget its cookie")
def logout(request: Request, conn: Transaction):
    # No CSRF check needed: the SameSite=Strict cookie is not sent from other sites, and ending
    # one's own session harms nobody.
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        end_session(conn, session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_https(request))
    # What the browser kept of the session's answers goes with it (tiles read earlier, pages): on a shared office
    # computer the next person is served none of it. Only the HTTP cache: the field page's offline map stays.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@router.get("/api/session", summary="Who is logged in, and the CSRF token the page's writes carry")
def who(request: Request, user: Reader, conn: Conn):
    session = getattr(request.state, "session", None)
    if user is None:
        return {"user": None}
    return {"user": user.name, "role": user.role, "scope": user.scope_text(),
            "csrf_token": session.csrf_token if session else None}


_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
# Its own width (max-content): centred by left 50 %, it would otherwise wrap at half the window's width, two lines
# high on a phone and over what is above it.
_BAR_STYLE = ("position:fixed;bottom:6px;left:50%;transform:translateX(-50%);z-index:10000;background:#fff;"
              "border:1px solid #bbb;border-radius:3px;padding:2px 8px;font:12px sans-serif;width:max-content;"
              "max-width:calc(100vw - 28px);box-sizing:border-box")


# Not on paper: a printed map or plan has no use for the buttons. On a phone the bar would cover a map's scale
# (bottom left): raised above it. A page of text and tables (no map: the index, the plans, the bulletin) ends with
# room for the bar, so that its last line can be scrolled out from under it (a browser without :has() keeps the
# raised bar and no room). On a phone such a page is scrolled through, and a bar fixed at the window's foot lies on
# whatever passes under it (the index's map links): there it is the page's first line instead, at its right.
_PLAIN = "body:not(:has(.folium-map)):not(:has(.leaflet-container))"
_BAR_CSS = ("@media print{.hm-session{display:none}}"
            "@media (max-width:600px){.hm-session{bottom:36px!important}"
            f"{_PLAIN} .hm-session{{position:static!important;transform:none!important;margin:0 0 .5em auto}}}}"
            "@media screen{body:not(:has(.folium-map)){padding-bottom:40px}}")


def with_session_bar(page: str, user: User | None, lang: str, here: str) -> str:
    """A page with who is logged in and a logout button (or a login button) at the foot of the window (on a phone, a
    map page with a title bar shows it at the end of that bar instead: layers/web/static/map.css)."""
    t, esc = _TEXT[lang], html.escape
    # Buttons of small forms: logging out is a POST (no link a crawler or a prefetch could follow).
    if user is not None:
        role = esc(t["roles"].get(user.role, user.role))
        inner = (f'<span class="hm-as">{esc(t["as"])}</span> <b id="hm-user">{esc(user.name)}</b> ({role}) '
                 f'<button id="hm-logout" type="submit">{esc(t["logout"])}</button>')
        form = f'<form method="post" action="/logout" style="margin:0">{inner}</form>'
    else:
        form = (f'<form method="get" action="/login" style="margin:0"><input type="hidden" name="next" '
                f'value="{esc(here)}"><input type="hidden" name="lang" value="{lang}">'
                f'<button id="hm-login" type="submit">{esc(t["title"])}</button></form>')
    bar = f'<style>{_BAR_CSS}</style><div class="hm-session" style="{_BAR_STYLE}">{form}</div>'
    match = _BODY.search(page)
    return page[:match.end()] + bar + page[match.end():] if match else page + bar
