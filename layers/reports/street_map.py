"""The bulletin's choropleth: streets coloured by 结案率 in five classes, named, with a legend, on the page axes."""

from __future__ import annotations

from matplotlib.patches import Rectangle

from layers.printing.page import draw_polygons

#: 结案率 classes (lower bound, colour), best first: greens to red (ColorBrewer RdYlGn), grey for no case due.
CLASSES = [(0.95, "#1a9850"), (0.90, "#91cf60"), (0.80, "#fee08b"), (0.70, "#fc8d59"), (0.0, "#d73027")]
NO_DATA = "#dddddd"
_LEGEND = {"zh": {"none": "无应结案", "title": "结案率"}, "en": {"none": "nothing due", "title": "Closure rate"}}


def colour_of(rate: float | None) -> str:
    """The class colour of a closure rate (0–1), grey when there is none."""
    if rate is None:
        return NO_DATA
    return next(colour for low, colour in CLASSES if rate >= low)


def draw_street_map(fig, rect_mm: tuple, page_mm: tuple, rows: list[dict], shapes: dict, lang: str) -> None:
    """Streets of ``shapes`` ({code: polygon}) coloured by the ``closed_rate`` of ``rows``, in ``rect_mm``
    (x, y, w, h from the page's lower left), the map at its true shape on the left and the legend on the right."""
    x, y, w, h = rect_mm
    W, H = page_mm
    legend_w = 38.0
    ax = fig.add_axes((x / W, y / H, (w - legend_w) / W, h / H))
    ax.set_axis_off()
    ax.set_aspect("equal")
    rates = {r["code"]: r for r in rows}
    for code, geom in shapes.items():
        row = rates.get(code, {})
        draw_polygons(ax, [geom], facecolor=colour_of(row.get("closed_rate")), edgecolor="white", linewidth=0.8)
        p = geom.representative_point()
        rate = row.get("closed_rate")
        label = (row.get("name") or code) + ("" if rate is None else f"\n{100 * rate:.1f}%")
        ax.text(p.x, p.y, label, fontsize=6, ha="center", va="center")
    minx, miny, maxx, maxy = _bounds(shapes.values())
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    _legend(fig, (x + w - legend_w, y, legend_w, h), page_mm, lang)


def _bounds(geoms) -> tuple[float, float, float, float]:
    boxes = [g.bounds for g in geoms]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _legend(fig, rect_mm: tuple, page_mm: tuple, lang: str) -> None:
    x, y, w, h = rect_mm
    W, H = page_mm
    ax = fig.add_axes((x / W, y / H, w / W, h / H))
    ax.set_axis_off()
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    t = _LEGEND[lang]
    ax.text(2, h - 4, t["title"], fontsize=7, va="center")
    entries, upper = [], 1.0
    for low, colour in CLASSES:
        entries.append((colour, f"{100 * low:.0f}%–{100 * upper:.0f}%" if low else f"< {100 * upper:.0f}%"))
        upper = low
    entries.append((NO_DATA, t["none"]))
    for k, (colour, label) in enumerate(entries):
        top = h - 10 - 5 * k
        ax.add_patch(Rectangle((2, top - 1.6), 5, 3.2, facecolor=colour))
        ax.text(9, top, label, fontsize=6.5, va="center")
