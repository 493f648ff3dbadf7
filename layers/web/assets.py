"""Offline web pages: every script, style and font a Folium page uses is served by the app.

Government intranets and China's networks cannot reach public CDNs, so the
pages never reference one. Folium writes CDN URLs into its pages; this
module maps each one it knows to a file of the pinned front-end packages
(``package.json``/``package-lock.json``, installed by ``scripts/setup.sh``
with ``npm ci`` into ``node_modules``) or of the folium package itself, and
the app serves those files under ``/static`` (``api/static.py`` mounts them).

Pages are built with :func:`offline_html`; see its docstring.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import folium

from data.errors import SetupError

REPO = Path(__file__).resolve().parents[2]
APP_STATIC = Path(__file__).resolve().parent / "static"  # this project's own page scripts and styles
FOLIUM_TEMPLATES = Path(folium.__file__).resolve().parent / "templates"
STATIC_PREFIX = "/static"

# The npm packages served under /static/vendor/<package>/… (nothing else in node_modules is).
VENDOR_PACKAGES = (
    "leaflet", "leaflet.markercluster", "leaflet.heat", "leaflet-measure", "leaflet.fullscreen",
    "leaflet-minimap", "leaflet.locatecontrol", "leaflet.awesome-markers", "leaflet.vectorgrid",
    "bootstrap", "jquery", "@fortawesome/fontawesome-free", "swagger-ui-dist", "redoc",
)

_V = STATIC_PREFIX + "/vendor/"
# Every CDN URL folium (0.20) writes for the map and the plugins this project uses → its local file.
CDN_TO_LOCAL: dict[str, str] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": _V + "leaflet/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": _V + "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": _V + "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": _V + "jquery/dist/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        _V + "bootstrap/dist/js/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css":
        _V + "bootstrap/dist/css/bootstrap.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        _V + "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        _V + "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        _V + "@fortawesome/fontawesome-free/css/all.min.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
        STATIC_PREFIX + "/app/leaflet.awesome.rotate.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        _V + "leaflet.markercluster/dist/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        _V + "leaflet.markercluster/dist/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        _V + "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js":
        STATIC_PREFIX + "/folium/leaflet_heat.min.js",
    "https://leaflet.github.io/Leaflet.heat/dist/leaflet-heat.js": _V + "leaflet.heat/dist/leaflet-heat.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js":
        _V + "leaflet-measure/dist/leaflet-measure.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css":
        _V + "leaflet-measure/dist/leaflet-measure.css",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        _V + "leaflet.fullscreen/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        _V + "leaflet.fullscreen/Control.FullScreen.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js":
        _V + "leaflet-minimap/dist/Control.MiniMap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css":
        _V + "leaflet-minimap/dist/Control.MiniMap.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/L.Control.Locate.min.js":
        _V + "leaflet.locatecontrol/dist/L.Control.Locate.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/L.Control.Locate.min.css":
        _V + "leaflet.locatecontrol/dist/L.Control.Locate.min.css",
    "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js":
        _V + "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
}
# Folium links these by default, but no page of this project uses them: dropped, not served.
# (glyphicons are Bootstrap 3 icons for awesome markers; use prefix="fa" icons instead.)
DROPPED = frozenset({"https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css"})

# A script/style/font reference in the page: src= / href= attributes, CSS url(...) and @import.
_REFERENCE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']|url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)


def vendor_package(path: str) -> str | None:
    """The package a path under /static/vendor belongs to (``@scope/name`` or ``name``), if it is served."""
    parts = Path(path).parts
    name = "/".join(parts[:2]) if parts and parts[0].startswith("@") else (parts[0] if parts else "")
    return name if name in VENDOR_PACKAGES else None


def node_modules() -> Path:
    """Where the pinned front-end packages are installed (HYGIENE_MAP_NODE_MODULES or ./node_modules)."""
    configured = os.environ.get("HYGIENE_MAP_NODE_MODULES")
    return Path(configured) if configured else REPO / "node_modules"


def require_vendor() -> None:
    """SetupError naming the missing front-end packages, if any (pages call this before rendering)."""
    modules = node_modules()
    missing = [p for p in VENDOR_PACKAGES if not (modules / p / "package.json").exists()]
    if missing:
        raise SetupError(
            f"front-end packages missing in {modules}: {', '.join(missing)}; run ./scripts/setup.sh (npm ci)",
            f"{modules} 中缺少前端软件包：{'、'.join(missing)}；请运行 ./scripts/setup.sh（npm ci）",
        )


def localize(page: str) -> str:
    """Rewrite the known CDN URLs of a rendered page to local ones; SetupError if an unknown one remains."""
    for url in DROPPED:
        page = re.sub(r'<link[^>]*href="' + re.escape(url) + r'"[^>]*>\s*', "", page)
    for url, local in CDN_TO_LOCAL.items():
        page = page.replace(url, local)
    left = sorted({m.group(1) for m in _REFERENCE.finditer(page)})
    if left:
        raise SetupError(
            "the page would load files from another host, which offline networks cannot reach: "
            + ", ".join(left)
            + "; add each to layers.web.assets.CDN_TO_LOCAL (and its package to package.json) or drop it",
            "页面会从其他主机加载文件，离线网络无法访问：" + "、".join(left)
            + "；请把每个加入 layers.web.assets.CDN_TO_LOCAL（并把其软件包加入 package.json），或去掉它",
        )
    return page


def offline_html(m: folium.Map, *, lang: str = "zh", title: str | None = None) -> str:
    """The full HTML of a folium map whose every script, style and font is served by this app.

    How to build a page (the analysis, grids and overview maps all do this)::

        import folium
        from folium import plugins
        from layers.web.assets import offline_html

        m = new_map((lat, lon))                   # layers.web.folium_page: no basemap, a scale in metres
        plugins.Fullscreen().add_to(m)            # any plugin in CDN_TO_LOCAL works
        folium.GeoJson("/api/layers/toilets/features?limit=5000").add_to(m)   # data by URL
        return HTMLResponse(offline_html(m, lang=lang, title="公厕覆盖"))

    Folium's CDN URLs are rewritten to ``/static/vendor/…`` (the pinned npm
    packages), ``/static/folium/…`` (folium's own templates) or
    ``/static/app/…`` (this project's files in ``layers/web/static``); the
    app serves them (``api.static.mount_static``).
    The rendered page is checked: if any ``src``, ``href``, CSS ``url()`` or
    ``@import`` still points at another host, :class:`~data.errors.SetupError`
    names it, so a new plugin cannot silently reach a CDN. Tile URLs of an
    online basemap the user chose (``L.tileLayer`` in JavaScript) are not
    references of this kind and are left alone. Put data on the page by URL
    (GeoJSON endpoint, vector tiles), not embedded, so city-size maps stay small.

    Parameters
    ----------
    m : folium.Map
        The map with its layers and plugins.
    lang : str
        ``zh`` or ``en``: the ``<html lang>`` of the page.
    title : str, optional
        The ``<title>`` of the page.

    Returns
    -------
    str
        The page, ready for an ``HTMLResponse``.
    """
    require_vendor()
    page = m.get_root().render()
    page = localize(page)
    html_lang = "en" if lang == "en" else "zh-CN"
    page = page.replace("<html>", f'<html lang="{html_lang}">', 1)
    # No favicon request (it would be a 404 in the console): an empty inline icon.
    page = page.replace("<head>", '<head>\n    <link rel="icon" href="data:,">', 1)
    if title:
        from html import escape

        page = page.replace("<head>", f"<head>\n    <title>{escape(title)}</title>", 1)
    return page
