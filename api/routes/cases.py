"""The case page (/cases, 工单办理) where a street office works its complaints through the complaint API."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.auth import Reader
from api.deps import Conn, Lang
from api.routes.public import PAGE_CSP
from data.catalog import event_types, streets
from data.vocab import city_tz
from layers.web.cases_page import PATH, WORDS, cases_html, login_html
from layers.workflow.access import User
from layers.workflow.photos import PHONE_PX

router = APIRouter(tags=["pages"])
_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "private, no-cache"}


def _street_names(conn, lang: str) -> dict[str, str]:
    return {s["code"]: (s["name_en"] if lang == "en" and s.get("name_en") else s["name"]) for s in streets(conn)}


def scope_text(conn, user: User, lang: str) -> str:
    """What the user handles, as the page's header says it: a street by its name and code (中西區（11）), for a
    street office knows its street by name; grids, everything or read only as :meth:`User.scope_text` says."""
    name = _street_names(conn, lang).get(user.street_code or "")
    if user.role == "street" or (user.role == "inspector" and not user.grid_codes):
        if name:
            return f"街道 {name}（{user.street_code}）" if lang == "zh" else f"street {name} ({user.street_code})"
    return user.scope_text(lang)


def scopes(conn, user: User, lang: str) -> list[dict]:
    """The lists the user picks from: a street user its street, an inspector its grids (or its street), a
    city-wide user every street (or all of them). Each is a query parameter of ``GET /api/complaints``."""
    names = _street_names(conn, lang)
    if user.role == "inspector" and user.grid_codes:
        return [{"param": "grid", "value": g, "label": g} for g in user.grid_codes]
    if user.street_code:
        return [{"param": "street", "value": user.street_code,
                 "label": f"{names.get(user.street_code, '')} {user.street_code}".strip()}]
    every = [{"param": "street", "value": code, "label": f"{name} {code}"} for code, name in names.items()]
    return [{"param": "", "value": "", "label": WORDS[lang]["all_streets"]}, *every]


@router.get(PATH, response_class=HTMLResponse,
            summary="The case page: a street office moves its complaints and asks for more time (zh; ?lang=en)")
def cases_page(user: Reader, conn: Conn, lang: Lang):
    if user is None:  # a staff page: it says so and links the login, which brings the user back
        return HTMLResponse(login_html(lang), headers=_HEADERS)
    config = {"user": {"name": user.name, "role": user.role, "scope": scope_text(conn, user, lang)},
              "scopes": scopes(conn, user, lang), "writes": user.role != "planner",
              "time_zone": city_tz().key, "photo_px": PHONE_PX,
              "categories": dict(event_types(conn, lang))}  # each event type's name in the page language
    return HTMLResponse(cases_html(lang, config), headers=_HEADERS)
