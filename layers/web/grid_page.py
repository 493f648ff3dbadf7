"""The street office's map (/map/grids?street=CODE): grids coloured by responsible unit, their
codes, open and overdue complaints, and a table per unit.

Folium builds the page and layers.web.assets.offline_html makes every asset local.
The grids and complaints are fetched by the page from the API
(``/api/grids``, ``/api/complaints``), not embedded; only the per-unit table
(a few rows) is written into the page.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from data.vocab import NO_UNIT, STATUS_EN, city_tz
from layers.spec.registry import get_layer
from layers.web.assets import offline_html
from layers.web.folium_page import PAGE_WORDS, MetricScale, add_context
from layers.web.grid_prints import WORDS as PRINT_WORDS
from layers.web.grid_prints import print_box
from layers.workflow.access import User, readable

GRIDS = get_layer("grids")

# Qualitative colours (ColorBrewer Set3 + Paired, light enough to read codes on).
PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
           "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f",
           "#cab2d6", "#e5c494", "#66c2a5", "#e78ac3"]
UNASSIGNED = "#ffffff"

_WORDS = {
    "zh": {"title": "{name} 网格责任图", "grids": "网格数", "open": "未结投诉", "overdue": "超期",
           "in_time": "按时结案率", "satisfied": "群众满意率", "none": NO_UNIT["zh"], "complaint": "投诉",
           "legend_open": "未结投诉", "legend_overdue": "超期未结投诉", "label": "标签：社区序号+网格序号",
           "no_grid": "本街道没有编码为 {code} 的网格：请核对二维码或链接中的网格编码。", "cases": "工单办理",
           "table_show": "责任单位统计 ▾", "table_hide": "收起统计 ▴", "name_key": "name",
           "redrawn": "此二维码所在的图纸或公示牌印制后，本街道网格已于 {until} 重新划分：印制时的网格 {code} 以红色虚线标出，"
                      "现在负责这里的是图中各色网格（点击查看责任单位）。"},
    "en": {"title": "{name}: grid responsibilities", "grids": "Grids", "open": "Open",
           "overdue": "Overdue", "in_time": "Closed in time", "satisfied": "Residents satisfied", "none": NO_UNIT["en"], "complaint": "Complaint",
           "legend_open": "open complaint", "legend_overdue": "overdue open complaint",
           "label": "labels: community no. + grid no.",
           "no_grid": "This street has no grid with the code {code}: check the grid code in the QR code or link.",
           "cases": "Case handling", "table_show": "Units table ▾", "table_hide": "Hide the table ▴",
           "name_key": "name_en",  # the popup's grid name: /api/grids says a generated one in English there
           "redrawn": "The street's grids were redrawn on {until}, after the sheet or notice board with this QR code "
                      "was printed: grid {code} as printed is outlined in dashed red; the coloured grids now answer "
                      "for the place (click one for its unit)."},
}


def _text(lang: str) -> dict:
    """The page's words; the popups name fields as the grids and complaints layers label them."""
    grids = {f.column: f.label(lang) for f in GRIDS.popup}
    complaints = {f.column: f.label(lang) for f in get_layer("complaints").popup}
    return {**PAGE_WORDS[lang], **_WORDS[lang],
            "unit": grids["responsible_unit"], "manager": grids["grid_manager"], "phone": grids["phone"],
            "grid": complaints["grid_code"], "status": complaints["status"], "reported": complaints["reported_at"],
            "due": complaints["due_at"], "print_grid": PRINT_WORDS[lang]["print_grid"],
            # A complaint's status in the page language (statuses are stored in Chinese).
            "statuses": STATUS_EN if lang == "en" else {}}


TEXT = {lang: _text(lang) for lang in ("zh", "en")}


def unit_colors(units: list[str | None]) -> dict[str, str]:
    """A stable colour per unit name (sorted order through the palette); unassigned grids stay white."""
    named = sorted({u for u in units if u})
    return {u: PALETTE[i % len(PALETTE)] for i, u in enumerate(named)}


