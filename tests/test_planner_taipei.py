"""A planner's drafts and plans on Taipei imported from nothing (tests/taipei_planner.py): points outside the city,
unknown population, the plan's workbook, page and GeoJSON."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.conftest import query
from tests.taipei_planner import DATONG, WHATIF, client, plans_count, sheet_rows, taipei  # noqa: F401 (fixtures)


def _north(taipei) -> tuple[float, float]:
    """Taipei's northernmost vertex (lon, lat)."""
    return query(taipei["url"], "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(geom)).geom p FROM admin_areas "
                                "WHERE level = 'district') d ORDER BY ST_Y(p) DESC LIMIT 1")[0]


@pytest.mark.parametrize("lon,lat", [(0, 0), (12.1508, 25.0647), (121.508, -25.0647), (116.4, 39.9)])
def test_a_draft_point_outside_the_city_is_refused_by_name(client, taipei, lon, lat):
    """A point typed at 0, 0 or with a digit slipped covers nothing of Taipei: refused, naming the edit, and no plan
    is written; before, the what-if answered 200 with nothing changed and the plan was saved."""
    edits = [*DATONG, {"op": "add", "lon": lon, "lat": lat}]
    answer = client.post(WHATIF, json={"kind": "toilets", "edits": edits})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("edits[2]: ") and "outside the city" in answer.json()["detail"]
    assert "121.4" in answer.json()["detail"]  # the city's extent, to see what was meant
    before = plans_count(taipei)
    saved = client.post("/api/plans", json={"name": f"outside {lon} {lat}", "kind": "toilets", "edits": edits})
    assert saved.status_code == 422 and saved.json()["detail"].startswith("edits[2]: "), saved.text
    assert plans_count(taipei) == before
    toilet = query(taipei["url"], "SELECT min(id) FROM toilets")[0][0]
    moved = client.post(WHATIF, json={"kind": "toilets", "edits": [{"op": "move", "id": toilet, "lon": lon, "lat": lat}]})
    assert moved.status_code == 422 and moved.json()["detail"].startswith("edits[0]: "), moved.text


