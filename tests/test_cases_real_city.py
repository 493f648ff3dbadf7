"""The case page (/cases) on a real city: Yantai built from its real Gaode outlines (tests/yantai_street.py's
fixtures: 向阳街道 with grids and a roster, a street office user). A complaint filed at a point of the street is in
the street office's list on a phone, with its time in the city's zone; opened, it names its grid and unit, and
registering it (受理→立案) with a note is written and shown. With a 12345 hotline export imported, a complaint is
found (``GET /api/complaints?q=``) by its number, its hotline number or its address — by the words of what the
caller said only for who may read them — and its detail says what the user may do; on a phone the office finds a
caller's complaint by the road, and the other street's office reads it without any step to take."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import httpx
import pytest

from tests.test_cases_page import CITY_ZONE, buttons, fits, problems, rows, shown
from tests.test_public_browser import _wait

# Yantai's fixtures (the city from its real outlines, its street with grids and users, the server), built once here.
from tests.yantai_street import EAST, EAST_UNIT, STREET, WEST, WEST_UNIT, call, city, site, yantai  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_yantai_street_office_registers_a_complaint_on_its_phone(browser, site):  # noqa: F811
    lon, lat, grid = _point(site)
    category = site.one("SELECT name FROM event_types ORDER BY name LIMIT 1")
    reported = datetime.now(CITY_ZONE).replace(microsecond=0) - timedelta(hours=3)
    made = httpx.post(site.base + "/api/complaints", timeout=60,
                      headers={"Authorization": f"Bearer {site.tokens['admin']}"},
                      json={"lon": lon, "lat": lat, "category": category, "source": "12345",
                            "description": "路边垃圾堆放", "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%S")})
    assert made.status_code == 201, made.text
    complaint = made.json()
    assert complaint["grid_code"] == grid
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        _login(browser, site, "street")
        row = next(r for r in rows(browser) if r["id"] == complaint["id"])
        assert row["cells"][3] == reported.strftime("%Y-%m-%d %H:%M") == shown(complaint["reported_at"])
        assert fits(browser)
        browser.evaluate(f"document.querySelector('#cs-rows tr[data-id=\"{complaint['id']}\"]').click()")
        _wait(browser, f"document.body.dataset.detail === '{complaint['id']}'")
        _wait(browser, f"document.getElementById('cs-detail').innerText.indexOf({json.dumps(WEST_UNIT)}) >= 0")
        text = browser.evaluate("document.getElementById('cs-detail').innerText")
        assert grid in text and "路边垃圾堆放" in text
        # The street and community by their names, the codes beside them.
        for level in ("street", "community"):
            name, code = site.sql(f"SELECT a.name, a.code FROM complaints c JOIN admin_areas a ON "
                                  f"a.code = c.{level}_code WHERE c.id = %s", (complaint["id"],))[0]
            assert f"{name}（{code}）" in text, (level, text)
        assert buttons(browser) == ["立案", "结案"]
        # 结案 straight from 受理 is 不予立案: the button says so, and that it needs a note.
        assert browser.evaluate("Array.from(document.querySelectorAll('#cs-step button[data-to]'))"
                                ".map(function (b) { return b.innerText; })") == ["立案", "不予立案（直接结案）（须填写说明）"]
        browser.evaluate("document.getElementById('cs-note').value = '转向阳街道环卫一队';"
                         "document.querySelector('#cs-step button[data-to=\"立案\"]').click()")
        _wait(browser, "document.body.dataset.status === '立案'")
        assert "转向阳街道环卫一队" in browser.evaluate("document.getElementById('cs-history').innerText")
        assert site.one("SELECT status FROM complaints WHERE id = %s", (complaint["id"],)) == "立案"
        assert fits(browser)
        assert problems(browser, site.base) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def _login(browser, site, who):  # noqa: F811
    """Log in on the case page through its login link, as ``who``."""
    browser.send("Network.clearBrowserCookies")
    browser.open(site.base + "/cases", ready_js="!!document.getElementById('cs-login-link')")
    browser.evaluate("document.getElementById('cs-login-link').click()")
    _wait(browser, "!!document.getElementById('token')")
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(site.tokens[who])};"
                     "document.querySelector('form').submit()")
    _wait(browser, "location.pathname === '/cases' && document.body.hasAttribute('data-rows')")


def _point(city_):
    """A point inside the first grid of the western community, and that grid's code."""
    return city_.sql("SELECT ST_X(p), ST_Y(p), code FROM (SELECT ST_PointOnSurface(geom) p, code FROM grids "
                     "WHERE community_code = %s ORDER BY code LIMIT 1) g", (WEST,))[0]


