"""The files web pages load, served under /static: vendor packages, folium's templates, the project's own.

Which files exist and where they are is ``layers/web/assets.py``'s business;
this module only mounts them on the app.
"""

from __future__ import annotations

import functools
import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from data.errors import SetupError
from layers.web.assets import APP_STATIC, FOLIUM_TEMPLATES, STATIC_PREFIX, node_modules, require_vendor, vendor_package

#: ReDoc's bundle as served: its footer logo, otherwise fetched from cdn.redoc.ly, is an empty local image.
REDOC_JS = STATIC_PREFIX + "/docs/redoc.standalone.js"
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


class _VendorFiles(StaticFiles):
    """node_modules, but only the packages in layers.web.assets.VENDOR_PACKAGES.

    Without node_modules, a file of a served package is 503 naming the fix, as the pages are, and any other
    path 404, not StaticFiles' 500 for a missing directory.
    """

    async def __call__(self, scope, receive, send) -> None:
        if not os.path.isdir(self.directory):
            served = vendor_package(self.get_path(scope).lstrip("/")) is not None
            try:
                require_vendor()
            except SetupError as exc:
                message = str(exc) if served else "not a served front-end package"
                await Response(message, status_code=503 if served else 404, media_type="text/plain")(
                    scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def get_path(self, scope) -> str:
        path = super().get_path(scope)
        if vendor_package(path) is None:
            return "/nonexistent-package/" + path  # answered 404 by StaticFiles
        return path


def mount_static(app) -> None:
    """Serve the vendor packages, folium's own templates and this project's page files under /static.

    The app starts even without ``node_modules`` (the API works); pages then
    answer 503 with the fix (see :func:`layers.web.assets.require_vendor`).
    """
    app.add_route(REDOC_JS, _redoc_js, include_in_schema=False)
    app.mount(STATIC_PREFIX + "/vendor", _VendorFiles(directory=node_modules(), check_dir=False), name="vendor")
    app.mount(STATIC_PREFIX + "/folium", StaticFiles(directory=FOLIUM_TEMPLATES), name="folium-static")
    app.mount(STATIC_PREFIX + "/app", StaticFiles(directory=APP_STATIC), name="app-static")


@functools.lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    path = node_modules() / "redoc" / "bundles" / "redoc.standalone.js"
    return path.read_bytes().replace(_REDOC_LOGO.encode(), _EMPTY_SVG.encode())


def _redoc_js(request) -> Response:
    """The pinned ReDoc bundle with its one outside URL (the footer logo) made local."""
    try:
        body = _redoc_bundle()
    except FileNotFoundError:
        return Response("redoc is not installed: run ./scripts/setup.sh (npm ci)", status_code=503)
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
