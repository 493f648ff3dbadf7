"""The FastAPI application: created by a factory, settings read at start-up."""

from __future__ import annotations

import html
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api import errors as api_errors
from api import known_params
from api.auth import READS, Reader
from api.deps import Conn, Lang
from api.middleware import RequestGuard
from api.routes import analysis as routes_analysis
from api.routes import cases as routes_cases
from api.routes import data as routes_data
from api.routes import field as routes_field
from api.routes import layers as routes_layers
from api.routes import ogc as routes_ogc
from api.routes import ogc_tiles as routes_ogc_tiles
from api.routes import open311 as routes_open311
from api.routes import pages as routes_pages
from api.routes import plans as routes_plans
from api.routes import prints as routes_print
from api.routes import public as routes_public
from api.routes import public_keep as routes_public_keep
from api.routes import public_places as routes_public_places
from api.routes import reports as routes_reports
from api.routes import session as routes_session
from api.routes.complaints import router as complaints_router
from api.routes.grids import router as grids_router
from api.routes.inspections import router as inspections_router
from api.routes.session import with_session_bar
from data.catalog import city_info, streets
from data.db import Database
from data.db_async import AsyncPool
from data.errors import DatabaseUnavailable, DatabaseUnreachable, SetupError
from data.settings import DatabaseSettings
from data.vocab import city_tz
from layers.analysis.cache import AnswerCache
from layers.spec.registry import LAYERS
from layers.store.summary import layer_counts, server_versions


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """Build the app. The database is reached lazily, so the app starts even while it is down."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.db = Database(settings or DatabaseSettings.from_env())
        app.state.async_db = AsyncPool(app.state.db)  # anonymous tiles, on the event loop
        app.state.analysis_cache = AnswerCache()
        yield
        app.state.db.close()
        app.state.async_db.close()

    app = FastAPI(
        title="hygiene-map",
        description="卫生城市创建 GIS 服务：公厕与垃圾收集点覆盖、投诉热点、网格责任与巡查图件。",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from the app's own files, not a CDN
        redoc_url=None,
        # Every route first: /api, /tiles and file routes refuse a query parameter they do not take (pages do not).
        dependencies=[known_params.KNOWN_ONLY],
    )
    api_errors.install(app)
    app.state.client_window = routes_public.ClientWindow()  # the public channel's per-client limits
    app.add_middleware(RequestGuard)
    _include_routers(app)
    _install_docs(app)  # open: the API's description, no city data

    @app.get("/healthz", tags=["service"], summary="Service and database health")
    def healthz():
        try:
            with app.state.db.connection() as conn:
                versions = server_versions(conn)
        except DatabaseUnavailable as exc:
            return JSONResponse({"status": "unavailable", "detail": _health_detail(exc)}, status_code=503,
                                headers={"Retry-After": "5"})
        except SetupError as exc:  # reached, but its migrations are not this code's (data.db.Database)
            return JSONResponse({"status": "schema", "detail": exc.message, "detail_zh": exc.zh}, status_code=503,
                                headers={"Retry-After": "5"})
        return {"status": "ok", "database": "ok", **versions}

    @app.get("/", response_class=HTMLResponse, tags=["pages"], summary="Index page of this city")
    def index(request: Request, lang: Lang, user: Reader, conn: Conn):
        page = _index_html(city_info(conn), layer_counts(conn), lang, streets(conn))
        return HTMLResponse(with_session_bar(page, user, lang, str(request.url.path)))

    return app


def _include_routers(app: FastAPI) -> None:
    """Every route of the service, the open ones first."""
    # Every router reads through api.auth.reader (READS): with HYGIENE_MAP_READS_NEED_TOKEN=1 nothing answers
    # without credentials but /healthz, the static files and the login page (tests/test_access_everywhere.py).
    app.include_router(routes_session.router)
    # The public channel and its Open311 interface answer residents, who have no account, even then
    # (HYGIENE_MAP_PUBLIC_CHANNEL=0 closes them; posting to Open311 takes a partner channel's api_key).
    app.include_router(routes_public.router)
    app.include_router(routes_public_places.router)
    app.include_router(routes_public_keep.router)
    app.include_router(routes_open311.router)
    for router in (routes_layers.router, routes_ogc.router, routes_ogc_tiles.router, grids_router,
                   complaints_router, routes_public.staff_router, routes_analysis.router, routes_data.router,
                   routes_print.router, inspections_router, routes_reports.router, routes_field.router,
                   routes_plans.router, routes_cases.router):
        app.include_router(router, dependencies=READS)
    routes_pages.install(app, READS)
    app.router.routes.insert(0, routes_layers.AnonymousTileRoute())  # before /tiles' own route: see its docstring


def _health_detail(exc: DatabaseUnavailable) -> str:
    """Why /healthz is 503: a monitor is told why, not where (the address and the driver's reason go to the log)."""
    if isinstance(exc, DatabaseUnreachable):
        api_errors.log.warning("healthz: %s", exc.message)
        return "cannot connect to the database"
    return exc.message


_SAME_HOST_ONLY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                   "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:")


