"""The public channel on a real city (issue 17): Taipei from the real files (tests/real_city.py builds it
through the command line), a resident's report at a real garbage-truck stop of 大同區 routed to its grid, with
a photo, followed, seen by the grid's unit, and read back over Open311."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.real_city import TAIPEI_STREET, taipei, taipei_grids  # noqa: F401  (the city, built once here)
from tests.taipei_public import post_report, reported_and_closed, site, solve, stop  # noqa: F401


def test_a_public_report_in_taipei_is_routed_to_its_grid(site):
    city = site
    # A real garbage-truck stop of 大同區, and the grid (from the roster) that holds it.
    lon, lat, grid, unit = city.sql(
        "SELECT ST_X(s.geom), ST_Y(s.geom), g.code, g.responsible_unit FROM garbage_stations s "
        "JOIN grids g ON ST_Contains(g.geom, s.geom) WHERE s.street_code = %s ORDER BY s.source_id LIMIT 1",
        (TAIPEI_STREET,))[0]
    challenge = httpx.get(city.base + "/api/public/challenge", timeout=30).json()
    assert challenge["bits"] == 18  # the server's default: a second or so on a phone
    made = httpx.post(city.base + "/api/public/reports", timeout=30, json={
        "lon": lon, "lat": lat, "category": "垃圾满溢", "description": "垃圾車停靠點的垃圾桶滿了",
        "phone": "0912-345-678", "challenge": challenge["challenge"],
        "nonce": solve(challenge["challenge"], challenge["bits"])})
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    image = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 90, 30)).save(image, format="JPEG")
    photo = httpx.post(city.base + f"/api/public/reports/{tracking}/photos", timeout=30,
                       data={"challenge": challenge["challenge"]}, files={"file": ("p.jpg", image.getvalue())})
    assert photo.status_code == 201, photo.text

    complaint_id, street, grid_code, channel, status = city.sql(
        "SELECT c.id, c.street_code, c.grid_code, c.channel, c.status FROM public_reports r "
        "JOIN complaints c ON c.id = r.complaint_id WHERE r.tracking = %s", (tracking,))[0]
    assert (street, grid_code, channel, status) == (TAIPEI_STREET, grid, "网上", "受理")
    followed = httpx.get(city.base + f"/api/public/reports/{tracking}", timeout=30).json()
    assert followed["unit"] == unit and followed["photos"] == []  # her photo is hers, as her words are
    own = httpx.get(city.base + f"/api/public/reports/{tracking}", headers={"X-Report-Key": challenge["challenge"]},
                    timeout=30).json()
    assert own["photos"][0]["url"].startswith("/api/public/photos/")
    # The district office's staff see it in their list and read the contact; the public never does.
    staff = {"Authorization": f"Bearer {city.token}"}
    listed = httpx.get(city.base + "/api/complaints", params={"street": TAIPEI_STREET, "limit": 1000},
                       headers=staff, timeout=60).json()["items"]
    assert complaint_id in {c["id"] for c in listed}
    contacts = httpx.get(city.base + f"/api/complaints/{complaint_id}/contacts", headers=staff, timeout=30).json()
    assert contacts["reports"][0]["phone"] == "0912-345-678"
    request = httpx.get(city.base + f"/open311/v2/requests/{tracking}.json", timeout=30).json()[0]
    assert request["agency_responsible"] == unit and request["media_url"] is None
    for text in (made.text, photo.text, httpx.get(city.base + f"/report/{tracking}", timeout=30).text,
                 str(followed), str(request)):
        assert "0912-345-678" not in text and "datong-staff" not in text


def test_a_place_outside_taipei_is_refused_before_anything_is_written(site):
    """A point in Taoyuan, west of every Taipei village: the nearby check (the page's first call) and the report
    itself answer 422 naming lon/lat and why; no report, complaint or contact is written."""
    city = site
    lon, lat = 121.30, 25.00
    assert city.sql("SELECT count(*) FROM admin_areas WHERE ST_Intersects(geom, "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (lon, lat))[0][0] == 0
    counts = "SELECT (SELECT count(*) FROM public_reports), (SELECT count(*) FROM complaints), " \
             "(SELECT count(*) FROM public_contacts)"
    before = city.sql(counts)[0]
    nearby = httpx.get(city.base + "/api/public/nearby", timeout=30,
                       params={"lon": lon, "lat": lat, "category": "垃圾满溢"})
    assert nearby.status_code == 422 and nearby.json()["detail"].startswith("lon/lat: "), nearby.text
    assert "outside every area" in nearby.text
    challenge = httpx.get(city.base + "/api/public/challenge", timeout=30).json()
    made = httpx.post(city.base + "/api/public/reports", timeout=30, json={
        "lon": lon, "lat": lat, "category": "垃圾满溢", "phone": "0912-345-678", "challenge": challenge["challenge"],
        "nonce": solve(challenge["challenge"], challenge["bits"])})
    assert made.status_code == 422 and made.json()["detail"].startswith("lon/lat: "), made.text
    assert city.sql(counts)[0] == before


def test_an_outsider_with_a_listed_tracking_number_neither_reads_the_text_nor_rates(site):
    """Open311 lists every case's tracking number to anyone (its ``service_request_id``). An outsider who takes
    one from the list reads the case's progress, never the reporter's own words, and cannot rate it; the
    reporter, with the report's key (the challenge it was made with, which the page hands to the tracking
    page in the link's #k= fragment), reads them and rates."""
    city = site
    words = "我住延平北路二段某號三樓，樓下垃圾堆了一週"
    tracking, key, complaint_id = reported_and_closed(city, 40, words)
    listed = httpx.get(city.base + "/open311/v2/requests.json", timeout=60).json()
    assert tracking in {r["service_request_id"] for r in listed}
    seen = httpx.get(city.base + f"/api/public/reports/{tracking}", timeout=30)
    assert seen.json()["status"] == "结案" and seen.json()["steps"][-1]["to"] == "结案"
    assert words not in seen.text and seen.json()["may_rate"] is False and seen.json()["reporter"] is False
    rated = httpx.post(city.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                       json={"rating": "不满意", "reason": "亂評"})
    assert rated.status_code == 403 and rated.json()["detail"].startswith("key: "), rated.text
    wrong = httpx.post(city.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                       json={"rating": "不满意", "reason": "亂評", "key": "x" * 24})
    assert wrong.status_code == 403, wrong.text
    assert city.sql("SELECT count(*) FROM public_ratings WHERE tracking = %s", (tracking,))[0][0] == 0
    assert city.sql("SELECT status FROM complaints WHERE id = %s", (complaint_id,))[0][0] == "结案"
    # The reporter, with the key.
    answer = httpx.get(city.base + f"/api/public/reports/{tracking}", headers={"X-Report-Key": key}, timeout=30)
    assert "no-store" in answer.headers["Cache-Control"] and "X-Report-Key" in answer.headers["Vary"]  # no cache
    mine = answer.json()
    assert mine["description"] == words and mine["may_rate"] is True and mine["reporter"] is True
    rated = httpx.post(city.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                       json={"rating": "满意", "key": key})
    assert rated.status_code == 201 and rated.json()["rating"] == "满意", rated.text


@pytest.mark.browser
def test_the_report_page_says_refusals_in_the_residents_words_at_phone_width(site, browser):
    """On a phone (390 px) over Taipei: a number that is no phone number is said in Chinese, naming the field and
    the rule, before anything is sent; a refusal of the server (a category the city does not have) is said in
    Chinese too, not in the API's English; the English page says them in English. Nothing is written."""
    from tests.test_public_browser import _tap, _wait

    city = site
    lon, lat = stop(city, 80)
    before = city.sql("SELECT count(*) FROM public_reports")[0][0]
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        for lang, phone_rule, category_rule in (("zh", "联系电话格式不对", "这个类别无法受理"),
                                                 ("en", "The phone number is not valid", "This category cannot")):
            page = browser.open(city.base + f"/report?lang={lang}",
                                ready_js="window.hygieneContextState && hygieneContextState.ready", timeout=90)
            assert not page.timed_out and page.console_errors == [], page.console_errors
            assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            _tap(browser, lon, lat)
            _wait(browser, "window.hmReportPlace !== undefined && window.hmReportPlace !== null")
            browser.evaluate("document.querySelector('input[name=category][value=\"暴露垃圾\"]').click();"
                             "document.querySelector('input[name=phone]').value = '請回電 0912';"
                             "document.getElementById('rp-send').click()")
            _wait(browser, "document.getElementById('rp-msg').textContent.length > 0")
            said = browser.evaluate("document.getElementById('rp-msg').textContent")
            assert said.startswith(phone_rule) and "phone:" not in said, said
            # A category the server refuses (a page older than the city's list): its words, in the page's language.
            browser.evaluate("var c = document.querySelector('input[name=category]:checked'); c.value = '路燈不亮';"
                             "document.querySelector('input[name=phone]').value = '0912-345-678';"
                             "document.getElementById('rp-msg').textContent = '';"
                             "document.getElementById('rp-send').click()")
            _wait(browser, "document.getElementById('rp-msg').textContent.length > 0", timeout=60)
            said = browser.evaluate("document.getElementById('rp-msg').textContent")
            assert said.startswith(category_rule) and "not an event type" not in said, said
            assert browser.evaluate("document.getElementById('rp-send').disabled") is False  # the resident may retry
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert city.sql("SELECT count(*) FROM public_reports")[0][0] == before


@pytest.mark.browser
def test_a_refused_rating_is_said_in_the_residents_words(site, browser):
    """The reporter's tracking page at 390 px, closed in Taipei, its rating form open; the closing gets rated
    meanwhile (the reporter's other tab): sending the form is refused (409), and the page says so in Chinese."""
    from tests.test_public_browser import _wait

    city = site
    tracking, key, _ = reported_and_closed(city, 120, "迪化街口垃圾")
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        page = browser.open(city.base + f"/report/{tracking}#k={key}", ready_js="!!document.getElementById('tr-rate')")
        assert not page.timed_out and page.console_errors == [], page.console_errors
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        text = browser.evaluate("document.body.innerText")
        assert tracking in text and "迪化街口垃圾" in text and "大同區" in text, text
        assert "请收藏本页" in text  # the link, not only the number, lets the reporter rate later
        rated = httpx.post(city.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                           json={"rating": "基本满意", "key": key})
        assert rated.status_code == 201, rated.text
        browser.evaluate("document.querySelector('#tr-rate input[value=\"满意\"]').click();"
                         "document.querySelector('#tr-rate button').click()")
        _wait(browser, "document.getElementById('tr-rate-msg').textContent.length > 0")
        assert browser.evaluate("document.getElementById('tr-rate-msg').textContent") == "这次办结已经评价过了。"
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_a_supporters_addition_reaches_the_street_office(site):
    """"已有人反映，是否补充？" — a second resident at the same Taipei stop joins the first case with words of their
    own. The district office's staff read both reports' words (and numbers) beside the case; the public never."""
    city = site
    made = []
    for words, phone in (("垃圾車停靠點有廚餘", "0912-000-111"), ("補充：晚上十點後還有人偷倒", None)):
        answer, _ = post_report(city, *stop(city, 160), "餐厨垃圾遗撒", description=words, phone=phone)
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    assert [m["joined"] for m in made] == [False, True]
    complaint_id = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (made[1]["tracking"],))[0][0]
    staff = {"Authorization": f"Bearer {city.token}"}
    reports = httpx.get(city.base + f"/api/complaints/{complaint_id}/contacts", headers=staff, timeout=30).json()
    assert [(r["tracking"], r["description"], r["phone"]) for r in reports["reports"]] == [
        (made[0]["tracking"], "垃圾車停靠點有廚餘", "0912-000-111"), (made[1]["tracking"], "補充：晚上十點後還有人偷倒", None)]
    for m in made:
        seen = httpx.get(city.base + f"/api/public/reports/{m['tracking']}", timeout=30).text
        assert "偷倒" not in seen and "廚餘" not in seen
    assert "偷倒" not in httpx.get(city.base + "/open311/v2/requests.json", timeout=60).text


