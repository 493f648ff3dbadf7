"""An unannounced round (月度暗访) on Taipei's 大同區, planned for next week: until it starts, the street office it
will inspect and the public cannot learn of it — not in the list of rounds, not by its id, its scores, its problem
list, its findings or the field page — while the campaign office, planners and inspectors see it. An announced
round (周检查) planned alike is seen by all; so is the unannounced one once it has started.
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
    """Tokens per role, and the ids of three rounds over 大同區: an unannounced and an announced one next week, an
    unannounced one that started yesterday."""
    city = taipei_server
    tokens = {"admin": city.token, None: None}
    for role, scope in WHO.items():
        tokens[role] = city.cli("users", "add", f"rounds-{role}", "--role", role,
                                *scope).stdout.strip().splitlines()[-1]
    now = datetime.now(UTC)
    ids = {}
    for key, kind, starts in (("secret", "月度暗访", now + timedelta(days=7)), ("announced", "周检查", now + timedelta(days=7)),
                              ("started", "月度暗访", now - timedelta(days=1))):
        made = httpx.post(city.base + "/api/inspections/rounds", headers={"Authorization": f"Bearer {city.token}"},
                          json={"name": f"大同區{kind}{key}", "kind": kind, "streets": [TAIPEI_STREET],
                                "starts": starts.isoformat(), "ends": (starts + timedelta(days=3)).isoformat()},
                          timeout=30)
        assert made.status_code == 201, made.text
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
    assert ids["secret"] not in seen and {ids["announced"], ids["started"]} <= seen
    for path in (f"/api/inspections/rounds/{ids['secret']}", f"/api/inspections/rounds/{ids['secret']}/scores",
                 f"/api/inspections/rounds/{ids['secret']}/problems.xlsx",
                 f"/api/inspections/findings?round={ids['secret']}"):
        answer = _get(city, path, tokens[who])
        # As for a round that does not exist: nothing says that one is planned.
        assert answer.status_code == 404 and answer.json()["detail"] == f"no inspection round with id {ids['secret']}", \
            (path, answer.status_code, answer.text)
    for key in ("announced", "started"):
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