class _StreetLayers(MacroElement):
    """Fetches the street's grids and open complaints from the API and draws them."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var colors = {{ this.colors | tojson }};
  var t = {{ this.text | tojson }};
  function esc(s) { return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g,
      function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  // A time as "2023-02-28 21:49" in the city's zone (the API gives UTC), as the map and the tracking page show it.
  var clock = new Intl.DateTimeFormat('sv-SE', {timeZone: {{ this.zone | tojson }}, year: 'numeric',
      month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false});
  function when(iso) { return iso ? clock.format(new Date(iso)) : ''; }
  var grids = L.featureGroup().addTo(map);
  var complaints = L.featureGroup().addTo(map);
  var byCode = {};
  fetch({{ this.grids_url | tojson }}).then(function (r) { return r.json(); }).then(function (fc) {
    L.geoJSON(fc, {
      style: function (f) {
        return {color: '#555', weight: 1, fillOpacity: 0.6,
                fillColor: colors[f.properties.responsible_unit] || {{ this.unassigned | tojson }}};
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        byCode[p.code] = layer;
        // community part after the street's code, then the grid's number: codes of any length
        var community = p.community_code || '', street = p.street_code || '';
        var short = community && p.code.indexOf(community) === 0 && community.indexOf(street) === 0
          ? community.slice(street.length) + '-' + p.code.slice(community.length) : p.code;
        layer.bindTooltip(esc(short),
                          {permanent: true, direction: 'center', className: 'grid-code'});
        layer.bindPopup(function () { return gridHtml(p); });  // built when opened: the paper chosen then
      }
    }).addTo(grids);
    declutter();
    document.body.setAttribute('data-grids-loaded', fc.features.length);
    focus(new URLSearchParams(window.location.search).get('grid'));
  });
  // A label that would overlap one already shown is hidden at this zoom, and shown again as the map zooms in:
  // the grid codes first (the focused grid's, then in code order), then the place names beneath them.
  function clash(r, placed) {
    return placed.some(function (p) {
      return r.left < p.right + 2 && r.right > p.left - 2 && r.top < p.bottom + 1 && r.bottom > p.top - 1;
    });
  }
  function declutter() {
    var placed = [], focused = new URLSearchParams(window.location.search).get('grid');
    Object.keys(byCode).sort(function (a, b) { return (b === focused) - (a === focused) || (a < b ? -1 : 1); })
      .forEach(function (code) {
        var tip = byCode[code].getTooltip(), el = tip && tip.getElement();
        if (!el) return;
        var r = el.getBoundingClientRect(), hide = clash(r, placed);
        el.classList.toggle('grid-code-hidden', hide);
        if (!hide) placed.push(r);
      });
    document.querySelectorAll('.hm-label').forEach(function (el) {  // static/app/context.js's names
      if (el.style.display !== 'none' && el.firstChild) {
        el.classList.toggle('hm-label-yield', clash(el.firstChild.getBoundingClientRect(), placed));
      }
    });
  }
  map.on('zoomend hmcontextlabels', declutter);
  function gridHtml(p) {
    // The contacts only where the caller reads them (the page's words name no other column).
    var contact = t.manager ? '<br>' + t.manager + ': ' + esc(p.grid_manager) + (t.phone ? ' ' + esc(p.phone) : '') : '';
    return '<b>' + t.grid + ' ' + esc(p.code) + '</b><br>' + esc(p[t.name_key] || p.name) + '<br>' + t.unit + ': ' +
           esc(p.responsible_unit || t.none) + contact + '<br>' + t.open + ': ' + p.open_complaints + ' · ' +
           t.overdue + ': ' + p.overdue_complaints +
           // The grid's A4/A3 sheet (api/routes/prints.py), on the paper and in the language the panel says.
           '<br><a class="print-grid" target="_blank" rel="noopener" href="/print/grids/' + encodeURIComponent(p.code) +
           '.pdf' + (window.hygienePrintQuery ? window.hygienePrintQuery() : '') + '">' + t.print_grid + '</a>';
  }
  // ?grid=CODE (the printed sheet's QR code): zoom to that grid, outline it, open its popup and say it in
  // the panel; a code that is not a grid of this street is said in the panel too.
  function focus(code) {
    if (!code) return;
    var box = document.getElementById('grid-focus'), layer = byCode[code];
    box.style.display = 'block';
    if (redrawn) return printedBefore(code, box);
    if (!layer) {
      box.className = 'missing';
      box.innerHTML = esc(t.no_grid.replace('{code}', code));
      document.body.setAttribute('data-grid-focus', 'missing');
      return;
    }
    layer.setStyle({color: '#d7191c', weight: 4, fillOpacity: 0.75});
    layer.bringToFront();
    var panel = document.getElementById('unit-panel'), narrow = window.innerWidth < 700;
    // Keep the grid clear of the panel: on a phone the panel lies along the bottom, else on the right.
    var pad = narrow ? {paddingTopLeft: [20, 20], paddingBottomRight: [20, panel.offsetHeight + 20]}
                     : {paddingTopLeft: [20, 20], paddingBottomRight: [panel.offsetWidth + 20, 20]};
    map.fitBounds(layer.getBounds(), Object.assign({maxZoom: 18}, pad));
    box.className = 'found';
    box.innerHTML = gridHtml(layer.feature.properties);
    map.once('moveend', function () { layer.openPopup(); });
    window.setTimeout(function () { layer.openPopup(); document.body.setAttribute('data-grid-focus', code); }, 400);
  }
  // The sheet was printed before a regrid: its grid as printed (dashed), not today's grid of that code.
  var redrawn = {{ this.redrawn | tojson }};
  function printedBefore(code, box) {
    var then = L.geoJSON(redrawn.geometry, {style: {color: '#d7191c', weight: 3, dashArray: '8 6', fill: false},
                                            interactive: false}).addTo(map);
    map.fitBounds(then.getBounds(), {maxZoom: 18, padding: [20, 20]});
    box.className = 'missing';
    box.textContent = t.redrawn.replace('{until}', when(redrawn.until)).replace('{code}', code);
    document.body.setAttribute('data-grid-focus', 'redrawn');
  }
  window.hygieneGridPage = {map: map, grids: byCode};
  var loaded = 0;
  function page(url) {
    fetch(url).then(function (r) { return r.json(); }).then(function (p) {
      p.items.forEach(function (c) {
        L.circleMarker([c.lat, c.lon], {radius: 5, weight: 1, color: '#333', fillOpacity: 0.9,
                                        fillColor: c.overdue ? '#d7191c' : '#fdae61', className: c.overdue ?
                                        'complaint overdue' : 'complaint open'})
          .bindPopup('<b>' + t.complaint + ' #' + c.id + '</b> ' + esc(c.category) + '<br>' + t.status + ': ' +
                     esc(t.statuses[c.status] || c.status) + (c.overdue ? ' <b style="color:#d7191c">' + t.overdue + '</b>' : '') +
                     '<br>' + t.reported + ': ' + esc(when(c.reported_at)) + '<br>' + t.due + ': ' + esc(when(c.due_at)) +
                     '<br>' + t.grid + ': ' + esc(c.grid_code))
          .addTo(complaints);
      });
      loaded += p.items.length;
      if (p.next_offset !== null) { page({{ this.complaints_url | tojson }} + '&offset=' + p.next_offset); }
      else { document.body.setAttribute('data-complaints-loaded', loaded); }
    });
  }
  page({{ this.complaints_url | tojson }});
})();
{% endmacro %}
""")

    def __init__(self, street_code: str, colors: dict[str, str], text: dict, redrawn: dict | None = None):
        super().__init__()
        self.redrawn = redrawn
        self._name = "StreetLayers"
        self.grids_url = f"/api/grids?street={street_code}"
        self.complaints_url = f"/api/complaints?street={street_code}&open=true&limit=1000"
        self.colors = colors
        self.text = text
        self.zone = city_tz().key
        self.unassigned = UNASSIGNED


