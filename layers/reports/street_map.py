"""The bulletin's choropleth: streets coloured in five classes by what they are ranked on — the inspection score
(as a share of the base score) when the period has findings, else 结案率 — named, with a legend, on the page axes."""

from __future__ import annotations

import math

from matplotlib.patches import Rectangle

from geo.hotspots import PATTERNS
from layers.printing.page import draw_polygons

#: Classes (lower bound of 结案率, or of score ÷ base score; colour), best first: greens to red (ColorBrewer
#: RdYlGn), grey for a street with no value (nothing due, not inspected).
CLASSES = [(0.95, "#1a9850"), (0.90, "#91cf60"), (0.80, "#fee08b"), (0.70, "#fc8d59"), (0.0, "#d73027")]
NO_DATA = "#dddddd"
_LEGEND = {"zh": {"closed_rate": ("结案率", "无应结案"), "score": ("检查得分", "未检查")},
           "en": {"closed_rate": ("Closure rate", "nothing due"), "score": ("Inspection score", "not inspected")}}


def colour_of(rate: float | None) -> str:
    """The class colour of a closure rate (0–1), grey when there is none."""
    if rate is None:
        return NO_DATA
    return next(colour for low, colour in CLASSES if rate >= low)


def draw_street_map(fig, rect_mm: tuple, page_mm: tuple, rows: list[dict], shapes: dict, lang: str,
                    by: str = "closed_rate", base: float = 100.0) -> None:
    """Streets of ``shapes`` ({code: polygon}) coloured by the ``by`` figure of ``rows`` ("closed_rate", or
    "score" as a share of ``base``), in ``rect_mm`` (x, y, w, h from the page's lower left), the map at its true
    shape on the left and the legend on the right."""
    ax, legend_rect = _map_axes(fig, rect_mm, page_mm, shapes)
    scale = _mm_per_unit(rect_mm, shapes)
    rates = {r["code"]: r for r in rows}
    for code, geom in shapes.items():
        row = rates.get(code, {})
        value = row.get(by)
        share = value / base if by == "score" and value is not None else value
        draw_polygons(ax, [geom], facecolor=colour_of(share), edgecolor="white", linewidth=0.8)
        p = geom.representative_point()
        shown = "" if value is None else f"\n{value:g}" + ("分" if lang == "zh" else "") if by == "score" else f"\n{100 * value:.1f}%"
        label = _name_or_code(row.get("name"), code, geom, scale, 6) + shown
        ax.text(p.x, p.y, label, fontsize=6, ha="center", va="center")
    _legend(fig, legend_rect, page_mm, *_classes(lang, by, base))


#: Width of a map's legend, on its right.
LEGEND_MM = 38.0


def _map_axes(fig, rect_mm: tuple, page_mm: tuple, shapes: dict):
    """The axes of a map of ``shapes`` at its true shape in ``rect_mm`` but the legend's width on its right, and
    the legend's rect (x, y, w, h in page mm)."""
    x, y, w, h = rect_mm
    W, H = page_mm
    ax = fig.add_axes((x / W, y / H, (w - LEGEND_MM) / W, h / H))
    ax.set_axis_off()
    ax.set_aspect("equal")
    minx, miny, maxx, maxy = _bounds(shapes.values())
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    return ax, (x + w - LEGEND_MM, y, LEGEND_MM, h)


def _mm_per_unit(rect_mm: tuple, shapes: dict) -> float:
    """Millimetres of paper per map unit of :func:`_map_axes`'s map (true shape: the tighter of width and height)."""
    minx, miny, maxx, maxy = _bounds(shapes.values())
    return min((rect_mm[2] - LEGEND_MM) / max(maxx - minx, 1e-9), rect_mm[3] / max(maxy - miny, 1e-9))


def _name_or_code(name: str | None, code: str, geom, mm_per_unit: float, points: float) -> str:
    """A street's label on a map: its name when about as wide as the street on paper, else its code (71 New
    York community districts named "BK01 Williamsburg-Greenpoint (CD 1 Equivalent)" covered each other)."""
    if not name:
        return code
    wide = sum(1.0 if ord(c) >= 0x2E80 else 0.55 for c in name) * points * 25.4 / 72  # CJK square, Latin ~½
    return name if wide <= (geom.bounds[2] - geom.bounds[0]) * mm_per_unit * 1.2 else code


def _bounds(geoms) -> tuple[float, float, float, float]:
    boxes = [g.bounds for g in geoms]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _classes(lang: str, by: str, base: float) -> tuple[str, list[tuple[str, str]]]:
    """The legend's title and (colour, label) entries of the classes of ``by``."""
    title, none = _LEGEND[lang][by]
    scale, unit = (base, "") if by == "score" else (100, "%")
    entries, upper = [], 1.0
    for low, colour in CLASSES:
        entries.append((colour, f"{scale * low:g}{unit}–{scale * upper:g}{unit}" if low else f"< {scale * upper:g}{unit}"))
        upper = low
    return title, [*entries, (NO_DATA, none)]


def _legend(fig, rect_mm: tuple, page_mm: tuple, title: str, entries: list[tuple[str, str]]) -> None:
    """A legend in ``rect_mm``: its title, then a swatch and a label per (colour, label) entry."""
    x, y, w, h = rect_mm
    W, H = page_mm
    ax = fig.add_axes((x / W, y / H, w / W, h / H))
    ax.set_axis_off()
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    ax.text(2, h - 4, title, fontsize=7, va="center")
    for k, (colour, label) in enumerate(entries):
        top = h - 10 - 5 * k
        ax.add_patch(Rectangle((2, top - 1.6), 5, 3.2, facecolor=colour))
        ax.text(9, top, label, fontsize=6.5, va="center")


def hexagon(q: int, r: int, size: float):
    """The pointy-top hexagon of axial cell (q, r) with circumradius ``size`` in metres (as geo.hotspots builds it)."""
    from shapely.geometry import Polygon

    cx, cy = size * math.sqrt(3.0) * (q + r / 2.0), size * 1.5 * r
    return Polygon([(cx + size * math.cos(math.radians(30 + 60 * k)), cy + size * math.sin(math.radians(30 + 60 * k)))
                    for k in range(6)])


def draw_hotspot_map(fig, rect_mm: tuple, page_mm: tuple, shapes: dict, street_names: dict, hotspots: dict,
                     colours: dict, lang: str) -> None:
    """The streets in grey, named, and the period's emerging hot spot cells coloured by pattern (``colours``:
    {pattern: colour}), with a legend of the patterns and their counts."""
    ax, legend_rect = _map_axes(fig, rect_mm, page_mm, shapes)
    scale = _mm_per_unit(rect_mm, shapes)
    for code, geom in shapes.items():
        draw_polygons(ax, [geom], facecolor="#f2f2f2", edgecolor="0.55", linewidth=0.6)
        p = geom.representative_point()
        ax.text(p.x, p.y, _name_or_code(street_names.get(code), code, geom, scale, 5.5), fontsize=5.5, ha="center",
                va="center", color="0.45")
    for cell in hotspots["cells"]:
        draw_polygons(ax, [hexagon(cell["q"], cell["r"], hotspots["cell_m"])], facecolor=colours[cell["pattern"]],
                      edgecolor="black", linewidth=0.3)
    _legend(fig, legend_rect, page_mm, _HOT_TITLE[lang],
            [(colour, f"{PATTERNS[pattern][1 if lang == 'en' else 0]} {hotspots['counts'][pattern]}")
             for pattern, colour in colours.items()])


_HOT_TITLE = {"zh": "热点变化", "en": "Emerging hot spots"}
