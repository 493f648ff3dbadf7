"""The public pages' map (/report, and the small one of /report/{tracking}), written once for both.

The configured basemap (:mod:`layers.web.basemap`, ``HYGIENE_MAP_BASEMAP``) or, offline (the default), the city's
own roads, outlines and names through the public channel's context routes, which count as map reads, never as
tracking reads (api/routes/public.py ``public_context``). static/app/public-map.js draws it from the page's
config (:func:`map_config`).
"""

from __future__ import annotations

from layers.store.places import FACILITY_ZOOM
from layers.web.assets import STATIC_PREFIX
from layers.web.basemap import tile_hosts

_V = STATIC_PREFIX + "/vendor/"
#: The city's roads, outlines and names for the pages' map, through the public channel (no token needed).
CONTEXT_TILES = "/api/public/context/tiles/"
CONTEXT_LABELS = "/api/public/context/labels"
#: The city's own places for the pages (api/routes/public_places.py): no outside geocoder.
PLACES = {"facilities": "/api/public/context/facilities", "search": "/api/public/places",
          "describe": "/api/public/place", "around": "/api/public/around", "facility_zoom": FACILITY_ZOOM}
#: No basemap: the city's own data only.
NO_BASEMAP = {"name": "none", "crs": "wgs84", "layers": []}

#: The public pages load only this server's files (their data from its API); nothing from another host.
PAGE_CSP = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'"


def page_csp(basemap: dict | None) -> str:
    """The public page's Content-Security-Policy: a basemap's tiles are the only thing from another host, and
    only images."""
    hosts = tile_hosts(basemap) if basemap else []
    return PAGE_CSP.replace("img-src 'self' data:", " ".join(["img-src 'self' data:", *hosts]))


def map_config(basemap: dict | None) -> dict:
    """What public-map.js needs: the basemap (:func:`layers.web.basemap.basemap_config`; none by default) and
    where the city's own roads, outlines, names and facilities come from."""
    return {"basemap": basemap or NO_BASEMAP, "context": {"tiles": CONTEXT_TILES, "labels": CONTEXT_LABELS},
            "places": PLACES}


def map_head() -> str:
    """The map's style sheets, for the page's <head>."""
    return (f'<link rel="stylesheet" href="{_V}leaflet/dist/leaflet.css">\n'
            f'<link rel="stylesheet" href="{STATIC_PREFIX}/app/map.css">')


def map_scripts(basemap: dict | None) -> str:
    """The map's scripts, before the page's own: Leaflet, vector tiles, the city's context, public-map.js; on a
    GCJ-02 basemap map.js too, whose formula shifts WGS84 points onto Gaode's tiles."""
    gcj = f'\n<script src="{STATIC_PREFIX}/app/map.js"></script>' if (basemap or NO_BASEMAP)["crs"] == "gcj02" else ""
    return (f'<script src="{_V}leaflet/dist/leaflet.js"></script>\n'
            f'<script src="{_V}leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"></script>\n'
            f'<script src="{STATIC_PREFIX}/app/context.js"></script>{gcj}\n'
            f'<script src="{STATIC_PREFIX}/app/public-map.js"></script>')
