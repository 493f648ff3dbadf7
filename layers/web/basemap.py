"""Which basemap a page draws, decided in one place for every map page (/map, /map/coverage … /map/priority, /report).

``HYGIENE_MAP_BASEMAP`` (none | osm | tianditu | gaode) names it; Tianditu without a key is ``none``. Gaode's
tiles are GCJ-02, so a page on them shifts its WGS84 overlays to GCJ-02 (static/app/map.js has the formula) and
converts a tap back; the others are WGS84 and need no shift.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import folium

from data.settings import MapSettings

TILE_BASEMAPS = {
    "osm": ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors", "abc"),
    "gaode": ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
              "© 高德地图 AutoNavi", "1234"),
}


def tile_layers(basemap: str, settings: MapSettings) -> list[dict]:
    """The tile layers of a basemap, bottom first: ``url`` (template), ``attr``, ``subdomains``, ``overlay``
    (labels over the streets) and ``max_zoom``; none for ``none``. Gaode's are GCJ-02, the others WGS84."""
    if basemap in TILE_BASEMAPS:
        url, attr, subdomains = TILE_BASEMAPS[basemap]
        return [{"url": url, "attr": attr, "subdomains": subdomains, "overlay": False, "max_zoom": 19}]
    if basemap != "tianditu":
        return []
    return [{"url": f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                    f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                    f"&TILECOL={{x}}&tk={settings.tianditu_key}",
             "attr": "© 天地图 Tianditu", "subdomains": "01234567", "overlay": layer == "cva", "max_zoom": 18}
            for layer in ("vec", "cva")]  # the streets, then their labels as an overlay


def basemap_config(basemap: str, settings: MapSettings) -> dict:
    """The page's basemap: its tile layers and the CRS a tap on it is in (Gaode: GCJ-02; others: WGS84).

    ``none`` (the default, offline): no tiles, the city's own roads and names from this server.
    """
    if basemap == "tianditu" and not settings.tianditu_key:
        basemap = "none"
    return {"name": basemap, "crs": "gcj02" if basemap == "gaode" else "wgs84",
            "layers": tile_layers(basemap, settings)}


def tile_hosts(basemap: dict) -> list[str]:
    """The hosts the basemap's tiles come from (for the page's Content-Security-Policy), e.g. https://*.x.com."""
    hosts = set()
    for layer in basemap["layers"]:
        host = urlsplit(layer["url"]).netloc
        hosts.add("https://" + ("*." + host.split(".", 1)[1] if "{s}" in host else host))
    return sorted(hosts)




def page_basemap(settings: MapSettings | None = None) -> dict:
    """The configured basemap (``HYGIENE_MAP_BASEMAP``) as :func:`basemap_config` gives it: what the analysis pages
    draw, as /map and /report do."""
    settings = settings or MapSettings.from_env()
    return basemap_config(settings.basemap, settings)


def add_tiles(m: folium.Map, base: dict) -> list[str] | None:
    """The basemap's tile layers on ``m``; its [URL template, subdomains] for map.js' minimap (None without one)."""
    layers = base["layers"]
    for layer in layers:
        name = base["name"] if len(layers) == 1 else f"{base['name']}-{'cva' if layer['overlay'] else 'vec'}"
        folium.TileLayer(layer["url"], attr=layer["attr"], subdomains=layer["subdomains"], name=name,
                         overlay=layer["overlay"], max_zoom=layer["max_zoom"]).add_to(m)
    return [layers[0]["url"], layers[0]["subdomains"]] if layers else None
