"""Map furniture of a printed page: legend, scale bar, north arrow, coordinate ticks, inset, QR code."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter, MaxNLocator

from layers.printing.data import Street
from layers.printing.page import PageContext, add, draw_polygons, fit
from layers.printing.style import (
    HOLLOW_LEGEND,
    POINT_STYLE,
    ROAD_STYLE,
    TRAIL_LINE_CLOSED,
    TRAIL_LINE_STYLE,
    VILLAGE_STYLE,
    term,
)


# -- scale, north, ticks --------------------------------------------------------------
def nice_length(target_m: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not above target (a round scale-bar length)."""
    exp = math.floor(math.log10(target_m))
    for step in (5, 2, 1):
        if step * 10**exp <= target_m:
            return float(step * 10**exp)
    return float(10 ** (exp - 1) * 5)


def scale_bar_box(frame, m_per_mm: float) -> tuple[float, float, float, float]:
    """The scale bar's white box (minx, miny, maxx, maxy in map units): no map word goes over it."""
    length = nice_length(0.22 * (frame[2] - frame[0]))
    x0, y0 = frame[0] + 3 * m_per_mm, frame[1] + 3 * m_per_mm
    return (x0, y0, x0 + length + 12 * m_per_mm, y0 + 8.5 * m_per_mm)


#: Where the north arrow stands, as a share of the map's width and height from its lower left.
NORTH_AT = (0.955, 0.9)


def north_arrow_box(frame, m_per_mm: float) -> tuple[float, float, float, float]:
    """The north arrow and its letter (map units): no map word goes over them."""
    w, h = frame[2] - frame[0], frame[3] - frame[1]
    cx, cy = frame[0] + NORTH_AT[0] * w, frame[1] + NORTH_AT[1] * h
    half = max(0.035 * w, 5.5 * m_per_mm)  # its white ground (a share of the map), or the arrow and letter
    return (cx - half, cy - max(0.08 * h, 6 * m_per_mm), cx + half, cy + max(0.05 * h, 9.5 * m_per_mm))


def scale_bar(ax, frame, m_per_mm: float, size: float) -> None:
    """A chequered scale bar of a round length, on a white box in the map's lower left."""
    width_m = frame[2] - frame[0]
    length = nice_length(0.22 * width_m)
    parts = 4 if (length / 4) == int(length / 4) else 2
    x0 = frame[0] + 5 * m_per_mm
    y0 = frame[1] + 5 * m_per_mm
    bar_h = 1.3 * m_per_mm
    add(ax, Rectangle((x0 - 2 * m_per_mm, y0 - 2 * m_per_mm), length + 12 * m_per_mm, 8.5 * m_per_mm,
                      facecolor="white", edgecolor="0.4", linewidth=0.4, alpha=0.9, zorder=8))
    step = length / parts
    for i in range(parts):
        add(ax, Rectangle((x0 + i * step, y0), step, bar_h, facecolor="black" if i % 2 == 0 else "white",
                          edgecolor="black", linewidth=0.5, zorder=9))
    for value in (0, length / 2, length):
        # Each label with its unit, all in one unit: "0   2500   5 km" read as 2,500 km.
        label = f"{value:g} m" if length < 1000 else f"{value / 1000:g} km"
        # "0 km" starts at the bar's end, not centred on it: centred, it ran over the white box's edge.
        ax.text(x0 + value, y0 + bar_h + 0.8 * m_per_mm, label, fontsize=size, ha="center" if value else "left",
                va="bottom", zorder=9)


