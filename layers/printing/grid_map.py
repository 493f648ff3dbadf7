"""The map of a grid sheet: the grid, what is around it, numbered features, labels and furniture.

Drawn in the city's metric CRS, so that the scale bar is true. Layers go
from the bottom up: areas, roads, neighbouring grids, points, a white veil
over everything outside the grid (it reads first, in black and white too),
the grid's outline, labels, checklist numbers.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from matplotlib.collections import LineCollection

from layers.printing.data import Feature, PageData
from layers.printing.furniture import metre_ticks, north_arrow, north_arrow_box, scale_bar, scale_bar_box
from layers.printing.labels import LINE_SPACING
from layers.printing.map_words import NUMBER_PAD, MapWords, short_code
from layers.printing.page import PageContext, add, draw_polygons, line_parts
from layers.printing.style import (
    BACK_STREET,
    POINT_STYLE,
    PT_TO_MM,
    ROAD_STYLE,
    TRAIL_AREA_CLOSED,
    TRAIL_AREA_STYLE,
    TRAIL_LINE_CLOSED,
    TRAIL_LINE_STYLE,
    VILLAGE_STYLE,
    hollow,
    point_style_key,
)

# Layers whose checklist number sits inside the area (the others label a point).
_AREA_LAYERS = ("urban_villages", "health_trails")
#: Markers outside the grid are drawn smaller (a share of the scatter's area ``s``), under the veil.
OUTSIDE_SCALE = 0.7


def _draw_areas_and_roads(ax, page: PageData) -> None:
    """Urban villages, health trails (areas and lines), roads by class, neighbouring grids."""
    draw_polygons(ax, [g for _, _, g in page.villages], zorder=1, **VILLAGE_STYLE)
    for serving, area_style, line_style in ((True, TRAIL_AREA_STYLE, TRAIL_LINE_STYLE),
                                            (False, TRAIL_AREA_CLOSED, TRAIL_LINE_CLOSED)):
        trails = [g for *_, g, in_service in page.trails if in_service == serving]
        draw_polygons(ax, [g for g in trails if g.geom_type in ("Polygon", "MultiPolygon")], zorder=1.5,
                      **area_style)
        trail_lines = line_parts(trails)
        if trail_lines:
            add(ax, LineCollection(trail_lines, zorder=2.5, **line_style))
    for klass, style in ROAD_STYLE.items():
        lines = line_parts([g for k, _, g, _ in page.roads if k == klass])
        if lines:
            add(ax, LineCollection(lines, colors=style["color"], linewidths=style["linewidth"],
                                   linestyles=[style["linestyle"]], zorder=style["zorder"], capstyle="round"))
    draw_polygons(ax, [g for *_, g in page.neighbours], fill=False, edgecolor="0.3", linewidth=0.7,
                  linestyle=(0, (4, 2)), zorder=4)


def shows_closed_trail(page: PageData) -> bool:
    """Whether the map draws a health trail or park not in service (grey), which the legend then explains."""
    frame = shapely.box(*page.frame)
    return any(not in_service and g.intersects(frame) for *_, g, in_service in page.trails)


def shows_hollow(page: PageData) -> bool:
    """Whether the map draws a facility not in service (hollow), which the legend then explains."""
    x0, y0, x1, y1 = page.frame
    return any(not f.in_service and x0 <= f.x <= x1 and y0 <= f.y <= y1 for f in page.points)


def _draw_points(ax, page: PageData) -> None:
    """Facilities and complaints, one scatter per symbol: smaller and under the veil outside the grid; a
    facility not in service hollow."""
    outside = [f for f in page.points if not f.in_grid]
    inside = [f for f in page.points if f.in_grid]
    for group, zorder, scale in ((outside, 4.2, OUTSIDE_SCALE), (inside, 6.0, 1.0)):
        keys: dict[tuple[str, bool], list[Feature]] = {}
        for f in group:
            keys.setdefault((point_style_key(f.layer, f.kind, f.overdue), f.in_service), []).append(f)
        for (key, in_service), feats in keys.items():
            style = dict(POINT_STYLE[key] if in_service else hollow(POINT_STYLE[key]))
            style["s"] = style["s"] * scale
            ax.scatter([f.x for f in feats], [f.y for f in feats], zorder=zorder, clip_on=True, **style)


def _highlight_grid(ax, page: PageData) -> None:
    """Fade everything outside the grid, so the grid reads first (works in black and white)."""
    mask = shapely.box(*page.frame).difference(page.grid.geom)
    draw_polygons(ax, [mask], facecolor="white", edgecolor="none", alpha=0.5, zorder=4.5)
    draw_polygons(ax, [page.grid.geom], fill=False, edgecolor="black", linewidth=2.2, zorder=5.5)


def _marker_radius_mm(f: Feature) -> float:
    """A point's marker radius on paper (mm), as :func:`_draw_points` draws it."""
    s = POINT_STYLE[point_style_key(f.layer, f.kind, f.overdue)]["s"] * (1.0 if f.in_grid else OUTSIDE_SCALE)
    return math.sqrt(s) / 2 * PT_TO_MM


