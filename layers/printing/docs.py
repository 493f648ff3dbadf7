"""Printed documents: a grid sheet, a street atlas, an inspection route.

Each document is loaded and planned first (data read, checklists split into
pages, page numbers known, so an atlas index and neighbour labels can refer
to pages): :func:`grid_document`, :func:`atlas_document` and
:func:`route_document` return a :class:`Document` that lists every page and
the checklist entries on it. :meth:`Document.write` then draws it page by
page into one vector PDF.

Transactions: the loaders only read, with the caller's connection, and
leave its transaction to the caller, which owns it. Loading and drawing are
two steps so that the caller can end its read transaction in between:
drawing needs no database and takes seconds (minutes for an atlas), and a
transaction left open that long keeps its snapshot and table locks (vacuum
waits behind it, and so would a demo reload's TRUNCATE).
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely

from data.errors import InvalidParameter
from data.said import plural
from data.settings import LinkSettings, PrintSettings
from data.vocab import city_tz
from geo.tour import open_tour
from layers.printing import data as data
from layers.printing import page_data
from layers.printing.page import PageContext
from layers.printing.pdf import Progress, no_progress, write_pdf
from layers.printing.sheets import continuation_rows, first_page_rows, grid_layout, grid_title
from layers.printing.street_pages import index_rows_per_page, street_title
from layers.printing.style import PAPERS_MM, TEXT, Paper
from layers.workflow.access import OPERATOR, User


@dataclass
class PrintOptions:
    """How to print: paper, orientation, language, who prints (whose columns the sheets show),
    and the base URL its QR codes open.

    ``base_url`` None: HYGIENE_MAP_PUBLIC_URL, else the local default (LinkSettings.fallback_url);
    a print asked for over HTTP passes the request's checked base URL (api.urls.base_url).
    """

    paper: str = "A4"
    landscape: bool = False
    lang: str = "zh"
    viewer: User | None = OPERATOR  # the command line reads all; HTTP passes its caller
    base_url: str | None = None

    def __post_init__(self):
        if self.paper not in PAPERS_MM:
            raise InvalidParameter("paper", f"must be one of {', '.join(PAPERS_MM)}, not {self.paper!r}",
                                   f"须为 {'、'.join(PAPERS_MM)} 之一，不能是 {self.paper!r}")
        if self.lang not in ("zh", "en"):
            raise InvalidParameter("lang", f"must be zh or en, not {self.lang!r}", f"须为 zh 或 en，不能是 {self.lang!r}")

    @property
    def sheet(self) -> Paper:
        return Paper(self.paper, self.landscape)


@dataclass
class PrintedPage:
    """One page of a document: what it is, its grid, and its checklist entries (number, layer, id)."""

    number: int
    kind: str  # cover, index, route, grid, checklist
    grid_code: str | None = None
    items: list[tuple[int, str, int]] = field(default_factory=list)


@dataclass
class Document:
    """A document ready to draw: every page's data loaded and numbered; drawing needs no database."""

    ctx: PageContext
    street: data.Street
    specs: list[tuple]  # one per page, see layers.printing.pdf.draw_spec
    pages: list[PrintedPage]
    title: str
    settings: PrintSettings
    note: str | None = None  # what the command says after writing it (a route of fewer stops than asked)

    def write(self, out, progress: Progress = no_progress) -> None:
        """Draw the document as a PDF at ``out`` (a path or a binary file)."""
        write_pdf(out, self.ctx, self.settings, self.title, self.street, self.specs, progress)

    def to_bytes(self) -> bytes:
        """The PDF, in memory."""
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()


@dataclass
class _GridPlan:
    page: data.PageData
    numbers: dict[tuple[str, int], int]
    chunks: list[list[data.Feature]]  # checklist rows of the sheet, then of each continuation page
    stop_label: str | None = None

    @property
    def page_count(self) -> int:
        return len(self.chunks)


@functools.lru_cache(maxsize=8)
def _to_lonlat(srid: int):
    from pyproj import Transformer

    return Transformer.from_crs(srid, 4326, always_xy=True), Transformer.from_crs(4326, srid, always_xy=True)