def north_arrow(ax, angle_deg: float, label: str) -> None:
    """A half-filled arrow to true north, in the axes' upper right (axes coordinates)."""
    fig_w, fig_h = ax.bbox.width, ax.bbox.height  # display units: keep the arrow's shape on any aspect
    cx, cy = NORTH_AT
    size = 9.0 / 25.4 * ax.figure.dpi  # 9 mm long
    theta = math.radians(angle_deg)

    def pt(dx, dy):  # dx, dy in arrow units (tip at dy=+0.5), rotated clockwise by theta
        rx = dx * math.cos(theta) + dy * math.sin(theta)
        ry = -dx * math.sin(theta) + dy * math.cos(theta)
        return (cx + rx * size / fig_w, cy + ry * size / fig_h)

    tip, tail, left, right = pt(0, 0.5), pt(0, -0.2), pt(-0.22, -0.5), pt(0.22, -0.5)
    add(ax, Rectangle((cx - 0.035, cy - 0.08), 0.07, 0.13, transform=ax.transAxes, facecolor="white",
                      edgecolor="none", alpha=0.85, zorder=8))
    for poly, fc in (([tip, left, tail], "black"), ([tip, tail, right], "white")):
        add(ax, PathPatch(Path(poly + [poly[0]], closed=True), transform=ax.transAxes, facecolor=fc,
                          edgecolor="black", linewidth=0.6, zorder=9))
    lx, ly = pt(0, 0.78)
    ax.text(lx, ly, label, transform=ax.transAxes, fontsize=7.5, ha="center", va="center", zorder=9)


def _metre_label(low: float, high: float, margin: float):
    def label(value, _) -> str:
        return "" if margin and (value < low + margin or value > high - margin) else f"{value:.0f}"
    return label


def metre_ticks(ax, corner_share: float = 0.0, **tick_style) -> None:
    """Coordinate ticks in metres of the page's CRS on all four sides, the y labels along the edge.

    With ``corner_share``, no label that near a corner (a share of the extent),
    where it would run into the header or the legend.
    """
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(FuncFormatter(_metre_label(low, high, corner_share * (high - low))))
    ax.tick_params(direction="in", width=0.5, top=True, right=True, **tick_style)
    for lab in ax.get_yticklabels():
        lab.set(rotation=90, va="center")


# -- legend ---------------------------------------------------------------------------
def _road_line(klass: str) -> dict:
    return {k: v for k, v in ROAD_STYLE[klass].items() if k != "zorder"}


def _legend_entries(ctx: PageContext, hollow: bool, closed_trail: bool = False) -> list[tuple[str, str, dict]]:
    """(kind of symbol, words, style) of every legend entry, in reading order; with ``hollow``, what a hollow
    marker means (a sheet drawing a facility not in service), with ``closed_trail`` a grey trail's."""
    t, lang = ctx.t, ctx.lang
    closed = [("point", t["hollow"], HOLLOW_LEGEND)] if hollow else []
    trail_closed = [("line", t["trail_closed"], TRAIL_LINE_CLOSED)] if closed_trail else []
    return [
        ("line", t["grid"], {"color": "black", "linewidth": 2.2}),
        ("line", t["neighbour"], {"color": "0.3", "linewidth": 0.7, "linestyle": (0, (4, 2))}),
        ("line", term("主干路", lang), _road_line("主干路")),
        ("line", term("次干路", lang) + " / " + term("支路", lang), _road_line("次干路")),
        ("line", term("背街小巷", lang), _road_line("背街小巷")),
        ("patch", t["village"], VILLAGE_STYLE),
        ("line", t["trail"], TRAIL_LINE_STYLE),
        *trail_closed,
        ("point", t["layer"]["markets"], POINT_STYLE["markets"]),
        ("point", t["layer"]["toilets"], POINT_STYLE["toilets"]),
        ("point", term("收集点", lang), POINT_STYLE["收集点"]),
        ("point", term("收集站", lang), POINT_STYLE["收集站"]),
        ("point", term("转运站", lang), POINT_STYLE["转运站"]),
        ("point", t["complaint"], POINT_STYLE["complaint"]),
        ("point", t["overdue_complaint"], POINT_STYLE["overdue"]),
        *closed,
        ("number", t["numbered"], {}),
        ("text", t["outside"], {}),
    ]


