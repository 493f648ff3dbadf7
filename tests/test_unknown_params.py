"""A misspelt query parameter is refused, naming it and the ones the route takes, instead of being ignored.

``/api/complaints?stauts=受理`` used to list every complaint, a tile ``?stret=`` every street's features, a
print ``?lnag=en`` came out in Chinese: a wrong answer that looks right. The API, the tiles and the file routes
now answer 422; pages (a link from a chat app carries ``utm_…`` or ``from=``) and OGC API stay lenient.
Served over Taipei imported from nothing (../shared/real-data: data.taipei, Open Government Data License,
Taiwan 1.0).
"""

from __future__ import annotations

import math
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from api import known_params
from api.app import create_app
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    TAIPEI_STREET,
    taipei,
    taipei_grids,
    taipei_server,
)

#: 大同區's middle, and the zoom a street office looks at it.
CENTRE, ZOOM = (121.513, 25.063), 14


def _tile() -> str:
    n = 2 ** ZOOM
    lon, lat = CENTRE
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/toilets/{ZOOM}/{x}/{y}.pbf"


def _get(city, path: str, html: bool = False, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {city.token}"} | ({"Accept": "text/html"} if html else {})
    return httpx.get(city.base + path, params=params or None, headers=headers, timeout=120)


def _taken(text: str, after: str) -> list[str]:
    """The parameter names a refusal lists after ``after`` (``it takes`` or ``它的参数是``)."""
    return re.split(r", |、", text.split(after, 1)[1].strip())


def _refused(answer: httpx.Response, name: str, path: str, takes: list[str]) -> None:
    """A 422 naming ``name`` on ``path``, listing ``takes`` (and lang, _) in English and in Chinese."""
    shown = answer.text[:300] if "json" in answer.headers.get("content-type", "") else answer.headers
    assert answer.status_code == 422, shown
    body = answer.json()
    assert body["detail"].startswith(f"{name}: {path} takes no parameter '{name}'; it takes "), body
    assert body["detail_zh"].startswith(f"{name}：{path} 没有参数 '{name}'；它的参数是 "), body
    for listed in (_taken(body["detail"], "it takes"), _taken(body["detail_zh"], "它的参数是")):
        assert set(takes) | {"lang", "_"} <= set(listed), listed
        assert name not in listed


def test_a_misspelt_status_on_the_complaints_list_is_refused(taipei_server):
    city = taipei_server
    assert _get(city, "/api/complaints", status="受理").status_code == 200
    _refused(_get(city, "/api/complaints", stauts="受理"), "stauts", "/api/complaints",
             ["status", "street", "grid", "since", "until", "limit", "offset", "q", "overdue", "open"])


def test_a_misspelt_filter_on_a_tile_is_refused_and_lang_and_underscore_are_taken(taipei_server):
    city, path = taipei_server, _tile()
    plain = _get(city, path)
    assert plain.status_code == 200 and plain.content  # 大同區 has public toilets in it
    assert _get(city, path, street=TAIPEI_STREET).status_code == 200
    _refused(_get(city, path, stret=TAIPEI_STREET), "stret", path, ["street", "category", "status", "since", "until"])
    # A browser's cache-busting counter and the language are taken everywhere, and change nothing.
    busted = _get(city, path, _="1701", lang="en")
    assert busted.status_code == 200 and busted.content == plain.content


def test_a_misspelt_language_on_a_print_is_refused_in_the_page_language(taipei_server, taipei_grids):
    city, path = taipei_server, f"/print/grids/{taipei_grids[0]}.pdf"
    english = _get(city, path, lang="en")
    assert english.status_code == 200 and english.content.startswith(b"%PDF")
    _refused(_get(city, path, lnag="en"), "lnag", path, ["paper", "landscape"])
    # Opened from a page's link in a browser: the refusal is a page, Chinese first, English with lang=en.
    zh = _get(city, path, html=True, lnag="en")
    assert zh.status_code == 422 and "页面无法显示" in zh.text and "没有参数 &#x27;lnag&#x27;" in zh.text, zh.text
    en = _get(city, path, html=True, lnag="en", lang="en")
    assert en.status_code == 422 and "This page cannot be shown" in en.text, en.text
    assert "takes no parameter &#x27;lnag&#x27;; it takes paper, landscape" in en.text, en.text


def test_an_analysis_refuses_what_it_does_not_take_and_answers_what_it_does(taipei_server):
    city = taipei_server
    # Its parameters, built from the analysis's declaration at start-up, are all taken, and a browser's
    # cache-busting ``_`` (refused here before, as any other name the analysis did not take).
    answer = _get(city, "/api/analysis/coverage", kind="toilets", by="community", street=TAIPEI_STREET, lang="en",
                  _="1701")
    assert answer.status_code == 200, answer.text
    assert answer.json()["features"]
    # Hot spots take no street (the other analyses do): refused as before, by the one rule now.
    _refused(_get(city, "/api/analysis/hotspots", street=TAIPEI_STREET), "street", "/api/analysis/hotspots",
             ["since", "until", "category", "cell", "emerging"])
    _refused(_get(city, "/api/analysis/coverage", kindd="toilets"), "kindd", "/api/analysis/coverage",
             ["kind", "radius", "by", "street", "method"])


def test_two_unknown_parameters_are_both_named(taipei_server):
    answer = _get(taipei_server, "/api/grids", street=TAIPEI_STREET, sort="code", order="asc")
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("sort, order: /api/grids takes no parameters 'sort', 'order'; "
                                              "it takes street, lang, _"), answer.text


def test_pages_open_with_a_chat_apps_parameters_beside_an_api_that_refuses_them(taipei_server):
    city = taipei_server
    shared = {"from": "groupmessage", "utm_source": "wechat", "isappinstalled": "0"}
    assert _get(city, "/api/grids", street=TAIPEI_STREET, **shared).status_code == 422
    for path, params in (("/map", {}), ("/map/grids", {"street": TAIPEI_STREET}), ("/map/coverage", {}), ("/", {})):
        page = _get(city, path, html=True, **params, **shared)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), (path, page.text)


