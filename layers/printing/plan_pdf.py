"""A coverage plan printed for the campaign office's meeting: its map, then its before/after tables.

Landscape, A4 or A3, vector, in the sheets' font, header and footer (:mod:`layers.printing.page`): page 1 maps
the plan's extent — the areas it changes (named) among the others of their level, today's facilities of its kind
and their reach, the facilities it adds (green), moves (from → to, blue) and removes (crossed, red) with their
reach at the plan's radius, numbered as in the edit list — with a legend, the city's totals before and after, a
scale bar and a north arrow; the next pages hold the changed areas' table (the numbers of
``/api/plans/{id}/compare``) and the edit list, continued over as many pages as they need. Data from
:mod:`layers.printing.plan_data`; the tables are :func:`layers.printing.tables.draw_table`'s.
"""

from __future__ import annotations

from datetime import datetime

import shapely

from data import vocab
from data.settings import LinkSettings, PrintSettings
from data.vocab import FACILITY_KINDS, UNIT_NAMES, city_tz
from layers.analysis import plans as plans_words
from layers.analysis import scope as scope_words
from layers.analysis.plans import CHANGE_COLUMNS, COLUMNS, OPS, TOTALS_HEAD, figure, plan_rule, totals
from layers.analysis.scope import totals_label
from layers.printing.docs import crs_name, north_angle
from layers.printing.fonts import module_words
from layers.printing.furniture import draw_legend_entries, north_arrow, scale_bar
from layers.printing.labels import LINE_SPACING, place_area_labels, text_box_mm
from layers.printing.page import (
    MARGIN_MM,
    PageContext,
    axes_at,
    body_rect,
    draw_polygons,
    fit,
    footer,
    header,
    line_parts,
    paper_axes,
)
from layers.printing.pdf import pages_pdf
from layers.printing.plan_data import MAX_SOURCES, PlanMap, load_plan_map
from layers.printing.style import POINT_STYLE, PT_TO_MM, Paper, point_style_key
from layers.printing.tables import Column, draw_table
from layers.reports.layout import wrap

_WORDS = {
    "plan": ("规划方案", "Plan"),
    "facts": ("{kind}，服务半径 {radius:g} 米，按{by}统计；{edits}；{who} 保存于 {at}",
              "{kind}, service radius {radius:g} m, by {by}; {edits}; saved by {who} on {at}"),
    "today": ("现状{kind}", "{kind} today"), "today_reach": ("现状服务范围（{radius:g} 米）", "reach today ({radius:g} m)"),
    "added": ("新增设施", "added facility"), "added_reach": ("新增 / 移动后的服务范围", "reach added (new place)"),
    "moved": ("移动：原位置 → 新位置", "moved: from → to"), "removed": ("移除设施", "removed facility"),
    "lost_reach": ("移除 / 移动前的服务范围", "reach given up"), "changed": ("受影响的{level}", "{level} changed"),
    "other": ("其他{level}", "other {level}"), "numbers": ("数字 = 调整清单序号", "number = edit No."),
    "keyed": ("图中编号的统计单元", "Areas numbered on the map"), "rule": ("标准：", "Standard: "),
    "areas": ("受影响的统计单元（{n} 个）", "Areas the plan changes ({n})"),
    "no_areas": ("本方案不改变任何统计单元的覆盖", "The plan changes no area's coverage"),
    "changes": ("调整清单（{n} 项）", "Edits ({n})"), "continued": ("（续）", " (continued)"),
    "north": ("北", "N"),
    "sources": ("数据来源：{said}", "Data sources: {said}"), "admin_areas": ("行政区划", "admin areas"),
    "manual": ("手工录入", "entered by hand"), "api": ("接口录入", "entered via the API"), "etc": ("等", " etc."),
}
T = {lang: {k: v[i] for k, v in _WORDS.items()} for i, lang in enumerate(("zh", "en"))}
#: The plan's colours: added (and its reach), moved (its new place), removed (and the reach given up); today's reach.
ADDED, MOVED, REMOVED, TODAY_REACH = "#1a9850", "#2166ac", "#d73027", "#c6dbef"
#: Width of the column right of the map (legend, totals) in mm on A4; row height and text size of the tables.
SIDE_MM, TABLE_ROW_MM, TABLE_PT, GAP_MM = 70.0, 4.4, 5.8, 5.0