def _viewer_text(lang: str, viewer: User | None) -> dict:
    """The page's words without the labels of grid columns ``viewer`` may not read (the contacts)."""
    shown = readable(GRIDS, viewer, GRIDS.popup)
    hidden = {key for key, column in (("manager", "grid_manager"), ("phone", "phone")) if column not in shown}
    return {k: v for k, v in TEXT["en" if lang == "en" else "zh"].items() if k not in hidden}


def street_page(street: dict, units: list[dict], lang: str = "zh", is_demo: bool = False,
                viewer: User | None = None, redrawn: dict | None = None, focus: dict | None = None) -> str:
    """The HTML of the street office's map; ``street`` from data.catalog.street_info, ``units`` from unit_table;
    ``viewer`` who reads it (None: anonymous): the grid popups name only the contacts they may read; ``redrawn``
    (layers.workflow.grids.shape_when_printed): the focused grid as a sheet printed before a regrid showed it;
    ``focus``: the query's grid and printed time, which the link to the other language keeps."""
    t = _viewer_text(lang, viewer)
    title = _title(street, t, lang)
    colors = unit_colors([u["unit"] for u in units])
    m = folium.Map(tiles=None, zoom_snap=0.25)
    MetricScale().add_to(m)
    m.fit_bounds(street["bounds"])
    add_context(m, lang)  # no basemap: the city's roads, outlines and names beneath the grids
    _StreetLayers(street["code"], colors, t, redrawn).add_to(m)
    panel = _unit_panel(street, units, t, colors, lang, is_demo, focus, viewer)
    m.get_root().html.add_child(Element(panel))
    return offline_html(m, lang=lang, title=title)


def _title(street: dict, t: dict, lang: str) -> str:
    name = street["name_en"] if lang == "en" and street.get("name_en") else street["name"]
    return t["title"].format(name=name)


