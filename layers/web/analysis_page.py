"""The analysis pages /map/coverage, /map/hotspots, /map/density and /map/priority (Folium, data by URL).

Each page is a Folium map plus ``/static/app/analysis.js`` (density and
priority also ``/static/app/analysis-ranks.js``), which fetches the analysis
as GeoJSON from ``/api/analysis/…`` with the page's own query parameters,
colours it and writes the legend. The legend names the rule (with its source
and label where it is not V), the statistic and its confidence levels, or
what the priority score is made of, so a printed screenshot still says what
it shows.
"""

from __future__ import annotations

from urllib.parse import urlencode

from layers.web.analysis_controls import add_controls
from layers.web.assets import offline_html
from layers.web.basemap import add_tiles, page_basemap
from layers.web.folium_page import (
    PAGE_WORDS,
    AppScript,
    add_context,
    add_fullscreen,
    add_notice,
    add_title_bar,
    city_name,
    new_map,
)

_WORDS = {
    "zh": {
        "coverage_title": "服务覆盖与盲区", "hotspots_title": "投诉热点分析",
        "legend": "图例", "loading": "正在计算…", "rule": "依据",
        "no_rule": "服务半径为用户指定，未采用标准条文", "covered": "覆盖面积比例", "gap": "服务盲区",
        "population": "覆盖人口比例", "method": "方法", "summary": "合计",
        "straight": "直线距离（服务半径，正圆）", "walk": "沿道路步行距离（pgRouting）",
        "straight_no_roads": "直线距离（要求步行距离，但没有道路数据）",
        "statistic": "Getis–Ord Gi* 统计量（二值权重：共边六边形及自身），双侧检验，经 FDR（错误发现率）校正",
        "hot": "热点", "cold": "冷点", "none": "不显著", "confidence": "置信度", "cells": "六边形", "cell": "边长",
        "complaints": "投诉", "pattern": "时空模式",
        "whatif": {"title": "规划草案（模拟，不写入）", "hint": "点“添加”后在地图上点击放置；拖动调整；弹窗中移除。放大到 15 级可调整现有设施。",
                   "add": "添加", "clear": "清除草案", "name": "方案名称", "save": "保存为方案", "remove": "移除",
                   "edit": "调整此设施", "before": "现状", "covered": "覆盖面积比例", "covered_km2": "覆盖面积", "residents": "覆盖人口",
                   "edits": "处改动", "areas": "个区域", "need_name": "请先填写方案名称", "saved": "已保存方案",
                   "compare": "查看对比表", "plans": "全部方案", "loaded": "已载入方案",
                   "opened": "{loaded} #{id} {name}：{kind}，服务半径 {radius} 米，按{by}统计",
                   "overridden": "网址中的参数与方案不符，已按方案显示：{changes}",
                   "outside": "该点在城市范围外（距各行政区均超过服务半径），已撤回"},
        "density_title": "设施设置密度", "priority_title": "网格巡查优先级",
        "below": "低于标准", "within": "符合标准", "above": "高于标准", "not_judged": "无密度标准：仅计数，不作判断",
        "unjudged": "未评判（无建成区用地）",
        "count": "设施数量", "per_km2": "每平方公里", "per_10k": "每万人", "expected": "标准范围（座）",
        "status": "判定", "areas": "个区域",
        "score_rule": "巡查优先级评分 0–100 = Σ 权重 × 分项（各归一化到 0–1）× 100",
        "weights_note": "权重为本项目的工作值，非国家标准", "weight": "权重", "score": "评分", "rank": "排名",
        "rank_class": "排名前 {lo}–{hi} %", "top_class": "排名前 {hi} %", "grids": "个网格",
        "ranked": "共排序 {ranked} 个网格，显示 {shown} 个", "value": "原值", "weighted": "加权分",
        "no_streets": "地图下没有街道：本服务未配置底图，本市也未导入道路。请管理员设置底图（HYGIENE_MAP_BASEMAP，"
                      "如 gaode）或导入道路图层（roads）。",
        "no_data": "无数据",
    },
    "en": {
        "coverage_title": "Service coverage and gaps", "hotspots_title": "Complaint hotspots",
        "legend": "Legend", "loading": "computing…",
        "rule": "Rule", "no_rule": "radius given by the user, no standard applied", "covered": "Covered area",
        "gap": "Coverage gap", "population": "Covered population", "method": "Method", "summary": "Total",
        "straight": "straight line (service radius, true circles)", "walk": "walking along roads (pgRouting)",
        "straight_no_roads": "straight line (walking asked, but there are no roads)",
        "statistic": "Getis–Ord Gi* (binary weights: edge-sharing hexagons plus the cell itself), two-sided, "
                     "false-discovery-rate corrected",
        "hot": "Hot spot", "cold": "Cold spot", "none": "Not significant", "confidence": "confidence",
        "cells": "hexagons", "cell": "edge", "complaints": "complaints", "pattern": "Pattern",
        "whatif": {"title": "Draft plan (what-if, nothing written)", "hint": "Press Add, then click the map; drag to "
                   "move; remove in the popup. Zoom to 15 to edit existing facilities.",
                   "add": "Add", "clear": "Clear draft", "name": "plan name", "save": "Save as plan", "remove": "Remove",
                   "edit": "Edit this facility", "before": "now", "covered": "Covered area", "covered_km2": "Covered area", "residents": "Covered residents",
                   "edits": "edits", "areas": "areas", "need_name": "Name the plan first", "saved": "Saved plan",
                   "compare": "see the comparison", "plans": "all plans", "loaded": "Loaded plan",
                   "opened": "{loaded} #{id} {name}: {kind}, service radius {radius} m, by {by}",
                   "overridden": "The URL's values are not the plan's; shown with the plan's: {changes}",
                   "outside": "That point is outside the city (beyond the service radius of every area): taken back"},
        "density_title": "Facility density", "priority_title": "Grid inspection priority",
        "below": "Below the standard", "within": "Within the standard", "above": "Above the standard",
        "not_judged": "No density standard: counted, not judged", "unjudged": "Not judged (no built-up land)",
        "count": "Facilities", "per_km2": "Per km²",
        "per_10k": "Per 10,000 residents", "expected": "Expected", "status": "Status", "areas": "areas",
        "score_rule": "Inspection priority score 0–100 = Σ weight × component (each scaled to 0–1) × 100",
        "weights_note": "The weights are this project's working values, not a standard", "weight": "weight",
        "score": "Score", "rank": "Rank", "rank_class": "Rank: top {lo}–{hi} %", "top_class": "Rank: top {hi} %",
        "grids": "grids", "ranked": "{ranked} grids ranked, {shown} shown", "value": "value", "weighted": "weighted",
        "no_streets": "No streets under the map: no basemap is configured and the city has no roads. Ask the "
                      "administrator to set a basemap (HYGIENE_MAP_BASEMAP, e.g. gaode) or to import the roads layer.",
        "no_data": "No data",
    },
}
TEXT = {lang: {**PAGE_WORDS[lang], **words} for lang, words in _WORDS.items()}

