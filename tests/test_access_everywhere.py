"""Who reads what, on every route (issue 14, items 1 and 10).

- With ``HYGIENE_MAP_READS_NEED_TOKEN=1`` every route of the app — walked from
  ``app.routes``, so a route added later without the read dependency fails
  here — answers 401 (API) or redirects to /login (pages) without a token;
  only /healthz, the login page, the static files and the API description answer.
- Column classes: anonymous reads get public columns only (features, tiles,
  OGC, export, complaints, grids); staff get internal columns; personal
  columns go to an admin, to a street user on its street's rows, never to a planner.
"""

from __future__ import annotations

import csv
import io
import json
import secrets

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from api.static import REDOC_JS
from data.db import connect
from layers.spec.registry import LAYERS, get_layer
from layers.workflow.access import add_user

# Routes that answer without credentials, on purpose: health for probes, the login form, and the API's
# description (it holds no city data; /docs needs it). Static files are Mounts, but for ReDoc's bundle, a route
# (api.static.REDOC_JS): the same file for everyone, like every static file.
OPEN = {"/healthz", "/login", "/logout", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", REDOC_JS}
# The public channel (issue 17) and its Open311 interface answer residents, who have no account;
# HYGIENE_MAP_PUBLIC_CHANNEL=0 closes them. Its pages too: /report and /report/{tracking}.
OPEN_PREFIXES = ("/api/public/", "/open311/", "/report/")
OPEN = OPEN | {"/report"}
API_PREFIXES = ("/api/", "/ogc", "/tiles/")
# Staff pages that record as someone: the login page even when reads are open (issue 15's field page).
LOGIN_ALWAYS = {"/field"}
GRIDS = get_layer("grids")


@pytest.fixture(scope="module")
def people(module_demo):
    """An admin, a planner and a street user of a street with complaints, with their tokens (in this module's
    own copy of the demo: it writes complaint descriptions other test files must not see)."""
    conn = connect(url=module_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT street_code FROM complaints WHERE street_code IS NOT NULL "
                    "GROUP BY street_code ORDER BY count(*) DESC, street_code LIMIT 2")
        own, other = (r[0] for r in cur.fetchall())
        # What a complainant wrote (the demo writes none): a name and a phone number, personal data.
        cur.execute("UPDATE complaints SET description = '张先生 13800000000 反映垃圾堆放' WHERE id IN "
                    "(SELECT id FROM complaints WHERE street_code = ANY(%s) AND description IS NULL "
                    "ORDER BY id LIMIT 400)", ([own, other],))
        cur.execute("SELECT code FROM grids WHERE street_code = %s ORDER BY code LIMIT 1", (own,))
        grid = cur.fetchone()[0]
    tag = secrets.token_hex(3)
    tokens = {}
    for role, street in (("admin", None), ("planner", None), ("street", own)):
        _, tokens[role] = add_user(conn, f"access-{role}-{tag}", role, street_code=street, created_by="test")
    conn.commit()
    conn.close()
    return {"tokens": tokens, "own": own, "other": other, "grid": grid}


def _auth(people, role):
    return {"Authorization": f"Bearer {people['tokens'][role]}"} if role else {}


@pytest.fixture
def client(module_demo, env_for, monkeypatch):
    from api.app import create_app

    env_for(module_demo)
    monkeypatch.delenv("HYGIENE_MAP_READS_NEED_TOKEN", raising=False)
    monkeypatch.delenv("HYGIENE_MAP_GRID_CONTACTS_PUBLIC", raising=False)
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _routes(app):
    """(path, methods) of every route, routers included."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                yield context.path, context.methods
        elif hasattr(route, "methods") and route.methods:
            yield route.path, route.methods


def _sample(path: str, people: dict) -> str:
    """The path with sample values for its parameters, and the query parameters the route needs."""
    values = {"layer_id": "complaints", "collection_id": "complaints", "z": "12", "x": "3400", "y": "1500",
              "feature_id": "1", "tms_id": "WebMercatorQuad", "tile_matrix": "12", "tile_row": "1500",
              "tile_col": "3400", "complaint_id": "1",
              "code": people["own"] if "/streets/" in path else people["grid"]}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    query = {"/map/grids": f"?street={people['own']}", "/api/layers/complaints/heat": "?bbox=121,37,122,38&zoom=12"}
    return path + query.get(path, "")


def test_reads_need_token_covers_every_route(client, people, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    checked = 0
    for path, methods in _routes(client.app):
        if path in OPEN or path.startswith(OPEN_PREFIXES):
            continue
        url = _sample(path, people)
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            r = client.request(method, url, follow_redirects=False)
            if method == "GET" and not path.startswith(API_PREFIXES):
                assert r.status_code == 303, (method, url, r.status_code)
                assert r.headers["location"].startswith("/login?next="), (url, r.headers["location"])
            else:
                assert r.status_code == 401, (method, url, r.status_code, r.text[:200])
            checked += 1
            if method == "GET":  # the same route answers with a token (whatever its sample parameters give)
                ok = client.get(url, headers=_auth(people, "planner"), follow_redirects=False)
                assert ok.status_code not in (401, 303), (url, ok.status_code, ok.text[:200])
    assert checked >= 40  # every route was walked (the app has some 45)
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    page = client.get("/static/app/" + "x.css")  # static files are never behind the login (404 here: no such file)
    assert page.status_code in (200, 404)


def test_pages_that_record_as_someone_need_a_login_even_when_reads_are_open(client, people):
    for path in LOGIN_ALWAYS:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), (path, r.status_code)
        assert client.get(path, headers=_auth(people, "planner")).status_code == 200, path


def test_wrong_token_is_401_even_when_reads_are_open(client):
    r = client.get("/api/layers/toilets/features?limit=1", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def _phones(features):
    return [f["properties"].get("phone") for f in features]


def test_features_and_ogc_show_personal_columns_only_to_whom_they_belong(client, people):
    url = f"/api/layers/grids/features?limit=500&street={people['own']}"
    anonymous = client.get(url).json()["features"]
    assert anonymous and all("phone" not in f["properties"] and "grid_manager" not in f["properties"]
                             for f in anonymous)
    planner = client.get(url, headers=_auth(people, "planner")).json()["features"]
    assert all("phone" not in f["properties"] for f in planner)  # personal: not for planners
    assert any(f["properties"].get("grid_manager") for f in planner)  # internal: staff read it
    admin = client.get(url, headers=_auth(people, "admin")).json()["features"]
    assert any(_phones(admin))
    own = client.get(url, headers=_auth(people, "street")).json()["features"]
    assert _phones(own) == _phones(admin)  # its own street: everything
    other_url = f"/api/layers/grids/features?limit=500&street={people['other']}"
    assert any(_phones(client.get(other_url, headers=_auth(people, "admin")).json()["features"]))
    other = client.get(other_url, headers=_auth(people, "street")).json()["features"]
    assert other and not any(_phones(other))  # another street's rows: present, phones not
    items = "/ogc/collections/grids/items?limit=200&f=json"
    assert all("phone" not in f["properties"] for f in client.get(items).json()["features"])
    assert any(_phones(client.get(items, headers=_auth(people, "admin")).json()["features"]))
    one = client.get(f"/ogc/collections/grids/items/{admin[0]['id']}?f=json").json()
    assert "phone" not in one["properties"]
    # No filtering on a column one cannot read: it would answer what the column holds.
    assert client.get("/ogc/collections/grids/items?phone=x").status_code == 400
    assert "phone" not in client.get("/ogc/collections/grids/queryables").json()["properties"]
    assert "phone" not in client.get("/ogc/collections/grids?f=json").json()["queryables"]
    assert "phone" in client.get("/ogc/collections/grids?f=json", headers=_auth(people, "admin")).json()["queryables"]


def test_grid_contacts_are_staff_only_unless_published(client, people, monkeypatch):
    url = f"/api/grids?street={people['own']}"
    props = [f["properties"] for f in client.get(url).json()["features"]]
    assert props and all("phone" not in p and "grid_manager" not in p for p in props)
    planner = [f["properties"] for f in client.get(url, headers=_auth(people, "planner")).json()["features"]]
    assert any(p.get("grid_manager") for p in planner) and all("phone" not in p for p in planner)
    street = [f["properties"] for f in client.get(url, headers=_auth(people, "street")).json()["features"]]
    assert any(p.get("phone") for p in street)
    features = client.get("/api/layers/grids/features?limit=50").json()["features"]
    assert features and all("phone" not in f["properties"] for f in features)
    history = client.get(f"/api/grids/{people['grid']}/history").json()["history"]
    assert all("phone" not in h["after"] and "manager" not in h["after"] for h in history)
    monkeypatch.setenv("HYGIENE_MAP_GRID_CONTACTS_PUBLIC", "1")  # a 网格公示牌 city
    props = [f["properties"] for f in client.get(url).json()["features"]]
    assert any(p.get("phone") for p in props) and any(p.get("grid_manager") for p in props)


def test_tiles_carry_public_attributes_only_anonymously(client, people):
    conn_url = client.app.state.db.url
    conn = connect(url=conn_url)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids"
                    " WHERE phone IS NOT NULL LIMIT 1) g")
        lon, lat = cur.fetchone()
        cur.execute("SELECT x, y FROM (SELECT floor((%s + 180) / 360 * 65536)::int x,"
                    " floor((1 - ln(tan(radians(%s)) + 1 / cos(radians(%s))) / pi()) / 2 * 65536)::int y) t",
                    (lon, lat, lat))
        x, y = cur.fetchone()
    conn.close()
    url = f"/tiles/grids/16/{x}/{y}.pbf"

    def attributes(headers):
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.status_code
        return r, [f["properties"] for f in mapbox_vector_tile.decode(r.content)["grids"]["features"]]

    r, anonymous = attributes({})
    assert anonymous and all("phone" not in p and "grid_manager" not in p for p in anonymous)
    assert r.headers["cache-control"].startswith("public")
    r, admin = attributes(_auth(people, "admin"))
    assert any(p.get("phone") for p in admin)
    assert r.headers["cache-control"].startswith("private")  # no shared cache keeps what an admin reads


def test_tiles_of_a_login_only_server_are_never_shared_cacheable(client, people, monkeypatch):
    # A shared cache (a proxy, a CDN) must not hand a login-only city's tiles to anyone who asks.
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    for url in ("/tiles/toilets/0/0/0.pbf", "/ogc/collections/toilets/tiles/WebMercatorQuad/0/0/0"):
        r = client.get(url, headers=_auth(people, "planner"))
        assert r.status_code == 200, (url, r.status_code)
        assert r.headers["cache-control"].startswith("private"), (url, r.headers["cache-control"])


def test_export_and_complaint_api_drop_personal_columns(client, people):
    rows = list(csv.DictReader(io.StringIO(client.get("/api/layers/complaints/export?format=csv&lang=en").text)))
    assert rows and "description" not in rows[0] and "attributes" not in rows[0]
    admin = client.get("/api/layers/complaints/export?format=csv&lang=en", headers=_auth(people, "admin")).text
    assert any(r.get("description") for r in csv.DictReader(io.StringIO(admin)))
    grids = list(csv.DictReader(io.StringIO(client.get("/api/layers/grids/export?format=csv&lang=en").text)))
    assert grids and "phone" not in grids[0]
    listed = client.get(f"/api/complaints?street={people['own']}").json()["items"]
    assert listed and all("description" not in c for c in listed)
    mine = client.get(f"/api/complaints?street={people['own']}", headers=_auth(people, "street")).json()["items"]
    assert any(c.get("description") for c in mine)
    one = client.get(f"/api/complaints/{listed[0]['id']}").json()
    assert "description" not in one and one["id"] == listed[0]["id"]
    assert one["events"] and all("actor" not in e and "note" not in e for e in one["events"])
    staff = client.get(f"/api/complaints/{listed[0]['id']}", headers=_auth(people, "planner")).json()
    assert all("actor" in e for e in staff["events"]) and "description" not in staff
    history = client.get(f"/api/grids/{people['grid']}/history").json()["history"]
    assert history and all("changed_by" not in h and "reason" not in h for h in history)


def test_print_sheets_show_contacts_only_to_staff_who_may_read_them(client, people, module_demo, tmp_path):
    from tests.pdf_tools import pdftext

    conn = connect(url=module_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT grid_manager, phone FROM grids WHERE code = %s", (people["grid"],))
        manager, phone = cur.fetchone()
    conn.close()
    assert manager and phone

    def sheet(role):
        r = client.get(f"/print/grids/{people['grid']}.pdf", headers=_auth(people, role))
        assert r.status_code == 200, r.text[:200]
        path = tmp_path / f"{role}.pdf"
        path.write_bytes(r.content)
        return pdftext(path, 1)

    anonymous = sheet(None)
    assert phone not in anonymous and manager not in anonymous
    # Withheld, and said so: a dash read as "nobody assigned".
    assert "网格长：不公开" in anonymous and "联系电话：不公开" in anonymous, anonymous
    planner = sheet("planner")
    assert manager in planner and phone not in planner and "联系电话：不公开" in planner
    street = sheet("street")  # the grid lies in its street
    assert manager in street and phone in street


def _staff_labels(lang: str) -> set[str]:
    """Popup labels of the columns that are not public (grid contacts, what complainants wrote, …)."""
    labels = {f.label(lang) for spec in LAYERS for f in spec.popup if f.column_class != "public"}
    assert labels  # the grids' manager and phone at least: the checks below can fail
    return labels


def _named(labels: set[str], page: str) -> set[str]:
    """The labels a page names, as text or in a script's ASCII-escaped JSON (the grid page's words)."""
    return {label for label in labels if label in page or json.dumps(label)[1:-1] in page}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_name_only_the_columns_the_caller_reads(client, people, lang):
    """/map and /map/grids build their popups from the same rule: an anonymous page names no staff-only or
    personal column (its values are absent anyway), an admin's names them all, a planner's no personal one."""
    pages = [f"/map?lang={lang}", f"/map/grids?street={people['own']}&lang={lang}"]
    labels = _staff_labels(lang)
    for url in pages:
        anonymous = client.get(url)
        assert anonymous.status_code == 200
        assert not _named(labels, anonymous.text), url
        assert _named(labels, client.get(url, headers=_auth(people, "admin")).text) == labels, url
    phone = next(f.label(lang) for f in GRIDS.popup if f.column == "phone")
    manager = next(f.label(lang) for f in GRIDS.popup if f.column == "grid_manager")
    for url in pages:
        planner = client.get(url, headers=_auth(people, "planner")).text
        assert _named({manager, phone}, planner) == {manager}, url
    for url in ("/map/coverage", "/map/hotspots"):  # their popups show statistics, no column of a person
        page = client.get(f"{url}?lang={lang}").text
        assert not _named(labels, page), url
