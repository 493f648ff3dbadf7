"""The case page (/cases) answers a resident, on a real city: Yantai built from its real Gaode outlines
(tests/yantai_street.py: 向阳街道 with grids and a roster, a street office, another street's office). A resident reports
through the public channel (POST /api/public/reports) with a number and a photo, a neighbour adds to it (补充); the
street office opens the complaint on its phone, reads both reporters' numbers and words and the photo, writes a public
reply (公开答复), sees it at once, and the residents read it on their tracking pages. Only who may handle the
complaint (the test of GET .../contacts and POST .../replies) sees or fetches any of it; a complaint from another
channel has no such section; a refused reply is said in the page's language and keeps what was typed."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from tests.taipei_public import solve as _solve
from tests.test_cases_page import fits, login, problems
from tests.test_public_browser import _wait

# Yantai's fixtures (the city from its real outlines, its street with grids and users, the server), built once here.
from tests.yantai_street import GPS, STREET, call, city, site, yantai  # noqa: F401

pytestmark = pytest.mark.browser

FIRST_PHONE, FIRST_WORDS = "13912345678", "幸福路口垃圾桶旁堆了三天的垃圾，味道很大"
SECOND_PHONE, SECOND_WORDS = "0535-6612345", "补充：晚上还有人往这里倒装修垃圾"
REPLY = "您好，向阳街道环卫一队已于今日清运，并在路口加装了一个垃圾桶。"


def _report(site, lon, lat, words, phone):  # noqa: F811
    """A resident's report as the report page sends it (a solved challenge); its answer and its key."""
    challenge = httpx.get(site.base + "/api/public/challenge", timeout=30).json()
    made = httpx.post(site.base + "/api/public/reports", timeout=30, json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "description": words, "phone": phone,
        "challenge": challenge["challenge"], "nonce": _solve(challenge["challenge"], challenge["bits"])})
    assert made.status_code == 201, made.text
    return made.json(), challenge["challenge"]


@pytest.fixture(scope="module")
def reported(site):  # noqa: F811
    """A resident's report at a phone's GPS fix in 西山社区 with a photo, and a neighbour's report ten metres away
    that joins it as a supporter; the case and both tracking numbers."""
    first, key = _report(site, *GPS, FIRST_WORDS, FIRST_PHONE)
    image = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 90, 30)).save(image, format="JPEG")
    photo = httpx.post(site.base + f"/api/public/reports/{first['tracking']}/photos", timeout=30,
                       data={"challenge": key}, files={"file": ("p.jpg", image.getvalue())})
    assert photo.status_code == 201, photo.text
    second, _ = _report(site, GPS[0] + 0.0001, GPS[1], SECOND_WORDS, SECOND_PHONE)
    case = "SELECT complaint_id FROM public_reports WHERE tracking = %s"
    complaint_id = site.one(case, (first["tracking"],))
    assert second["joined"] and site.one(case, (second["tracking"],)) == complaint_id
    assert site.one("SELECT street_code FROM complaints WHERE id = %s", (complaint_id,)) == STREET
    return {"id": complaint_id, "first": first["tracking"], "second": second["tracking"],
            "photo": photo.json()["url"]}


def _open(browser, complaint_id):
    browser.evaluate(f"location.hash = '{complaint_id}'")
    _wait(browser, f"document.body.dataset.detail === '{complaint_id}'")


def _fetched(browser, part: str) -> list[str]:
    return browser.evaluate("performance.getEntriesByType('resource').map(function (e) { return e.name; })"
                            f".filter(function (n) {{ return n.indexOf({json.dumps(part)}) >= 0; }})")


def test_the_detail_says_who_may_read_the_reporters_and_reply(site, reported):  # noqa: F811
    for who, may in (("street", True), ("admin", True), ("inspector", True), ("other", False),
                     ("planner", False), ("anonymous", False)):
        answer = call(site, "GET", f"/api/complaints/{reported['id']}", who)
        assert answer.status_code == 200 and answer.json()["actions"]["public_reply"] is may, (who, answer.text)
        contacts = call(site, "GET", f"/api/complaints/{reported['id']}/contacts", who)
        assert (contacts.status_code == 200) is may, (who, contacts.text)  # the route's own test says the same
    made = call(site, "POST", "/api/complaints", "admin", json={"lon": GPS[0], "lat": GPS[1], "category": "暴露垃圾",
                                                                 "source": "12345"})
    assert made.status_code == 201, made.text
    hotline = call(site, "GET", f"/api/complaints/{made.json()['id']}", "street").json()
    assert hotline["actions"]["public_reply"] is False  # a hotline complaint has no reporter of the public channel


