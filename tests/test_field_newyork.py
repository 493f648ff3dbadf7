"""An inspector's week in New York (NYC Open Data, built from nothing by tests/new_york.py): the printed grid sheet
as the street office hands it out, and the field page on a phone at 390 px.

New York's names are long ("MN03 Lower East Side-Chinatown (CD 3 Equivalent)", "Chinatown-Two Bridges 2号网格"):
the sheet's title ran off the page and the grid manager's phone number was cut to "212-555-00…". The field page
offered every round of the city, so an inspector of Bushwick (BK04) saving findings offline under the Lower East
Side's round had each refused once the phone was back online.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.new_york import (  # noqa: F401  (pytest fixtures, used by name)
    OTHER,
    STREET,
    call,
    newyork,
    ny_grids,
    ny_round,
    ny_server,
)
from tests.pdf_tools import PT_PER_MM, pdftext, words


def _words(pdf, page: int) -> list[tuple[float, float, str]]:
    """(xMax, yMax, word) of every word pdftotext finds on ``page``, in points from the top left."""
    return [(box[2] * PT_PER_MM, box[3] * PT_PER_MM, word) for word, box in words(pdf, page)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_newyork_grid_sheet_keeps_its_title_on_the_page_and_the_managers_phone_whole(ny_server, ny_grids, lang,
                                                                                      tmp_path):
    """MN030102's sheet, as its street office prints it: every word of the title lies inside the page, and the
    manager's name and phone from the roster are printed whole (the English sheet cut the phone number)."""
    code = ny_grids[1]
    manager, phone = ny_server.sql("SELECT grid_manager, phone FROM grids WHERE code = %s", (code,))[0]
    got = call(ny_server, "GET", f"/print/grids/{code}.pdf", "street", params={"lang": lang})
    assert got.status_code == 200, got.text[:300]
    pdf = tmp_path / f"{code}-{lang}.pdf"
    pdf.write_bytes(got.content)
    width_pt = 210 / 25.4 * 72
    words = _words(pdf, 1)
    title = [w for w in words if w[1] < 60]  # the header's title line, 10 mm from the top
    assert "Chinatown-Two" in [w[2] for w in title] and "(CD" in [w[2] for w in title], title
    assert max(x for x, _, _ in title) <= width_pt - 20, title  # inside the right margin (10 mm ≈ 28 pt)
    text = " ".join(w[2] for w in words)
    assert phone in text and manager in text, (phone, manager, text[-2000:])
    # The same sheet printed anonymously says the contacts are withheld, not that nobody is assigned ("—").
    anonymous = call(ny_server, "GET", f"/print/grids/{code}.pdf", params={"lang": lang})
    (tmp_path / "anonymous.pdf").write_bytes(anonymous.content)
    said = pdftext(tmp_path / "anonymous.pdf", 1)
    withheld = "不公开" if lang == "zh" else "not public"
    assert phone not in said and manager not in said and said.count(withheld) >= 2, said[-1500:]


@pytest.mark.parametrize(("lang", "last"), [("zh", "巡查路线图"), ("en", "route")])
def test_newyork_route_sheet_title_whole_on_the_page(ny_server, ny_grids, lang, last, tmp_path):
    """MN03's inspection route: its title ("… (CD 3 Equivalent) · Inspection route") ends with its last word,
    inside the page (shrunk to fit, never cut while it fits)."""
    got = call(ny_server, "GET", f"/print/streets/{STREET}/route.pdf", "street", params={"lang": lang, "top": 3})
    assert got.status_code == 200, got.text[:300]
    pdf = tmp_path / f"route-{lang}.pdf"
    pdf.write_bytes(got.content)
    title = [w for w in _words(pdf, 1) if w[1] < 60]
    assert title[-1][2].endswith(last) and "…" not in "".join(w[2] for w in title), title
    assert max(x for x, _, _ in title) <= 210 / 25.4 * 72 - 20, title


