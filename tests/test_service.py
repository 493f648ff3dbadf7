"""The served app: health, the index page, and recovery when the database goes away."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data.cluster import EmbeddedCluster
from data.migrate import migrate
from data.settings import DatabaseSettings
from layers.spec.registry import LAYERS


def test_healthz_reports_database_and_postgis(demo_client):
    response = demo_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["postgresql"]


@pytest.mark.parametrize("lang,heading", [("zh", "烟霞市"), ("en", "Yanxia City")])
def test_index_lists_every_layer_with_a_count(demo_client, lang, heading):
    response = demo_client.get("/", params={"lang": lang})
    assert response.status_code == 200
    page = response.text
    assert heading in page
    for spec in LAYERS:
        assert f'data-layer="{spec.id}"' in page
        assert spec.name(lang) in page.replace("&#x27;", "'")
    import re

    counts = [int(n) for n in re.findall(r'data-count="(\d+)"', page)]
    assert len(counts) == len(LAYERS) and min(counts) > 0


def test_bad_language_is_a_clear_422(demo_client):
    response = demo_client.get("/", params={"lang": "fr"})
    assert response.status_code == 422
    assert "lang" in response.json()["detail"]


@pytest.fixture
def own_cluster():
    """A cluster of its own, so stopping it disturbs no other test."""
    home = Path(tempfile.mkdtemp(prefix="hm-health-"))
    os.chmod(home, 0o755)
    settings = DatabaseSettings.from_env({"HYGIENE_MAP_HOME": str(home)})
    cluster = EmbeddedCluster(settings)
    cluster.init()
    cluster.start()
    yield cluster, settings
    cluster.stop()
    shutil.rmtree(home, ignore_errors=True)


def test_healthz_is_503_while_the_database_is_down_and_recovers_by_itself(own_cluster):
    cluster, settings = own_cluster
    from data.db import connect

    conn = connect(settings)
    migrate(conn)
    conn.close()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        with ExitStack() as held:  # a pool with several idle connections, as after busy traffic
            for _ in range(6):
                held.enter_context(client.app.state.db.connection())
        cluster.stop()
        started = time.monotonic()
        down = client.get("/healthz")
        assert time.monotonic() - started < 2.0
        assert down.status_code == 503
        assert down.json()["status"] == "unavailable"
        assert "database" in down.json()["detail"]
        # A page that needs the database is a 503 with a message too, never a 500.
        page = client.get("/")
        assert page.status_code == 503 and "Traceback" not in page.text
        cluster.start()
        # Same address (the port is kept), and no request pays for a connection that died with the old server.
        assert [client.get(path).status_code for path in ("/healthz", "/", "/", "/", "/", "/")] == [200] * 6


def test_an_anonymous_tile_is_503_while_the_database_is_down_and_recovers_by_itself(own_cluster):
    cluster, settings = own_cluster
    from data.db import connect

    conn = connect(settings)
    migrate(conn)
    conn.close()
    tile = "/tiles/complaints/16/54864/25396.pbf"  # an empty tile: 204 (its statement ran all the same)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get(tile).status_code == 204  # on an asynchronous connection (tests/test_tile_async.py)
        cluster.stop()
        down = client.get(tile)
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert "database" in down.json()["detail"] and "Traceback" not in down.text
        cluster.start()
        # No request pays for the connection that died with the old server.
        assert [client.get(tile).status_code for _ in range(4)] == [204] * 4
