"""Page login (issue 14): token → HttpOnly session cookie, CSRF-safe writes, logout; in Chromium too."""

from __future__ import annotations

import hashlib
import json
import secrets
import time

import pytest
from fastapi.testclient import TestClient

from data.db import connect
from layers.workflow.access import add_user

COOKIE = "hm_session"


@pytest.fixture(scope="module")
def people(module_demo):
    """Users of this module's own copy of the demo (its tests change a grid's contacts)."""
    conn = connect(url=module_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT street_code, code FROM grids WHERE phone IS NOT NULL ORDER BY code LIMIT 1")
        street, grid = cur.fetchone()
    tag = secrets.token_hex(3)
    tokens = {}
    for role, scope in (("admin", None), ("street", street), ("planner", None)):
        _, tokens[role] = add_user(conn, f"login-{role}-{tag}", role, street_code=scope, created_by="test")
    conn.commit()
    conn.close()
    return {"tokens": tokens, "street": street, "grid": grid, "names": {r: f"login-{r}-{tag}" for r in tokens}}


@pytest.fixture
def client(module_demo, env_for, monkeypatch):
    from api.app import create_app

    env_for(module_demo)
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _login(client, token: str, target: str = "/map"):
    return client.post("/login", data={"token": token, "next": target}, follow_redirects=False)


def test_login_form_in_both_languages(client):
    assert "令牌" in client.get("/login").text
    page = client.get("/login?lang=en&next=/map/grids?street=1").text
    assert "Token" in page and 'type="password"' in page


def test_login_sets_a_safe_session_cookie_never_the_token(client, people, module_demo):
    bad = _login(client, "not-a-token")
    assert bad.status_code == 401 and "令牌无效" in bad.text and COOKIE not in bad.headers.get("set-cookie", "")
    token = people["tokens"]["admin"]
    r = _login(client, token, "/map/grids?street=" + people["street"])
    assert r.status_code == 303 and r.headers["location"] == "/map/grids?street=" + people["street"]
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=") and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace(
        "Strict", "strict")
    assert "Secure" not in cookie  # served over plain http here; over https it is Secure
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert token not in cookie and session_id != token
    conn = connect(url=module_demo)
    with conn.cursor() as cur:  # the database keeps only the digest of the session id
        cur.execute("SELECT count(*) FROM sessions WHERE id_sha256 = %s",
                    (hashlib.sha256(session_id.encode()).hexdigest(),))
        assert cur.fetchone()[0] == 1
    conn.close()
    over_https = client.post("/login", data={"token": token}, headers={"X-Forwarded-Proto": "https"},
                             follow_redirects=False)
    assert "Secure" in over_https.headers["set-cookie"]


def test_next_never_leaves_the_site(client, people):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert _login(client, people["tokens"]["planner"], target).headers["location"] == "/"


def test_cookie_reads_and_csrf_safe_writes(client, people):
    anonymous = client.get("/map", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    _login(client, people["tokens"]["street"])  # the client keeps the cookie
    assert client.get("/map").status_code == 200
    me = client.get("/api/session").json()
    assert me["user"] == people["names"]["street"] and me["csrf_token"]
    grids = client.get(f"/api/grids?street={people['street']}").json()["features"]
    assert any(f["properties"].get("phone") for f in grids)  # its own street: personal columns
    body = {"unit": "登录测试单位", "manager": "王", "phone": "0535-6000000", "reason": "login test"}
    url = f"/api/grids/{people['grid']}/assignment"
    refused = client.put(url, json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    refused = client.put(url, json=body, headers={"X-CSRF-Token": "wrong"})
    assert refused.status_code == 403
    done = client.put(url, json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert done.status_code == 200, done.text
    # A bearer-token write needs no CSRF token: no browser sends it on its own.
    bearer = TestClient(client.app, raise_server_exceptions=False)
    assert bearer.put(url, json={**body, "reason": "bearer"},
                      headers={"Authorization": f"Bearer {people['tokens']['admin']}"}).status_code == 200


def test_logout_ends_the_session(client, people):
    _login(client, people["tokens"]["planner"])
    session_id = client.cookies.get(COOKIE)
    assert client.get("/api/layers").status_code == 200
    out = client.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/api/layers").status_code == 401
    client.cookies.set(COOKIE, session_id)  # the old cookie, kept by a thief: dead
    assert client.get("/api/layers").status_code == 401


# -- in Chromium ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def locked_server(module_demo):
    from tests.chromium import serve_app

    with serve_app(module_demo, extra_env={"HYGIENE_MAP_READS_NEED_TOKEN": "1"}) as base:
        yield base


def _wait(browser, expression: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = browser.evaluate(expression)
            if value:
                return value
        except Exception:  # the page is navigating: its context is gone for a moment
            pass
        time.sleep(0.2)
    raise AssertionError(f"{expression} did not become true within {timeout} s")


def _xhr(browser, url: str) -> dict:
    """A same-origin request from the page (with its cookie), synchronously: status and body."""
    return json.loads(browser.evaluate(
        f"(function(){{var x=new XMLHttpRequest();x.open('GET',{json.dumps(url)},false);x.send();"
        "return JSON.stringify({status:x.status,body:x.responseText})})()"))


def test_login_in_chromium_shows_personal_columns_and_logs_out(browser, locked_server, people):
    target = f"/map/grids?street={people['street']}"
    browser.open(locked_server + target)
    _wait(browser, "location.pathname === '/login' && !!document.getElementById('token')")
    assert browser.evaluate("document.cookie") == ""
    token = people["tokens"]["admin"]
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(token)}; document.forms[0].submit()")
    _wait(browser, "location.pathname === '/map/grids' && !!document.getElementById('hm-user')")
    assert browser.evaluate("document.getElementById('hm-user').innerText") == people["names"]["admin"]
    # The bar names the role in the page's language; the map's scale is in metres only (Leaflet adds feet).
    assert "(管理员)" in browser.evaluate("document.querySelector('.hm-session').innerText")
    scale = browser.evaluate("Array.from(document.querySelectorAll('.leaflet-control-scale-line')).map(e => e.innerText)")
    assert len(scale) == 1 and scale[0].endswith(("km", " m")), scale
    assert browser.evaluate("document.cookie") == ""  # HttpOnly: no script reads the session
    grids = _xhr(browser, f"/api/grids?street={people['street']}")
    assert grids["status"] == 200
    assert any(f["properties"].get("phone") for f in json.loads(grids["body"])["features"])
    browser.evaluate("document.getElementById('hm-logout').click()")
    _wait(browser, "location.pathname === '/login'")
    assert _xhr(browser, "/api/layers")["status"] == 401
