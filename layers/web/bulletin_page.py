"""The page /reports: pick a period, read the bulletin's summary and ranking tables, download the PDF and XLSX.

Written on the server from the bulletin's JSON (layers.reports.compose.bulletin): plain HTML with its
style inline, no script and no file from elsewhere, so it works offline and prints as it shows.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from data.params import PERIOD_KINDS
from layers.reports.changes import COV_HEAD, change_lines, coverage_rows
from layers.reports.compose import extra_figures, list_marks, percent
from layers.reports.figures import figures, rank_change_text
from layers.reports.rectification import TEXT as RECT_TEXT
from layers.reports.rectification import period_figures_shown
from layers.reports.trend import trend_svg

_WORDS = {
    "zh": {"title": "卫生城市创建通报", "period": "统计周期", "date": "日期", "show": "查看",
           "kinds": {"week": "周", "month": "月", "quarter": "季度", "year": "年"},
           "date_hint": "某日（2026-10-30）或 2026-10、2026-Q3、2026、2026-W44",
           "download": "下载", "pdf": "通报（PDF）", "xlsx": "数据表（XLSX）", "summary": "概况",
           "streets": "街道排名", "units": "责任单位排名", "categories": "问题类别", "notes": "指标说明",
           "street": "街道", "unit": "责任单位", "category": "问题类别", "previous": "上期受理数", "change": "增减",
           "mark": "榜单", "hotspots": "热点变化", "coverage": "设施变化",
           "hot_window": "新兴热点分析窗口 {since} 至 {until}（不含）：新增、连续或加剧的热点 {n} 处。",
           "hot_head": ("模式", "街道", "窗口内投诉数", "Gi* z"),
           "trend": "近{n}期受理数与结案率", "red": "红榜", "black": "黑榜", "other": "English", "demo": "演示数据，非真实城市"},
    "en": {"title": "Hygiene campaign bulletin", "period": "Period", "date": "Date", "show": "Show",
           "kinds": {"week": "week", "month": "month", "quarter": "quarter", "year": "year"},
           "date_hint": "a day (2026-10-30) or 2026-10, 2026-Q3, 2026, 2026-W44",
           "download": "Download", "pdf": "bulletin (PDF)", "xlsx": "workbook (XLSX)", "summary": "Summary",
           "streets": "Streets", "units": "Responsible units", "categories": "Event types", "notes": "Definitions",
           "street": "Street", "unit": "Unit", "category": "Event type", "previous": "Previous", "change": "Change",
           "mark": "List", "hotspots": "Emerging hot spots", "coverage": "Facilities",
           "hot_window": "Emerging hot spot window {since} to {until} (exclusive): {n} new, consecutive or intensifying hot spots.",
           "hot_head": ("Pattern", "Street", "Complaints in window", "Gi* z"),
           "trend": "The last {n} periods: received and closure rate", "red": "red list", "black": "black list", "other": "中文", "demo": "demo data, not a real city"},
}
#: The figures of the street and unit tables, in order (codes of data/figures.csv).
_COLUMNS = ("received", "filed", "due", "closed", "closed_rate", "on_time_rate", "rework_rate", "open_at_end",
            "overdue_at_end", "median_hours")
_STYLE = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em 2em;color:#222}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em;border-left:4px solid #c00000;
padding-left:.4em}.period{color:#444}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 7px}th{background:#f0f0f0}td.n{text-align:right}
tr.red td{background:#fde8e8}tr.black td{background:#e6e6e6}td.red{color:#c00000;font-weight:bold}
td.black{color:#000;font-weight:bold}td.red,td.black{white-space:nowrap}form{margin:.8em 0}.downloads a{margin-right:1.2em}
.notes{font-size:12px;color:#444}.lang{float:right}.demo{color:#666;font-size:12px}
table{display:block;max-width:100%;overflow-x:auto}#streets td:nth-child(3),#units td:nth-child(3){white-space:nowrap}
.trend{display:flex;flex-wrap:wrap;gap:0 1em}.trend svg{flex:1 1 300px}
@media (max-width:600px){body{margin:1em .8em}}"""
# The two trend charts are two pictures of 360 px: side by side on a wide screen, one over the other on a phone
# (each at about its own size, so its labels stay readable). Street and unit names never wrap a character a line.


def _cell(code: str, value) -> str:
    if value is None:
        return "—"
    if code.endswith("_rate") or code == "satisfaction":
        return percent(value)
    return f"{value:g}" if code in ("deductions", "score") else f"{value:.1f}" if isinstance(value, float) else str(value)


