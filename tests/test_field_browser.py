"""The field page in headless Chromium at phone width (issue 15): findings with photos recorded with the network
switched off (DevTools protocol) wait on the phone, through a reload too, and are each stored exactly once with
their photos when the network returns; a finding whose answer is lost is sent again and still stored once."""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import query
from tests.inspecting import make_city, point_in
from tests.test_public_browser import _wait

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
INSPECTOR = "inspector2"  # scoped to the first street: its grids own and own2


@pytest.fixture(scope="module")
def city(module_demo):
    return make_city(module_demo)


@pytest.fixture(scope="module")
def site(city):
    from tests.chromium import serve_app

    with tempfile.TemporaryDirectory() as photos, serve_app(city["url"], extra_env={"HYGIENE_MAP_PHOTO_DIR": photos}) as base:
        yield base


@pytest.fixture(scope="module")
def round_id(site, city):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    body = {"name": "十一月暗访（现场页）", "kind": "月度暗访", "starts": (now - timedelta(days=1)).isoformat(),
            "ends": (now + timedelta(days=7)).isoformat(), "streets": ["379901001", "379901002"]}
    request = urllib.request.Request(site + "/api/inspections/rounds", json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {city['tokens']['admin1']}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)["id"]


@pytest.fixture(scope="module")
def camera_photo(tmp_path_factory):
    """A phone camera's photo: larger than the page sends (it resizes to at most 1600 px)."""
    path = tmp_path_factory.mktemp("camera") / "IMG_0001.jpg"
    image = Image.new("RGB", (3000, 2000), (90, 140, 60))
    for x in range(0, 3000, 100):  # some content, so the JPEG is not trivial
        image.paste((200, 40 + x % 200, 40), (x, 0, x + 50, 2000))
    image.save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def phone(browser, site, city, round_id):
    """The browser at a phone's width, logged in as the inspector through the login page, on /field."""
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    browser.open(site + "/field", ready_js="!!document.getElementById('token')")
    assert browser.evaluate("location.pathname") == "/login"  # no session: the login page, back here after it
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(city['tokens'][INSPECTOR])};"
                     "document.querySelector('form').submit()")
    _wait(browser, "location.pathname === '/field' && !!window.hmField && document.body.dataset.pending === '0'")
    # The service worker keeps the page and its files: wait until it controls the page.
    _wait(browser, "!!navigator.serviceWorker.controller")
    report = browser.open(site + "/field", ready_js="!!window.hmField && window.hygieneContextState.ready")
    assert not report.console_errors and not report.failed_requests, (report.console_errors, report.failed_requests)
    assert report.other_hosts(site) == []  # nothing from another host
    yield browser
    browser.send("Network.emulateNetworkConditions", offline=False, latency=0, downloadThroughput=-1,
                 uploadThroughput=-1)
    browser.send("Emulation.clearDeviceMetricsOverride")


def _promise(browser, expression):
    return browser.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                        returnByValue=True)["result"].get("value")


def _offline(browser, offline: bool) -> None:
    browser.send("Network.emulateNetworkConditions", offline=offline, latency=0, downloadThroughput=-1,
                 uploadThroughput=-1)


def _tap(browser, lon, lat, zoom=18):
    """A real tap (DevTools input) on the field page's map at a place, after moving the map there."""
    x, y = browser.evaluate(
        f"(function(){{var m=window.hmField.map; m.getContainer().scrollIntoView(); m.setView([{lat},{lon}], {zoom}, {{animate:false}});"
        f"var p=m.latLngToContainerPoint([{lat},{lon}]), r=m.getContainer().getBoundingClientRect();"
        f"return [r.left+p.x, r.top+p.y];}})()")
    browser.evaluate("document.getElementById('fd-place').textContent = ''")
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    _wait(browser, "document.getElementById('fd-place').textContent.indexOf('已选位置') === 0")


def _record(browser, lon, lat, item, note, photo: Path) -> None:
    """One finding as an inspector makes it: a tap on the map, an item, a note, a photo from the camera, save."""
    _tap(browser, lon, lat)
    _wait(browser, f"!!document.querySelector('input[name=item][value=\"{item}\"]')")
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector="#fd-photo")["nodeId"]
    browser.send("DOM.setFileInputFiles", files=[str(photo)], nodeId=node)
    _wait(browser, "document.getElementById('fd-thumbs').dataset.photos === '1' && !document.body.dataset.resizing")
    browser.evaluate(f"document.querySelector('input[name=item][value=\"{item}\"]').click();"
                     f"document.getElementById('fd-note').value = {json.dumps(note)};"
                     "document.getElementById('fd-save').click()")
    _wait(browser, f"document.querySelectorAll('#fd-queue li[data-client-id]').length >= 1 && "
                   f"document.getElementById('fd-queue').innerText.indexOf({json.dumps(item)}) >= 0")


