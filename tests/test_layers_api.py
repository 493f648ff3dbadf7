"""The layer endpoints over the small demo: list, GeoJSON features, vector tiles, errors."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest

from data.settings import FeatureSettings
from layers.spec.registry import LAYERS, get_layer
from layers.store.features import feature_query, get_features
from layers.store.tiles import get_tile, parse_tile


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def city_box(demo_db):
    from data.db import connect

    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM admin_areas) s")
        box = cur.fetchone()
        cur.execute("SELECT code FROM admin_areas WHERE level = 'street' ORDER BY code LIMIT 1")
        street = cur.fetchone()[0]
    conn.close()
    return box, street


def test_layer_list_has_every_layer_with_count_extent_and_legend(demo_client):
    body = demo_client.get("/api/layers").json()
    assert [layer["id"] for layer in body] == [spec.id for spec in LAYERS]
    by_id = {layer["id"]: layer for layer in body}
    assert by_id["toilets"]["name_zh"] == "公共厕所" and by_id["toilets"]["geometry_type"] == "Point"
    assert by_id["complaints"]["count"] > 1000
    for layer in body:
        assert layer["count"] > 0, layer["id"]
        minx, miny, maxx, maxy = layer["extent"]
        assert 120 < minx < maxx < 123 and 36 < miny < maxy < 39
        assert layer["legend"] and all(entry["color"].startswith("#") for entry in layer["legend"])
    assert {e["label"] for e in by_id["toilets"]["legend"]} == {"一类公厕", "二类公厕", "三类公厕"}
    english = {layer["id"]: layer for layer in demo_client.get("/api/layers", params={"lang": "en"}).json()}
    assert {e["label"] for e in english["toilets"]["legend"]} == {"Grade I", "Grade II", "Grade III"}


def test_features_are_geojson_with_popup_properties(demo_client, demo_conn):
    response = demo_client.get("/api/layers/toilets/features", params={"limit": 5})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 5 and body["nextOffset"] == 5
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert set(feature["properties"]) == set(get_layer("toilets").columns)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT name, grade, ST_X(geom), ST_Y(geom) FROM toilets WHERE id = %s", (feature["id"],))
        name, grade, lon, lat = cur.fetchone()
    assert feature["properties"]["name"] == name and feature["properties"]["grade"] == grade
    assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)


def test_paging_walks_every_row_once(demo_client, demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM markets")
        total = cur.fetchone()[0]
    seen, offset = [], 0
    while True:
        body = demo_client.get("/api/layers/markets/features", params={"limit": 3, "offset": offset}).json()
        seen += [f["id"] for f in body["features"]]
        if "nextOffset" not in body:
            break
        offset = body["nextOffset"]
    assert len(seen) == len(set(seen)) == total


def test_bbox_street_and_complaint_filters_select_the_right_rows(demo_client, demo_conn, city_box):
    (minx, miny, maxx, maxy), street = city_box
    half = f"{minx},{miny},{(minx + maxx) / 2},{maxy}"
    body = demo_client.get("/api/layers/toilets/features", params={"bbox": half, "limit": 10000}).json()
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM toilets WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                    (minx, miny, (minx + maxx) / 2, maxy))
        assert body["numberReturned"] == cur.fetchone()[0] > 0
    assert all(f["geometry"]["coordinates"][0] <= (minx + maxx) / 2 for f in body["features"])

    params = {"street": street, "since": "2025-01-01", "until": "2025-07-01", "category": "暴露垃圾,垃圾满溢",
              "status": "结案", "limit": 10000}
    body = demo_client.get("/api/layers/complaints/features", params=params).json()
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE street_code = %s AND reported_at >= '2025-01-01' "
                    "AND reported_at < '2025-07-01' AND category IN ('暴露垃圾', '垃圾满溢') AND status = '结案'",
                    (street,))
        expected = cur.fetchone()[0]
    assert body["numberReturned"] == expected > 0
    for f in body["features"]:
        p = f["properties"]
        assert p["street_code"] == street and p["status"] == "结案" and p["category"] in ("暴露垃圾", "垃圾满溢")
        assert "2025-01-01" <= p["reported_at"][:10] < "2025-07-01"
    # Areas without a street column are filtered spatially; admin areas by code.
    land = demo_client.get("/api/layers/land_use/features", params={"street": street, "limit": 10000}).json()
    everything = demo_client.get("/api/layers/land_use/features", params={"limit": 10000}).json()
    assert 0 < land["numberReturned"] < everything["numberReturned"]
    admin = demo_client.get("/api/layers/admin_areas/features", params={"street": street}).json()
    codes = {f["properties"]["code"] for f in admin["features"]}
    assert street in codes and all(c.startswith(street) for c in codes)


@pytest.mark.parametrize(
    "path,params,status,needle",
    [
        ("/api/layers/nope/features", {}, 404, "unknown layer 'nope'"),
        ("/tiles/nope/1/0/0.pbf", {}, 404, "unknown layer"),
        ("/api/layers/toilets/features", {"bbox": "1,2,3"}, 422, "bbox"),
        ("/api/layers/toilets/features", {"bbox": "a,b,c,d"}, 422, "bbox"),
        ("/api/layers/toilets/features", {"bbox": "121,38,120,37"}, 422, "min must not exceed max"),
        ("/api/layers/toilets/features", {"bbox": "200,0,201,1"}, 422, "outside WGS84"),
        ("/api/layers/toilets/features", {"limit": 0}, 422, "limit"),
        ("/api/layers/toilets/features", {"limit": 10_001}, 422, "between 1 and 10000"),
        ("/api/layers/toilets/features", {"limit": "many"}, 422, "limit"),
        ("/api/layers/toilets/features", {"offset": -1}, 422, "offset"),
        ("/api/layers/toilets/features", {"offset": 10**20}, 422, "offset"),
        ("/api/layers/complaints/features", {"category": "垃圾,foo"}, 422, "unknown value '垃圾'"),
        ("/tiles/complaints/12/0/0.pbf", {"category": "foo"}, 422, "category: unknown value 'foo'"),
        ("/api/layers/complaints/heat", {"bbox": "1,2,3,4", "zoom": 40}, 422, "zoom"),
        ("/api/layers/complaints/heat", {"zoom": 10}, 422, "bbox"),
        ("/api/layers/complaints/heat", {"bbox": "-180,-85,180,85", "zoom": 16}, 422, "HYGIENE_MAP_HEAT_MAX_PX"),
        ("/api/layers/toilets/features", {"bbox": "nan,1,2,3"}, 422, "finite"),
        ("/api/layers/toilets/features", {"street": "1 2"}, 422, "an area code is 1–32 ASCII letters"),
        ("/api/layers/toilets/features", {"street": "12"}, 404, "street '12' does not exist"),
        ("/api/layers/toilets/features", {"street": "379999999"}, 404, "street '379999999' does not exist"),
        ("/api/layers/toilets/features", {"since": "2025-01-01"}, 422, "no time"),
        ("/api/layers/toilets/features", {"category": "x"}, 422, "cannot be filtered"),
        ("/api/layers/complaints/features", {"since": "yesterday"}, 422, "ISO 8601"),
        ("/api/layers/complaints/features", {"status": "done"}, 422, "unknown value 'done'"),
        ("/api/layers/complaints/features", {"since": "2025-02-01", "until": "2025-01-01"}, 422, "after until"),
        ("/tiles/toilets/23/0/0.pbf", {}, 422, "zoom must be between 0 and 22"),
        ("/tiles/toilets/-1/0/0.pbf", {}, 422, "zoom"),
        ("/tiles/toilets/2/4/0.pbf", {}, 422, "x must be between 0 and 3"),
        ("/tiles/toilets/2/0/9.pbf", {}, 422, "y must be between 0 and 3"),
    ],
)
def test_bad_requests_are_clear_404_or_422(demo_client, path, params, status, needle):
    response = demo_client.get(path, params=params)
    assert response.status_code == status, response.text
    assert needle in response.json()["detail"]


@pytest.mark.parametrize(
    "path,params,detail,detail_zh",
    [
        ("/tiles/toilets/2/4/0.pbf", {}, "x: at zoom 2 x must be between 0 and 3, not 4",
         "x：缩放级别 2 下 x 须在 0 到 3 之间，而不是 4"),
        ("/api/layers/toilets/features", {"since": "2025-01-01"}, "since: layer 'toilets' has no time to filter on",
         "since：图层 'toilets' 没有时间字段，不能按时间筛选"),
        ("/api/layers/toilets/features", {"category": "x"}, "category: layer 'toilets' cannot be filtered by category",
         "category：图层 'toilets' 不能按 category 筛选"),
        ("/api/layers/complaints/heat", {"bbox": "1,2,3,4", "zoom": 40}, "zoom: must be between 0 and 22, not 40",
         "zoom：须在 0 到 22 之间，而不是 40"),
    ],
)
def test_refusals_of_layers_and_tiles_say_it_in_chinese_beside_the_english(demo_client, path, params, detail,
                                                                            detail_zh):
    """A Chinese page shows ``detail_zh``; the English ``detail`` stays as scripts and clients read it."""
    body = demo_client.get(path, params=params).json()
    assert (body["detail"], body.get("detail_zh")) == (detail, detail_zh), body


def test_tiles_carry_features_cache_headers_and_204_when_empty(demo_client, city_box):
    (minx, miny, maxx, maxy), _ = city_box
    x, y = tile_of((minx + maxx) / 2, (miny + maxy) / 2, 14)
    response = demo_client.get(f"/tiles/toilets/14/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age=" in response.headers["cache-control"]
    decoded = mapbox_vector_tile.decode(response.content)
    features = decoded["toilets"]["features"]
    assert features and {"name", "grade"} <= set(features[0]["properties"])
    empty = demo_client.get("/tiles/toilets/14/0/0.pbf")
    assert empty.status_code == 204 and empty.content == b""


def test_complaint_tiles_aggregate_at_low_zoom_and_count_every_complaint(demo_conn, city_box):
    """Heat cells and hexagons add up to the complaints in the tile; points appear at high zoom."""
    (minx, miny, maxx, maxy), _ = city_box
    spec = get_layer("complaints")
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints")
        total = cur.fetchone()[0]
    # At zoom 8 the whole small city is in one or two tiles: the heat counts add up to every complaint.
    tiles = {tile_of(lon, lat, 8) for lon in (minx, maxx) for lat in (miny, maxy)}
    counted = 0
    for x, y in tiles:
        data = get_tile(demo_conn, spec, parse_tile(8, x, y), feature_query(spec))
        layer = mapbox_vector_tile.decode(data)["complaints"]
        assert all(f["geometry"]["type"] == "Point" for f in layer["features"])
        counted += sum(f["properties"]["count"] for f in layer["features"])
    assert counted == total
    # Hexagons: polygons with counts; the filtered tile counts only the filtered complaints.
    x, y = tile_of((minx + maxx) / 2, (miny + maxy) / 2, 14)
    whole = mapbox_vector_tile.decode(get_tile(demo_conn, spec, parse_tile(14, x, y)))["complaints"]["features"]
    closed_q = feature_query(spec, filters={"status": ("结案",)})
    closed = mapbox_vector_tile.decode(get_tile(demo_conn, spec, parse_tile(14, x, y), closed_q))
    closed = closed["complaints"]["features"]
    assert whole[0]["geometry"]["type"] == "Polygon"
    assert 0 < sum(f["properties"]["count"] for f in closed) < sum(f["properties"]["count"] for f in whole)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM complaints ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
    x, y = tile_of(lon, lat, 16)
    points = mapbox_vector_tile.decode(get_tile(demo_conn, spec, parse_tile(16, x, y)))["complaints"]["features"]
    assert points and {"category", "status", "reported_at"} <= set(points[0]["properties"])


def test_tiles_stay_under_the_byte_cap(demo_conn, city_box, monkeypatch):
    """A tile that would be larger than the cap is cut down until it fits."""
    (minx, miny, maxx, maxy), _ = city_box
    spec = get_layer("roads")
    x, y = tile_of((minx + maxx) / 2, (miny + maxy) / 2, 12)
    full = get_tile(demo_conn, spec, parse_tile(12, x, y))
    monkeypatch.setenv("HYGIENE_MAP_TILE_MAX_BYTES", str(len(full) // 3))
    capped = get_tile(demo_conn, spec, parse_tile(12, x, y))
    assert 0 < len(capped) <= len(full) // 3


def test_features_function_is_reusable_without_the_web_app(demo_conn):
    spec = get_layer("markets")
    body = get_features(demo_conn, spec, feature_query(spec, limit=2, settings=FeatureSettings(2, 5)))
    assert body.startswith(b'{"type":"FeatureCollection","features":[')
    import orjson

    assert orjson.loads(body)["numberReturned"] == 2


def test_heat_cells_count_every_complaint_in_the_view(demo_client, demo_conn, city_box):
    (minx, miny, maxx, maxy), street = city_box
    bbox = f"{minx},{miny},{maxx},{maxy}"
    body = demo_client.get("/api/layers/complaints/heat", params={"bbox": bbox, "zoom": 12}).json()
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints WHERE street_code = %s AND status = '受理'", (street,))
        filtered = cur.fetchone()[0]
    assert sum(c[2] for c in body["cells"]) == total and body["max"] == max(c[2] for c in body["cells"])
    for lat, lon, _ in body["cells"]:
        assert miny - 0.01 <= lat <= maxy + 0.01 and minx - 0.01 <= lon <= maxx + 0.01
    one = demo_client.get("/api/layers/complaints/heat",
                          params={"bbox": bbox, "zoom": 12, "street": street, "status": "受理"}).json()
    assert sum(c[2] for c in one["cells"]) == filtered > 0


def test_heat_bbox_limit_is_a_setting(demo_client, city_box, monkeypatch):
    (minx, miny, maxx, maxy), _ = city_box
    bbox = f"{minx},{miny},{maxx},{maxy}"
    assert demo_client.get("/api/layers/complaints/heat", params={"bbox": bbox, "zoom": 12}).status_code == 200
    monkeypatch.setenv("HYGIENE_MAP_HEAT_MAX_PX", "64")  # read on demand: no restart
    resp = demo_client.get("/api/layers/complaints/heat", params={"bbox": bbox, "zoom": 12})
    assert resp.status_code == 422 and "at most 64 pixels" in resp.json()["detail"]
    # The same view zoomed out far enough fits again.
    assert demo_client.get("/api/layers/complaints/heat", params={"bbox": bbox, "zoom": 7}).status_code == 200
