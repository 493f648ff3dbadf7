"""Pages about a whole street: the atlas cover, the atlas index and the inspection route's overview."""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from data.said import plural
from layers.printing.data import Street
from layers.printing.furniture import metre_ticks
from layers.printing.page import (
    HALO,
    HEADER_MM,
    MARGIN_MM,
    ROW_MM,
    PageContext,
    add,
    axes_at,
    body_rect,
    draw_polygons,
    footer,
    header,
    line_parts,
    paper_axes,
)
from layers.printing.style import MAIN_ROADS, PT_TO_MM, ROAD_STYLE, Paper
from layers.printing.tables import draw_table, index_columns, route_columns, route_rows, rows_that_fit

# Grey levels of grids by open complaints: (upper bound, shade, legend words); prints the same in black and white.
_SHADES = ((0, "white", "0"), (2, "0.9", "1–2"), (5, "0.75", "3–5"), (None, "0.55", "≥6"))


def _shade(n_open: int) -> str:
    """Grey level of a grid by its open complaints."""
    return next(shade for bound, shade, _ in _SHADES if bound is None or n_open <= bound)


def _draw_main_roads(ax, roads) -> None:
    for klass in MAIN_ROADS:
        lines = line_parts([g for k, _, g in roads if k == klass])
        if lines:
            style = ROAD_STYLE[klass]
            add(ax, LineCollection(lines, colors=style["color"], linewidths=style["linewidth"] * 0.6,
                                   zorder=2, alpha=0.8))


def draw_street_map(ax, street: Street, counts: dict[str, tuple[int, int]], ctx: PageContext,
                    labels: dict[str, str], roads=None) -> None:
    """A street's grids shaded by open complaints, labelled (page numbers), main roads, communities."""
    for _, shade, _ in _SHADES:
        geoms = [g.geom for g in street.grids if _shade(counts.get(g.code, (0, 0))[0]) == shade]
        draw_polygons(ax, geoms, facecolor=shade, edgecolor="0.45", linewidth=0.3, zorder=1)
    if roads:
        _draw_main_roads(ax, roads)
    draw_polygons(ax, [g for _, _, g in street.communities], fill=False, edgecolor="0.15", linewidth=0.7, zorder=3)
    draw_polygons(ax, [street.geom], fill=False, edgecolor="black", linewidth=1.6, zorder=3)
    size = 4.6 * ctx.paper.text_scale
    for g in street.grids:
        if g.code in labels:
            at = shapely.point_on_surface(g.geom)
            ax.text(at.x, at.y, labels[g.code], fontsize=size, ha="center", va="center", zorder=4)
    x0, y0, x1, y1 = street.geom.bounds
    pad = 0.03 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal", adjustable="box", anchor="N")
    metre_ticks(ax, length=2, labelsize=5)


def street_title(ctx: PageContext, street: Street) -> str:
    """City, district and street: the start of every street page's title."""
    en = ctx.lang == "en"
    name = street.name_en if en and street.name_en else street.name
    district = (street.district_name_en if en and street.district_name_en else street.district_name) or ""
    return f"{ctx.city.label(ctx.lang)} · {district} · {name}"


def _shade_legend(ax, ctx: PageContext, x: float, y: float) -> None:
    ax.text(x, y, ctx.t["shade"], fontsize=6.5, va="center")
    for i, (_, shade, label) in enumerate(_SHADES):
        bx = x + 32 + i * 16
        add(ax, Rectangle((bx, y - 1.5), 5, 3, facecolor=shade, edgecolor="0.3", linewidth=0.4))
        ax.text(bx + 6.5, y, label, fontsize=6.5, va="center")


def _map_top(paper: Paper) -> float:
    """Where the map of a street page ends at the top: under the header."""
    return paper.size_mm[1] - MARGIN_MM - HEADER_MM - 2