def map_rect(paper: Paper) -> tuple[float, float, float, float]:
    """Where page 1's map is (x, y, w, h in page mm from the lower left): left of the legend column."""
    x, y, w, h = body_rect(paper)
    return (x, y + 6, w - SIDE_MM * paper.text_scale - 4, h - 6)


def _kind(key: str, lang: str) -> str:
    return FACILITY_KINDS[key].name(lang)


def title(pm: PlanMap, lang: str) -> str:
    """City · 规划方案 · the plan's name."""
    return f"{pm.city.label(lang)} · {T[lang]['plan']} · {pm.result['plan']['name']}"


def facts(pm: PlanMap, lang: str) -> str:
    """Kind, radius, level, the edits counted by kind, who saved it (— unless the viewer may read it) and when."""
    t, plan = T[lang], pm.result["plan"]
    ops: dict[str, int] = {}
    for edit in plan["edits"]:
        ops[edit["op"]] = ops.get(edit["op"], 0) + 1
    at = datetime.fromisoformat(plan["created_at"]).astimezone(city_tz()).strftime("%Y-%m-%d %H:%M")
    return t["facts"].format(kind=_kind(plan["kind"], lang), radius=plan["radius_m"],
                             by=UNIT_NAMES[lang].get(plan["by"], plan["by"]), who=plan["created_by"] or "—", at=at,
                             edits=" · ".join(f"{OPS[op][lang == 'en']} {n}" for op, n in ops.items()))


# -- the map ---------------------------------------------------------------------------------------------------
def _today_style(pm: PlanMap) -> dict:
    spec = FACILITY_KINDS[pm.result["kind"]]
    style = dict(POINT_STYLE[point_style_key(spec.table, spec.category, False)])
    return {**style, "s": style["s"] * 0.6}


def _draw_today(ax, pm: PlanMap) -> None:
    """The areas (the changed ones outlined, the others grey), today's reach and today's facilities."""
    draw_polygons(ax, pm.others, fill=False, edgecolor="0.6", linewidth=0.35, zorder=1)
    draw_polygons(ax, [g for *_, g in pm.changed], facecolor="#fbfbf0", edgecolor="none", zorder=0.5)
    reach = shapely.union_all([g.buffer(pm.radius, quad_segs=16) for g in pm.facilities])
    draw_polygons(ax, [reach], facecolor=TODAY_REACH, edgecolor="none", alpha=0.55, zorder=1.5)
    draw_polygons(ax, [g for *_, g in pm.changed], fill=False, edgecolor="black", linewidth=1.1, zorder=3)
    points = [g for g in pm.facilities if g.geom_type == "Point"]
    if points:
        ax.scatter([p.x for p in points], [p.y for p in points], zorder=4, **_today_style(pm))
    lines = line_parts([g.boundary if g.geom_type.endswith("Polygon") else g for g in pm.facilities
                        if g.geom_type != "Point"])
    for line in lines:  # a trail or park: its line, in the colour of a facility today
        ax.plot(line[:, 0], line[:, 1], color="0.3", linewidth=0.8, zorder=4)


def _circle(x: float, y: float, radius: float):
    return shapely.Point(x, y).buffer(radius, quad_segs=32)