#: The what-if panel's 建议选址 control (layers/web/static/whatif-suggest.js); objectives as geo.demand.OBJECTIVES.
_SUGGEST = {
    "zh": {"title": "建议选址", "count": "数量", "unit": "处", "street": "街道", "whole_city": "全市", "objective": "目标",
           "default": "默认", "run": "开始计算", "running": "正在计算…", "suggested": "建议",
           "added": "已添加 {n} 处",
           "share": "，范围内{measure}覆盖 {before} → {after} %", "none": "没有能新增覆盖的选址",
           "objectives": {"residents": "覆盖人口", "area": "覆盖面积", "complaints": "未结案投诉"},
           "measures": {"residents": "人口", "area_m2": "面积", "complaints": "未结案投诉"},
           "new": {"residents": "新增覆盖人口", "area_m2": "新增覆盖面积（m²）", "complaints": "新增覆盖未结案投诉"}},
    "en": {"title": "Suggest sites", "count": "how many", "unit": "", "street": "in", "whole_city": "whole city",
           "objective": "objective", "default": "default", "run": "Suggest", "running": "computing…",
           "suggested": "Suggested", "added": "{n} added",
           "share": "; covered {measure} where asked {before} → {after} %", "none": "No site would cover anything new",
           "objectives": {"residents": "residents", "area": "area", "complaints": "open complaints"},
           "measures": {"residents": "residents", "area_m2": "area", "complaints": "open complaints"},
           "new": {"residents": "newly covered residents", "area_m2": "newly covered area (m²)",
                   "complaints": "newly covered open complaints"}},
}

