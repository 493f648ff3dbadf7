"""The map of a grid sheet: the grid, what is around it, numbered features, labels and furniture.

Drawn in the city's metric CRS, so that the scale bar is true. Layers go
from the bottom up: areas, roads, neighbouring grids, points, a white veil
over everything outside the grid (it reads first, in black and white too),
the grid's outline, labels, checklist numbers.
"""

from __future__ import annotations

import math

import shapely
from matplotlib.collections import LineCollection

from layers.printing.data import Feature, PageData
from layers.printing.furniture import metre_ticks, north_arrow, scale_bar
from layers.printing.page import HALO, PageContext, add, draw_polygons, line_parts
from layers.printing.style import (
    BACK_STREET,
    POINT_STYLE,
    ROAD_STYLE,
    TRAIL_AREA_STYLE,
    TRAIL_LINE_STYLE,
    VILLAGE_STYLE,
    point_style_key,
)

# Layers whose checklist number sits inside the area (the others label a point).
_AREA_LAYERS = ("urban_villages", "health_trails")


def _draw_areas_and_roads(ax, page: PageData) -> None:
    """Urban villages, health trails (areas and lines), roads by class, neighbouring grids."""
    draw_polygons(ax, [g for _, _, g in page.villages], zorder=1, **VILLAGE_STYLE)
    trail_areas = [g for _, _, g in page.trails if g.geom_type in ("Polygon", "MultiPolygon")]
    draw_polygons(ax, trail_areas, zorder=1.5, **TRAIL_AREA_STYLE)
    trail_lines = line_parts([g for _, _, g in page.trails])
    if trail_lines:
        add(ax, LineCollection(trail_lines, zorder=2.5, **TRAIL_LINE_STYLE))
    for klass, style in ROAD_STYLE.items():
        lines = line_parts([g for k, _, g, _ in page.roads if k == klass])
        if lines:
            add(ax, LineCollection(lines, colors=style["color"], linewidths=style["linewidth"],
                                   linestyles=[style["linestyle"]], zorder=style["zorder"], capstyle="round"))
    draw_polygons(ax, [g for _, _, g in page.neighbours], fill=False, edgecolor="0.3", linewidth=0.7,
                  linestyle=(0, (4, 2)), zorder=4)


def _draw_points(ax, page: PageData) -> None:
    """Facilities and complaints, one scatter per symbol: smaller and under the veil outside the grid."""
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


def _highlight_grid(ax, page: PageData) -> None:
    """Fade everything outside the grid, so the grid reads first (works in black and white)."""
    mask = shapely.box(*page.frame).difference(page.grid.geom)
    draw_polygons(ax, [mask], facecolor="white", edgecolor="none", alpha=0.5, zorder=4.5)
    draw_polygons(ax, [page.grid.geom], fill=False, edgecolor="black", linewidth=2.2, zorder=5.5)


def _neighbour_labels(ax, page: PageData, ctx: PageContext, size: float) -> None:
    """Each neighbouring grid's community and grid number, and its atlas page when it has one."""
    for code, _, geom in page.neighbours:
        at = shapely.point_on_surface(shapely.clip_by_rect(geom, *page.frame))
        if at.is_empty:
            continue
        label = f"{code[9:12]}-{code[12:]}"
        if code in ctx.page_of_grid:
            label += f"\nP{ctx.page_of_grid[code]}"
        ax.text(at.x, at.y, label, fontsize=size * 0.9, color="0.4", ha="center", va="center", zorder=4.6,
                linespacing=1.0)


def _label_angle(line) -> float:
    """The direction of a line at its middle, in degrees, turned so that text never reads upside down."""
    a = line.interpolate(0.45, normalized=True)
    b = line.interpolate(0.55, normalized=True)
    angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    return angle


def _road_labels(ax, page: PageData, frame, size: float) -> None:
    """One label per named road in the frame, on its longest visible piece, along the road."""
    box = shapely.box(*frame).buffer(-0.04 * (frame[2] - frame[0]))
    by_name: dict[str, list] = {}
    for klass, name, geom, in_grid in page.roads:
        if not name or (klass == BACK_STREET and not in_grid):
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
        alley = any(k == BACK_STREET for k, n, _, _ in page.roads if n == name)
        ax.text(mid.x, mid.y, name, fontsize=size * (0.85 if alley else 1.0), rotation=_label_angle(longest),
                rotation_mode="anchor", ha="center", va="center", color="#5a2d0c" if alley else "0.15",
                path_effects=HALO, zorder=6.5, clip_on=True)


def _checklist_numbers(ax, page: PageData, numbers: dict[tuple[str, int], int], size: float) -> None:
    """Each checklist feature's row number: boxed beside a point, rounded inside an area."""
    for f in page.checklist:
        n = numbers[(f.layer, f.id)]
        area = f.layer in _AREA_LAYERS
        ax.annotate(str(n), (f.x, f.y), xytext=(0, 0) if area else (3.2, 2.4), textcoords="offset points",
                    fontsize=size * 1.05, ha="center" if area else "left", va="center" if area else "bottom",
                    zorder=7, bbox={"boxstyle": "round,pad=0.15" if area else "square,pad=0.12",
                                    "facecolor": "white", "edgecolor": "black", "linewidth": 0.35})


def draw_grid_map(ax, page: PageData, ctx: PageContext, numbers: dict[tuple[str, int], int],
                  map_w_mm: float) -> float:
    """The map of a grid sheet into ``ax``; the metres per paper millimetre."""
    frame = page.frame
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    m_per_mm = (frame[2] - frame[0]) / map_w_mm
    ax.set_facecolor("white")
    _draw_areas_and_roads(ax, page)
    _draw_points(ax, page)
    _highlight_grid(ax, page)
    size = 6.0 * ctx.paper.text_scale
    _neighbour_labels(ax, page, ctx, size)
    _road_labels(ax, page, frame, size)
    _checklist_numbers(ax, page, numbers, size)
    metre_ticks(ax, 0.04, length=2.5, labelsize=5.2, pad=1.5)
    for spine in ax.spines.values():
        spine.set_linewidth(0.9)
    scale_bar(ax, frame, m_per_mm, size * 0.95)
    north_arrow(ax, ctx.north_angle_deg, ctx.t["north"])
    return m_per_mm
