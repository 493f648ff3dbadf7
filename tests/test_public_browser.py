"""The tracking page in headless Chromium at phone width: it follows the case as staff move it, and a
不满意 rating sent from its form sends the case back as 返工 (issue 17)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from data.db import connect
from layers.workflow import public_challenges
from layers.workflow.access import add_user
from tests.test_public import _complaint_id

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = "13900001111"
STAFF = "钱街道员"


@pytest.fixture(scope="module")
def city(module_demo):
    """A point inside the demo's first grid and a token for staff of its street."""
    conn = connect(url=module_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT street_code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                    "FROM grids ORDER BY code LIMIT 1")
        street, lon, lat = cur.fetchone()
    _, token = add_user(conn, STAFF, "street", street_code=street, created_by="test")
    conn.commit()
    conn.close()
    return {"lon": lon, "lat": lat, "token": token, "url": module_demo}


@pytest.fixture(scope="module")
def site(module_demo, tmp_path_factory):
    from tests.chromium import serve_app

    photos = tmp_path_factory.mktemp("photos")
    # The tracking page asks again every 2 s here (60 by default), so that the test sees it follow the case.
    with serve_app(module_demo, extra_env={"HYGIENE_MAP_PUBLIC_POW_BITS": "8", "HYGIENE_MAP_PUBLIC_FOLLOW_SECONDS": "2",
                                           "HYGIENE_MAP_PHOTO_DIR": str(photos)}) as base:
        yield base


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory):
    """A phone's photo: 2400×1800 JPEG with EXIF naming the phone, its owner and where it was taken."""
    from PIL import Image

    path = tmp_path_factory.mktemp("camera") / "IMG_0001.jpg"
    image = Image.new("RGB", (2400, 1800), (180, 120, 40))
    exif = image.getexif()
    exif[0x010F], exif[0x013B] = "PhoneMaker", "张三的手机"
    exif.get_ifd(0x8825).update({1: "N", 2: (37.0, 29.0, 24.0), 3: "E", 4: (121.0, 22.0, 48.0)})
    image.save(path, format="JPEG", exif=exif, quality=80)
    return path


@pytest.fixture
def phone(browser):
    """The browser at a phone's width (and touch), back to the desktop size after the test."""
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    yield browser
    browser.send("Emulation.clearDeviceMetricsOverride")