def _draw_edits(ax, pm: PlanMap, size: float) -> None:
    """Each edit's reach at the plan's radius (kept: filled green; given up: dashed red), its marker, its number."""
    r = pm.radius
    gained = [_circle(e.x, e.y, r) for e in pm.edits if e.op != "remove"]
    lost = [_circle(e.x, e.y, r) for e in pm.edits if e.op == "remove"]
    lost += [_circle(e.from_x, e.from_y, r) for e in pm.edits if e.op == "move"]
    draw_polygons(ax, gained, facecolor=ADDED, edgecolor="none", alpha=0.18, zorder=2)
    for geom in gained:
        draw_polygons(ax, [geom], fill=False, edgecolor=ADDED, linewidth=1.0, zorder=5)
    for geom in lost:
        draw_polygons(ax, [geom], fill=False, edgecolor=REMOVED, linewidth=0.9, linestyle=(0, (3, 2)), zorder=5)
    for e in pm.edits:
        if e.op == "move":
            ax.annotate("", (e.x, e.y), (e.from_x, e.from_y), zorder=6,
                        arrowprops={"arrowstyle": "-|>", "color": MOVED, "linewidth": 1.1, "shrinkA": 3, "shrinkB": 4})
            ax.scatter([e.from_x], [e.from_y], marker="o", s=28, facecolor="white", edgecolor=MOVED, linewidths=1.0,
                       zorder=6.5)
        style = _EDIT_MARKERS[e.op]
        ax.scatter([e.x], [e.y], zorder=7, **style)
        ax.annotate(str(e.number), (e.x, e.y), xytext=(4, 4), textcoords="offset points", fontsize=size, zorder=8,
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})


_EDIT_MARKERS = {
    "add": {"marker": "o", "s": 46, "facecolor": ADDED, "edgecolor": "black", "linewidths": 0.6},
    "move": {"marker": "o", "s": 46, "facecolor": MOVED, "edgecolor": "black", "linewidths": 0.6},
    "remove": {"marker": "X", "s": 70, "facecolor": REMOVED, "edgecolor": "black", "linewidths": 0.5},
}


#: Half the side of the square an edit's marker fills (mm; the largest, the removal's cross), and where its number
#: starts to the upper right (:func:`_draw_edits`' 4 pt offset).
_MARKER_MM, _NUMBER_AT_MM = 1.6, 4 * PT_TO_MM


def _edit_boxes(pm: PlanMap, mm_per_m: float, size: float) -> list[tuple]:
    """The boxes (map units) of each edit's marker with its number, and of a moved one's old place: a name laid
    over them would hide which facility the plan changes."""
    r, at = _MARKER_MM / mm_per_m, _NUMBER_AT_MM / mm_per_m
    boxes = []
    for e in pm.edits:
        w, h = (v / mm_per_m for v in text_box_mm(str(e.number), size))
        boxes.append((e.x - r, e.y - r, max(e.x + r, e.x + at + w), max(e.y + r, e.y + at + h)))
        if e.op == "move":
            boxes.append((e.from_x - r, e.from_y - r, e.from_x + r, e.from_y + r))
    return boxes


def _draw_names(ax, pm: PlanMap, lang: str, mm_per_m: float, size: float, number_size: float) -> list[str]:
    """The changed areas' names where they fit, numbers where they do not, none over an edit's marker or number;
    the numbered ones as "n name"."""
    areas = []
    for code, name, name_en, geom in pm.changed:
        said = (name_en or name) if lang == "en" else name
        areas.append((code, geom, [t for t in (said, code) if t]))
    keyed = []
    for label in place_area_labels(areas, mm_per_m, pm.frame, size, avoid=_edit_boxes(pm, mm_per_m, number_size)):
        ax.text(label.x, label.y, label.text, fontsize=size, ha="center", va="center", zorder=6,
                linespacing=LINE_SPACING, bbox={"boxstyle": "square,pad=0.05", "facecolor": "white",
                                                "edgecolor": "none", "alpha": 0.6})
        if label.leader:
            ax.plot(*zip(*label.leader), color="black", linewidth=0.4, zorder=6)
        if label.number:
            said = next(a[2][0] for a in areas if a[0] == label.key)
            keyed.append(f"{label.number} {said}")
    return keyed


