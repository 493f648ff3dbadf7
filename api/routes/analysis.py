"""HTTP: /api/analysis/{coverage|density|hotspots|priority|siting} and the pages /map/{coverage|density|hotspots|priority}.

Each route is built from its analysis's declaration (:mod:`layers.analysis.registry`): its query
parameters, their parsers, its computation and its GeoJSON, the same as ``hygiene-map analyze``.
A parameter an analysis does not take (hot spots asked with ``street=``, which the others take) is
refused naming those it takes, as on every API route (:mod:`api.known_params`): read from the signature
built here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.auth import reader
from api.deps import get_conn, get_lang
from api.limits import COSTLY
from api.routes.session import with_session_bar
from data.errors import InvalidParameter
from layers.analysis.cache import cached_geojson
from layers.analysis.encode import TABLE_TYPES
from layers.analysis.registry import Analysis, Option, load, names

GEOJSON = "application/geo+json"

api = APIRouter(prefix="/api/analysis", tags=["analysis"])
pages = APIRouter(tags=["pages"])


def _signature(options: Iterable[Option], **fixed: inspect.Parameter) -> inspect.Signature:
    """A signature FastAPI reads as these query parameters (raw text: the analysis parses them) plus ``fixed``."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("request", keyword, annotation=Request),
              inspect.Parameter("lang", keyword, annotation=str, default=Depends(get_lang)), *fixed.values()]
    for option in options:
        annotation = list[str] | None if option.kind == "list" else str | None
        params.append(inspect.Parameter(option.name, keyword, annotation=annotation,
                                        default=Query(option.default, description=option.help)))
    return inspect.Signature(params)


#: ``format=`` of /api/analysis/…: the GeoJSON (the default) or the analysis's table as a spreadsheet.
FORMATS = ("geojson", "xlsx", "csv")


def _format(raw: str | None) -> str:
    """The answer's format: geojson when absent; a value not in :data:`FORMATS` is a 422 naming them."""
    if raw is None or raw == "":
        return "geojson"
    if raw not in FORMATS:
        raise InvalidParameter("format", f"must be one of {', '.join(FORMATS)}, not {raw!r}",
                               f"须为 {'、'.join(FORMATS)} 之一，不能是 {raw!r}")
    return raw


def _filename(analysis: Analysis, given, args: dict, fmt: str) -> tuple[str, str]:
    """(an ASCII file name, the same in UTF-8 percent-encoded) of a download: the analysis and the values its query
    ``given`` (the request's parameters) gave, in its parameters' order (``coverage?kind=toilets&by=community`` →
    coverage-toilets-community.xlsx); a switch that is on (``args``, the parsed values) by its name."""
    parts = [analysis.name]
    for option in analysis.options:
        values = [v.strip() for v in given.getlist(option.name) if v.strip()]
        if option.kind == "flag":
            values = [option.name] if args.get(option.name) else []
        if values:
            parts.append("+".join(values))
    name = "-".join(parts)[:120]
    ascii_name = re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or analysis.name
    return f"{ascii_name}.{fmt}", quote(f"{name}.{fmt}", safe="")


def _route(analysis: Analysis) -> Callable[..., Response]:
    def route(request: Request, lang: str, format: str | None = None, **raw) -> Response:
        fmt = _format(format)
        args = analysis.parse(raw)
        body, kept = cached_geojson(request.app.state.db, request.app.state.analysis_cache, analysis, args, lang,
                                    fmt)
        headers = {"X-Analysis-Cache": "hit" if kept else "miss"}
        if fmt == "geojson":
            return Response(body, media_type=GEOJSON, headers=headers)
        plain, encoded = _filename(analysis, request.query_params, args, fmt)
        headers["Content-Disposition"] = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}"
        return Response(body, media_type=TABLE_TYPES[fmt], headers=headers)

    fmt = inspect.Parameter("format", inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
                            default=Query(None, description="geojson (the default), or the table as xlsx or csv "
                                                            "(headers in lang)"))
    route.__signature__ = _signature(analysis.options, format=fmt)
    route.__name__ = f"{analysis.name}_route"
    return route


