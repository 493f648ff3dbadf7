"""The bulletin as a printed 通报: A4, vector, the CJK font embedded (the atlases' font and table style).

Page flow, Chinese first: title and period, a 文号 line to fill in, the
summary written from the figures, the street ranking with red and black list
marks, the lowest-ranked units and the units with most overdue cases, the
event types and their change, and the definitions of the figures as
footnotes. Tables run on to the next page when they do not fit.
"""

from __future__ import annotations

import functools
from pathlib import Path

from data.settings import PrintSettings
from layers.printing.fonts import document_font
from layers.printing.page import MARGIN_MM
from layers.printing.pdf import RENDER_LOCK, save, with_fallback
from layers.printing.style import Paper, rc_params, register_font
from layers.printing.tables import Column
from layers.reports.changes import COV_HEAD, EMERGED, change_lines, coverage_rows
from layers.reports.compose import extra_figures, list_marks, percent
from layers.reports.figures import figures, rank_change_text
from layers.reports.layout import RED, Flow, heading_line, paragraph, table, table_or_none
from layers.reports.rectification import TEXT as RECT_TEXT
from layers.reports.rectification import deduction_line, item_line, period_figures_shown
from layers.reports.street_map import draw_hotspot_map, draw_street_map
from layers.reports.trend import draw_trend

#: Units printed in each unit table.
UNIT_ROWS = 10
#: Height of the map of the period's emerging hot spots, and how many of them the table lists.
HOTSPOT_MM = 80.0
HOTSPOT_ROWS = 15
#: Height of the trend charts.
TREND_MM = 45.0
#: Height of the map of streets by 结案率.
MAP_MM = 80.0
_T = {
    "zh": {"title": "{city}创建卫生城市工作通报", "number": "文号：＿＿＿＿〔{year}〕第＿＿＿号",
           "streets": "一、街道排名", "units": "二、责任单位排名后{n}位", "units_none": "二、责任单位排名",
           "no_units": "本期没有可排名的责任单位：没有投诉落在有责任单位的网格里（尚未划分网格或指定责任单位）。", "overdue": "三、超期未结案较多的责任单位",
           "no_overdue": "期末没有超期未结案的投诉。",
           "no_units_score": "本期没有可排名的责任单位：被检查街道的网格本期没有责任单位（尚未指定），发现的问题无单位可计。", "no_categories": "本期和上期都没有受理投诉。",
           "categories": "四、主要问题类别", "map": {"closed_rate": "街道结案率分布", "score": "街道检查得分分布"}, "notes": "指标说明", "red": "红榜", "black": "黑榜",
           "street": "街道", "unit": "责任单位", "category": "问题类别", "mark": "标记", "previous": "上期",
           "change": "增减", "hotspots": "五、热点变化", "coverage": "六、设施变化",
           "no_hotspots": "本期无法做新兴热点分析：{reason}。", "pattern": "模式", "cell_count": "窗口内投诉数",
           "position": "网格中心（经度, 纬度）",
           "hotspot_note": "新兴热点分析窗口 {since} 至 {until}（不含），六边形边长 {cell} 米；新增、连续或加剧的热点 {n} 处。",
           "trend": "近{n}{kind}受理数与结案率",
           "kinds": {"week": "周", "month": "个月", "quarter": "个季度", "year": "年"}, "demo": "演示数据（虚构城市）"},
    "en": {"title": "{city}: hygiene campaign bulletin", "number": "No. ____ [{year}] ____",
           "streets": "1. Streets ranked", "units": "2. The {n} lowest-ranked units", "units_none": "2. Units ranked",
           "no_units": "No unit to rank this period: no complaint lies in a grid with a responsible unit (no grids "
                       "cut or no units assigned yet).", "overdue":
           "3. Units with most overdue cases", "no_overdue": "No complaint was open past its time limit at the end.",
           "no_units_score": "No unit to rank this period: no grid of the inspected streets had a unit then (none "
                             "assigned yet), so no finding is charged to one.",
           "no_categories": "No complaint was received in this period or the previous one.", "categories": "4. Main event types", "map": {"closed_rate": "Closure rate by street", "score": "Inspection score by street"}, "notes": "Definitions",
           "red": "red list", "black": "black list", "street": "Street", "unit": "Unit", "category": "Event type",
           "mark": "Mark", "previous": "Previous", "change": "Change", "hotspots": "5. Emerging hot spots", "coverage": "6. Facilities",
           "no_hotspots": "No emerging hot spot analysis for this period: {reason}.", "pattern": "Pattern",
           "cell_count": "Complaints in window", "position": "Cell centre (lon, lat)",
           "hotspot_note": "Emerging hot spot window {since} to {until} (exclusive), hexagons of {cell} m; {n} new, "
                           "consecutive or intensifying hot spots.",
           "trend": "Received and closure rate, the last {n} {kind}s",
           "kinds": {"week": "week", "month": "month", "quarter": "quarter", "year": "year"},
           "demo": "Demo data (fictional city)"},
}


