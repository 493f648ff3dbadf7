"""A round's 问题清单 as a printed PDF: a map of the numbered findings, then the list per responsible unit.

A4 portrait, vector (the sheets' font, header and footer): page 1 maps the
findings by number over the streets' outlines, communities, grids and main
roads, each marker's shape telling its status (black and white prints too),
findings at one place spread on a ring around it so that none hides another;
the following pages list them per unit — number, place, item, deduction,
deadline, status, description, and a thumbnail of the first photo before and
the last photo after rectification. Data from :mod:`layers.printing.problems_data`.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from data.settings import LinkSettings, PrintSettings
from data.vocab import NO_UNIT, RECHECK_FAILED, RECHECK_PASSED, RECTIFIED, TO_RECTIFY, city_tz
from layers.printing.docs import crs_name, north_angle
from layers.printing.fonts import document_font
from layers.printing.furniture import north_arrow, scale_bar
from layers.printing.labels import spread
from layers.printing.page import (
    HALO,
    HEADER_MM,
    MARGIN_MM,
    PageContext,
    add,
    axes_at,
    draw_polygons,
    fit,
    footer,
    header,
    line_parts,
    new_page,
    paper_axes,
)
from layers.printing.pdf import RENDER_LOCK, save, with_fallback  # the lock: one document at a time per process
from layers.printing.problems_data import Problem, ProblemList
from layers.printing.style import MAIN_ROADS, ROAD_STYLE, Paper, rc_params, register_font, term
from layers.reports.layout import wrap
from layers.workflow.photos import PRINT_THUMB_PX, thumbnail

_WORDS = {
    "title": ("问题清单", "Problem list"), "map": ("问题分布图", "Map of the findings"),
    "summary": ("问题 {n} 处 · 扣分 {lost:g} · 待整改 {open} 处（超期 {overdue} 处）",
                "{n} findings · {lost:g} points lost · {open} to rectify ({overdue} overdue)"),
    "unit_label": ("责任单位：", "Responsible unit: "), "no_unit": (NO_UNIT["zh"], NO_UNIT["en"]),
    "unit_line": ("{unit} · 问题 {n} 处 · 扣分 {lost:g}", "{unit} · {n} findings · {lost:g} points"),
    "no": ("编号", "No."), "place": ("位置", "Place"), "item": ("问题", "Problem"), "deduction": ("扣分", "Points"),
    "due": ("整改期限", "Deadline"), "status": ("状态", "Status"), "description": ("问题描述", "Description"),
    "before": ("整改前", "Before"), "after": ("整改后", "After"), "overdue": ("超期", "overdue"),
    "near": ("近", "near "), "grid": ("网格", "grid "), "hidden": ("—", "—"),
    "personal": ("问题描述和照片仅向有权查看者显示", "Descriptions and photos are shown to those entitled only"),
    "none": ("本轮次无问题记录", "No findings in this round"), "north": ("北", "N"),
}
T = {lang: {k: v[i] for k, v in _WORDS.items()} for i, lang in enumerate(("zh", "en"))}
#: Marker of each status: a different shape each, so that a black-and-white print still tells them apart.
MARKERS = {TO_RECTIFY: ("o", "#d62728"), RECTIFIED: ("s", "#f2b701"), RECHECK_PASSED: ("^", "#2ca02c"),
           RECHECK_FAILED: ("X", "#9467bd")}
#: Table columns: key and width in mm (A4 portrait, 190 mm between the margins).
COLUMNS = (("no", 9), ("place", 36), ("item", 45), ("deduction", 10), ("due", 17), ("status", 15),
           ("description", 30), ("before", 14), ("after", 14))
#: Row heights: with a thumbnail, and without (four lines of text); a unit's band; the column heads; text size.
PHOTO_ROW_MM, ROW_MM, BAND_MM, HEAD_MM, SIZE = 14.0, 10.0, 6.0, 5.0, 5.8


def _context(plist: ProblemList, paper: Paper, lang: str, base_url: str | None) -> PageContext:
    shapes = [g for *_, g in plist.outlines] or [shapely.Point(p.x, p.y) for p in plist.problems] \
        or [shapely.Point(0, 0)]
    c = shapely.union_all(shapes).centroid
    return PageContext(city=plist.city, paper=paper, lang=lang, crs_name=crs_name(plist.city.metric_srid, lang),
                       north_angle_deg=north_angle(plist.city.metric_srid, c.x, c.y), printed=datetime.now(city_tz()),
                       public_url=base_url or LinkSettings.from_env().fallback_url())


def title(plist: ProblemList, lang: str) -> str:
    """City, the street (or the round's name) and 问题清单."""
    names = {code: (en if lang == "en" and en else name) or code for code, name, en, _ in plist.outlines}
    where = names.get(plist.street, plist.street) if plist.street else plist.round["name"]
    return f"{plist.city.label(lang)} · {where} · {T[lang]['title']}"


def _summary(plist: ProblemList, lang: str) -> str:
    ps = plist.problems
    return T[lang]["summary"].format(n=len(ps), lost=sum(p.deduction for p in ps),
                                     open=sum(p.status == TO_RECTIFY for p in ps), overdue=sum(p.overdue for p in ps))


# -- the map page -------------------------------------------------------------------------------------------
def _draw_base(ax, plist: ProblemList) -> None:
    draw_polygons(ax, plist.grids, fill=False, edgecolor="0.75", linewidth=0.25, zorder=1)
    for klass in MAIN_ROADS:
        lines = line_parts([g for k, _, g in plist.roads if k == klass])
        if lines:
            style = ROAD_STYLE[klass]
            add(ax, LineCollection(lines, colors=style["color"], linewidths=style["linewidth"] * 0.6, zorder=2))
    draw_polygons(ax, plist.communities, fill=False, edgecolor="0.4", linewidth=0.5, zorder=3)
    draw_polygons(ax, [g for *_, g in plist.outlines], fill=False, edgecolor="black", linewidth=1.4, zorder=3)


#: Findings closer on paper than NEAR_MM (mm) share a place: their markers go on a ring around it, RING_MM wide
#: at least and APART_MM between neighbours, each joined to its place by a line (two at one toilet hid each other).
NEAR_MM, RING_MM, APART_MM = 3.0, 4.0, 3.5


def _draw_findings(ax, problems: list[Problem], size: float, m_per_mm: float) -> None:
    if not problems:
        return
    xy = np.array([(p.x, p.y) for p in problems])
    drawn, groups = spread(xy, NEAR_MM * m_per_mm, RING_MM * m_per_mm, APART_MM * m_per_mm)
    outward = np.zeros_like(xy)
    for members in groups:
        add(ax, LineCollection([[xy[i], drawn[i]] for i in members], colors="0.2", linewidths=0.5, zorder=4))
        ax.scatter(xy[members, 0], xy[members, 1], s=4, color="black", linewidths=0, zorder=4)
        away = drawn[members] - xy[members].mean(axis=0)
        outward[members] = away / np.linalg.norm(away, axis=1, keepdims=True)
    for status, (marker, colour) in MARKERS.items():
        group = [k for k, p in enumerate(problems) if p.status == status]
        if group:
            ax.scatter(drawn[group, 0], drawn[group, 1], marker=marker, s=22, facecolor=colour,
                       edgecolor=["black" if problems[k].overdue else "0.2" for k in group],
                       linewidths=[1.4 if problems[k].overdue else 0.4 for k in group], zorder=5)
    for k, p in enumerate(problems):
        ux, uy = outward[k]
        if ux == uy == 0:  # alone: the number at the marker's upper right, as before
            _number(ax, p.number, drawn[k], (2.5, 2.0), size, "left", "baseline")
            continue
        # On a ring: the number beyond its marker, away from the place, where no neighbour's is.
        _number(ax, p.number, drawn[k], (4.0 * ux, 4.0 * uy), size,
                "left" if ux > 0.3 else "right" if ux < -0.3 else "center",
                "bottom" if uy > 0.3 else "top" if uy < -0.3 else "center")


#: A white outline under a number on the map, drawn on its own: a path effect on the number itself would turn it
#: into outlines, which a reader of the PDF can no longer search or copy.
_OUTLINE = [patheffects.Stroke(linewidth=1.6, foreground="white")]


def _number(ax, number: int, at, offset: tuple, size: float, ha: str, va: str) -> None:
    for effects in (_OUTLINE, None):
        ax.annotate(str(number), at, xytext=offset, textcoords="offset points", fontsize=size, ha=ha, va=va,
                    path_effects=effects, zorder=6)


def _status_legend(ax, ctx: PageContext, x: float, y: float) -> None:
    for i, (status, (marker, colour)) in enumerate(MARKERS.items()):
        ax.scatter([x + 2 + 32 * i], [y], marker=marker, s=22, facecolor=colour, edgecolor="0.2", linewidths=0.4)
        ax.text(x + 5 + 32 * i, y, term(status, ctx.lang), fontsize=6.5, va="center")
    ax.scatter([x + 2 + 32 * 4], [y], marker="o", s=22, facecolor="white", edgecolor="black", linewidths=1.4)
    ax.text(x + 5 + 32 * 4, y, T[ctx.lang]["overdue"], fontsize=6.5, va="center")


def draw_map_page(fig, plist: ProblemList, ctx: PageContext) -> None:
    """Page 1: the numbered findings over outlines and roads, a status legend, the summary."""
    t = T[ctx.lang]
    W, H = ctx.paper.size_mm
    ax_page = paper_axes(fig, ctx.paper)
    header(ax_page, ctx, title(plist, ctx.lang), f"{plist.round['name']} · {_summary(plist, ctx.lang)}")
    rect = (MARGIN_MM, MARGIN_MM + 20, W - 2 * MARGIN_MM, H - 2 * MARGIN_MM - HEADER_MM - 24)
    shapes = [g for *_, g in plist.outlines] + [shapely.Point(p.x, p.y) for p in plist.problems]
    if shapes:
        from layers.printing.data import frame_around

        frame = frame_around(shapely.union_all(shapes), rect[2] / rect[3], margin=0.03, min_margin_m=80)
        ax = axes_at(fig, ctx.paper, rect)
        ax.set_xlim(frame[0], frame[2])
        ax.set_ylim(frame[1], frame[3])
        ax.set_xticks([])
        ax.set_yticks([])
        _draw_base(ax, plist)
        m_per_mm = (frame[2] - frame[0]) / rect[2]
        _draw_findings(ax, plist.problems, 5.0 * ctx.paper.text_scale, m_per_mm)
        scale_bar(ax, frame, m_per_mm, 5.5)
        north_arrow(ax, ctx.north_angle_deg, t["north"])
    ax_page.text(MARGIN_MM, MARGIN_MM + 16, t["map"] if plist.problems else t["none"], fontsize=8, va="center")
    _status_legend(ax_page, ctx, MARGIN_MM, MARGIN_MM + 10)
    ax_page.text(W - MARGIN_MM, MARGIN_MM + 16, t["personal"], fontsize=6, va="center", ha="right", color="0.3")
    footer(ax_page, ctx, 1)


# -- the list pages -----------------------------------------------------------------------------------------
def _deadline(value) -> str:
    """The day and, below it, the time in the city's zone: most items are due within a day or three of the
    finding, at the hour it was found, and the day alone let the street office think it had until the evening."""
    return value.astimezone(city_tz()).strftime("%Y-%m-%d\n%H:%M")


def _lines(text: str, width: float, n: int) -> str:
    """``text`` wrapped to ``width`` mm, at most ``n`` lines (the last one cut with an ellipsis)."""
    lines = wrap(text, width - 1.5, SIZE)
    if len(lines) > n:
        lines = lines[:n - 1] + [fit(" ".join(lines[n - 1:]), width - 1.5, SIZE)]
    return "\n".join(lines)


def _cells(p: Problem, lang: str, widths: dict) -> dict[str, str]:
    t = T[lang]
    en = lang == "en"
    street = (p.street_name_en if en and p.street_name_en else p.street_name) or p.street_code or ""
    community = (p.community_name_en if en and p.community_name_en else p.community_name) or ""
    where = f"{t['near']}{p.near_road}" if p.near_road else f"{p.lon:.5f}, {p.lat:.5f}"
    place = "\n".join(fit(s, widths["place"] - 1.5, SIZE) for s in
                      (" · ".join(s for s in (street, community) if s), f"{t['grid']}{p.grid_code or '—'}", where))
    item = _lines(f"{p.item_code} {p.item_text_en if en else p.item_text}", widths["item"], 4)
    due = _deadline(p.due_at) + (f"\n{t['overdue']}" if p.overdue else "")
    described = _lines(p.description or "", widths["description"], 4) if p.personal else t["hidden"]
    return {"no": str(p.number), "place": place, "item": item, "deduction": f"{p.deduction:g}", "due": due,
            "status": _lines(term(p.status, lang), widths["status"], 2), "description": described,
            "before": "", "after": ""}


def _thumbnail(path) -> np.ndarray | None:
    """A small RGB array of a stored photo (its cached thumbnail), or None when it cannot be read."""
    from PIL import UnidentifiedImageError

    try:
        return np.asarray(thumbnail(path, PRINT_THUMB_PX))
    except (OSError, UnidentifiedImageError):
        return None


def _shown_photo(p: Problem, stage: str) -> tuple[Path | None, int]:
    """The stored file of the photo a row shows for ``stage`` (the first before, the last after), and how many."""
    shots = [ph for ph in p.photos if ph.stage == stage]
    return (shots[0] if stage == "before" else shots[-1]).path if shots else None, len(shots)


def thumbnails(plist: ProblemList, workers: int) -> dict[Path, np.ndarray | None]:
    """The thumbnail of every photo the list shows, by stored file.

    Decoded in ``workers`` threads: Pillow decodes without the GIL, and a
    round's first print decodes every photo once (later ones read the kept
    thumbnails).
    """
    from concurrent.futures import ThreadPoolExecutor

    paths = list(dict.fromkeys(path for p in plist.problems for stage in ("before", "after")
                               if (path := _shown_photo(p, stage)[0]) is not None))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip(paths, pool.map(_thumbnail, paths)))


