"""What the project's Folium pages share: the map, the title bar, the script that starts a page.

The overview map and the analysis pages are a Folium map, a title bar over
it and one of the project's scripts (``/static/app/*.js``) started with the
page's configuration; the data comes by URL.
"""

from __future__ import annotations

import html

import folium
import orjson
from branca.element import Element, MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from jinja2 import Template

#: Where a map opens when the city has no extent yet (the demo city).
DEFAULT_CENTER = (37.49, 121.38)

#: Words of every page's title bar.
PAGE_WORDS = {
    "zh": {"index": "首页", "other_lang": "English", "demo": "演示数据（虚构城市）", "zoom_in": "放大", "zoom_out": "缩小",
           "full_screen": "全屏", "exit_full_screen": "退出全屏", "layers": "图层", "show_minimap": "展开小地图",
           "hide_minimap": "收起小地图"},
    "en": {"index": "Home", "other_lang": "中文", "demo": "Demo data (fictional city)", "zoom_in": "Zoom in",
           "zoom_out": "Zoom out", "full_screen": "Full Screen", "exit_full_screen": "Exit Full Screen",
           "layers": "Layers", "show_minimap": "Show MiniMap", "hide_minimap": "Hide MiniMap"},
}


class MetricScale(MacroElement):
    """The map's scale in metres only: Leaflet's default (folium's ``control_scale``) also shows feet, which a
    Chinese city's page has no use for."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
                         "{% endmacro %}")


class _ZoomTitles(MacroElement):
    """The zoom buttons' tooltips in the page's language (Leaflet's are English whatever the page)."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "(function (z, words) { if (!z) return;"
                         " [[z._zoomInButton, words[0]], [z._zoomOutButton, words[1]]].forEach(function (b) {"
                         " b[0].title = b[1]; b[0].setAttribute('aria-label', b[1]); });"
                         "})({{ this._parent.get_name() }}.zoomControl, {{ this.words }});"
                         "{% endmacro %}")

    def __init__(self, lang: str):
        super().__init__()
        t = PAGE_WORDS[lang]
        self.words = orjson.dumps([t["zoom_in"], t["zoom_out"]]).decode()


def new_map(center: tuple[float, float] | None, lang: str = "zh") -> folium.Map:
    """A map without a basemap (pages add the one chosen), with a scale in metres, drawn on a canvas, its zoom
    buttons' tooltips in ``lang``."""
    m = folium.Map(location=list(center or DEFAULT_CENTER), zoom_start=12, tiles=None, prefer_canvas=True,
                   max_zoom=19)
    MetricScale().add_to(m)
    _ZoomTitles(lang).add_to(m)
    return m


def add_fullscreen(m: folium.Map, lang: str) -> None:
    """The full-screen button, its tooltips in ``lang``."""
    t = PAGE_WORDS[lang]
    plugins.Fullscreen(position="topleft", title=t["full_screen"], title_cancel=t["exit_full_screen"]).add_to(m)


def city_name(city: dict | None, lang: str) -> str:
    """The city's name in the page language (Chinese when it has no English one), or nothing."""
    city = city or {}
    return (city.get("name_en") if lang == "en" and city.get("name_en") else city.get("name")) or ""


def add_title_bar(m: folium.Map, lang: str, title: str, notes: list[str], other_query: str,
                  status: str = "") -> None:
    """The bar over the map: a link home, the title, notes, the same page in the other language.

    ``other_query`` is the query string of that link (without ``?``);
    ``status`` the first words of the ``#hm-status`` line the page's script keeps up to date.
    """
    t = PAGE_WORDS[lang]
    bar = (
        f'<div id="hm-title"><a href="/?lang={lang}">{html.escape(t["index"])}</a> · '
        f"<b>{html.escape(title)}</b> <span>{html.escape(' · '.join(notes))}</span> · "
        f'<a href="?{html.escape(other_query)}">{t["other_lang"]}</a></div>'
        f'<div id="hm-status" data-ready="0">{html.escape(status)}</div>'
    )
    m.get_root().html.add_child(Element(bar))


class AppScript(JSCSSMixin, folium.MacroElement):
    """Loads one of the project's page scripts and starts it: ``<init_object>.init(map, configuration)``.

    Subclasses name the object (``init_object``) and the files (``default_js``, ``default_css``).
    """

    init_object = ""
    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this.init_object }}.init({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}"""
    )

    def __init__(self, config: dict):
        super().__init__()
        self._name = type(self).__name__.lstrip("_")
        # "</" cannot end the inline script early: JSON may carry user text.
        self.config_json = orjson.dumps(config, option=orjson.OPT_NON_STR_KEYS).decode().replace("</", "<\\/")


class ContextScript(AppScript):
    """The offline place context (``/static/app/context.js``): the city's roads and area outlines beneath the
    thematic layers, and the names of districts, streets, communities and roads in view."""

    init_object = "hygieneContext"
    default_js = [
        ("vectorgrid", "/static/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
        ("hygiene_context", "/static/app/context.js"),
    ]
    default_css = [("hygiene_map_css", "/static/app/map.css")]


def add_context(m: folium.Map, lang: str, *, outlines: bool = True, roads: bool = True) -> None:
    """Draw the offline place context on ``m`` (for pages without a basemap).

    ``outlines`` / ``roads``: whether to draw them too (the overview map draws both as layers of its own and
    takes only the names).
    """
    ContextScript({"lang": lang, "outlines": outlines, "roads": roads}).add_to(m)


def add_notice(m: folium.Map, text: str) -> None:
    """A notice over the map (``#hm-notice``), e.g. why the basemap asked for is not shown."""
    m.get_root().html.add_child(Element(f'<div id="hm-notice" role="status">{html.escape(text)}</div>'))