def draw_legend(ax, ctx: PageContext, rect: tuple, cols: int, hollow: bool = False,
                closed_trail: bool = False) -> None:
    """The legend strip (page mm): symbol then words, in columns; with ``hollow``, the hollow marker's row, with
    ``closed_trail`` the grey trail's."""
    draw_legend_entries(ax, rect, cols, _legend_entries(ctx, hollow, closed_trail), 6.0 * ctx.paper.text_scale)


def draw_legend_entries(ax, rect: tuple, cols: int, entries: list[tuple[str, str, dict]], size: float) -> None:
    """Legend entries ((kind of symbol: line, patch, point, number or text; words; style)) in ``rect`` (page mm),
    symbol then words, in ``cols`` columns filled top to bottom: any printed map's legend."""
    x_left, y_bottom, width, height = rect
    rows = math.ceil(len(entries) / cols)
    col_w = width / cols
    row_h = height / rows
    for i, (kind, label, style) in enumerate(entries):
        col, row = divmod(i, rows)
        x = x_left + col * col_w
        y = y_bottom + height - (row + 0.5) * row_h
        text_x = x + 9.5
        if kind == "line":
            ax.add_line(Line2D([x + 0.5, x + 7.5], [y, y], **style))
        elif kind == "patch":
            add(ax, Rectangle((x + 0.5, y - 1.4), 7, 2.8, **style))
        elif kind == "point":
            ax.scatter([x + 4], [y], **style)
        elif kind == "number":
            ax.text(x + 4, y, "1", fontsize=size, ha="center", va="center",
                    bbox={"boxstyle": "square,pad=0.12", "facecolor": "white", "edgecolor": "black",
                          "linewidth": 0.35})
        else:
            text_x = x + 0.5
        ax.text(text_x, y, fit(label, x + col_w - text_x, size), fontsize=size, va="center")


# -- inset and QR code ----------------------------------------------------------------
def draw_overview(ax, street: Street, grid_geom, frame, ctx: PageContext) -> None:
    """A small map locating the page in its street: communities, the grid, the page frame."""
    draw_polygons(ax, [g for _, _, g in street.communities], facecolor="white", edgecolor="0.55", linewidth=0.3)
    draw_polygons(ax, [street.geom], fill=False, edgecolor="black", linewidth=0.8)
    draw_polygons(ax, [grid_geom], facecolor="black", edgecolor="black", linewidth=0.4)
    add(ax, Rectangle((frame[0], frame[1]), frame[2] - frame[0], frame[3] - frame[1], fill=False,
                      edgecolor="#d62828", linewidth=0.9, linestyle=(0, (3, 1.5))))
    x0, y0, x1, y1 = street.geom.bounds
    pad = 0.04 * max(x1 - x0, y1 - y0)
    ax.set_xlim(min(x0, frame[0]) - pad, max(x1, frame[2]) + pad)
    ax.set_ylim(min(y0, frame[1]) - pad, max(y1, frame[3]) + pad)
    ax.set_aspect("equal", adjustable="box", anchor="NW")
    ax.set_axis_off()
    add(ax, Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="black", linewidth=0.5))


def qr_path(url: str) -> tuple[Path, int]:
    """The QR code of a URL as one vector Path of dark rectangles (row runs), and its module count."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = np.array(qr.get_matrix(), dtype=bool)
    n = matrix.shape[0]
    verts, codes = [], []
    square = [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    for r in range(n):
        row = np.concatenate([[False], matrix[r], [False]])
        edges = np.flatnonzero(np.diff(row.astype(np.int8)))
        for start, stop in zip(edges[::2], edges[1::2]):
            y = n - r  # row 0 at the top
            verts.extend([(start, y), (stop, y), (stop, y - 1), (start, y - 1), (start, y)])
            codes.extend(square)
    return Path(np.array(verts, dtype=float), codes), n


def draw_qr(ax, url: str, rect: tuple) -> None:
    """The QR code of ``url`` as vector squares filling the square ``rect`` (page mm)."""
    path, n = qr_path(url)
    x, y, side, _ = rect
    scaled = Path(path.vertices * (side / n) + (x, y), path.codes)
    add(ax, PathPatch(scaled, facecolor="black", edgecolor="none", linewidth=0))
