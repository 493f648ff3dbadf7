"""HTTP: /api/analysis/coverage|density|hotspots|priority|siting (analysis in geo/, encoding in layers/)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import get_conn, get_lang
from data.errors import InvalidParameter
from layers.analysis import encode as analysis_io
from layers.analysis.cache import COMPLAINT_TABLES, PLACE_TABLES, data_stamp, standards_stamp

api = APIRouter(prefix="/api/analysis", tags=["analysis"])
pages = APIRouter(tags=["pages"])

#: Dates without a time zone are read in China Standard Time.
CST = timezone(timedelta(hours=8))
GEOJSON = "application/geo+json"


def parse_when(name: str, raw: str | None) -> datetime | None:
    """An ISO date or date-time; naive values are China Standard Time."""
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(raw), time())
        except ValueError:
            raise InvalidParameter(name, f"{raw!r} is not an ISO date (2026-01-31) or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=CST)


def get_window(since: str | None = Query(None, description="ISO date or date-time, inclusive"),
               until: str | None = Query(None, description="ISO date or date-time, exclusive")):
    return parse_when("since", since), parse_when("until", until)


def get_categories(category: list[str] | None = Query(None, description="event type name(s); repeat or comma-separate")):
    if not category:
        return None
    return [c.strip() for part in category for c in part.split(",") if c.strip()] or None


def _answer(request: Request, tables: tuple[str, ...], compute) -> Response:
    """The analysis answer for this request: kept while ``tables`` are unchanged (see layers.analysis.cache).

    The stamp is read on a connection given back at once, and ``compute(conn)``
    gets its own only when it runs: requests waiting for an identical one
    under way hold no connection. Computing after the stamp was read can only
    see newer data than the stamp says, never older.
    """
    db = request.app.state.db
    with db.connection() as conn:
        key = (request.url.path, tuple(sorted(request.query_params.multi_items())), data_stamp(conn, tables),
               standards_stamp())

    def run() -> bytes:
        with db.connection() as conn:
            return compute(conn)

    body, kept = request.app.state.analysis_cache.answer(key, run)
    return Response(body, media_type=GEOJSON, headers={"X-Analysis-Cache": "hit" if kept else "miss"})


@api.get("/coverage", summary="Covered area and population per area; gap polygons with gaps=1")
def coverage_route(request: Request, kind: str = Query("toilets", description="toilets, garbage_points, collection_stations, "
                                     "transfer_stations, markets, health_trails"),
                   radius: float | None = Query(None, description="metres; default: the kind's standard"),
                   by: str = Query("community", description="district, street, community, grid, urban_village"),
                   gaps: bool = Query(False), street: str | None = Query(None, description="area code prefix"),
                   method: str = Query("straight", description="straight (service radius) or walk (along roads)"),
                   lang: str = Depends(get_lang)):
    from geo.coverage import coverage

    def compute(conn) -> bytes:
        result = coverage(conn, kind, radius, by, gaps=gaps, code_prefix=street, method=method)
        return analysis_io.coverage_features(result, lang, gaps)

    return _answer(request, PLACE_TABLES, compute)


@api.get("/hotspots", summary="Gi* hotspots of complaints on hexagons (count, gi_z, gi_p, gi_bin)")
def hotspots_route(request: Request, window=Depends(get_window), categories=Depends(get_categories),
                   cell: float | None = Query(None, description="hexagon edge length in metres; default from the data"),
                   per_population: bool = Query(False, description="Gi* on complaints per 10,000 residents"),
                   emerging: bool = Query(False, description="add the monthly trend pattern per cell"),
                   lang: str = Depends(get_lang)):
    from geo import hotspots as hs

    since, until = window

    def compute(conn) -> bytes:
        if emerging:
            result, patterns, _ = hs.emerging(conn, since=since, until=until, categories=categories, cell_m=cell)
            return analysis_io.hotspot_features(result, lang, patterns)
        result = hs.hotspots(conn, since=since, until=until, categories=categories, cell_m=cell,
                             per_population=per_population)
        return analysis_io.hotspot_features(result, lang)

    return _answer(request, COMPLAINT_TABLES, compute)


@api.get("/density", summary="Facilities per km² and per 10,000 residents, judged against the standards")
def density_route(request: Request, kind: str = Query("toilets"), by: str = Query("street"), street: str | None = Query(None),
                  lang: str = Depends(get_lang)):
    from geo.density import density

    def compute(conn) -> bytes:
        result = density(conn, kind, by, code_prefix=street)
        feats = [(r["geometry"], {k: v for k, v in r.items() if k != "geometry"}) for r in result["rows"]]
        return analysis_io.feature_collection(
            feats, kind=kind, by=by, rules=[r.as_dict(lang) for r in result["rules"]], summary=result["summary"])

    return _answer(request, PLACE_TABLES, compute)


@api.get("/priority", summary="Inspection priority per grid, every component shown")
def priority_route(request: Request, street: str | None = Query(None, description="street code"), window=Depends(get_window),
                   limit: int | None = Query(None, ge=1, le=100_000)):
    from geo.priority import grid_places, priority

    def compute(conn) -> bytes:
        # Its per-grid place part (coverage, markets, urban villages) reads no complaints: kept while the
        # places stand, though complaints keep coming.
        places, _ = request.app.state.analysis_cache.answer(
            ("priority grid places", street, data_stamp(conn, PLACE_TABLES), standards_stamp()),
            lambda: grid_places(conn, street), size=lambda places: 600 * len(places["grids"]))
        result = priority(conn, street=street, since=window[0], limit=limit, places=places)
        feats = [(r["geometry"], {k: v for k, v in r.items() if k != "geometry"}) for r in result["rows"]]
        return analysis_io.feature_collection(feats, weights=result["weights"],
                                              hotspot_cell_m=result["hotspot_cell_m"])

    return _answer(request, COMPLAINT_TABLES, compute)


@api.get("/siting", summary="K new sites on roads that cover the most residents not yet covered")
def siting_route(request: Request, kind: str = Query("toilets"), add: int = Query(5), street: str | None = Query(None),
                 radius: float | None = Query(None), lang: str = Depends(get_lang)):
    from geo.siting import siting

    def compute(conn) -> bytes:
        result = siting(conn, kind, add, radius_m=radius, street=street)
        feats = [(s["disc"], {k: v for k, v in s.items() if k not in ("disc",)}) for s in result["sites"]]
        rule = result["rule"].as_dict(lang) if result["rule"] else None
        return analysis_io.feature_collection(feats, before=result["before"], after=result["after"],
                                              radius_m=result["radius_m"], rule=rule)

    return _answer(request, PLACE_TABLES, compute)


@pages.get("/map/coverage", response_class=HTMLResponse, summary="Coverage gaps map (zh-CN; ?lang=en)")
def coverage_page_route(kind: str = Query("toilets"), radius: float | None = Query(None),
                        by: str = Query("community"), method: str = Query("straight"),
                        lang: str = Depends(get_lang), conn=Depends(get_conn)):
    from data.catalog import city_info, city_view
    from geo.coverage import LEVELS, resolve
    from layers.web.analysis_page import coverage_page

    resolve(kind, radius)  # a bad kind or radius is a 422 here, not an empty map
    if by not in LEVELS:
        raise InvalidParameter("by", f"must be one of {', '.join(LEVELS)}, not {by!r}")
    if method not in ("straight", "walk"):
        raise InvalidParameter("method", f"must be straight or walk, not {method!r}")
    center, bounds = city_view(conn)
    query = {"kind": kind, "radius": radius, "by": by, "method": method, "lang": lang}
    return HTMLResponse(coverage_page(city_info(conn), lang=lang, center=center, bounds=bounds, query=query))


@pages.get("/map/hotspots", response_class=HTMLResponse, summary="Complaint hotspots map (zh-CN; ?lang=en)")
def hotspots_page_route(since: str | None = Query(None), until: str | None = Query(None),
                        category: list[str] | None = Query(None), cell: float | None = Query(None),
                        emerging: bool = Query(False), lang: str = Depends(get_lang), conn=Depends(get_conn)):
    from data.catalog import city_info, city_view
    from geo.hotspots import MAX_CELL_M, MIN_CELL_M
    from layers.web.analysis_page import hotspots_page

    parse_when("since", since)
    parse_when("until", until)
    if cell is not None and not (MIN_CELL_M <= cell <= MAX_CELL_M):
        raise InvalidParameter("cell", f"must be between {MIN_CELL_M:g} and {MAX_CELL_M:g} metres, not {cell:g}")
    center, bounds = city_view(conn)
    query = {"since": since, "until": until, "category": category, "cell": cell,
             "emerging": 1 if emerging else None, "lang": lang}
    return HTMLResponse(hotspots_page(city_info(conn), lang=lang, center=center, bounds=bounds, query=query))


#: What create_app registers: the API routes and the two pages.
router = APIRouter()
router.include_router(api)
router.include_router(pages)