def test_a_draft_point_just_outside_the_boundary_still_counts(client, taipei):
    """A toilet 200 m beyond the city line still serves it within 300 m (and a garbage point 200 m out does not
    within 120 m): the limit is the service radius, not the outline."""
    lon, lat = _north(taipei)
    near = {"op": "add", "lon": lon, "lat": lat + 0.0018}  # ~200 m north of Taipei's northernmost point
    answer = client.post(WHATIF, json={"kind": "toilets", "edits": [near]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["after"]["covered_area_pct"] > answer.json()["before"]["covered_area_pct"]
    answer = client.post(WHATIF, json={"kind": "garbage_points", "edits": [near]})
    assert answer.status_code == 422 and "more than 120 m" in answer.json()["detail"], answer.text


def test_a_plan_in_a_city_without_population_counts_no_residents_and_its_workbook_lines_up(client, taipei):
    """Taipei has no population: the residents covered are unknown (null, —), not 0 → 0; the workbook's city
    totals sit under their own columns (before, the plan's covered area was under 现状) and name the kind in
    Chinese (公共厕所, not toilets)."""
    coverage = client.get("/api/analysis/coverage", params={"kind": "toilets"}).json()
    draft = client.post(WHATIF, json={"kind": "toilets", "edits": DATONG}).json()
    assert coverage["summary"]["population"] is None
    for part in ("before", "after"):
        assert draft[part]["population"] is None and draft[part]["covered_residents"] is None, draft[part]
        assert draft[part]["covered_pop_pct"] is None
    assert draft["before"]["covered_area_pct"] == pytest.approx(coverage["summary"]["covered_area_pct"], abs=1e-9)
    assert draft["after"]["covered_area_pct"] > draft["before"]["covered_area_pct"]
    plan = client.post("/api/plans", json={"name": "大同區補兩座公廁", "kind": "toilets", "edits": DATONG})
    assert plan.status_code == 201, plan.text
    pid = plan.json()["id"]
    compared = client.get(f"/api/plans/{pid}/compare").json()
    assert compared["after"] == draft["after"]
    rows = sheet_rows(client.get(f"/api/plans/{pid}/compare", params={"format": "xlsx"}).content)
    assert rows[0][:2] == ("方案：大同區補兩座公廁", "公共厕所 300 m")
    header, city = rows[1], rows[-1]
    assert city[0] == "全市合计" and rows[-2] == (None,) * len(header)
    totals = dict(zip(header, city))
    assert totals["覆盖面积比例（现状，%）"] == draft["before"]["covered_area_pct"]  # every digit, formatted
    assert totals["覆盖面积比例（规划后，%）"] == draft["after"]["covered_area_pct"]
    assert totals["人口"] is None and totals["覆盖人口（现状）"] is None and totals["覆盖人口（规划后）"] is None
    jingxing = next(r for r in rows[2:-2] if r[1] == "景星里")  # a village the first toilet fills
    assert isinstance(jingxing[3], float) and jingxing[4] > jingxing[3]
    en = sheet_rows(client.get(f"/api/plans/{pid}/compare", params={"format": "xlsx", "lang": "en"}).content)
    assert en[0][1] == "public toilets 300 m" and en[-1][0] == "city"
    page = client.get(f"/plans/{pid}")
    assert page.status_code == 200 and "覆盖人口" in page.text


@pytest.mark.parametrize("radius", [True, False])
def test_a_radius_of_true_or_false_is_refused_not_read_as_1_or_0_metres(client, taipei, radius):
    """JSON true was read as radius 1 (a plan saved with a 1 m radius); false as 0 (refused, but as 'not 0')."""
    before = plans_count(taipei)
    for path, body in ((WHATIF, {}), ("/api/plans", {"name": f"radius {radius}"})):
        answer = client.post(path, json={**body, "kind": "toilets", "radius": radius, "edits": DATONG})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith("radius: ") and str(radius).lower() in answer.json()["detail"]
    assert plans_count(taipei) == before
    assert client.post(WHATIF, json={"kind": "toilets", "radius": "300", "edits": DATONG}).status_code == 200


def test_a_plan_says_where_its_facilities_go_on_its_page_and_in_itsworkbook(client, taipei):
    """The printed plan and its workbook listed the areas it changes but not where its toilets go: the edits are
    now listed with the toilet's name (moved, removed) and position, to the sixth decimal, on paper and on a sheet."""
    (a, a_name, ax, ay), (b, b_name, bx, by) = query(
        taipei["url"], "SELECT id, name, ST_X(geom), ST_Y(geom) FROM toilets WHERE street_code = '6300600' "
                       "ORDER BY id LIMIT 2")
    edits = [DATONG[0], {"op": "move", "id": a, "lon": ax + 0.001, "lat": ay}, {"op": "remove", "id": b}]
    plan = client.post("/api/plans", json={"name": "大同區調整三處", "kind": "toilets", "edits": edits})
    assert plan.status_code == 201, plan.text
    pid = plan.json()["id"]
    changes = client.get(f"/api/plans/{pid}/compare").json()["changes"]
    assert [(c["edit"], c["op"], c["id"], c["name"]) for c in changes] == [
        (1, "add", None, None), (2, "move", a, a_name), (3, "remove", b, b_name)]
    assert (changes[0]["lon"], changes[0]["lat"]) == (DATONG[0]["lon"], DATONG[0]["lat"])
    assert changes[1]["lon"] == pytest.approx(ax + 0.001) and changes[1]["from_lon"] == pytest.approx(ax)
    assert (changes[2]["lon"], changes[2]["lat"]) == pytest.approx((bx, by)) and changes[2]["from_lon"] is None
    page = client.get(f"/plans/{pid}").text
    assert "调整清单（3 项）" in page and a_name in page and b_name in page
    assert f"{DATONG[0]['lon']:.6f}" in page and f"{bx:.6f}" in page and "移除" in page
    book = load_workbook(io.BytesIO(client.get(f"/api/plans/{pid}/compare", params={"format": "xlsx"}).content))
    rows = list(book["调整清单"].iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "调整", "设施编号", "设施名称", "经度(WGS84)", "纬度(WGS84)")
    assert rows[1][:2] == (1, "新增") and rows[2][1:4] == ("移动", a, a_name) and rows[3][1:4] == ("移除", b, b_name)
    assert rows[3][4:6] == pytest.approx((bx, by))  # numbers, not text
    en = load_workbook(io.BytesIO(client.get(f"/api/plans/{pid}/compare",
                                             params={"format": "xlsx", "lang": "en"}).content))
    assert [r[1] for r in en["edits"].iter_rows(min_row=2, values_only=True)] == ["add", "move", "remove"]
    exported = client.get(f"/api/plans/{pid}/export").json()["features"]
    for feature, change in zip(exported, changes, strict=True):
        assert feature["geometry"]["coordinates"] == pytest.approx([change["lon"], change["lat"]])


def test_a_draft_lists_only_the_areas_it_changes(client, taipei):
    """大同區's 南芳里 is wholly covered already: the first toilet's disc touches it, but it stays 100 % and is not
    an area the draft changes (it was listed, outlined on the map and counted on the plan's page, 100.00 → 100.00).
    Moving a toilet out of 士林區 listed a dozen villages whose other toilets still cover them as much."""
    answer = client.post(WHATIF, json={"kind": "toilets", "edits": DATONG}).json()
    names = {a["name"]: a for a in answer["areas"]}
    assert "南芳里" not in names and {"景星里", "國順里"} <= set(names), sorted(names)
    coverage = {f["properties"]["name"]: f["properties"]["covered_area_pct"] for f in client.get(
        "/api/analysis/coverage", params={"kind": "toilets", "street": "63006"}).json()["features"]}
    assert coverage["南芳里"] == pytest.approx(100)
    toilet, lon, lat = query(taipei["url"], "SELECT id, ST_X(geom), ST_Y(geom) FROM toilets WHERE street_code = "
                                            "'6301100' ORDER BY id LIMIT 1")[0]
    moved = client.post(WHATIF, json={"kind": "toilets", "edits": [
        {"op": "move", "id": toilet, "lon": DATONG[0]["lon"], "lat": DATONG[0]["lat"]}]}).json()
    assert moved["areas"], moved
    for area in moved["areas"]:
        assert area["covered_area_pct"] != pytest.approx(area["covered_area_pct_before"], abs=1e-6), area


def test_who_saved_a_plan_is_for_the_citys_staff_not_the_public(client):
    """A plan's author is staff's to know, as every actor is: the plans list, one plan, its comparison and its
    pages name the planner to a login and to nobody without one."""
    made = client.post("/api/plans", json={"name": "大同區補點", "kind": "toilets", "edits": DATONG[:1]})
    assert made.status_code == 201, made.text
    plan = made.json()["id"]
    paths = ["/api/plans", f"/api/plans/{plan}", f"/api/plans/{plan}/compare", "/plans", f"/plans/{plan}"]
    for path in paths:
        assert "taipei-planner" in client.get(path).text, path
    token = client.headers.pop("Authorization")
    try:
        for path in paths:
            seen = client.get(path)
            assert seen.status_code == 200 and "taipei-planner" not in seen.text, path
    finally:
        client.headers["Authorization"] = token