#: Covered-area classes (lower bound %, colour) of the coverage page.
COVERAGE_CLASSES = [(90, "#1a9850"), (70, "#91cf60"), (50, "#fee08b"), (0, "#fc8d59")]
#: Gi* bin colours (ArcGIS' hot/cold palette).
BIN_COLOURS = {3: "#d7191c", 2: "#f46d43", 1: "#fdae61", 0: "#eeeeee", -1: "#abd9e9", -2: "#74add1", -3: "#4575b4"}
#: Density verdicts' colours; ``none``: an area of a kind no standard gives a density (counted, not judged);
#: ``unjudged``: an area too large to judge without land use (geo.density), the same grey: no verdict either way.
STATUS_COLOURS = {"below": "#d73027", "within": "#1a9850", "above": "#4575b4", "none": "#bdbdbd",
                  "unjudged": "#bdbdbd"}
#: Priority classes (upper bound of the rank as a % of the grids ranked, colour): the top 10 % darkest.
RANK_CLASSES = [(10, "#67000d"), (25, "#cb181d"), (50, "#fb6a4a"), (100, "#fcbba1")]


class _AnalysisScript(AppScript):
    """Loads /static/app/analysis.js and starts it with the page's configuration."""

    init_object = "hygieneAnalysis"
    default_js = [("hygiene_analysis", "/static/app/analysis.js")]
    default_css = [("hygiene_map_css", "/static/app/map.css")]


class _CoverageScript(_AnalysisScript):
    """The analysis script plus the what-if planner (/static/app/whatif.js)."""

    default_js = _AnalysisScript.default_js + [("hygiene_whatif", "/static/app/whatif.js"),
                                               ("hygiene_whatif_suggest", "/static/app/whatif-suggest.js")]


class _RanksScript(_AnalysisScript):
    """The analysis script plus the density and priority drawings (/static/app/analysis-ranks.js)."""

    default_js = _AnalysisScript.default_js + [("hygiene_ranks", "/static/app/analysis-ranks.js")]


def _whatif(query: dict, lang: str, finest: str, plan: dict | None = None,
            areas: list[dict] | None = None) -> dict | None:
    """The what-if planner's configuration, or None where it cannot answer (walking; districts, streets of a
    city that has finer areas: ``finest`` is its finest admin level); with ``plan`` the plan it opens; with
    ``areas`` (catalog.siting_areas) its 建议选址 control, which asks siting in one of them or the whole city."""
    from data.vocab import FACILITY_KINDS
    from layers.analysis.whatif import WHATIF_LEVELS

    kind = FACILITY_KINDS[query.get("kind") or "toilets"]
    if (query.get("method") or "straight") != "straight" or (query.get("by") or "community") not in (*WHATIF_LEVELS,
                                                                                                       finest):
        return None
    radius = query.get("radius")
    return {"url": "/api/analysis/coverage/whatif", "kind": kind.key, "by": query.get("by") or "community",
            "radius": float(radius) if radius not in (None, "") else None, "layer": kind.table,
            "category": kind.category, "text": _WORDS[lang]["whatif"], "plan": _opened(plan, lang),
            "suggest": _suggest(areas, lang)}


def _suggest(areas: list[dict] | None, lang: str) -> dict | None:
    """The 建议选址 control's configuration: the siting route, the areas by name, the objectives, its words."""
    if areas is None:
        return None
    from data.vocab import UNIT_NAMES
    from geo.demand import OBJECTIVES

    named = [{"code": a["code"], "name": (a["name_en"] or a["name"]) if lang == "en" else a["name"]} for a in areas]
    text = _SUGGEST[lang]
    if areas and lang != "en":  # the selector is named by the level it lists: 区 in a city of districts only
        text = {**text, "street": UNIT_NAMES["zh"][areas[0].get("level", "street")]}
    return {"url": "/api/analysis/siting", "areas": named, "objectives": list(OBJECTIVES), "max": 20, "text": text}


