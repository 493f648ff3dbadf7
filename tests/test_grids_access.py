"""Grid assignments, complaints and access control over HTTP, against a real PostGIS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from data.db import connect
from layers.workflow.access import add_user, token_digest

OWN_STREET, OTHER_STREET = "379901001", "379901002"


@pytest.fixture(scope="module")
def city(module_demo):
    """A writable small demo city with one user per role; module-scoped (tests here use distinct targets)."""
    url = module_demo
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM grids WHERE street_code = %s ORDER BY code LIMIT 1", (OWN_STREET,))
        own_grid = cur.fetchone()[0]
        cur.execute("SELECT code FROM grids WHERE street_code = %s ORDER BY code LIMIT 1", (OTHER_STREET,))
        other_grid = cur.fetchone()[0]
    tokens = {}
    for name, role, street, grids in [("admin1", "admin", None, None), ("planner1", "planner", None, None),
                                      ("street1", "street", OWN_STREET, None),
                                      ("inspector1", "inspector", None, [own_grid])]:
        _, tokens[role] = add_user(conn, name, role, street_code=street, grid_codes=grids, created_by="test")
    conn.commit()
    conn.close()
    return {"url": url, "tokens": tokens, "grid": {"own": own_grid, "other": other_grid}}


@pytest.fixture(scope="module")
def client(city):
    import os

    from api.app import create_app

    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = city["url"]
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
    if old is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = old


def _auth(city, role):
    return {} if role is None else {"Authorization": f"Bearer {city['tokens'][role]}"}


def _point_in(city, grid_code):
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids WHERE code = %s) s",
                    (grid_code,))
        lon, lat = cur.fetchone()
    conn.close()
    return lon, lat


def _post_complaint(client, city, grid_code, role="admin", **extra):
    lon, lat = _point_in(city, grid_code)
    body = {"lon": lon, "lat": lat, "category": "暴露垃圾", "description": "路边垃圾堆放", "source": "12345", **extra}
    return client.post("/api/complaints", json=body, headers=_auth(city, role))


# role → target → expected status, per write endpoint (DESIGN §9: a street token changes only its street).
MATRIX = {
    "put_assignment": {None: (401, 401), "admin": (200, 200), "planner": (403, 403), "street": (200, 403),
                       "inspector": (403, 403)},
    "post_complaint": {None: (401, 401), "admin": (201, 201), "planner": (403, 403), "street": (201, 403),
                       "inspector": (201, 403)},
    "patch_complaint": {None: (401, 401), "admin": (200, 200), "planner": (403, 403), "street": (200, 403),
                        "inspector": (200, 403)},
}
CASES = [(endpoint, role, target, MATRIX[endpoint][role][k])
         for endpoint in MATRIX for role in MATRIX[endpoint] for k, target in enumerate(("own", "other"))]


@pytest.mark.parametrize(("endpoint", "role", "target", "expected"), CASES,
                         ids=[f"{e}-{r or 'anonymous'}-{t}" for e, r, t, _ in CASES])
def test_authorization_matrix(client, city, endpoint, role, target, expected):
    grid = city["grid"][target]
    if endpoint == "put_assignment":
        body = {"unit": f"{role}单位", "manager": "李明", "phone": "0535-6000001", "reason": f"matrix {role}"}
        response = client.put(f"/api/grids/{grid}/assignment", json=body, headers=_auth(city, role))
    elif endpoint == "post_complaint":
        response = _post_complaint(client, city, grid, role)
    else:
        created = _post_complaint(client, city, grid, "admin")
        assert created.status_code == 201, created.text
        response = client.patch(f"/api/complaints/{created.json()['id']}", json={"status": "立案", "note": "ok"},
                                headers=_auth(city, role))
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.json()["detail"]  # a message, never an empty body
    if expected == 401:
        assert response.headers.get("www-authenticate") == "Bearer"


def test_refused_writes_change_nothing_and_accepted_ones_are_audited(client, city):
    grid = city["grid"]["other"]
    before = client.get(f"/api/grids/{grid}/history").json()["history"]
    refused = client.put(f"/api/grids/{grid}/assignment", headers=_auth(city, "street"),
                         json={"unit": "越权单位", "manager": "张三", "phone": "13800000000", "reason": "越权"})
    assert refused.status_code == 403 and OTHER_STREET in refused.json()["detail"]
    assert client.get(f"/api/grids/{grid}/history").json()["history"] == before
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_log WHERE after->>'unit' = '越权单位'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT actor, before, after FROM audit_log WHERE action = 'grid.assign' AND target = %s "
                    "ORDER BY id DESC LIMIT 1", (f"grid:{city['grid']['own']}",))
        actor, audit_before, audit_after = cur.fetchone()
    conn.close()
    assert actor in ("admin1", "street1") and audit_before and audit_after


def test_unknown_token_is_401_and_tokens_are_stored_only_as_hashes(client, city):
    response = client.get("/api/grids/" + city["grid"]["own"] + "/history", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT token_sha256 FROM users")
        stored = {r[0] for r in cur.fetchall()}
    conn.close()
    for token in city["tokens"].values():
        assert token not in stored and token_digest(token) in stored


def test_reads_can_require_a_token(client, city, monkeypatch):
    url = f"/api/grids?street={OWN_STREET}"
    assert client.get(url).status_code == 200
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    assert client.get(url).status_code == 401
    assert client.get(url, headers=_auth(city, "planner")).status_code == 200


def test_history_is_complete_after_several_reassignments(client, city):
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM grids WHERE street_code = %s ORDER BY code OFFSET 5 LIMIT 1", (OWN_STREET,))
        grid = cur.fetchone()[0]
    conn.close()
    start = client.get(f"/api/grids/{grid}/history").json()["history"]
    assert len(start) == 1  # the demo's initial assignment
    people = [("一组", "甲", "0535-6000011", "admin"), ("二组", "乙", "0535-6000012", "street"),
              ("三组", "丙", "0535-6000013", "admin"), ("四组", "丁", "0535-6000014", "street")]
    for unit, manager, phone, role in people:
        r = client.put(f"/api/grids/{grid}/assignment", headers=_auth(city, role),
                       json={"unit": unit, "manager": manager, "phone": phone, "reason": f"调整为{unit}"})
        assert r.status_code == 200 and r.json()["changed"] is True
    # The same assignment again records nothing.
    same = client.put(f"/api/grids/{grid}/assignment", headers=_auth(city, "admin"),
                      json={"unit": "四组", "manager": "丁", "phone": "0535-6000014", "reason": "重复"})
    assert same.json()["changed"] is False
    # Managers and phones are staff-only (issue 14): read the history and the list as the admin.
    history = client.get(f"/api/grids/{grid}/history", headers=_auth(city, "admin")).json()["history"]
    assert len(history) == 5
    assert [h["after"]["unit"] for h in history[1:]] == ["一组", "二组", "三组", "四组"]
    assert [h["changed_by"] for h in history[1:]] == ["admin1", "street1", "admin1", "street1"]
    assert [h["reason"] for h in history[1:]] == [f"调整为{p[0]}" for p in people]
    # Each entry's "before" is the previous entry's "after": no change is missing.
    for prev, cur_ in zip(history, history[1:]):
        assert cur_["before"] == prev["after"]
    listed = client.get(f"/api/grids?street={OWN_STREET}", headers=_auth(city, "admin")).json()
    props = next(f["properties"] for f in listed["features"] if f["id"] == grid)
    assert (props["responsible_unit"], props["grid_manager"], props["phone"]) == ("四组", "丁", "0535-6000014")


def test_history_rows_cannot_be_rewritten_even_by_sql(city):
    import psycopg2

    conn = connect(url=city["url"])
    for statement in ("UPDATE grid_assignments SET reason = 'x'", "DELETE FROM grid_assignments",
                      "UPDATE complaint_events SET note = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cur:
            cur.execute(statement)
        conn.rollback()
    conn.close()


def test_a_posted_complaint_is_routed_to_the_grid_containing_it(client, city):
    from datetime import datetime, timedelta, timezone

    grid = city["grid"]["own"]
    # Relative to today, so the test means the same on any date.
    reported = (datetime.now(timezone(timedelta(hours=8))) - timedelta(days=3)).replace(microsecond=0)
    r = _post_complaint(client, city, grid, "street", category="垃圾满溢", reported_at=reported.isoformat())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["grid_code"] == grid
    assert body["community_code"] == grid[:12] and body["street_code"] == grid[:9] and body["district_code"] == grid[:6]
    assert body["status"] == "受理"
    due = datetime.fromisoformat(body["due_at"])
    assert (due - reported).total_seconds() == 12 * 3600  # 垃圾满溢: 12 h
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT responsible_unit FROM grids WHERE code = %s", (grid,))
        assert body["responsible_unit"] == cur.fetchone()[0]
        cur.execute("SELECT source, channel FROM complaints WHERE id = %s", (body["id"],))
        assert cur.fetchone() == ("api", "12345")
    conn.close()
    # Who handled a case is for staff (issue 14): read it as the admin.
    got = client.get(f"/api/complaints/{body['id']}", headers=_auth(city, "admin")).json()
    assert [e["to"] for e in got["events"]] == ["受理"] and got["events"][0]["actor"] == "street1"
    # Three days old with a 12 h limit and still open: flagged overdue, and listed as such.
    late = r
    assert late.json()["overdue"] is True and late.json()["closed_late"] is False
    fresh = _post_complaint(client, city, grid, "street", category="水域不洁")
    assert fresh.json()["overdue"] is False
    listed = client.get(f"/api/complaints?grid={grid}&overdue=true&limit=1000").json()["items"]
    assert late.json()["id"] in {i["id"] for i in listed} and fresh.json()["id"] not in {i["id"] for i in listed}


def test_possible_duplicates_are_same_category_nearby_and_recent(client, city):
    grid = city["grid"]["own"]
    first = _post_complaint(client, city, grid, "admin", category="病媒生物").json()
    assert all(d["id"] != first["id"] for d in first["possible_duplicates"])
    second = _post_complaint(client, city, grid, "admin", category="病媒生物").json()
    ids = [d["id"] for d in second["possible_duplicates"]]
    assert first["id"] in ids
    assert all(d["distance_m"] <= 50 for d in second["possible_duplicates"])
    other_kind = _post_complaint(client, city, grid, "admin", category="水域不洁").json()
    assert first["id"] not in [d["id"] for d in other_kind["possible_duplicates"]]
    # ~100 m away (0.0009° of latitude) is not a duplicate.
    lon, lat = _point_in(city, grid)
    far = client.post("/api/complaints", headers=_auth(city, "admin"),
                      json={"lon": lon, "lat": lat + 0.0009, "category": "病媒生物", "source": "微信"})
    if far.status_code == 201:
        assert first["id"] not in [d["id"] for d in far.json()["possible_duplicates"]]


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_gcj02_and_bd09_coordinates_are_converted_before_routing(client, city, crs):
    from geo.coords import wgs84_to_bd09, wgs84_to_gcj02

    lon, lat = _point_in(city, city["grid"]["own"])
    glon, glat = (wgs84_to_gcj02 if crs == "gcj02" else wgs84_to_bd09)(lon, lat)
    r = client.post("/api/complaints", headers=_auth(city, "admin"),
                    json={"lon": float(glon), "lat": float(glat), "crs": crs, "category": "道路不洁",
                          "source": "微信"})
    assert r.status_code == 201, r.text
    assert r.json()["grid_code"] == city["grid"]["own"]
    got = client.get(f"/api/complaints/{r.json()['id']}").json()
    # Stored in WGS84 (the GCJ-02 shift here is ~500 m, so an unconverted point would be far off).
    assert got["lon"] == pytest.approx(lon, abs=1e-6) and got["lat"] == pytest.approx(lat, abs=1e-6)


def test_workflow_allows_only_legal_transitions(client, city):
    created = _post_complaint(client, city, city["grid"]["own"], "street").json()
    url = f"/api/complaints/{created['id']}"
    skip = client.patch(url, json={"status": "处置"}, headers=_auth(city, "street"))
    assert skip.status_code == 409
    assert "受理" in skip.json()["detail"] and "处置" in skip.json()["detail"] and "立案" in skip.json()["detail"]
    for status in ("立案", "派遣", "处置", "核查"):
        r = client.patch(url, json={"status": status, "note": f"→{status}"}, headers=_auth(city, "street"))
        assert r.status_code == 200, r.text
    # A failed check goes back to 处置, and needs a note saying why.
    no_note = client.patch(url, json={"status": "处置"}, headers=_auth(city, "street"))
    assert no_note.status_code == 422 and "note" in no_note.json()["detail"]
    back = client.patch(url, json={"status": "处置", "note": "核查不合格，返工"}, headers=_auth(city, "street"))
    assert back.status_code == 200
    client.patch(url, json={"status": "核查"}, headers=_auth(city, "street"))
    closed = client.patch(url, json={"status": "结案", "note": "已清理"}, headers=_auth(city, "street")).json()
    assert closed["status"] == "结案" and closed["closed_at"]
    assert [e["to"] for e in closed["events"]] == ["受理", "立案", "派遣", "处置", "核查", "处置", "核查", "结案"]
    assert [e["from"] for e in closed["events"][1:]] == ["受理", "立案", "派遣", "处置", "核查", "处置", "核查"]
    reopen = client.patch(url, json={"status": "受理"}, headers=_auth(city, "admin"))
    assert reopen.status_code == 409 and "closed" in reopen.json()["detail"]
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT actor, before->>'status', after->>'status' FROM audit_log "
                    "WHERE target = %s AND action = 'complaint.transition' ORDER BY id", (f"complaint:{created['id']}",))
        trail = cur.fetchall()
    conn.close()
    assert [(b, a) for _, b, a in trail] == [("受理", "立案"), ("立案", "派遣"), ("派遣", "处置"), ("处置", "核查"),
                                             ("核查", "处置"), ("处置", "核查"), ("核查", "结案")]
    assert {actor for actor, _, _ in trail} == {"street1"}


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("post", "/api/complaints", {"lat": 37.49, "category": "暴露垃圾", "source": "12345"}, "lon"),
    ("post", "/api/complaints", {"lon": "east", "lat": 37.49, "category": "暴露垃圾", "source": "12345"}, "lon"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 137.0, "category": "暴露垃圾", "source": "12345"}, "lat"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "暴露垃圾", "source": "12345",
                                 "crs": "mars"}, "crs"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "不存在的类别", "source": "12345"},
     "category"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "暴露垃圾"}, "source"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "暴露垃圾", "source": "12345",
                                 "reported_at": "yesterday"}, "reported_at"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "暴露垃圾", "source": "12345",
                                 "reported_at": "2099-01-01T00:00:00+08:00"}, "reported_at"),
    ("post", "/api/complaints", {"lon": 10.0, "lat": 10.0, "category": "暴露垃圾", "source": "12345"}, "lon/lat"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "暴露垃圾", "source": "1", "x": 1}, "x"),
    ("put", "/api/grids/{own}/assignment", {"unit": "", "manager": "王", "phone": "0535-6000000", "reason": "r"},
     "unit"),
    ("put", "/api/grids/{own}/assignment", {"unit": "单位", "manager": "王", "phone": "call me", "reason": "r"},
     "phone"),
    ("put", "/api/grids/{own}/assignment", {"unit": "单位", "manager": "王", "phone": "0535-6000000"}, "reason"),
    ("patch", "/api/complaints/1", {"status": "done"}, "status"),
    ("patch", "/api/complaints/1", {}, "status"),
    ("patch", "/api/complaints/1", {"status": "立案", "note": "a\x00b"}, "note"),
    ("post", "/api/complaints", {"lon": 121.38, "lat": 37.49, "category": "暴露\x00垃圾", "source": "12345"},
     "category"),
    ("put", "/api/grids/{own}/assignment", {"unit": "单\x00位", "manager": "王", "phone": "0535-6000000",
                                           "reason": "r"}, "unit"),
])
def test_malformed_bodies_get_422_naming_the_field(client, city, method, path, body, field):
    path = path.format(own=city["grid"]["own"])
    r = getattr(client, method)(path, json=body, headers=_auth(city, "admin"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(field), r.json()["detail"]


def test_a_bad_phone_is_refused_in_the_rosters_words_not_as_a_pattern(client, city):
    """The assignment API says what a phone number is, as the roster import does, in both languages."""
    r = client.put(f"/api/grids/{city['grid']['own']}/assignment", headers=_auth(city, "admin"),
                   json={"unit": "单位", "manager": "王", "phone": "1", "reason": "r"})
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": "phone: '1' has too few digits for a phone number (with its 0 area code 10 or "
                                  "more, else 7 or more)",
                        "detail_zh": "phone：'1' 位数不足，不是完整的电话号码（带 0 开头区号的至少 10 位，其他至少 7 位）"}, \
        r.json()


def test_not_json_and_unknown_targets(client, city):
    r = client.post("/api/complaints", content=b"{not json", headers={**_auth(city, "admin"),
                                                                       "Content-Type": "application/json"})
    assert r.status_code == 422
    assert client.put("/api/grids/37990100199999/assignment", headers=_auth(city, "admin"),
                      json={"unit": "u", "manager": "m", "phone": "0535-6000000", "reason": "r"}).status_code == 404
    assert client.patch("/api/complaints/999999999", json={"status": "立案"},
                        headers=_auth(city, "admin")).status_code == 404
    assert client.get("/api/grids/37990100199999/history").status_code == 404
    assert client.get("/api/grids?street=379999999").status_code == 404


def test_complaint_listing_filters_and_pages(client, city):
    grid = city["grid"]["own"]
    page = client.get(f"/api/complaints?grid={grid}&limit=2").json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2
    assert all(i["grid_code"] == grid for i in page["items"])
    assert page["items"][0]["reported_at"] >= page["items"][1]["reported_at"]
    nxt = client.get(f"/api/complaints?grid={grid}&limit=2&offset=2").json()
    assert {i["id"] for i in nxt["items"]}.isdisjoint({i["id"] for i in page["items"]})
    overdue = client.get(f"/api/complaints?street={OWN_STREET}&overdue=true&limit=50").json()["items"]
    assert overdue and all(i["overdue"] and i["status"] != "结案" for i in overdue)
    window = client.get(f"/api/complaints?street={OWN_STREET}&since=2025-01-01&until=2025-02-01&status=结案").json()
    assert window["items"] and all("2024-12-31" <= i["reported_at"][:10] <= "2025-02-01" and i["status"] == "结案"
                                   for i in window["items"])
    assert client.get("/api/complaints?limit=100000").status_code == 422
    assert client.get("/api/complaints?status=nope").status_code == 422


def test_the_access_log_names_the_user_and_never_the_token(client, city, caplog):
    import logging

    token = city["tokens"]["street"]
    with caplog.at_level(logging.INFO):
        client.get(f"/api/grids/{city['grid']['own']}/history", headers={"Authorization": f"Bearer {token}"})
    lines = [r.getMessage() for r in caplog.records if '"path": "/api/grids/' in r.getMessage()]
    assert lines and '"user": "street1"' in lines[-1]
    assert all(token not in r.getMessage() for r in caplog.records)


def test_history_of_an_existing_complaint_cannot_be_deleted_but_removing_the_case_is_audited(writable_demo):
    import psycopg2

    from data.db import connect

    conn = connect(url=writable_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM complaints ORDER BY id LIMIT 1")
        complaint_id = cur.fetchone()[0]
        try:
            cur.execute("DELETE FROM complaint_events WHERE complaint_id = %s", (complaint_id,))
            raise AssertionError("history of a live complaint was deleted")
        except psycopg2.errors.InsufficientPrivilege:
            conn.rollback()
        cur.execute("DELETE FROM complaints WHERE id = %s", (complaint_id,))
        cur.execute("SELECT count(*) FROM complaint_events WHERE complaint_id = %s", (complaint_id,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT action, before->>'category' FROM audit_log WHERE target = %s",
                    (f"complaint:{complaint_id}",))
        action, category = cur.fetchone()
    conn.commit()
    conn.close()
    assert action == "complaint.remove" and category
