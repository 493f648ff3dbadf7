"""Draw the pages of a document into one vector PDF: in this process, or in worker processes.

A page is given as a spec, a tuple of plain data (its kind first) that can
travel to a worker process; :func:`draw_spec` turns it into a drawn page.
Nothing here touches the database.
"""

from __future__ import annotations

import io
import math
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from data.settings import PrintSettings
from layers.printing import sheets, street_pages
from layers.printing.data import Street
from layers.printing.fonts import MISSING_GLYPH, document_font
from layers.printing.page import PageContext, new_page
from layers.printing.style import rc_params, register_font

# matplotlib keeps global state (font cache, rcParams): one document is drawn
# at a time per process, so that the web server's threads cannot interleave.
RENDER_LOCK = threading.Lock()  # public: every document writer (atlases, bulletins) takes it

Progress = Callable[[str, int, int], None]  # (stage, done, total)

# Pages per worker task at least: starting a worker process (importing
# matplotlib) costs about as much as drawing a few pages.
PAGES_PER_PART = 8


def no_progress(stage: str, done: int, total: int) -> None:
    """Progress reported to no one."""
    return None


def draw_spec(fig, spec: tuple, ctx: PageContext, street: Street) -> None:
    """Draw one page from its spec."""
    kind = spec[0]
    if kind == "grid":
        _, plan, n, rows = spec
        sheets.draw_grid_sheet(fig, plan.page, street, ctx, n, rows, plan.numbers, plan.stop_label)
    elif kind == "checklist":
        _, plan, n, rows = spec
        sheets.draw_checklist_page(fig, plan.page, ctx, n, rows, plan.numbers, plan.stop_label)
    elif kind == "cover":
        _, counts, roads = spec
        street_pages.draw_atlas_cover(fig, street, counts, ctx, 1, roads)
    elif kind == "index":
        _, n, rows = spec
        street_pages.draw_index_page(fig, street, rows, ctx, n)
    elif kind == "route":
        _, counts, stops, path_xy, roads, fewer = spec
        street_pages.draw_route_page(fig, street, counts, stops, path_xy, ctx, 1, roads, fewer)
    else:  # a programming error, not user input
        raise ValueError(f"unknown page kind {kind!r}")


def _metadata(ctx: PageContext, title: str) -> dict:
    return {"Title": title, "Creator": "hygiene-map", "Subject": ctx.t["sheet"]}


def _render_specs(out, ctx: PageContext, street: Street, specs: list[tuple], font_path: str | None,
                  title: str, on_page: Callable[[], None] | None = None) -> None:
    """Draw specs as the pages of one PDF at ``out`` (a path or a binary file)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    family = register_font(font_path)
    with matplotlib.rc_context(rc_params(family)):
        with PdfPages(out, metadata=_metadata(ctx, title)) as pdf:
            for spec in specs:
                fig = new_page(ctx.paper)
                draw_spec(fig, spec, ctx, street)
                pdf.savefig(fig)
                if on_page:
                    on_page()


def with_fallback(draw: Callable[[io.BytesIO, str | None], None], fonts: tuple[str, str | None]) -> bytes:
    """PDF bytes drawn by ``draw(buffer, font path)`` with the document's own font (``fonts[0]``,
    layers.printing.fonts), and again with the whole font (``fonts[1]``) if a character was missing
    from it (the page would show an empty box). The caller holds RENDER_LOCK."""
    document, whole = fonts
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        buffer = io.BytesIO()
        draw(buffer, document)
    if not any(MISSING_GLYPH in str(w.message) for w in caught):
        for w in caught:  # the others, as they would have been shown
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return buffer.getvalue()
    buffer = io.BytesIO()
    draw(buffer, whole)
    return buffer.getvalue()


def pages_pdf(ctx: PageContext, settings: PrintSettings, metadata: dict,
              pages: list[Callable[[Figure], None]], *shown) -> bytes:
    """PDF bytes of ``pages``, each a function drawing one page into a new page of ``ctx.paper``: in the document's
    own font (cut to what ``ctx`` and ``shown`` can show, the whole font when a character is missing), one document
    at a time (RENDER_LOCK). For a document of its own pages (a plan's map and tables), not of page specs."""
    def draw(buffer, font: str | None) -> None:
        import matplotlib
        from matplotlib.backends.backend_pdf import PdfPages

        with matplotlib.rc_context(rc_params(register_font(font))), PdfPages(buffer, metadata=metadata) as pdf:
            for page in pages:
                fig = new_page(ctx.paper)
                page(fig)
                pdf.savefig(fig)

    with RENDER_LOCK, document_font(settings.font_path, ctx, *shown) as font:
        return with_fallback(draw, (font, settings.font_path))


def save(out, pdf: bytes) -> None:
    """PDF bytes to ``out``, a path or a binary file."""
    if isinstance(out, (str, os.PathLike)):
        Path(out).write_bytes(pdf)
    else:
        out.write(pdf)


def _ready() -> None:
    """Worker process: nothing; submitted first so that the workers start (import matplotlib) early."""
    return None


def _render_part(args: tuple) -> bytes:
    """Worker process: some pages of a document, as PDF bytes."""
    ctx, street, specs, fonts, title = args
    return with_fallback(lambda buffer, font: _render_specs(buffer, ctx, street, specs, font, title), fonts)


def _render_in_workers(out, ctx: PageContext, settings: PrintSettings, title: str, street: Street,
                       specs: list[tuple], workers: int, progress: Progress) -> None:
    """Parts of the document drawn by worker processes, joined in page order with pypdf."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from pypdf import PdfWriter

    total = len(specs)
    size = max(PAGES_PER_PART, math.ceil(total / (3 * workers)))
    parts = [specs[i:i + size] for i in range(0, total, size)]
    # spawn, not fork: the web server has threads and open connections that a fork would copy.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for _ in range(workers):
            pool.submit(_ready)
        # The document's font is cut once, while the workers start; each part embeds subsets of it.
        with document_font(settings.font_path, ctx, street, specs) as font:
            fonts = (font, settings.font_path)
            futures = [pool.submit(_render_part, (ctx, street, part, fonts, title)) for part in parts]
            writer = PdfWriter()
            done = 0
            for future, part in zip(futures, parts):
                writer.append(io.BytesIO(future.result()))
                done += len(part)
                progress("drawing", done, total)
    writer.add_metadata({"/" + key: value for key, value in _metadata(ctx, title).items()})
    writer.write(out)


def write_pdf(out, ctx: PageContext, settings: PrintSettings, title: str, street: Street,
              specs: list[tuple], progress: Progress = no_progress) -> None:
    """Draw every page spec into one PDF at ``out`` (path or binary file).

    Long documents are drawn by ``settings.workers`` processes, a few parts
    each (so that progress moves): matplotlib spends its time laying out
    text, which one process cannot spread over cores.
    """
    total = len(specs)
    workers = min(settings.workers, total // PAGES_PER_PART)
    with RENDER_LOCK:
        if workers > 1:
            _render_in_workers(out, ctx, settings, title, street, specs, workers, progress)
            return
        done = 0

        def on_page() -> None:
            nonlocal done
            done += 1
            progress("drawing", done, total)

        with document_font(settings.font_path, ctx, street, specs) as font:
            save(out, with_fallback(lambda buffer, path: _render_specs(
                buffer, ctx, street, specs, path, title, on_page if path == font else None),
                (font, settings.font_path)))
