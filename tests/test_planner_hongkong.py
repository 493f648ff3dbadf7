"""A planner's drafts in Hong Kong imported from nothing: 18 districts (no streets, no communities) and FEHD's
public toilets (../shared/real-data/hongkong), loaded in-process for speed (tests/test_hongkong.py does it with
the command line and a served city)."""

from __future__ import annotations

import math

import pytest

from data.db import connect
from tests.real_city import hongkong_planner, planner_client

#: A point in 油尖旺區 (Yau Tsim Mong), near a gap of its toilets' 300 m discs.
YAU_TSIM = {"op": "add", "lon": 114.17, "lat": 22.32}


@pytest.fixture(scope="module")
def hongkong(pg_server, tmp_path_factory):
    """Hong Kong's URL and a planner's token: its districts and toilets."""
    with hongkong_planner(pg_server, tmp_path_factory.mktemp("hk-plans")) as city:
        yield city


@pytest.fixture
def client(hongkong, env_for):
    with planner_client(hongkong, env_for) as c:
        yield c


def test_a_draft_without_by_answers_by_the_districts(client):
    """`GET /api/analysis/coverage` without `by` answers Hong Kong by its districts, and so does the coverage page's
    draft panel; the what-if route and a plan saved without `by` were refused ("this city has no community areas")."""
    draft = client.post("/api/analysis/coverage/whatif", json={"kind": "toilets", "edits": [YAU_TSIM]})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert body["by"] == "district" and [a["name"] for a in body["areas"]] == ["油尖旺區"], body["areas"]
    assert body["areas"][0]["covered_area_pct"] > body["areas"][0]["covered_area_pct_before"]
    saved = client.post("/api/plans", json={"name": "油尖旺加一座", "kind": "toilets", "edits": [YAU_TSIM]})
    assert saved.status_code in (200, 201), saved.text
    plan = saved.json()
    assert plan["by"] == "district"
    compared = client.get(f"/api/plans/{plan['id']}/compare").json()
    assert [a["name"] for a in compared["areas"]] == ["油尖旺區"], compared
    # Asked by a level Hong Kong lacks, still refused with what it has.
    refused = client.post("/api/analysis/coverage/whatif", json={"kind": "toilets", "by": "community",
                                                                  "edits": [YAU_TSIM]})
    assert refused.status_code == 422 and "district (18)" in refused.text, refused.text


def test_siting_in_one_district_of_a_city_of_districts(client, hongkong):
    """Where should 中西區 (A) add two toilets? Coverage and density take `street=A` (a code prefix) in Hong Kong,
    but siting refused it: "street 'A' does not exist" — a city of districts only could site only city-wide."""
    from tests.conftest import query

    answer = client.get("/api/analysis/siting", params={"kind": "toilets", "add": "2", "street": "A"})
    assert answer.status_code == 200, answer.text
    sites = answer.json()["features"]
    assert len(sites) == 2
    for site in sites:
        p = site["properties"]
        inside = query(hongkong["url"], "SELECT code FROM admin_areas WHERE ST_Intersects(geom, "
                                        "ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 60)::geometry)",
                       (p["lon"], p["lat"]))
        assert ("A",) in inside, (p, inside)
    # A code that is no district is still refused by name.
    refused = client.get("/api/analysis/siting", params={"kind": "toilets", "add": "2", "street": "Z"})
    assert refused.status_code == 404 and refused.json()["detail"].startswith("street: "), refused.text


def test_siting_figures_in_district_a_are_the_coverage_maps(client, hongkong):
    """Siting's figures were its 50 m lattice's: 中西區 (A) 36.3 % covered where the coverage map said 36.19 %, and a
    site in Yantai "newly covering" 284,832 m², more than its 300 m disc. They are now coverage's: `before` the map's
    share, `after` the map's share with the sites inserted as toilets, no gain over πr², the gains adding up."""
    from geo.coverage import coverage

    answer = client.get("/api/analysis/siting", params={"kind": "toilets", "add": "5", "street": "A"}).json()
    assert answer["objective"] == "area"
    mapped = client.get("/api/analysis/coverage", params={"kind": "toilets", "by": "district", "street": "A"}).json()
    [today] = [f["properties"] for f in mapped["features"]]
    assert today["code"] == "A"
    assert answer["before"]["pct"] == pytest.approx(today["covered_area_pct"], abs=0.01)
    area_m2 = today["area_km2"] * 1e6
    assert answer["before"]["area_m2"] == pytest.approx(today["covered_area_pct"] / 100 * area_m2, rel=1e-9)
    gains = [f["properties"]["new_area_m2"] for f in answer["features"]]
    # At most the disc, πr² (the equal-area 64-gon's), but for rounding: a disc cut by two areas adds up to it within
    # ~1e-8 of it (0.003 m²); the lattice's figure was up to 2,089 m² over.
    disc = math.pi * 300**2 * (1 + 1e-6)
    assert len(gains) == 5 and all(0 < g <= disc for g in gains), gains
    assert sum(gains) == pytest.approx(answer["after"]["area_m2"] - answer["before"]["area_m2"], rel=1e-9)
    conn = connect(url=hongkong["url"])
    try:
        with conn.cursor() as cur:  # the sites built: coverage computed afresh with them, then rolled back
            for f in answer["features"]:
                cur.execute("INSERT INTO toilets (name, geom) VALUES ('proposed', ST_SetSRID(ST_MakePoint(%s, %s), "
                            "4326))", (f["properties"]["lon"], f["properties"]["lat"]))
        [built] = coverage(conn, "toilets", by="district", code_prefix="A")["rows"]
    finally:
        conn.rollback()
        conn.close()
    assert answer["after"]["pct"] == pytest.approx(built["covered_area_pct"], abs=0.01)
    assert answer["after"]["area_m2"] == pytest.approx(built["covered_area_pct"] / 100 * area_m2, rel=1e-9)
