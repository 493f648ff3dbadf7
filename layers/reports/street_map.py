"""The bulletin's choropleth: streets coloured in five classes by what they are ranked on — the inspection score
(as a share of the base score) when the period has findings, else 结案率 — named, with a legend, on the page axes.
Names never cover each other: where one cannot be placed, the street is numbered and the legend names it."""

from __future__ import annotations

import math

from matplotlib.patches import Rectangle

from geo.hotspots import PATTERNS
from layers.printing.labels import LINE_SPACING, AreaLabel, place_area_labels
from layers.printing.page import draw_polygons, fit, measured_mm
from layers.printing.style import PT_TO_MM

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
    shape on the left and the legend on the right; a street whose label would cover another's is numbered on
    the map and named, with its figure, in the legend."""
    ax, legend_rect = _map_axes(fig, rect_mm, page_mm, shapes)
    rates = {r["code"]: r for r in rows}
    areas, named = [], {}
    for code, geom in shapes.items():
        row = rates.get(code, {})
        value = row.get(by)
        share = value / base if by == "score" and value is not None else value
        draw_polygons(ax, [geom], facecolor=colour_of(share), edgecolor="white", linewidth=0.8)
        shown = "" if value is None else f"{value:g}" + ("分" if lang == "zh" else "") if by == "score" else f"{100 * value:.1f}%"
        areas.append((code, geom, [f"{t}\n{shown}" if shown else t for t in _texts(row.get("name"), code, 6)]))
        named[code] = f"{row.get('name') or code} {shown}".strip()
    keyed = _draw_labels(ax, areas, _mm_per_unit(rect_mm, shapes), 6, "black")
    _legend(fig, legend_rect, page_mm, *_classes(lang, by, base), [f"{k.number} {named[k.key]}" for k in keyed])


def _texts(name: str | None, code: str, points: float) -> list[str]:
    """The texts to try as a street's label: its name, then its code where narrower (71 New York community
    districts named "BK01 Williamsburg-Greenpoint (CD 1 Equivalent)" covered each other)."""
    if not name:
        return [code]
    return [name, code] if measured_mm(code, points) < measured_mm(name, points) else [name]


def _draw_labels(ax, areas: list, scale: float, points: float, colour) -> list[AreaLabel]:
    """The labels of ``areas`` ((code, outline, texts to try)) placed apart (layers.printing.labels) and drawn;
    those numbered instead of named, by number."""
    frame = (*ax.get_xlim(), *ax.get_ylim())
    labels = place_area_labels(areas, scale, (frame[0], frame[2], frame[1], frame[3]), points)
    for k in labels:
        ax.text(k.x, k.y, k.text, fontsize=points, ha="center", va="center", color=colour,
                linespacing=LINE_SPACING, zorder=4)
        if k.leader:
            ax.plot(*zip(*k.leader), color=colour, linewidth=0.4, zorder=4)
    return sorted((k for k in labels if k.number), key=lambda k: k.number)


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


def _legend(fig, rect_mm: tuple, page_mm: tuple, title: str, entries: list[tuple[str, str]],
            keyed: list[str] = ()) -> None:
    """A legend in ``rect_mm``: its title, then a swatch and a label per (colour, label) entry, then the map's
    numbered areas (``keyed``: "number name …"), in as many columns as they need."""
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
    if keyed:
        _keyed(ax, keyed, h - 10 - 5 * len(entries) - 1, w)


#: Line height (mm) and size (pt) of the legend's numbered areas, and the smallest size they shrink to.
KEY_LINE_MM, KEY_PT, KEY_MIN_PT = 3.0, 5.5, 3.5


def _keyed(ax, keyed: list[str], top: float, width: float) -> None:
    """The numbered areas' lines from ``top`` down to the legend's foot: one column, or two, closer set and
    smaller when even two do not hold them (a city of many narrow streets), down to a size still read."""
    room = max(top - 1, KEY_LINE_MM)
    columns = 1 if len(keyed) * KEY_LINE_MM <= room else 2
    rows = math.ceil(len(keyed) / columns)
    line = min(KEY_LINE_MM, room / rows)
    size = max(KEY_MIN_PT, KEY_PT * line / KEY_LINE_MM)
    line = max(line, 1.25 * size * PT_TO_MM)  # lines apart even when they then run below the legend
    column_w = (width - 2) / columns
    for k, text in enumerate(keyed):
        col, row = divmod(k, rows)
        ax.text(2 + col * column_w, top - row * line, fit(text, column_w - 1, size), fontsize=size, va="center")


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
    for geom in shapes.values():
        draw_polygons(ax, [geom], facecolor="#f2f2f2", edgecolor="0.55", linewidth=0.6)
    keyed = _draw_labels(ax, [(code, geom, _texts(street_names.get(code), code, 5.5)) for code, geom in shapes.items()],
                         _mm_per_unit(rect_mm, shapes), 5.5, "0.45")
    for cell in hotspots["cells"]:
        draw_polygons(ax, [hexagon(cell["q"], cell["r"], hotspots["cell_m"])], facecolor=colours[cell["pattern"]],
                      edgecolor="black", linewidth=0.3)
    _legend(fig, legend_rect, page_mm, _HOT_TITLE[lang],
            [(colour, f"{PATTERNS[pattern][1 if lang == 'en' else 0]} {hotspots['counts'][pattern]}")
             for pattern, colour in colours.items()], [f"{k.number} {street_names.get(k.key) or k.key}" for k in keyed])


_HOT_TITLE = {"zh": "热点变化", "en": "Emerging hot spots"}
