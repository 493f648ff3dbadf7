"""Complaints filed by hand in a city of districts only, on the real files: Hong Kong's 18 district council areas
(tests/test_hongkong.py's city, `city init` then the districts) and Yantai's 11 Gaode outlines read as GCJ-02
(tests/real_city.py's). `POST /api/complaints` routes a point as `hygiene-map import complaints` routes the same
point — to the finest level the city has, here its district — and a point far outside every area is a 422 naming
lon/lat.
"""

from __future__ import annotations

import csv

import pytest
from fastapi.testclient import TestClient

from tests.real_city import yantai  # noqa: F401  (the city, built here from nothing)
from tests.test_hongkong import hongkong  # noqa: F401

SHAM_SHUI_PO = (114.1630, 22.3305)  # 深水埗, in 深水埗區 (WGS84)
ZHIFU_GCJ02 = (121.4005, 37.5435)  # 芝罘区, as read off a Gaode map (GCJ-02)
AT_SEA = (114.40, 22.10)  # south-east of every Hong Kong district


def _client(city, env_for):
    """The app over ``city`` in this process, and an admin's token from `users add`."""
    from api.app import create_app

    token = city.cli("users", "add", f"admin-{city.work.name}", "--role", "admin").stdout.strip().splitlines()[-1]
    env_for(city.url)
    return TestClient(create_app(), raise_server_exceptions=False), {"Authorization": f"Bearer {token}"}


def _filed(client, headers, lon, lat, crs="wgs84"):
    return client.post("/api/complaints", headers=headers, json={
        "lon": lon, "lat": lat, "crs": crs, "category": "暴露垃圾", "source": "巡查", "description": "街口垃圾"})


def _imported(city, lon, lat, crs="wgs84") -> tuple:
    """The area codes `hygiene-map import complaints` gives the same point (a one-row hotline export)."""
    with (city.work / "one.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间"])
        writer.writerow(["ONE-1", f"{lon:.6f}", f"{lat:.6f}", "暴露垃圾", "街口垃圾", "12345", "2026-11-20T10:00"])
    city.cli("import", "complaints", "one.csv", "--crs", crs)
    return city.sql("SELECT district_code, street_code, community_code, grid_code FROM complaints "
                    "WHERE source_id = 'ONE-1'")[0]


def _district_holding(city, lon, lat) -> str:
    return city.one("SELECT code FROM admin_areas WHERE level = 'district' AND "
                    "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (lon, lat))


def test_hong_kong_districts_take_a_complaint_filed_by_hand(hongkong, env_for):
    """Sham Shui Po: 201, routed to 深水埗區 (F) as the import routes it; at sea: 422 naming lon/lat, nothing
    written."""
    client, headers = _client(hongkong, env_for)
    with client:
        filed = _filed(client, headers, *SHAM_SHUI_PO)
        assert filed.status_code == 201, filed.text
        got = filed.json()
        routed = (got["district_code"], got["street_code"], got["community_code"], got["grid_code"])
        assert routed == ("F", None, None, None) == _imported(hongkong, *SHAM_SHUI_PO)
        assert _district_holding(hongkong, *SHAM_SHUI_PO) == "F"
        before = hongkong.one("SELECT count(*) FROM complaints")
        at_sea = _filed(client, headers, *AT_SEA)
        assert at_sea.status_code == 422, at_sea.text
        assert at_sea.json()["detail"].startswith("lon/lat: ") and "outside every area" in at_sea.text, at_sea.text
        assert hongkong.one("SELECT count(*) FROM complaints") == before


def test_yantai_districts_take_a_complaint_tapped_on_a_gaode_map(yantai, env_for):
    """A point in 芝罘区 given in GCJ-02: routed to the district holding its WGS84 place, as the import of the same
    point with --crs gcj02 routes it."""
    client, headers = _client(yantai, env_for)
    with client:
        filed = _filed(client, headers, *ZHIFU_GCJ02, crs="gcj02")
    assert filed.status_code == 201, filed.text
    got = filed.json()
    lon, lat = yantai.sql("SELECT ST_X(geom), ST_Y(geom) FROM complaints WHERE id = %s", (got["id"],))[0]
    assert _district_holding(yantai, lon, lat) == got["district_code"] == "370602"  # 芝罘区
    assert (got["district_code"], got["street_code"], got["community_code"], got["grid_code"]) == \
        _imported(yantai, *ZHIFU_GCJ02, crs="gcj02")


@pytest.fixture(autouse=True)
def _default_zone():
    """The app read a city's zone into this process: leave it in the default one."""
    from data.vocab import set_city_tz

    yield
    set_city_tz(None)
