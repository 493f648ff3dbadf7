"""What every printed page shares: its context, its millimetre axes, header and footer, fitted text.

The drawing modules (``grid_map``, ``furniture``, ``tables``, ``sheets``,
``street_pages``) build on these and draw what ``layers/printing/data.py``
loaded; nothing here queries the database. Pages are vector: one matplotlib
Figure per page, in millimetres, saved into one PDF by ``layers/printing/pdf.py``.
Artists are batched (one collection per layer and style) so that an atlas
of a hundred pages renders in seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.textpath import TextToPath

from data.vocab import city_tz
from layers.printing.data import City
from layers.printing.style import PT_TO_MM, TEXT, Paper

MARGIN_MM = 10.0
HEADER_MM = 17.0
LEGEND_MM = 15.0
ROW_MM = 4.4  # checklist and index row height
HALO = [patheffects.withStroke(linewidth=1.6, foreground="white")]


@dataclass
class PageContext:
    """What every page of one document shares: city, paper, language, dates, page count."""

    city: City
    paper: Paper
    lang: str
    crs_name: str
    north_angle_deg: float  # true north, clockwise from grid north (meridian convergence)
    printed: datetime  # when the document was made, in the city's zone
    public_url: str
    total_pages: int = 0
    page_of_grid: dict[str, int] = field(default_factory=dict)  # atlas page numbers for neighbour labels

    @property
    def t(self) -> dict:
        """The words of the page language."""
        return TEXT[self.lang]

    def data_time(self) -> str:
        """The data's "as of" time in the city's time zone: the time its overdue marks were judged at (the data time
        in force, else the moment of printing), so the stamp and the 超期 marks on one sheet agree."""
        return self.city.as_of.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M")


def fmt_day(value: datetime | None, year: int) -> str:
    """Month and day in the city's time zone (deadlines on a checklist), the year too when it is not ``year``
    (the print's: a deadline of years ago is not read as this year's), or nothing."""
    if not value:
        return ""
    local = value.astimezone(city_tz())
    return local.strftime("%m-%d" if local.year == year else "%Y-%m-%d")


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


def add(ax, artist):
    """Add a patch or collection without updating data limits (every axes here has fixed limits;
    the limit update walks every Bézier segment and was a fifth of an atlas' time)."""
    return ax.add_artist(artist)


def draw_polygons(ax, geoms, **style) -> None:
    """All polygons of some geometries as one patch in one style."""
    path = polygon_path(geoms)
    if path is not None:
        add(ax, PathPatch(path, **style))


# -- text fitting ----------------------------------------------------------------------
def text_width_mm(text: str, size_pt: float) -> float:
    """About how wide a text prints: CJK characters one em, others a bit over half."""
    em = size_pt * PT_TO_MM
    return sum(em if ord(ch) > 0x2E7F else 0.56 * em for ch in text)


def fit(text: str, width_mm: float, size_pt: float) -> str:
    """Text cut with an ellipsis to fit a cell."""
    if text_width_mm(text, size_pt) <= width_mm:
        return text
    while text and text_width_mm(text + "…", size_pt) > width_mm:
        text = text[:-1]
    return text + "…"


# -- pages -----------------------------------------------------------------------------
def new_page(paper: Paper) -> Figure:
    """An empty page of the paper's size."""
    return Figure(figsize=paper.size_in)


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


def axes_at(fig: Figure, paper: Paper, rect: tuple):
    """A new axes over ``rect`` (x, y, w, h in page mm), for a map."""
    W, H = paper.size_mm
    x, y, w, h = rect
    return fig.add_axes((x / W, y / H, w / W, h / H))


def body_rect(paper: Paper) -> tuple:
    """The page below the header, in mm."""
    W, H = paper.size_mm
    return (MARGIN_MM, MARGIN_MM, W - 2 * MARGIN_MM, H - 2 * MARGIN_MM - HEADER_MM - 2)


def measured_mm(text: str, size_pt: float) -> float:
    """How wide ``text`` prints in the document's font (matplotlib's own measure: a title's Latin letters are
    narrower than :func:`text_width_mm` reckons, and a title cut too early loses its last word)."""
    width, _, _ = TextToPath().get_text_width_height_descent(text, FontProperties(size=size_pt), ismath=False)
    return width * PT_TO_MM


def shrunk(text: str, width_mm: float, size_pt: float, smallest_pt: float) -> tuple[str, float]:
    """``text`` and a font size at most ``size_pt`` at which it fits ``width_mm``: smaller down to
    ``smallest_pt`` (a real city's long names stay whole), then cut with an ellipsis."""
    # 1 % below the exact size: at the exact one, rounding measures it a hair too wide, and cuts its last letter.
    size = min(size_pt, max(smallest_pt, 0.99 * size_pt * width_mm / max(measured_mm(text, size_pt), 1e-9)))
    if measured_mm(text, size) <= width_mm:
        return text, size
    while text and measured_mm(text + "…", size) > width_mm:
        text = text[:-1]
    return text + "…", size


def header(ax, ctx: PageContext, title: str, subtitle: str, right: str | None = None) -> None:
    """Title and subtitle on the left, a note (route stop) and the demo warning on the right, a rule."""
    W, H = ctx.paper.size_mm
    k = ctx.paper.text_scale
    notes = [n for n in (right, ctx.t["demo"] if ctx.city.is_demo else None) if n]
    sizes = [(11 if i == 0 and right is not None else 7.5) * k for i in range(len(notes))]
    # The title keeps clear of the notes beside it (New York's street and grid names ran off the page).
    beside = [text_width_mm(n, s) + 4 for n, s in zip(notes, sizes, strict=True)]
    title, size = shrunk(title, W - 2 * MARGIN_MM - (beside[0] if beside else 0), 13.5 * k, 9 * k)
    subtitle, small = shrunk(subtitle, W - 2 * MARGIN_MM - (beside[1] if len(beside) > 1 else 0), 7.5 * k, 6 * k)
    ax.text(MARGIN_MM, H - MARGIN_MM - 5.5, title, fontsize=size, va="center", ha="left")
    ax.text(MARGIN_MM, H - MARGIN_MM - 12.5, subtitle, fontsize=small, va="center", ha="left", color="0.2")
    for i, (note, note_size) in enumerate(zip(notes, sizes, strict=True)):
        ax.text(W - MARGIN_MM, H - MARGIN_MM - 5.5 - 7 * i, note, fontsize=note_size, va="center",
                ha="right", color="0.1" if i == 0 and right is not None else "0.35")
    ax.add_line(Line2D([MARGIN_MM, W - MARGIN_MM], [H - MARGIN_MM - 15.5] * 2, color="black", linewidth=0.8))


def footer(ax, ctx: PageContext, page_no: int, extra: str = "") -> None:
    """Data time, print date, CRS (and the scale, attribution) on the left; the page number on the right."""
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
