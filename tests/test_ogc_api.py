"""OGC API – Features under /ogc over the small demo: paging, filters, CRS, errors, HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from layers.spec.registry import LAYERS
from layers.store import ogc


def _walk(client, url: str, params: dict) -> tuple[list, int]:
    """Every feature id reached by following ``next`` links from the first page, and the page count."""
    ids, pages = [], 0
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        ids += [f["id"] for f in body["features"]]
        assert body["numberReturned"] == len(body["features"])
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return ids, pages
        response = client.get(following[0])


@pytest.mark.parametrize("layer, limit", [("complaints", 700), ("toilets", 7), ("grids", 50)])
def test_next_links_reach_every_feature_exactly_once(demo_client, demo_conn, layer, limit):
    with demo_conn.cursor() as cur:
        cur.execute(f"SELECT id FROM {layer}")
        expected = sorted(r[0] for r in cur.fetchall())
    ids, pages = _walk(demo_client, f"/ogc/collections/{layer}/items", {"limit": limit})
    assert len(ids) == len(set(ids)) and sorted(ids) == expected
    assert pages >= len(expected) // limit


def test_prev_links_go_back_one_page(demo_client):
    first = demo_client.get("/ogc/collections/markets/items", params={"limit": 4}).json()
    assert not [link for link in first["links"] if link["rel"] == "prev"]
    second = demo_client.get(next(link["href"] for link in first["links"] if link["rel"] == "next")).json()
    back = demo_client.get(next(link["href"] for link in second["links"] if link["rel"] == "prev")).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]
    assert {f["id"] for f in second["features"]}.isdisjoint(f["id"] for f in first["features"])


def test_number_matched_only_for_small_layers(demo_client, demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM toilets")
        toilets = cur.fetchone()[0]
    body = demo_client.get("/ogc/collections/toilets/items", params={"limit": 3}).json()
    assert body["numberMatched"] == toilets and body["numberReturned"] == 3
    # complaints can be millions of rows: no COUNT(*) per request, so no numberMatched.
    assert "numberMatched" not in demo_client.get("/ogc/collections/complaints/items", params={"limit": 3}).json()


def test_landing_conformance_and_collections(demo_client):
    landing = demo_client.get("/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conforms = demo_client.get("/ogc/conformance").json()["conformsTo"]
    assert ogc.CONF_FEATURES_CORE in conforms and ogc.CONF_GEOJSON in conforms and ogc.CONF_CRS in conforms
    assert not [c for c in conforms if "oas30" in c]  # FastAPI writes OpenAPI 3.1: not claimed
    body = demo_client.get("/ogc/collections").json()
    assert [c["id"] for c in body["collections"]] == [spec.id for spec in LAYERS]
    for collection in body["collections"]:
        minx, miny, maxx, maxy = collection["extent"]["spatial"]["bbox"][0]
        assert 120 < minx < maxx < 123 and 36 < miny < maxy < 39
        assert collection["crs"][0] == ogc.CRS84 and ogc.EPSG4490 in collection["crs"]
        assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in collection["links"])
    complaints = demo_client.get("/ogc/collections/complaints").json()
    first, last = complaints["extent"]["temporal"]["interval"][0]
    assert first < last
    queryables = demo_client.get("/ogc/collections/complaints/queryables").json()["properties"]
    assert queryables["status"]["enum"][0] == "受理" and queryables["reported_at"]["format"] == "date-time"
    schema_href = next(link["href"] for link in demo_client.get("/ogc/collections/garbage_stations").json()["links"]
                       if link["rel"] == "describedby")
    schema = demo_client.get(schema_href).json()["properties"]
    assert schema["capacity_t_per_day"]["type"] == "number" and schema["sorted"]["type"] == "boolean"
    assert schema["schedule"]["type"] == "string"


def test_single_feature_matches_the_database(demo_client, demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT id, name, ST_X(geom), ST_Y(geom) FROM markets ORDER BY id LIMIT 1")
        fid, name, lon, lat = cur.fetchone()
    response = demo_client.get(f"/ogc/collections/markets/items/{fid}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    feature = response.json()
    assert feature["id"] == fid and feature["properties"]["name"] == name
    assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    assert response.headers["content-crs"] == f"<{ogc.CRS84}>"


def test_crs_epsg4326_and_4490_are_lat_lon(demo_client, demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM toilets ORDER BY id LIMIT 1")
        fid, lon, lat = cur.fetchone()
    for crs in (ogc.EPSG4326, ogc.EPSG4490):
        response = demo_client.get(f"/ogc/collections/toilets/items/{fid}", params={"crs": crs})
        assert response.headers["content-crs"] == f"<{crs}>"
        assert response.json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
        page = demo_client.get("/ogc/collections/toilets/items", params={"crs": crs, "limit": 1})
        assert page.headers["content-crs"] == f"<{crs}>"
        assert page.json()["features"][0]["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
    default = demo_client.get("/ogc/collections/toilets/items", params={"limit": 1})
    assert default.headers["content-crs"] == f"<{ogc.CRS84}>"


def test_bbox_in_crs84_and_in_lat_lon_bbox_crs_select_the_same(demo_client, demo_conn):
    with demo_conn.cursor() as cur:
        # The south-west quarter of the toilets' extent.
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), (ST_XMin(e) + ST_XMax(e)) / 2, (ST_YMin(e) + ST_YMax(e)) / 2"
                    " FROM (SELECT ST_Extent(geom) e FROM toilets) s")
        box = tuple(round(v, 6) for v in cur.fetchone())
        cur.execute("SELECT id FROM toilets WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", box)
        expected = sorted(r[0] for r in cur.fetchall())
        cur.execute("SELECT count(*) FROM toilets")
        assert 0 < len(expected) < cur.fetchone()[0], "the test box should hold some toilets, not all"
    lonlat = demo_client.get("/ogc/collections/toilets/items",
                             params={"bbox": ",".join(map(str, box)), "limit": 1000}).json()
    latlon = demo_client.get("/ogc/collections/toilets/items", params={
        "bbox": f"{box[1]},{box[0]},{box[3]},{box[2]}", "bbox-crs": ogc.EPSG4326, "limit": 1000}).json()
    assert sorted(f["id"] for f in lonlat["features"]) == expected
    assert sorted(f["id"] for f in latlon["features"]) == expected
    assert lonlat["numberMatched"] == len(expected)


def test_datetime_and_property_filters(demo_client, demo_conn):
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT id FROM complaints WHERE reported_at BETWEEN %s AND %s AND status = '结案'", (start, end))
        expected = sorted(r[0] for r in cur.fetchall())
        cur.execute("SELECT id FROM complaints WHERE reported_at >= %s", (start,))
        since = sorted(r[0] for r in cur.fetchall())
        cur.execute("SELECT reported_at FROM complaints ORDER BY id LIMIT 1")
        instant = cur.fetchone()[0]
    assert expected
    ids, _ = _walk(demo_client, "/ogc/collections/complaints/items",
                   {"datetime": "2025-03-01T00:00:00Z/2025-03-31T23:59:59Z", "status": "结案", "limit": 500})
    assert sorted(ids) == expected
    ids, _ = _walk(demo_client, "/ogc/collections/complaints/items", {"datetime": "2025-03-01T00:00:00Z/..",
                                                                       "limit": 2000})
    assert sorted(ids) == since
    one = demo_client.get("/ogc/collections/complaints/items",
                          params={"datetime": instant.isoformat(), "limit": 100}).json()
    assert one["features"] and all(
        datetime.fromisoformat(f["properties"]["reported_at"]) == instant for f in one["features"])
    free = demo_client.get("/ogc/collections/toilets/items", params={"is_free": "false", "limit": 1000}).json()
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM toilets WHERE NOT is_free")
        assert free["numberMatched"] == cur.fetchone()[0]


@pytest.mark.parametrize("path, params, parameter", [
    ("/ogc/collections/toilets/items", {"limit": "0"}, "limit"),
    ("/ogc/collections/toilets/items", {"limit": "ten"}, "limit"),
    ("/ogc/collections/toilets/items", {"offset": "-1"}, "offset"),
    ("/ogc/collections/toilets/items", {"offset": str(10**30)}, "offset"),
    ("/ogc/collections/toilets/items", {"limit": "1", "offset": str(2**31)}, "offset"),
    ("/ogc/collections/toilets/items", {"bbox": "121,37,122"}, "bbox"),
    ("/ogc/collections/toilets/items", {"bbox": "121,37,122,x"}, "bbox"),
    ("/ogc/collections/toilets/items", {"bbox": "121,91,122,92"}, "bbox"),
    ("/ogc/collections/toilets/items", {"bbox": "121,38,122,37"}, "bbox"),
    ("/ogc/collections/toilets/items", {"bbox-crs": "EPSG:3857", "bbox": "1,2,3,4"}, "bbox-crs"),
    ("/ogc/collections/toilets/items", {"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "crs"),
    ("/ogc/collections/complaints/items", {"datetime": "yesterday"}, "datetime"),
    ("/ogc/collections/complaints/items", {"datetime": "2025-03-02/2025-03-01"}, "datetime"),
    ("/ogc/collections/complaints/items", {"datetime": "../.."}, "datetime"),
    ("/ogc/collections/toilets/items", {"datetime": "2025-03-01"}, "datetime"),
    ("/ogc/collections/toilets/items", {"colour": "red"}, "colour"),
    ("/ogc/collections/toilets/items", {"seats": "many"}, "seats"),
    ("/ogc/collections/toilets/items", {"is_free": "maybe"}, "is_free"),
    ("/ogc/collections/toilets/items", {"name": "公厕\x00"}, "name"),
    ("/ogc/collections/toilets/items", {"f": "xml"}, "f"),
    ("/ogc/collections/toilets/items/1", {"crs": "EPSG:900913"}, "crs"),
    ("/ogc/collections/toilets/items/1", {"bbox": "1,2,3,4"}, "bbox"),
])
def test_bad_parameters_are_400_naming_the_parameter(demo_client, path, params, parameter):
    response = demo_client.get(path, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{parameter}: ")
    assert body["detail_zh"].startswith(f"{parameter}：") and body["detail_zh"] != body["description"]
    assert "Traceback" not in response.text


def test_unknown_collection_and_feature_are_404(demo_client):
    for path in ("/ogc/collections/nope", "/ogc/collections/nope/items", "/ogc/collections/toilets/items/999999",
                 "/ogc/collections/toilets/items/abc", "/ogc/collections/nope/items/1"):
        response = demo_client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "NotFound"
    assert "toilets" in demo_client.get("/ogc/collections/nope").json()["description"]


def test_limit_above_the_cap_is_cut_not_refused(demo_client, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_OGC_LIMIT_DEFAULT", "10")
    monkeypatch.setenv("HYGIENE_MAP_OGC_LIMIT_MAX", "25")
    body = demo_client.get("/ogc/collections/garbage_stations/items", params={"limit": 100000}).json()
    assert body["numberReturned"] == 25
    assert "limit=25" in next(link["href"] for link in body["links"] if link["rel"] == "next")


def test_the_rest_of_the_api_keeps_422(demo_client):
    """The 400 mapping is local to /ogc: /api keeps the project-wide 422 for a bad parameter."""
    assert demo_client.get("/api/layers/toilets/features", params={"limit": 0}).status_code == 422
    assert demo_client.get("/ogc/collections/toilets/items", params={"limit": 0}).status_code == 400


def test_html_pages_by_f_and_by_accept(demo_client):
    page = demo_client.get("/ogc/collections", params={"f": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert all(f'data-collection="{spec.id}"' in page.text for spec in LAYERS)
    assert "公共厕所" in page.text
    english = demo_client.get("/ogc/collections", params={"f": "html", "lang": "en"}).text
    assert "Public toilets" in english
    browser = demo_client.get("/ogc/collections/toilets/items", params={"limit": 5},
                              headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert browser.text.count("<tr data-id=") == 5 and 'rel="next"' in browser.text
    assert "http://" not in browser.text.replace("http://testserver", "").replace("http://www.opengis.net", "")
    machine = demo_client.get("/ogc/collections/toilets/items", params={"limit": 5},
                              headers={"Accept": "application/geo+json"})
    assert machine.headers["content-type"].startswith("application/geo+json")
    assert 'rel="collection"' in browser.text and browser.text.count("<summary>Point</summary>") == 5
    one = demo_client.get("/ogc/collections/toilets/items/1", params={"f": "html"})
    feature = demo_client.get("/ogc/collections/toilets/items/1").json()
    assert one.status_code == 200 and feature["properties"]["name"] in one.text
    lon, lat = feature["geometry"]["coordinates"]
    assert f"[{lon},{lat}]" in one.text


def test_bbox_is_exact_not_the_float4_index_box(demo_client, demo_conn):
    """A point 1e-7° east of the box is outside, though the index's float4 boxes would overlap."""
    with demo_conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM toilets ORDER BY id LIMIT 1")
        fid, lon, lat = cur.fetchone()
    outside = f"{lon - 0.01},{lat - 0.01},{lon - 1e-7:.7f},{lat + 0.01}"
    inside = f"{lon - 0.01},{lat - 0.01},{lon + 1e-7:.7f},{lat + 0.01}"
    ids_out = [f["id"] for f in demo_client.get("/ogc/collections/toilets/items",
                                                params={"bbox": outside, "limit": 1000}).json()["features"]]
    ids_in = [f["id"] for f in demo_client.get("/ogc/collections/toilets/items",
                                               params={"bbox": inside, "limit": 1000}).json()["features"]]
    assert fid not in ids_out and fid in ids_in


def test_an_empty_database_serves_empty_collections_not_errors(fresh_db, env_for):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from data.db import connect
    from data.migrate import migrate

    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    env_for(fresh_db)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        collections = client.get("/ogc/collections")
        assert collections.status_code == 200
        assert [c["id"] for c in collections.json()["collections"]] == [spec.id for spec in LAYERS]
        assert all("spatial" not in c.get("extent", {}) for c in collections.json()["collections"])
        for spec in LAYERS:
            page = client.get(f"/ogc/collections/{spec.id}/items")
            assert page.status_code == 200 and page.json()["features"] == []
            assert not [link for link in page.json()["links"] if link["rel"] == "next"]
        assert client.get("/ogc/collections/toilets/items/1").status_code == 404
        assert client.get("/ogc/collections/complaints", params={"f": "html"}).status_code == 200