def _install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from the pinned npm packages the app serves itself (intranets reach no CDN)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

    from api.static import REDOC_JS
    from layers.web.assets import STATIC_PREFIX

    vendor = STATIC_PREFIX + "/vendor"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} – API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{vendor}/swagger-ui-dist/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui-dist/swagger-ui.css",
            swagger_favicon_url="data:,")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect():
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        page = get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} – API",
                              redoc_js_url=REDOC_JS,
                              redoc_favicon_url="data:,", with_google_fonts=False)
        # Whatever a future ReDoc might fetch from elsewhere, the browser is told not to leave this host.
        page.headers["Content-Security-Policy"] = _SAME_HOST_ONLY
        return page


_TEXT = {
    "zh": {"title": "hygiene-map 卫生城市创建地图", "layers": "图层", "layer": "图层", "count": "要素数",
           "demo": "演示数据（虚构城市）", "no_city": "尚未加载城市数据：运行 hygiene-map demo 或 hygiene-map import。",
           "about": "约", "other": "English", "other_lang": "en", "data_time": "数据时间",
           "maps": "地图", "map": "总览图（全部图层）", "coverage": "公厕与垃圾收集点服务盲区", "hotspots": "投诉热点",
           "density": "设施设置密度（对照规划标准）", "priority": "网格巡查优先级（先查哪些网格）", "plans": "设施规划方案（模拟与对比）",
           "reports": "工作通报（周、月、季、年：街道和责任单位排名、红黑榜）",
           "grids": "网格责任", "prints": "打印图件", "atlas": "街道巡查图册 (PDF)", "street": "街道",
           "no_grids": "尚未划分网格，无巡查图册（hygiene-map grids generate）",
           "cases": "工单办理（街道办、网格员：受理、立案、派遣、延期申请）", "cases_short": "工单办理",
           "report": "群众反映问题：拍照、定位、提交，凭查询码查看办理进度（无需注册）"},
    "en": {"title": "hygiene-map — hygiene campaign maps", "layers": "Layers", "layer": "Layer", "count": "Features",
           "demo": "Demo data (fictional city)", "no_city": "No city loaded yet: run hygiene-map demo or hygiene-map import.",
           "about": "about", "other": "中文", "other_lang": "zh", "data_time": "Data as of",
           "maps": "Maps", "map": "Overview map (every layer)", "coverage": "Toilet and garbage point coverage gaps",
           "hotspots": "Complaint hotspots", "density": "Facility density against the planning standards",
           "priority": "Grid inspection priority (which grids first)", "plans": "Facility plans (what-if and comparison)",
           "reports": "Bulletins (week, month, quarter, year: streets and units ranked, red and black lists)", "grids": "Grid responsibilities", "prints": "Prints",
           "atlas": "Street inspection atlas (PDF)", "street": "Street",
           "no_grids": "no grids yet, so no atlas (hygiene-map grids generate)",
           "cases": "Case handling (street offices and inspectors: move complaints, ask for more time)",
           "cases_short": "Cases",
           "report": "Residents: report a problem with a photo and follow it by its tracking number (no account)"},
}


