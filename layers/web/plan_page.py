"""The pages /plans (the saved coverage plans) and /plans/{id} (one plan against today's facilities, printable).

Written on the server from the plans' JSON (layers.analysis.plans), like the bulletin page: plain HTML with its
style inline and no script, so it prints as it shows (the links and the language switch are left off paper).
"""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import urlencode

from data.vocab import FACILITY_KINDS, UNIT_NAMES, city_tz
from layers.analysis.plans import CHANGE_COLUMNS, COLUMNS, OPS, TOTALS_HEAD, figure, plan_rule, totals
from layers.analysis.scope import totals_label

_WORDS = {
    "zh": {"plans": "设施规划方案", "plan": "规划方案", "none": "尚无保存的方案：在覆盖分析地图上添加、移动或移除设施后保存。",
           "head": ("编号", "方案名称", "设施", "服务半径", "统计单元", "调整数", "保存人", "保存时间", ""),
           "compare": "对比", "map": "在地图上打开", "xlsx": "对比表（XLSX）", "geojson": "设施（GeoJSON）", "pdf": "打印 PDF",
           "all": "全部方案", "rule": "标准：", "facts": "{kind}，服务半径 {radius:g} 米，按{by}统计；{edits} 项调整；{who} 保存于 {at}。",
           "areas": "受影响的统计单元（{n} 个）", "no_areas": "本方案不改变任何统计单元的覆盖。",
           "levels": UNIT_NAMES["zh"], "other": "English",
           "changes": "调整清单（{n} 项）"},
    "en": {"plans": "Facility plans", "plan": "Plan", "none": "No plan saved yet: add, move or remove facilities "
                                                               "on the coverage map, then save the draft.",
           "head": ("No.", "Name", "Facilities", "Radius", "Areas", "Edits", "Saved by", "Saved at", ""),
           "compare": "compare", "map": "open on the map", "xlsx": "comparison (XLSX)", "geojson": "facilities (GeoJSON)", "pdf": "Print PDF",
           "all": "all plans", "rule": "Standard: ", "facts": "{kind}, service radius {radius:g} m, by {by}; {edits} edits; saved by {who} "
                                        "on {at}.",
           "areas": "Areas the plan changes ({n})", "no_areas": "The plan changes no area's coverage.",
           "levels": UNIT_NAMES["en"], "other": "中文",
           "changes": "Edits ({n})"},
}
_STYLE = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em 2em;color:#222}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em;border-left:4px solid #1f78b4;
padding-left:.4em}table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #bbb;padding:3px 7px}
th{background:#f0f0f0}td.n{text-align:right}.links a{margin-right:1.2em}.lang{float:right}.facts{color:#444}
td.up{color:#006d2c;font-weight:bold}td.down{color:#c00000;font-weight:bold}td.name{white-space:nowrap}
#plans td.plan{max-width:22em;overflow-wrap:anywhere}h1{overflow-wrap:anywhere}
#plans td.n,#plans td.when,#plans th,#plans td.links a{white-space:nowrap}#changes td{white-space:nowrap}
@media print{.links,.lang,.hm-session{display:none}body{margin:0}table{font-size:11px}}
@media screen{table{display:block;max-width:100%;overflow-x:auto}}
@media (max-width:600px){body{margin:1em .8em}th{min-width:4.5em}}"""
# On a screen a table wider than it (a phone's 390 px) scrolls in its own box, not the page; on paper it is whole.
# On a phone a header keeps a few characters a line (squeezed to fit, 覆盖面积比例（规划后，%） stood one a line).


def _kind(key: str, lang: str) -> str:
    kind = FACILITY_KINDS.get(key)
    return key if kind is None else kind.name_en if lang == "en" else kind.name_zh


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(city_tz()).strftime("%Y-%m-%d %H:%M")


def _links(plan: dict, lang: str) -> str:
    """Links to the map with the plan loaded as a draft, the workbook, the GeoJSON and the printed map (PDF)."""
    t, esc, pid = _WORDS[lang], html.escape, plan["id"]
    on_map = urlencode({"kind": plan["kind"], "radius": f"{plan['radius_m']:g}", "by": plan["by"], "plan": pid,
                        "lang": lang})
    return (f'<a class="map" href="/map/coverage?{esc(on_map)}">{esc(t["map"])}</a>'
            f'<a class="xlsx" href="/api/plans/{pid}/compare?format=xlsx&amp;lang={lang}">{esc(t["xlsx"])}</a>'
            f'<a class="geojson" href="/api/plans/{pid}/export">{esc(t["geojson"])}</a>'
            f'<a class="pdf" href="/plans/{pid}.pdf?lang={lang}">{esc(t["pdf"])}</a>')


def _page(title: str, lang: str, other: str, body: str) -> str:
    t, esc = _WORDS[lang], html.escape
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>
<style>{_STYLE}</style></head>
<body><p class="lang"><a id="other-lang" href="{esc(other)}">{t['other']}</a></p><h1>{esc(title)}</h1>
{body}</body></html>"""


def plans_page(plans: list[dict], lang: str) -> str:
    """/plans: every saved plan, newest first, with links to its comparison, the map, the workbook and GeoJSON."""
    t, esc = _WORDS[lang], html.escape
    rows = "".join(
        f'<tr id="plan-{p["id"]}"><td class="n">{p["id"]}</td><td class="plan"><a href="/plans/{p["id"]}?lang={lang}">'
        f'{esc(p["name"])}</a></td><td>{esc(_kind(p["kind"], lang))}</td><td class="n">{p["radius_m"]:g} m</td>'
        f'<td>{esc(t["levels"].get(p["by"], p["by"]))}</td><td class="n">{p["edits"]}</td>'
        f'<td>{esc(p["created_by"] or "—")}</td><td class="when">{_when(p["created_at"])}</td>'
        f'<td class="links"><a href="/plans/{p["id"]}?lang={lang}">{esc(t["compare"])}</a>{_links(p, lang)}</td></tr>'
        for p in plans)
    head = "".join(f"<th>{esc(h)}</th>" for h in t["head"])
    table = (f'<table id="plans"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>' if plans
             else f'<p id="plans">{esc(t["none"])}</p>')
    return _page(t["plans"], lang, f"/plans?lang={'zh' if lang == 'en' else 'en'}", table)


def _totals(result: dict, lang: str) -> str:
    """Before, after and the change of the city's population and coverage."""
    esc = html.escape
    rows = [f'<tr><td>{esc(label)}</td><td class="n">{now}</td><td class="n">{after}</td>'
            f'<td class="n{" up" if sign > 0 else " down" if sign < 0 else ""}">{change}</td></tr>'
            for label, now, after, change, sign in totals(result, lang)]
    head = "".join(f"<th>{esc(h)}</th>" for h in TOTALS_HEAD[lang == "en"])
    return f'<table id="totals"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _areas(result: dict, lang: str) -> str:
    """The changed areas' table: the workbook's columns (layers.analysis.plans.COLUMNS)."""
    t, esc = _WORDS[lang], html.escape
    if not result["areas"]:
        return f'<p id="areas">{esc(t["no_areas"])}</p>'
    head = "".join(f"<th>{esc(en if lang == 'en' else zh)}</th>" for _, zh, en in COLUMNS)
    body = []
    for row in result["areas"]:
        name = row.get("name_en") or row["name"] if lang == "en" else row["name"]
        cells = [f"<td>{esc(str(row['code']))}</td>", f'<td class="name">{esc(name or "")}</td>']
        cells += [f'<td class="n">{figure(key, row[key])}</td>' for key, _, _ in COLUMNS[2:]]
        body.append(f'<tr data-code="{esc(str(row["code"]))}">{"".join(cells)}</tr>')
    return f'<table id="areas"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _changes(result: dict, lang: str) -> str:
    """The edits' table: where each new or moved facility goes, which ones are removed (the workbook's 2nd sheet)."""
    esc, en = html.escape, lang == "en"
    head = "".join(f"<th>{esc(en_h if en else zh_h)}</th>" for _, zh_h, en_h in CHANGE_COLUMNS)
    body = []
    for row in result["changes"]:
        cells = [OPS[row["op"]][en] if key == "op" else row[key] for key, _, _ in CHANGE_COLUMNS]
        body.append("<tr>" + "".join(
            f'<td class="n">{v:.6f}</td>' if isinstance(v, float) else f'<td class="n">{v}</td>' if isinstance(v, int)
            else f"<td>{esc(v or '—')}</td>" for v in cells) + "</tr>")
    return f'<table id="changes"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def plan_page(result: dict, lang: str) -> str:
    """/plans/{id}: the plan (``plans.compare_plan``'s answer) against today's facilities, as it prints."""
    t, esc, plan = _WORDS[lang], html.escape, result["plan"]
    ops: dict[str, int] = {}
    for edit in plan["edits"]:
        ops[edit["op"]] = ops.get(edit["op"], 0) + 1
    facts = t["facts"].format(kind=_kind(plan["kind"], lang), radius=plan["radius_m"],
                              by=t["levels"].get(plan["by"], plan["by"]), who=plan["created_by"] or "—",
                              at=_when(plan["created_at"]),
                              edits=" · ".join(f"{OPS[op][lang == 'en']} {n}" for op, n in ops.items()) or "0")
    body = (f'<p class="facts" id="facts">{esc(facts)}</p>'
            f'<p class="facts" id="rule">{esc(t["rule"])}{esc(plan_rule(result, lang))}</p>'
            f'<p class="links"><a href="/plans?lang={lang}">{esc(t["all"])}</a>{_links(plan, lang)}</p>'
            f'<h2>{esc(totals_label(result.get("scope"), lang))}</h2>{_totals(result, lang)}'
            f'<h2>{esc(t["areas"].format(n=len(result["areas"])))}</h2>{_areas(result, lang)}'
            f'<h2>{esc(t["changes"].format(n=len(result["changes"])))}</h2>{_changes(result, lang)}')
    other = f"/plans/{plan['id']}?lang={'zh' if lang == 'en' else 'en'}"
    return _page(f"{t['plan']} · {plan['name']}", lang, other, body)