#: Shorter English headings of the ranking tables, where the figures' names (data/figures.csv, printed in
#: full in the definitions) do not fit an A4 column.
_SHORT_EN = {"rank_change": "±", "closed_rate": "Closed %", "on_time_rate": "On time %", "rework_rate": "Rework %",
             "open_at_end": "Open", "overdue_at_end": "Overdue", "findings": "Found", "deductions": "Lost",
             "satisfaction": "Satisf. %"}
#: Shorter Chinese headings of the inspection and satisfaction columns (their full names in the definitions).
_SHORT_ZH = {"findings": "问题", "satisfaction": "满意率", "rated": "评价"}
_TABLE_FIGURES = ("received", "filed", "due", "closed", "closed_rate", "on_time_rate", "rework_rate", "open_at_end",
                  "overdue_at_end")


def _heading(code: str, lang: str) -> str:
    short = _SHORT_EN if lang == "en" else _SHORT_ZH
    return short.get(code) or figures()[code].name(lang)


def _figure_columns(lang: str, first: str, first_width: float, extra: tuple[str, ...] = ()) -> list[Column]:
    # Chinese headings are longer on the two stock columns (期末超期未结案数); English ones are short throughout.
    widths = {"on_time_rate": 1.0, "open_at_end": 1.45, "overdue_at_end": 1.65} if lang == "zh" else {"on_time_rate": 1.0}
    widths.update(dict.fromkeys(extra, 0.55 if lang == "zh" else 0.5))
    return [Column(_heading("rank", lang), 0.6, "center"), Column(_heading("rank_change", lang), 0.85 if lang == "zh" else 0.7, "center"),
            Column(first, first_width + (0.5 - 0.1 * len(extra) if lang == "en" else -0.2 * len(extra))),
            *(Column(_heading(c, lang), widths.get(c, 0.8), "center") for c in (*_TABLE_FIGURES, *extra))]


def _figure_cells(r: dict, lang: str, extra: tuple[str, ...] = ()) -> list[str]:
    def cell(code: str) -> str:
        value = r[code]
        return "—" if value is None else percent(value) if code == "satisfaction" else f"{value:g}"

    return ["" if r["rank"] is None else str(r["rank"]), rank_change_text(r, lang), r["name"] or "",
            str(r["received"]), str(r["filed"]), str(r["due"]), str(r["closed"]), percent(r["closed_rate"]),
            percent(r["on_time_rate"]), percent(r["rework_rate"]), str(r["open_at_end"]), str(r["overdue_at_end"]),
            *(cell(c) for c in extra)]


def _draw(flow: Flow, b: dict, lang: str, demo: bool, shapes: dict | None) -> None:
    t = _T[lang]
    W = flow.paper.size_mm[0]
    ax = flow.room(30)
    ax.text(W / 2, flow.y - 7, t["title"].format(city=b["city"] or ""), fontsize=16, ha="center", va="center")
    ax.text(W / 2, flow.y - 15, b["period"]["label"], fontsize=10, ha="center", va="center")
    ax.text(W / 2, flow.y - 22, t["number"].format(year=b["period"]["start"][:4]), fontsize=8, ha="center",
            va="center", color="0.25")
    if demo:
        ax.text(W - MARGIN_MM, flow.y - 2, t["demo"], fontsize=6.5, ha="right", va="center", color="0.35")
    ax.plot([MARGIN_MM, W - MARGIN_MM], [flow.y - 26] * 2, color=RED, linewidth=1.2)
    flow.y -= 31
    paragraph(flow, b[f"summary_{lang}"], 9)
    flow.y -= 4
    marks, extra = list_marks(b["streets"]), extra_figures(b, "streets")
    rows = [[*_figure_cells(r, lang, extra), t[marks[r["code"]]] if r["code"] in marks else ""] for r in b["streets"]]
    table(flow, t["streets"], [*_figure_columns(lang, t["street"], 1.8, extra),
                                Column(t["mark"], 0.7 if lang == "zh" else 1.1, "center")], rows,
           [marks.get(r["code"], "") for r in b["streets"]])
    if shapes:
        _street_map(flow, b, shapes, lang)
    _trend(flow, b, lang)
    ranked = [r for r in b["units"] if r["rank"] is not None]
    worst = ranked[-UNIT_ROWS:][::-1]
    extra = extra_figures(b, "units")
    if worst:
        table(flow, t["units"].format(n=len(worst)), _figure_columns(lang, t["unit"], 2.6, extra),
               [_figure_cells(r, lang, extra) for r in worst])
    else:  # no complaint in a grid with a unit (a city without grids yet): say so, not an empty table
        heading_line(flow, t["units_none"], 10)
        paragraph(flow, t["no_units_score" if b["ranked_by"] == "score" else "no_units"], 8)
        flow.y -= 4
    overdue = sorted((r for r in b["units"] if r["overdue_at_end"]), key=lambda r: (-r["overdue_at_end"], r["name"]))
    table_or_none(flow, t["overdue"], _figure_columns(lang, t["unit"], 2.6),
                   [_figure_cells(r, lang) for r in overdue[:UNIT_ROWS]], t["no_overdue"])
    defs = figures()
    table_or_none(flow, t["categories"], [Column(t["category"], 3), Column(defs["received"].name(lang), 1, "center"),
                                           Column(t["previous"], 1, "center"), Column(t["change"], 1, "center")],
                   [[r["name"], str(r["received"]), str(r["previous"]), f"{r['change']:+d}"] for r in b["categories"]],
                   t["no_categories"])
    _hotspots(flow, b, shapes, lang)
    _coverage(flow, b, lang)
    _overdue_findings(flow, b, lang)
    _deductions(flow, b, lang)
    flow.room(12)
    flow.ax.text(MARGIN_MM, flow.y - 2, t["notes"], fontsize=8, va="center")
    flow.y -= 5
    for d in b["definitions"]:
        paragraph(flow, defs[d["code"]].footnote(lang), 6, color="0.2")




