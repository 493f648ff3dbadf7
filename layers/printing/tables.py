"""Ruled tables of printed pages: the checklist of a grid, the atlas index, the stops of a route."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.patches import Rectangle

from layers.printing.data import Feature
from layers.printing.page import ROW_MM, PageContext, add, fit, fmt_day
from layers.printing.style import term


@dataclass
class Column:
    """One column of a table: its heading, its share of the width, how its cells read."""

    title: str
    width: float  # share of the table width
    align: str = "left"
    checkbox: bool = False


def _cell(ax, col: Column, x0: float, w: float, y: float, text: str, size: float, pad: float) -> None:
    centre = col.align == "center"
    ax.text(x0 + (w / 2 if centre else 0.8), y, fit(text, w - pad, size), fontsize=size, va="center",
            ha="center" if centre else "left")


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
    add(ax, Rectangle((x_left, y - row_h), width, row_h, facecolor="0.86", edgecolor="none"))
    for col, x0, w in zip(columns, xs, widths):
        _cell(ax, col, x0, w, y - row_h / 2, col.title, size, 1.0)
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
                _cell(ax, col, x0, w, y - row_h / 2, value, size, 1.2)
        y -= row_h
        segments.append([(x_left, y), (x_right, y)])
    add(ax, LineCollection(segments, colors="0.55", linewidths=0.3))
    if boxes:  # one collection for all tick boxes
        add(ax, PatchCollection(boxes, facecolor="white", edgecolor="black", linewidth=0.6))


def rows_that_fit(height: float, title: bool = True, row_h: float = ROW_MM) -> int:
    """How many body rows a table of this height holds (at least one)."""
    return max(1, int((height - (5.0 if title else 0) - row_h) // row_h))


# -- the checklist ---------------------------------------------------------------------
def checklist_columns(ctx: PageContext) -> list[Column]:
    """Number, type, name and place, details, id, a box to tick."""
    t = ctx.t
    return [Column(t["no"], 6, "center"), Column(t["type"], 12), Column(t["name_place"], 38),
            Column(t["detail"], 25), Column(t["id"], 12), Column(t["check"], 7, "center", checkbox=True)]


def checklist_row(ctx: PageContext, number: int, f: Feature) -> list[str]:
    """Number, type, name and place, what to check against (a complaint's status and deadline; a facility not
    in service says so first), id."""
    t, lang = ctx.t, ctx.lang
    place = f.address or (f"{t['near']}{f.near_road}" if f.near_road else "")
    if f.layer == "complaints":
        name = (f.detail or f.kind) if lang == "en" else f.kind
        gap = "" if lang == "zh" else " "  # 限03-01, due 03-01
        detail = f"{term(f.status, lang)} {t['due']}{gap}{fmt_day(f.due_at, ctx.printed.year)}"
        if f.overdue:
            detail += f" {t['overdue']}"
    else:
        name = f.name or ""
        detail = term(f.detail, lang)
        if not f.in_service:  # first, where a narrow column cuts the rest
            detail = f"{t['not_in_service']} · {detail}" if detail else t["not_in_service"]
    label = " · ".join(p for p in (name, place) if p)
    return [str(number), t["layer"][f.layer], label, detail, str(f.id), ""]


def draw_checklist(ax, ctx: PageContext, rect: tuple, rows: list[Feature], numbers: dict,
                   continued: bool) -> None:
    """The checklist rows of one page in ``rect``, or a line saying there is nothing to check."""
    t = ctx.t
    title = t["checklist"] + (t["continued"] if continued else "")
    if not rows:
        x, y, _, h = rect
        ax.text(x, y + h - 2.2, title, fontsize=8.1, va="center")
        ax.text(x, y + h - 9, t["nothing"], fontsize=6.5, va="center", color="0.3")
        return
    body = [checklist_row(ctx, numbers[(f.layer, f.id)], f) for f in rows]
    draw_table(ax, rect, checklist_columns(ctx), body, title=title)


# -- atlas index and route stops ------------------------------------------------------------
def index_columns(ctx: PageContext) -> list[Column]:
    """Page, grid code and name, manager, open and overdue complaints."""
    t = ctx.t
    return [Column(t["page_no"], 7, "center"), Column(t["grid_code"], 22), Column(t["grid_name"], 26),
            Column(t["manager"], 12), Column(t["open_short"], 8, "center"), Column(t["overdue_short"], 8, "center")]


def route_columns(ctx: PageContext) -> list[Column]:
    """Stop, grid, complaints, score, who to call, distance walked so far."""
    t = ctx.t
    return [Column(t["stops"], 5, "center"), Column(t["grid_code"], 20), Column(t["grid_name"], 22),
            Column(t["open_short"], 7, "center"), Column(t["overdue_short"], 7, "center"),
            Column(t["score"], 8, "center"), Column(t["manager"], 11), Column(t["phone"], 17),
            Column(t["distance"], 11, "center")]


def route_rows(stops: list[dict]) -> list[list[str]]:
    """One row per stop of a route, in walking order."""
    return [[str(s["stop"]), s["code"], s["name"] or "", str(s["open"]), str(s["overdue"]), f"{s['score']:g}",
             s["manager"] or "", s["phone"] or "", f"{s['cumulative_m']:,.0f} m"] for s in stops]
