"""Draw printed pages with matplotlib: grid sheets, atlas covers, indexes, route maps.

Everything here draws what ``layers/print_data.py`` loaded; nothing queries
the database. Pages are vector: one matplotlib Figure per page, in
millimetres, saved into a PdfPages document by ``layers/print_docs.py``.
Artists are batched (one collection per layer and style) so that an atlas
of a hundred pages renders in seconds, not minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter, MaxNLocator

from layers.printing.data import City, Feature, Grid, PageData, Street
from layers.printing.style import (
    POINT_STYLE,
    PT_TO_MM,
    ROAD_STYLE,
    TEXT,
    TRAIL_AREA_STYLE,
    TRAIL_LINE_STYLE,
    VILLAGE_STYLE,
    Paper,
    point_style_key,
    term,
)

CHINA_TIME = timezone(timedelta(hours=8))  # one time zone for every Chinese city
MARGIN_MM = 10.0
HEADER_MM = 17.0
LEGEND_MM = 15.0
ROW_MM = 4.4  # checklist and index row height
_HALO = [patheffects.withStroke(linewidth=1.6, foreground="white")]


# -- page context -------------------------------------------------------------------
@dataclass
class PageContext:
    """What every page of one document shares: city, paper, language, dates, page count."""

    city: City
    paper: Paper
    lang: str
    crs_name: str
    north_angle_deg: float  # true north, clockwise from grid north (meridian convergence)
    printed: date
    public_url: str
    total_pages: int = 0
    page_of_grid: dict[str, int] = field(default_factory=dict)  # atlas page numbers for neighbour labels

    @property
    def t(self) -> dict:
        return TEXT[self.lang]

    def data_time(self) -> str:
        if self.city.data_time is None:
            return "—"
        return self.city.data_time.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def _fmt_day(value: datetime | None) -> str:
    return value.astimezone(CHINA_TIME).strftime("%m-%d") if value else ""


# -- geometry → matplotlib ------------------------------------------------------------
def polygon_path(geoms) -> Path | None:
    """One compound Path of all polygons (holes included) of some shapely geometries."""
    verts, codes = [], []
    for geom in geoms:
        for poly in shapely.get_parts(geom):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)
                if len(xy) < 4:
                    continue
                c = np.full(len(xy), Path.LINETO, dtype=np.uint8)
                c[0], c[-1] = Path.MOVETO, Path.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
    if not verts:
        return None
    return Path(np.concatenate(verts), np.concatenate(codes))


def line_parts(geoms) -> list[np.ndarray]:
    """Coordinate arrays of every line part (polygon rings are not lines)."""
    out = []
    for geom in geoms:
        for part in shapely.get_parts(geom):
            if part.geom_type == "LineString" and not part.is_empty:
                out.append(np.asarray(part.coords))
    return out


def nice_length(target_m: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not above target (a round scale-bar length)."""
    exp = math.floor(math.log10(target_m))
    for step in (5, 2, 1):
        if step * 10**exp <= target_m:
            return float(step * 10**exp)
    return float(10 ** (exp - 1) * 5)


# -- text fitting ----------------------------------------------------------------------
def text_width_mm(text: str, size_pt: float) -> float:
    em = size_pt * PT_TO_MM
    return sum(em if ord(ch) > 0x2E7F else 0.56 * em for ch in text)


def fit(text: str, width_mm: float, size_pt: float) -> str:
    """Text cut with an ellipsis to fit a cell."""
    if text_width_mm(text, size_pt) <= width_mm:
        return text
    while text and text_width_mm(text + "…", size_pt) > width_mm:
        text = text[:-1]
    return text + "…"


# -- layouts ------------------------------------------------------------------------------
@dataclass
class GridLayout:
    """Where the parts of a grid sheet go, as (x, y, w, h) in millimetres from the lower left."""

    map: tuple
    legend: tuple
    legend_cols: int
    info: tuple
    overview: tuple
    qr: tuple
    qr_text: tuple
    checklist: tuple


def grid_layout(paper: Paper) -> GridLayout:
    W, H = paper.size_mm
    m = MARGIN_MM
    top = H - m - HEADER_MM
    if not paper.landscape:
        bottom_h = round(0.31 * H)
        left_w = round(0.31 * W)
        map_y = m + bottom_h + LEGEND_MM + 7
        return GridLayout(
            map=(m + 5, map_y, W - 2 * m - 5, top - map_y),
            legend=(m, m + bottom_h + 2, W - 2 * m, LEGEND_MM),
            legend_cols=4,
            info=(m, m + bottom_h - 24, left_w, 24),
            overview=(m, m + 28, left_w, bottom_h - 54),
            qr=(m, m + 1, 25, 25),
            qr_text=(m + 27, m + 1, left_w - 27, 25),
            checklist=(m + left_w + 4, m, W - 2 * m - left_w - 4, bottom_h),
        )
    panel_w = round(0.34 * W)
    px = W - m - panel_w
    map_y = m + LEGEND_MM + 7
    ov_h = 40.0 if paper.name == "A4" else 60.0
    return GridLayout(
        map=(m + 5, map_y, px - 4 - (m + 5), top - map_y),
        legend=(m, m, px - 4 - m, LEGEND_MM),
        legend_cols=4,
        info=(px, top - 24, panel_w, 24),
        overview=(px, top - 26 - ov_h, panel_w * 0.6, ov_h),
        qr=(px + panel_w * 0.6 + 4, top - 26 - 28, 28, 28),
        qr_text=(px + panel_w * 0.6 + 4, top - 26 - ov_h, panel_w * 0.4 - 4, ov_h - 30),
        checklist=(px, m, panel_w, top - 28 - ov_h - m),
    )


