"""The public channel (issue 17): report without an account, follow, support, rate; no contact in public answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from data.db import connect
from layers.workflow import public, public_challenges
from layers.workflow.access import add_user

PHONE = "13912345678"
CATEGORY = "暴露垃圾"
MAIN_LINE = ("立案", "派遣", "处置", "核查", "结案")
#: Each report's key (the challenge it was made with), as the report page hands it to the tracking page.
KEYS: dict[str, str] = {}


@pytest.fixture(scope="module")
def city(module_demo):
    """A point inside a grid of the demo, that grid's street, and staff with tokens (here and on another street)."""
    return public_city(module_demo)


def public_city(url: str) -> dict:
    """The facts of :func:`city` for a database at ``url`` (staff users are added to it)."""
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute("SELECT code, street_code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                    "FROM grids ORDER BY code LIMIT 1")
        grid, street, lon, lat = cur.fetchone()
        cur.execute("SELECT code FROM admin_areas WHERE level = 'street' AND code <> %s ORDER BY code LIMIT 1",
                    (street,))
        other = cur.fetchone()[0]
        cur.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                    "WHERE street_code = %s ORDER BY code", (street,))
        street_points = cur.fetchall()[1::3]  # in other grids than the first
    tokens = {}
    for role, code, name in (("street", street, "王街道员"), ("street", other, "李外街员"), ("admin", None, "赵管理员")):
        _, tokens[name] = add_user(conn, name, role, street_code=code, created_by="test")
    conn.commit()
    conn.close()
    return {"url": url, "grid": grid, "street": street, "lon": lon, "lat": lat, "tokens": tokens,
            "street_points": street_points}


@pytest.fixture
def client(city, env_for, monkeypatch):
    from api.app import create_app

    env_for(city["url"])
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "8")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _auth(city, name):
    return {"Authorization": f"Bearer {city['tokens'][name]}"}


def _report(client, lon, lat, category=CATEGORY, **extra):
    """What the report page does: fetch a challenge, solve it, post."""
    ch = client.get("/api/public/challenge").json()
    body = {"lon": lon, "lat": lat, "category": category, "challenge": ch["challenge"],
            "nonce": public_challenges.solve(ch["challenge"], ch["bits"]), **extra}
    made = client.post("/api/public/reports", json=body)
    if made.status_code == 201:
        KEYS[made.json()["tracking"]] = body["challenge"]
    return made


def _rate(client, tracking, **body):
    """The reporter's rating, sent with the report's key (as the tracking page does)."""
    return client.post(f"/api/public/reports/{tracking}/rating", json={**body, "key": KEYS[tracking]})


def _mine(client, tracking):
    """The tracking page's view of the report for its reporter (the key in X-Report-Key)."""
    return client.get(f"/api/public/reports/{tracking}", headers={"X-Report-Key": KEYS[tracking]}).json()


def _complaint_id(city, tracking):
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))
        found = cur.fetchone()[0]
    conn.close()
    return found


def _move(client, city, complaint_id, steps, who="赵管理员"):
    for status in steps:
        r = client.patch(f"/api/complaints/{complaint_id}", json={"status": status, "note": "处理 by 王街道员"},
                         headers=_auth(city, who))
        assert r.status_code == 200, r.text


def _shift(city, dlon_m):
    """The city point moved east by about ``dlon_m`` metres (a new spot for each test)."""
    import math

    return city["lon"] + dlon_m / (111_320 * math.cos(math.radians(city["lat"]))), city["lat"]