@contextlib.contextmanager
def _phone(ny_server, who: str, path: str = "/field"):
    """Chromium at a phone's width (390 px), logged in as ``who`` by the login page, on ``path``."""
    from tests.chromium import Chromium, chromium_binary
    from tests.test_public_browser import _wait

    if chromium_binary() is None:
        pytest.skip("chromium is not installed")
    browser = Chromium()
    try:
        browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
        browser.open(ny_server.base + "/login", ready_js="!!document.getElementById('token')")
        browser.evaluate(f"document.getElementById('token').value = {json.dumps(ny_server.tokens[who])};"
                         "document.querySelector('form').submit()")
        _wait(browser, "location.pathname !== '/login'")
        report = browser.open(ny_server.base + path, ready_js="!!window.hmField")
        assert not report.console_errors and not report.failed_requests, (report.console_errors,
                                                                           report.failed_requests)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        yield browser
    finally:
        browser.close()


def _browser_rounds(ny_server, who: str) -> list[str]:
    """The round choices the field page shows ``who`` on a phone."""
    with _phone(ny_server, who) as browser:
        return browser.evaluate("Array.from(document.querySelectorAll('#fd-round option'))"
                                ".map(function (o) { return o.textContent; })")


def test_newyork_field_page_offers_an_inspector_only_the_rounds_over_its_street(ny_server, ny_grids):
    """Two rounds this week, one over the Lower East Side (MN03), one over Bushwick (BK04): Bushwick's inspector
    is offered Bushwick's round only, MN03's inspector MN03's only, the admin both; a finding of Bushwick's
    inspector in the other round is refused as before (the choice it was offered is the one that works).
    Bushwick's round, a 专项检查 made unannounced, says so: the inspector comes unrecognised."""
    now = datetime.now(UTC)
    names = {}
    for street, name, kind in ((STREET, "曼哈顿第3社区本周检查", "周检查"), (OTHER, "布鲁克林第4社区病媒生物专项暗访", "专项检查")):
        made = call(ny_server, "POST", "/api/inspections/rounds", "admin", json={
            "name": name, "kind": kind, "streets": [street], "starts": (now - timedelta(days=1)).isoformat(),
            "ends": (now + timedelta(days=6)).isoformat(), "unannounced": kind == "专项检查"})
        assert made.status_code == 201, made.text
        names[street] = (made.json()["id"], f"{name} · {kind}" + (" · 暗访" if kind == "专项检查" else ""))
    if "bushwick" not in ny_server.tokens:
        added = ny_server.cli("users", "add", "ny-bushwick", "--role", "inspector", "--street", OTHER)
        ny_server.tokens["bushwick"] = added.stdout.strip().split()[-1]
    assert _browser_rounds(ny_server, "bushwick") == [names[OTHER][1]]
    assert _browser_rounds(ny_server, "inspector") == [names[STREET][1]]
    assert set(_browser_rounds(ny_server, "admin")) >= {shown for _, shown in names.values()}
    lon, lat = ny_server.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                             "WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))[0]
    refused = call(ny_server, "POST", "/api/inspections/findings", "bushwick", json={
        "round_id": names[STREET][0], "lon": lon, "lat": lat, "item": "GBG-01", "observed_at": now.isoformat(),
        "client_id": "bushwick-in-mn03"})
    assert refused.status_code == 403 and "inspects street BK04" in refused.text, refused.text


def test_newyork_field_page_opens_on_the_inspectors_street_and_the_admins_city(ny_server, ny_grids):
    """MN03's inspector opens the field page on the Lower East Side (its extent), not on the five boroughs; the
    campaign office's admin on the whole city."""
    import re

    def view(who: str) -> list[float]:
        page = call(ny_server, "GET", "/field", who)
        assert page.status_code == 200, page.text
        found = re.search(r'<script id="fd-config" type="application/json">(.*?)</script>', page.text, re.S)
        return json.loads(found.group(1))["bounds"]

    street = ny_server.sql("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM admin_areas "
                           "WHERE code = %s", (STREET,))[0]
    city = ny_server.sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e "
                         "FROM admin_areas WHERE level = 'district') x")[0]
    assert view("inspector") == pytest.approx(street, abs=1e-6)
    assert view("admin") == pytest.approx(city, abs=1e-6)