def _street_map(flow: Flow, b: dict, shapes: dict, lang: str) -> None:
    """The choropleth of streets by what they are ranked on (layers.reports.street_map) under its title, 80 mm high."""
    ax = flow.room(MAP_MM + 6)
    ax.text(MARGIN_MM, flow.y - 2, _T[lang]["map"][b["ranked_by"]], fontsize=8, va="center")
    W, H = flow.paper.size_mm
    by_score = b["ranked_by"] == "score"
    draw_street_map(flow.pages[-1][0], (MARGIN_MM, flow.y - 6 - MAP_MM, W - 2 * MARGIN_MM, MAP_MM), (W, H),
                    b["streets"], shapes, lang, b["ranked_by"], b["inspections"]["base"] if by_score else 100.0)
    flow.y -= MAP_MM + 10


def _trend(flow: Flow, b: dict, lang: str) -> None:
    """The last 12 periods' received and closure rate (layers.reports.trend) under their title."""
    ax = flow.room(TREND_MM + 6)
    ax.text(MARGIN_MM, flow.y - 2, _T[lang]["trend"].format(n=len(b["trend"]), kind=_T[lang]["kinds"][b["period"]["kind"]]),
            fontsize=8, va="center")
    W, H = flow.paper.size_mm
    draw_trend(flow.pages[-1][0], (MARGIN_MM, flow.y - 6 - TREND_MM, W - 2 * MARGIN_MM, TREND_MM), (W, H),
               b["trend"], lang)
    flow.y -= TREND_MM + 10




def _hotspots(flow: Flow, b: dict, shapes: dict | None, lang: str) -> None:
    """五、热点变化: the period's emerging hot spots on the streets (a map), and a table of them."""
    t, h = _T[lang], b["hotspots"]
    heading_line(flow, t["hotspots"], HOTSPOT_MM if shapes and h["available"] else 10)
    if not h["available"]:
        paragraph(flow, t["no_hotspots"].format(reason=h["reason"]), 8)
        flow.y -= 4
        return
    if shapes:
        W, H = flow.paper.size_mm
        names = {r["code"]: r["name"] for r in b["streets"]}
        draw_hotspot_map(flow.pages[-1][0], (MARGIN_MM, flow.y - HOTSPOT_MM, W - 2 * MARGIN_MM, HOTSPOT_MM), (W, H),
                         shapes, names, h, EMERGED, lang)
        flow.y -= HOTSPOT_MM + 4
    paragraph(flow, t["hotspot_note"].format(since=h["window"]["since"][:10], until=h["window"]["until"][:10],
                                              n=len(h["cells"]), cell=f"{h['cell_m']:g}"), 7, color="0.25")
    flow.y -= 2
    if h["cells"]:
        table(flow, None, [Column(t["pattern"], 1.2), Column(t["street"], 1.2), Column(t["cell_count"], 0.8, "center"),
                            Column("Gi* z", 0.6, "center"), Column(t["position"], 1.4, "center")],
               [[c["pattern_name"], c["street_name"] or "—", str(c["count"]), f"{c['gi_z']:.2f}",
                 f"{c['lon']:.5f}, {c['lat']:.5f}"] for c in h["cells"][:HOTSPOT_ROWS]])


