"""The overview web map (/map): every layer, built with Folium, data loaded by URL and vector tiles.

The page itself holds no features: a small JSON configuration (layers,
styles, legends, labels) and ``/static/app/map.js``, which loads GeoJSON
from ``/api/layers/{id}/features``, vector tiles from ``/tiles`` and
heatmap cells from ``/api/layers/complaints/heat`` for the current view.
So the page stays a few tens of kilobytes at any city size.

Gaode basemap: Gaode tiles are in GCJ-02, so map.js shifts every overlay
to GCJ-02 in the browser with the published WGS84→GCJ-02 formula; on that
basemap the layers that are vector tiles elsewhere are loaded as GeoJSON
(shifted point by point) instead.
"""

from __future__ import annotations

from urllib.parse import urlencode

import folium
from folium import plugins

from data.settings import FeatureSettings, MapSettings
from data.vocab import city_tz
from layers.spec.registry import LAYERS, get_layer
from layers.web.assets import offline_html
from layers.web.basemap import TILE_BASEMAPS, add_tiles, basemap_config, tile_layers  # noqa: F401  (importers of old)
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
from layers.workflow.access import User, readable


def _text(lang: str) -> dict:
    """The page's words; the complaint filters are named by the complaints layer's own field labels."""
    words = {
        "zh": {
            "title": "卫生城市创建总览图", "legend": "图例", "filters": "投诉筛选", "since": "起", "until": "止",
            "all": "全部", "apply": "应用", "loading": "加载中…", "truncated": "仅显示前 {n} 个要素，请放大",
            "yes": "是", "no": "否", "not_in_service": "空心：不在用（停用、在建）", "not_in_service_path": "灰色虚线：不在用（停用、在建）", "count": "投诉数", "heat": "投诉热力", "hex": "投诉六边形统计",
            "points": "投诉点", "measure": "测量", "locate": "定位我的位置", "data_time": "数据时间", "street": "街道",
            "no_key": "天地图底图需要密钥（设置 HYGIENE_MAP_TIANDITU_KEY），本服务未配置：改用本市自有的道路与边界作底图。",
        },
        "en": {
            "title": "Hygiene campaign overview map", "legend": "Legend", "filters": "Complaint filters",
            "since": "From", "until": "Until", "all": "All", "apply": "Apply", "loading": "Loading…",
            "truncated": "First {n} features only: zoom in", "yes": "yes", "no": "no",
            "not_in_service": "hollow: not in service (closed, under construction)",
            "not_in_service_path": "grey dashes: not in service (closed, under construction)", "count": "Complaints",
            "heat": "Complaint heat", "hex": "Complaints per hexagon", "points": "Complaint points",
            "measure": "Measure", "locate": "Show my location", "data_time": "Data as of", "street": "Street",
            "no_key": "The Tianditu basemap needs a key (HYGIENE_MAP_TIANDITU_KEY), which this server does not have: "
                      "showing the city's own roads and boundaries instead.",
        },
    }[lang]
    fields = {f.column: f.label(lang) for f in get_layer("complaints").popup}
    return {**PAGE_WORDS[lang], **words, "category": fields["category"], "status": fields["status"]}


TEXT = {lang: _text(lang) for lang in ("zh", "en")}