def test_ogc_api_keeps_its_own_rules_beside_the_strict_api(taipei_server):
    """OGC API – Features says what an extra parameter means (a property filter, ``f``): its routes answer as
    before, the 400 of their own exception format where they refuse one, not this API's 422."""
    city = taipei_server
    assert _get(city, "/api/layers/toilets/features", limit="2", utm_source="wechat").status_code == 422
    plain = _get(city, "/ogc/collections/toilets", f="json")
    extra = _get(city, "/ogc/collections/toilets", f="json", utm_source="wechat")
    assert plain.status_code == extra.status_code == 200
    without_links = [{k: v for k, v in answer.json().items() if k != "links"} for answer in (plain, extra)]
    assert without_links[0] == without_links[1]  # the same collection (its self link repeats the query)
    items = _get(city, "/ogc/collections/toilets/items", limit="2", f="json", utm_source="wechat")
    assert items.status_code == 400 and items.json()["code"] == "InvalidParameterValue", items.text
    assert "takes no parameter" not in items.text


@pytest.fixture(scope="module")
def app_without_city():
    """The app as created, its database unreachable: a refusal comes before anything is read."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
        env.setenv("HYGIENE_MAP_DB_CONNECT_TIMEOUT_S", "1")
        env.delenv("HYGIENE_MAP_READS_NEED_TOKEN", raising=False)
        app = create_app()
        with TestClient(app, raise_server_exceptions=False) as client:
            yield app, client


def _strict_gets(app) -> list[tuple[str, list[str]]]:
    """Every GET of the app's routes under /api, /tiles, /print and of its files, with its query parameters
    (the OpenAPI document is built from app.routes: a route added tomorrow is in it)."""
    out = []
    for path, item in app.openapi()["paths"].items():
        if "get" in item and known_params.strict(path):
            params = [p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"]
            out.append((re.sub(r"\{[^}]+\}", "1", path), params))
    return out


def test_every_api_tile_and_file_route_refuses_an_unknown_parameter_and_takes_its_own(app_without_city):
    """Every such route refuses a name it does not declare, and takes every one it does: those declared inside a
    Depends(...) helper (api.deps) count."""
    app, client = app_without_city
    routes = _strict_gets(app)
    assert len(routes) > 40 and any(p.startswith("/tiles/") for p, _ in routes)
    assert any(p.startswith("/api/analysis/") and q for p, q in routes)
    assert "/plans/1.pdf" in [p for p, _ in routes]  # a file beside its page: strict, the page is not
    assert not known_params.strict("/plans/1") and not known_params.strict("/map/coverage")
    for path, params in routes:
        answer = client.get(path, params={"zz_unknown": "1", "lang": "en"})
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["detail"].startswith(f"zz_unknown: {path} takes no parameter 'zz_unknown'"), answer.text
        answer = client.get(path, params={name: "1" for name in [*params, "_"]})
        assert "takes no parameter" not in answer.text, (path, answer.text)
