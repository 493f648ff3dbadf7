"""An unannounced round (月度暗访) on Taipei's 大同區, planned for next week: until it starts, the street office it
will inspect and the public cannot learn of it — not in the list of rounds, not by its id, its scores, its problem
list, its findings or the field page — while the campaign office, planners and inspectors see it. An announced
round (周检查) planned alike is seen by all; so is the unannounced one once it has started. Whether a round is
unannounced is the planner's choice: a 专项检查 planned unannounced is kept alike, a 月度暗访 planned announced is not.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.real_city import TAIPEI_STREET, taipei, taipei_grids, taipei_server  # noqa: F401  (fixtures)

WHO = {"street": ("--street", TAIPEI_STREET), "inspector": ("--street", TAIPEI_STREET), "planner": ()}


@pytest.fixture(scope="module")
def planned(taipei_server):
    """Tokens per role, and the ids of five rounds over 大同區: an unannounced and an announced one next week, an
    unannounced one that started yesterday; next week too, a 专项检查 planned unannounced and a 月度暗访 planned
    announced."""
    city = taipei_server
    tokens = {"admin": city.token, None: None}
    for role, scope in WHO.items():
        tokens[role] = city.cli("users", "add", f"rounds-{role}", "--role", role,
                                *scope).stdout.strip().splitlines()[-1]
    now = datetime.now(UTC)
    ids = {}
    week = now + timedelta(days=7)
    for key, kind, starts, chosen in (("secret", "月度暗访", week, {}), ("announced", "周检查", week, {}),
                                      ("started", "月度暗访", now - timedelta(days=1), {}),
                                      ("secret_special", "专项检查", week, {"unannounced": True}),
                                      ("announced_monthly", "月度暗访", week, {"unannounced": False})):
        made = httpx.post(city.base + "/api/inspections/rounds", headers={"Authorization": f"Bearer {city.token}"},
                          json={"name": f"大同區{kind}{key}", "kind": kind, "streets": [TAIPEI_STREET],
                                "starts": starts.isoformat(), "ends": (starts + timedelta(days=3)).isoformat(),
                                **chosen}, timeout=30)
        assert made.status_code == 201, made.text
        assert made.json()["unannounced"] is (key.startswith("secret") or key == "started"), made.json()
        ids[key] = made.json()["id"]
    return tokens, ids


def _get(city, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(city.base + path, headers=headers, timeout=60)


@pytest.mark.parametrize("who", [None, "street"])
def test_an_unannounced_round_is_kept_from_the_inspected_and_the_public_until_it_starts(taipei_server, planned, who):
    city, (tokens, ids) = taipei_server, planned
    listed = _get(city, "/api/inspections/rounds", tokens[who])
    assert listed.status_code == 200, listed.text
    seen = {r["id"] for r in listed.json()["items"]}
    assert {ids["secret"], ids["secret_special"]}.isdisjoint(seen)
    assert {ids["announced"], ids["started"], ids["announced_monthly"]} <= seen
    for rid in (ids["secret"], ids["secret_special"]):
        for path in (f"/api/inspections/rounds/{rid}", f"/api/inspections/rounds/{rid}/scores",
                     f"/api/inspections/rounds/{rid}/problems.xlsx", f"/api/inspections/findings?round={rid}"):
            answer = _get(city, path, tokens[who])
            # As for a round that does not exist: nothing says that one is planned.
            assert answer.status_code == 404 and answer.json()["detail"] == f"no inspection round with id {rid}", \
                (path, answer.status_code, answer.text)
    for key in ("announced", "started", "announced_monthly"):
        assert _get(city, f"/api/inspections/rounds/{ids[key]}", tokens[who]).status_code == 200


@pytest.mark.parametrize("who", ["admin", "planner", "inspector"])
def test_the_office_planners_and_inspectors_see_an_unannounced_round_before_it_starts(taipei_server, planned, who):
    city, (tokens, ids) = taipei_server, planned
    seen = {r["id"] for r in _get(city, "/api/inspections/rounds", tokens[who]).json()["items"]}
    assert set(ids.values()) <= seen
    assert _get(city, f"/api/inspections/rounds/{ids['secret']}/scores", tokens[who]).status_code == 200


def test_the_field_page_offers_a_street_office_no_round_it_may_not_know_of(taipei_server, planned):
    """The field page's rounds (its configuration, in the page): the street office's lacks the planned 暗访, the
    inspector's has it, to record findings in once it starts."""
    city, (tokens, ids) = taipei_server, planned

    def offered(who: str) -> set[int]:
        page = _get(city, "/field", tokens[who])
        assert page.status_code == 200, page.text
        config = json.loads(re.search(r"<script[^>]*id=\"fd-config\"[^>]*>(.*?)</script>", page.text, re.S).group(1))
        return {r["id"] for r in config["rounds"]}

    assert ids["secret"] not in offered("street") and ids["announced"] in offered("street")
    assert ids["secret"] in offered("inspector")


def test_the_command_line_plans_any_kind_unannounced_and_lists_how_each_round_is_made(taipei_server, planned):
    """`inspections round --unannounced` keeps a 复审模拟 from the street office as the API's flag does; `inspections
    rounds` says 暗访 or 明察 of each round."""
    city, (tokens, ids) = taipei_server, planned
    starts = (datetime.now(UTC) + timedelta(days=10)).date()
    made = city.cli("inspections", "round", "--name", "大同區复审模拟（暗访）", "--kind", "复审模拟", "--unannounced",
                    "--starts", str(starts), "--ends", str(starts + timedelta(days=2)), "--streets", TAIPEI_STREET)
    assert "大同區复审模拟（暗访）（复审模拟，暗访）" in made.stdout, made.stdout
    rid = int(re.match(r"检查轮次 (\d+)：", made.stdout)[1])
    english = city.cli("inspections", "round", "--name", "大同區复审模拟（暗访）二", "--kind", "复审模拟", "--unannounced",
                       "--starts", str(starts), "--ends", str(starts + timedelta(days=2)), "--streets", TAIPEI_STREET,
                       "--lang", "en")
    assert re.match(r"round \d+: 大同區复审模拟（暗访）二 \(复审模拟, 暗访\), \d{4}-\d\d-\d\d 00:00 until ", english.stdout), \
        english.stdout  # the same line in English
    assert _get(city, f"/api/inspections/rounds/{rid}", tokens["street"]).status_code == 404
    assert _get(city, f"/api/inspections/rounds/{rid}", tokens["planner"]).json()["unannounced"] is True
    listed = city.cli("inspections", "rounds").stdout.splitlines()
    mode = {int(line.split("\t")[0]): line.split("\t")[2] for line in listed}
    assert mode[rid] == "暗访" and mode[ids["secret_special"]] == "暗访" and mode[ids["announced_monthly"]] == "明察"
    assert mode[ids["announced"]] == "明察", listed