def north_angle(srid: int, x: float, y: float) -> float:
    """Direction of true north at (x, y), in degrees clockwise from the CRS's grid north."""
    inverse, forward = _to_lonlat(srid)
    lon, lat = inverse.transform(x, y)
    x2, y2 = forward.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(x2 - x, y2 - y))


#: The metric CRSs a city is given (data.catalog.metric_crs) by their EPSG names, as Chinese maps name them.
_CRS_ZH = (
    (re.compile(r"CGCS2000 / ([36])-degree Gauss-Kruger CM (\d+)E"), "CGCS2000 {0}度带高斯-克吕格投影 中央经线东经{1}°"),
    (re.compile(r"CGCS2000 / ([36])-degree Gauss-Kruger zone (\d+)"), "CGCS2000 {0}度带高斯-克吕格投影 第{1}带"),
    (re.compile(r"WGS 84 / UTM zone (\d+)N"), "WGS 84 UTM投影 北半球第{0}带"),
    (re.compile(r"WGS 84 / UTM zone (\d+)S"), "WGS 84 UTM投影 南半球第{0}带"),
    (re.compile(r"Hong Kong 1980 Grid System"), "香港1980方格网"),
)


@functools.lru_cache(maxsize=8)
def crs_name(srid: int, lang: str = "zh") -> str:
    """The name of a CRS and its EPSG code, for the footer: in Chinese where its kind has a Chinese name."""
    from pyproj import CRS

    name = CRS.from_epsg(srid).name
    if lang == "zh":
        for pattern, zh in _CRS_ZH:
            if found := pattern.fullmatch(name):
                name = zh.format(*found.groups())
                break
    return f"{name} (EPSG:{srid})"


def _context(city: data.City, options: PrintOptions, settings: PrintSettings, where) -> PageContext:
    c = where.centroid
    return PageContext(
        city=city, paper=options.sheet, lang=options.lang, crs_name=crs_name(city.metric_srid, options.lang),
        north_angle_deg=north_angle(city.metric_srid, c.x, c.y), printed=datetime.now(city_tz()),
        public_url=options.base_url or LinkSettings.from_env().fallback_url(),
    )


def _plan_grid(conn, grid: data.Grid, city: data.City, paper: Paper) -> _GridPlan:
    _, _, w, h = grid_layout(paper).map
    frame = data.frame_around(grid.geom, aspect=w / h)
    page = page_data.load_page(conn, grid, frame, city)
    rows = page.checklist
    numbers = {(f.layer, f.id): i for i, f in enumerate(rows, start=1)}
    first = first_page_rows(paper)
    more = continuation_rows(paper)
    chunks = [rows[:first]] + [rows[i:i + more] for i in range(first, len(rows), more)]
    return _GridPlan(page, numbers, chunks)


def _plan_grids(conn, grids: list[data.Grid], city: data.City, paper: Paper, progress: Progress) -> list[_GridPlan]:
    plans = []
    for i, grid in enumerate(grids, start=1):
        plans.append(_plan_grid(conn, grid, city, paper))
        progress("loading", i, len(grids))
    return plans


def _grid_pages(plan: _GridPlan, start: int) -> list[PrintedPage]:
    out = []
    for k, chunk in enumerate(plan.chunks):
        out.append(PrintedPage(start + k, "grid" if k == 0 else "checklist", plan.page.grid.code,
                               [(plan.numbers[(f.layer, f.id)], f.layer, f.id) for f in chunk]))
    return out


def _grid_specs(plan: _GridPlan, start: int) -> list[tuple]:
    """Page specs of one grid: its sheet, then continuation pages of its checklist."""
    return [("grid" if k == 0 else "checklist", plan, start + k, chunk) for k, chunk in enumerate(plan.chunks)]


def _number_grid_pages(ctx: PageContext, plans: list[_GridPlan], first: int) -> tuple[list[PrintedPage], list]:
    """Pages and page specs of the grids from page ``first`` on; the context learns each grid's page
    (for neighbour labels and the atlas cover) and the document's page count."""
    pages, specs = [], []
    page_no = first
    for plan in plans:
        ctx.page_of_grid.setdefault(plan.page.grid.code, page_no)
        pages.extend(_grid_pages(plan, page_no))
        specs.extend(_grid_specs(plan, page_no))
        page_no += plan.page_count
    ctx.total_pages = page_no - 1
    return pages, specs