def test_report_is_routed_followed_and_never_shows_the_contact(client, city):
    lon, lat = _shift(city, 0)
    r = _report(client, lon, lat, description="巷子里有垃圾", phone=PHONE)
    assert r.status_code == 201, r.text
    made = r.json()
    tracking = made["tracking"]
    assert len(tracking) == 10 and set(tracking) <= set(public.CROCKFORD) and not made["joined"]
    complaint_id = _complaint_id(city, tracking)
    staff_view = client.get(f"/api/complaints/{complaint_id}", headers=_auth(city, "赵管理员")).json()
    assert (staff_view["status"], staff_view["channel"], staff_view["grid_code"]) == ("受理", "网上", city["grid"])
    _move(client, city, complaint_id, MAIN_LINE[:2], who="王街道员")
    assert client.post(f"/api/complaints/{complaint_id}/replies", json={"reply": "已派环卫所清理"},
                       headers=_auth(city, "王街道员")).status_code == 201
    followed = client.get(f"/api/public/reports/{tracking.lower()}").json()  # typed in lower case
    assert followed["status"] == "派遣" and [s["to"] for s in followed["steps"]] == ["受理", "立案", "派遣"]
    assert followed["replies"][0]["reply"] == "已派环卫所清理" and followed["unit"]
    # Every public answer about this report, and what a rating attempt says while it is open.
    answers = [r.text, client.get(f"/api/public/reports/{tracking}").text,
               client.get(f"/api/public/nearby?lon={lon}&lat={lat}&category={CATEGORY}").text,
               client.post(f"/api/public/reports/{tracking}/rating", json={"rating": "满意"}).text,
               client.get("/api/public/challenge").text, client.get(f"/report/{tracking}").text,
               client.get(f"/report/{tracking}?lang=en").text]
    assert "已有人反映" not in answers[2] and '"joins":true' in answers[2]
    for text in answers:
        assert PHONE not in text and "王街道员" not in text and "处理 by" not in text, text
    # Staff of the case's street read the number; another street's staff, and the public, do not.
    assert client.get(f"/api/complaints/{complaint_id}/contacts", headers=_auth(city, "王街道员")).json()[
        "reports"][0]["phone"] == PHONE
    assert client.get(f"/api/complaints/{complaint_id}/contacts", headers=_auth(city, "李外街员")).status_code == 403
    assert client.get(f"/api/complaints/{complaint_id}/contacts").status_code == 401
    assert client.get("/api/public/reports/0000000000").status_code == 404


def test_a_second_report_nearby_joins_the_first(client, city):
    lon, lat = _shift(city, 300)
    first = _report(client, lon, lat, phone=PHONE).json()
    near = _report(client, *_shift(city, 320)).json()  # 20 m away, same type
    other_type = _report(client, *_shift(city, 320), category="垃圾满溢").json()
    far = _report(client, *_shift(city, 400)).json()  # 100 m away
    assert near["joined"] and not other_type["joined"] and not far["joined"]
    assert _complaint_id(city, near["tracking"]) == _complaint_id(city, first["tracking"])
    assert len({_complaint_id(city, t["tracking"]) for t in (first, other_type, far)}) == 3
    assert client.get(f"/api/public/reports/{first['tracking']}").json()["supporters"] == 1
    # The supporter follows the same case but sees neither the first reporter's text nor number.
    seen = client.get(f"/api/public/reports/{near['tracking']}").text
    assert PHONE not in seen and '"joined":true' in seen


def test_unsatisfied_rating_reopens_once(client, city):
    tracking = _report(client, *_shift(city, 600)).json()["tracking"]
    complaint_id = _complaint_id(city, tracking)
    assert _rate(client, tracking, rating="不满意", reason="还有").status_code == 409  # not closed yet
    _move(client, city, complaint_id, MAIN_LINE)
    assert _mine(client, tracking)["may_rate"] is True
    assert _rate(client, tracking, rating="不满意").status_code == 422  # a reason is needed
    r = _rate(client, tracking, rating="不满意", reason="垃圾还在")
    assert r.status_code == 201 and r.json()["reopened"] and r.json()["status"] == "处置", r.text
    steps = client.get(f"/api/public/reports/{tracking}").json()["steps"]
    assert (steps[-1]["from"], steps[-1]["to"]) == ("结案", "处置")
    _move(client, city, complaint_id, MAIN_LINE[3:])
    again = _rate(client, tracking, rating="不满意", reason="仍然没清")
    assert again.status_code == 201 and not again.json()["reopened"] and again.json()["status"] == "结案"
    assert _rate(client, tracking, rating="满意").status_code == 409  # this closing is rated already
    assert _mine(client, tracking)["may_rate"] is False


def test_rating_window_closes(client, city):
    tracking = _report(client, *_shift(city, 900)).json()["tracking"]
    complaint_id = _complaint_id(city, tracking)
    _move(client, city, complaint_id, MAIN_LINE)
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("UPDATE complaints SET closed_at = now() - interval '8 days' WHERE id = %s", (complaint_id,))
    conn.commit()
    conn.close()
    r = _rate(client, tracking, rating="满意")
    assert r.status_code == 409 and "HYGIENE_MAP_PUBLIC_RATING_DAYS" in r.text