def test_newyork_findings_of_a_street_or_round_that_does_not_exist_are_refused_not_an_empty_page(ny_server, ny_round):
    """The office lists MN03's findings; a street typed in lower case, one the city lacks, or a round that does not
    exist is refused naming it (as /api/complaints refuses them), where the list answered an empty page."""
    listed = call(ny_server, "GET", "/api/inspections/findings", "street", params={"street": STREET})
    assert listed.status_code == 200 and ny_round["id"] in [f["id"] for f in listed.json()["items"]], listed.text
    assert {f["street_code"] for f in listed.json()["items"]} == {STREET}
    for wrong in ("mn03", "XX99"):
        refused = call(ny_server, "GET", "/api/inspections/findings", "street", params={"street": wrong})
        assert refused.status_code == 404 and f"street {wrong!r} does not exist" in refused.text, refused.text
    missing = call(ny_server, "GET", "/api/inspections/findings", "street", params={"round": 987654})
    assert missing.status_code == 404 and "no inspection round with id 987654" in missing.text, missing.text


@pytest.mark.parametrize(("lang", "toilets", "markets"), [("zh", "公厕", "农贸市场"), ("en", "public toilets", "markets")])
def test_newyork_field_page_names_the_place_types_in_the_pages_language(ny_server, lang, toilets, markets):
    """MN03's inspector taps the map at one of the city's public restrooms (NYC Open Data): the restroom's items
    come first under the place type's name, and the other types fold below, in the page's language (the English
    page named them 公厕, 农贸市场)."""
    from tests.test_public_browser import _wait

    name, lon, lat = ny_server.sql(
        "SELECT t.name, ST_X(t.geom), ST_Y(t.geom) FROM toilets t JOIN admin_areas s ON s.level = 'street' "
        "AND s.code = %s AND ST_Covers(s.geom, t.geom) ORDER BY t.name LIMIT 1", (STREET,))[0]
    with _phone(ny_server, "inspector", f"/field?lang={lang}") as browser:
        browser.evaluate(f"hmField.map.fire('click', {{latlng: L.latLng({lat}, {lon})}}); 0")
        _wait(browser, "(document.body.getAttribute('data-near') || '').indexOf('公厕') === 0")
        legends = browser.evaluate("Array.from(document.querySelectorAll('#fd-items legend'))"
                                   ".map(function (l) { return l.textContent; })")
        near = browser.evaluate("document.getElementById('fd-near').textContent")
    assert legends[0] == toilets and markets in legends, legends
    assert f"{toilets}（{name}）" in near, near


def test_newyork_problem_list_prints_the_deadline_with_its_hour(ny_server, ny_round, tmp_path):
    """The inspector's finding of 28 February 2023, 10:30 in New York (GBG-01, due in a day): MN03's 问题清单 prints
    its deadline as the day and, under it, 10:30 New York time (the day alone read as 'by the evening')."""
    got = call(ny_server, "GET", f"/api/inspections/rounds/{ny_round['round_id']}/problems.pdf", "street",
               params={"street": STREET})
    assert got.status_code == 200, got.text[:300]
    pdf = tmp_path / "problems.pdf"
    pdf.write_bytes(got.content)
    assert "北半球第18带 (EPSG:32618)" in pdftext(pdf, 1), pdftext(pdf, 1)[-600:]  # the footer, in Chinese
    words = _words(pdf, 2)  # page 1 is the map, page 2 the list
    day = [w for w in words if w[2] == "2023-03-01"]
    assert len(day) == 1, words
    below = [w for w in words if w[2] == "10:30" and 0 < w[1] - day[0][1] < 15 and abs(w[0] - day[0][0]) < 40]
    assert below, [w for w in words if abs(w[1] - day[0][1]) < 20]


