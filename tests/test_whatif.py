"""What-if coverage and coverage plans: draft edits measured without writing, equal to the edits made for real."""

from __future__ import annotations

import io
import secrets

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from data.db import connect
from geo.coverage import coverage
from layers.workflow.access import add_user
from tests.test_costly_limits import _bearer, _refused, held, tokens  # noqa: F401 (pytest fixtures, used by name)

WHATIF = "/api/analysis/coverage/whatif"


@pytest.fixture(scope="module")
def site(module_demo):
    """The module's demo copy: its URL, tokens by role, and three toilets (id, lon, lat) plus a gap point."""
    conn = connect(url=module_demo)
    tag = secrets.token_hex(3)
    by_role = {role: add_user(conn, f"plan-{role}-{tag}", role, street_code=street, created_by="test")[1]
              for role, street in (("admin", None), ("planner", None), ("street", "379901001"))}
    with conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM toilets ORDER BY id LIMIT 3")
        toilets = cur.fetchall()
        # The point of a community farthest from any toilet: adding a toilet there covers new land.
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                    "WHERE level = 'community') a ORDER BY (SELECT min(ST_Distance(p::geography, t.geom::geography)) "
                    "FROM toilets t) DESC LIMIT 1")
        gap = cur.fetchone()
    conn.commit()
    conn.close()
    return {"url": module_demo, "tokens": by_role, "toilets": toilets, "gap": gap}


@pytest.fixture
def client(site, env_for):
    from api.app import create_app

    env_for(site["url"])
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _auth(site, role):
    return {"Authorization": f"Bearer {site['tokens'][role]}"}


def _edits(site):
    (a, ax, ay), (b, _, _), _ = site["toilets"]
    return [{"op": "add", "lon": site["gap"][0], "lat": site["gap"][1]},
            {"op": "move", "id": a, "lon": ax + 0.003, "lat": ay + 0.002},
            {"op": "remove", "id": b}]


def _count(url):
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), sum(ST_X(geom)) FROM toilets")
        out = cur.fetchone()
    conn.close()
    return out


