"""OGC API – Tiles under /ogc: tile matrix set, tilesets, and the same vector tiles as /tiles (times as text)."""

from __future__ import annotations

import json
import math

import mapbox_vector_tile
import pytest

from layers.spec.registry import LAYERS, get_layer
from layers.store import ogc
from layers.store.tiles import tile_mode, time_columns


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_web_mercator_quad_matrices(demo_client):
    listed = demo_client.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad"]
    tms = demo_client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert tms["crs"] == ogc.EPSG3857 and tms["uri"] == ogc.WEB_MERCATOR_QUAD_URI
    zero, twelve = tms["tileMatrices"][0], tms["tileMatrices"][12]
    # Published WebMercatorQuad values: scale 1:559,082,264.03 at zoom 0, cell 156,543.03 m.
    assert zero["scaleDenominator"] == pytest.approx(559082264.0287178)
    assert zero["cellSize"] == pytest.approx(156543.03392804097)
    assert twelve["matrixWidth"] == twelve["matrixHeight"] == 4096
    assert zero["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])
    assert demo_client.get("/ogc/tileMatrixSets/WorldCRS84Quad").status_code == 404


@pytest.mark.parametrize("layer", [spec.id for spec in LAYERS])
def test_every_collection_has_a_vector_tileset_serving_the_tiles_of_slash_tiles(demo_client, layer):
    collection = demo_client.get(f"/ogc/collections/{layer}").json()
    tilesets_href = next(link["href"] for link in collection["links"]
                         if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
    tilesets = demo_client.get(tilesets_href).json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector" and tilesets[0]["tileMatrixSetURI"] == ogc.WEB_MERCATOR_QUAD_URI
    tileset = demo_client.get(next(link["href"] for link in tilesets[0]["links"] if link["rel"] == "self")).json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert tileset["layers"][0]["id"] == layer
    x, y = _tile_of(121.38, 37.49, 14)  # the demo city's centre
    url = template.replace("{tileMatrix}", "14").replace("{tileRow}", str(y)).replace("{tileCol}", str(x))
    response = demo_client.get(url)
    plain = demo_client.get(f"/tiles/{layer}/14/{x}/{y}.pbf")
    assert response.status_code == plain.status_code
    if response.status_code == 200:
        assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert list(mapbox_vector_tile.decode(response.content)) == [layer]
    # The same features; times as ISO text in the OGC tile, whole seconds in /tiles (the same instants).
    times = time_columns(get_layer(layer))
    assert _with_seconds(response.content, times) == _with_seconds(plain.content, times)
    if not times or tile_mode(get_layer(layer), 14) != "features":
        assert response.content == plain.content


def _with_seconds(tile: bytes, times: set[str]) -> list:
    """A tile's features, ISO times turned into whole seconds since 1970."""
    from datetime import datetime

    features = next(iter(mapbox_vector_tile.decode(tile).values()), {"features": []})["features"] if tile else []
    out = []
    for f in features:
        props = {k: math.floor(datetime.fromisoformat(v).timestamp()) if k in times and isinstance(v, str) else v
                 for k, v in f["properties"].items()}
        out.append((f.get("id"), json.dumps(f["geometry"], sort_keys=True), sorted(props.items())))
    return sorted(out, key=repr)


def test_tile_errors(demo_client):
    base = "/ogc/collections/toilets/tiles/WebMercatorQuad"
    assert demo_client.get(f"{base}/0/0/0").status_code == 200
    assert demo_client.get(f"{base}/3/0/0").status_code == 204  # empty: over the Atlantic's far north-west
    for path, parameter in ((f"{base}/99/0/0", "tileMatrix"), (f"{base}/2/4/0", "tileRow"),
                            (f"{base}/2/0/4", "tileCol"), (f"{base}/a/0/0", "tileMatrix")):
        response = demo_client.get(path)
        assert response.status_code == 400, path
        assert response.json()["description"].startswith(parameter + ":")
    assert demo_client.get("/ogc/collections/nope/tiles/WebMercatorQuad/0/0/0").status_code == 404
    assert demo_client.get("/ogc/collections/toilets/tiles/NZTM2000/0/0/0").status_code == 404


def test_conformance_claims_tiles(demo_client):
    conforms = demo_client.get("/ogc/conformance").json()["conformsTo"]
    assert all(c in conforms for c in ogc.CONF_TILES)