def _maps_html(t: dict, lang: str, streets: list[dict]) -> str:
    """Links to every map, and per street to its map, grid map and atlas."""
    esc = html.escape
    q = "?lang=en" if lang == "en" else ""
    amp = "&lang=en" if lang == "en" else ""
    maps = [("/map" + q, t["map"]), ("/map/coverage" + q, t["coverage"]), ("/map/hotspots" + q, t["hotspots"]),
            ("/map/density" + q, t["density"]), ("/map/priority" + q, t["priority"]),
            ("/plans" + q, t["plans"]), ("/reports" + q, t["reports"])]
    items = "".join(f'<li><a data-map href="{href}">{esc(label)}</a></li>' for href, label in maps)
    items += f'<li><a data-page href="/cases{q}">{esc(t["cases"])}</a></li>'
    rows = []
    for s in streets:
        name = s["name_en"] if lang == "en" and s.get("name_en") else s["name"]
        rows.append(
            f'<tr data-street="{s["code"]}"><td>{esc(name)}</td><td><code>{s["code"]}</code></td>'
            f'<td><a data-map href="/map?street={s["code"]}{amp}">{esc(t["map"])}</a></td>'
            f'<td><a data-map href="/map/grids?street={s["code"]}{amp}">{esc(t["grids"])}</a> · '
            f'<a data-page href="/cases?street={s["code"]}{amp}">{esc(t["cases_short"])}</a></td>'
            + (f'<td><a data-print href="/print/streets/{s["code"]}/atlas.pdf{q}">{esc(t["atlas"])}</a></td></tr>'
               if s.get("grids") else f'<td class="sub" data-no-grids>{esc(t["no_grids"])}</td></tr>')
        )
    table = (f"<table><thead><tr><th>{esc(t['street'])}</th><th></th><th>{esc(t['maps'])}</th><th></th>"
             f"<th>{esc(t['prints'])}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>") if rows else ""
    return f"<h2>{esc(t['maps'])}</h2><ul>{items}</ul>{table}"


def _index_html(city: dict | None, counts: dict[str, tuple[int, bool]], lang: str,
                streets: list[dict] | None = None) -> str:
    t = _TEXT[lang]
    esc = html.escape
    if city:
        name = city["name_en"] if lang == "en" and city.get("name_en") else city["name"]
        heading = esc(name)
        notes = []
        if city.get("is_demo"):
            notes.append(esc(t["demo"]))
        if city.get("data_time"):
            notes.append(f"{esc(t['data_time'])}: {city['data_time'].astimezone(city_tz()):%Y-%m-%d}")  # the city's day
        sub = " · ".join(notes)
    else:
        heading, sub = esc(t["title"]), esc(t["no_city"])
    rows = []
    for spec in LAYERS:
        n, exact = counts.get(spec.id, (0, True))
        shown = f"{n:,}" if exact else f"{t['about']} {n:,}"
        rows.append(
            f'<tr data-layer="{spec.id}"><td title="{spec.id}">{esc(spec.name(lang))}</td>'
            f'<td class="n" data-count="{n}">{shown}</td></tr>'
        )
    # On a phone the streets' names and links keep to one line each and a table wider than the screen scrolls in its
    # own box, not the page (a name one character a line, or a page wider than the phone, is hard to read).
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(t['title'])}</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}}
td.n{{text-align:right}}.sub{{color:#666}}h1{{overflow-wrap:anywhere}}
tr[data-street] td:not(.sub){{white-space:nowrap}}tr[data-street] td.sub{{min-width:12em}}
@media screen{{table{{display:block;max-width:100%;overflow-x:auto}}}}
@media (max-width:600px){{body{{margin:1em .8em}}}}</style></head>
<body><p style="float:right"><a href="?lang={t['other_lang']}">{t['other']}</a></p>
<h1>{heading}</h1><p class="sub">{sub}</p>
<p><a id="report-link" href="/report{'?lang=en' if lang == 'en' else ''}">{esc(t['report'])}</a></p>
<h2>{esc(t['layers'])}</h2>
<table><thead><tr><th>{esc(t['layer'])}</th><th>{esc(t['count'])}</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
{_maps_html(t, lang, streets or [])}
<p class="sub"><a href="/docs">API (OpenAPI)</a> · <a href="/healthz">/healthz</a></p>
</body></html>"""