def _word_places(page: PageData, frame, m_per_mm: float) -> MapWords:
    """The map's words so far: none; the scale bar and the north arrow taken; the markers to keep clear of."""
    points = page.points
    xy = np.array([[f.x, f.y] for f in points]).reshape(-1, 2)
    radii = np.array([_marker_radius_mm(f) for f in points])
    return MapWords(frame, 1 / m_per_mm, [scale_bar_box(frame, m_per_mm), north_arrow_box(frame, m_per_mm)], xy,
                    radii)


def _number_items(page: PageData, numbers: dict[tuple[str, int], int]) -> list[tuple]:
    """(key, number, x, y, marker radius mm, on an area) of each checklist feature."""
    items = []
    for f in page.checklist:
        area = f.layer in _AREA_LAYERS
        r = 0.0 if area else _marker_radius_mm(f)
        items.append(((f.layer, f.id), str(numbers[(f.layer, f.id)]), f.x, f.y, r, area))
    return items


def _road_pieces(page: PageData, frame) -> list[tuple[str, object, bool]]:
    """(name, longest visible piece, a back street) of each named road worth naming: the grid's back streets and
    every other named road, longest first."""
    box = shapely.box(*frame)
    by_name: dict[str, list] = {}
    alleys = set()
    for klass, name, geom, in_grid in page.roads:
        if not name or (klass == BACK_STREET and not in_grid):
            continue
        by_name.setdefault(name, []).append(geom)
        if klass == BACK_STREET:
            alleys.add(name)
    pieces = []
    for name, geoms in by_name.items():
        merged = shapely.line_merge(shapely.intersection(shapely.union_all(geoms), box))
        parts = [p for p in shapely.get_parts(merged) if p.geom_type == "LineString"]
        if parts:
            pieces.append((name, max(parts, key=lambda p: p.length), name in alleys))
    return sorted(pieces, key=lambda p: -p[1].length)


def _place_words(page: PageData, ctx: PageContext, numbers: dict, m_per_mm: float, size: float) -> MapWords:
    """Every checklist number, then the road names and the neighbours' short codes that fit."""
    frame = page.frame
    words = _word_places(page, frame, m_per_mm)
    words.numbers(_number_items(page, numbers), size * 1.05)
    for name, line, alley in _road_pieces(page, frame):
        words.road(name, line, size * (0.85 if alley else 1.0), alley)
    grid = page.grid.geom.buffer(2 * m_per_mm)
    for code, community, street, geom in page.neighbours:
        label = short_code(code, community, street)
        if code in ctx.page_of_grid:
            label += f"\nP{ctx.page_of_grid[code]}"
        words.neighbour(label, shapely.clip_by_rect(geom, *frame).difference(grid), size * 0.9)
    return words


def _draw_words(ax, words: MapWords, size: float) -> None:
    """The placed words: numbers boxed (rounded on an area) with their leader lines, roads along, neighbours grey."""
    for w in words.words:
        if w.kind in ("number", "area"):
            if w.leader:
                (x0, y0), (x1, y1) = w.leader
                ax.plot([x0, x1], [y0, y1], color="black", linewidth=0.4, zorder=6.9, solid_capstyle="butt")
            ax.text(w.x, w.y, w.text, fontsize=size * 1.05, ha="center", va="center", zorder=7,
                    bbox={"boxstyle": f"{'round' if w.kind == 'area' else 'square'},pad={NUMBER_PAD}",
                          "facecolor": "white", "edgecolor": "black", "linewidth": 0.35})
        elif w.kind in ("road", "alley"):
            alley = w.kind == "alley"
            ax.text(w.x, w.y, w.text, fontsize=size * (0.85 if alley else 1.0), rotation=w.rotation,
                    rotation_mode="anchor", ha="center", va="center", color="#5a2d0c" if alley else "0.15",
                    zorder=6.5, bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none",
                                      "alpha": 0.7})
        else:
            ax.text(w.x, w.y, w.text, fontsize=size * 0.9, color="0.4", ha="center", va="center", zorder=4.6,
                    linespacing=LINE_SPACING)


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
    _draw_words(ax, _place_words(page, ctx, numbers, m_per_mm, size), size)
    metre_ticks(ax, 0.04, length=2.5, labelsize=5.2, pad=1.5)
    for spine in ax.spines.values():
        spine.set_linewidth(0.9)
    scale_bar(ax, frame, m_per_mm, size * 0.95)
    north_arrow(ax, ctx.north_angle_deg, ctx.t["north"])
    return m_per_mm