def _ranking(rows: list[dict], first: str, lang: str, marks: dict | None, table_id: str,
             extra: tuple[str, ...] = (), ranked_on: str = "closed_rate") -> str:
    """A ranking table: rank, change, name, the figure ranked on (``ranked_on``) and the 红榜/黑榜 mark when
    ``marks`` is given — first, so that a phone shows them without a sideways scroll — then the other figures (and
    ``extra`` ones: inspections, satisfaction, 整改)."""
    t, defs, esc = _WORDS[lang], figures(), html.escape
    columns = tuple(c for c in (*_COLUMNS, *extra) if c != ranked_on)
    head = [defs["rank"].name(lang), defs["rank_change"].name(lang), first, defs[ranked_on].name(lang)]
    head += [t["mark"]] if marks is not None else []
    head += [defs[c].name(lang) for c in columns]
    body = []
    for r in rows:
        mark = (marks or {}).get(r["code"], "")
        cells = [f'<td class="n">{"" if r["rank"] is None else r["rank"]}</td>',
                 f'<td class="n">{rank_change_text(r, lang)}</td>', f'<td>{esc(r["name"] or "")}</td>',
                 f'<td class="n">{_cell(ranked_on, r.get(ranked_on))}</td>']
        if marks is not None:
            cells.append(f'<td class="{mark}">{esc(t[mark]) if mark else ""}</td>')
        cells += [f'<td class="n">{_cell(c, r.get(c))}</td>' for c in columns]
        body.append(f'<tr class="{mark}">{"".join(cells)}</tr>')
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    return f'<table id="{table_id}"><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _extra(b: dict, table: str) -> tuple[str, ...]:
    """The figures a table shows besides the complaints': inspections, satisfaction, the period's 整改."""
    return (*extra_figures(b, table), *period_figures_shown(b))


def _form(lang: str, kind: str, date: str) -> str:
    t, esc = _WORDS[lang], html.escape
    options = "".join(f'<option value="{k}"{" selected" if k == kind else ""}>{esc(t["kinds"][k])}</option>'
                      for k in PERIOD_KINDS)
    return (f'<form id="period-form" method="get" action="/reports"><label>{esc(t["period"])} <select name="period">{options}'
            f'</select></label> <label>{esc(t["date"])} <input name="date" value="{esc(date)}" size="12" '
            f'title="{esc(t["date_hint"])}" placeholder="2026-10"></label>'
            f'<input type="hidden" name="lang" value="{lang}"> <button type="submit">{esc(t["show"])}</button></form>')


def _changes(b: dict, lang: str) -> str:
    """The period's emerging hot spots (a table) and what the data tells of the facilities."""
    t, esc, h, c = _WORDS[lang], html.escape, b["hotspots"], b["coverage"]
    if h["available"]:
        rows = "".join(f'<tr><td>{esc(x["pattern_name"])}</td><td>{esc(x["street_name"] or "—")}</td>'
                       f'<td class="n">{x["count"]}</td><td class="n">{x["gi_z"]:.2f}</td></tr>' for x in h["cells"])
        hot = (f'<p>{esc(t["hot_window"].format(since=h["window"]["since"][:10], until=h["window"]["until"][:10], n=len(h["cells"])))}</p>'
               f'<table id="hotspots"><thead><tr>{"".join(f"<th>{esc(x)}</th>" for x in t["hot_head"])}</tr></thead>'
               f'<tbody>{rows}</tbody></table>')
    else:
        hot = f'<p id="hotspots">{esc(h["reason"])}</p>'
    kinds = "".join(f'<tr><td>{esc(row[0])}</td>' + "".join(f'<td class="n">{"—" if x is None else x}</td>' for x in row[1:])
                    + "</tr>" for row in coverage_rows(c))
    lines = "".join(f"<li>{esc(line)}</li>" for line in change_lines(c, lang))
    return (f'<h2>{esc(t["hotspots"])}</h2>{hot}<h2>{esc(t["coverage"])}</h2><p class="notes">{esc(c["reason"])}</p>'
            f'<table id="coverage"><thead><tr>{"".join(f"<th>{esc(x)}</th>" for x in COV_HEAD[lang])}</tr></thead>'
            f'<tbody>{kinds}</tbody></table>' + (f'<ul id="facility-changes">{lines}</ul>' if lines else ""))