def _draw_map(fig, pm: PlanMap, ctx: PageContext) -> tuple[float, list[str]]:
    """The map into its rect of page 1; its metres per paper mm and the areas numbered on it."""
    rect = map_rect(ctx.paper)
    ax = axes_at(fig, ctx.paper, rect)
    x0, y0, x1, y1 = pm.frame
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    m_per_mm = (x1 - x0) / rect[2]
    size = 6.0 * ctx.paper.text_scale
    _draw_today(ax, pm)
    _draw_edits(ax, pm, size)
    keyed = _draw_names(ax, pm, ctx.lang, 1 / m_per_mm, size * 0.9, size)
    scale_bar(ax, pm.frame, m_per_mm, 5.5 * ctx.paper.text_scale)
    north_arrow(ax, ctx.north_angle_deg, T[ctx.lang]["north"])
    return m_per_mm, keyed


def _legend(pm: PlanMap, lang: str) -> list[tuple[str, str, dict]]:
    t, level = T[lang], UNIT_NAMES[lang].get(pm.result["by"], pm.result["by"])
    kind = _kind(pm.result["kind"], lang)
    ring = {"marker": "o", "s": 60, "facecolor": "none", "linewidths": 1.0}
    return [
        ("point", t["today"].format(kind=kind), _today_style(pm)),
        ("patch", t["today_reach"].format(radius=pm.radius), {"facecolor": TODAY_REACH, "edgecolor": "none"}),
        ("point", t["added"], _EDIT_MARKERS["add"]),
        ("point", t["added_reach"], {**ring, "edgecolor": ADDED}),
        ("line", t["moved"], {"color": MOVED, "linewidth": 1.1, "marker": ">", "markevery": [1], "markersize": 3}),
        ("point", t["removed"], _EDIT_MARKERS["remove"]),
        ("point", t["lost_reach"], {**ring, "edgecolor": REMOVED, "linestyle": (0, (2, 1.5))}),
        ("line", t["changed"].format(level=level), {"color": "black", "linewidth": 1.1}),
        ("line", t["other"].format(level=level), {"color": "0.6", "linewidth": 0.5}),
        ("number", t["numbers"], {}),
    ]


def _totals_rows(result: dict, lang: str) -> list[list[str]]:
    """The city's figures now, with the plan and the change (signed), as the plan's page shows them."""
    return [list(row[:4]) for row in totals(result, lang)]


def _totals_columns(lang: str) -> list[Column]:
    measure, now, after, change = TOTALS_HEAD[lang == "en"]
    return [Column(measure, 38), Column(now, 20, "center"), Column(after, 22, "center"), Column(change, 20, "center")]


def _side(ax, pm: PlanMap, ctx: PageContext, keyed: list[str]) -> None:
    """The column right of the map: the legend, the areas numbered on the map, the city's totals, the standard."""
    t, k = T[ctx.lang], ctx.paper.text_scale
    x0, y0, w, h = map_rect(ctx.paper)
    x, side_w, top = x0 + w + 4, SIDE_MM * k, y0 + h
    entries = _legend(pm, ctx.lang)
    legend_h = 5.2 * k * len(entries)
    draw_legend_entries(ax, (x, top - legend_h, side_w, legend_h), 1, entries, 6.0 * k)
    y = top - legend_h - 4
    if keyed:
        ax.text(x, y, t["keyed"], fontsize=6.3 * k, va="center")
        for line in keyed[:12]:
            y -= 3.6 * k
            ax.text(x + 1, y, fit(line, side_w - 1, 5.8 * k), fontsize=5.8 * k, va="center")
        y -= 4
    # The standard at the foot of the column (a long name over up to three lines), the city's totals above it.
    rule = wrap(t["rule"] + plan_rule(pm.result, ctx.lang), side_w, 5.6 * k)
    if len(rule) > 3:
        rule = rule[:2] + [fit(" ".join(rule[2:]), side_w, 5.6 * k)]
    ax.text(x, y0, "\n".join(rule), fontsize=5.6 * k, va="bottom", color="0.25", linespacing=1.3)
    rows = _totals_rows(pm.result, ctx.lang)
    table_h = 5.0 + TABLE_ROW_MM * k * (len(rows) + 1)
    draw_table(ax, (x, y0 + (3.0 * len(rule) + 4) * k, side_w, table_h), _totals_columns(ctx.lang), rows,
               title=fit(totals_label(pm.result.get("scope"), ctx.lang), side_w, (TABLE_PT + 1.8) * k),
               size=TABLE_PT * k, row_h=TABLE_ROW_MM * k)


