"""Printed documents: a grid sheet, a street atlas, an inspection route.

Each document is planned first (data loaded, checklists split into pages,
page numbers known, so an atlas index and neighbour labels can refer to
pages), then drawn page by page into one vector PDF. ``print_grid``,
``print_atlas`` and ``print_route`` return a :class:`PrintResult` that lists
every page and the checklist entries on it.
"""

from __future__ import annotations

import functools
import io
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from data.errors import InvalidParameter
from data.settings import PrintSettings
from geo.tour import open_tour
from layers.printing import data as data
from layers.printing import render as render
from layers.printing.style import PAPERS_MM, Paper, rc_params, register_font

# matplotlib keeps global state (font cache, rcParams): one document is drawn
# at a time per process, so that the web server's threads cannot interleave.
_RENDER_LOCK = threading.Lock()

Progress = Callable[[str, int, int], None]  # (stage, done, total)

# Pages per worker task at least: starting a worker process (importing
# matplotlib) costs about as much as drawing a few pages.
PAGES_PER_PART = 8


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class PrintOptions:
    """How to print: paper, orientation, language."""

    paper: str = "A4"
    landscape: bool = False
    lang: str = "zh"

    def __post_init__(self):
        if self.paper not in PAPERS_MM:
            raise InvalidParameter("paper", f"must be one of {', '.join(PAPERS_MM)}, not {self.paper!r}")
        if self.lang not in ("zh", "en"):
            raise InvalidParameter("lang", f"must be zh or en, not {self.lang!r}")

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
class PrintResult:
    pages: list[PrintedPage]
    title: str


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


@functools.lru_cache(maxsize=8)
def crs_name(srid: int) -> str:
    from pyproj import CRS

    return f"{CRS.from_epsg(srid).name} (EPSG:{srid})"


def _context(city: data.City, options: PrintOptions, settings: PrintSettings, where) -> render.PageContext:
    c = where.centroid
    return render.PageContext(
        city=city, paper=options.sheet, lang=options.lang, crs_name=crs_name(city.metric_srid),
        north_angle_deg=north_angle(city.metric_srid, c.x, c.y), printed=date.today(),
        public_url=settings.public_url,
    )


def _plan_grid(conn, grid: data.Grid, city: data.City, paper: Paper) -> _GridPlan:
    _, _, w, h = render.grid_layout(paper).map
    frame = data.frame_around(grid.geom, aspect=w / h)
    page = data.load_page(conn, grid, frame, city.metric_srid)
    rows = page.checklist
    numbers = {(f.layer, f.id): i for i, f in enumerate(rows, start=1)}
    first = render.first_page_rows(paper)
    more = render.continuation_rows(paper)
    chunks = [rows[:first]] + [rows[i:i + more] for i in range(first, len(rows), more)]
    return _GridPlan(page, numbers, chunks)


def _grid_pages(plan: _GridPlan, start: int) -> list[PrintedPage]:
    out = []
    for k, chunk in enumerate(plan.chunks):
        out.append(PrintedPage(start + k, "grid" if k == 0 else "checklist", plan.page.grid.code,
                               [(plan.numbers[(f.layer, f.id)], f.layer, f.id) for f in chunk]))
    return out


def _grid_specs(plan: _GridPlan, start: int) -> list[tuple]:
    """Page specs of one grid: its sheet, then continuation pages of its checklist."""
    return [("grid" if k == 0 else "checklist", plan, start + k, chunk) for k, chunk in enumerate(plan.chunks)]


def _draw_spec(fig, spec: tuple, ctx: render.PageContext, street: data.Street) -> None:
    """Draw one page from its spec (plain, picklable data: specs travel to worker processes)."""
    kind = spec[0]
    if kind == "grid":
        _, plan, n, rows = spec
        render.draw_grid_sheet(fig, plan.page, street, ctx, n, rows, plan.numbers, plan.stop_label)
    elif kind == "checklist":
        _, plan, n, rows = spec
        render.draw_checklist_page(fig, plan.page, ctx, n, rows, plan.numbers, plan.stop_label)
    elif kind == "cover":
        _, counts, roads = spec
        render.draw_atlas_cover(fig, street, counts, ctx, 1, roads)
    elif kind == "index":
        _, n, rows = spec
        render.draw_index_page(fig, street, rows, ctx, n)
    elif kind == "route":
        _, counts, stops, path_xy, roads = spec
        render.draw_route_page(fig, street, counts, stops, path_xy, ctx, 1, roads)
    else:  # a programming error, not user input
        raise ValueError(f"unknown page kind {kind!r}")


