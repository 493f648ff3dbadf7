"""The report form and the tracking page on a phone (390 px) over Taipei, for a resident using a thumb and a screen
reader (findings F8, F13–F16 of the resident's walk): every field named by a real label, 44 px tap targets, a
readable category subtitle, the description counted rather than cut, photos named and their shrinking said, the
link (with its key) kept by a copy button and a QR code drawn by the server, partner channels by their display name,
Open311 errors in Chinese too."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import httpx
import pytest
from PIL import Image

from tests.real_city import taipei, taipei_grids  # noqa: F401  (the city, built once here)
from tests.taipei_public import post_report, site, stop  # noqa: F401

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
READY = "window.hygieneContextState && hygieneContextState.ready"

# Every field and tap target of the form (not the map's own controls, not the hidden honeypot), with what names it
# and its height; the category subtitle's colour against the card's background.
_AUDIT = r"""(function () {
  function lum(c) {
    var v = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(function (x) { x = x / 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function bg(e) {
    for (; e; e = e.parentElement) {
      var c = getComputedStyle(e).backgroundColor;
      if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  }
  var scope = '#rp-form, #tr-find, #tr-rate';
  var fields = [].slice.call(document.querySelectorAll('textarea, input')).filter(function (e) {
    return e.type !== 'hidden' && e.closest(scope) && !e.closest('.rp-hp') && !e.closest('#rp-map');
  }).map(function (e) {
    return {id: e.id || e.name || e.type, label: e.labels && e.labels.length ? e.labels[0].textContent.trim() : ''};
  });
  var targets = [].slice.call(document.querySelectorAll(
    'textarea, input:not([type=radio]):not([type=file]), button, label.rp-add, label.rp-cat, label.tr-choice, a.tr-lang'
  )).filter(function (e) {
    var r = e.getBoundingClientRect();
    return r.width > 2 && (e.closest(scope) || e.matches('a.tr-lang')) && !e.closest('.rp-hp') && !e.closest('#rp-map');
  }).map(function (e) {
    return {what: e.id || e.className || e.tagName, h: e.getBoundingClientRect().height};
  });
  var small = document.querySelector('.rp-cat small');
  var a = lum(getComputedStyle(small).color), b = lum(bg(small));
  return {fields: fields, targets: targets,
          contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
})()"""


def _phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)


def _wait(browser, expression, timeout=30.0):
    from tests.test_public_browser import _wait as wait

    wait(browser, expression, timeout)


def _choose(browser, *paths):
    """Choose files in the page's photo picker, as a resident does (DevTools sets the input's files)."""
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector="#rp-photos")["nodeId"]
    browser.send("DOM.setFileInputFiles", files=[str(p) for p in paths], nodeId=node)


@pytest.mark.browser
def test_the_report_form_is_named_and_thumb_sized_and_counts_the_description(site, browser):
    """At 390 px on Taipei: every field has a real label, every tap target is at least 44 px high, the category
    subtitle reads at WCAG AA (4.5:1); a 5,000-character paste stays whole, is counted (5000/1000) and said, and the
    form says no message will be sent; a phone without location is told to tap the map, in words without HTTPS."""
    city = site
    _phone(browser)
    try:
        page = browser.open(city.base + "/report", ready_js=READY, timeout=90)
        assert not page.timed_out and page.console_errors == [], page.console_errors
        audit = browser.evaluate(_AUDIT)
        unnamed = [f["id"] for f in audit["fields"] if not f["label"]]
        assert unnamed == [], unnamed
        assert {"rp-description", "rp-phone", "rp-photos"} <= {f["id"] for f in audit["fields"]}
        small = [t for t in audit["targets"] if t["h"] < 44]
        assert small == [], small
        assert audit["contrast"] >= 4.5, audit["contrast"]
        text = browser.evaluate("document.body.innerText")
        assert "不会发送短信" in text and "只供责任单位需要时回电" in text, text
        assert "0/1000" in browser.evaluate("document.getElementById('rp-count').textContent")

        # A long paste, as a resident pastes a chat message: kept whole, counted and said (not cut at 1000).
        browser.evaluate("document.getElementById('rp-description').focus()")
        browser.send("Input.insertText", text="中山北路垃圾" * 833 + "xx")  # 5,000 characters
        assert browser.evaluate("document.getElementById('rp-description').value.length") == 5000
        assert browser.evaluate("document.getElementById('rp-count').textContent") == "5000/1000 字"
        said = browser.evaluate("document.getElementById('rp-msg').textContent")
        assert said.startswith("描述超出 1000 字（现有 5000 字）"), said
        browser.evaluate("var d = document.getElementById('rp-description'); d.value = '迪化街口垃圾桶滿了';"
                         "d.dispatchEvent(new Event('input'))")
        assert browser.evaluate("document.getElementById('rp-count').textContent") == "9/1000 字"
        assert browser.evaluate("document.getElementById('rp-msg').textContent") == ""

        # No location (denied, or a page over plain HTTP): the resident's words, and what to do instead.
        browser.evaluate("navigator.geolocation.getCurrentPosition = function (ok, no) { no({code: 1}); };"
                         "document.getElementById('rp-gps').click()")
        said = browser.evaluate("document.getElementById('rp-msg').textContent")
        assert "请在地图上点选位置" in said and "HTTPS" not in said, said
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


@pytest.mark.browser
def test_photos_name_a_file_that_is_no_photo_and_say_while_they_shrink(site, browser, tmp_path):
    """A text file chosen as a photo is named in the message; choosing two good photos next clears it, shows
    “正在处理照片…” while they shrink, and the send button waits (disabled, saying so) until both are added."""
    city = site
    notimage = tmp_path / "notimage.jpg"
    notimage.write_text("not a photo")
    big, ok = tmp_path / "big.jpg", tmp_path / "ok.jpg"
    Image.new("RGB", (3000, 2000), (120, 90, 30)).save(big, format="JPEG")
    Image.new("RGB", (640, 480), (30, 90, 120)).save(ok, format="JPEG")
    _phone(browser)
    try:
        page = browser.open(city.base + "/report", ready_js=READY, timeout=90)
        assert not page.timed_out and page.console_errors == [], page.console_errors
        _choose(browser, notimage)
        _wait(browser, "document.getElementById('rp-msg').textContent.length > 0")
        said = browser.evaluate("document.getElementById('rp-msg').textContent")
        assert "notimage.jpg" in said, said
        # Shrinking held until the test lets it go (a slow phone), so the page's words can be read meanwhile.
        browser.evaluate("var tb = HTMLCanvasElement.prototype.toBlob; window.letGo = false;"
                         "HTMLCanvasElement.prototype.toBlob = function (cb, type, q) { var c = this;"
                         "(function w() { if (window.letGo) tb.call(c, cb, type, q); else setTimeout(w, 50); })(); }; 0")
        _choose(browser, big, ok)
        _wait(browser, "document.getElementById('rp-photo-state').textContent.length > 0")
        assert browser.evaluate("document.getElementById('rp-photo-state').textContent") == "正在处理照片…"
        assert browser.evaluate("document.getElementById('rp-send').disabled") is True
        assert browser.evaluate("document.getElementById('rp-send').textContent") == "正在处理照片…"
        assert "notimage.jpg" not in browser.evaluate("document.getElementById('rp-msg').textContent")
        browser.evaluate("window.letGo = true")
        _wait(browser, "document.body.dataset.photos === '2'")
        _wait(browser, "document.getElementById('rp-photo-state').textContent === ''")
        assert browser.evaluate("document.getElementById('rp-send').disabled") is False
        assert browser.evaluate("document.getElementById('rp-send').textContent") == "提交"
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def _qr_matrix(svg: str) -> list[list[bool]]:
    """The dark modules of the server's QR SVG (row runs ``M x y h w v1 …``), without the quiet zone."""
    root = ET.fromstring(svg)
    side = int(root.get("viewBox").split()[2])
    grid = [[False] * side for _ in range(side)]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)", root.find("{http://www.w3.org/2000/svg}path").get("d")):
        for i in range(int(w)):
            grid[int(y)][int(x) + i] = True
    rows = [r for r in grid if any(r)]
    first = min(r.index(True) for r in rows)
    last = max(len(r) - 1 - r[::-1].index(True) for r in rows)
    return [r[first:last + 1] for r in rows]


def _encoded(text: str) -> list[list[bool]]:
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.get_matrix()


@pytest.mark.browser
def test_the_reporters_page_offers_to_keep_its_link(site, browser):
    """The reporter's tracking page at 390 px: 保存此链接 with the link (its key), a copy button and the link's QR
    code drawn by the server (no outside host); a second resident at the same stop reads as “1 more person” in
    English; after 结案 the rating's reason has a real label. The QR code is the reporter's only (403 without key)."""
    city = site
    lon, lat = stop(city, 60)
    made, key = post_report(city, lon, lat, "垃圾满溢", description="延平北路垃圾桶滿了")
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    second, _ = post_report(city, lon, lat, "垃圾满溢", description="我也看到了")
    assert second.status_code == 201 and second.json()["joined"], second.text
    case = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))[0][0]
    for status in ("立案", "派遣", "处置", "核查", "结案"):
        moved = httpx.patch(city.base + f"/api/complaints/{case}", headers={"Authorization": f"Bearer {city.token}"},
                            json={"status": status}, timeout=30)
        assert moved.status_code == 200, moved.text
    refused = httpx.get(city.base + f"/api/public/reports/{tracking}/qr.svg", timeout=30)
    assert refused.status_code == 403 and "X-Report-Key" in refused.json()["detail"], refused.text
    _phone(browser)
    try:
        page = browser.open(city.base + f"/report/{tracking}#k={key}",
                            ready_js="!!document.getElementById('tr-qr') && !!document.getElementById('tr-rate')")
        assert not page.timed_out and page.console_errors == [], page.console_errors
        assert page.other_hosts(city.base) == []
        text = browser.evaluate("document.body.innerText")
        assert "保存此链接" in text and "不会发送短信" in text, text
        link = browser.evaluate("document.getElementById('tr-link').value")
        assert link == f"{city.base}/report/{tracking}#k={key}"
        assert browser.evaluate("document.getElementById('tr-qr').naturalWidth") > 0
        # A real tap on 复制链接 (a phone's browser lets a tap write the clipboard; the test's is told so).
        browser.send("Browser.grantPermissions", origin=city.base,
                     permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
        browser.send("Emulation.setFocusEmulationEnabled", enabled=True)
        x, y = browser.evaluate("(function(){var b=document.getElementById('tr-copy'); b.scrollIntoView();"
                                "var r=b.getBoundingClientRect(); return [r.left+r.width/2, r.top+r.height/2];})()")
        for kind in ("mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        _wait(browser, "document.getElementById('tr-copied').textContent.length > 0")
        assert browser.evaluate("document.getElementById('tr-copied').textContent").startswith("已复制")
        copied = browser.send("Runtime.evaluate", expression="navigator.clipboard.readText()", awaitPromise=True)
        assert copied["result"]["value"] == link, copied
        assert browser.evaluate("document.getElementById('tr-reason').labels[0].textContent") == "理由（不满意时必填）"
        assert [t for t in browser.evaluate(_AUDIT.replace("var small = document.querySelector('.rp-cat small');",
                                                           "return {targets: targets}; var small;"))["targets"]
                if t["h"] < 44] == []
        english = browser.open(city.base + f"/report/{tracking}?lang=en#k={key}",
                               ready_js="!!document.getElementById('tr-report') && "
                                        "!document.getElementById('tr-report').hidden")
        assert not english.timed_out
        text = browser.evaluate("document.body.innerText")
        assert "1 more person reported the same problem" in text and "more people" not in text, text
        assert "Keep this link" in text
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    # The QR code is the link, key included: the same modules as the link encoded.
    svg = httpx.get(city.base + f"/api/public/reports/{tracking}/qr.svg", headers={"X-Report-Key": key}, timeout=30)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "no-store" in svg.headers["cache-control"]
    assert _qr_matrix(svg.text) == _encoded(link)


@pytest.mark.browser
def test_a_partner_is_named_by_its_display_name_and_open311_speaks_chinese_too(site, browser):
    """Taipei's 1999 hotline, added as `channels add tpe1999 --display 1999市民熱線`: its report's tracking page says
    经“1999市民熱線”转来, not the handle. Open311's refusals carry detail_zh beside the spec's code and description
    (JSON and XML), and a service's description is in one language at a time."""
    city = site
    api_key = city.cli("channels", "add", "tpe1999", "--display", "1999市民熱線").stdout.strip().splitlines()[-1]
    lon, lat = stop(city, 140)
    posted = httpx.post(city.base + "/open311/v2/requests.json", timeout=30, data={
        "api_key": api_key, "service_code": "道路不洁", "lat": str(lat), "long": str(lon), "description": "路面油污"})
    assert posted.status_code == 200, posted.text
    tracking = posted.json()[0]["service_request_id"]
    assert httpx.get(city.base + f"/api/public/reports/{tracking}", timeout=30).json()["channel_name"] == "1999市民熱線"
    case = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))[0][0]
    for status in ("立案", "派遣", "处置", "核查", "结案"):
        moved = httpx.patch(city.base + f"/api/complaints/{case}", headers={"Authorization": f"Bearer {city.token}"},
                            json={"status": status}, timeout=30)
        assert moved.status_code == 200, moved.text
    _phone(browser)
    try:
        page = browser.open(city.base + f"/report/{tracking}", ready_js="document.body.dataset.status === '结案'")
        assert not page.timed_out and page.console_errors == [], page.console_errors
        text = browser.evaluate("document.body.innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
    assert "经“1999市民熱線”转来" in text and "tpe1999" not in text, text

    bad = httpx.post(city.base + "/open311/v2/requests.json", timeout=30, data={
        "api_key": api_key, "service_code": "路燈不亮", "lat": str(lat), "long": str(lon)})
    error = bad.json()[0]
    assert bad.status_code == 400 and set(error) == {"code", "description", "detail_zh"}, bad.text
    assert "service_code" in error["description"] and re.search(r"[\u4e00-\u9fff]", error["detail_zh"])
    xml = httpx.post(city.base + "/open311/v2/requests.xml", timeout=30, data={
        "api_key": api_key, "service_code": "路燈不亮", "lat": str(lat), "long": str(lon)})
    element = ET.fromstring(xml.content).find("error")
    assert [c.tag for c in element] == ["code", "description", "detail_zh"] and element.findtext("detail_zh")
    zh = httpx.get(city.base + "/open311/v2/services.json", timeout=30).json()
    en = httpx.get(city.base + "/open311/v2/services.json?lang=en", timeout=30).json()
    assert all(not re.search("[A-Za-z]", s["description"]) for s in zh), zh[0]
    assert all(not re.search(r"[\u4e00-\u9fff]", s["description"]) for s in en), en[0]
    assert {s["service_code"] for s in zh} == {s["service_code"] for s in en}