def _screenshot(browser, name):
    browser.evaluate("document.getElementById('fd-queue').scrollIntoView()")
    browser.screenshot(ARTIFACTS / name)


def _stored(city, note_prefix):
    return query(city["url"], "SELECT f.client_id, f.grid_code, (SELECT count(*) FROM inspection_photos p "
                              "WHERE p.finding_id = f.id), (SELECT max(greatest(width, height)) FROM inspection_photos p "
                              "WHERE p.finding_id = f.id) FROM inspection_findings f "
                              "WHERE inspector = %s AND description LIKE %s ORDER BY f.id", (INSPECTOR, note_prefix + "%"))


def test_findings_recorded_offline_are_sent_once_with_their_photos(phone, city, camera_photo):
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The photo button is the page's own (拍照), not the browser's file control with its "Choose File".
    box = phone.evaluate("[document.getElementById('fd-photo').getBoundingClientRect().width,"
                         "document.querySelector('.fd-camera').innerText.trim()]")
    assert box[0] <= 1 and box[1] == "拍照", box
    _offline(phone, True)
    _wait(phone, "document.body.dataset.online === '0'")
    places = [point_in(city, "own"), point_in(city, "own2"), point_in(city, "own")]
    for n, ((lon, lat), item) in enumerate(zip(places, ("LAN-01", "GBG-03", "VEC-02"), strict=True)):
        _record(phone, lon, lat, item, f"离线记录{n}", camera_photo)
    _wait(phone, "document.body.dataset.pending === '3'")
    # Saved while offline: said as a notice (grey, not the red of an error), the error line empty.
    said = phone.evaluate("[document.getElementById('fd-saved').innerText, document.getElementById('fd-msg').innerText,"
                          "getComputedStyle(document.getElementById('fd-saved')).color]")
    assert said[:2] == ["已保存，将自动发送", ""] and said[2] != "rgb(176, 0, 32)", said
    queue = phone.evaluate("Array.from(document.querySelectorAll('#fd-queue li')).map(function(li){"
                           "return [li.dataset.state, li.dataset.clientId, li.innerText]})")
    assert [q[0] for q in queue] == ["pending"] * 3 and all("待发送" in q[2] for q in queue)
    assert len({q[1] for q in queue}) == 3
    _screenshot(phone, "field-offline-queue.png")
    assert _stored(city, "离线记录") == []  # nothing reached the server

    # The queue is on the phone: a reload (still offline) shows it again, from the worker's cache.
    phone.send("Page.reload")
    _wait(phone, "!!window.hmField && document.body.dataset.pending === '3'")
    assert _promise(phone, "caches.match('/static/app/field.js').then(function (r) { return !!r; })")
    assert _promise(phone, "caches.open('hm-field-map').then(function (c) { return c.keys(); }).then(function (k) {"
                           "return k.some(function (r) { return r.url.indexOf('/tiles/roads/') > 0; }); })")
    assert _stored(city, "离线记录") == []

    _offline(phone, False)  # the network returns: the "online" event sends the queue
    _wait(phone, "document.body.dataset.pending === '0' && document.body.dataset.sent === '3'", timeout=90)
    assert phone.evaluate("document.getElementById('fd-saved').innerText") == ""  # sent: the notice is gone
    stored = _stored(city, "离线记录")
    assert sorted(r[0] for r in stored) == sorted(q[1] for q in queue)  # each once, by its client_id
    assert all(r[2] == 1 for r in stored) and all(r[3] <= 1600 for r in stored)  # its photo, resized on the phone
    assert {r[1] for r in stored} == {city["grid"]["own"], city["grid"]["own2"]}
    text = phone.evaluate("document.getElementById('fd-queue').innerText")
    assert text.count("已发送") >= 3 and city["grid"]["own2"] in text and "整改期限" in text
    # Deadlines written as the case page and the prints write them, not the phone's 2026/12/04.
    assert re.search(r"整改期限 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", text) and "/" not in text, text
    _screenshot(phone, "field-sent.png")

    phone.evaluate("window.hmField.flush()")  # sending again changes nothing
    time.sleep(1)
    assert len(_stored(city, "离线记录")) == 3