def _draw_photo(ax, p: Problem, stage: str, box: tuple, thumbs: dict) -> None:
    """The first photo before (the last after) in ``box`` (x, y, w, h mm), its aspect kept; +n for more."""
    path, n = _shown_photo(p, stage)
    if path is None:
        return
    pixels = thumbs[path] if path in thumbs else _thumbnail(path)
    x, y, w, h = box
    if pixels is not None:
        ih, iw = pixels.shape[:2]
        scale = min(w / iw, h / ih)
        dw, dh = iw * scale, ih * scale
        x0, y0 = x + (w - dw) / 2, y + (h - dh) / 2
        # "none": the thumbnail's own pixels go into the PDF, not resampled to the backend's 72 dpi.
        # An image artist of its own, not imshow: nothing to autoscale (the page is in millimetres), far cheaper.
        image = AxesImage(ax, extent=(x0, x0 + dw, y0, y0 + dh), interpolation="none", zorder=3)
        image.set_data(pixels)
        ax.add_image(image)
    if n > 1:
        ax.text(x + w, y, f"+{n - 1}", fontsize=4.5, ha="right", va="bottom", zorder=4, path_effects=HALO)


def row_height(p: Problem) -> float:
    """A row is taller when it shows a thumbnail."""
    return PHOTO_ROW_MM if p.photos else ROW_MM