# A 12345 hotline export of the street: hotline numbers, addresses (one with a literal % and _), and what the callers
# said — one description holds words found in no address (蓝色铁皮棚), and a caller's phone number.
HOTLINE = (("12345-2024-0031", "芝罘区幸福路12号", "楼道口堆放杂物，王先生 13912345678", WEST, 3),
           ("12345-2024-0032", "芝罘区幸福路88号东侧", "垃圾桶满溢", EAST, 4),
           ("12345-2024-0033", "达标率100%_区域北门", "污水外溢", WEST, 5),
           ("12345-2024-0034", "胜利路5号", "路口蓝色铁皮棚下积存垃圾", EAST, 6))


@pytest.fixture(scope="module")
def hotline(site):  # noqa: F811
    """The hotline export imported (`import complaints`), days old; hotline number → complaint id."""
    now = datetime.now(CITY_ZONE).replace(microsecond=0)
    path = site.work / "yantai_12345.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "地址", "渠道", "上报时间"])
        for number, address, said, community, days in HOTLINE:
            lon, lat = site.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                                "WHERE community_code = %s ORDER BY code DESC LIMIT 1) g", (community,))[0]
            writer.writerow([number, f"{lon:.6f}", f"{lat:.6f}", "暴露垃圾", said, address, "12345",
                             (now - timedelta(days=days)).isoformat()])
    site.cli("import", "complaints", path.name)
    return dict(site.sql("SELECT source_id, id FROM complaints WHERE source_id LIKE '12345-2024-%%'"))


def _found(site, who, q, **params) -> list[int]:  # noqa: F811
    answer = call(site, "GET", "/api/complaints", who, params={"q": q, "limit": 20, **params})
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


def test_a_complaint_is_found_by_its_number_its_hotline_number_or_its_address(site, hotline):  # noqa: F811
    first, second = hotline["12345-2024-0031"], hotline["12345-2024-0032"]
    assert _found(site, "street", str(second), street=STREET)[0] == second
    assert _found(site, "admin", str(second)) == [second]  # the campaign office: every street
    found = call(site, "GET", "/api/complaints", "street", params={"q": "12345-2024-0031"}).json()["items"]
    assert [c["id"] for c in found] == [first] and found[0]["source_id"] == "12345-2024-0031"
    assert _found(site, "street", "幸福路", street=STREET) == [first, second]  # newest first
    assert _found(site, "anonymous", "幸福路") == [first, second]  # the address is public
    grid = site.one("SELECT grid_code FROM complaints WHERE id = %s", (second,))
    assert _found(site, "street", "幸福路", grid=grid) == [second]  # with the list's filters
    assert _found(site, "street", "幸福路", status="立案") == []
    assert _found(site, "street", "幸福路", street=STREET, offset=1) == [second]  # a page at a time


def test_description_words_are_found_only_by_who_may_read_descriptions(site, hotline):  # noqa: F811
    shed = hotline["12345-2024-0034"]
    assert _found(site, "street", "蓝色铁皮棚") == [shed] == _found(site, "admin", "蓝色铁皮棚")
    for who in ("anonymous", "planner", "other"):  # not the other street's office, nor a planner, nor the public
        assert _found(site, who, "蓝色铁皮棚") == [], who
        assert _found(site, who, "13912345678") == [], who
    items = call(site, "GET", "/api/complaints", "other", params={"q": "幸福路"}).json()["items"]
    assert items and all(c["description"] is None for c in items)  # its rows are another street's


