"""Offline pages: every file a Folium page loads is served by the app; unknown CDN URLs fail loudly."""

from __future__ import annotations

import re

import folium
import pytest
from folium import plugins

from data.errors import SetupError
from layers.web.assets import CDN_TO_LOCAL, localize, offline_html


def test_every_mapped_cdn_file_is_served_by_the_app(demo_client):
    for url, local in CDN_TO_LOCAL.items():
        response = demo_client.get(local)
        assert response.status_code == 200, (url, local)
        assert len(response.content) > 100, local


def test_fonts_and_images_referenced_by_the_vendor_css_are_served(demo_client):
    css = demo_client.get("/static/vendor/@fortawesome/fontawesome-free/css/all.min.css").text
    font = re.search(r"url\(\.\./webfonts/([^)]+\.woff2)\)", css).group(1)
    assert demo_client.get(f"/static/vendor/@fortawesome/fontawesome-free/webfonts/{font}").status_code == 200
    assert demo_client.get("/static/vendor/leaflet/dist/images/marker-icon.png").status_code == 200


def test_only_the_listed_packages_are_served(demo_client):
    assert demo_client.get("/static/vendor/leaflet/package.json").status_code == 200
    assert demo_client.get("/static/vendor/brfs/package.json").status_code == 404
    assert demo_client.get("/static/vendor/../package.json").status_code == 404


def test_a_map_with_the_plugins_in_use_references_only_local_files():
    m = folium.Map(location=[37.49, 121.38], zoom_start=12, tiles=None, control_scale=True)
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    plugins.LocateControl().add_to(m)
    plugins.MiniMap(tile_layer=folium.TileLayer(tiles="/tiles/x/{z}/{x}/{y}.png", attr="local")).add_to(m)
    plugins.HeatMap([[37.49, 121.38, 1.0]]).add_to(m)
    plugins.MarkerCluster().add_to(m)
    plugins.VectorGridProtobuf("/tiles/toilets/{z}/{x}/{y}.pbf", "toilets").add_to(m)
    folium.Marker([37.49, 121.38], icon=folium.Icon(icon="info", prefix="fa")).add_to(m)
    page = offline_html(m, lang="en", title="test")
    assert '<html lang="en">' in page and "<title>test</title>" in page
    refs = [r for r in re.findall(r'(?:src|href)="([^"]+)"', page) if r != "data:,"]
    assert refs and all(ref.startswith("/static/") for ref in refs), refs
    assert "cdn" not in page.lower() and "unpkg" not in page


def test_an_unknown_external_url_fails_loudly():
    with pytest.raises(SetupError, match="https://cdn.example.com/x.js"):
        localize('<script src="https://cdn.example.com/x.js"></script>')
    with pytest.raises(SetupError, match="//fonts.example.com/a.woff"):
        localize("<style>@font-face{src:url(//fonts.example.com/a.woff)}</style>")


def test_pages_say_how_to_fix_missing_front_end_packages(monkeypatch, tmp_path):
    monkeypatch.setenv("HYGIENE_MAP_NODE_MODULES", str(tmp_path))
    with pytest.raises(SetupError, match="npm ci"):
        offline_html(folium.Map(tiles=None))


def test_api_docs_reference_only_the_apps_own_files(demo_client):
    for path in ("/docs", "/redoc"):
        page = demo_client.get(path)
        assert page.status_code == 200, path
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
        assert all(ref.startswith(("/static/", "/openapi.json", "data:")) for ref in refs), refs
        for ref in refs:
            if ref.startswith("/static/"):
                assert demo_client.get(ref).status_code == 200, ref
        assert "cdn" not in page.text.lower() and "googleapis" not in page.text


@pytest.mark.parametrize("path, drawn", [
    ("/docs", "document.querySelectorAll('.swagger-ui .opblock').length"),
    ("/redoc", "document.querySelectorAll('[data-section-id^=\"operation/\"]').length"),
])
def test_api_docs_render_in_chromium_without_another_host(browser, server, path, drawn):
    report = browser.open(server + path, ready_js=f"{drawn} > 20", timeout=60)
    assert not report.timed_out, (path, report.failed_requests, report.console_errors)
    assert report.other_hosts(server) == [], report.other_hosts(server)
    assert report.failed_requests == [], report.failed_requests
    assert browser.evaluate(drawn) > 20
