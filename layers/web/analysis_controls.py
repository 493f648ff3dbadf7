"""The control panel of the analysis maps (/map/coverage, /map/hotspots, /map/density, /map/priority): a plain GET
form of the page's own
parameters, each filled in with the value the page shows, and links to the answer's table as a spreadsheet.

The form needs no script: submitting it asks the same page with the new query (the route checks it as it checks
a typed URL). Its choices are the city's own: the facility kinds with how many it has of each (a kind it has
none of says （0）), the levels it has areas at, the event types its complaints are of, its streets. It is a folded
``<details>`` in the map's top-right corner, open on a wide screen and closed on a phone, so that it never hides
the map there; a small script puts it among Leaflet's controls, which keep clear of each other.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

import folium
from branca.element import Element
from jinja2 import Template

WORDS = {
    "zh": {"title": "分析条件与下载", "kind": "设施类型", "radius": "服务半径（米）", "radius_hint": "留空按标准",
           "by": "统计单元", "method": "距离算法", "since": "起始日期（含）", "until": "截止日期（不含）",
           "category": "事件类型", "all_categories": "不选即全部类型", "cell": "六边形边长（米）", "cell_hint": "留空自动",
           "emerging": "时空趋势（按月）", "submit": "更新地图", "download": "下载表格", "no_complaints": "暂无投诉",
           "street": "街道", "whole_city": "全市", "limit": "只看排名前（个网格）", "limit_hint": "留空：全部",
           "priority_since": "投诉起始日期（热点分项）", "no_table": "下载表格：暂无投诉，没有可下载的表格"},
    "en": {"title": "Settings and downloads", "kind": "Facility kind", "radius": "Service radius (m)",
           "radius_hint": "empty: the standard's", "by": "Count by", "method": "Distance", "since": "From (inclusive)",
           "until": "Until (exclusive)", "category": "Event types", "all_categories": "none ticked: every type",
           "cell": "Hexagon edge (m)", "cell_hint": "empty: automatic", "emerging": "Trend over time (monthly)",
           "submit": "Update map", "download": "Download table", "no_complaints": "no complaints yet",
           "street": "Street", "whole_city": "whole city", "limit": "Top grids only", "limit_hint": "empty: all",
           "priority_since": "Complaints from (hot spot component)",
           "no_table": "Download table: no complaints yet, there is no table to download"},
}
#: The tables the hot spots panel's event types and their counts are read from (catalog.complaint_categories).
CATEGORY_TABLES = ("complaints", "event_types")
#: The order the levels are offered in (coarsest first), as coverage takes them.
LEVEL_ORDER = ("district", "street", "community", "grid", "urban_village")


def choices(conn, analysis: str, cache=None) -> dict:
    """What the panel of ``analysis`` offers, read from the city: facility counts and levels (coverage, density),
    the event types of its complaints (hot spots), its streets (density, priority), the areas siting takes (coverage).

    With ``cache`` (the app's :class:`~layers.analysis.cache.AnswerCache`) the event types' counts are kept while
    the complaints and event types are unchanged (their change stamps): a million complaints are counted once per
    change, not on every page load, and a count is never older than the complaints it was asked about."""
    from data import catalog
    from layers.analysis.cache import shared_part

    found = {"roads": catalog.has_roads(conn)}  # no basemap and no roads: the page says how to get streets
    if analysis == "hotspots":
        found["categories"] = shared_part(cache, conn, "complaint categories", CATEGORY_TABLES,
                                          lambda: catalog.complaint_categories(conn),
                                          size=lambda rows: sum(100 + len(str(row)) for row in rows))
        return found
    if analysis in ("density", "priority"):
        found["streets"] = catalog.streets(conn)
    if analysis in ("coverage", "density"):
        found.update(kinds=catalog.facility_counts(conn), levels=catalog.level_counts(conn))
    if analysis == "coverage":  # the what-if panel's 建议选址: where siting may be asked
        found["siting_areas"] = catalog.siting_areas(conn)
    return found


def _count(n: int, lang: str) -> str:
    return f" ({n:,})" if lang == "en" else f"（{n:,}）"


def _select(name: str, label: str, options: list[tuple[str, str]], current) -> str:
    """A labelled <select>; the current value is selected, and offered even where the city lacks it (the form
    then says what the page shows, and the page's refusal says why)."""
    current = "" if current is None else str(current)
    if current and current not in (value for value, _ in options):
        options = [*options, (current, current)]
    items = "".join(f'<option value="{escape(v)}"{" selected" if v == current else ""}>{escape(text)}</option>'
                    for v, text in options)
    return f'<label>{escape(label)}<select name="{name}">{items}</select></label>'


def _input(name: str, label: str, value, kind: str = "text", hint: str = "", **attrs: str) -> str:
    value = "" if value is None else str(value)
    extra = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return (f'<label>{escape(label)}<input type="{kind}" name="{name}" value="{escape(value)}"'
            f' placeholder="{escape(hint)}"{extra}></label>')


def _coverage_fields(query: dict, lang: str, found: dict, methods: dict[str, str]) -> list[str]:
    from data.vocab import FACILITY_KINDS, UNIT_NAMES

    w = WORDS[lang]
    kinds = [(key, kind.name(lang) + _count(found["kinds"].get(key, 0), lang)) for key, kind in FACILITY_KINDS.items()]
    levels = [(level, UNIT_NAMES[lang].get(level, level) + _count(found["levels"][level], lang))
              for level in LEVEL_ORDER if level in found["levels"]]
    return [_select("kind", w["kind"], kinds, query.get("kind")),
            _input("radius", w["radius"], query.get("radius"), "number", w["radius_hint"], min="1", step="any"),
            _select("by", w["by"], levels, query.get("by")),
            _select("method", w["method"], list(methods.items()), query.get("method"))]


def _date(name: str, label: str, value) -> str:
    """A date box typed year-month-day, as the pages write times (a browser's date picker shows its own locale's
    month/day/year); a date-time given stays as given."""
    return _input(name, label, value, "text", "YYYY-MM-DD")


def _hotspot_fields(query: dict, lang: str, found: dict) -> list[str]:
    w = WORDS[lang]
    asked = query.get("category") or []
    asked = [asked] if isinstance(asked, str) else list(asked)
    have = [(name, (name_en or name) if lang == "en" else name, n) for name, name_en, n in found["categories"]]
    have += [(name, name, 0) for name in asked if name not in {h[0] for h in have}]  # asked, though none are of it
    boxes = "".join(f'<label class="hm-check"><input type="checkbox" name="category" value="{escape(name)}"'
                    f'{" checked" if name in asked else ""}>{escape(text)}{_count(n, lang)}</label>'
                    for name, text, n in have) or f"<i>{escape(w['no_complaints'])}</i>"
    emerging = " checked" if query.get("emerging") else ""
    return [_date("since", w["since"], query.get("since")), _date("until", w["until"], query.get("until")),
            f'<fieldset><legend>{escape(w["category"])}</legend><small>{escape(w["all_categories"])}</small>'
            f'{boxes}</fieldset>',
            _input("cell", w["cell"], query.get("cell"), "number", w["cell_hint"], min="1", step="any"),
            f'<label class="hm-check"><input type="checkbox" name="emerging" value="1"{emerging}>'
            f'{escape(w["emerging"])}</label>']


def _street(query: dict, lang: str, found: dict) -> str:
    """The street select: the whole city, or one of its streets (with its grids' count on the priority page)."""
    w = WORDS[lang]
    named = [(s["code"], f'{(s["name_en"] or s["name"]) if lang == "en" else s["name"]} {s["code"]}')
             for s in found["streets"]]
    return _select("street", w["street"], [("", w["whole_city"]), *named], query.get("street"))


def _density_fields(query: dict, lang: str, found: dict) -> list[str]:
    kind, _, by, _ = _coverage_fields(query, lang, found, {})  # the same kinds and levels as coverage's
    return [kind, by, _street(query, lang, found)]


def _priority_fields(query: dict, lang: str, found: dict) -> list[str]:
    w = WORDS[lang]
    return [_street(query, lang, found), _date("since", w["priority_since"], query.get("since")),
            _input("limit", w["limit"], query.get("limit"), "number", w["limit_hint"], min="1", step="1")]


def download_query(query: dict, fmt: str, lang: str) -> str:
    """The query of /api/analysis/… answering the page's ``query`` as a ``fmt`` table in ``lang``."""
    params = {k: v for k, v in query.items() if v not in (None, "", []) and k not in ("lang", "plan")}
    return urlencode({**params, "format": fmt, "lang": lang}, doseq=True)


def controls_html(analysis: str, query: dict, lang: str, found: dict, methods: dict[str, str] | None = None) -> str:
    """The panel of ``analysis`` (coverage, hotspots, density or priority): its form filled in with ``query`` (the
    page's parameters, plus ``plan`` on an opened plan), the city's choices ``found`` (:func:`choices`), and the
    download links."""
    w = WORDS[lang]
    if analysis == "coverage":
        fields = _coverage_fields(query, lang, found, methods or {})
    else:
        fields = {"hotspots": _hotspot_fields, "density": _density_fields,
                  "priority": _priority_fields}[analysis](query, lang, found)
    hidden = f'<input type="hidden" name="lang" value="{escape(lang)}">'
    if query.get("plan") is not None:  # the plan stays open: its draft is the page's
        hidden += f'<input type="hidden" name="plan" value="{escape(str(query["plan"]))}">'
    api = f"/api/analysis/{analysis}?"
    links = _links(w, api, query, lang) if analysis != "hotspots" or found.get("categories") else \
        escape(w["no_table"])  # no complaints: the table would be the API's 404, a raw JSON page
    return (f'<details id="hm-controls" class="hm-controls"><summary>{escape(w["title"])}</summary>'
            f'<form id="hm-controls-form" method="get" action="/map/{analysis}">{"".join(fields)}{hidden}'
            f'<button type="submit">{escape(w["submit"])}</button></form>'
            f'<div class="hm-downloads">{links}</div></details>')


def _links(w: dict, api: str, query: dict, lang: str) -> str:
    return (f'{escape(w["download"])}: <a id="hm-download-xlsx" href="{escape(api + download_query(query, "xlsx", lang))}"'
             f' download>XLSX</a> · <a id="hm-download-csv" href="{escape(api + download_query(query, "csv", lang))}"'
             f" download>CSV</a>")


class _Corner(folium.MacroElement):
    """Puts the panel among the map's top-right controls, above the what-if planner's (Leaflet stacks a corner's
    controls, so neither covers the other); opens it where the screen is wide enough for it."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
          var panel = document.getElementById("hm-controls"), corner = L.control({position: "topright"});
          corner.onAdd = function () {
            L.DomEvent.disableClickPropagation(panel);
            L.DomEvent.disableScrollPropagation(panel);
            panel.classList.add("leaflet-control");
            return panel;
          };
          corner.addTo(map);
          if (window.matchMedia("(min-width: 900px) and (min-height: 600px)").matches) panel.open = true;
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


def add_controls(m: folium.Map, analysis: str, query: dict, lang: str, found: dict,
                 methods: dict[str, str] | None = None) -> None:
    """The panel (:func:`controls_html`) on map ``m``."""
    m.get_root().html.add_child(Element(controls_html(analysis, query, lang, found, methods)))
    _Corner().add_to(m)