def test_the_street_office_reads_the_reporters_and_replies_and_the_residents_see_it(browser, site, reported):  # noqa: F811
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        login(browser, site.base, {"tokens": site.tokens}, "street")
        _open(browser, reported["id"])
        _wait(browser, f"document.body.dataset.public === '{reported['id']}'")
        reporters = browser.evaluate(
            "Array.from(document.querySelectorAll('#cs-reporters li')).map(function (li) { return {"
            "tracking: li.dataset.tracking, text: li.innerText,"
            "tel: (li.querySelector('.cs-phone a') || {}).href || null,"
            "photos: Array.from(li.querySelectorAll('img')).map(function (i) { return i.getAttribute('src'); })}; })")
        assert [r["tracking"] for r in reporters] == [reported["first"], reported["second"]]
        assert FIRST_PHONE in reporters[0]["text"] and FIRST_WORDS in reporters[0]["text"]
        assert reporters[0]["text"].startswith("首报") and reporters[1]["text"].startswith("补充")
        assert SECOND_PHONE in reporters[1]["text"] and SECOND_WORDS in reporters[1]["text"]
        assert reporters[0]["tel"] == "tel:" + FIRST_PHONE and reporters[1]["tel"] == "tel:05356612345"
        assert reporters[0]["photos"] == [reported["photo"]] and reporters[1]["photos"] == []
        assert browser.evaluate("document.querySelector('#cs-reporters img').naturalWidth") == 320  # it loads
        assert browser.evaluate("document.getElementById('cs-replies').innerText") == "尚未答复"
        # An empty reply is said before anything is sent.
        browser.evaluate("document.querySelector('#cs-reply-form button').click()")
        assert browser.evaluate("document.getElementById('cs-reply-msg').innerText") == "请填写答复内容"
        assert site.one("SELECT count(*) FROM public_replies WHERE complaint_id = %s", (reported["id"],)) == 0
        assert fits(browser)
        browser.evaluate(f"document.getElementById('cs-reply').value = {json.dumps(REPLY)};"
                         "document.querySelector('#cs-reply-form button').click()")
        _wait(browser, "!!document.getElementById('cs-ok') && "
                       f"document.body.dataset.public === '{reported['id']}' && "
                       f"document.getElementById('cs-replies').innerText.indexOf({json.dumps(REPLY)}) >= 0")
        assert browser.evaluate("document.getElementById('cs-ok').innerText") == "公开答复已发布，群众可在跟踪页看到"
        assert "yt-street" in browser.evaluate("document.getElementById('cs-replies').innerText")
        assert browser.evaluate("document.getElementById('cs-reply').value") == ""
        assert site.sql("SELECT reply, actor FROM public_replies WHERE complaint_id = %s",
                        (reported["id"],)) == [(REPLY, "yt-street")]
        assert fits(browser)
        assert problems(browser, site.base) == []
        # Both residents read it on their tracking pages; never the numbers, nor who in the office wrote it.
        for tracking in (reported["first"], reported["second"]):
            browser.open(site.base + f"/report/{tracking}",
                         ready_js=f"document.body.innerText.indexOf({json.dumps(REPLY)}) >= 0")
            text = browser.evaluate("document.body.innerText")
            assert REPLY in text and FIRST_PHONE not in text and SECOND_PHONE not in text and "yt-street" not in text
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_another_street_s_office_sees_neither_the_reporters_nor_the_form(browser, site, reported):  # noqa: F811
    login(browser, site.base, {"tokens": site.tokens}, "other")
    _open(browser, reported["id"])
    text = browser.evaluate("document.getElementById('cs-detail').innerText")
    assert not browser.evaluate("!!document.getElementById('cs-public')")
    assert FIRST_PHONE not in text and SECOND_PHONE not in text and SECOND_WORDS not in text
    assert _fetched(browser, "/contacts") == [] and _fetched(browser, f"/api/complaints/{reported['id']}/photos") == []
    assert problems(browser, site.base) == []


def test_a_hotline_complaint_has_no_reporters_section(browser, site):  # noqa: F811
    made = call(site, "POST", "/api/complaints", "admin", json={"lon": GPS[0] + 0.002, "lat": GPS[1],
                                                                 "category": "垃圾满溢", "source": "12345",
                                                                 "description": "热线来电"})
    assert made.status_code == 201, made.text
    login(browser, site.base, {"tokens": site.tokens}, "street")
    _open(browser, made.json()["id"])
    assert "热线来电" in browser.evaluate("document.getElementById('cs-detail').innerText")
    assert not browser.evaluate("!!document.getElementById('cs-public')")
    assert _fetched(browser, "/contacts") == []