def _add(ax, artist):
    """Add a patch or collection without updating data limits (every axes here has fixed limits;
    the limit update walks every Bézier segment and was a fifth of an atlas' time)."""
    return ax.add_artist(artist)


def paper_axes(fig: Figure, paper: Paper):
    """One axes over the whole page whose data units are millimetres from the lower left.

    Tables, legend, texts and the QR code all draw into it: an axes costs
    more to create than everything drawn in it.
    """
    W, H = paper.size_mm
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    ax.set_axis_off()
    return ax


def new_page(paper: Paper) -> Figure:
    return Figure(figsize=paper.size_in)


def _header(ax, ctx: PageContext, title: str, subtitle: str, right: str | None = None) -> None:
    W, H = ctx.paper.size_mm
    k = ctx.paper.text_scale
    ax.text(MARGIN_MM, H - MARGIN_MM - 5.5, title, fontsize=13.5 * k, va="center", ha="left")
    ax.text(MARGIN_MM, H - MARGIN_MM - 12.5, subtitle, fontsize=7.5 * k, va="center", ha="left", color="0.2")
    notes = [n for n in (right, ctx.t["demo"] if ctx.city.is_demo else None) if n]
    for i, note in enumerate(notes):
        big = i == 0 and right is not None
        ax.text(W - MARGIN_MM, H - MARGIN_MM - 5.5 - 7 * i, note, fontsize=(11 if big else 7.5) * k, va="center",
                ha="right", color="0.1" if big else "0.35")
    ax.add_line(Line2D([MARGIN_MM, W - MARGIN_MM], [H - MARGIN_MM - 15.5] * 2, color="black", linewidth=0.8))


def _footer(ax, ctx: PageContext, page_no: int, extra: str = "") -> None:
    W, _ = ctx.paper.size_mm
    t = ctx.t
    left = f"{t['data_time']} {ctx.data_time()} · {t['printed']} {ctx.printed:%Y-%m-%d} · {t['crs']} {ctx.crs_name}"
    if extra:
        left += " · " + extra
    if ctx.city.attribution:
        left += " · " + ctx.city.attribution
    ax.text(MARGIN_MM, 5.5, fit(left, W - 2 * MARGIN_MM - 30, 5.5), fontsize=5.5, color="0.3", va="center")
    ax.text(W - MARGIN_MM, 5.5, t["page"].format(n=page_no, total=ctx.total_pages or page_no), fontsize=6.5,
            ha="right", va="center")


# -- tables ---------------------------------------------------------------------------------
@dataclass
class Column:
    title: str
    width: float  # share of the table width
    align: str = "left"
    checkbox: bool = False


def draw_table(ax, rect: tuple, columns: list[Column], rows: list[list[str]],
               title: str | None = None, size: float = 6.3, row_h: float = ROW_MM) -> None:
    """A ruled table from the top of ``rect`` (x, y, w, h in page mm): optional title, a header row, rows."""
    x_left, y_bottom, width, height = rect
    y = y_bottom + height
    if title:
        ax.text(x_left, y - 2.2, title, fontsize=size + 1.8, va="center")
        y -= 5.0
    total = sum(c.width for c in columns)
    widths = [c.width / total * width for c in columns]
    xs = x_left + np.concatenate([[0.0], np.cumsum(widths)])
    _add(ax, Rectangle((x_left, y - row_h), width, row_h, facecolor="0.86", edgecolor="none"))
    for col, x0, w in zip(columns, xs, widths):
        ax.text(x0 + (w / 2 if col.align == "center" else 0.8), y - row_h / 2, fit(col.title, w - 1, size),
                fontsize=size, va="center", ha="center" if col.align == "center" else "left")
    boxes = []
    x_right = x_left + width
    segments = [[(x_left, y), (x_right, y)], [(x_left, y - row_h), (x_right, y - row_h)]]
    y -= row_h
    for row in rows:
        for col, x0, w, value in zip(columns, xs, widths, row):
            if col.checkbox:
                side = row_h * 0.62
                boxes.append(Rectangle((x0 + (w - side) / 2, y - row_h / 2 - side / 2), side, side))
            elif value:
                ax.text(x0 + (w / 2 if col.align == "center" else 0.8), y - row_h / 2, fit(value, w - 1.2, size),
                        fontsize=size, va="center", ha="center" if col.align == "center" else "left")
        y -= row_h
        segments.append([(x_left, y), (x_right, y)])
    _add(ax, LineCollection(segments, colors="0.55", linewidths=0.3))
    if boxes:
        # One collection for all tick boxes.
        from matplotlib.collections import PatchCollection

        _add(ax, PatchCollection(boxes, facecolor="white", edgecolor="black", linewidth=0.6))