def draw_atlas_cover(fig: Figure, street: Street, counts: dict, ctx: PageContext, page_no: int, roads) -> None:
    """The atlas cover: the street's grids with their page numbers, and the totals."""
    t = ctx.t
    W, _ = ctx.paper.size_mm
    ax_page = paper_axes(fig, ctx.paper)
    n_open = sum(counts.get(g.code, (0, 0))[0] for g in street.grids)
    n_over = sum(counts.get(g.code, (0, 0))[1] for g in street.grids)
    header(ax_page, ctx, f"{street_title(ctx, street)} · {t['atlas']}",
           t["summary"].format(grids=len(street.grids), open=n_open, overdue=n_over))
    top = _map_top(ctx.paper)
    ax = axes_at(fig, ctx.paper, (MARGIN_MM + 5, MARGIN_MM + 16, W - 2 * MARGIN_MM - 5, top - MARGIN_MM - 16))
    labels = {code: str(p) for code, p in ctx.page_of_grid.items()}
    draw_street_map(ax, street, counts, ctx, labels, roads=roads)
    _shade_legend(ax_page, ctx, MARGIN_MM, MARGIN_MM + 8)
    ax_page.text(W - MARGIN_MM, MARGIN_MM + 8, t["page_numbers"], fontsize=6.5, ha="right", va="center")
    footer(ax_page, ctx, page_no)


def index_rows_per_page(paper: Paper) -> int:
    """Grids an index page lists: two columns of rows."""
    return 2 * rows_that_fit(body_rect(paper)[3])


def draw_index_page(fig: Figure, street: Street, rows: list[list[str]], ctx: PageContext, page_no: int) -> None:
    """Index of the atlas: page, grid code, name, manager, open and overdue complaints; two columns."""
    ax = paper_axes(fig, ctx.paper)
    header(ax, ctx, f"{street_title(ctx, street)} · {ctx.t['index']}", ctx.t["atlas"])
    x, y, w, h = body_rect(ctx.paper)
    per_col = rows_that_fit(h)
    col_w = (w - 6) / 2
    for i in range(2):
        part = rows[i * per_col:(i + 1) * per_col]
        if part:
            draw_table(ax, (x + i * (col_w + 6), y, col_w, h), index_columns(ctx), part,
                       title=ctx.t["index"] if i == 0 else " ")
    footer(ax, ctx, page_no)


def _draw_route(ax, path_xy: np.ndarray, start_label: str) -> None:
    """The stops joined in walking order, numbered, the first one black and named."""
    ax.plot(path_xy[:, 0], path_xy[:, 1], color="black", linewidth=1.4, zorder=5, solid_capstyle="round")
    for k, xy in enumerate(path_xy, start=1):
        ax.annotate(str(k), xy, ha="center", va="center", fontsize=6.5, zorder=6,
                    bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white" if k > 1 else "black",
                          "edgecolor": "black", "linewidth": 0.8},
                    color="black" if k > 1 else "white")
    if len(path_xy):
        ax.annotate(start_label, path_xy[0], xytext=(0, 9), textcoords="offset points", ha="center", fontsize=7,
                    zorder=6, path_effects=HALO)


def draw_route_page(fig: Figure, street: Street, counts: dict, stops: list[dict], path_xy: np.ndarray,
                    ctx: PageContext, page_no: int, roads, fewer: str | None = None) -> None:
    """The route overview: numbered stops joined in walking order, and the table of stops; ``fewer`` says
    beside the summary that fewer grids than the stops asked for had open complaints."""
    t = ctx.t
    W, _ = ctx.paper.size_mm
    ax_page = paper_axes(fig, ctx.paper)
    total_km = stops[-1]["cumulative_m"] / 1000 if stops else 0.0
    summary = t["route_summary"].format(n=len(stops), s=plural(len(stops)), km=total_km)
    header(ax_page, ctx, f"{street_title(ctx, street)} · {t['route']}", f"{summary} · {fewer}" if fewer else summary)
    top = _map_top(ctx.paper)
    # The table takes what its rows need, up to half the page; rows shrink to fit beyond that.
    table_h = min(0.5 * (top - MARGIN_MM), 5.0 + ROW_MM * (len(stops) + 1) + 2)
    row_h = min(ROW_MM, (table_h - 7.0) / (len(stops) + 1))
    size = min(6.3, row_h / PT_TO_MM * 0.72)
    ax = axes_at(fig, ctx.paper, (MARGIN_MM + 5, MARGIN_MM + table_h + 10, W - 2 * MARGIN_MM - 5,
                                  top - MARGIN_MM - table_h - 10))
    draw_street_map(ax, street, counts, ctx, {}, roads=roads)
    _draw_route(ax, path_xy, t["start"])
    draw_table(ax_page, (MARGIN_MM, MARGIN_MM + 4, W - 2 * MARGIN_MM, table_h), route_columns(ctx), route_rows(stops),
               title=t["route"], size=size, row_h=row_h)
    ax_page.text(MARGIN_MM, MARGIN_MM + 1.5, t["route_note"], fontsize=5.6, color="0.3", va="center")
    footer(ax_page, ctx, page_no)