def draw_map_page(fig, pm: PlanMap, ctx: PageContext) -> None:
    """Page 1: the title, the plan's map, its legend and the city's totals, the footer with the scale."""
    ax = paper_axes(fig, ctx.paper)
    header(ax, ctx, title(pm, ctx.lang), facts(pm, ctx.lang))
    m_per_mm, keyed = _draw_map(fig, pm, ctx)
    _side(ax, pm, ctx, keyed)
    footer(ax, ctx, 1, f"{ctx.t['scale']} 1:{round(m_per_mm * 1000, -1):,.0f}")
    # Under the map, above the footer: where the areas and the facilities drawn and counted come from.
    W, _ = ctx.paper.size_mm
    ax.text(MARGIN_MM, MARGIN_MM + 2.5, fit(source_line(pm, ctx.lang), W - 2 * MARGIN_MM, 5.5), fontsize=5.5,
            color="0.3", va="center")


def source_line(pm: PlanMap, lang: str) -> str:
    """数据来源：行政区划 a.geojson；公共厕所 b.xlsx、c.csv — each layer's sources, the largest first."""
    t, parts = T[lang], []
    for layer, names in pm.sources:
        said = [t[n] if n in ("manual", "api") else n for n in names[:MAX_SOURCES]]
        more = t["etc"] if len(names) > MAX_SOURCES else ""
        label = t["admin_areas"] if layer == "admin_areas" else _kind(layer, lang)
        parts.append(f"{label} {('、' if lang != 'en' else ', ').join(said) or '—'}{more}")
    return t["sources"].format(said=("；" if lang != "en" else "; ").join(parts))


# -- the tables ------------------------------------------------------------------------------------------------
def _area_table(result: dict, lang: str) -> tuple[str, list[Column], list[list[str]]]:
    en = lang == "en"
    widths = (10, 15, 8, 12, 12, 12, 12, 12, 12)
    columns = [Column(en_h if en else zh_h, w, "left" if i < 2 else "center")
               for i, ((_, zh_h, en_h), w) in enumerate(zip(COLUMNS, widths, strict=True))]
    rows = [[str(row["code"]), (row.get("name_en") or row["name"] if en else row["name"]) or "",
             *(figure(key, row[key]) for key, _, _ in COLUMNS[2:])] for row in result["areas"]]
    said = T[lang]["areas"].format(n=len(rows)) if rows else T[lang]["no_areas"]
    return said, columns, rows


def _change_table(result: dict, lang: str) -> tuple[str, list[Column], list[list[str]]]:
    en = lang == "en"
    widths = (5, 7, 9, 28, 11, 11, 14, 14)
    columns = [Column(en_h if en else zh_h, w, "left" if key == "name" else "center")
               for (key, zh_h, en_h), w in zip(CHANGE_COLUMNS, widths, strict=True)]
    rows = [[OPS[row["op"]][en] if key == "op" else f"{row[key]:.6f}" if isinstance(row[key], float)
             else "—" if row[key] is None else str(row[key]) for key, _, _ in CHANGE_COLUMNS]
            for row in result["changes"]]
    return T[lang]["changes"].format(n=len(rows)), columns, rows