def _overdue_findings(b: dict, lang: str) -> str:
    """The inspection findings overdue for rectification at the end, named (layers.reports.rectification)."""
    rect, t, esc = b.get("rectification"), RECT_TEXT[lang], html.escape
    if rect is None:
        return ""
    rows = "".join("<tr>" + "".join(f'<td{" class=n" if k in (0, 5, 8) else ""}>{esc(str(x))}</td>' for k, x in enumerate((
        r["id"], r["street_name"] or r["street_code"], r["unit"] or t["unassigned"], r["grid_code"] or "—", r["item_text"],
        f"{r['deduction']:g}", r["observed_at"][:10], r["due_at"][:16].replace("T", " "), f"{r['days_overdue']:.1f}",
        r["round"]))) + "</tr>" for r in rect["items"])
    table = (f'<table id="overdue-findings"><thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in t["head"])}</tr></thead>'
             f"<tbody>{rows}</tbody></table>" if rows else f'<p id="overdue-findings">{esc(t["none"])}</p>')
    return f'<h2>{esc(t["title"])}</h2><p class="notes">{esc(t["note"])}</p>{table}'


def _deductions(b: dict, lang: str) -> str:
    """The period's deductions per street, unit and checklist item (扣分明细): how each score is made."""
    ins, t, esc = b["inspections"], RECT_TEXT[lang], html.escape
    if not ins:
        return ""
    rows = "".join("<tr>" + "".join(f'<td{" class=n" if k > 4 else ""}>{esc(str(x))}</td>' for k, x in enumerate((
        r["street_code"], r["street_name"] or "", r["unit"] or t["unassigned"], r["item_code"], r["item_text"],
        f"{r['deduction']:g}", r["findings"], f"{r['points']:g}"))) + "</tr>" for r in ins["by_item"])
    table = (f'<table id="deductions"><thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in t["items_head"])}</tr>'
             f"</thead><tbody>{rows}</tbody></table>" if rows else f'<p id="deductions">{esc(t["items_none"])}</p>')
    return f'<h2>{esc(t["items_title"])}</h2><p class="notes">{esc(t["items_note"].format(base=ins["base"]))}</p>{table}'


def bulletin_page(b: dict, *, lang: str, kind: str, date: str) -> str:
    """/reports: the bulletin ``b`` of period ``kind`` named by ``date`` (as the user wrote it) as a page."""
    t, esc, defs = _WORDS[lang], html.escape, figures()
    query = {"period": kind, "date": date}
    title = f"{b['city']} · {t['title']}" if b["city"] else t["title"]
    downloads = "".join(f'<a id="download-{s}" href="/reports/bulletin.{s}?{esc(urlencode({**query, "lang": lang}))}">'
                        f'{esc(t["download"])} {esc(t[s])}</a>' for s in ("pdf", "xlsx"))
    categories = "".join(f'<tr><td>{esc(r["name"])}</td><td class="n">{r["received"]}</td>'
                         f'<td class="n">{r["previous"]}</td><td class="n">{r["change"]:+d}</td></tr>'
                         for r in b["categories"])
    cat_head = "".join(f"<th>{esc(h)}</th>" for h in (t["category"], defs["received"].name(lang), t["previous"],
                                                       t["change"]))
    notes = "".join(f"<li>{esc(defs[d['code']].footnote(lang))}</li>" for d in b["definitions"])
    other = esc(urlencode({**query, "lang": "zh" if lang == "en" else "en"}))
    demo = f'<p class="demo">{esc(t["demo"])}</p>' if b["demo"] else ""
    ranked_on = "score" if b["ranked_by"] == "score" else "closed_rate"
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>
<style>{_STYLE}</style></head>
<body><p class="lang"><a id="other-lang" href="/reports?{other}">{t['other']}</a></p>
<h1>{esc(title)}</h1><p class="period" id="period">{esc(b['period']['label'])}</p>{demo}
{_form(lang, kind, date)}<p class="downloads">{downloads}</p>
<h2>{esc(t['summary'])}</h2><p id="summary">{esc(b[f'summary_{lang}'])}</p>
<h2>{esc(t['trend'].format(n=len(b['trend'])))}</h2><div class="trend">{trend_svg(b['trend'], lang)}</div>
<h2>{esc(t['streets'])}</h2>{_ranking(b['streets'], t['street'], lang, list_marks(b['streets']), 'streets', _extra(b, 'streets'), ranked_on)}
<h2>{esc(t['units'])}</h2>{_ranking(b['units'], t['unit'], lang, None, 'units', _extra(b, 'units'), ranked_on)}
<h2>{esc(t['categories'])}</h2><table id="categories"><thead><tr>{cat_head}</tr></thead><tbody>{categories}</tbody></table>
{_changes(b, lang)}
{_overdue_findings(b, lang)}
{_deductions(b, lang)}
<h2>{esc(t['notes'])}</h2><ol class="notes">{notes}</ol></body></html>"""