def grid_document(conn, code: str, options: PrintOptions | None = None,
                  settings: PrintSettings | None = None, progress: Progress = no_progress) -> Document:
    """The sheet of one grid (plus continuation pages for a long checklist)."""
    options = options or PrintOptions()
    settings = settings or PrintSettings.from_env()
    city = data.load_city(conn)
    grid = data.load_grid(conn, code, city.metric_srid, options.viewer)
    street = data.load_street(conn, grid.street_code, city.metric_srid, options.viewer)
    plans = _plan_grids(conn, [grid], city, options.sheet, progress)
    ctx = _context(city, options, settings, grid.geom)
    pages, specs = _number_grid_pages(ctx, plans, 1)
    return Document(ctx, street, specs, pages, grid_title(ctx, grid)[0], settings)


def atlas_page_count(conn, street_code: str, options: PrintOptions | None = None) -> int:
    """Pages an atlas would have without checklist continuations (a cheap bound before loading pages)."""
    options = options or PrintOptions()
    n = data.grid_count(conn, street_code)
    return 1 + math.ceil(n / index_rows_per_page(options.sheet)) + n


def _refuse_long_atlas(street_code: str, pages: int, max_pages: int | None, at_least: bool) -> None:
    if max_pages is not None and pages > max_pages:
        raise InvalidParameter(
            "street", f"the atlas of street {street_code} would have {'at least ' if at_least else ''}{pages} "
                      f"pages, more than the limit of {max_pages} (HYGIENE_MAP_PRINT_MAX_PAGES); "
                      "print it with the CLI instead",
            f"街道 {street_code} 的图册将有{'至少 ' if at_least else ' '}{pages} 页，超过上限 {max_pages} 页"
            "（HYGIENE_MAP_PRINT_MAX_PAGES）；请改用命令行打印")


def _no_grids(street_code: str) -> InvalidParameter:
    return InvalidParameter("street", f"street {street_code} has no grids: generate or import grids first",
                            f"街道 {street_code} 尚未划分网格：请先生成（hygiene-map grids generate）或导入网格")


def check_atlas(conn, street_code: str, options: PrintOptions | None = None, max_pages: int | None = None) -> None:
    """Refuse at once, before any page is loaded, an atlas that cannot be printed: a code that is no street
    (NotFound), a street without grids, or one of more than ``max_pages`` pages at least (InvalidParameter)."""
    from data.catalog import check_street

    check_street(conn, street_code)
    if data.grid_count(conn, street_code) == 0:
        raise _no_grids(street_code)
    if max_pages is not None:
        _refuse_long_atlas(street_code, atlas_page_count(conn, street_code, options), max_pages, at_least=True)


def _index_specs(ctx: PageContext, plans: list[_GridPlan], counts: dict, n_index: int) -> list[tuple]:
    """The atlas index pages (from page 2): each grid's page, code, name, manager and complaints."""
    per_index = index_rows_per_page(ctx.paper)
    rows = []
    for plan in plans:
        g = plan.page.grid
        n_open, n_over = counts.get(g.code, (0, 0))
        rows.append([str(ctx.page_of_grid[g.code]), g.code, g.said_name(ctx.lang) if g.name else "",
                     g.contact("grid_manager", ctx.t["withheld"]),
                     str(n_open), str(n_over)])
    return [("index", 2 + k, rows[k * per_index:(k + 1) * per_index]) for k in range(n_index)]