def rows_that_fit(height: float, title: bool = True, row_h: float = ROW_MM) -> int:
    return max(1, int((height - (5.0 if title else 0) - row_h) // row_h))


def checklist_columns(ctx: PageContext) -> list[Column]:
    t = ctx.t
    return [Column(t["no"], 6, "center"), Column(t["type"], 12), Column(t["name_place"], 38),
            Column(t["detail"], 25), Column(t["id"], 12), Column(t["check"], 7, "center", checkbox=True)]


def checklist_row(ctx: PageContext, number: int, f: Feature) -> list[str]:
    t, lang = ctx.t, ctx.lang
    place = f.address or (f"{t['near']}{f.near_road}" if f.near_road else "")
    if f.layer == "complaints":
        name = (f.detail or f.kind) if lang == "en" else f.kind
        detail = f"{term(f.status, lang)} {t['due']}{_fmt_day(f.due_at)}"
        if f.overdue:
            detail += f" {t['overdue']}"
    else:
        name = f.name or ""
        detail = term(f.detail, lang)
    label = " · ".join(p for p in (name, place) if p)
    return [str(number), t["layer"][f.layer], label, detail, str(f.id), ""]


# -- the map of a grid sheet -----------------------------------------------------------
def _draw_polygons(ax, geoms, **style) -> None:
    path = polygon_path(geoms)
    if path is not None:
        _add(ax, PathPatch(path, **style))


def _road_labels(ax, page: PageData, frame, size: float) -> None:
    """One label per named road in the frame, on its longest visible piece, along the road."""
    box = shapely.box(*frame).buffer(-0.04 * (frame[2] - frame[0]))
    by_name: dict[str, list] = {}
    for klass, name, geom, in_grid in page.roads:
        if not name or (klass == "背街小巷" and not in_grid):
            continue
        by_name.setdefault(name, []).append(geom)
    placed: list = []
    for name, geoms in by_name.items():
        merged = shapely.line_merge(shapely.intersection(shapely.union_all(geoms), box))
        parts = [p for p in shapely.get_parts(merged) if p.geom_type == "LineString"]
        if not parts:
            continue
        longest = max(parts, key=lambda p: p.length)
        if longest.length < 0.12 * (frame[2] - frame[0]):
            continue
        mid = longest.interpolate(0.5, normalized=True)
        if any(mid.distance(p) < 0.1 * (frame[2] - frame[0]) for p in placed):
            continue
        placed.append(mid)
        a = longest.interpolate(0.45, normalized=True)
        b = longest.interpolate(0.55, normalized=True)
        angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        alley = any(k == "背街小巷" for k, n, _, _ in page.roads if n == name)
        ax.text(mid.x, mid.y, name, fontsize=size * (0.85 if alley else 1.0), rotation=angle,
                rotation_mode="anchor", ha="center", va="center", color="#5a2d0c" if alley else "0.15",
                path_effects=_HALO, zorder=6.5, clip_on=True)


def _scale_bar(ax, frame, m_per_mm: float, size: float) -> None:
    width_m = frame[2] - frame[0]
    length = nice_length(0.22 * width_m)
    parts = 4 if (length / 4) == int(length / 4) else 2
    x0 = frame[0] + 5 * m_per_mm
    y0 = frame[1] + 5 * m_per_mm
    bar_h = 1.3 * m_per_mm
    _add(ax, Rectangle((x0 - 2 * m_per_mm, y0 - 2 * m_per_mm), length + 12 * m_per_mm, 8.5 * m_per_mm,
                           facecolor="white", edgecolor="0.4", linewidth=0.4, alpha=0.9, zorder=8))
    step = length / parts
    for i in range(parts):
        _add(ax, Rectangle((x0 + i * step, y0), step, bar_h, facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.5, zorder=9))
    for value in (0, length / 2, length):
        label = f"{value:g}" if value < length else (f"{value:g} m" if length < 1000 else f"{value / 1000:g} km")
        ax.text(x0 + value, y0 + bar_h + 0.8 * m_per_mm, label, fontsize=size, ha="center", va="bottom", zorder=9)


def _north_arrow(ax, angle_deg: float, label: str) -> None:
    """A half-filled arrow to true north, in the axes' upper right (axes coordinates)."""
    fig_w, fig_h = ax.bbox.width, ax.bbox.height  # display units: keep the arrow's shape on any aspect
    cx, cy = 0.955, 0.9
    size = 9.0 / 25.4 * ax.figure.dpi  # 9 mm long
    theta = math.radians(angle_deg)

    def pt(dx, dy):  # dx, dy in arrow units (tip at dy=+0.5), rotated clockwise by theta
        rx = dx * math.cos(theta) + dy * math.sin(theta)
        ry = -dx * math.sin(theta) + dy * math.cos(theta)
        return (cx + rx * size / fig_w, cy + ry * size / fig_h)

    tip, tail, left, right = pt(0, 0.5), pt(0, -0.2), pt(-0.22, -0.5), pt(0.22, -0.5)
    _add(ax, Rectangle((cx - 0.035, cy - 0.08), 0.07, 0.13, transform=ax.transAxes, facecolor="white",
                           edgecolor="none", alpha=0.85, zorder=8))
    for poly, fc in (([tip, left, tail], "black"), ([tip, tail, right], "white")):
        _add(ax, PathPatch(Path(poly + [poly[0]], closed=True), transform=ax.transAxes, facecolor=fc,
                               edgecolor="black", linewidth=0.6, zorder=9))
    lx, ly = pt(0, 0.78)
    ax.text(lx, ly, label, transform=ax.transAxes, fontsize=7.5, ha="center", va="center", zorder=9)


def draw_grid_map(ax, page: PageData, ctx: PageContext, numbers: dict[tuple[str, int], int], map_w_mm: float,
                  highlight_label: str | None = None) -> float:
    """The map of a grid sheet into ``ax``; the metres per paper millimetre."""
    frame = page.frame
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    m_per_mm = (frame[2] - frame[0]) / map_w_mm
    ax.set_facecolor("white")
    grid_geom = page.grid.geom

    # Areas first, then roads, grid lines, the mask over the outside, points, labels.
    _draw_polygons(ax, [g for _, _, g in page.villages], zorder=1, **VILLAGE_STYLE)
    trail_areas = [g for _, _, g in page.trails if g.geom_type in ("Polygon", "MultiPolygon")]
    _draw_polygons(ax, trail_areas, zorder=1.5, **TRAIL_AREA_STYLE)
    trail_lines = line_parts([g for _, _, g in page.trails])
    if trail_lines:
        _add(ax, LineCollection(trail_lines, zorder=2.5, **TRAIL_LINE_STYLE))
    for klass, style in ROAD_STYLE.items():
        lines = line_parts([g for k, _, g, _ in page.roads if k == klass])
        if lines:
            _add(ax, LineCollection(lines, colors=style["color"], linewidths=style["linewidth"],
                                             linestyles=[style["linestyle"]], zorder=style["zorder"],
                                             capstyle="round"))
    _draw_polygons(ax, [g for _, _, g in page.neighbours], fill=False, edgecolor="0.3", linewidth=0.7,
                   linestyle=(0, (4, 2)), zorder=4)

    outside = [f for f in page.points if not f.in_grid]
    inside = [f for f in page.points if f.in_grid]
    for group, zorder, scale in ((outside, 4.2, 0.7), (inside, 6.0, 1.0)):
        keys: dict[str, list[Feature]] = {}
        for f in group:
            keys.setdefault(point_style_key(f.layer, f.kind, f.overdue), []).append(f)
        for key, feats in keys.items():
            style = dict(POINT_STYLE[key])
            style["s"] = style["s"] * scale
            ax.scatter([f.x for f in feats], [f.y for f in feats], zorder=zorder, clip_on=True, **style)

    # Fade everything outside the grid, so the grid reads first (works in black and white).
    mask = shapely.box(*frame).difference(grid_geom)
    _draw_polygons(ax, [mask], facecolor="white", edgecolor="none", alpha=0.5, zorder=4.5)
    _draw_polygons(ax, [grid_geom], fill=False, edgecolor="black", linewidth=2.2, zorder=5.5)

    size = 6.0 * ctx.paper.text_scale
    for code, _, geom in page.neighbours:
        at = shapely.point_on_surface(shapely.clip_by_rect(geom, *frame))
        if at.is_empty:
            continue
        label = f"{code[9:12]}-{code[12:]}"
        if code in ctx.page_of_grid:
            label += f"\nP{ctx.page_of_grid[code]}"
        ax.text(at.x, at.y, label, fontsize=size * 0.9, color="0.4", ha="center", va="center", zorder=4.6,
                linespacing=1.0)
    _road_labels(ax, page, frame, size)

    for f in page.checklist:
        n = numbers[(f.layer, f.id)]
        area = f.layer in ("urban_villages", "health_trails")
        ax.annotate(str(n), (f.x, f.y), xytext=(0, 0) if area else (3.2, 2.4), textcoords="offset points",
                    fontsize=size * 1.05, ha="center" if area else "left", va="center" if area else "bottom",
                    zorder=7, bbox={"boxstyle": "round,pad=0.15" if area else "square,pad=0.12",
                                    "facecolor": "white", "edgecolor": "black", "linewidth": 0.35})

    # Coordinate ticks in metres of the page's CRS, on all four sides; no label
    # right at a corner, where it would run into the header or the legend.
    for axis, (low, high) in ((ax.xaxis, (frame[0], frame[2])), (ax.yaxis, (frame[1], frame[3]))):
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        edge = 0.04 * (high - low)
        axis.set_major_formatter(FuncFormatter(
            lambda v, _, low=low, high=high, edge=edge: "" if v < low + edge or v > high - edge else f"{v:.0f}"))
    ax.tick_params(direction="in", length=2.5, width=0.5, labelsize=5.2, top=True, right=True, pad=1.5)
    for lab in ax.get_yticklabels():
        lab.set(rotation=90, va="center")
    for spine in ax.spines.values():
        spine.set_linewidth(0.9)

    _scale_bar(ax, frame, m_per_mm, size * 0.95)
    _north_arrow(ax, ctx.north_angle_deg, ctx.t["north"])
    if highlight_label:
        ax.text(0.015, 0.975, highlight_label, transform=ax.transAxes, fontsize=9, va="top", ha="left",
                zorder=9, bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": "black",
                                "linewidth": 0.6})
    return m_per_mm


def draw_legend(ax, ctx: PageContext, rect: tuple, cols: int) -> None:
    """The legend strip (page mm): symbol then words, in columns."""
    t = ctx.t
    entries: list[tuple[str, str, dict]] = [
        ("line", t["grid"], {"color": "black", "linewidth": 2.2}),
        ("line", t["neighbour"], {"color": "0.3", "linewidth": 0.7, "linestyle": (0, (4, 2))}),
        ("line", term("主干路", ctx.lang), {k: v for k, v in ROAD_STYLE["主干路"].items() if k != "zorder"}),
        ("line", term("次干路", ctx.lang) + " / " + term("支路", ctx.lang),
         {k: v for k, v in ROAD_STYLE["次干路"].items() if k != "zorder"}),
        ("line", term("背街小巷", ctx.lang), {k: v for k, v in ROAD_STYLE["背街小巷"].items() if k != "zorder"}),
        ("patch", t["village"], VILLAGE_STYLE),
        ("line", t["trail"], TRAIL_LINE_STYLE),
        ("point", t["layer"]["markets"], POINT_STYLE["markets"]),
        ("point", t["layer"]["toilets"], POINT_STYLE["toilets"]),
        ("point", term("收集点", ctx.lang), POINT_STYLE["收集点"]),
        ("point", term("收集站", ctx.lang), POINT_STYLE["收集站"]),
        ("point", term("转运站", ctx.lang), POINT_STYLE["转运站"]),
        ("point", t["complaint"], POINT_STYLE["complaint"]),
        ("point", t["overdue_complaint"], POINT_STYLE["overdue"]),
        ("number", t["numbered"], {}),
        ("text", t["outside"], {}),
    ]
    x_left, y_bottom, width, height = rect
    rows = math.ceil(len(entries) / cols)
    col_w = width / cols
    row_h = height / rows
    size = 6.0 * ctx.paper.text_scale
    for i, (kind, label, style) in enumerate(entries):
        col, row = divmod(i, rows)
        x = x_left + col * col_w
        y = y_bottom + height - (row + 0.5) * row_h
        text_x = x + 9.5
        if kind == "line":
            ax.add_line(Line2D([x + 0.5, x + 7.5], [y, y], **style))
        elif kind == "patch":
            _add(ax, Rectangle((x + 0.5, y - 1.4), 7, 2.8, **style))
        elif kind == "point":
            ax.scatter([x + 4], [y], **style)
        elif kind == "number":
            ax.text(x + 4, y, "1", fontsize=size, ha="center", va="center",
                    bbox={"boxstyle": "square,pad=0.12", "facecolor": "white", "edgecolor": "black",
                          "linewidth": 0.35})
        else:
            text_x = x + 0.5
        ax.text(text_x, y, fit(label, x + col_w - text_x, size), fontsize=size, va="center")


def draw_overview(ax, street: Street, grid_geom, frame, ctx: PageContext) -> None:
    """A small map locating the page in its street: communities, the grid, the page frame."""
    _draw_polygons(ax, [g for _, _, g in street.communities], facecolor="white", edgecolor="0.55", linewidth=0.3)
    _draw_polygons(ax, [street.geom], fill=False, edgecolor="black", linewidth=0.8)
    _draw_polygons(ax, [grid_geom], facecolor="black", edgecolor="black", linewidth=0.4)
    _add(ax, Rectangle((frame[0], frame[1]), frame[2] - frame[0], frame[3] - frame[1], fill=False,
                       edgecolor="#d62828", linewidth=0.9, linestyle=(0, (3, 1.5))))
    x0, y0, x1, y1 = street.geom.bounds
    pad = 0.04 * max(x1 - x0, y1 - y0)
    ax.set_xlim(min(x0, frame[0]) - pad, max(x1, frame[2]) + pad)
    ax.set_ylim(min(y0, frame[1]) - pad, max(y1, frame[3]) + pad)
    ax.set_aspect("equal", adjustable="box", anchor="NW")
    ax.set_axis_off()
    _add(ax, Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="black", linewidth=0.5))


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
    _add(ax, PathPatch(scaled, facecolor="black", edgecolor="none", linewidth=0))