class _HygieneMapScript(AppScript):
    """Loads map.js (and the Leaflet plugins it uses) and starts it with the page configuration."""

    # Our own component names the files the app serves (from package.json's
    # pinned packages) directly; only folium's built-in URLs need rewriting.
    init_object = "hygieneMap"
    default_js = [
        ("leaflet_heat", "/static/vendor/leaflet.heat/dist/leaflet-heat.js"),
        ("markercluster", "/static/vendor/leaflet.markercluster/dist/leaflet.markercluster.js"),
        ("vectorgrid", "/static/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
        ("minimap", "/static/vendor/leaflet-minimap/dist/Control.MiniMap.min.js"),
        ("hygiene_map", "/static/app/map.js"),
    ]
    default_css = [
        ("markercluster_css", "/static/vendor/leaflet.markercluster/dist/MarkerCluster.css"),
        ("markercluster_default_css", "/static/vendor/leaflet.markercluster/dist/MarkerCluster.Default.css"),
        ("minimap_css", "/static/vendor/leaflet-minimap/dist/Control.MiniMap.min.css"),
        ("hygiene_map_css", "/static/app/map.css"),
    ]


def _layer_config(lang: str, viewer: User | None) -> list[dict]:
    """Each layer's name, style, legend and display for map.js; its popup lists only the columns
    ``viewer`` may read (an anonymous page names no staff-only or personal column)."""
    out = []
    for spec in LAYERS:
        shown = readable(spec, viewer, spec.popup)
        display = [{"min": d.min_zoom, "max": d.max_zoom, "mode": d.mode} for d in spec.display]
        out.append({
            "id": spec.id,
            "name": spec.name(lang),
            "geometry": spec.geometry_type,
            "display": display,
            "style_column": spec.style_column,
            "color": spec.color,
            "colors": {c.value: c.color for c in spec.categories},
            "legend": spec.legend(lang),
            # Personal columns are row-scoped (a street user reads its own street's): flagged, so that
            # map.js leaves out the line where the value was withheld rather than showing an empty one.
            # A time (the tiles carry seconds since 1970): flagged, map.js formats it in the city's zone.
            "popup": [[f.column, f.label(lang), f.column_class == "personal", f.kind == "time"] for f in spec.popup
                      if f.column in shown],
            "shown": spec.shown_by_default,
            # The filter control (投诉筛选) sets a time window, a category and a status: only layers
            # filtered by both columns take it (findings have statuses of their own, no category).
            "filters": {"category", "status"} <= set(spec.filter_columns),
        })
    return out


def _add_controls(m: folium.Map, t: dict, lang: str) -> None:
    add_fullscreen(m, lang)
    # leaflet-measure carries its own translations: "cn" is its simplified Chinese (测量, 完成测量, 取消 …).
    plugins.MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                           primary_area_unit="sqmeters", secondary_area_unit="hectares",
                           localization="en" if lang == "en" else "cn").add_to(m)
    plugins.LocateControl(position="topleft", strings={"title": t["locate"]}).add_to(m)


def _notes(city: dict | None, street: dict | None, t: dict) -> list[str]:
    """Demo data, data time and the street shown, for the title bar."""
    notes = []
    if city and city.get("is_demo"):
        notes.append(t["demo"])
    if city and city.get("data_time"):
        notes.append(f"{t['data_time']}: {city['data_time']:%Y-%m-%d}")
    if street:
        notes.append(f"{t['street']}: {street['name']} ({street['code']})")
    return notes


def build_map(city: dict | None, *, lang: str = "zh", street: dict | None = None,
              categories: list[tuple[str, str]] | None = None, center: tuple[float, float] | None = None,
              bounds: list[float] | None = None, basemap: str | None = None, viewer: User | None = None) -> str:
    """The HTML of the overview map.

    Parameters
    ----------
    city : dict or None
        ``city_settings`` row (name, is_demo, data_time) from ``data.catalog.city_info``.
    lang : str
        ``zh`` or ``en``.
    street : dict, optional
        ``{"code", "name", "bbox"}`` of the street to zoom to and filter by.
    categories : list of (name, label)
        Complaint event types for the category filter.
    center, bounds :
        Where the map opens (lat, lon) and the extent [minlon, minlat, maxlon, maxlat] to fit.
    basemap : str, optional
        ``none``, ``osm``, ``tianditu`` or ``gaode``; default: the MapSettings setting.
    viewer : User or None
        Who reads the page (None: anonymous); popups name only the columns they may read.
    """
    settings = MapSettings.from_env()
    basemap = basemap or settings.basemap
    t = TEXT[lang]
    m = new_map(center, lang)
    if basemap == "tianditu" and not settings.tianditu_key:
        add_notice(m, t["no_key"])  # never a tile URL with tk=None: say so, and draw the offline context
        basemap = "none"
    basemap_tiles = add_tiles(m, basemap_config(basemap, settings))
    if basemap == "none":
        add_context(m, lang, outlines=False, roads=False)  # the roads and outlines are layers of this map
    _add_controls(m, t, lang)
    name = city_name(city, lang)
    title = f"{name} · {t['title']}" if name else t["title"]
    other = {"lang": "en" if lang == "zh" else "zh", **({"street": street["code"]} if street else {})}
    add_title_bar(m, lang, title, _notes(city, street, t), urlencode(other))
    config = {
        "lang": lang, "text": t, "basemap": basemap, "basemap_tiles": basemap_tiles,
        "layers": _layer_config(lang, viewer), "street": street, "bounds": bounds, "categories": categories or [],
        "statuses": [[e["value"], e["label"]] for e in get_layer("complaints").legend(lang)],
        "limit": FeatureSettings.from_env().max_limit,
        "time_zone": city_tz().key,  # popups show times in the city's zone, not the browser's
    }
    _HygieneMapScript(config).add_to(m)
    return offline_html(m, lang=lang, title=title)