def test_whatif_equals_the_edits_made_for_real(client, site):
    """The draft's answer for every changed area equals coverage after the same edits are written."""
    before = _count(site["url"])
    r = client.post(WHATIF, json={"kind": "toilets", "edits": _edits(site)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert _count(site["url"]) == before  # nothing written
    assert 0 < len(body["areas"]) < 40 and all(a["gaps"] for a in body["areas"])
    assert body["after"]["covered_area_pct"] != body["before"]["covered_area_pct"]
    conn = connect(url=site["url"])
    try:
        base = {x["code"]: x for x in coverage(conn, "toilets", engine="postgis")["rows"]}
        (a, ax, ay), (b, _, _), _ = site["toilets"]
        with conn.cursor() as cur:  # the same edits, for real, in a transaction rolled back afterwards
            cur.execute("INSERT INTO toilets (name, geom) VALUES ('draft', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                        site["gap"])
            cur.execute("UPDATE toilets SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s",
                        (ax + 0.003, ay + 0.002, a))
            cur.execute("DELETE FROM toilets WHERE id = %s", (b,))
        real = coverage(conn, "toilets", engine="postgis")
    finally:
        conn.rollback()
        conn.close()
    after = {x["code"]: x for x in real["rows"]}
    changed = {a["code"] for a in body["areas"]}
    for area in body["areas"]:
        assert area["covered_area_pct_before"] == pytest.approx(base[area["code"]]["covered_area_pct"], abs=0.01)
        assert area["covered_area_pct"] == pytest.approx(after[area["code"]]["covered_area_pct"], abs=0.01)
        assert area["covered_pop_pct"] == pytest.approx(after[area["code"]]["covered_pop_pct"], abs=0.01)
    # The areas left out are those the edits do not change.
    assert all(abs(after[c]["covered_area_pct"] - base[c]["covered_area_pct"]) < 1e-6 for c in after if c not in changed)
    assert body["after"]["covered_pop_pct"] == pytest.approx(real["summary"]["covered_pop_pct"], abs=0.01)
    assert body["after"]["population"] == real["summary"]["population"]


@pytest.mark.parametrize("edits,parameter", [
    ([{"op": "teleport"}], "edits[0].op"),
    ([{"op": "add", "lon": 500, "lat": 37}], "edits[0].lon"),
    ([{"op": "add", "lon": 121.3, "lat": 37.5}, {"op": "move", "id": "x", "lon": 1, "lat": 1}], "edits[1].id"),
    ([{"op": "remove", "id": 99999999}], "edits[0].id"),
])
def test_bad_edits_name_the_edit(client, edits, parameter):
    r = client.post(WHATIF, json={"edits": edits})
    assert r.status_code == 422 and parameter in r.text, r.text


def test_an_edit_without_its_place_says_what_is_missing(client):
    """A move without lon is told the lon is missing (and what a move needs), not that it must lie in ±180."""
    r = client.post(WHATIF, json={"edits": [{"op": "move", "id": 1, "lat": 37.5}]})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"] == "edits[0].lon: missing: a move needs id, lon, lat", body
    assert body["detail_zh"] == "edits[0].lon：缺少：move 需要 id, lon, lat", body


@pytest.mark.parametrize("radius", [5e-324, 0.5, 0, -1, 10_001])
def test_a_radius_out_of_range_is_refused_by_name(client, site, radius):
    """A denormal radius once reached GEOS and came back as NaN coordinates (a 500, found by the fuzz test)."""
    r = client.post(WHATIF, json={"radius": radius, "edits": []})
    assert r.status_code == 422 and "radius" in r.text, r.text
    r = client.post("/api/plans", json={"name": "tiny", "radius": radius, "edits": []}, headers=_auth(site, "planner"))
    assert r.status_code == 422 and "radius" in r.text, r.text
    assert all(p["name"] != "tiny" for p in client.get("/api/plans").json())


def test_bad_level_and_kind(client):
    assert "by" in client.post(WHATIF, json={"by": "district", "edits": []}).text
    assert client.post(WHATIF, json={"kind": "fountains", "edits": []}).status_code == 422


def test_plans_saved_by_planners_compared_and_exported(client, site):
    draft = {"name": "新增公厕方案一", "kind": "toilets", "edits": _edits(site)}
    assert client.post("/api/plans", json=draft).status_code == 401
    assert client.post("/api/plans", json=draft, headers=_auth(site, "street")).status_code == 403
    r = client.post("/api/plans", json=draft, headers=_auth(site, "planner"))
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["name"] == "新增公厕方案一" and len(plan["edits"]) == 3 and plan["radius_m"] == 300
    assert client.post("/api/plans", json=draft, headers=_auth(site, "admin")).status_code == 409
    assert any(p["id"] == plan["id"] and p["edits"] == 3 for p in client.get("/api/plans").json())
    compared = client.get(f"/api/plans/{plan['id']}/compare").json()
    direct = client.post(WHATIF, json={"edits": _edits(site)}).json()
    assert compared["after"] == direct["after"] and len(compared["areas"]) == len(direct["areas"])
    book = load_workbook(io.BytesIO(client.get(f"/api/plans/{plan['id']}/compare?format=xlsx").content))
    sheet = book.active
    assert sheet.title == "规划对比" and sheet.cell(2, 4).value == "覆盖面积比例（现状，%）"
    assert sheet.max_row == 2 + len(compared["areas"]) + 2  # a blank row, the city's totals now and with the plan
    en = load_workbook(io.BytesIO(client.get(f"/api/plans/{plan['id']}/compare?format=xlsx&lang=en").content))
    assert en.active.cell(2, 4).value == "covered area % (now)"
    exported = client.get(f"/api/plans/{plan['id']}/export").json()
    assert [f["properties"]["op"] for f in exported["features"]] == ["add", "move", "remove"]
    assert exported["features"][0]["geometry"]["coordinates"] == pytest.approx(list(site["gap"]))
    assert all(f["geometry"] for f in exported["features"])
    assert client.get("/api/plans/999999/compare").status_code == 404
    assert client.get(f"/api/plans/{2**64}/export").status_code == 422


def test_plan_pages_list_the_plans_and_print_the_comparison(client, site):
    """/plans lists a saved plan with its links; /plans/{id} shows the comparison's own figures, Chinese first."""
    from tests.test_bulletin_page import _cells

    name = "<b>夜市公厕</b>"  # a name is text, never markup
    plan = client.post("/api/plans", json={"name": name, "edits": _edits(site)}, headers=_auth(site, "planner")).json()
    listing = client.get("/plans")
    assert listing.status_code == 200 and "设施规划方案" in listing.text and name not in listing.text
    row = _cells(listing.text, "plans")[[r[0] for r in _cells(listing.text, "plans")].index(str(plan["id"]))]
    assert row[1:6] == [name, "公共厕所", "300 m", "社区", "3"]
    assert (f'href="/map/coverage?kind=toilets&amp;radius=300&amp;by=community&amp;plan={plan["id"]}&amp;lang=zh"'
            in listing.text)
    page = client.get(f"/plans/{plan['id']}")
    assert page.status_code == 200 and "<b>夜市公厕</b>" not in page.text and "&lt;b&gt;夜市公厕" in page.text
    compared = client.get(f"/api/plans/{plan['id']}/compare").json()
    totals = {r[0]: r[1:] for r in _cells(page.text, "totals")}
    now, after = compared["before"], compared["after"]
    assert totals["覆盖面积比例（%）"][:2] == [f"{now['covered_area_pct']:.2f}", f"{after['covered_area_pct']:.2f}"]
    assert totals["覆盖人口"] == [f"{now['covered_residents']:,}", f"{after['covered_residents']:,}",
                              f"+{after['covered_residents'] - now['covered_residents']:,}"]
    areas = _cells(page.text, "areas")
    assert [r[0] for r in areas] == [a["code"] for a in compared["areas"]] and areas
    assert areas[0][3:5] == [f"{compared['areas'][0]['covered_area_pct_before']:.2f}",
                             f"{compared['areas'][0]['covered_area_pct']:.2f}"]
    assert "新增 1 · 移动 1 · 移除 1" in page.text and f"/api/plans/{plan['id']}/compare?format=xlsx" in page.text
    en = client.get(f"/plans/{plan['id']}?lang=en")
    assert "City totals" in en.text and "add 1 · move 1 · remove 1" in en.text
    assert client.get("/plans/999999").status_code == 404


def test_plan_whose_facility_is_gone_is_a_conflict(client, site):
    _, _, (c, cx, cy) = site["toilets"]
    draft = {"name": "移动后被删除", "edits": [{"op": "move", "id": c, "lon": cx + 0.001, "lat": cy}]}
    plan = client.post("/api/plans", json=draft, headers=_auth(site, "admin")).json()
    conn = connect(url=site["url"])
    with conn.cursor() as cur:
        cur.execute("DELETE FROM toilets WHERE id = %s", (c,))
    conn.commit()
    conn.close()
    r = client.get(f"/api/plans/{plan['id']}/compare")
    assert r.status_code == 409 and "edits[0].id" in r.text, r.text


def test_plan_removing_a_trail_exports_and_prints_where_it_stands(client, site):
    """Health trails are lines: a plan removing one answered its GeoJSON export with a 500 (ST_X of a line)."""
    conn = connect(url=site["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT id, name, ST_X(p), ST_Y(p) FROM (SELECT id, name, ST_PointOnSurface(geom) p "
                    "FROM health_trails WHERE GeometryType(geom) LIKE '%%LINESTRING' ORDER BY id LIMIT 1) t")
        trail, name, x, y = cur.fetchone()
    conn.close()
    draft = {"name": "撤除一条步道", "kind": "health_trails", "radius": 500, "edits": [{"op": "remove", "id": trail}]}
    plan = client.post("/api/plans", json=draft, headers=_auth(site, "planner")).json()
    exported = client.get(f"/api/plans/{plan['id']}/export")
    assert exported.status_code == 200, exported.text
    lon, lat = exported.json()["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((x, y))  # a point on the line
    page = client.get(f"/plans/{plan['id']}")
    assert page.status_code == 200 and name in page.text and f"{lon:.6f}" in page.text


def test_plan_needs_a_name_and_valid_edits(client, site):
    bad = client.post("/api/plans", json={"name": " ", "edits": []}, headers=_auth(site, "planner"))
    assert bad.status_code == 422 and "name" in bad.text
    bad = client.post("/api/plans", json={"name": "x", "edits": [{"op": "remove", "id": -5}]},
                      headers=_auth(site, "planner"))
    assert bad.status_code == 422 and "edits[0].id" in bad.text
    bad = client.post("/api/plans", json={"name": "新增\x00公厕", "edits": []}, headers=_auth(site, "planner"))
    assert bad.status_code == 422 and "name" in bad.text and "NUL" in bad.text, bad.text  # PostgreSQL holds no NUL


def test_whatif_takes_a_slot_of_the_costly_gate(held, tokens, site):
    """A cold what-if builds the kept coverage state (seconds at city scale): it waits its turn as siting does,
    429 with Retry-After while the caller, or the server, already runs its limit of costly work."""
    client = held.client
    a, b, c = (_bearer(t) for t in tokens)
    draft = {"kind": "toilets", "edits": _edits(site)}
    held.hold(a)
    _refused(client.post(WHATIF, json=draft, headers=a), "HYGIENE_MAP_COSTLY_PER_CLIENT")
    assert client.post(WHATIF, json=draft, headers=b).status_code == 200  # another client: the second slot
    held.hold(b)
    _refused(client.post(WHATIF, json=draft, headers=c), "HYGIENE_MAP_COSTLY_TOTAL")
    assert held.release() == [200, 200]
    answer = client.post(WHATIF, json=draft, headers=c)
    assert answer.status_code == 200 and answer.json()["edits"] == 3  # its slot given back once it answered
    assert client.post(WHATIF, json=draft, headers=a).status_code == 200
