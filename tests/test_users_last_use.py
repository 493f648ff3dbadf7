"""When each account was last used, in `users list`, on Taipei through the real server (session 22's walkthrough).

The time of last use was not kept: an administrator could not tell a departed inspector's token, still valid, from
one in daily use. Now a page login and a request with a token or a login's cookie are recorded (a request at most
once per quarter of an hour per account), `users list` shows the time in the city's zone (从未使用 / never), and
`users list --unused-days N` names the dormant enabled accounts. A test cannot wait 90 days or 15 minutes: it moves
a recorded time back with SQL of its own, as the clock would have.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg2
import pytest

from tests.real_city import TAIPEI_FILES, TAIPEI_STREET, new_city, taipei_areas

INSPECTOR, OFFICE, PLANNER = "大同區清潔隊", "中山區公所", "臺北市環保局"
ZHONGSHAN = "6300400"


@pytest.fixture(scope="module")
def taipei_users(pg_server, tmp_path_factory):
    """Taipei's areas, three users added with the command line (their tokens in ``city.log``), and the server."""
    from tests.chromium import serve_app

    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        city.log["tokens"] = {
            name: city.cli("users", "add", name, *args).stdout.strip().splitlines()[-1]
            for name, args in ((INSPECTOR, ("--role", "inspector", "--street", TAIPEI_STREET)),
                               (OFFICE, ("--role", "street", "--street", ZHONGSHAN)),
                               (PLANNER, ("--role", "planner")))}
        with serve_app(city.url) as base:
            city.base = base
            yield city


def _listed(city, *args) -> tuple[list[str], dict[str, list[str]], str]:
    """`users list ARGS`: its header's columns, its rows by user name, and all it printed."""
    done = city.cli("users", "list", *args)
    lines = done.stdout.splitlines()
    return lines[0].split("\t"), {line.split("\t")[0]: line.split("\t") for line in lines[1:]}, done.stdout + done.stderr


def _backdate(city, name: str, column: str, ago: timedelta) -> None:
    """The clock moved on: ``name``'s ``column`` (last_used_at, created_at) set ``ago`` before now."""
    conn = psycopg2.connect(city.url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"UPDATE users SET {column} = now() - %s WHERE name = %s", (ago, name))
    finally:
        conn.close()


def _last_used(city, name: str) -> datetime | None:
    return city.one("SELECT last_used_at FROM users WHERE name = %s", (name,))


def _bearer(city, name: str) -> dict:
    return {"Authorization": f"Bearer {city.log['tokens'][name]}"}


def test_a_login_and_a_token_use_show_in_users_list_and_an_account_never_used_says_so(taipei_users):
    city = taipei_users
    header, rows, _ = _listed(city)
    assert header[-1] == "最近使用" and {rows[n][-1] for n in (INSPECTOR, OFFICE, PLANNER)} == {"从未使用"}

    # The inspector logs in on the page (its token pasted in the form); the district office's script reads a layer.
    login = httpx.post(city.base + "/login", data={"token": city.log["tokens"][INSPECTOR], "next": "/map"})
    assert login.status_code == 303 and login.cookies.get("hm_session")
    assert httpx.get(city.base + "/api/layers", headers=_bearer(city, OFFICE)).status_code == 200

    header, rows, printed = _listed(city)
    now = datetime.now(ZoneInfo("Asia/Taipei")).replace(tzinfo=None)
    for name in (INSPECTOR, OFFICE):
        shown = datetime.strptime(rows[name][-1], "%Y-%m-%d %H:%M")  # the city's time, to the minute
        assert abs(shown - now) < timedelta(minutes=2), (name, rows[name], now)
    assert rows[PLANNER][-1] == "从未使用"
    english_header, english, english_printed = _listed(city, "--lang", "en")
    assert english_header[-1] == "last used" and english[PLANNER][-1] == "never"
    assert english[OFFICE][-1] == rows[OFFICE][-1]
    for token in city.log["tokens"].values():  # never a token nor its digest
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert token not in printed + english_printed and digest not in printed + english_printed