def test_wildcards_are_literal_and_bad_words_are_named(site, hotline):  # noqa: F811
    marked = hotline["12345-2024-0033"]
    assert _found(site, "admin", "%") == [marked] == _found(site, "admin", "_")
    assert _found(site, "admin", "100%_") == [marked]
    assert _found(site, "admin", "幸福%") == [] == _found(site, "admin", "\\")
    for bad in ("幸福\x00路", "路" * 101):
        answer = call(site, "GET", "/api/complaints", "admin", params={"q": bad})
        assert answer.status_code == 422 and answer.json()["detail"].startswith("q: "), answer.text


def test_the_detail_says_what_this_user_may_do(site, hotline):  # noqa: F811
    case = hotline["12345-2024-0031"]

    def actions(who):
        answer = call(site, "GET", f"/api/complaints/{case}", who)
        assert answer.status_code == 200, answer.text
        return answer.json()["actions"]

    nothing = {"steps": [], "request_extension": False, "decide_extension": False, "set_deadline": False,
               "public_reply": False, "photos": False}  # a hotline complaint: no reporter of the public channel
    assert actions("street") == {**nothing, "steps": ["立案", "结案"], "request_extension": True, "photos": True}
    assert actions("admin") == {**nothing, "steps": ["立案", "结案"], "request_extension": True,
                                "set_deadline": True, "photos": True}
    for who in ("other", "planner", "anonymous"):
        assert actions(who) == nothing, who
    refused = call(site, "PATCH", f"/api/complaints/{case}", "other", json={"status": "立案", "note": "试试"})
    assert refused.status_code == 403  # what the detail does not offer is still refused


def test_the_detail_names_the_unit_responsible_for_its_grid(site, hotline):
    """The unit the roster gave the complaint's grid (西山社区's 向阳街道环卫一队, 东海社区's 芝罘城管二中队),
    in the detail itself for every caller: the unit is public, as on the grid layer."""
    for number, unit in (("12345-2024-0031", WEST_UNIT), ("12345-2024-0032", EAST_UNIT)):
        for who in ("street", "other", "anonymous"):
            answer = call(site, "GET", f"/api/complaints/{hotline[number]}", who)
            assert answer.status_code == 200 and answer.json()["responsible_unit"] == unit, (who, answer.text)


def test_on_a_phone_the_office_finds_a_caller_s_complaint_by_the_road_and_another_office_only_reads_it(
        browser, site, hotline):  # noqa: F811
    first, second = hotline["12345-2024-0031"], hotline["12345-2024-0032"]
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        _login(browser, site, "street")
        browser.evaluate("var q = document.getElementById('cs-q'); q.value = '幸福路';"
                         "q.dispatchEvent(new Event('input', {bubbles: true}))")
        _wait(browser, "document.body.dataset.rows === '2'")
        found = rows(browser)
        assert [r["id"] for r in found] == [first, second]
        assert "芝罘区幸福路12号" in found[0]["cells"][1] and "芝罘区幸福路88号东侧" in found[1]["cells"][1]
        assert fits(browser)
        browser.evaluate(f"document.querySelector('#cs-rows tr[data-id=\"{first}\"]').click()")
        _wait(browser, f"document.body.dataset.detail === '{first}'")
        text = browser.evaluate("document.getElementById('cs-detail').innerText")
        assert "12345-2024-0031" in text and "芝罘区幸福路12号" in text and "13912345678" in text  # its own street's
        assert buttons(browser) == ["立案", "结案"]
        assert problems(browser, site.base) == []
        # The other street's office opens it by its number: it reads it, without the caller's words or any step.
        _login(browser, site, "other")
        browser.evaluate(f"location.hash = '{first}'")
        _wait(browser, f"document.body.dataset.detail === '{first}'")
        text = browser.evaluate("document.getElementById('cs-detail').innerText")
        assert "芝罘区幸福路12号" in text and "13912345678" not in text
        assert buttons(browser) == [] and not browser.evaluate("!!document.getElementById('cs-ask')")
        assert browser.evaluate("document.getElementById('cs-readonly').innerText").startswith("该投诉不在您的办理范围内")
        assert fits(browser)
        assert problems(browser, site.base) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_the_english_case_page_names_the_categories_in_english(browser, site, hotline):  # noqa: F811
    """/cases?lang=en listed 暴露垃圾 under Category, in the list and the detail: the event types' English names."""
    english = site.one("SELECT name_en FROM event_types WHERE name = '暴露垃圾'")
    assert english and english != "暴露垃圾"
    first = hotline["12345-2024-0031"]
    _login(browser, site, "street")
    browser.open(site.base + "/cases?lang=en", ready_js="document.body.hasAttribute('data-rows')")
    row = next(r for r in rows(browser) if r["id"] == first)
    assert row["cells"][1].startswith(english), row
    browser.evaluate(f"location.hash = '{first}'")
    _wait(browser, f"document.body.dataset.detail === '{first}'")
    text = browser.evaluate("document.getElementById('cs-detail').innerText")
    assert english in text and "暴露垃圾" not in text, text
    assert problems(browser, site.base) == []