def test_in_english_a_refused_reply_is_explained_and_kept(browser, site, reported):  # noqa: F811
    login(browser, site.base, {"tokens": site.tokens}, "street", "?lang=en")
    _open(browser, reported["id"])
    _wait(browser, f"document.body.dataset.public === '{reported['id']}'")
    assert browser.evaluate("document.querySelector('#cs-public h3').innerText") == "Residents' reports (2)"
    browser.evaluate("document.querySelector('#cs-reply-form button').click()")
    assert browser.evaluate("document.getElementById('cs-reply-msg').innerText") == "Write the reply"
    # Longer than the API takes (a script, not the box's maxlength, put it there): the server's 422, in English.
    browser.evaluate("document.getElementById('cs-reply').value = '长'.repeat(2001);"
                     "document.querySelector('#cs-reply-form button').click()")
    _wait(browser, "document.getElementById('cs-reply-msg').innerText.length > 0")
    said = browser.evaluate("document.getElementById('cs-reply-msg').innerText")
    assert said.startswith("The reply was not published: reply") and "2000" in said, said
    assert browser.evaluate("document.getElementById('cs-reply').value.length") == 2001  # what was typed stays
    assert browser.evaluate("document.querySelector('#cs-reply-form button').disabled") is False
    assert site.one("SELECT count(*) FROM public_replies WHERE complaint_id = %s AND length(reply) > 2000",
                    (reported["id"],)) == 0


def test_a_reply_sent_again_with_its_key_is_published_once(site, reported):  # noqa: F811
    """The case page sends each reply with an Idempotency-Key and the same key when the same words are sent again
    (an answer lost to the network): the reply is published once, the retry answers the first result."""
    path, words = f"/api/complaints/{reported['id']}/replies", "重复发送测试：已安排专人每日巡查。"

    def send(who, text, key):
        return httpx.post(site.base + path, json={"reply": text}, timeout=30, headers={
            "Authorization": f"Bearer {site.tokens[who]}", "Idempotency-Key": key})

    first, again = send("street", words, "casereply-1"), send("street", words, "casereply-1")
    assert first.status_code == 201 == again.status_code, (first.text, again.text)
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert site.one("SELECT count(*) FROM public_replies WHERE reply = %s", (words,)) == 1
    other = send("street", words + "！", "casereply-1")  # the same key with other words
    assert other.status_code == 422 and "Idempotency-Key" in other.text, other.text
    refused = send("other", words, "casereply-2")
    assert refused.status_code == 403, refused.text
    listed = call(site, "GET", f"/api/complaints/{reported['id']}/contacts", "street").json()["replies"]
    assert [r["reply"] for r in listed].count(words) == 1 and listed[-1]["actor"] == "yt-street"


def _awaiting(site, value="true") -> set[int]:  # noqa: F811
    """The street office's complaints of its street filtered by awaiting_reply (a page big enough for the test)."""
    got = call(site, "GET", "/api/complaints", "street", params={"street": STREET, "awaiting_reply": value,
                                                                  "limit": 500})
    assert got.status_code == 200, got.text
    return {c["id"] for c in got.json()["items"]}


def test_the_inbox_finds_the_residents_awaiting_a_reply(browser, site):  # noqa: F811
    """待答复群众: a resident's report not yet answered is listed (on the page too); answered, it is not; a
    neighbour's addition after the answer awaits one again. A hotline complaint never awaits a public reply."""
    lon, lat = site.one("SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                        "WHERE street_code = %s ORDER BY code DESC LIMIT 1) g", (STREET,))
    made, _ = _report(site, lon, lat, "公厕门口积水很久没人管", None)
    case = site.one("SELECT complaint_id FROM public_reports WHERE tracking = %s", (made["tracking"],))
    filed = call(site, "POST", "/api/complaints", "street", json={"lon": lon, "lat": lat, "category": "暴露垃圾",
                                                                   "source": "12345"})
    assert filed.status_code == 201, filed.text
    hotline = filed.json()["id"]
    assert case in _awaiting(site) and case not in _awaiting(site, "false")
    assert hotline not in _awaiting(site) and hotline in _awaiting(site, "false")
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        login(browser, site.base, {"tokens": site.tokens}, "street")
        browser.evaluate("document.getElementById('cs-awaiting').click(); 0")
        _wait(browser, f"!!document.querySelector('#cs-rows tr[data-id=\"{case}\"]')")
        rows = browser.evaluate("Array.from(document.querySelectorAll('#cs-rows tr[data-id]'))"
                                ".map(function (tr) { return Number(tr.dataset.id); })")
        assert case in rows and hotline not in rows and set(rows) <= _awaiting(site), rows
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    replied = call(site, "POST", f"/api/complaints/{case}/replies", "street", json={"reply": "已安排保洁员处理积水。"})
    assert replied.status_code == 201, replied.text
    assert case not in _awaiting(site) and case in _awaiting(site, "false")
    again, _ = _report(site, lon + 0.00005, lat, "补充：今天又积水了", None)
    assert again["joined"] and case in _awaiting(site)
    refused = call(site, "GET", "/api/complaints", "street", params={"awaiting_reply": "maybe"})
    assert refused.status_code == 422 and "awaiting_reply" in refused.json()["detail"], refused.text