def _opened(plan: dict | None, lang: str) -> dict | None:
    """The plan the page opens: its id and the lines the panel keeps while the draft is edited (which plan, of
    which kind at which radius; the URL's values the plan's replaced, if any)."""
    if plan is None:
        return None
    from data.vocab import FACILITY_KINDS, UNIT_NAMES

    words = _WORDS[lang]["whatif"]
    line = words["opened"].format(loaded=words["loaded"], id=plan["id"], name=plan["name"],
                                  kind=FACILITY_KINDS[plan["kind"]].name(lang), radius=f"{plan['radius_m']:g}",
                                  by=UNIT_NAMES[lang].get(plan["by"], plan["by"]))
    sep = "、" if lang != "en" else ", "
    note = words["overridden"].format(changes=sep.join(_change(k, given, own, lang)
                                                       for k, given, own in plan["overridden"]))
    return {"id": plan["id"], "kind": plan["kind"], "line": line, "overridden": note if plan["overridden"] else ""}


#: The page parameters a plan may replace, named as the panel names them, and the distance methods' short names.
_CHANGED = {"zh": {"kind": "设施类型", "radius": "服务半径", "by": "统计单元", "method": "距离算法",
                   "straight": "直线距离", "walk": "步行距离", "unit": " 米"},
            "en": {"kind": "facility kind", "radius": "service radius", "by": "count by", "method": "distance",
                   "straight": "straight line", "walk": "walking", "unit": " m"}}


def _change(name: str, given, own, lang: str) -> str:
    """One URL value a plan replaced, in words (设施类型 垃圾收集点 → 公共厕所), not as the raw parameter."""
    from data.vocab import FACILITY_KINDS, UNIT_NAMES

    w = _CHANGED[lang]

    def said(value) -> str:
        if name == "kind":
            return FACILITY_KINDS[value].name(lang) if value in FACILITY_KINDS else str(value)
        if name == "by":
            return UNIT_NAMES[lang].get(value, str(value))
        return w.get(value, str(value)) if name == "method" else str(value)

    if name == "radius":  # the route has parsed the URL's: a number
        return f"{w['radius']} {float(given):g} → {float(own):g}{w['unit']}"
    return f"{w.get(name, name)} {said(given)} → {said(own)}"


def _ground(m, lang: str, found: dict | None) -> dict:
    """What lies under the analysis: the configured basemap (layers.web.basemap, as /map draws it), else the city's
    own roads, outlines and names; where there is neither basemap nor roads, a line saying how to get streets.
    The city's outlines and names are drawn over a WGS84 basemap too, never over Gaode's GCJ-02 tiles (they would
    sit some hundred metres off: the page's script shifts the analysis itself)."""
    base = page_basemap()
    add_tiles(m, base)
    if base["crs"] == "wgs84":
        add_context(m, lang, roads=not base["layers"])
    if not base["layers"] and found is not None and not found.get("roads", True):
        add_notice(m, TEXT[lang]["no_streets"])
    return base


def _script(kind: str, config: dict, query: dict, lang: str, finest: str, plan: dict | None,
            found: dict | None) -> AppScript:
    """The page's script, started with ``config`` (coverage's with its what-if planner)."""
    if kind == "coverage":
        areas = found.get("siting_areas") if found is not None else None
        return _CoverageScript({**config, "whatif": _whatif(query, lang, finest, plan, areas)})
    if kind in ("density", "priority"):
        from layers.analysis.encode import COMPONENTS

        return _RanksScript({**config, "status_colours": STATUS_COLOURS, "rank_classes": RANK_CLASSES,
                             "components": {k: v[lang == "en"] for k, v in COMPONENTS.items()}})
    return _AnalysisScript(config)