def test_a_finding_whose_answers_are_lost_is_stored_once(phone, city, camera_photo):
    """The server stores the finding (and then the photo) but the phone never hears back: it sends them again."""
    phone.send("Fetch.enable", patterns=[{"urlPattern": "*/api/inspections/findings", "requestStage": "Response"},
                                         {"urlPattern": "*/photos", "requestStage": "Response"}])
    lost = []
    try:
        lon, lat = point_in(city, "own2")
        _record(phone, lon, lat, "LAN-02", "回答丢失", camera_photo)
        deadline = time.monotonic() + 60
        while len(lost) < 2 and time.monotonic() < deadline:  # the finding's answer, then (after a retry) the photo's
            phone.send("Runtime.evaluate", expression="1")
            for event in [e for e in phone.events if e.get("method") == "Fetch.requestPaused"]:
                phone.events.remove(event)
                url = event["params"]["request"]["url"]
                if not any(url == u for u in lost) and len(lost) < 2:
                    lost.append(url)
                    phone.send("Fetch.failRequest", requestId=event["params"]["requestId"], errorReason="ConnectionReset")
                else:
                    phone.send("Fetch.continueRequest", requestId=event["params"]["requestId"])
            if len(lost) < 2:
                phone.evaluate("window.hmField.flush()")
            time.sleep(0.3)
        assert len(lost) == 2 and lost[1].endswith("/photos"), lost
    finally:
        phone.send("Fetch.disable")
    phone.evaluate("window.hmField.flush()")
    _wait(phone, "document.body.dataset.pending === '0'")
    stored = _stored(city, "回答丢失")
    assert len(stored) == 1 and stored[0][2] == 1, stored


def test_a_grid_sheet_opens_the_grid_and_a_toilet_offers_its_items_first(phone, site, city, round_id):
    phone.open(site + f"/field?grid={city['grid']['own2']}", ready_js="!!window.hmField && "
               "document.getElementById('fd-place').textContent.indexOf('已选位置') === 0")
    assert phone.evaluate("document.getElementById('fd-round').value") == str(round_id)
    # The view is the grid's (a few hundred metres), with the prefilled place inside it.
    assert phone.evaluate("window.hmField.map.getZoom()") >= 16
    assert phone.evaluate("window.hmField.map.getBounds().contains(window.hmField.place())")
    phone.screenshot(ARTIFACTS / "field-grid.png")
    lon, lat = query(city["url"], "SELECT ST_X(geom), ST_Y(geom) FROM toilets WHERE street_code = '379901001' "
                                  "ORDER BY id LIMIT 1")[0]
    _tap(phone, lon, lat, 19)
    _wait(phone, "(document.body.dataset.near || '').split(',').indexOf('公厕') >= 0")
    first = phone.evaluate("document.querySelector('#fd-items > fieldset legend').textContent")
    nearest = phone.evaluate("document.body.dataset.near.split(',')[0]")
    assert first == nearest and "TLT-01" in phone.evaluate("document.querySelector('#fd-items').innerText")
    assert "附近 30 米内" in phone.evaluate("document.getElementById('fd-near').textContent")


def test_a_finding_the_server_refuses_says_why_and_can_be_removed(phone, city, camera_photo):
    lon, lat = point_in(city, "other")  # another street's grid: outside this inspector's scope (403)
    _record(phone, lon, lat, "LAN-03", "范围之外", camera_photo)
    _wait(phone, "!!document.querySelector('#fd-queue li[data-state=failed]')")
    failed = phone.evaluate("document.querySelector('#fd-queue li[data-state=failed]').innerText")
    assert "发送失败" in failed and INSPECTOR in failed and phone.evaluate("document.body.dataset.pending") == "0"
    # The server's reason in the page's language: the Chinese it sends beside its English.
    assert f"用户 '{INSPECTOR}' 的检查范围为" in failed and " inspects " not in failed, failed
    assert _stored(city, "范围之外") == []
    phone.evaluate("document.querySelector('#fd-queue li[data-state=failed] button').click()")
    _wait(phone, "!document.querySelector('#fd-queue li[data-state=failed]')")
