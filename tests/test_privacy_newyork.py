"""Privacy audit on New York's 311 (tenth session): what a token, a search or a caller's data leave behind.

New York from nothing — its outlines, the 2023 day of 311 requests, Manhattan 3 (MN03) and Brooklyn 4 (BK04) cut
into grids with their rosters — served by ``hygiene-map serve`` as a city runs it, its log in a file of the test's.
A complaint of MN03 carries a caller's name and number in its description, as 12345 and 311 notes do.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.chromium import free_port
from tests.conftest import REPO
from tests.new_york import OTHER, SAMPLE, STREET, outlines
from tests.real_city import grids_assigned, new_city

FILES = ("boundaries/nybb.shp", "boundaries/nycdta2020.shp", "boundaries/nynta2020.shp", SAMPLE)
#: What the MN03 caller said: a name and a number, personal data of MN03's rows.
CALLER = "Mrs Chen of 41 Henry St, call 917-555-0142"
WORDS_ON_TWO_LINES = "Mrs Chen (41 Henry St)\ncall 917-555-0142"


def serve_logged(city, log: Path, **settings: str):
    """``hygiene-map serve`` on a free port (with ``settings``, HYGIENE_MAP_… variables), its stderr (the access log)
    into ``log``; the process and base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    env.update(DATABASE_URL=city.url, PYTHONPATH=str(REPO), **settings)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=city.work, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/healthz", timeout=5)
            return proc, base
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(log.read_text(errors="replace")[-2000:]) from None
            time.sleep(0.3)


@pytest.fixture(scope="module")
def nyc(pg_server, tmp_path_factory):
    """New York's outlines and 311 day, MN03 and BK04 with grids and rosters, tokens per role, served."""
    with new_city(pg_server, tmp_path_factory, "nyc", FILES) as city:
        outlines(city)
        city.cli("import", "complaints", SAMPLE, "--skip-bad")
        for street in (STREET, OTHER):
            grids_assigned(city, street, 400, lambda row, s=street: (
                f"DSNY {s} Section {row % 3 + 1}", f"Supervisor {s}-{row:02d}", f"212-555-{row:04d}"), "first roster")
        city.tokens = {}
        for who, role, scope in (("admin", "admin", ()), ("planner", "planner", ()),
                                 ("street", "street", ("--street", STREET)), ("other", "street", ("--street", OTHER))):
            city.tokens[who] = city.cli("users", "add", f"ny-{who}", "--role", role, *scope).stdout.split()[-1]
        city.log_file = city.work / "server.log"
        proc, city.base = serve_logged(city, city.log_file)
        try:
            lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                                "WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))[0]
            made = call(city, "POST", "/api/complaints", "admin", json={
                "lon": lon, "lat": lat, "category": "暴露垃圾", "source": "311", "description": CALLER})
            assert made.status_code == 201, made.text
            city.complaint = made.json()["id"]
            yield city
        finally:
            proc.terminate()
            proc.wait(15)