def grid_url(ctx: PageContext, grid: Grid) -> str:
    """The online map of a grid: the street's grid map, focused on this grid."""
    lang = "&lang=en" if ctx.lang == "en" else ""
    return f"{ctx.public_url}/map/grids?street={grid.street_code}&grid={grid.code}{lang}"


def _grid_title(ctx: PageContext, grid: Grid) -> tuple[str, str]:
    t = ctx.t
    en = ctx.lang == "en"
    street = (grid.street_name_en if en and grid.street_name_en else grid.street_name) or grid.street_code
    community = (grid.community_name_en if en and grid.community_name_en else grid.community_name) or ""
    district = (grid.district_name_en if en and grid.district_name_en else grid.district_name) or ""
    title = f"{ctx.city.label(ctx.lang)} · {street} · {grid.name or grid.code}"
    subtitle = f"{t['sheet']} · {t['grid_code']} {grid.code} · {district} {street} {community}".strip()
    return title, subtitle


def _info_lines(page: PageData, ctx: PageContext) -> list[str]:
    """Who answers for the grid, and what is in it."""
    t = ctx.t
    grid = page.grid
    n_open = sum(1 for f in page.points if f.in_grid and f.layer == "complaints")
    n_over = sum(1 for f in page.points if f.in_grid and f.layer == "complaints" and f.overdue)
    alleys = sorted({n for k, n, _, inside in page.roads if k == "背街小巷" and inside and n})
    lines = [
        f"{t['unit']}：{grid.responsible_unit or '—'}",
        f"{t['manager']}：{grid.grid_manager or '—'}    {t['phone']}：{grid.phone or '—'}",
        f"{t['area']}：{grid.geom.area / 10_000:.2f} {t['hectare']} · {t['open']} {n_open}{t['items']}"
        f"（{t['overdue']} {n_over}）",
        f"{t['back_streets']}：{len(alleys)} {t['segments']}" + (f"（{'、'.join(alleys[:3])}…）" if alleys else ""),
    ]
    if ctx.lang == "en":
        lines = [ln.replace("：", ": ").replace("（", " (").replace("）", ")").replace("、", ", ") for ln in lines]
    return lines