for _name in names():
    _analysis = load(_name)
    api.add_api_route(f"/{_name}", _route(_analysis), methods=["GET"], summary=_analysis.summary,
                      dependencies=[COSTLY] if _analysis.costly else None)


def _page(analysis: Analysis, shown: tuple[str, ...]) -> Callable[..., HTMLResponse]:
    """The map page of ``analysis`` (layers.web.analysis_page): its parameters ``shown`` are checked here (a
    bad one is a 422, not an empty map) and handed to the page, whose script asks /api/analysis/… with them."""
    options = [o for o in analysis.options if o.name in shown]

    def page(request: Request, lang: str, conn, user, plan: int | None = None, **raw) -> HTMLResponse:
        from data.catalog import area_level, city_info, city_view
        from layers.analysis.plans import for_map
        from layers.web import analysis_controls, analysis_page

        render = getattr(analysis_page, f"{analysis.name}_page")
        args = analysis.parse(raw)
        query = {o.name: _shown(o, raw[o.name], args) for o in options}
        extra = {}
        if "by" in query:  # the level the answer will be by (the analysis's default, else the city's finest)
            query["by"] = query["by"] or area_level(conn, analysis.by_default)
        if analysis.name == "coverage":  # the what-if panel works at the city's finest level
            extra["finest"] = area_level(conn, "community")
        if plan is not None:  # a saved plan opens at its own kind, radius and level: its ids are its layer's
            query, extra["plan"] = for_map(conn, plan, query, raw)
        # The panel's choices, the city's own; counts kept while their tables are unchanged.
        extra["found"] = analysis_controls.choices(conn, analysis.name, request.app.state.analysis_cache)
        center, bounds = city_view(conn)
        html = render(city_info(conn), lang=lang, center=center, bounds=bounds, query={**query, "lang": lang},
                      **extra)
        return HTMLResponse(with_session_bar(html, user, lang, request.url.path + "?" + request.url.query))

    conn = inspect.Parameter("conn", inspect.Parameter.KEYWORD_ONLY, default=Depends(get_conn))
    user = inspect.Parameter("user", inspect.Parameter.KEYWORD_ONLY, default=Depends(reader))
    fixed = {"conn": conn, "user": user}
    if analysis.name == "coverage":  # ?plan=ID: a saved plan opened as the draft (layers.analysis.plans.for_map)
        fixed["plan"] = inspect.Parameter("plan", inspect.Parameter.KEYWORD_ONLY, annotation=int | None,
                                          default=Query(None, ge=1, le=2**63 - 1, description="a saved plan's id"))
    page.__signature__ = _signature(options, **fixed)
    page.__name__ = f"{analysis.name}_page_route"
    return page


def _shown(option: Option, raw, args: dict):
    """A parameter as the page passes it on: a switch as 1 or absent, anything else as given (or its default)."""
    if option.kind == "flag":
        return 1 if args[option.name] else None
    return option.default if raw is None else raw


for _name, _shown_names, _title in (("coverage", ("kind", "radius", "by", "method"), "Coverage gaps map"),
                                    ("hotspots", ("since", "until", "category", "cell", "emerging"),
                                     "Complaint hotspots map"),
                                    ("density", ("kind", "by", "street"), "Facility density map"),
                                    ("priority", ("street", "since", "limit"), "Inspection priority map")):
    pages.add_api_route(f"/map/{_name}", _page(load(_name), _shown_names), methods=["GET"],
                        response_class=HTMLResponse, summary=f"{_title} (zh-CN; ?lang=en)")

#: What create_app registers: the API routes and the map pages.
router = APIRouter()
router.include_router(api)
router.include_router(pages)