def _coverage(flow: Flow, b: dict, lang: str) -> None:
    """六、设施变化: the facilities added, removed and moved in the period and the covered share at its start and
    end, as far as the facility history tells (else what can be told, and why not more)."""
    t, c = _T[lang], b["coverage"]
    heading_line(flow, t["coverage"], 20)
    paragraph(flow, c["reason"], 7.5, color="0.25")
    flow.y -= 2
    widths = (2, 0.8, 1.3, 1.1, 0.8, 0.8, 0.8, 1.1, 1.1)
    table(flow, None, [Column(h, w, "center" if i else "left") for i, (h, w) in enumerate(zip(COV_HEAD[lang], widths))],
           [[str(x) if x is not None else "—" for x in row] for row in coverage_rows(c)])
    for line in change_lines(c, lang):
        paragraph(flow, line, 7)


def _overdue_findings(flow: Flow, b: dict, lang: str) -> None:
    """七、逾期未整改的检查问题: each inspection finding overdue for rectification at the end, named on a line of its
    own, longest overdue first (layers.reports.rectification), or that there is none; nothing when nothing was ever
    found."""
    rect, t = b.get("rectification"), RECT_TEXT[lang]
    if rect is None:
        return
    heading_line(flow, ("七、" if lang == "zh" else "7. ") + t["title"], 20)
    codes = period_figures_shown(b)
    if codes:  # the period's 整改 per street (data/figures.csv), before the overdue findings named one by one
        cells = lambda r: [percent(r[c]) if c.endswith("_rate") else str(r[c]) for c in codes]  # noqa: E731
        table(flow, t["done_title"], [Column(_T[lang]["street"], 1.8), *(Column(_heading(c, lang), 1, "center")
                                                                          for c in codes)],
              [[r["name"] or "", *cells(r)] for r in b["streets"] if r.get("findings_due") or r.get("rechecks_failed")])
    paragraph(flow, t["note"], 7, color="0.25")
    flow.y -= 2
    if not rect["items"]:
        paragraph(flow, t["none"], 8)
        flow.y -= 4
        return
    for k, r in enumerate(rect["items"], start=1):  # lines, not a table: long names and items wrap whole
        paragraph(flow, item_line(k, r, lang), 7)
    flow.y -= 4


def _deductions(flow: Flow, b: dict, lang: str) -> None:
    """八、检查扣分明细: how each street's and unit's lost points are made — per checklist item, the points each and
    the findings; nothing when the period had no inspection."""
    ins, t = b["inspections"], RECT_TEXT[lang]
    if not ins:
        return
    heading_line(flow, ("八、" if lang == "zh" else "8. ") + t["items_title"], 20)
    paragraph(flow, t["items_note"].format(base=ins["base"]), 7, color="0.25")
    flow.y -= 2
    for r in ins["by_item"]:  # lines, not a table: long item wordings wrap whole
        paragraph(flow, deduction_line(r, lang), 7)
    if not ins["by_item"]:
        paragraph(flow, t["items_none"], 8)
    flow.y -= 4


@functools.lru_cache(maxsize=1)
def _report_words() -> str:
    """Non-ASCII characters of the reports' source (headings, notes, legends drawn from code), for the font cut."""
    text = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("*.py"))
    return "".join(sorted({ch for ch in text if ord(ch) > 127}))


def write_pdf(b: dict, out, lang: str = "zh", settings: PrintSettings | None = None,
              shapes: dict | None = None) -> int:
    """Write bulletin ``b`` (built in ``lang``) to ``out`` (a path or a binary file) as an A4 PDF; its pages.
    ``shapes`` ({street code: outline in metres}, :func:`layers.printing.data.street_shapes`) adds the map of
    streets by 结案率."""
    settings = settings or PrintSettings.from_env()
    title = _T[lang]["title"].format(city=b["city"] or "") + " " + b["period"]["label"]
    pages = []

    def draw(buffer, font: str | None) -> None:
        import matplotlib
        from matplotlib.backends.backend_pdf import PdfPages

        with matplotlib.rc_context(rc_params(register_font(font))):
            flow = Flow(Paper("A4", False), lang)
            _draw(flow, b, lang, b.get("demo", False), shapes)
            with PdfPages(buffer, metadata={"Title": title, "Creator": "hygiene-map"}) as pdf:
                for fig, _ in flow.pages:
                    pdf.savefig(fig)
        pages.append(len(flow.pages))

    # The document's own font (layers.printing.fonts): matplotlib otherwise re-reads the whole 5 MB font with
    # fontTools for every 256-glyph block it embeds, most of a bulletin's time.
    words = (b, _T[lang], _report_words(), [(f.footnote(lang), f.name(lang)) for f in figures().values()])
    with RENDER_LOCK, document_font(settings.font_path, *words) as font:
        save(out, with_fallback(draw, (font, settings.font_path)))
    return pages[-1]