def _row(ax, p: Problem, lang: str, y: float, xs: dict, widths: dict, thumbs: dict) -> None:
    cells = _cells(p, lang, widths)
    h = row_height(p)
    for key, _ in COLUMNS:
        if key in ("before", "after"):
            _draw_photo(ax, p, key, (xs[key] + 0.7, y - h + 0.7, widths[key] - 1.4, h - 1.4), thumbs)
        elif cells[key]:
            centre = key in ("no", "deduction")
            ax.text(xs[key] + (widths[key] / 2 if centre else 0.8), y - 1.0, cells[key], fontsize=SIZE, va="top",
                    ha="center" if centre else "left", linespacing=1.15)


def _head(ax, t: dict, y: float, xs: dict, widths: dict) -> None:
    W = sum(widths.values())
    add(ax, Rectangle((MARGIN_MM, y - HEAD_MM), W, HEAD_MM, facecolor="0.86", edgecolor="none"))
    for key, _ in COLUMNS:
        ax.text(xs[key] + 0.8, y - HEAD_MM / 2, t[key], fontsize=SIZE, va="center")


def _band(ax, t: dict, unit: str | None, group: list[Problem], y: float, width: float) -> None:
    add(ax, Rectangle((MARGIN_MM, y - BAND_MM), width, BAND_MM, facecolor="0.93", edgecolor="0.5", linewidth=0.4))
    line = t["unit_line"].format(unit=unit or t["no_unit"], n=len(group), lost=sum(p.deduction for p in group))
    ax.text(MARGIN_MM + 1, y - BAND_MM / 2, t["unit_label"] + line, fontsize=7, va="center")


