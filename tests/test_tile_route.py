"""The short route of anonymous tiles (api.routes.layers.AnonymousTileRoute) answers as /tiles' own route does."""

from __future__ import annotations

import math

import pytest
from starlette.routing import Match

from api.routes.layers import AnonymousTileRoute


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _paths() -> list[str]:
    out = []
    for layer, z in (("complaints", 16), ("complaints", 14), ("complaints", 11), ("toilets", 14), ("roads", 12)):
        x, y = _tile_of(121.38, 37.49, z)  # the demo city's centre
        out.append(f"/tiles/{layer}/{z}/{x}/{y}.pbf")
    return out + ["/tiles/toilets/14/0/0.pbf", "/tiles/nope/1/0/0.pbf", "/tiles/toilets/23/0/0.pbf",
                  "/tiles/toilets/2/4/0.pbf"]


@pytest.mark.parametrize("path", _paths())
def test_an_anonymous_tile_is_the_full_routes_tile(demo_client, path):
    short = demo_client.get(path)
    # Any query string goes to the full route (FastAPI's dependencies); a cache-busting ``_`` changes nothing there.
    full = demo_client.get(path + "?_=1")
    assert short.status_code == full.status_code
    assert short.content == full.content
    assert dict(short.headers) == dict(full.headers)


def _scope(path: str, query: bytes = b"", headers=(), method: str = "GET") -> dict:
    return {"type": "http", "method": method, "path": path, "query_string": query, "headers": list(headers),
            "root_path": ""}


def test_only_plain_anonymous_gets_take_the_short_route(monkeypatch):
    monkeypatch.delenv("HYGIENE_MAP_READS_NEED_TOKEN", raising=False)
    route = AnonymousTileRoute()
    assert route.matches(_scope("/tiles/complaints/16/1/2.pbf"))[0] == Match.FULL
    for scope in (_scope("/tiles/complaints/16/1/2.pbf", b"status=x"),
                  _scope("/tiles/complaints/16/1/2.pbf", headers=[(b"authorization", b"Bearer t")]),
                  _scope("/tiles/complaints/16/1/2.pbf", headers=[(b"cookie", b"a=1; hm_session=s")]),
                  _scope("/tiles/complaints/16/1/2.pbf", method="HEAD"),
                  _scope("/tiles/complaints/16/-1/2.pbf"),
                  _scope("/tiles/complaints/16/+1/2.pbf"),
                  _scope("/api/layers/complaints/features")):
        assert route.matches(scope)[0] == Match.NONE, scope
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    assert route.matches(_scope("/tiles/complaints/16/1/2.pbf"))[0] == Match.NONE


def test_reads_needing_a_token_refuse_anonymous_tiles(demo_client, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    x, y = _tile_of(121.38, 37.49, 16)
    response = demo_client.get(f"/tiles/complaints/16/{x}/{y}.pbf")
    assert response.status_code == 401 and "reading needs a token" in response.json()["detail"]