def draw_grid_sheet(fig: Figure, page: PageData, street: Street, ctx: PageContext, page_no: int,
                    rows: list[Feature], numbers: dict, stop_label: str | None = None) -> None:
    """A whole grid sheet: header, map, legend, assignment, overview, QR, the first checklist rows."""
    t = ctx.t
    paper = ctx.paper
    layout = grid_layout(paper)
    W, H = paper.size_mm
    ax_page = paper_axes(fig, paper)
    title, subtitle = _grid_title(ctx, page.grid)
    _header(ax_page, ctx, title, subtitle, stop_label)

    x, y, w, h = layout.map
    ax = fig.add_axes((x / W, y / H, w / W, h / H))
    m_per_mm = draw_grid_map(ax, page, ctx, numbers, w)
    draw_legend(ax_page, ctx, layout.legend, layout.legend_cols)

    ix, iy, iw, ih = layout.info
    size = 6.6 * paper.text_scale
    for i, line in enumerate(_info_lines(page, ctx)):
        ax_page.text(ix, iy + ih - 2.5 - i * 5.0, fit(line, iw, size), fontsize=size, va="center")

    ox, oy, ow, oh = layout.overview
    ov = fig.add_axes((ox / W, oy / H, ow / W, (oh - 3.5) / H))
    draw_overview(ov, street, page.grid.geom, page.frame, ctx)
    name = street.name_en if ctx.lang == "en" and street.name_en else street.name
    ax_page.text(ox, oy + oh - 1.2, f"{t['overview']} · {name}", fontsize=6.0 * paper.text_scale, va="center")

    url = grid_url(ctx, page.grid)
    draw_qr(ax_page, url, layout.qr)
    tx, ty, tw, th = layout.qr_text
    ax_page.text(tx, ty + th - 2, t["qr"], fontsize=6.2, va="top")
    chunk = max(10, int(tw / (5.0 * PT_TO_MM * 0.56)))
    for i in range(0, len(url), chunk):
        ax_page.text(tx, ty + th - 7 - (i // chunk) * 2.6, url[i:i + chunk], fontsize=5.0, va="top", color="0.25")

    _checklist(ax_page, ctx, layout.checklist, rows, numbers, continued=False)
    _footer(ax_page, ctx, page_no, f"{t['scale']} 1:{round(m_per_mm * 1000, -1):,.0f}")


def _checklist(ax, ctx: PageContext, rect: tuple, rows: list[Feature], numbers: dict, continued: bool) -> None:
    t = ctx.t
    title = t["checklist"] + (t["continued"] if continued else "")
    if not rows:
        x, y, _, h = rect
        ax.text(x, y + h - 2.2, title, fontsize=8.1, va="center")
        ax.text(x, y + h - 9, t["nothing"], fontsize=6.5, va="center", color="0.3")
        return
    body = [checklist_row(ctx, numbers[(f.layer, f.id)], f) for f in rows]
    draw_table(ax, rect, checklist_columns(ctx), body, title=title)


def _body_rect(paper: Paper) -> tuple:
    """The page below the header, in mm."""
    W, H = paper.size_mm
    return (MARGIN_MM, MARGIN_MM, W - 2 * MARGIN_MM, H - 2 * MARGIN_MM - HEADER_MM - 2)


def draw_checklist_page(fig: Figure, page: PageData, ctx: PageContext, page_no: int, rows: list[Feature],
                        numbers: dict, stop_label: str | None = None) -> None:
    """A continuation page: the rest of a long checklist."""
    ax = paper_axes(fig, ctx.paper)
    title, subtitle = _grid_title(ctx, page.grid)
    _header(ax, ctx, title, subtitle, stop_label)
    _checklist(ax, ctx, _body_rect(ctx.paper), rows, numbers, continued=True)
    _footer(ax, ctx, page_no)


def continuation_rows(paper: Paper) -> int:
    return rows_that_fit(_body_rect(paper)[3])


def first_page_rows(paper: Paper) -> int:
    return rows_that_fit(grid_layout(paper).checklist[3])


# -- street maps: atlas cover and route --------------------------------------------------
def _shade(n_open: int) -> str:
    """Grey level of a grid by its open complaints (prints the same in black and white)."""
    if n_open == 0:
        return "white"
    if n_open <= 2:
        return "0.9"
    if n_open <= 5:
        return "0.75"
    return "0.55"


def draw_street_map(ax, street: Street, counts: dict[str, tuple[int, int]], ctx: PageContext,
                    labels: dict[str, str], roads=None) -> None:
    """A street's grids shaded by open complaints, labelled (page numbers), main roads, communities."""
    for shade in ("white", "0.9", "0.75", "0.55"):
        geoms = [g.geom for g in street.grids if _shade(counts.get(g.code, (0, 0))[0]) == shade]
        _draw_polygons(ax, geoms, facecolor=shade, edgecolor="0.45", linewidth=0.3, zorder=1)
    if roads:
        for klass in ("快速路", "主干路", "次干路"):
            lines = line_parts([g for k, _, g in roads if k == klass])
            if lines:
                style = ROAD_STYLE[klass]
                _add(ax, LineCollection(lines, colors=style["color"], linewidths=style["linewidth"] * 0.6,
                                        zorder=2, alpha=0.8))
    _draw_polygons(ax, [g for _, _, g in street.communities], fill=False, edgecolor="0.15", linewidth=0.7, zorder=3)
    _draw_polygons(ax, [street.geom], fill=False, edgecolor="black", linewidth=1.6, zorder=3)
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
    ax.tick_params(direction="in", length=2, width=0.5, labelsize=5, top=True, right=True)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    for lab in ax.get_yticklabels():
        lab.set(rotation=90, va="center")


def _street_title(ctx: PageContext, street: Street) -> str:
    en = ctx.lang == "en"
    name = street.name_en if en and street.name_en else street.name
    district = (street.district_name_en if en and street.district_name_en else street.district_name) or ""
    return f"{ctx.city.label(ctx.lang)} · {district} · {name}"


def _shade_legend(ax, ctx: PageContext, x: float, y: float) -> None:
    ax.text(x, y, ctx.t["shade"], fontsize=6.5, va="center")
    for i, (shade, label) in enumerate((("white", "0"), ("0.9", "1–2"), ("0.75", "3–5"), ("0.55", "≥6"))):
        bx = x + 32 + i * 16
        _add(ax, Rectangle((bx, y - 1.5), 5, 3, facecolor=shade, edgecolor="0.3", linewidth=0.4))
        ax.text(bx + 6.5, y, label, fontsize=6.5, va="center")


def draw_atlas_cover(fig: Figure, street: Street, counts: dict, ctx: PageContext, page_no: int, roads) -> None:
    """The atlas cover: the street's grids with their page numbers, and the totals."""
    t = ctx.t
    W, H = ctx.paper.size_mm
    ax_page = paper_axes(fig, ctx.paper)
    n_open = sum(counts.get(g.code, (0, 0))[0] for g in street.grids)
    n_over = sum(counts.get(g.code, (0, 0))[1] for g in street.grids)
    _header(ax_page, ctx, f"{_street_title(ctx, street)} · {t['atlas']}",
            t["summary"].format(grids=len(street.grids), open=n_open, overdue=n_over))
    top = H - MARGIN_MM - HEADER_MM - 2
    rect = (MARGIN_MM + 5, MARGIN_MM + 16, W - 2 * MARGIN_MM - 5, top - MARGIN_MM - 16)
    ax = fig.add_axes((rect[0] / W, rect[1] / H, rect[2] / W, rect[3] / H))
    labels = {code: str(p) for code, p in ctx.page_of_grid.items()}
    draw_street_map(ax, street, counts, ctx, labels, roads=roads)
    _shade_legend(ax_page, ctx, MARGIN_MM, MARGIN_MM + 8)
    ax_page.text(W - MARGIN_MM, MARGIN_MM + 8, t["page_numbers"], fontsize=6.5, ha="right", va="center")
    _footer(ax_page, ctx, page_no)


def index_columns(ctx: PageContext) -> list[Column]:
    t = ctx.t
    return [Column(t["page_no"], 7, "center"), Column(t["grid_code"], 22), Column(t["grid_name"], 26),
            Column(t["manager"], 12), Column(t["open_short"], 8, "center"), Column(t["overdue_short"], 8, "center")]


def index_rows_per_page(paper: Paper) -> int:
    return 2 * rows_that_fit(_body_rect(paper)[3])


def draw_index_page(fig: Figure, street: Street, rows: list[list[str]], ctx: PageContext, page_no: int) -> None:
    """Index of the atlas: page, grid code, name, manager, open and overdue complaints; two columns."""
    ax = paper_axes(fig, ctx.paper)
    _header(ax, ctx, f"{_street_title(ctx, street)} · {ctx.t['index']}", ctx.t["atlas"])
    x, y, w, h = _body_rect(ctx.paper)
    per_col = rows_that_fit(h)
    col_w = (w - 6) / 2
    for i in range(2):
        part = rows[i * per_col:(i + 1) * per_col]
        if part:
            draw_table(ax, (x + i * (col_w + 6), y, col_w, h), index_columns(ctx), part,
                       title=ctx.t["index"] if i == 0 else " ")
    _footer(ax, ctx, page_no)


def draw_route_page(fig: Figure, street: Street, counts: dict, stops: list[dict], path_xy: np.ndarray,
                    ctx: PageContext, page_no: int, roads) -> None:
    """The route overview: numbered stops joined in walking order, and the table of stops."""
    t = ctx.t
    W, H = ctx.paper.size_mm
    ax_page = paper_axes(fig, ctx.paper)
    total_km = stops[-1]["cumulative_m"] / 1000 if stops else 0.0
    _header(ax_page, ctx, f"{_street_title(ctx, street)} · {t['route']}",
            t["route_summary"].format(n=len(stops), km=total_km))
    top = H - MARGIN_MM - HEADER_MM - 2
    # The table takes what its rows need, up to half the page; rows shrink to fit beyond that.
    table_h = min(0.5 * (top - MARGIN_MM), 5.0 + ROW_MM * (len(stops) + 1) + 2)
    row_h = min(ROW_MM, (table_h - 7.0) / (len(stops) + 1))
    size = min(6.3, row_h / PT_TO_MM * 0.72)
    map_rect = (MARGIN_MM + 5, MARGIN_MM + table_h + 10, W - 2 * MARGIN_MM - 5, top - MARGIN_MM - table_h - 10)
    ax = fig.add_axes((map_rect[0] / W, map_rect[1] / H, map_rect[2] / W, map_rect[3] / H))
    draw_street_map(ax, street, counts, ctx, {}, roads=roads)
    ax.plot(path_xy[:, 0], path_xy[:, 1], color="black", linewidth=1.4, zorder=5, solid_capstyle="round")
    for k, xy in enumerate(path_xy, start=1):
        ax.annotate(str(k), xy, ha="center", va="center", fontsize=6.5, zorder=6,
                    bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white" if k > 1 else "black",
                          "edgecolor": "black", "linewidth": 0.8},
                    color="black" if k > 1 else "white")
    if len(path_xy):
        ax.annotate(t["start"], path_xy[0], xytext=(0, 9), textcoords="offset points", ha="center", fontsize=7,
                    zorder=6, path_effects=_HALO)
    cols = [Column(t["stops"], 5, "center"), Column(t["grid_code"], 20), Column(t["grid_name"], 22),
            Column(t["open_short"], 7, "center"), Column(t["overdue_short"], 7, "center"),
            Column(t["score"], 8, "center"), Column(t["manager"], 11), Column(t["phone"], 17),
            Column(t["distance"], 11, "center")]
    rows = [[str(s["stop"]), s["code"], s["name"] or "", str(s["open"]), str(s["overdue"]), f"{s['score']:g}",
             s["manager"] or "", s["phone"] or "", f"{s['cumulative_m']:,.0f} m"] for s in stops]
    draw_table(ax_page, (MARGIN_MM, MARGIN_MM + 4, W - 2 * MARGIN_MM, table_h), cols, rows, title=t["route"],
               size=size, row_h=row_h)
    ax_page.text(MARGIN_MM, MARGIN_MM + 1.5, t["route_note"], fontsize=5.6, color="0.3", va="center")
    _footer(ax_page, ctx, page_no)
