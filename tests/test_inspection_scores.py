"""Scores of an inspection round (谁丢分谁负责) against an independent computation, on the small demo city:
200 findings from 3 inspectors, two of them sending every finding twice, a grid changing hands mid-round."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from data import checklist
from data.db import connect
from tests.conftest import query
from tests.inspecting import OTHER_STREET, OWN_STREET, auth, city_fixture, client_fixture, new_round  # noqa: F401 (fixtures)

# The unit charged with each finding, read from the assignment history at the time it was observed.
UNIT_AT_OBSERVATION = """
    SELECT f.id, f.street_code, f.item_code,
           coalesce((SELECT a.responsible_unit FROM grid_assignments a
                     WHERE a.grid_code = f.grid_code AND a.changed_at <= f.observed_at ORDER BY a.seq DESC LIMIT 1),
                    g.responsible_unit)
    FROM inspection_findings f LEFT JOIN grids g ON g.code = f.grid_code WHERE f.round_id = %s"""


def points(city, where: str, params, n: int) -> list[tuple[str, float, float]]:
    rows = query(city["url"], f"""SELECT code, ST_X(p), ST_Y(p) FROM (
                                     SELECT code, (ST_Dump(ST_GeneratePoints(geom, 4, 11))).geom p FROM grids
                                     WHERE {where}) s ORDER BY code, 2, 3""", params)
    return [rows[i % len(rows)] for i in range(n)]


def send(client, city, user, round_id, spots, items, observed, twice: bool) -> list[int]:
    ids = []
    for (_, lon, lat), item in zip(spots, items):
        body = {"round_id": round_id, "lon": lon, "lat": lat, "item": item, "note": "检查",
                "observed_at": observed.isoformat(), "client_id": str(uuid.uuid4())}
        first = client.post("/api/inspections/findings", json=body, headers=auth(city, user))
        assert first.status_code == 201, first.text
        if twice:
            again = client.post("/api/inspections/findings", json=body, headers=auth(city, user))
            assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        ids.append(first.json()["id"])
    return ids


def expected_scores(city, round_id, base):
    deduction = {code: item.deduction for code, item in checklist.load().items()}
    streets, units = defaultdict(float), defaultdict(float)
    counts_s, counts_u = defaultdict(int), defaultdict(int)
    for _, street, item, unit in query(city["url"], UNIT_AT_OBSERVATION, (round_id,)):
        streets[street] += deduction[item]
        counts_s[street] += 1
        units[unit] += deduction[item]
        counts_u[unit] += 1
    holders = query(city["url"], "SELECT DISTINCT responsible_unit FROM grids WHERE street_code IN (%s, %s) "
                                 "AND responsible_unit IS NOT NULL", (OWN_STREET, OTHER_STREET))
    for (unit,) in holders:
        units[unit] += 0
    return ({s: (counts_s[s], base - streets[s]) for s in (OWN_STREET, OTHER_STREET)},
            {u: (counts_u[u], base - lost) for u, lost in units.items()})


def test_round_of_200_findings_scores_like_an_independent_computation(client, city, monkeypatch):
    rng = random.Random(15)
    codes = sorted(checklist.load())
    the_round = new_round(client, city)
    rid = the_round["id"]
    earlier = datetime.now(UTC) - timedelta(hours=3)
    own = points(city, "code = %s", (city["grid"]["own"],), 40)
    street_own = points(city, "street_code = %s", (OWN_STREET,), 80)
    street_other = points(city, "street_code = %s", (OTHER_STREET,), 70)
    send(client, city, "inspector1", rid, own, [rng.choice(codes) for _ in own], earlier, twice=False)
    send(client, city, "inspector2", rid, street_own, [rng.choice(codes) for _ in street_own], earlier, twice=True)
    # The grid of inspector1 changes hands; findings observed afterwards are charged to the new unit.
    moved = client.put(f"/api/grids/{city['grid']['own']}/assignment", headers=auth(city, "admin1"),
                       json={"unit": "新接管单位", "manager": "赵六", "phone": "0535-6000009", "reason": "调整"})
    assert moved.status_code == 200, moved.text
    later = own[:10]
    send(client, city, "inspector1", rid, later, [rng.choice(codes) for _ in later], datetime.now(UTC), twice=False)
    send(client, city, "inspector3", rid, street_other, [rng.choice(codes) for _ in street_other],
         earlier, twice=True)
    assert query(city["url"], "SELECT count(*) FROM inspection_findings WHERE round_id = %s", (rid,))[0][0] == 200

    answer = client.get(f"/api/inspections/rounds/{rid}/scores").json()
    streets, units = expected_scores(city, rid, 100.0)
    assert {s["street_code"]: (s["findings"], s["score"]) for s in answer["streets"]} == streets
    assert {u["unit"]: (u["findings"], u["score"]) for u in answer["units"]} == units
    assert units["新接管单位"][0] == 10
    for table in (answer["streets"], answer["units"]):
        assert [e["rank"] for e in table] == [1 + sum(o["score"] > e["score"] for o in table) for e in table]
        assert [e["rank"] for e in table] == sorted(e["rank"] for e in table)
        assert all(e["deductions"] == pytest.approx(100.0 - e["score"]) for e in table)

    monkeypatch.setenv("HYGIENE_MAP_INSPECTION_SCORE_BASE", "200")
    rebased = client.get(f"/api/inspections/rounds/{rid}/scores").json()
    assert rebased["base"] == 200.0
    assert [s["score"] for s in rebased["streets"]] == [s["score"] + 100 for s in answer["streets"]]


def test_scores_of_a_round_without_findings_and_of_no_round(client, city):
    rid = new_round(client, city, streets=(OWN_STREET,))["id"]
    answer = client.get(f"/api/inspections/rounds/{rid}/scores").json()
    assert [(s["street_code"], s["findings"], s["score"], s["rank"]) for s in answer["streets"]] == \
        [(OWN_STREET, 0, 100.0, 1)]
    assert answer["units"] and all(u["score"] == 100.0 and u["rank"] == 1 for u in answer["units"])
    assert client.get("/api/inspections/rounds/999999/scores").status_code == 404


def test_a_finding_observed_before_a_reassignment_stays_with_the_old_unit(client, city):
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT responsible_unit FROM grids WHERE code = %s", (city["grid"]["other"],))
        old_unit = cur.fetchone()[0]
    conn.close()
    rid = new_round(client, city, streets=(OTHER_STREET,))["id"]
    moved = client.put(f"/api/grids/{city['grid']['other']}/assignment", headers=auth(city, "admin1"),
                       json={"unit": "后来单位", "manager": "钱七", "phone": "0535-6000010", "reason": "调整"})
    assert moved.status_code == 200
    (_, lon, lat), = points(city, "code = %s", (city["grid"]["other"],), 1)
    # Recorded offline an hour ago, sent after the grid changed hands.
    body = {"round_id": rid, "lon": lon, "lat": lat, "item": "LAN-01", "note": None, "client_id": "late-1",
            "observed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    found = client.post("/api/inspections/findings", json=body, headers=auth(city, "inspector3")).json()
    assert found["unit"] == old_unit != "后来单位"
    units = {u["unit"]: u for u in client.get(f"/api/inspections/rounds/{rid}/scores").json()["units"]}
    assert units[old_unit]["findings"] == 1 and units["后来单位"]["findings"] == 0


def test_a_unit_that_took_a_grid_over_after_the_round_is_not_scored_in_it(client, city):
    now = datetime.now(UTC)
    body = {"name": "上月暗访", "kind": "月度暗访", "starts": (now - timedelta(days=40)).isoformat(),
            "ends": (now - timedelta(days=30)).isoformat(), "streets": [OTHER_STREET]}
    past = client.post("/api/inspections/rounds", json=body, headers=auth(city, "admin1"))
    assert past.status_code == 201, past.text
    moved = client.put(f"/api/grids/{city['grid']['other']}/assignment", headers=auth(city, "admin1"),
                       json={"unit": "接管单位", "manager": "孙八", "phone": "0535-6000011", "reason": "接管"})
    assert moved.status_code == 200
    # Nobody changed hands during the past round (the module's changes are all recent): each grid was held
    # then by the unit its first later change replaced (a first assignment: its own), or by today's unit.
    then = {u for (u,) in query(city["url"], """
        SELECT coalesce((SELECT coalesce(a.before->>'unit', a.responsible_unit) FROM grid_assignments a
                         WHERE a.grid_code = g.code AND a.changed_at > now() - interval '30 days'
                         ORDER BY a.changed_at, a.seq LIMIT 1), g.responsible_unit)
        FROM grids g WHERE g.street_code = %s""", (OTHER_STREET,)) if u}
    scored = {u["unit"] for u in client.get(f"/api/inspections/rounds/{past.json()['id']}/scores").json()["units"]}
    assert scored == then and "接管单位" not in scored
    current = new_round(client, city, streets=(OTHER_STREET,))["id"]
    now_units = {u["unit"] for u in client.get(f"/api/inspections/rounds/{current}/scores").json()["units"]}
    assert "接管单位" in now_units and then <= now_units