def test_abuse_guards(client, city, monkeypatch):
    lon, lat = _shift(city, 1200)
    assert _report(client, lon, lat, website="http://spam").status_code == 422  # the honeypot
    ch = client.get("/api/public/challenge").json()
    body = {"lon": lon, "lat": lat, "category": CATEGORY, "challenge": ch["challenge"], "nonce": "x"}
    wrong = "x" if not public_challenges.pow_ok(ch["challenge"], "x", ch["bits"]) else "y"
    assert client.post("/api/public/reports", json={**body, "nonce": wrong}).status_code == 422
    body["nonce"] = public_challenges.solve(ch["challenge"], ch["bits"])
    first = client.post("/api/public/reports", json=body)
    assert first.status_code == 201
    # The phone lost the answer and sends the same report again: the same tracking number, no second report.
    again = client.post("/api/public/reports", json=body)
    assert again.status_code == 200 and again.json()["tracking"] == first.json()["tracking"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/public/reports", json={**body, "category": "垃圾满溢"})  # a challenge serves one report
    assert other.status_code == 422 and "already used" in other.text
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public_reports WHERE tracking = %s OR complaint_id = %s",
                    (first.json()["tracking"], _complaint_id(city, first.json()["tracking"])))
        assert cur.fetchone()[0] == 1
    conn.close()
    assert _report(client, lon, lat, phone="call me").status_code == 422
    assert _report(client, lon, lat, challenge="a\x00b").status_code == 422
    assert client.get(f"/api/public/nearby?lon={lon}&lat={lat}&category=a%00b").status_code == 422
    assert _report(client, 0.0, 0.0).status_code == 422  # outside the city
    broken = client.post("/api/public/reports", content=b'{"lon": 121.4,', headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["detail"].startswith("body: is not valid JSON ("), broken.text
    too_long = _report(client, lon, lat, description="x" * 5000)
    assert too_long.status_code == 422
    assert too_long.json()["detail"] == "description: at most 1000 characters, not 5000", too_long.text
    # In Chinese beside the English (pydantic words them in English only): by the error's type and bounds.
    assert too_long.json()["detail_zh"] == "description：至多 1000 个字符，而不是 5000 个", too_long.text
    assert broken.json()["detail_zh"].startswith("body：不是有效的 JSON（第 "), broken.text
    unknown = client.post("/api/public/reports", json={"lon": lon, "lat": lat, "category": "病媒生物", "colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["detail_zh"] == "colour：不是可用的字段（拼写有误？）", unknown.text
    nul = _report(client, lon, lat, description="a\x00b")
    assert nul.json()["detail"] == "description: must not contain NUL (\\x00) characters", nul.text
    assert nul.json()["detail_zh"] == "description：不能含 NUL（\\x00）字符", nul.text


def test_burst_from_one_client_is_429_while_others_go_on(client, city, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR", "2")
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "0")
    body = {"lon": city["lon"], "lat": city["lat"], "category": "病媒生物"}
    burst = [client.post("/api/public/reports", json=body) for _ in range(3)]
    assert [r.status_code for r in burst] == [201, 201, 429]
    assert int(burst[2].headers["Retry-After"]) > 0 and "HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR" in burst[2].text
    other = TestClient(client.app, raise_server_exceptions=False, client=("10.1.2.3", 5000))
    assert other.post("/api/public/reports", json=body).status_code == 201


def test_refused_reports_do_not_use_up_the_hour(client, city, monkeypatch):
    """A resident corrects a refused report (outside the city, a description too long, a bad phone) and
    still has the hour's reports; the refusals count as reads, so they cannot be asked for without end."""
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR", "2")
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_READS_PER_MINUTE", "5")
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "0")
    resident = TestClient(client.app, raise_server_exceptions=False, client=("10.9.8.7", 5000))
    body = {"lon": city["lon"], "lat": city["lat"], "category": "病媒生物"}
    refused = [resident.post("/api/public/reports", json={**body, "lon": 0.0, "lat": 0.0}),
               resident.post("/api/public/reports", json={**body, "description": "x" * 5000}),
               resident.post("/api/public/reports", json={**body, "phone": "call me"})]
    assert [r.status_code for r in refused] == [422, 422, 422], [r.text for r in refused]
    made = [resident.post("/api/public/reports", json=body) for _ in range(3)]
    assert [r.status_code for r in made] == [201, 201, 429], [r.text for r in made]
    # Three refusals were counted as reads: two reads are left of the minute's five.
    reads = [resident.get("/api/public/challenge") for _ in range(3)]
    assert [r.status_code for r in reads] == [200, 200, 429]


def test_channel_stays_open_when_reads_need_a_token_and_closes_by_setting(client, city, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    assert client.get("/api/public/challenge").status_code == 200
    assert client.get("/report").status_code == 200
    assert client.get("/api/complaints").status_code == 401
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_CHANNEL", "0")
    r = client.get("/api/public/challenge")
    assert r.status_code == 403 and "HYGIENE_MAP_PUBLIC_CHANNEL" in r.text
    assert client.get("/report").status_code == 403 and client.get("/report/0000000000").status_code == 403


def test_satisfaction_share_per_street(client, city):
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT now()")
        since = cur.fetchone()[0]
    conn.close()
    made = [_report(client, *point, category="道路不洁").json()["tracking"] for point in city["street_points"][:3]]
    for tracking, rating in zip(made, ("满意", "基本满意", "不满意")):
        _move(client, city, _complaint_id(city, tracking), MAIN_LINE)
        assert _rate(client, tracking, rating=rating, reason="还脏").status_code == 201
    street = city["street"]
    window = f"since={since.isoformat().replace('+', '%2B')}"
    items = client.get(f"/api/satisfaction?street={street}&{window}").json()["items"]
    assert [(i["street_code"], i["rated"], i["满意"], i["基本满意"], i["不满意"]) for i in items] == [(street, 3, 1, 1, 1)]
    assert items[0]["satisfied_share"] == round(2 / 3, 4)
    # Per responsible unit, on the API and in the street office's page (its per-unit table).
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT r.tracking, g.responsible_unit FROM public_reports r JOIN complaints c ON c.id = "
                    "r.complaint_id JOIN grids g ON g.code = c.grid_code WHERE r.tracking = ANY(%s)", (made,))
        unit_of = dict(cur.fetchall())
    conn.close()
    expected = {}
    for tracking, rating in zip(made, ("满意", "基本满意", "不满意")):
        expected.setdefault(unit_of[tracking], []).append(rating != "不满意")
    by_unit = client.get(f"/api/satisfaction?street={street}&{window}&by=unit").json()["items"]
    assert {i["unit"]: (i["rated"], i["satisfied_share"]) for i in by_unit} == {
        u: (len(v), round(sum(v) / len(v), 4)) for u, v in expected.items()}
    page = client.get(f"/map/grids?street={street}", headers=_auth(city, "王街道员")).text
    assert "群众满意率" in page
    # The page counts every rating so far (other tests here rate too): it shows what the API says of all time.
    for item in client.get(f"/api/satisfaction?street={street}&by=unit").json()["items"]:
        share = item["satisfied_share"]
        row = page[page.index(f'data-unit="{item["unit"]}"'):]
        assert row[:row.index("</tr>")].endswith(f'">{share:.0%}</td>'), item
        assert abs(float(row.split('data-satisfied="')[1].split('"')[0]) - share) < 1e-4
    assert set(expected) <= {i["unit"] for i in by_unit}
    assert client.get("/api/satisfaction?by=grid").status_code == 422
    # The 不满意 case was reopened and is closed again: its reporter's new rating replaces the old one.
    tracking = made[2]
    _move(client, city, _complaint_id(city, tracking), MAIN_LINE[3:])
    _rate(client, tracking, rating="满意")
    again = client.get(f"/api/satisfaction?street={street}&{window}").json()["items"][0]
    assert (again["rated"], again["满意"], again["satisfied_share"]) == (3, 2, 1.0)


def test_tracking_page_is_local_and_says_an_unknown_number(client, city):
    tracking = _report(client, *_shift(city, 400), phone=PHONE).json()["tracking"]
    page = client.get(f"/report/{tracking.lower()}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # Chinese first, English on request; the number as stored; the script reads this report's API.
    assert '<html lang="zh-CN">' in page.text and "反映办理进度" in page.text and tracking in page.text
    assert f'"/api/public/reports/{tracking}"' in page.text and "/static/app/tracking.js" in page.text
    # It follows the case once a minute (a case moves in hours; phones behind one carrier address share the
    # read limit), not every 5 s.
    assert '"follow_ms": 60000' in page.text
    assert "Report progress" in client.get(f"/report/{tracking}?lang=en").text
    # Only this server's files and API: every src/href is local, and the browser is told so.
    import re

    assert all(u.startswith(("/", "?")) for u in re.findall(r'(?:src|href)="([^"]*)"', page.text))
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app/tracking.js", "/static/app/public.css"):
        assert client.get(asset).status_code == 200, asset
    missing = client.get("/report/0000000000")
    assert missing.status_code == 404 and "没有这个查询码的反映" in missing.text and "tracking.js" not in missing.text
    assert client.get("/report/<script>x").status_code == 404


def test_report_page_lists_the_categories_and_loads_only_local_files(client):
    import re

    page = client.get("/report")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text and "反映问题" in page.text
    assert f'value="{CATEGORY}"' in page.text and 'name="website"' in page.text  # the honeypot
    assert "已有人反映，是否补充？" in page.text and "Report a problem" in client.get("/report?lang=en").text
    urls = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_report_page_categories_in_plain_words_and_a_configured_basemap(client, monkeypatch):
    page = client.get("/report").text
    # Plain words and an icon (inline SVG, nothing loaded) for each event type; the official name is what is sent.
    assert "垃圾桶满了" in page and 'value="垃圾满溢"' in page and page.count('<svg class="rp-icon"') >= 11
    assert "Bins overflowing" in client.get("/report?lang=en").text
    assert '"crs": "wgs84"' in page and "autonavi" not in page  # the city's own roads, offline
    gaode = client.get("/report?basemap=gaode")
    assert gaode.status_code == 200 and '"crs": "gcj02"' in gaode.text and "/static/app/map.js" in gaode.text
    assert "https://*.is.autonavi.com" in gaode.headers["content-security-policy"]
    monkeypatch.setenv("HYGIENE_MAP_BASEMAP", "osm")
    osm = client.get("/report")
    assert '"crs": "wgs84"' in osm.text and "https://*.tile.openstreetmap.org" in osm.headers["content-security-policy"]
    assert client.get("/report?basemap=tianditu").text.count('"layers": []') == 1  # no key: no basemap
    bad = client.get("/report?basemap=google")
    assert bad.status_code == 422 and "basemap" in bad.text


def _tile_of(lon, lat, z):
    import math

    n = 2 ** z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_public_map_context_works_when_reads_need_a_token(client, city, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    z, x, y = _tile_of(city["lon"], city["lat"], 15)
    assert client.get(f"/tiles/roads/{z}/{x}/{y}.pbf").status_code == 401  # the map pages' own routes: closed
    for layer in ("roads", "admin_areas"):
        tile = client.get(f"/api/public/context/tiles/{layer}/{z}/{x}/{y}.pbf")
        assert tile.status_code == 200 and tile.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert tile.headers["cache-control"].startswith("private")
    # Only roads and outlines: no layer with people or cases in it.
    for layer in ("complaints", "public_toilets", "inspection_findings"):
        assert client.get(f"/api/public/context/tiles/{layer}/{z}/{x}/{y}.pbf").status_code == 422, layer
    d = 0.01
    bbox = f"{city['lon'] - d},{city['lat'] - d},{city['lon'] + d},{city['lat'] + d}"
    names = client.get(f"/api/public/context/labels?bbox={bbox}&zoom=16")
    assert names.status_code == 200 and names.json()["features"]
    assert {f["properties"]["kind"] for f in names.json()["features"]} <= {"district", "street", "community", "road"}
    page = client.get("/report")
    assert '"/api/public/context/tiles/"' in page.text and '"/api/public/context/labels"' in page.text


def test_the_index_page_links_residents_to_the_report_page(client):
    assert 'href="/report"' in client.get("/").text and "群众反映问题" in client.get("/").text
    assert 'href="/report?lang=en"' in client.get("/?lang=en").text
