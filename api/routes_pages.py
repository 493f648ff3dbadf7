"""HTML pages (Folium maps) and the static files they load, all served by the app."""

from __future__ import annotations

from fastapi import APIRouter

from layers.web import mount_static

router = APIRouter(tags=["pages"])


def install(app) -> None:
    """Mount /static (vendor packages, folium templates, the project's page files) and the page routes."""
    mount_static(app)
    app.include_router(router)