def test_the_street_office_reads_why_each_deadline_changed(browser, site, hotline):  # noqa: F811
    """The New York walkthrough: the page read a field the API does not give (``note``), so a rejection's mandatory
    note — what the street has to do instead — was invisible to the street office. Each change of the deadline
    history (request, rejection, request, approval, a deadline set) shows its reason, as text."""
    complaint = hotline["12345-2024-0033"]
    due = max(datetime.fromisoformat(call(site, "GET", f"/api/complaints/{complaint}", "admin").json()["due_at"]),
              datetime.now(CITY_ZONE))  # later than the current deadline and not in the past
    asked = [(due + timedelta(days=d)).astimezone(CITY_ZONE).isoformat() for d in (2, 3, 9)]
    reasons = ["雨天清运车辆不足 <b>车</b>", "请先调派备用车辆，不予延期", "已借到备用车辆", "同意延至周五", "限期整改 & 复查"]
    for who, path, body in (
            ("street", "deadline/requests", {"due_at": asked[0], "reason": reasons[0]}),
            ("admin", "deadline/requests/{}/decision", {"decision": "reject", "note": reasons[1]}),
            ("street", "deadline/requests", {"due_at": asked[1], "reason": reasons[2]}),
            ("admin", "deadline/requests/{}/decision", {"decision": "approve", "note": reasons[3]})):
        pending = [d["id"] for d in call(site, "GET", f"/api/complaints/{complaint}", "admin").json()[
            "deadline_changes"] if d["kind"] == "request"]
        answer = call(site, "POST", f"/api/complaints/{complaint}/" + path.format(pending[-1] if pending else 0),
                      who, json=body)
        assert answer.status_code in (200, 201), answer.text
    answer = call(site, "PUT", f"/api/complaints/{complaint}/deadline", "admin",
                  json={"due_at": asked[2], "reason": reasons[4]})
    assert answer.status_code == 200, answer.text
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        _login(browser, site, "street")
        browser.evaluate(f"location.hash = '{complaint}'")
        _wait(browser, f"document.body.dataset.detail === '{complaint}'")
        shown_changes = browser.evaluate(
            "Array.from(document.querySelectorAll('#cs-deadline-history li')).map(function (l) {"
            "var p = l.querySelector('p.cs-note'); return [l.dataset.kind, p ? p.textContent : null,"
            "l.querySelectorAll('b').length]; })")
        assert shown_changes == [["request", reasons[0], 1], ["reject", reasons[1], 1], ["request", reasons[2], 1],
                                 ["approve", reasons[3], 1], ["set", reasons[4], 1]], shown_changes
        assert fits(browser)
        assert problems(browser, site.base) == []
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
