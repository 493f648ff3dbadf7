"""The field page (/field) over HTTP: who gets it, what it carries, its service worker, the place types near a
point, and a finding and its photo sent twice stored once (issue 15)."""

from __future__ import annotations

import json
import re
import uuid

from tests.inspecting import (  # noqa: F401 (fixtures)
    OWN_STREET,
    auth,
    city_fixture,
    client_fixture,
    new_round,
    photo_bytes,
    post_finding,
    query,
    upload,
)


def _config(page: str) -> dict:
    found = re.search(r'<script id="fd-config" type="application/json">(.*?)</script>', page, re.S)
    assert found, page[:300]
    return json.loads(found.group(1))


def test_the_page_needs_a_login_even_when_reads_are_open(client, city):
    r = client.get("/field?grid=" + city["grid"]["own"], follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next=%2Ffield%3Fgrid%3D{city['grid']['own']}"


def test_the_page_in_chinese_then_english_with_the_checklist_and_open_rounds(client, city):
    made = new_round(client, city)
    r = client.get("/field", headers=auth(city, "inspector2"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "blob:" in csp and "unsafe-inline" not in csp
    assert 'lang="zh-CN"' in r.text and "现场检查" in r.text and 'capture="environment"' in r.text
    config = _config(r.text)
    assert config["user"]["name"] == "inspector2" and config["grid"] is None
    assert made["id"] in [x["id"] for x in config["rounds"]]
    assert {i["code"] for i in config["items"]} >= {"TLT-01", "GBG-01", "LAN-01"} and config["near_m"] == 30
    assert "公厕" in config["place_types"] and config["time_zone"]
    english = client.get("/field?lang=en", headers=auth(city, "inspector2"))
    assert 'lang="en"' in english.text and "Field inspection" in english.text
    assert _config(english.text)["items"][0]["text"] == _config(english.text)["items"][0]["text_en"]
    assert "src=\"http" not in r.text and "href=\"http" not in r.text  # nothing from another host


def test_a_grid_code_opens_on_that_grid(client, city):
    code = city["grid"]["own2"]
    grid = _config(client.get(f"/field?grid={code}", headers=auth(city, "inspector2")).text)["grid"]
    assert grid["code"] == code and grid["street_code"] == OWN_STREET
    lon, lat = grid["point"]
    inside = query(city["url"], "SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) FROM grids "
                                "WHERE code = %s", (lon, lat, code))[0][0]
    assert inside and grid["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert client.get("/field?grid=379999999999", headers=auth(city, "inspector2")).status_code == 404
    bad = client.get("/field?grid=３７９", headers=auth(city, "inspector2"))
    assert bad.status_code == 422 and "grid" in bad.text  # the project's status for a bad parameter


def test_the_service_worker_keeps_the_page_files_under_a_versioned_cache(client, city):
    r = client.get("/field-sw.js", headers=auth(city, "inspector2"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in r.text and "__FILES__" not in r.text
    version = re.search(r"var CACHE = 'hm-field-([0-9a-f]{12})'", r.text)
    files = json.loads(re.search(r"var FILES = (\[.*?\]);", r.text).group(1))
    assert version and "/static/app/field.js" in files
    for path in files:  # every file the worker keeps exists (a missing one would fail its install)
        assert client.get(path).status_code == 200, path


def _toilet(city) -> tuple[float, float, str]:
    return query(city["url"], "SELECT ST_X(geom), ST_Y(geom), name FROM toilets t WHERE NOT EXISTS ("
                              "SELECT 1 FROM garbage_stations g WHERE ST_DWithin(g.geom::geography, t.geom::geography, "
                              "80)) ORDER BY id LIMIT 1")[0]


def test_place_types_near_a_point_put_the_toilet_first(client, city):
    lon, lat, name = _toilet(city)
    at = client.get(f"/api/inspections/places?lon={lon}&lat={lat}").json()
    assert at["radius_m"] == 30 and at["items"][0]["place_type"] == "公厕"
    assert at["items"][0]["distance_m"] == 0 and at["items"][0]["name"] == name
    near = client.get(f"/api/inspections/places?lon={lon}&lat={lat + 20 / 111_320}").json()["items"]  # 20 m north
    assert "公厕" in [i["place_type"] for i in near]
    far = client.get(f"/api/inspections/places?lon={lon}&lat={lat + 45 / 111_320}").json()["items"]  # 45 m north
    nearest = query(city["url"], "SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
                                 "::geography)) FROM toilets", (lon, lat + 45 / 111_320))[0][0]
    assert ("公厕" in [i["place_type"] for i in far]) == (nearest <= 30)
    distances = [i["distance_m"] for i in near]
    assert distances == sorted(distances) and all(d <= 30 for d in distances)
    assert client.get("/api/inspections/places?lon=500&lat=37").status_code == 422


def test_a_finding_and_its_photo_sent_twice_are_stored_once(client, city):
    """What the page's queue does when an answer is lost: the same client_id, the same photo bytes again."""
    made = new_round(client, city)
    client_id = str(uuid.uuid4())
    first = post_finding(client, city, made["id"], user="inspector2", client_id=client_id)
    again = post_finding(client, city, made["id"], user="inspector2", client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    data = photo_bytes()
    one = upload(client, city, first.json()["id"], "before", "inspector2", data)
    two = upload(client, city, first.json()["id"], "before", "inspector2", data)
    assert (one.status_code, two.status_code) == (201, 200) and one.json()["id"] == two.json()["id"]
    rows = query(city["url"], "SELECT count(*), (SELECT count(*) FROM inspection_photos p WHERE p.finding_id = "
                              "max(f.id)) FROM inspection_findings f WHERE client_id = %s", (client_id,))
    assert rows == [(1, 1)]