def plan_pages(plist: ProblemList, paper: Paper) -> list[list[tuple]]:
    """The list pages: each a list of ("band", unit, group) and ("row", problem) in drawing order."""
    room = paper.size_mm[1] - 2 * MARGIN_MM - HEADER_MM - 2 - HEAD_MM - 6
    pages: list[list[tuple]] = [[]]
    left = room
    for unit, group in plist.units():
        for k, p in enumerate(group):
            band = k == 0 or not pages[-1]
            need = row_height(p) + (BAND_MM if band else 0)
            if need > left:  # a new page; the unit's band is repeated on it
                pages.append([])
                left, band, need = room, True, row_height(p) + BAND_MM
            if band:
                pages[-1].append(("band", unit, group))
            pages[-1].append(("row", p))
            left -= need
    return [page for page in pages if page]


def draw_list_page(fig, plist: ProblemList, ctx: PageContext, entries: list[tuple], page_no: int,
                   thumbs: dict | None = None) -> None:
    """One page of the list: the column heads, then unit bands and rows, ruled (``thumbs``: see :func:`thumbnails`)."""
    t = T[ctx.lang]
    ax = paper_axes(fig, ctx.paper)
    header(ax, ctx, title(plist, ctx.lang), f"{plist.round['name']} · {_summary(plist, ctx.lang)}")
    widths = dict(COLUMNS)
    xs = dict(zip(widths, MARGIN_MM + np.concatenate([[0.0], np.cumsum(list(widths.values()))[:-1]])))
    total_w = sum(widths.values())
    y = ctx.paper.size_mm[1] - MARGIN_MM - HEADER_MM - 2
    _head(ax, t, y, xs, widths)
    y -= HEAD_MM
    rules = []
    for entry in entries:
        if entry[0] == "band":
            _band(ax, t, entry[1], entry[2], y, total_w)
            y -= BAND_MM
            continue
        _row(ax, entry[1], ctx.lang, y, xs, widths, thumbs or {})
        y -= row_height(entry[1])
        rules.append([(MARGIN_MM, y), (MARGIN_MM + total_w, y)])
    add(ax, LineCollection(rules, colors="0.6", linewidths=0.3))
    ax.set_xlim(0, ctx.paper.size_mm[0])  # images leave the page axes' millimetres as they were
    ax.set_ylim(0, ctx.paper.size_mm[1])
    footer(ax, ctx, page_no)