def table_pages(result: dict, lang: str, paper: Paper) -> list[list[tuple[str, list[Column], list[list[str]]]]]:
    """The pages after the map: the changed areas' table, then the edit list, each continued on the next page
    (its title marked 续) where it runs out of room; each page a list of (title, columns, rows)."""
    k = paper.text_scale
    row_h, height = TABLE_ROW_MM * k, body_rect(paper)[3]
    pages: list[list] = [[]]
    left = height
    for said, columns, rows in (_area_table(result, lang), _change_table(result, lang)):
        start, more = 0, False
        while True:
            fits = int((left - 5.0 - row_h) // row_h)
            if fits < 1 and pages[-1]:
                pages.append([])
                left, fits = height, int((height - 5.0 - row_h) // row_h)
            chunk = rows[start:start + fits]
            pages[-1].append((said + (T[lang]["continued"] if more else ""), columns, chunk))
            left -= 5.0 + row_h * (len(chunk) + 1) + GAP_MM
            start, more = start + len(chunk), True
            if start >= len(rows):
                break
            pages.append([])
            left = height
    return pages


def draw_table_page(fig, pm: PlanMap, ctx: PageContext, tables: list, page_no: int) -> None:
    """One page of tables, from the top down."""
    ax = paper_axes(fig, ctx.paper)
    header(ax, ctx, title(pm, ctx.lang), facts(pm, ctx.lang))
    k = ctx.paper.text_scale
    x, y, w, h = body_rect(ctx.paper)
    top = y + h
    for said, columns, rows in tables:
        need = 5.0 + TABLE_ROW_MM * k * (len(rows) + 1)
        draw_table(ax, (x, top - need, w, need), columns, rows, title=said, size=TABLE_PT * k,
                   row_h=TABLE_ROW_MM * k)
        top -= need + GAP_MM
    footer(ax, ctx, page_no)


# -- the document ----------------------------------------------------------------------------------------------
def _context(pm: PlanMap, paper: Paper, lang: str) -> PageContext:
    x0, y0, x1, y1 = pm.frame
    srid = pm.city.metric_srid
    return PageContext(city=pm.city, paper=paper, lang=lang, crs_name=crs_name(srid, lang),
                       north_angle_deg=north_angle(srid, (x0 + x1) / 2, (y0 + y1) / 2), printed=datetime.now(city_tz()),
                       public_url=LinkSettings.from_env().fallback_url())


def plan_pdf(conn, plan_id: int, viewer, paper: str = "A4", lang: str = "zh",
             settings: PrintSettings | None = None) -> bytes:
    """Plan ``plan_id`` printed (landscape ``paper``, A4 or A3): the map page, then the table pages. Reads with
    ``conn`` and rolls its transaction back before drawing (seconds, no database). NotFound for no such plan."""
    sheet = Paper(paper, True)
    _, _, w, h = map_rect(sheet)
    pm = load_plan_map(conn, plan_id, viewer, w / h)
    conn.rollback()
    ctx = _context(pm, sheet, lang)
    tables = table_pages(pm.result, lang, sheet)
    ctx.total_pages = 1 + len(tables)
    pages = [lambda fig: draw_map_page(fig, pm, ctx)]
    pages += [lambda fig, n=n, part=part: draw_table_page(fig, pm, ctx, part, n)
              for n, part in enumerate(tables, start=2)]
    metadata = {"Title": title(pm, lang), "Creator": "hygiene-map", "Subject": T[lang]["plan"]}
    shown = (pm.result, title(pm, lang), facts(pm, lang), plan_rule(pm.result, lang),  # the font's characters
             totals_label(pm.result.get("scope"), lang), source_line(pm, lang),
             CHANGE_COLUMNS,  # the edit list's headers: lon/lat's words come from the exports' module
             module_words(plans_words, scope_words, vocab))
    return pages_pdf(ctx, settings or PrintSettings.from_env(), metadata, pages, *shown)
