"""A user's token replaced under the same name, a user enabled again, the users listed (ops finding F1), on Taipei.

README said "to replace a token, disable and add again", but `users add` refused the name of a disabled user: the
office's history would have been split over 中山區公所 and 中山區公所2. There was no way to list the users.
"""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from tests.real_city import TAIPEI_FILES, new_city, taipei_areas

OFFICE = "中山區公所"
ZHONGSHAN = "6300400"  # 中山區's district office, a street-level area of Taipei


@pytest.fixture(scope="module")
def taipei_offices(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages imported with the command line."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        yield city


def _token(done) -> str:
    return done.stdout.strip().splitlines()[-1]


def _who(client: TestClient, token: str | None = None) -> str | None:
    """The user the server takes a request with ``token`` (or the client's cookie) for; None when nobody."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.get("/api/session", headers=headers)
    return answer.json()["user"] if answer.status_code == 200 else None


def test_a_district_office_gets_a_new_token_under_its_own_name(taipei_offices, env_for):
    city = taipei_offices
    old = _token(city.cli("users", "add", OFFICE, "--role", "street", "--street", ZHONGSHAN))
    env_for(city.url)
    from api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.post("/login", data={"token": old, "next": "/map"}, follow_redirects=False).status_code == 303
        assert _who(client) == OFFICE  # a browser logged in with the old token
        rotated = city.cli("users", "rotate", OFFICE)
        new = _token(rotated)
        assert new != old and "旧令牌即刻失效" in rotated.stderr and "街道 6300400" in rotated.stderr
        assert _who(client) is None  # its page login ended
        client.cookies.clear()
        assert _who(client, old) is None and _who(client, new) == OFFICE

        # Leaked: disabled at once; a new token handed over; only then let in again.
        city.cli("users", "disable", OFFICE)
        again = city.cli("users", "rotate", OFFICE)
        newest = _token(again)
        assert "仍处于停用状态" in again.stderr and f"users enable {OFFICE}" in again.stderr
        assert _who(client, newest) is None
        city.cli("users", "enable", OFFICE)
        assert _who(client, newest) == OFFICE and _who(client, new) is None

    refused = city.cli("users", "add", OFFICE, "--role", "street", "--street", ZHONGSHAN, check=False)
    assert refused.returncode == 2 and f"users rotate {OFFICE}" in refused.stderr
    assert city.sql("SELECT count(*) FROM users WHERE name LIKE %s", (OFFICE + "%",)) == [(1,)]
    actions = [a for (a,) in city.sql("SELECT action FROM audit_log WHERE target = %s ORDER BY id", (f"user:{OFFICE}",))]
    assert actions == ["user.add", "user.rotate", "user.disable", "user.rotate", "user.enable"]


def test_users_list_shows_who_may_do_what_and_never_a_token(taipei_offices):
    city = taipei_offices
    tokens = [_token(city.cli("users", "add", "大同區清潔隊", "--role", "inspector", "--street", "6300600")),
              _token(city.cli("users", "add", "臺北市環保局", "--role", "planner"))]
    city.cli("users", "disable", "臺北市環保局")
    listed = city.cli("users", "list")
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()[1:]}
    assert listed.stdout.splitlines()[0].startswith("用户\t角色\t范围\t状态")
    assert rows["大同區清潔隊"][1:4] == ["inspector", "街道 6300600", "启用"]
    assert rows["臺北市環保局"][1:3] == ["planner", "只读"] and rows["臺北市環保局"][3].startswith("已停用（")
    english = city.cli("users", "list", "--lang", "en").stdout
    assert "大同區清潔隊\tinspector\tstreet 6300600\tenabled" in english
    for token in tokens:
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert token not in listed.stdout + english and digest not in listed.stdout + english