def _two_findings_the_first_photographed(ny_server, ny_grids, tmp_path) -> tuple[list[int], object]:
    """Two findings of MN03's inspector at one of its grids, the first with the inspector's photo before (seen in
    the list by MN03's office only); their ids and a phone's photo for after."""
    from PIL import Image

    now = datetime.now(UTC)
    made = call(ny_server, "POST", "/api/inspections/rounds", "admin", json={
        "name": "曼哈顿第3社区整改复查", "kind": "专项检查", "streets": [STREET],
        "starts": (now - timedelta(days=1)).isoformat(), "ends": (now + timedelta(days=6)).isoformat()})
    assert made.status_code == 201, made.text
    lon, lat = ny_server.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                             "WHERE code = %s", (ny_grids[2],))[0]
    ids = []
    for n in range(2):
        found = call(ny_server, "POST", "/api/inspections/findings", "inspector", json={
            "round_id": made.json()["id"], "lon": lon, "lat": lat, "item": "TLT-03", "note": f"洗手池无水 第{n}处",
            "observed_at": (now - timedelta(hours=2)).isoformat(), "client_id": f"todo-{n}"})
        assert found.status_code == 201, found.text
        ids.append(found.json()["id"])
    after = tmp_path / "after.jpg"
    Image.new("RGB", (2400, 1800), (40, 160, 60)).save(after, quality=90)
    before = io.BytesIO()
    Image.new("RGB", (800, 600), (150, 40, 40)).save(before, format="JPEG")
    sent = call(ny_server, "POST", f"/api/inspections/findings/{ids[0]}/photos", "inspector", data={"stage": "before"},
                files={"file": ("before.jpg", before.getvalue(), "image/jpeg")})
    assert sent.status_code == 201, sent.text
    # The list carries the photos to those who may see them: MN03's office, not BK04's.
    for who, sees in (("street", True), ("other", False), ("planner", False)):
        items = call(ny_server, "GET", "/api/inspections/findings", who, params={"street": STREET}).json()["items"]
        mine = next(f for f in items if f["id"] == ids[0])
        assert ([p["url"] for p in mine["photos"]] == [sent.json()["url"]]) if sees else "photos" not in mine, who

    return ids, after


def _street_office_rectifies_on_the_phone(ny_server, ny_round, ids: list[int], after) -> None:
    """MN03's office: its list soonest deadline first, the second refused without a photo, the first sent with one."""
    from tests.test_public_browser import _wait

    with _phone(ny_server, "street") as phone:
        _wait(phone, "document.body.getAttribute('data-todo') !== null")
        assert phone.evaluate("document.querySelector('p.tr-note').textContent").startswith("账号: ny-street")
        assert phone.evaluate("document.querySelector('#fd-todo textarea').placeholder") == "整改说明（选填）"
        # soonest deadline first: the round of February 2023's finding, long overdue, on top
        listed = phone.evaluate("Array.from(document.querySelectorAll('#fd-todo li')).map(function (li) {"
                                " return Number(li.dataset.finding); })")
        assert listed[0] == ny_round["id"] and listed.index(ids[0]) < listed.index(ids[1]), listed
        assert phone.evaluate("document.querySelector('#fd-todo li').textContent").find("已超期") > 0
        for i in ids:
            assert phone.evaluate(f"!!document.querySelector('#fd-todo li[data-finding=\"{i}\"]')"), i
        # without the photo after: said on the card, nothing sent
        phone.evaluate(f"document.querySelector('#fd-todo li[data-finding=\"{ids[1]}\"] button').click(); 0")
        _wait(phone, f"document.querySelector('#fd-todo li[data-finding=\"{ids[1]}\"] .tr-error').textContent !== ''")
        assert "整改后照片" in phone.evaluate(
            f"document.querySelector('#fd-todo li[data-finding=\"{ids[1]}\"] .tr-error').textContent")
        # the inspector's photo before, on the card (loaded: the session may read it)
        _wait(phone, f"(document.querySelector('#fd-todo li[data-finding=\"{ids[0]}\"] img.fd-before') || {{}})"
                     ".naturalWidth > 0")
        root = phone.send("DOM.getDocument")["root"]["nodeId"]
        node = phone.send("DOM.querySelector", nodeId=root,
                          selector=f"#fd-todo li[data-finding=\"{ids[0]}\"] input[type=file]")["nodeId"]
        phone.send("DOM.setFileInputFiles", files=[str(after)], nodeId=node)
        phone.evaluate(f"document.querySelector('#fd-todo li[data-finding=\"{ids[0]}\"] button').click(); 0")
        _wait(phone, f"document.querySelector('#fd-todo li[data-finding=\"{ids[0]}\"]').dataset.state === 'sent'")