def call(city, method: str, path: str, who: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {city.tokens[who]}"} if who else {}
    return httpx.request(method, city.base + path, headers={**headers, **kwargs.pop("headers", {})}, timeout=120,
                         **kwargs)


def logged(city, path: str, at_least: int = 1) -> list[dict]:
    """The access-log lines of ``path``, once there are ``at_least`` (a line is written as its answer ends)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(text) for text in city.log_file.read_text(errors="replace").splitlines()
                 if text.startswith("{") and f'"path": "{path}"' in text]
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_a_token_in_any_query_parameter_never_reaches_the_log(nyc):
    """Clients put tokens where they should not: in ``?apikey=``, ``?auth=``, ``?authorization=Bearer …`` and
    other names than the few the log masked; the token must not be written to the server's log."""
    token = nyc.tokens["street"]
    names = ("apikey", "api-key", "auth", "authorization", "bearer", "secret", "client_secret", "hm_session",
             "report_key", "x-report-key", "access-token", "jwt")
    for name in names:
        value = f"Bearer {token}" if name == "authorization" else token
        answer = call(nyc, "GET", "/api/layers", params={name: value, "lang": "en"})
        # No route takes a token there: the client is told so, naming the parameter, never echoing its value.
        assert answer.status_code == 422 and answer.json()["detail"].startswith(f"{name}: "), answer.text
        assert token not in answer.text
    lines = logged(nyc, "/api/layers", len(names))
    assert len(lines) >= len(names)
    assert all("lang=en" in line["query"] for line in lines[-len(names):])  # the rest of the query stays readable
    assert token not in nyc.log_file.read_text(errors="replace")


def test_a_search_for_a_callers_number_is_answered_but_not_logged(nyc):
    """Street staff find a case by the caller's number (``q=``): MN03 sees it, the log keeps no number."""
    found = call(nyc, "GET", "/api/complaints", "street", params={"q": "917-555-0142", "street": STREET})
    assert found.status_code == 200
    assert [i["description"] for i in found.json()["items"]] == [CALLER]
    assert call(nyc, "GET", "/api/complaints", "other", params={"q": "917-555-0142"}).json()["items"] == []
    assert logged(nyc, "/api/complaints")
    assert "917-555-0142" not in nyc.log_file.read_text(errors="replace")


def test_a_wrong_token_is_refused_in_words_a_user_can_read(nyc):
    answer = call(nyc, "GET", "/api/layers", headers={"Authorization": "Bearer not-a-token-of-this-city"})
    assert answer.status_code == 401
    assert "***" not in answer.json()["detail"] and "token" in answer.json()["detail"]


def _login(city, who: str) -> httpx.Cookies:
    answer = httpx.post(city.base + "/login", data={"token": city.tokens[who]}, follow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    return answer.cookies


def test_answers_holding_personal_data_are_kept_by_no_cache(nyc):
    """A street office's answers carry callers' words and grid phones: no shared cache (an intranet proxy that
    keeps 200s) and no browser cache of a shared office computer may keep them — with a token or a login cookie."""
    paths = (f"/api/complaints/{nyc.complaint}", "/api/complaints?q=917-555-0142",
             f"/api/layers/complaints/export?format=csv&street={STREET}", f"/api/grids?street={STREET}",
             f"/ogc/collections/grids/items?street_code={STREET}&f=html")
    cookies = _login(nyc, "street")
    for path in paths:
        for answer in (call(nyc, "GET", path, "street"), httpx.get(nyc.base + path, cookies=cookies, timeout=60)):
            assert answer.status_code == 200, (path, answer.text[:300])
            assert "917-555-0142" in answer.text or "212-555-0002" in answer.text, path  # personal data, rightly
            cache = answer.headers.get("cache-control", "")
            assert "no-store" in cache and "private" in cache, (path, cache)
    # What everyone reads stays shareable: an anonymous tile. The same tile read by the street office holds its
    # grids' phones: a shared office browser keeps none of it (the next person at it would be served it for the
    # same URL); a tile holding nothing more than anyone reads (the outlines) is kept a while, by that browser only.
    x, y = _tile_of_a_grid(nyc, STREET)
    tile = f"/tiles/grids/16/{x}/{y}.pbf"
    assert call(nyc, "GET", tile).headers["cache-control"].startswith("public")
    for answer in (call(nyc, "GET", tile, "street"), httpx.get(nyc.base + tile, cookies=cookies, timeout=60)):
        assert answer.status_code == 200 and b"212-555-" in answer.content  # the street's own phones, rightly
        assert answer.headers["cache-control"] == "private, no-store", answer.headers
        assert {"authorization", "cookie"} <= {v.strip().lower() for v in answer.headers["vary"].split(",")}
    outlines = call(nyc, "GET", f"/tiles/admin_areas/12/{x >> 4}/{y >> 4}.pbf", "street")
    assert outlines.status_code == 200 and outlines.headers["cache-control"].startswith("private, max-age"), outlines.headers


def _tile_of_a_grid(city, street: str) -> tuple[int, int]:
    """The z16 tile (x, y) under the middle of the street's first grid."""
    return city.sql("SELECT floor((ST_X(c) + 180) / 360 * 65536)::int, floor((1 - ln(tan(radians(ST_Y(c))) + "
                    "1 / cos(radians(ST_Y(c)))) / pi()) / 2 * 65536)::int FROM (SELECT ST_PointOnSurface(geom) AS c "
                    "FROM grids WHERE street_code = %s ORDER BY code LIMIT 1) g", (street,))[0]


def test_logging_out_clears_what_the_browser_kept(nyc):
    """On a shared office computer the next person must not be served what the last one's session read."""
    cookies = _login(nyc, "street")
    out = httpx.post(nyc.base + "/logout", cookies=cookies, follow_redirects=False, timeout=30)
    assert out.status_code == 303 and out.headers.get("clear-site-data") == '"cache"', out.headers


def test_ogc_tilesets_describe_only_what_their_tiles_carry(nyc):
    """OGC tiles carry public columns for everyone (a cache may share them); their tileset's propertiesSchema named
    the grid manager and the phone too: a schema promising staff-only and personal fields to anonymous readers, and
    to QGIS empty fields. It names what the tile holds."""
    import mapbox_vector_tile

    x, y = nyc.sql("SELECT floor((ST_X(c) + 180) / 360 * 65536)::int, "
                   "floor((1 - ln(tan(radians(ST_Y(c))) + 1 / cos(radians(ST_Y(c)))) / pi()) / 2 * 65536)::int "
                   "FROM (SELECT ST_PointOnSurface(geom) c FROM grids WHERE code = %s) p", (f"{STREET}0101",))[0]
    for who in (None, "street", "admin"):
        meta = call(nyc, "GET", "/ogc/collections/grids/tiles/WebMercatorQuad", who)
        schema = meta.json()["layers"][0]["propertiesSchema"]["properties"]
        tile = call(nyc, "GET", f"/ogc/collections/grids/tiles/WebMercatorQuad/16/{y}/{x}", who)
        assert tile.status_code == 200, tile.text
        carried = {k for layer in mapbox_vector_tile.decode(tile.content).values()
                   for feature in layer["features"] for k in feature["properties"]}
        assert "212-555-" not in tile.text
        assert carried and carried <= set(schema), (carried, schema)
        assert not {"grid_manager", "phone"} & set(schema), schema


def _expire(city, cookies: httpx.Cookies) -> None:
    """The clock of one login moves past its hours (HYGIENE_MAP_SESSION_HOURS): its row's expiry a minute ago."""
    import psycopg2

    from layers.workflow.access import token_digest

    with psycopg2.connect(city.url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id_sha256 = %s",
                    (token_digest(cookies["hm_session"]),))
    conn.close()


def test_a_login_ends_when_its_hours_pass_and_every_door_closes_when_its_user_is_disabled(nyc):
    """A street office's login reads its callers' words; past its hours it reads nothing, and once its user is
    disabled neither its other logins nor its token read anything: API, page, tile."""
    token = nyc.cli("users", "add", "ny-leaver", "--role", "street", "--street", STREET).stdout.split()[-1]
    nyc.tokens["leaver"] = token
    first, second = _login(nyc, "leaver"), _login(nyc, "leaver")
    path = f"/api/complaints/{nyc.complaint}"
    for cookies in (first, second):
        assert httpx.get(nyc.base + path, cookies=cookies, timeout=60).json()["description"] == CALLER
    _expire(nyc, first)
    late = httpx.get(nyc.base + path, cookies=first, timeout=60)
    assert late.status_code == 401 and "expired" in late.json()["detail"] and CALLER not in late.text
    page = httpx.get(nyc.base + "/cases", cookies=first, timeout=60, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert httpx.get(nyc.base + path, cookies=second, timeout=60).json()["description"] == CALLER
    # The page says what the office handles in the page's language.
    name, name_en = nyc.sql("SELECT name, coalesce(name_en, name) FROM admin_areas WHERE level = 'street' AND code = %s",
                            (STREET,))[0]
    assert f"(街道 {name}（{STREET}）)" in httpx.get(nyc.base + "/cases", cookies=second, timeout=60).text
    assert f"(street {name_en} ({STREET}))" in httpx.get(nyc.base + "/cases?lang=en", cookies=second, timeout=60).text
    nyc.cli("users", "disable", "ny-leaver")
    refused = [httpx.get(nyc.base + path, cookies=second, timeout=60), call(nyc, "GET", path, "leaver"),
               httpx.get(nyc.base + "/tiles/grids/16/19297/24630.pbf", cookies=second, timeout=60),
               httpx.get(nyc.base + f"/api/layers/complaints/export?format=csv&street={STREET}", cookies=second,
                         timeout=60)]
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    assert not any(CALLER in r.text or "212-555-" in r.text for r in refused)
    assert httpx.get(nyc.base + "/cases", cookies=second, timeout=60, follow_redirects=False).status_code == 303


def test_another_streets_office_neither_reads_nor_moves_a_case_by_its_id(nyc):
    """BK04's office asks for MN03's case by its id: its public columns, never the caller's words, and every
    write refused (403) with nothing changed."""
    path = f"/api/complaints/{nyc.complaint}"
    before = call(nyc, "GET", path, "admin").json()
    seen = call(nyc, "GET", path, "other").json()
    assert seen["id"] == nyc.complaint and seen["description"] is None
    assert call(nyc, "GET", path + "/contacts", "other").status_code == 403
    assert call(nyc, "GET", path + "/photos", "other").status_code == 403
    writes = [call(nyc, "PATCH", path, "other", json={"status": "立案"}),
              call(nyc, "POST", path + "/deadline/requests", "other",
                   json={"due_at": "2031-01-01T10:00", "reason": "借口"}),
              call(nyc, "POST", path + "/replies", "other", json={"reply": "已处理"})]
    assert [w.status_code for w in writes] == [403, 403, 403], [w.text for w in writes]
    assert all(CALLER not in w.text for w in writes)
    after = call(nyc, "GET", path, "admin").json()
    assert (after["status"], after["events"], after["deadline_changes"]) == (
        before["status"], before["events"], before["deadline_changes"])


def test_a_database_error_logged_with_its_traceback_keeps_no_row_values(nyc):
    """An unexpected error is logged with its traceback (api/errors.py); PostgreSQL's DETAIL quotes the failing row
    or key, a caller's words among them. The server's log filter keeps the reason and masks the values."""
    import io
    import logging

    import psycopg2

    from api.middleware import RedactingFilter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("hygiene_map.test_privacy")
    log.addHandler(handler)
    statements = (  # a row refused by a NOT NULL column; a key already taken: each quoting the caller's words
        "INSERT INTO complaints (category, description, reported_at, status, geom) "
        "VALUES (NULL, %(words)s, now(), '受理', ST_SetSRID(ST_MakePoint(-73.99, 40.71), 4326))",
        "INSERT INTO complaints (source, source_id, category, reported_at, status, geom) "
        "SELECT 'hotline', %(words)s, category, reported_at, status, geom FROM complaints WHERE id = %(id)s; "
        "INSERT INTO complaints (source, source_id, category, reported_at, status, geom) "
        "SELECT 'hotline', %(words)s, category, reported_at, status, geom FROM complaints WHERE id = %(id)s")
    try:
        for statement in statements:
            conn = psycopg2.connect(nyc.url)
            try:
                with conn.cursor() as cur:
                    cur.execute(statement, {"words": WORDS_ON_TWO_LINES, "id": nyc.complaint})
            except psycopg2.Error:
                log.exception("unexpected error on %s %s", "POST", "/api/complaints")
            finally:
                conn.rollback()
                conn.close()
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "Failing row contains" in text and "already exists" in text  # the reason stays readable
    assert "917-555-0142" not in text and "Henry St" not in text, text


def test_an_inspector_of_some_grids_reads_their_managers_phone_in_the_history_too(nyc):
    """An inspector given two of MN03's grids reads their grid manager's phone on the grids list; the grids'
    history gave it null (its access was tested by street only), and another grid's stays hidden."""
    first, second, third = [c for (c,) in nyc.sql("SELECT code FROM grids WHERE street_code = %s ORDER BY code "
                                                 "LIMIT 3", (STREET,))]
    token = nyc.cli("users", "add", "ny-gridded", "--role", "inspector", "--grids", f"{first},{second}").stdout
    nyc.tokens["gridded"] = token.split()[-1]
    listed = call(nyc, "GET", "/api/grids", "gridded", params={"street": STREET}).json()["features"]
    phones = {f["properties"]["code"]: f["properties"].get("phone") for f in listed}
    assert phones[first] and phones[second] and not phones[third]
    for code in (first, third):
        history = call(nyc, "GET", f"/api/grids/{code}/history", "gridded")
        assert history.status_code == 200, history.text
        after = history.json()["history"][-1]["after"]
        assert after["phone"] == (phones[first] if code == first else None), (code, after)


def test_a_shapefile_export_over_http_sets_long_attributes_aside_and_names_the_query_parameter(nyc):
    """New York's 311 rows carry leftover columns (attributes) too long for a .dbf field: over HTTP the shapefile
    leaves them out and its zip holds them in complaints_attributes.csv. A description too long for a .dbf still
    refuses the export, naming `format` (the query's), not the command line's `--format`, and what to use instead."""
    exported = call(nyc, "GET", "/api/layers/complaints/export", "street", params={"format": "shp"})
    assert exported.status_code == 200, exported.text[:300]
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        names = archive.namelist()
        aside = archive.read("complaints_attributes.csv").decode("utf-8-sig")
    assert "complaints.shp" in names and "complaints_attributes.csv" in names, names
    assert aside.startswith("source,source_id,attributes") and len(aside.splitlines()) > 100
    lon, lat = nyc.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                       "WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))[0]
    made = call(nyc, "POST", "/api/complaints", "admin", json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "source": "311", "description": "垃圾堆放" * 25})
    assert made.status_code == 201, made.text  # 100 characters: 300 bytes in UTF-8, over a .dbf field's 254
    refused = call(nyc, "GET", "/api/layers/complaints/export", "street", params={"format": "shp"})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("format: a shapefile") and "--format" not in detail and "gpkg" in detail, detail
    assert "description in 1 row" in detail, detail


def test_who_opened_a_round_is_for_the_citys_staff_not_the_public(nyc):
    """The campaign office's round over MN03: its list, the round and its scores named who opened it to anyone;
    who did something is staff's to know (as a step's actor is), so a login reads it and nobody else."""
    made = call(nyc, "POST", "/api/inspections/rounds", "admin", json={
        "name": "MN03 weekly check", "kind": "周检查", "streets": [STREET], "starts": "2023-02-27",
        "ends": "2023-03-06"})
    assert made.status_code == 201, made.text
    paths = ["/api/inspections/rounds", f"/api/inspections/rounds/{made.json()['id']}",
             f"/api/inspections/rounds/{made.json()['id']}/scores"]
    for path in paths:
        assert "ny-admin" in call(nyc, "GET", path, "street").text, path
        public = call(nyc, "GET", path)
        assert public.status_code == 200 and "ny-admin" not in public.text, (path, public.text[:300])