def atlas_document(conn, street_code: str, options: PrintOptions | None = None,
                   settings: PrintSettings | None = None, progress: Progress = no_progress,
                   max_pages: int | None = None) -> Document:
    """A street's atlas: a cover (grids with page numbers), an index, then one sheet per grid.

    ``max_pages`` refuses an atlas that would be longer (InvalidParameter), before drawing anything.
    """
    options = options or PrintOptions()
    settings = settings or PrintSettings.from_env()
    city = data.load_city(conn)
    street = data.load_street(conn, street_code, city.metric_srid, options.viewer)
    if not street.grids:
        raise _no_grids(street_code)
    if max_pages is not None:
        _refuse_long_atlas(street_code, atlas_page_count(conn, street_code, options), max_pages, at_least=True)
    counts = data.open_complaints_by_grid(conn, street_code, city.as_of)
    roads = data.load_main_roads(conn, street.geom.bounds, city.metric_srid)
    plans = _plan_grids(conn, street.grids, city, options.sheet, progress)

    ctx = _context(city, options, settings, street.geom)
    n_index = math.ceil(len(plans) / index_rows_per_page(options.sheet))
    grid_pages, grid_specs = _number_grid_pages(ctx, plans, 2 + n_index)
    _refuse_long_atlas(street_code, ctx.total_pages, max_pages, at_least=False)
    pages = [PrintedPage(1, "cover")] + [PrintedPage(2 + k, "index") for k in range(n_index)] + grid_pages
    specs = [("cover", counts, roads)] + _index_specs(ctx, plans, counts, n_index) + grid_specs
    return Document(ctx, street, specs, pages, f"{street_title(ctx, street)} · {ctx.t['atlas']}", settings)


def _walk(street: data.Street, ranked: list[tuple[str, float, int, int]], lang: str):
    """The ranked grids in a short walking order: (grids, their points as an array, the stops' table rows, names
    in ``lang``)."""
    by_code = {g.code: g for g in street.grids}
    grids = [by_code[code] for code, *_ in ranked]
    xy = np.array([[p.x, p.y] for p in shapely.point_on_surface([g.geom for g in grids])])
    order = open_tour(xy)
    path_xy = xy[order]
    legs = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path_xy, axis=0).T))]) if len(order) > 1 else [0.0]
    stops = []
    for k, idx in enumerate(order, start=1):
        code, score, n_open, n_over = ranked[idx]
        g = grids[idx]
        stops.append({"stop": k, "code": code, "name": g.said_name(lang) if g.name else None, "open": n_open, "overdue": n_over, "score": score,
                      "manager": g.grid_manager, "phone": g.phone, "cumulative_m": float(legs[k - 1])})
    return [grids[i] for i in order], path_xy, stops


def route_document(conn, street_code: str, top: int, options: PrintOptions | None = None,
                   settings: PrintSettings | None = None, progress: Progress = no_progress) -> Document:
    """An inspection route through the ``top`` grids of a street that most need a visit.

    The first page maps the stops, numbered in walking order, with a table
    of stops; then one sheet per stop, in that order.
    """
    options = options or PrintOptions()
    settings = settings or PrintSettings.from_env()
    if top < 1 or top > settings.route_max_stops:
        raise InvalidParameter("--top", f"must be between 1 and {settings.route_max_stops} "
                                        f"(HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS), not {top}",
                               f"须在 1 至 {settings.route_max_stops} 之间（HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS），不能是 {top}")
    city = data.load_city(conn)
    street = data.load_street(conn, street_code, city.metric_srid, options.viewer)
    ranked = data.rank_grids_for_route(conn, street_code, top, city.as_of)
    if not ranked:
        raise InvalidParameter("--street", f"street {street_code} has no grid with open complaints: no route to print",
                               f"街道 {street_code} 没有存在未办结投诉的网格：无巡查路线可打印")
    grids, path_xy, stops = _walk(street, ranked, options.lang)
    counts = data.open_complaints_by_grid(conn, street_code, city.as_of)
    roads = data.load_main_roads(conn, street.geom.bounds, city.metric_srid)
    plans = _plan_grids(conn, grids, city, options.sheet, progress)
    for k, plan in enumerate(plans, start=1):
        plan.stop_label = TEXT[options.lang]["stop"].format(k=k)

    ctx = _context(city, options, settings, street.geom)
    grid_pages, grid_specs = _number_grid_pages(ctx, plans, 2)
    pages = [PrintedPage(1, "route")] + grid_pages
    # Fewer grids with open complaints than stops asked for: said on the page and by the command, not left silent.
    fewer = ctx.t["fewer"].format(n=len(stops), s=plural(len(stops)), top=top) if len(stops) < top else None
    specs = [("route", counts, stops, path_xy, roads, fewer)] + grid_specs
    return Document(ctx, street, specs, pages, f"{street_title(ctx, street)} · {ctx.t['route']}", settings, fewer)


def default_out(kind: str, code: str) -> Path:
    """Where the CLI writes a document when not told: KIND-CODE.pdf here."""
    return Path(f"{kind}-{code}.pdf")