def _call(site, method, path, body=None, token=None, key=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["X-Report-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(site + path, data, headers, method=method), timeout=30) as r:
        return json.load(r)


def _wait(browser, expression, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.evaluate(expression):
            return
        time.sleep(0.3)
    raise AssertionError(f"the page never showed {expression}: {browser.evaluate('document.body.innerText')}")


def _tap(browser, lon, lat):
    """A real click (DevTools input) on the report page's map at a place, after moving the map there."""
    x, y = browser.evaluate(
        f"(function(){{var m=window.hmReportMap; m.setView([{lat},{lon}], 18, {{animate:false}});"
        f"var p=m.latLngToContainerPoint([{lat},{lon}]), r=m.getContainer().getBoundingClientRect();"
        f"return [r.left+p.x, r.top+p.y];}})()")
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def _choose_photo(browser, path):
    """Choose a file in the page's photo picker, as a resident does (DevTools sets the input's files)."""
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector="#rp-photos")["nodeId"]
    browser.send("DOM.setFileInputFiles", files=[str(path)], nodeId=node)


def _report_on_page(browser, site, lon, lat, description, phone_number=None, photo=None):
    """Fill in /report as a resident does: tap the place, pick 暴露垃圾, describe, add a photo, send."""
    report = browser.open(site + "/report", ready_js="window.hygieneContextState && hygieneContextState.ready")
    assert not report.timed_out and report.console_errors == [], report.console_errors
    assert report.other_hosts(site) == [], report.other_hosts(site)
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _tap(browser, lon, lat)
    _wait(browser, "document.getElementById('rp-place').textContent.indexOf('已选位置') === 0")
    if photo:
        _choose_photo(browser, photo)
        _wait(browser, "document.body.dataset.photos === '1'")
        browser.screenshot(ARTIFACTS / "report-with-photo.png")
    browser.evaluate("document.querySelector('input[name=category][value=\"暴露垃圾\"]').click();"
                     f"document.querySelector('textarea[name=description]').value = {json.dumps(description)};"
                     f"document.querySelector('input[name=phone]').value = {json.dumps(phone_number or '')};"
                     "document.getElementById('rp-send').click()")


def _photo_upload(site, complaint, stage, token, path):
    """Staff add a photo to a case (multipart, as the field app does)."""
    boundary = "hmboundary7"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"stage\"\r\n\r\n{stage}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + Path(path).read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(site + f"/api/complaints/{complaint}/photos", body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def _photos_shown(browser, stage):
    """How many photos of ``stage`` the tracking page shows, loaded (decoded) by the browser."""
    return browser.evaluate(f"Array.from(document.querySelectorAll('.tr-photos[data-stage={stage}] img'))"
                            ".filter(function (i) {{ return i.complete && i.naturalWidth > 0; }}).length")


def _reported_with_a_photo(phone, site, city, big_photo) -> str:
    """A resident reports with a photo on the phone; the tracking page shows it received, the photo resized
    and stripped of its EXIF, the words picked, times in the city's zone. The tracking code."""
    _report_on_page(phone, site, city["lon"], city["lat"], "楼下垃圾桶满了", PHONE, photo=big_photo)
    _wait(phone, "location.pathname.indexOf('/report/') === 0 && document.body.dataset.status === '受理'")
    tracking = phone.evaluate("location.pathname.split('/').pop()")
    # The photo went with it: resized on the phone, shown on the tracking page, without the camera's EXIF.
    _wait(phone, "document.querySelectorAll('.tr-photos[data-stage=before] img').length === 1")
    _wait(phone, "(function(){var i=document.querySelector('.tr-photos img');return i.complete&&i.naturalWidth>0})()")
    key = phone.evaluate(f"localStorage.getItem('hm-report-key:{tracking}')")
    assert _call(site, "GET", f"/api/public/reports/{tracking}")["photos"] == []  # her photo: hers, as her words
    followed = _call(site, "GET", f"/api/public/reports/{tracking}", key=key)
    shown = followed["photos"][0]
    assert (shown["width"], shown["height"]) == (1600, 1200)
    with urllib.request.urlopen(site + shown["url"], timeout=30) as r:
        served = r.read()
    assert b"PhoneMaker" not in served and "张三".encode() not in served and b"Exif" not in served
    phone.screenshot(ARTIFACTS / "tracking-received.png")
    text = phone.evaluate("document.body.innerText")
    assert tracking in text and "楼下垃圾桶满了" in text and "受理" in text and PHONE not in text
    assert "垃圾乱堆乱放（暴露垃圾）" in text  # the plain words picked on /report, then the official name
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Times in the city's zone (the page's), whatever the server's or the phone's zone.
    zone = ZoneInfo(phone.evaluate("JSON.parse(document.getElementById('tr-config').textContent).time_zone"))
    assert datetime.fromisoformat(followed["reported_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M") in text
    return tracking


def _closed_with_an_after_photo_and_a_reply(phone, site, city, complaint: int, tmp_path) -> None:
    """The street office moves the case to 结案 with an after photo and a reply; the open page follows."""
    for status in ("立案", "派遣", "处置", "核查", "结案"):
        _call(site, "PATCH", f"/api/complaints/{complaint}", {"status": status, "note": f"{STAFF}已处理"},
              city["token"])
    after = tmp_path / "after.jpg"
    from PIL import Image

    Image.new("RGB", (800, 600), (60, 160, 60)).save(after, format="JPEG")
    _photo_upload(site, complaint, "after", city["token"], after)
    _call(site, "POST", f"/api/complaints/{complaint}/replies", {"reply": "垃圾已清运"}, city["token"])
    # The open page follows without a reload: the steps, the reply, the after photo, then the rating form.
    _wait(phone, "document.body.dataset.status === '结案' && !!document.getElementById('tr-rate')")
    _wait(phone, "document.querySelectorAll('.tr-photos[data-stage=after] img').length === 1")
    text = phone.evaluate("document.body.innerText")
    assert "垃圾已清运" in text and all(s in text for s in ("立案", "派遣", "处置", "核查"))
    assert "现场照片" in text and "处理后照片" in text
    assert PHONE not in text and STAFF not in text
    phone.screenshot(ARTIFACTS / "tracking-closed.png")


def _no_words_and_no_form_without_the_key(phone, site, tracking) -> None:
    """The same page on another phone (no key kept, the number typed in): the case's steps and reply, but not
    the reporter's words nor the rating form, and why; the reporter's link (its #k= key) brings both back."""
    key = phone.evaluate(f"localStorage.getItem('hm-report-key:{tracking}')")
    assert key and key in phone.evaluate("location.hash")
    phone.evaluate("localStorage.clear()")
    other = phone.open(site + f"/report/{tracking}", ready_js="document.body.dataset.status === '结案'")
    assert not other.timed_out and other.console_errors == [], other.console_errors
    text = phone.evaluate("document.body.innerText")
    assert "垃圾已清运" in text and "只有反映人可以评价" in text and "请保存查询码" in text, text
    assert "楼下垃圾桶满了" not in text and not phone.evaluate("!!document.getElementById('tr-rate')")
    assert phone.evaluate("document.querySelectorAll('.tr-photos[data-stage=before] img').length") == 0
    back = phone.open(site + f"/report/{tracking}?lang=zh#k={key}", ready_js="!!document.getElementById('tr-rate')")
    assert not back.timed_out and "楼下垃圾桶满了" in phone.evaluate("document.body.innerText")


def _rated_unsatisfied_and_reworked(phone) -> None:
    """不满意 without a reason is refused by the form; with one, the case goes back (返工) to 处置."""
    phone.evaluate("document.querySelector('input[value=\"不满意\"]').click();"
                   "document.querySelector('#tr-rate button').click()")
    assert phone.evaluate("document.getElementById('tr-rate-msg').textContent") != ""
    phone.evaluate("document.querySelector('#tr-rate textarea').value = '垃圾桶旁还有污水';"
                   "document.querySelector('#tr-rate button').click()")
    _wait(phone, "document.body.dataset.status === '处置' && !document.getElementById('tr-rate')")
    text = phone.evaluate("document.body.innerText")
    assert "返工" in text and "不满意" in text
    assert phone.evaluate("document.querySelector('.tr-steps li:last-child').dataset.status") == "处置"
    phone.screenshot(ARTIFACTS / "tracking-rework.png")


def test_report_with_a_photo_followed_through_rework_to_a_second_closing(phone, site, city, big_photo, tmp_path):
    tracking = _reported_with_a_photo(phone, site, city, big_photo)
    complaint = _complaint_id(city, tracking)
    _closed_with_an_after_photo_and_a_reply(phone, site, city, complaint, tmp_path)
    _no_words_and_no_form_without_the_key(phone, site, tracking)
    _rated_unsatisfied_and_reworked(phone)
    # The street office does the work again and closes it: the page follows, and the new closing is rated.
    for status in ("核查", "结案"):
        _call(site, "PATCH", f"/api/complaints/{complaint}", {"status": status, "note": f"{STAFF}返工完成"},
              city["token"])
    _wait(phone, "document.body.dataset.status === '结案' && !!document.getElementById('tr-rate')")
    steps = phone.evaluate("Array.from(document.querySelectorAll('.tr-steps li')).map(function (l) {"
                           "return l.dataset.status; })")
    assert steps == ["受理", "立案", "派遣", "处置", "核查", "结案", "处置", "核查", "结案"]
    phone.evaluate("document.querySelector('input[value=\"满意\"]').click();"
                   "document.querySelector('#tr-rate button').click()")
    _wait(phone, "!document.getElementById('tr-rate') && document.querySelector('.tr-rated') !== null "
                 "&& document.querySelector('.tr-rated').textContent.indexOf('满意') > 0")
    assert _photos_shown(phone, "before") == 1 and _photos_shown(phone, "after") == 1
    ratings = _call(site, "GET", f"/api/public/reports/{tracking}")["ratings"]
    assert [(q["rating"], q["reopened"]) for q in ratings] == [("不满意", True), ("满意", False)]
    assert STAFF not in phone.evaluate("document.body.innerText")
    phone.screenshot(ARTIFACTS / "tracking-closed-again.png")


def test_a_report_outside_the_city_is_told_so_in_the_residents_words(phone, site, city):
    """A place east of every community (at sea, off the demo coast): the page says the place is outside the
    city and to move the marker, in Chinese, not the API's English; the form stays filled and nothing is written."""
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT ST_XMax(e) + 0.05, (ST_YMin(e) + ST_YMax(e)) / 2, (SELECT count(*) FROM public_reports) "
                    "FROM (SELECT ST_Extent(geom)::geometry e FROM admin_areas WHERE level = 'community') s")
        lon, lat, before = cur.fetchone()
    _report_on_page(phone, site, lon, lat, "海边垃圾")
    _wait(phone, "document.getElementById('rp-msg').textContent.length > 0")
    said = phone.evaluate("document.getElementById('rp-msg').textContent")
    assert "不在本市受理范围内" in said and "lon/lat" not in said, said
    assert phone.evaluate("document.querySelector('textarea[name=description]').value") == "海边垃圾"
    assert phone.evaluate("location.pathname") == "/report"
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public_reports")
        assert cur.fetchone()[0] == before
    conn.close()


def test_a_report_near_an_open_case_asks_and_joins_it(phone, site, city):
    lon = city["lon"] + 0.003  # a spot of its own, about 300 m east
    challenge = _call(site, "GET", "/api/public/challenge")
    first = _call(site, "POST", "/api/public/reports", {
        "lon": lon, "lat": city["lat"], "category": "暴露垃圾", "challenge": challenge["challenge"],
        "nonce": public_challenges.solve(challenge["challenge"], challenge["bits"])})
    _report_on_page(phone, site, lon, city["lat"], "这里也有")
    _wait(phone, "document.body.dataset.stage === 'nearby'")
    assert "已有人反映，是否补充？" in phone.evaluate("document.getElementById('rp-nearby').innerText")
    phone.screenshot(ARTIFACTS / "report-nearby.png")
    phone.evaluate("document.getElementById('rp-join').click()")
    _wait(phone, "location.pathname.indexOf('/report/') === 0 && !!document.body.dataset.status")
    mine = phone.evaluate("location.pathname.split('/').pop()")
    assert mine != first["tracking"] and "并入" in phone.evaluate("document.body.innerText")
    followed = _call(site, "GET", f"/api/public/reports/{first['tracking']}")
    assert followed["supporters"] == 1


def test_bundled_sha256_matches_hashlib(phone, site):
    """The page's SHA-256 for plain HTTP (no crypto.subtle) hashes as Python does and solves challenges."""
    import hashlib

    phone.open(site + "/report", ready_js="typeof window.hmSha256 === 'function'")
    for text in ("", "abc", "x" * 55, "y" * 64, "挑战:12345" * 20):
        got = phone.evaluate(f"Array.from(window.hmSha256({json.dumps(text)})).map(function(b){{"
                             "return ('0'+b.toString(16)).slice(-2)}).join('')")
        assert got == hashlib.sha256(text.encode()).hexdigest(), text
    # Without crypto.subtle (as over plain HTTP) the page still solves a challenge the server accepts.
    phone.evaluate("Object.defineProperty(window.crypto, 'subtle', {get: function () { return undefined; }})")
    assert phone.evaluate("window.crypto.subtle") is None
    nonce = phone.send("Runtime.evaluate", expression="window.hmSolve('ch4ll3nge', 10)", awaitPromise=True,
                       returnByValue=True)["result"]["value"]
    assert public_challenges.pow_ok("ch4ll3nge", nonce, 10) and nonce == public_challenges.solve("ch4ll3nge", 10)


def test_a_tap_on_the_gaode_basemap_is_stored_in_wgs84(phone, site, city):
    """Gaode's tiles are GCJ-02: the place tapped there is sent as GCJ-02 and stored as the WGS84 point under it
    (geo.coords, checked against the published vectors in test_coords). No internet here: the tiles do not load,
    the tap does not need them."""
    import math

    from geo import coords

    conn = connect(url=city["url"])
    with conn.cursor() as cur:  # a spot of its own: inside another grid
        cur.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                    "ORDER BY code OFFSET 5 LIMIT 1")
        lon, lat = cur.fetchone()
    conn.close()
    glon, glat = (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    assert math.dist((lon, lat), (glon, glat)) > 0.001  # the shift is hundreds of metres: a raw store would show
    page = phone.open(site + "/report?basemap=gaode", ready_js="window.hmReportReady === true")
    assert not page.timed_out
    assert all("autonavi.com" in h for h in page.other_hosts(site)), page.other_hosts(site)
    _tap(phone, glon, glat)
    _wait(phone, "!!window.hmReportPlace")
    sent = phone.evaluate("window.hmReportPlace")
    # A tap lands on a pixel (about 0.3 m here): within a metre of the GCJ-02 point aimed at.
    assert sent["crs"] == "gcj02" and abs(sent["lon"] - glon) < 1e-5 and abs(sent["lat"] - glat) < 1e-5
    phone.evaluate("document.querySelector('input[name=category][value=\"道路不洁\"]').click();"
                   "document.getElementById('rp-send').click()")
    _wait(phone, "location.pathname.indexOf('/report/') === 0 && !!document.body.dataset.status")
    tracking = phone.evaluate("location.pathname.split('/').pop()")
    # The reporter's own view (with the key) gives the stored point; the public's is rounded to about a metre.
    key = phone.evaluate(f"localStorage.getItem('hm-report-key:{tracking}')")
    stored = _call(site, "GET", f"/api/public/reports/{tracking}", key=key)
    expected = [float(v) for v in coords.gcj02_to_wgs84(sent["lon"], sent["lat"])]

    def metres(a, b):
        return math.hypot((a[0] - b[0]) * 111_320 * math.cos(math.radians(lat)), (a[1] - b[1]) * 110_574)

    assert metres((stored["lon"], stored["lat"]), expected) < 0.05  # the very point tapped, in WGS84
    assert metres((stored["lon"], stored["lat"]), (lon, lat)) < 1.5  # the ground under it, not 500 m off


def test_report_map_draws_roads_and_names_for_a_resident_when_reads_need_a_token(phone, module_demo):
    from tests.chromium import serve_app

    with serve_app(module_demo, extra_env={"HYGIENE_MAP_READS_NEED_TOKEN": "1"}) as base:
        page = phone.open(base + "/report", ready_js="window.hygieneContextState && hygieneContextState.ready "
                                                     "&& hygieneContextState.labels > 0")
        assert not page.timed_out and page.console_errors == [] and page.failed_requests == []
        assert phone.evaluate("hygieneContextState.errors.length") == 0
        assert phone.evaluate("document.querySelectorAll('#rp-map canvas').length") > 0  # the road tiles drawn
        with pytest.raises(urllib.error.HTTPError) as closed:
            urllib.request.urlopen(base + "/api/complaints", timeout=30)
        assert closed.value.code == 401
