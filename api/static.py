"""The files web pages load, served under /static: vendor packages, folium's templates, the project's own.

Which files exist and where they are is ``layers/web/assets.py``'s business;
this module only mounts them on the app.
"""

from __future__ import annotations

from starlette.staticfiles import StaticFiles

from layers.web.assets import APP_STATIC, FOLIUM_TEMPLATES, STATIC_PREFIX, node_modules, vendor_package


class _VendorFiles(StaticFiles):
    """node_modules, but only the packages in layers.web.assets.VENDOR_PACKAGES."""

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
    app.mount(STATIC_PREFIX + "/vendor", _VendorFiles(directory=node_modules(), check_dir=False), name="vendor")
    app.mount(STATIC_PREFIX + "/folium", StaticFiles(directory=FOLIUM_TEMPLATES), name="folium-static")
    app.mount(STATIC_PREFIX + "/app", StaticFiles(directory=APP_STATIC), name="app-static")