def _inspector_passes_on_the_phone(ny_server, ids: list[int]) -> None:
    """The inspector lists only the rectified one; failing it needs a reason; it is passed."""
    from tests.test_public_browser import _wait

    with _phone(ny_server, "inspector") as phone:
        _wait(phone, "document.body.getAttribute('data-todo') !== null")
        assert phone.evaluate(f"!!document.querySelector('#fd-todo li[data-finding=\"{ids[0]}\"]')")
        assert not phone.evaluate(f"!!document.querySelector('#fd-todo li[data-finding=\"{ids[1]}\"]')")
        card = f"#fd-todo li[data-finding=\"{ids[0]}\"]"
        phone.evaluate(f"document.querySelector('{card} .fd-fail').click(); 0")  # failing needs a reason
        _wait(phone, f"document.querySelector('{card} .tr-error').textContent !== ''")
        phone.evaluate(f"document.querySelector('{card} button').click(); 0")  # 复查通过
        _wait(phone, f"document.querySelector('{card}').dataset.state === 'sent'")


def test_newyork_street_office_rectifies_and_inspector_rechecks_on_the_phone(ny_server, ny_grids, ny_round, tmp_path):
    """The loop on the field page at 390 px: MN03's inspector records a finding at a restroom; MN03's office finds it
    in its list 本街道待整改问题, takes the photo after, marks it 已整改 — the photo is stored as the finding's
    'after' photo; marking another without a photo is refused on the phone before anything is sent. The inspector
    finds it under 待复查问题 and passes it; a failed re-check needs its reason. BK04's office lists none of MN03's
    findings and reads no description."""
    ids, after = _two_findings_the_first_photographed(ny_server, ny_grids, tmp_path)
    _street_office_rectifies_on_the_phone(ny_server, ny_round, ids, after)
    first = call(ny_server, "GET", f"/api/inspections/findings/{ids[0]}", "street").json()
    assert first["status"] == "已整改" and first["rectified_by"] == "ny-street", first
    photos = [p for p in first["photos"] if p["stage"] == "after"]
    assert len(photos) == 1 and max(photos[0]["width"], photos[0]["height"]) <= 1600, photos  # resized on the phone
    image = call(ny_server, "GET", photos[0]["url"], "street")  # personal: no copy left in a shared office browser
    assert image.status_code == 200 and image.headers["cache-control"] == "private, no-store", image.headers
    assert call(ny_server, "GET", f"/api/inspections/findings/{ids[1]}", "street").json()["status"] == "待整改"

    _inspector_passes_on_the_phone(ny_server, ids)
    done = call(ny_server, "GET", f"/api/inspections/findings/{ids[0]}", "inspector").json()
    assert done["status"] == "复查通过" and [e["to"] for e in done["events"]] == ["待整改", "已整改", "复查通过"]

    other = call(ny_server, "GET", "/api/inspections/findings", "other",
                 params={"street": OTHER, "status": "待整改"}).json()["items"]
    assert not any(f["id"] in ids for f in other)
    assert call(ny_server, "GET", f"/api/inspections/findings/{ids[1]}", "other").json()["description"] is None