def test_the_pages_say_a_closed_channel_or_a_busy_client_in_the_residents_words(taipei, env_for, monkeypatch):
    """A resident opening /report or a tracking page when the channel is closed or their address has read too
    much (many phones behind one carrier address) gets a page in their language, not the API's JSON."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    env_for(taipei.url)
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_READS_PER_MINUTE", "2")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.get("/report").status_code == 200 and client.get("/report?lang=en").status_code == 200
        for path, words in (("/report/0000000000", "访问太频繁，请约"), ("/report?lang=en", "Too many requests")):
            busy = client.get(path)
            assert busy.status_code == 429 and busy.headers["content-type"].startswith("text/html"), busy.text
            assert words in busy.text and int(busy.headers["Retry-After"]) > 0 and "detail" not in busy.text
        monkeypatch.setenv("HYGIENE_MAP_PUBLIC_CHANNEL", "0")
        for path, words in (("/report", "网上反映暂未开放"), ("/report/0000000000?lang=en", "cannot be made here")):
            closed = client.get(path)
            assert closed.status_code == 403 and closed.headers["content-type"].startswith("text/html")
            assert words in closed.text, closed.text


@pytest.mark.browser
def test_a_resident_with_only_the_number_finds_the_report_at_phone_width(site, browser):
    """The resident wrote the number down (or heard it read aloud on the hotline) and comes back on a phone: the
    report page's 查询 box takes it as typed — lower case, dashes, O for 0 — and opens the case's progress; a
    wrong number says so and offers the box again."""
    from tests.test_public_browser import _wait

    city = site
    tracking, _, _ = reported_and_closed(city, 200, "雙連站旁垃圾")
    typed = "-".join([tracking[:4], tracking[4:8], tracking[8:]]).lower().replace("0", "o")
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        page = browser.open(city.base + "/report", ready_js="!!document.getElementById('tr-find-code')")
        assert not page.timed_out and page.console_errors == [], page.console_errors
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        box = browser.evaluate("(function(){var r=document.querySelector('#tr-find button').getBoundingClientRect();"
                               "return [r.left, r.right, r.height];})()")
        assert box[0] >= 0 and box[1] <= 390 and box[2] >= 32, box  # reachable, big enough for a thumb
        assert "已反映过？输入查询码查看进度" in browser.evaluate("document.body.innerText")
        browser.evaluate(f"document.getElementById('tr-find-code').value = {typed!r};"
                         "document.querySelector('#tr-find button').click()")
        _wait(browser, "document.body.dataset.status === '结案'")
        assert browser.evaluate("location.pathname") == f"/report/{tracking}"
        assert tracking in browser.evaluate("document.body.innerText")
        browser.evaluate("location.href = '/report?code=ZZZZZZZZZZ'")
        _wait(browser, "document.getElementById('tr-state') && document.getElementById('tr-find-code') !== null "
                       "&& location.pathname.indexOf('/report/') === 0")
        assert "没有这个查询码的反映" in browser.evaluate("document.body.innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


@pytest.mark.browser
def test_a_report_whose_answer_was_lost_is_not_filed_twice(site, browser):
    """A phone on a bad network in Taipei: the report reaches the server but its answer is lost, and the resident
    presses 提交 again. The page sends the same report with the same solved challenge: one report, its tracking
    page opens, and the case counts no supporter (not the resident again)."""
    from tests.test_public_browser import _tap, _wait

    city = site
    lon, lat = stop(city, 240)
    count = "SELECT count(*) FROM public_reports WHERE description = '大稻埕碼頭旁垃圾'"
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        page = browser.open(city.base + "/report", ready_js="window.hygieneContextState && hygieneContextState.ready",
                            timeout=90)
        assert not page.timed_out and page.console_errors == [], page.console_errors
        _tap(browser, lon, lat)
        _wait(browser, "!!window.hmReportPlace")
        # The network loses the first report's answer: the server has it, the page sees a failed fetch.
        browser.evaluate("(function(){var real = window.fetch, lost = false; window.fetch = function (url, init) {"
                         "var p = real(url, init); if (!lost && init && init.method === 'POST' && "
                         "url === '/api/public/reports') { lost = true; return p.then(function () {"
                         "throw new TypeError('Failed to fetch'); }); } return p; }; })(); 0")
        browser.evaluate("document.querySelector('input[name=category][value=\"暴露垃圾\"]').click();"
                         "document.querySelector('textarea[name=description]').value = '大稻埕碼頭旁垃圾';"
                         "document.getElementById('rp-send').click()")
        _wait(browser, "document.getElementById('rp-msg').textContent.indexOf('提交失败') === 0", timeout=60)
        assert city.sql(count)[0][0] == 1
        browser.evaluate("document.getElementById('rp-send').click()")
        _wait(browser, "location.pathname.indexOf('/report/') === 0 && document.body.dataset.status === '受理'",
              timeout=60)
        tracking = browser.evaluate("location.pathname.split('/').pop()")
        assert "另有" not in browser.evaluate("document.body.innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert city.sql(count)[0][0] == 1
    assert city.sql("SELECT tracking, joined FROM public_reports WHERE description = '大稻埕碼頭旁垃圾'") == [
        (tracking, False)]


def test_a_photo_past_the_limit_leaves_nothing_behind(site):
    """A Taipei report with its 3 photos: a 4th, new photo is refused (409) and no file of it is left in the photo
    folder; the 3rd sent again (its answer lost) is answered as it was (200)."""
    city = site
    made, key = post_report(city, *stop(city, 20), "暴露垃圾")
    assert made.status_code == 201, made.text
    url = city.base + f"/api/public/reports/{made.json()['tracking']}/photos"

    def photo(shade: int) -> bytes:
        image = io.BytesIO()
        Image.new("RGB", (320, 240), (shade, 120, 40)).save(image, format="JPEG")
        return image.getvalue()

    for shade in (10, 20, 30):
        sent = httpx.post(url, data={"challenge": key}, files={"file": ("p.jpg", photo(shade))},
                          timeout=30)
        assert sent.status_code == 201, sent.text
    files = sorted(p.name for p in city.photos.rglob("*") if p.is_file())
    fourth = httpx.post(url, data={"challenge": key}, files={"file": ("p.jpg", photo(40))},
                        timeout=30)
    assert fourth.status_code == 409 and "3 photos already" in fourth.text, fourth.text
    assert sorted(p.name for p in city.photos.rglob("*") if p.is_file()) == files
    again = httpx.post(url, data={"challenge": key}, files={"file": ("p.jpg", photo(30))},
                       timeout=30)
    assert again.status_code == 200, again.text


@pytest.mark.browser
def test_the_english_page_asks_about_a_case_nearby_in_english(site, browser):
    """An open case at a Taipei stop; a resident on the English page reports the same there: the question
    "Someone has reported this already" lists the case's status in English (received), not 受理."""
    from tests.test_public_browser import _tap, _wait

    city = site
    lon, lat = stop(city, 60)
    first, _ = post_report(city, lon, lat, "绿地脏乱")
    assert first.status_code == 201 and not first.json()["joined"], first.text
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        page = browser.open(city.base + "/report?lang=en",
                            ready_js="window.hygieneContextState && hygieneContextState.ready", timeout=90)
        assert not page.timed_out and page.console_errors == [], page.console_errors
        _tap(browser, lon, lat)
        _wait(browser, "!!window.hmReportPlace")
        browser.evaluate("document.querySelector('input[name=category][value=\"绿地脏乱\"]').click();"
                         "document.getElementById('rp-send').click()")
        _wait(browser, "document.body.dataset.stage === 'nearby'")
        said = browser.evaluate("document.getElementById('rp-nearby').innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert "Someone has reported this already" in said and "received" in said and "受理" not in said, said


@pytest.mark.browser
def test_a_partners_report_says_to_rate_through_the_partner(site, browser):
    """Taipei's 1999 hotline posts a request over Open311 (its api_key); the district office closes the case. The
    tracking page, read on a phone by its number, says to rate through 1999 — not to find a link it never had."""
    city = site
    key = city.cli("channels", "add", "1999市民熱線").stdout.strip().splitlines()[-1]
    lon, lat = stop(city, 100)
    posted = httpx.post(city.base + "/open311/v2/requests.json", timeout=30, data={
        "api_key": key, "service_code": "道路不洁", "lat": str(lat), "long": str(lon), "description": "路面油污"})
    assert posted.status_code == 200, posted.text
    tracking = posted.json()[0]["service_request_id"]
    complaint_id = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))[0][0]
    for status in ("立案", "派遣", "处置", "核查", "结案"):
        moved = httpx.patch(city.base + f"/api/complaints/{complaint_id}", timeout=30, json={"status": status},
                            headers={"Authorization": f"Bearer {city.token}"})
        assert moved.status_code == 200, moved.text
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        page = browser.open(city.base + f"/report/{tracking}", ready_js="document.body.dataset.status === '结案'")
        assert not page.timed_out and page.console_errors == [], page.console_errors
        text = browser.evaluate("document.body.innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert "经“1999市民熱線”转来：请通过该渠道评价" in text and "只有反映人可以评价" not in text, text
    assert "路面油污" not in text


@pytest.mark.browser
def test_the_tracking_page_asks_again_at_once_when_the_phone_shows_it_again(site, browser):
    """A resident leaves the tracking page in a background tab (the server's default: asked every 60 s while
    shown, never while hidden); the street office moves the case; back on the page, it shows the step at once."""
    from tests.test_public_browser import _wait

    city = site
    made, _ = post_report(city, *stop(city, 170), "暴露垃圾", description="巷口垃圾")
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    case = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))[0][0]
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        browser.open(city.base + f"/report/{tracking}", ready_js="document.body.dataset.status === '受理'")
        # The page's document says it is hidden (a headless browser never hides a page); its fetches are counted.
        browser.evaluate("window.hidden = true; Object.defineProperty(document, 'hidden', {configurable: true, "
                         "get: function () { return window.hidden; }}); window.asked = 0; var f = window.fetch;"
                         "window.fetch = function () { window.asked += 1; return f.apply(this, arguments); }; 0")
        moved = httpx.patch(city.base + f"/api/complaints/{case}", headers={"Authorization": f"Bearer {city.token}"},
                            json={"status": "立案", "note": "已派清潔隊"}, timeout=30)
        assert moved.status_code == 200, moved.text
        assert browser.evaluate("document.dispatchEvent(new Event('visibilitychange')); window.asked") == 0
        assert browser.evaluate("window.hidden = false; document.dispatchEvent(new Event('visibilitychange'));"
                                "window.asked") == 1
        _wait(browser, "document.body.dataset.status === '立案'")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