def _render_specs(out, ctx: render.PageContext, street: data.Street, specs: list[tuple], font_path: str | None,
                  title: str, on_page: Callable[[], None] | None = None) -> None:
    """Draw specs as the pages of one PDF at ``out`` (a path or a binary file)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    family = register_font(font_path)
    with matplotlib.rc_context(rc_params(family)):
        with PdfPages(out, metadata={"Title": title, "Creator": "hygiene-map", "Subject": ctx.t["sheet"]}) as pdf:
            for spec in specs:
                fig = render.new_page(ctx.paper)
                _draw_spec(fig, spec, ctx, street)
                pdf.savefig(fig)
                if on_page:
                    on_page()


def _render_part(args: tuple) -> bytes:
    """Worker process: some pages of a document, as PDF bytes."""
    ctx, street, specs, font_path, title = args
    buffer = io.BytesIO()
    _render_specs(buffer, ctx, street, specs, font_path, title)
    return buffer.getvalue()


def _write(out, ctx: render.PageContext, settings: PrintSettings, title: str, street: data.Street,
           specs: list[tuple], progress: Progress) -> None:
    """Draw every page spec into one PDF at ``out`` (path or binary file).

    Long documents are drawn by ``settings.workers`` processes, a few parts
    each (so that progress moves), joined in page order with pypdf:
    matplotlib spends its time laying out text, which one process cannot
    spread over cores.
    """
    total = len(specs)
    workers = min(settings.workers, total // PAGES_PER_PART)
    with _RENDER_LOCK:
        if workers <= 1:
            done = 0

            def on_page() -> None:
                nonlocal done
                done += 1
                progress("drawing", done, total)

            _render_specs(out, ctx, street, specs, settings.font_path, title, on_page)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from pypdf import PdfWriter

        size = max(PAGES_PER_PART, math.ceil(total / (3 * workers)))
        parts = [specs[i:i + size] for i in range(0, total, size)]
        # spawn, not fork: the web server has threads and open connections that a fork would copy.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_render_part, (ctx, street, part, settings.font_path, title)) for part in parts]
            writer = PdfWriter()
            done = 0
            for future, part in zip(futures, parts):
                writer.append(io.BytesIO(future.result()))
                done += len(part)
                progress("drawing", done, total)
        writer.add_metadata({"/Title": title, "/Creator": "hygiene-map", "/Subject": ctx.t["sheet"]})
        writer.write(out)


def print_grid(conn, code: str, out=None, options: PrintOptions | None = None,
               settings: PrintSettings | None = None, progress: Progress = _no_progress) -> PrintResult:
    """The sheet of one grid (plus continuation pages for a long checklist) as a PDF at ``out``."""
    options = options or PrintOptions()
    settings = settings or PrintSettings.from_env()
    city = data.load_city(conn)
    grid = data.load_grid(conn, code, city.metric_srid)
    street = data.load_street(conn, grid.street_code, city.metric_srid)
    plan = _plan_grid(conn, grid, city, options.sheet)
    conn.rollback()
    ctx = _context(city, options, settings, grid.geom)
    ctx.total_pages = plan.page_count
    title = render._grid_title(ctx, grid)[0]
    _write(out, ctx, settings, title, street, _grid_specs(plan, 1), progress)
    return PrintResult(_grid_pages(plan, 1), title)


def atlas_page_count(conn, street_code: str, options: PrintOptions | None = None) -> int:
    """Pages an atlas would have without checklist continuations (a cheap bound before loading pages)."""
    options = options or PrintOptions()
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM grids WHERE street_code = %s", (street_code,))
        n = cur.fetchone()[0]
    return 1 + math.ceil(n / render.index_rows_per_page(options.sheet)) + n


def print_atlas(conn, street_code: str, out=None, options: PrintOptions | None = None,
                settings: PrintSettings | None = None, progress: Progress = _no_progress,
                max_pages: int | None = None) -> PrintResult:
    """A street's atlas: a cover (grids with page numbers), an index, then one sheet per grid.

    ``max_pages`` refuses an atlas that would be longer (InvalidParameter), before drawing anything.
    """
    options = options or PrintOptions()
    settings = settings or PrintSettings.from_env()
    paper = options.sheet
    city = data.load_city(conn)
    street = data.load_street(conn, street_code, city.metric_srid)
    if not street.grids:
        raise InvalidParameter("street", f"street {street_code} has no grids: generate or import grids first")
    if max_pages is not None:
        bound = atlas_page_count(conn, street_code, options)
        if bound > max_pages:
            raise InvalidParameter(
                "street", f"the atlas of street {street_code} would have at least {bound} pages, more than the "
                          f"limit of {max_pages} (HYGIENE_MAP_PRINT_MAX_PAGES); print it with the CLI instead")
    counts = data.open_complaints_by_grid(conn, street_code)
    roads = data.load_main_roads(conn, street.geom.bounds, city.metric_srid)
    plans = []
    for i, grid in enumerate(street.grids, start=1):
        plans.append(_plan_grid(conn, grid, city, paper))
        progress("loading", i, len(street.grids))
    conn.rollback()

    ctx = _context(city, options, settings, street.geom)
    per_index = render.index_rows_per_page(paper)
    n_index = math.ceil(len(plans) / per_index)
    page_no = 2 + n_index
    pages = [PrintedPage(1, "cover")] + [PrintedPage(2 + k, "index") for k in range(n_index)]
    for plan in plans:
        ctx.page_of_grid[plan.page.grid.code] = page_no
        pages.extend(_grid_pages(plan, page_no))
        page_no += plan.page_count
    ctx.total_pages = page_no - 1
    if max_pages is not None and ctx.total_pages > max_pages:
        raise InvalidParameter(
            "street", f"the atlas of street {street_code} would have {ctx.total_pages} pages, more than the limit "
                      f"of {max_pages} (HYGIENE_MAP_PRINT_MAX_PAGES); print it with the CLI instead")

    index_rows = []
    for plan in plans:
        g = plan.page.grid
        n_open, n_over = counts.get(g.code, (0, 0))
        index_rows.append([str(ctx.page_of_grid[g.code]), g.code, g.name or "", g.grid_manager or "",
                           str(n_open), str(n_over)])
    specs: list[tuple] = [("cover", counts, roads)]
    for k in range(n_index):
        specs.append(("index", 2 + k, index_rows[k * per_index:(k + 1) * per_index]))
    for plan in plans:
        specs.extend(_grid_specs(plan, ctx.page_of_grid[plan.page.grid.code]))
    title = f"{render._street_title(ctx, street)} · {ctx.t['atlas']}"
    _write(out, ctx, settings, title, street, specs, progress)
    return PrintResult(pages, title)


def print_route(conn, street_code: str, top: int, out=None, options: PrintOptions | None = None,
                settings: PrintSettings | None = None, progress: Progress = _no_progress) -> PrintResult:
    """An inspection route through the ``top`` grids of a street that most need a visit.

    The first page maps the stops, numbered in walking order, with a table
    of stops; then one sheet per stop, in that order.
    """
    options = options or PrintOptions()
    settings = settings or PrintSettings.from_env()
    if top < 1 or top > settings.route_max_stops:
        raise InvalidParameter("--top", f"must be between 1 and {settings.route_max_stops} "
                                        f"(HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS), not {top}")
    paper = options.sheet
    city = data.load_city(conn)
    street = data.load_street(conn, street_code, city.metric_srid)
    ranked = data.rank_grids_for_route(conn, street_code, top)
    if not ranked:
        raise InvalidParameter("--street", f"street {street_code} has no grid with open complaints: no route to print")
    by_code = {g.code: g for g in street.grids}
    grids = [by_code[code] for code, *_ in ranked]
    xy = np.array([[p.x, p.y] for p in shapely.point_on_surface([g.geom for g in grids])])
    order = open_tour(xy)
    path_xy = xy[order]
    legs = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path_xy, axis=0).T))]) if len(order) > 1 else [0.0]
    counts = data.open_complaints_by_grid(conn, street_code)
    roads = data.load_main_roads(conn, street.geom.bounds, city.metric_srid)
    stops, plans = [], []
    for k, idx in enumerate(order, start=1):
        code, score, n_open, n_over = ranked[idx]
        g = grids[idx]
        stops.append({"stop": k, "code": code, "name": g.name, "open": n_open, "overdue": n_over, "score": score,
                      "manager": g.grid_manager, "phone": g.phone, "cumulative_m": float(legs[k - 1])})
        plan = _plan_grid(conn, g, city, paper)
        plan.stop_label = render.TEXT[options.lang]["stop"].format(k=k)
        plans.append(plan)
        progress("loading", k, len(order))
    conn.rollback()

    ctx = _context(city, options, settings, street.geom)
    pages = [PrintedPage(1, "route")]
    page_no = 2
    for plan in plans:
        ctx.page_of_grid.setdefault(plan.page.grid.code, page_no)
        pages.extend(_grid_pages(plan, page_no))
        page_no += plan.page_count
    ctx.total_pages = page_no - 1
    specs: list[tuple] = [("route", counts, stops, path_xy, roads)]
    n = 2
    for plan in plans:
        specs.extend(_grid_specs(plan, n))
        n += plan.page_count
    title = f"{render._street_title(ctx, street)} · {ctx.t['route']}"
    _write(out, ctx, settings, title, street, specs, progress)
    return PrintResult(pages, title)


def to_bytes(fn, *args, **kwargs) -> tuple[bytes, PrintResult]:
    """Run a print function into memory: (PDF bytes, result)."""
    buffer = io.BytesIO()
    result = fn(*args, out=buffer, **kwargs)
    return buffer.getvalue(), result


def default_out(kind: str, code: str) -> Path:
    return Path(f"{kind}-{code}.pdf")