def test_newyork_only_the_campaign_office_opens_a_round(ny_server):
    """MN03's inspector and office may not open a round: refused saying who they are and who may; nothing is
    written."""
    before = ny_server.one("SELECT count(*) FROM inspection_rounds")
    for who, role in (("inspector", "inspector"), ("street", "street")):
        refused = call(ny_server, "POST", "/api/inspections/rounds", who, json={
            "name": "自查", "kind": "周检查", "streets": [STREET], "starts": "2026-11-23", "ends": "2026-11-30"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"] == f"user 'ny-{who}' ({role}) may not open an inspection round: only admins do"
    assert ny_server.one("SELECT count(*) FROM inspection_rounds") == before


def test_newyork_finding_recorded_on_the_phone_shows_its_deadline_hour_in_new_york_time(ny_server, ny_grids):
    """MN03's inspector taps a public restroom on the field page, picks the first toilet item and saves: the phone
    lists it sent, with its grid and its deadline to the minute in New York time (a day's item is due at the hour
    it was found; the phone showed the day only)."""
    from zoneinfo import ZoneInfo

    from tests.test_public_browser import _wait

    now = datetime.now(UTC)
    made = call(ny_server, "POST", "/api/inspections/rounds", "admin", json={
        "name": "曼哈顿第3社区公厕专项", "kind": "专项检查", "streets": [STREET],
        "starts": (now - timedelta(days=1)).isoformat(), "ends": (now + timedelta(days=6)).isoformat()})
    assert made.status_code == 201, made.text
    lon, lat = ny_server.sql(
        "SELECT ST_X(t.geom), ST_Y(t.geom) FROM toilets t JOIN grids g ON ST_Covers(g.geom, t.geom) "
        "WHERE g.street_code = %s ORDER BY t.name LIMIT 1", (STREET,))[0]
    with _phone(ny_server, "inspector") as phone:
        phone.evaluate(f"document.getElementById('fd-round').value = '{made.json()['id']}'; "
                       f"hmField.map.fire('click', {{latlng: L.latLng({lat}, {lon})}}); 0")
        _wait(phone, "(document.body.getAttribute('data-near') || '').indexOf('公厕') === 0")
        phone.evaluate("document.querySelector('#fd-items input[value=\"TLT-01\"]').checked = true;"
                       "document.getElementById('fd-save').click(); 0")
        _wait(phone, "document.body.dataset.sent === '1' && document.body.dataset.pending === '0'")
        shown = phone.evaluate("document.querySelector('#fd-queue li[data-state=\"sent\"] .fd-state').textContent")
    stored = call(ny_server, "GET", "/api/inspections/findings", "inspector",
                  params={"round": made.json()["id"]}).json()["items"]
    assert len(stored) == 1 and stored[0]["item_code"] == "TLT-01", stored
    due = datetime.fromisoformat(stored[0]["due_at"]).astimezone(ZoneInfo("America/New_York"))
    assert stored[0]["grid_code"] in shown and due.strftime("%H:%M") in shown, (shown, due)


def test_newyork_problem_list_workbook_links_each_photo_on_this_server(ny_server, ny_round):
    """MN03's 问题清单 as XLSX over HTTP: the photo's address is a whole link to this server (a click opens it for
    someone logged in), where it was a bare path; BK04's office gets the list without it."""
    import openpyxl
    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 90, 30)).save(photo, format="JPEG")
    sent = call(ny_server, "POST", f"/api/inspections/findings/{ny_round['id']}/photos", "inspector",
                data={"stage": "before"}, files={"file": ("before.jpg", photo.getvalue(), "image/jpeg")})
    assert sent.status_code in (200, 201), sent.text
    for who, link in (("street", ny_server.base + sent.json()["url"]), ("other", None)):
        got = call(ny_server, "GET", f"/api/inspections/rounds/{ny_round['round_id']}/problems.xlsx", who,
                   params={"street": STREET})
        assert got.status_code == 200, got.text[:300]
        sheet = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
        head = [c.value for c in sheet[1]]
        row = next(r for r in sheet.iter_rows(min_row=2) if r[head.index("问题ID")].value == ny_round["id"])
        cell = row[head.index("照片地址")]
        assert cell.value == link, (who, cell.value)
        assert (cell.hyperlink.target if cell.hyperlink else None) == link, who


def test_newyork_finding_outside_the_inspectors_street_is_refused_naming_both(ny_server, ny_grids):
    """MN03's inspector records a finding in Bushwick (BK04, no grids): refused naming its own street and the
    place's, without a stray 'grid -'; nothing is written."""
    now = datetime.now(UTC)
    made = call(ny_server, "POST", "/api/inspections/rounds", "admin", json={
        "name": "两区交叉检查", "kind": "复审模拟", "streets": [STREET, OTHER],
        "starts": (now - timedelta(days=1)).isoformat(), "ends": (now + timedelta(days=6)).isoformat()})
    lon, lat = ny_server.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_areas "
                             "WHERE level = 'street' AND code = %s", (OTHER,))[0]
    refused = call(ny_server, "POST", "/api/inspections/findings", "inspector", json={
        "round_id": made.json()["id"], "lon": lon, "lat": lat, "item": "LAN-01", "observed_at": now.isoformat(),
        "client_id": "outside-mn03"})
    assert refused.status_code == 403, refused.text
    detail = refused.json()["detail"]
    # The place's street is its community's parent (BK04), not the community code's first characters (BK0402).
    assert detail == f"user 'ny-inspector' inspects street {STREET}, not street {OTHER} (no grid there)", detail
    assert ny_server.one("SELECT count(*) FROM inspection_findings WHERE client_id = 'outside-mn03'") == 0
