"""A point just off Yantai's coast, outside every outline but within the import's tolerance (500 m), on the real
Gaode outlines of its 11 districts, with streets drawn in one district only (as a city drawing its streets district
by district has them): it belongs to the district whose coast it is off, not to a street or community kilometres
away (a 12345 call on a pier was routed to 新华社区 8.6 km inland, and counted in 向阳街道's case list and bulletin).

Each level takes the nearest area within the tolerance; a level with none within reach is left empty, and the
warning names the area the point is placed in, its level, the metres to it, and the levels left empty.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest

from tests.real_city import yantai  # noqa: F401  (a fixture)

#: 35 m off 芝罘区's northern coast (WGS84): outside every district, the nearest street drawn below 8.6 km away.
COAST = (121.348570, 37.619588)
#: 2 km farther out to sea: beyond the tolerance of every area.
AT_SEA = (121.348570, 37.639588)
#: 向阳街道 and its 新华社区, drawn inland in 芝罘区 (WGS84 boxes).
STREET = ("370602001", "向阳街道", (121.375, 37.525, 121.405, 37.545))
COMMUNITY = ("370602001001", "新华社区", (121.380, 37.530, 121.390, 37.540))
#: A coastal street drawn later: 芝罘区 within about 1 km of the coast point.
COASTAL_STREET = ("370602009", "海滨街道")
_USERS = itertools.count(1)  # a new campaign-office user per API call
HEADER = "工单编号,来电时间,诉求内容,事件类型,经度,纬度,办理状态\n"


def _box(code: str, name: str, parent: str, box: tuple) -> dict:
    x0, y0, x1, y1 = box
    ring = [[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]
    return {"type": "Feature", "properties": {"code": code, "name": name, "parent": parent},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _areas(city, file: str, level: str, features: list) -> None:
    (city.work / file).write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                                  encoding="utf-8")
    city.cli("import", "admin_areas", file, "--level", level, "--code-field", "code", "--name-field", "name",
             "--parent-field", "parent")


def _complaint(city, file: str, case: str, point: tuple, *more, check: bool = True):
    (city.work / file).write_text(HEADER + f"{case},2026年12月2日 10:00,海边垃圾,暴露垃圾,{point[0]},{point[1]},办理中\n",
                                  encoding="utf-8")
    return city.cli("import", "complaints", file, "--channel", "12345", *more, check=check)


def _codes(city, table: str, source_id: str) -> tuple:
    return tuple(city.sql(f"SELECT district_code, street_code, community_code FROM {table} WHERE source_id = %s",
                          (source_id,))[0])


def _metres(city, code: str, point: tuple) -> float:
    return city.one("SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) "
                    "FROM admin_areas WHERE code = %s", (*point, code))


@pytest.fixture(scope="module")
def drawn(yantai):  # noqa: F811
    """A complaint off the coast while only the districts are drawn; then 向阳街道 and 新华社区 drawn inland; then a
    second complaint and a toilet at the same point, and one 2 km out at sea. The commands' output by name."""
    city, said = yantai, {}
    said["early"] = _complaint(city, "early.csv", "C-EARLY", COAST)
    _areas(city, "streets.geojson", "street", [_box(*STREET[:2], "370602", STREET[2])])
    _areas(city, "communities.geojson", "community", [_box(*COMMUNITY[:2], STREET[0], COMMUNITY[2])])
    said["zh"] = _complaint(city, "coast.csv", "C-COAST", COAST)
    said["en"] = city.cli("import", "complaints", "coast.csv", "--channel", "12345", "--dry-run", "--lang", "en")
    (city.work / "toilets.csv").write_text(f"编号,名称,经度,纬度\nT-COAST,环山路海边公厕,{COAST[0]},{COAST[1]}\n",
                                           encoding="utf-8")
    said["toilet"] = city.cli("import", "toilets", "toilets.csv")
    said["sea"] = _complaint(city, "sea.csv", "C-SEA", AT_SEA, check=False)
    return said


def test_a_complaint_and_a_toilet_off_the_coast_stay_in_their_district_only(drawn, yantai):  # noqa: F811
    """Imported while a street and a community are drawn 8.6 km inland: the complaint and the toilet are placed in
    芝罘区, their street and community empty (the campaign office's, not 向阳街道's case list or bulletin row); the
    complaint imported before the streets were drawn is not moved into them when they are. The point 2 km out at sea
    is refused as before."""
    # The case as the walkthrough met it, on the real outlines: outside every area, tens of metres from 芝罘区,
    # kilometres from the drawn street and community (which lie inside it); the point at sea beyond 500 m of all.
    held = "SELECT count(*) FROM admin_areas WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
    assert yantai.one(held, COAST) == 0 and yantai.one(held, AT_SEA) == 0
    assert 10 < _metres(yantai, "370602", COAST) < 100
    assert _metres(yantai, COMMUNITY[0], COAST) > 8000 and _metres(yantai, STREET[0], COAST) > 8000
    assert yantai.one("SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)) "
                      "FROM admin_areas", AT_SEA) > 500
    inland = "SELECT ST_Within(geom, (SELECT geom FROM admin_areas WHERE code = %s)) FROM admin_areas WHERE code = %s"
    assert yantai.one(inland, ("370602", STREET[0])) and yantai.one(inland, (STREET[0], COMMUNITY[0]))
    for table, case in (("complaints", "C-COAST"), ("toilets", "T-COAST"), ("complaints", "C-EARLY")):
        assert _codes(yantai, table, case) == ("370602", None, None), (table, case)
    assert yantai.one("SELECT count(*) FROM complaints WHERE street_code = %s", (STREET[0],)) == 0
    sea = drawn["sea"]
    assert sea.returncode != 0 and "在本市行政区以外" in sea.stdout + sea.stderr, sea.stdout + sea.stderr
    assert yantai.one("SELECT count(*) FROM complaints WHERE source_id = 'C-SEA'") == 0


