"""A city's first roster loaded while its first round is under way (Taipei's 中正區, cut into grids with no
roster): the unit a grid is given answers for the round's findings there — those recorded while the grid had no
unit, and those observed then but synced after — so the round's scores list them under it, where they stayed
charged to no unit and every real unit scored 100 with nothing found. A round that has ended keeps what it
published, and so do bulletins: complaints reported before the roster stay charged to no unit
(tests/test_regrid_history.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.real_city import grids_assigned, taipei, taipei_grids, taipei_server  # noqa: F401  (fixtures)

ZHONGZHENG = "6300500"
UNIT = "中正區清潔隊第1分隊"


def _round(city, auth, name: str, starts: datetime, ends: datetime, street: str = ZHONGZHENG) -> int:
    made = httpx.post(city.base + "/api/inspections/rounds", headers=auth, timeout=30,
                      json={"name": name, "kind": "周检查", "streets": [street], "starts": starts.isoformat(),
                            "ends": ends.isoformat()})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _finding(city, auth, round_id: int, lon: float, lat: float, observed: datetime) -> dict:
    found = httpx.post(city.base + "/api/inspections/findings", headers=auth, timeout=30,
                       json={"round_id": round_id, "lon": lon, "lat": lat, "item": "MKT-01", "note": "",
                             "observed_at": observed.isoformat(), "client_id": str(uuid.uuid4())})
    assert found.status_code == 201, found.text
    return found.json()


@pytest.fixture(scope="module")
def first_roster(taipei_server):
    """中正區's grids; a round under way and one that ended yesterday, each with a finding in the first grid from
    before its roster; the roster given to that grid; then a finding observed before it, synced after it."""
    city, auth, now = taipei_server, {"Authorization": f"Bearer {taipei_server.token}"}, datetime.now(UTC)
    city.cli("grids", "generate", "--street", ZHONGZHENG, "--size", 500)
    (grid, lon, lat), = city.sql("SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM grids "
                                 "WHERE street_code = %s ORDER BY code LIMIT 1) g", (ZHONGZHENG,))
    running = _round(city, auth, "中正區首周检查", now - timedelta(days=1), now + timedelta(days=5))
    ended = _round(city, auth, "中正區上周检查", now - timedelta(days=8), now - timedelta(days=1))
    before = {"running": _finding(city, auth, running, lon, lat, now - timedelta(hours=2)),
              "ended": _finding(city, auth, ended, lon, lat, now - timedelta(days=3))}
    assert [f["responsible_unit"] for f in before.values()] == [None, None]
    assigned = httpx.put(f"{city.base}/api/grids/{grid}/assignment", headers=auth, timeout=30,
                         json={"unit": UNIT, "manager": "林志明", "phone": "02-2311-0000", "reason": "首次名册"})
    assert assigned.status_code == 200, assigned.text
    synced = _finding(city, auth, running, lon, lat, now - timedelta(hours=1))
    return {"running": running, "before": before, "synced": synced, "assigned": assigned.json(), "auth": auth}


def test_a_grid_s_first_unit_takes_the_findings_of_the_round_under_way(taipei_server, first_roster):
    city, auth = taipei_server, first_roster["auth"]
    assert first_roster["assigned"]["findings_charged"] == 1, first_roster["assigned"]

    def unit(finding: dict) -> str | None:
        answer = httpx.get(f"{city.base}/api/inspections/findings/{finding['id']}", headers=auth, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["responsible_unit"]

    assert unit(first_roster["before"]["running"]) == UNIT
    assert first_roster["synced"]["responsible_unit"] == UNIT  # observed before the roster, sent after it
    assert unit(first_roster["before"]["ended"]) is None  # a round that has ended keeps what it published
    scores = httpx.get(f"{city.base}/api/inspections/rounds/{first_roster['running']}/scores", headers=auth,
                       timeout=60).json()
    assert [(u["unit"], u["findings"]) for u in scores["units"] if u["findings"]] == [(UNIT, 2)], scores["units"]


def test_the_roster_command_says_how_many_findings_its_first_units_take(taipei_server):
    """松山區: grids, a round under way and a finding in them, then the first roster through `grids assign`."""
    city, auth, now, street = taipei_server, {"Authorization": f"Bearer {taipei_server.token}"}, datetime.now(UTC), "6300100"
    city.cli("grids", "generate", "--street", street, "--size", 500)
    running = _round(city, auth, "松山區首周检查", now - timedelta(days=1), now + timedelta(days=5), street)
    (lon, lat), = city.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                           "WHERE street_code = %s ORDER BY code LIMIT 1) g", (street,))
    found = _finding(city, auth, running, lon, lat, now - timedelta(hours=2))
    grids_assigned(city, street, 500, lambda row: (f"松山區清潔隊第{row}分隊", "陳美玲", "02-2765-0000"), "首次名册")
    assert "and 1 inspection finding(s) now charged to their grid's first unit" in city.log["assign"].stdout, \
        city.log["assign"].stdout
    assert city.sql("SELECT responsible_unit FROM inspection_findings WHERE id = %s", (found["id"],)) == [
        ("松山區清潔隊第2分隊",)]