def test_requests_record_the_use_at_most_once_a_quarter_hour_a_login_every_time(taipei_users):
    city = taipei_users
    with httpx.Client(base_url=city.base) as client:
        assert client.get("/api/layers", headers=_bearer(city, OFFICE)).status_code == 200
        first = _last_used(city, OFFICE)
        for _ in range(5):  # a map's burst of requests: the row is not written again
            assert client.get("/api/layers", headers=_bearer(city, OFFICE)).status_code == 200
        assert _last_used(city, OFFICE) == first

        _backdate(city, OFFICE, "last_used_at", timedelta(minutes=20))
        assert client.get("/api/layers", headers=_bearer(city, OFFICE)).status_code == 200
        assert datetime.now(first.tzinfo) - _last_used(city, OFFICE) < timedelta(minutes=1)

        # A browser's login cookie counts as a use too; a login is recorded even within the quarter hour.
        assert client.post("/login", data={"token": city.log["tokens"][INSPECTOR]}).status_code == 303
        _backdate(city, INSPECTOR, "last_used_at", timedelta(minutes=20))
        assert client.get("/api/session").json()["user"] == INSPECTOR
        assert datetime.now(first.tzinfo) - _last_used(city, INSPECTOR) < timedelta(minutes=1)
        _backdate(city, INSPECTOR, "last_used_at", timedelta(minutes=5))
        assert client.post("/login", data={"token": city.log["tokens"][INSPECTOR]}).status_code == 303
        assert datetime.now(first.tzinfo) - _last_used(city, INSPECTOR) < timedelta(minutes=1)
        # A wrong token records nothing and is refused as before.
        before = _last_used(city, PLANNER)
        assert client.get("/api/layers", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
        assert _last_used(city, PLANNER) == before


def test_users_list_unused_days_names_the_dormant_enabled_accounts(taipei_users):
    city = taipei_users
    city.cli("users", "add", "文山區公所", "--role", "street", "--street", "6300800")  # new today, never used
    city.cli("users", "add", "離職檢查員", "--role", "inspector", "--street", TAIPEI_STREET)
    city.cli("users", "add", "已停用帳號", "--role", "planner")
    _backdate(city, INSPECTOR, "last_used_at", timedelta(days=100))   # the inspector who left in the summer
    _backdate(city, "離職檢查員", "created_at", timedelta(days=200))  # made long ago, never used
    _backdate(city, "已停用帳號", "created_at", timedelta(days=200))
    city.cli("users", "disable", "已停用帳號")  # shut already: not listed
    assert httpx.get(city.base + "/api/layers", headers=_bearer(city, OFFICE)).status_code == 200

    header, rows, _ = _listed(city, "--unused-days", "90")
    assert header[-1] == "最近使用" and sorted(rows) == sorted([INSPECTOR, "離職檢查員"])
    assert rows["離職檢查員"][-1] == "从未使用" and rows[INSPECTOR][3] == "启用"
    _, rows_120, _ = _listed(city, "--unused-days", "120", "--lang", "en")
    assert sorted(rows_120) == ["離職檢查員"] and rows_120["離職檢查員"][-1] == "never"
    _, everyone, _ = _listed(city)
    assert {"文山區公所", "已停用帳號", OFFICE, PLANNER} <= set(everyone)  # the plain list is unchanged

    none = city.cli("users", "list", "--unused-days", "365")
    assert none.stdout.strip() == "没有 365 天以上未使用的启用用户"
    for bad in ("0", "-5", "abc", "99999"):
        refused = city.cli("users", "list", "--unused-days", bad, check=False)
        assert refused.returncode == 2 and "--unused-days" in refused.stderr, (bad, refused.stderr)
        assert "Traceback" not in refused.stderr