def _page(kind: str, city: dict | None, lang: str, center, bounds, api_url: str, query: dict,
          finest: str = "community", plan: dict | None = None, found: dict | None = None) -> str:
    t = TEXT[lang]
    m = new_map(center, lang)
    base = _ground(m, lang, found)
    add_fullscreen(m, lang)
    name = city_name(city, lang)
    title = t[f"{kind}_title"]
    full_title = f"{name} · {title}" if name else title
    notes = [t["demo"]] if city and city.get("is_demo") else []
    # A parameter at its default (None) is left out: urlencode would write the text "None", which the page refuses.
    other = {**{k: v for k, v in query.items() if v is not None}, "lang": "zh" if lang == "en" else "en"}
    add_title_bar(m, lang, full_title, notes, urlencode(other, doseq=True), status=t["loading"])
    if found is not None:  # the panel: the page's parameters as a form, and the table's downloads
        shown = {**query, "plan": plan["id"]} if plan else query
        add_controls(m, kind, shown, lang, found, {"straight": t["straight"], "walk": t["walk"]})
    config = {"kind": kind, "lang": lang, "text": t, "url": api_url, "bounds": bounds,
              "coverage_classes": COVERAGE_CLASSES, "bin_colours": BIN_COLOURS,
              "basemap": {"name": base["name"], "crs": base["crs"]}}
    script = _script(kind, config, query, lang, finest, plan, found)
    if base["crs"] == "gcj02":  # map.js has the WGS84 -> GCJ-02 formula analysis.js shifts the drawing with
        script.default_js = [("hygiene_gcj02", "/static/app/map.js"), *script.default_js]
    script.add_to(m)
    return offline_html(m, lang=lang, title=full_title)


def coverage_page(city: dict | None, *, lang: str, center, bounds, query: dict, finest: str = "community",
                  plan: dict | None = None, found: dict | None = None) -> str:
    """/map/coverage: areas coloured by covered area %, gap polygons on top, the rule in the legend; the what-if
    panel where the level allows (``finest``: the city's finest admin level), with ``plan`` loaded as its draft
    (``query`` then holds the plan's kind, radius and level: layers.analysis.plans.for_map); with ``found`` (the
    city's choices: layers.web.analysis_controls.choices) the panel of settings and downloads."""
    params = {k: v for k, v in query.items() if v is not None and k not in ("lang", "plan")}
    api = "/api/analysis/coverage?" + urlencode({**params, "gaps": 1, "lang": lang})
    return _page("coverage", city, lang, center, bounds, api, query, finest, plan, found)


def hotspots_page(city: dict | None, *, lang: str, center, bounds, query: dict, found: dict | None = None) -> str:
    """/map/hotspots: hexagons coloured by Gi* bin, the statistic and confidence levels in the legend; with
    ``found`` the panel of settings and downloads."""
    params = {k: v for k, v in query.items() if v is not None and k != "lang"}
    api = "/api/analysis/hotspots?" + urlencode({**params, "lang": lang}, doseq=True)
    return _page("hotspots", city, lang, center, bounds, api, query, found=found)


def density_page(city: dict | None, *, lang: str, center, bounds, query: dict, found: dict | None = None) -> str:
    """/map/density: areas coloured below / within / above the planning band (grey where the kind has no band, or an
    area is not judged for want of land use; hatched 无数据 where the city has none of the kind), the rules, their
    sources and the band's use in the legend; with ``found`` the panel of settings and downloads."""
    return _page("density", city, lang, center, bounds, _api_url("density", query, lang), query, found=found)


def priority_page(city: dict | None, *, lang: str, center, bounds, query: dict, found: dict | None = None) -> str:
    """/map/priority: grids coloured by rank (the top 10 % darkest), the score's components and weights in the legend;
    a city without grids is told why, as the API says it; with ``found`` the panel of settings and downloads."""
    return _page("priority", city, lang, center, bounds, _api_url("priority", query, lang), query, found=found)


def _api_url(kind: str, query: dict, lang: str) -> str:
    """The /api/analysis/``kind`` URL of the page's ``query`` (its empty parameters left out) in ``lang``."""
    params = {k: v for k, v in query.items() if v not in (None, "") and k != "lang"}
    return f"/api/analysis/{kind}?" + urlencode({**params, "lang": lang}, doseq=True)
