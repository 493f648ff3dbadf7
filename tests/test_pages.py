"""The index and the overview map page (HTML served by the app; the browser tests draw it)."""

from __future__ import annotations

import re

import orjson
import pytest


def _config(page: str) -> dict:
    return orjson.loads(re.search(r"hygieneMap\.init\(\w+, (\{.*?\})\);\n", page, re.S).group(1))


def test_index_links_every_map_and_each_streets_map_and_atlas(demo_client, demo_conn):
    page = demo_client.get("/").text
    for href in ("/map", "/map/coverage", "/map/hotspots"):
        assert f'href="{href}"' in page
    with demo_conn.cursor() as cur:
        cur.execute("SELECT code FROM admin_areas WHERE level = 'street'")
        codes = [c for (c,) in cur.fetchall()]
    for code in codes:
        assert f'href="/map?street={code}"' in page and f'href="/print/streets/{code}/atlas.pdf"' in page
        assert f'href="/map/grids?street={code}"' in page
    assert 'href="/map?lang=en"' in demo_client.get("/", params={"lang": "en"}).text


def test_index_gives_the_data_time_as_the_citys_day(writable_demo, env_for):
    """Data as of midnight on 28 November in the city (UTC+8) is the 28th on the index, not the UTC 27th."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from data.db import connect, transaction

    conn = connect(url=writable_demo)
    with transaction(conn), conn.cursor() as cur:
        cur.execute("UPDATE city_settings SET data_time = '2026-11-28 00:00+08'")
    conn.close()
    env_for(writable_demo)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert "数据时间: 2026-11-28" in client.get("/").text
        assert "Data as of: 2026-11-28" in client.get("/", params={"lang": "en"}).text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_page_is_small_offline_and_carries_no_features(demo_client, lang):
    response = demo_client.get("/map", params={"lang": lang})
    assert response.status_code == 200
    page = response.text
    assert len(response.content) < 100_000
    refs = [r for r in re.findall(r'(?:src|href)="([^"]+)"', page) if r != "data:,"]
    assert all(r.startswith(("/static/", "/?", "?")) for r in refs), refs
    config = _config(page)
    assert config["lang"] == lang and config["basemap"] == "none"
    assert [layer["id"] for layer in config["layers"]][:2] == ["admin_areas", "markets"]
    toilets = next(layer for layer in config["layers"] if layer["id"] == "toilets")
    assert toilets["name"] == ("公共厕所" if lang == "zh" else "Public toilets")
    assert '"type":"Feature"' not in page.replace(" ", "")


def test_map_street_and_basemap_parameters(demo_client, demo_conn, monkeypatch):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT code, name FROM admin_areas WHERE level = 'street' ORDER BY code LIMIT 1")
        code, name = cur.fetchone()
    page = demo_client.get("/map", params={"street": code}).text
    assert _config(page)["street"]["code"] == code and name in page
    assert demo_client.get("/map", params={"street": "379999999"}).status_code == 404
    assert demo_client.get("/map", params={"street": "abc"}).status_code == 404  # a code, of no street here
    bad = demo_client.get("/map", params={"street": "a b"})
    assert bad.status_code == 422 and "street" in bad.json()["detail"]
    bad = demo_client.get("/map", params={"basemap": "google"})
    assert bad.status_code == 422 and "basemap" in bad.json()["detail"]
    gaode = _config(demo_client.get("/map", params={"basemap": "gaode"}).text)
    assert gaode["basemap"] == "gaode" and "autonavi" in gaode["basemap_tiles"][0]
    monkeypatch.setenv("HYGIENE_MAP_BASEMAP", "tianditu")
    response = demo_client.get("/map")
    assert response.status_code == 503 and "HYGIENE_MAP_TIANDITU_KEY" in response.json()["detail"]
    monkeypatch.setenv("HYGIENE_MAP_TIANDITU_KEY", "k123")
    page = demo_client.get("/map").text
    assert "tianditu.gov.cn" in page and "tk=k123" in page


def test_an_empty_database_gives_empty_layers_and_pages_not_errors(fresh_db, env_for):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from data.db import connect
    from data.migrate import migrate

    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    env_for(fresh_db)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        layers = client.get("/api/layers")
        assert layers.status_code == 200
        assert all(layer["count"] == 0 and layer["extent"] is None for layer in layers.json())
        assert client.get("/api/layers/complaints/features").json()["features"] == []
        assert client.get("/tiles/complaints/10/857/396.pbf").status_code == 204
        assert client.get("/map").status_code == 200
        assert client.get("/").status_code == 200


def test_favicon_is_an_empty_answer_not_a_404(demo_client):
    assert demo_client.get("/favicon.ico").status_code == 204
