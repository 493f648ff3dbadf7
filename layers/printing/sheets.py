"""The grid sheet (明察暗访巡查图) and the continuation pages of a long checklist.

A sheet has a header, the grid's map, a legend, who answers for the grid,
an inset locating it in its street, two QR codes — 地图, the grid on the
online map, and 现场检查, the field page that records findings in this grid —
and the first rows of its checklist; the rest of the checklist goes on
continuation pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from data.params import compact_utc
from layers.printing.data import Feature, Grid, PageData, Street
from layers.printing.furniture import draw_legend, draw_overview, draw_qr
from layers.printing.grid_map import draw_grid_map, shows_closed_trail, shows_hollow
from layers.printing.page import (
    HEADER_MM,
    LEGEND_MM,
    MARGIN_MM,
    PageContext,
    axes_at,
    body_rect,
    fit,
    footer,
    header,
    paper_axes,
    text_width_mm,
)
from layers.printing.style import BACK_STREET, PT_TO_MM, Paper
from layers.printing.tables import draw_checklist, rows_that_fit

#: The side of each QR code (mm): modules of about 0.6 mm, which a phone reads at arm's length.
QR_MM = 21.0
#: The captions of the two QR codes: their names, and what each opens (left out where it does not fit).
QR_WORDS = {"zh": (("地图", "扫码查看在线地图"), ("现场检查", "扫码记录问题")),
            "en": (("Map", "the grid online"), ("Field check", "record findings"))}


@dataclass
class GridLayout:
    """Where the parts of a grid sheet go, as (x, y, w, h) in millimetres from the lower left."""

    map: tuple
    legend: tuple
    legend_cols: int
    info: tuple
    overview: tuple
    qr: tuple  # the square of the map's QR code; its caption above it, its URL below
    qr_field: tuple  # the square of the field page's QR code
    qr_text_w: float  # the width of each QR code's caption and URL
    checklist: tuple


def grid_layout(paper: Paper) -> GridLayout:
    """Portrait: the map on top, the panels below it; landscape: the map left, the panels right."""
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
            overview=(m, m + 31, left_w, bottom_h - 57),
            qr=(m, m + 6, QR_MM, QR_MM),
            qr_field=(m + left_w / 2, m + 6, QR_MM, QR_MM),
            qr_text_w=left_w / 2 - 1,
            checklist=(m + left_w + 4, m, W - 2 * m - left_w - 4, bottom_h),
        )
    panel_w = round(0.34 * W)
    px = W - m - panel_w
    map_y = m + LEGEND_MM + 7
    ov_h = 40.0 if paper.name == "A4" else 60.0
    qx = px + panel_w * 0.5 + 3
    col = (px + panel_w - qx) / 2
    return GridLayout(
        map=(m + 5, map_y, px - 4 - (m + 5), top - map_y),
        legend=(m, m, px - 4 - m, LEGEND_MM),
        legend_cols=4,
        info=(px, top - 24, panel_w, 24),
        overview=(px, top - 26 - ov_h, panel_w * 0.5, ov_h),
        qr=(qx, top - 30 - QR_MM, QR_MM, QR_MM),
        qr_field=(qx + col, top - 30 - QR_MM, QR_MM, QR_MM),
        qr_text_w=col - 1,
        checklist=(px, m, panel_w, top - 28 - ov_h - m),
    )


def first_page_rows(paper: Paper) -> int:
    """Checklist rows on the grid sheet itself."""
    return rows_that_fit(grid_layout(paper).checklist[3])


def continuation_rows(paper: Paper) -> int:
    """Checklist rows on each continuation page."""
    return rows_that_fit(body_rect(paper)[3])


def grid_url(ctx: PageContext, grid: Grid) -> str:
    """The online map of a grid: the street's grid map, focused on this grid. It carries when the sheet was
    printed: a sheet posted on a wall outlives a regrid, and its code may name another grid by then."""
    return f"{ctx.public_url}/map/grids?street={grid.street_code}&grid={grid.code}{_printed(ctx)}"


def field_url(ctx: PageContext, grid: Grid) -> str:
    """The field page (现场检查) of a grid: record findings there, the grid (as printed) prefilled."""
    return f"{ctx.public_url}/field?grid={grid.code}{_printed(ctx)}"


def _printed(ctx: PageContext) -> str:
    """The query's end every QR code of a sheet shares: when it was printed (UTC), and the sheet's language."""
    return f"&printed={compact_utc(ctx.printed)}" + ("&lang=en" if ctx.lang == "en" else "")


def _qr_codes(ax, ctx: PageContext, grid: Grid, layout: GridLayout) -> None:
    """The two QR codes side by side, each with its caption above and its URL below (for typing it in)."""
    chunk = max(10, int(layout.qr_text_w / (4.2 * PT_TO_MM * 0.56)))
    for url, rect, caption in zip((grid_url(ctx, grid), field_url(ctx, grid)), (layout.qr, layout.qr_field),
                                  QR_WORDS[ctx.lang]):
        x, y, side, _ = rect
        draw_qr(ax, url, rect)
        full = " · ".join(caption)
        caption = full if text_width_mm(full, 6.0) <= layout.qr_text_w else caption[0]
        ax.text(x, y + side + 1.6, caption, fontsize=6.0, va="center")
        for i in range(0, len(url), chunk):
            ax.text(x, y - 0.8 - (i // chunk) * 1.9, url[i:i + chunk], fontsize=4.2, va="top", color="0.25")


def grid_title(ctx: PageContext, grid: Grid) -> tuple[str, str]:
    """The title (city, street, grid) and subtitle (kind of sheet, code, where it lies) of a grid's pages."""
    t = ctx.t
    en = ctx.lang == "en"
    street = (grid.street_name_en if en and grid.street_name_en else grid.street_name) or grid.street_code
    community = (grid.community_name_en if en and grid.community_name_en else grid.community_name) or ""
    district = (grid.district_name_en if en and grid.district_name_en else grid.district_name) or ""
    title = f"{ctx.city.label(ctx.lang)} · {street} · {grid.said_name(ctx.lang)}"
    subtitle = f"{t['sheet']} · {t['grid_code']} {grid.code} · {district} {street} {community}".strip()
    return title, subtitle