def _ready_to_close(site, lon, lat, words) -> tuple[int, str, str]:  # noqa: F811
    """A resident's new report there, taken by the street office (API) to the step before 结案; its case, its
    tracking number and the report's key."""
    made, key = _report(site, lon, lat, words, None)
    case = site.one("SELECT complaint_id FROM public_reports WHERE tracking = %s", (made["tracking"],))
    for status in ("立案", "派遣", "处置", "核查"):
        moved = call(site, "PATCH", f"/api/complaints/{case}", "street", json={"status": status, "note": "已处理"})
        assert moved.status_code == 200, moved.text
    return case, made["tracking"], key


def _close_clicked(browser):
    browser.evaluate("document.querySelector('#cs-step button[data-to=\"结案\"]').click(); 0")


def test_closing_a_resident_s_case_asks_for_a_reply_first(browser, site):  # noqa: F811
    """举报必查: the resident must hear what was done. Closing a public case nobody has answered says so and leads
    to the reply form, closing nothing; once replied, 结案 closes at once; in English a second click closes anyway."""
    lon, lat = site.one("SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                        "WHERE street_code = %s ORDER BY code LIMIT 1 OFFSET 1) g", (STREET,))
    case, tracking, key = _ready_to_close(site, lon, lat, "楼道口的垃圾桶坏了")
    login(browser, site.base, {"tokens": site.tokens}, "street")
    _open(browser, case)
    _wait(browser, f"document.body.dataset.awaiting === '{case}'")
    _close_clicked(browser)
    said = browser.evaluate("document.getElementById('cs-msg').innerText")
    assert said.startswith("群众尚未收到答复") and "再次点击“结案”" in said, said
    assert browser.evaluate("document.activeElement.id") == "cs-reply"
    assert site.one("SELECT status FROM complaints WHERE id = %s", (case,)) == "核查"
    browser.evaluate("document.getElementById('cs-reply').value = '已更换新的垃圾桶。';"
                     "document.querySelector('#cs-reply-form button').click()")
    _wait(browser, f"!!document.getElementById('cs-ok') && document.body.dataset.public === '{case}'")
    assert "awaiting" not in browser.evaluate("JSON.stringify(document.body.dataset)")
    _close_clicked(browser)
    _wait(browser, f"document.body.dataset.detail === '{case}' && !document.querySelector('#cs-step')")
    assert site.one("SELECT status FROM complaints WHERE id = %s", (case,)) == "结案"
    assert problems(browser, site.base) == []

    other, _, _ = _ready_to_close(site, lon + 0.00002, lat + 0.0003, "路边绿化带里有人倒垃圾")
    login(browser, site.base, {"tokens": site.tokens}, "street", "?lang=en")
    _open(browser, other)
    _wait(browser, f"document.body.dataset.awaiting === '{other}'")
    _close_clicked(browser)
    assert browser.evaluate("document.getElementById('cs-msg').innerText").startswith("The residents have had no reply")
    assert site.one("SELECT status FROM complaints WHERE id = %s", (other,)) == "核查"
    _close_clicked(browser)
    _wait(browser, f"document.body.dataset.detail === '{other}' && !document.querySelector('#cs-step')")
    assert site.one("SELECT status FROM complaints WHERE id = %s", (other,)) == "结案"
    # The first resident is not satisfied: the office reads her reason with her report (and only there).
    login(browser, site.base, {"tokens": site.tokens}, "street")
    rated = httpx.post(site.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                       json={"rating": "不满意", "reason": "新桶还是漏水", "key": key})
    assert rated.status_code == 201, rated.text
    browser.evaluate("location.hash = ''; 0")
    _open(browser, case)
    _wait(browser, f"document.body.dataset.public === '{case}'")
    assert browser.evaluate("document.querySelector('#cs-reporters .cs-rating').innerText").startswith("群众评价：不满意")
    assert "新桶还是漏水" in browser.evaluate("document.querySelector('#cs-reporters .cs-rating').innerText")
    assert "新桶还是漏水" not in browser.evaluate("document.getElementById('cs-history').innerText")