def _render(out, plist: ProblemList, ctx: PageContext, pages: list, thumbs: dict, font: str | None,
            lang: str) -> None:
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    # Each thumbnail its own image, not all of a page's composited into one at 72 dpi.
    with matplotlib.rc_context({**rc_params(register_font(font)), "image.composite_image": False}):
        with PdfPages(out, metadata={"Title": title(plist, lang), "Creator": "hygiene-map"}) as pdf:
            fig = new_page(ctx.paper)
            draw_map_page(fig, plist, ctx)
            pdf.savefig(fig)
            for k, entries in enumerate(pages, start=2):
                fig = new_page(ctx.paper)
                draw_list_page(fig, plist, ctx, entries, k, thumbs)
                pdf.savefig(fig)


def write_pdf(plist: ProblemList, out, lang: str = "zh", settings: PrintSettings | None = None,
              base_url: str | None = None) -> int:
    """Draw ``plist`` as an A4 PDF at ``out`` (a path or a binary file); its page count."""
    settings = settings or PrintSettings.from_env()
    paper = Paper("A4", False)
    ctx = _context(plist, paper, lang, base_url)
    pages = plan_pages(plist, paper)
    ctx.total_pages = 1 + len(pages)
    thumbs = thumbnails(plist, settings.workers)
    with RENDER_LOCK, document_font(settings.font_path, plist, ctx, T) as font:
        pdf = with_fallback(lambda buffer, path: _render(buffer, plist, ctx, pages, thumbs, path, lang),
                            (font, settings.font_path))
    save(out, pdf)
    return ctx.total_pages


def pdf_bytes(plist: ProblemList, lang: str = "zh", base_url: str | None = None) -> bytes:
    """The PDF, in memory."""
    buffer = io.BytesIO()
    write_pdf(plist, buffer, lang, base_url=base_url)
    return buffer.getvalue()