def _info_lines(page: PageData, ctx: PageContext) -> list[str]:
    """Who answers for the grid, and what is in it."""
    t = ctx.t
    grid = page.grid
    n_open = sum(1 for f in page.points if f.in_grid and f.layer == "complaints")
    n_over = sum(1 for f in page.points if f.in_grid and f.layer == "complaints" and f.overdue)
    alleys = sorted({n for k, n, _, inside in page.roads if k == BACK_STREET and inside and n})
    lines = [
        f"{t['unit']}：{grid.responsible_unit or '—'}",
        f"{t['manager']}：{grid.contact('grid_manager', t['withheld'])}    "
        f"{t['phone']}：{grid.contact('phone', t['withheld'])}",
        f"{t['area']}：{grid.geom.area / 10_000:.2f} {t['hectare']} · {t['open']} {n_open}{t['items']}"
        f"（{t['overdue']} {n_over}）",
        f"{t['back_streets']}：{len(alleys)} {t['segments']}" + (f"（{'、'.join(alleys[:3])}…）" if alleys else ""),
    ]
    if ctx.lang == "en":
        lines = [ln.replace("：", ": ").replace("（", " (").replace("）", ")").replace("、", ", ") for ln in lines]
    return lines


def _info_block(ax, page: PageData, ctx: PageContext, rect: tuple) -> None:
    ix, iy, iw, ih = rect
    size = 6.6 * ctx.paper.text_scale
    lines = []
    for line in _info_lines(page, ctx):
        # The manager and the phone share a line where both fit; else each its own, never a phone number cut.
        lines += line.split("    ") if text_width_mm(line, size) > iw else [line]
    step = min(5.0, (ih - 3.0) / max(len(lines) - 1, 1))
    for i, line in enumerate(lines):
        ax.text(ix, iy + ih - 2.5 - i * step, fit(line, iw, size), fontsize=size, va="center")


def _overview_block(fig: Figure, ax_page, page: PageData, street: Street, ctx: PageContext, rect: tuple) -> None:
    """The inset locating the page in its street, under a caption naming the street."""
    ox, oy, ow, oh = rect
    ov = axes_at(fig, ctx.paper, (ox, oy, ow, oh - 3.5))
    draw_overview(ov, street, page.grid.geom, page.frame, ctx)
    name = street.name_en if ctx.lang == "en" and street.name_en else street.name
    ax_page.text(ox, oy + oh - 1.2, f"{ctx.t['overview']} · {name}", fontsize=6.0 * ctx.paper.text_scale,
                 va="center")


def draw_grid_sheet(fig: Figure, page: PageData, street: Street, ctx: PageContext, page_no: int,
                    rows: list[Feature], numbers: dict, stop_label: str | None = None) -> None:
    """A whole grid sheet: header, map, legend, assignment, overview, QR codes, the first checklist rows."""
    layout = grid_layout(ctx.paper)
    ax_page = paper_axes(fig, ctx.paper)
    header(ax_page, ctx, *grid_title(ctx, page.grid), stop_label)
    m_per_mm = draw_grid_map(axes_at(fig, ctx.paper, layout.map), page, ctx, numbers, layout.map[2])
    draw_legend(ax_page, ctx, layout.legend, layout.legend_cols, hollow=shows_hollow(page),
                closed_trail=shows_closed_trail(page))
    _info_block(ax_page, page, ctx, layout.info)
    _overview_block(fig, ax_page, page, street, ctx, layout.overview)
    _qr_codes(ax_page, ctx, page.grid, layout)
    draw_checklist(ax_page, ctx, layout.checklist, rows, numbers, continued=False)
    footer(ax_page, ctx, page_no, f"{ctx.t['scale']} 1:{round(m_per_mm * 1000, -1):,.0f}")


def draw_checklist_page(fig: Figure, page: PageData, ctx: PageContext, page_no: int, rows: list[Feature],
                        numbers: dict, stop_label: str | None = None) -> None:
    """A continuation page: the rest of a long checklist."""
    ax = paper_axes(fig, ctx.paper)
    header(ax, ctx, *grid_title(ctx, page.grid), stop_label)
    draw_checklist(ax, ctx, body_rect(ctx.paper), rows, numbers, continued=True)
    footer(ax, ctx, page_no)