def test_the_warning_names_the_district_it_is_placed_in_and_the_levels_left_empty(drawn):
    """The warning (zh, and en with --lang en) names 芝罘区 and its level, the tens of metres to it, and says that no
    street or community lies within the tolerance; it does not name the community kilometres away."""
    for key in ("zh", "toilet"):
        out = drawn[key].stdout
        found = re.findall(r"在所有区域之外（容差 500 米内）：归入区/县「芝罘区」（相距 (\d+) 米）；"
                           r"500 米内没有街道/乡镇、社区/村，这些级别留空", out)
        assert len(found) == 1 and 10 < int(found[0]) < 100, out
        assert COMMUNITY[1] not in out and STREET[1] not in out, out
    out = drawn["en"].stdout
    found = re.findall(r"lies outside every area \(within the tolerance of 500 m\): placed in the district 芝罘区, "
                       r"(\d+) m away; no street or community lies within 500 m, so those levels are left empty", out)
    assert len(found) == 1 and 10 < int(found[0]) < 100, out
    assert COMMUNITY[1] not in out and STREET[1] not in out, out


def _filed(city, env_for, lon: float, lat: float):
    """A complaint posted by the campaign office through the API (the app in this process), and the public
    report page's first question about the same point (its nearby cases)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    token = city.cli("users", "add", f"office-{next(_USERS)}", "--role", "admin").stdout.strip().splitlines()[-1]
    env_for(city.url)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        filed = client.post("/api/complaints", headers={"Authorization": f"Bearer {token}"}, json={
            "lon": lon, "lat": lat, "category": "暴露垃圾", "source": "巡查", "description": "码头垃圾"})
        nearby = client.get("/api/public/nearby", params={"lon": lon, "lat": lat, "category": "暴露垃圾"})
    return filed, nearby


def test_a_complaint_posted_off_the_coast_is_placed_as_the_import_places_it(drawn, yantai, env_for):  # noqa: F811
    """The same point through the API (a pier tapped on the map): taken, in 芝罘区 only, as the import takes it;
    the public report page asks about it without refusing it. 2 km out at sea: refused naming lon/lat, as before."""
    filed, nearby = _filed(yantai, env_for, *COAST)
    assert filed.status_code == 201, filed.text
    got = filed.json()
    assert (got["district_code"], got["street_code"], got["community_code"]) == ("370602", None, None), got
    assert nearby.status_code == 200, nearby.text
    filed, nearby = _filed(yantai, env_for, *AT_SEA)
    assert filed.status_code == 422 and filed.json()["detail"].startswith("lon/lat: "), filed.text
    assert "outside every area" in filed.text and "500 m" in filed.text, filed.text
    assert nearby.status_code == 422, nearby.text


def test_a_street_drawn_within_the_tolerance_takes_the_point(drawn, yantai, env_for):  # noqa: F811
    """A coastal street drawn within the tolerance of the point: the complaints already there are placed in it
    (their district kept), a new one off the same coast too, its community left empty (新华社区 is 8.6 km away)."""
    shape = yantai.one("SELECT ST_AsGeoJSON(ST_Intersection(geom, ST_Expand(ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
                       "0.01)), 7) FROM admin_areas WHERE code = '370602'", COAST)
    feature = {"type": "Feature", "geometry": json.loads(shape),
               "properties": {"code": COASTAL_STREET[0], "name": COASTAL_STREET[1], "parent": "370602"}}
    _areas(yantai, "coastal_street.geojson", "street", [feature])
    assert 10 < _metres(yantai, COASTAL_STREET[0], COAST) < 100
    for case in ("C-EARLY", "C-COAST"):
        assert _codes(yantai, "complaints", case) == ("370602", COASTAL_STREET[0], None), case
    out = _complaint(yantai, "near.csv", "C-NEAR", COAST).stdout
    assert _codes(yantai, "complaints", "C-NEAR") == ("370602", COASTAL_STREET[0], None)
    found = re.findall(r"归入街道/乡镇「海滨街道」（相距 (\d+) 米）；500 米内没有社区/村，这些级别留空", out)
    assert len(found) == 1 and 10 < int(found[0]) < 100, out
    filed, _ = _filed(yantai, env_for, *COAST)
    assert filed.status_code == 201, filed.text
    assert (filed.json()["street_code"], filed.json()["community_code"]) == (COASTAL_STREET[0], None), filed.text