_PANEL_CSS = """<style>
#unit-panel{position:absolute;top:10px;right:10px;z-index:1000;background:rgba(255,255,255,.95);padding:8px 10px;
  max-height:85vh;overflow:auto;font:12px "Noto Sans CJK SC","Microsoft YaHei",sans-serif;box-shadow:0 1px 4px #888}
#unit-panel table{border-collapse:collapse}#unit-panel td,#unit-panel th{padding:2px 6px;border-bottom:1px solid #ddd;
  text-align:left}#unit-panel td.n{text-align:right}.sw{display:inline-block;width:10px;height:10px;margin-right:4px;
  border:1px solid #555}.grid-code{background:transparent;border:0;box-shadow:none;font:10px sans-serif;color:#222;
  padding:0}.demo{color:#b00}#grid-focus{display:none;margin:4px 0;padding:4px 6px;border-left:4px solid #d7191c;
  background:#fff5f0}#grid-focus.missing{border-color:#b00;color:#b00;font-weight:bold}
.grid-code-hidden,.hm-label-yield{visibility:hidden}#unit-panel.folded #unit-body{display:none}
#unit-toggle{font:inherit;margin:2px 0;padding:4px 10px;border:1px solid #888;border-radius:4px;background:#fff}
@media (max-width:700px){ #unit-panel{top:auto;bottom:40px;left:10px;right:10px;max-height:38vh}
  #unit-panel h3{font-size:15px} }
/* On a phone the login bar is raised to 36 px (api/routes/session.py): the panel sits above it. */
@media (max-width:600px){ #unit-panel{bottom:72px} }.dot{display:inline-block;width:9px;height:9px;border-radius:50%;border:1px solid #333}
</style>"""

# Folded by default on a phone, so that the map stays usable (open on a wider screen); the button opens it.
_PANEL_SCRIPT = """<script>(function () {
  var panel = document.getElementById('unit-panel'), button = document.getElementById('unit-toggle');
  var words = JSON.parse(button.getAttribute('data-words'));
  function set(open) {
    panel.classList.toggle('folded', !open);
    button.setAttribute('aria-expanded', String(open));
    button.textContent = open ? words[1] : words[0];
  }
  button.addEventListener('click', function () { set(panel.classList.contains('folded')); });
  set(!window.matchMedia('(max-width: 700px)').matches);
})();</script>"""


def _unit_rows(units: list[dict], t: dict, colors: dict[str, str]) -> str:
    esc = html.escape
    rows = []
    for u in units:
        share = "–" if u["closed_in_time"] is None else f"{u['closed_in_time']:.0%}"
        swatch = colors.get(u["unit"], UNASSIGNED)
        rows.append(
            f'<tr data-unit="{esc(u["unit"] or "")}"><td><span class="sw" style="background:{swatch}"></span>'
            f'{esc(u["unit"] or t["none"])}</td><td class="n">{u["grids"]}</td><td class="n">{u["open"]}</td>'
            f'<td class="n">{u["overdue"]}</td><td class="n">{share}</td>'
            f'<td class="n" data-satisfied="{u.get("satisfied") if u.get("satisfied") is not None else ""}">'
            f'{"–" if u.get("satisfied") is None else format(u["satisfied"], ".0%")}</td></tr>'
        )
    return "".join(rows)


def _unit_panel(street: dict, units: list[dict], t: dict, colors: dict[str, str], lang: str, is_demo: bool,
                focus: dict | None, viewer: User | None = None) -> str:
    """The panel over the map: title, links, the focused grid, the print links (layers.web.grid_prints), and
    the unit table behind a fold button."""
    esc = html.escape
    other = "zh" if lang == "en" else "en"
    demo = f'<div class="demo">{esc(t["demo"])}</div>' if is_demo else ""
    words = esc(json.dumps([t["table_show"], t["table_hide"]], ensure_ascii=False))
    return f"""{_PANEL_CSS}
<div id="unit-panel"><div style="float:right"><a id="cases-link" href="/cases?street={esc(street['code'])}{'&lang=en' if lang == 'en' else ''}">{t['cases']}</a> ·
<a href="?{esc(urlencode({'street': street['code'], **(focus or {}), 'lang': other}))}">{t['other_lang']}</a></div>
<h3 style="margin:0 0 4px">{esc(_title(street, t, lang))}</h3>{demo}<div id="grid-focus" role="status"></div>
{print_box(street['code'], lang, viewer)}
<button type="button" id="unit-toggle" aria-controls="unit-body" aria-expanded="true" data-words="{words}">{esc(t["table_hide"])}</button>
<div id="unit-body"><table id="unit-table"><thead><tr><th>{t['unit']}</th><th>{t['grids']}</th><th>{t['open']}</th><th>{t['overdue']}</th>
<th>{t['in_time']}</th><th>{t['satisfied']}</th></tr></thead><tbody>{_unit_rows(units, t, colors)}</tbody></table>
<p><span class="dot" style="background:#fdae61"></span> {t['legend_open']} &nbsp;
<span class="dot" style="background:#d7191c"></span> {t['legend_overdue']}<br>{t['label']}</p></div></div>
{_PANEL_SCRIPT}"""
