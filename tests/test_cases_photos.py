"""Photos of the work on the case page (/cases, 处置照片), on a real city: Yantai from its real Gaode outlines
(tests/yantai_street.py). The street office, on its phone, adds a photo before the work to a resident's case and,
once the case is at 核查, one after it; each is made small on the phone; the resident's tracking page shows both,
never who took them. An after photo is not offered before the work is done; another street's office sees and
fetches nothing of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.test_cases_page import login, problems
from tests.test_cases_public_reply import _fetched, _open, _report
from tests.test_public_browser import _wait

# Yantai's fixtures (the city from its real outlines, its street with grids and users, the server), built once here.
from tests.yantai_street import GPS, call, city, site, yantai  # noqa: F401

pytestmark = pytest.mark.browser


def _choose(browser, path) -> None:
    """The phone's camera gives the photo at ``path`` to the page's photo field."""
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector="#cs-photo")["nodeId"]
    browser.send("DOM.setFileInputFiles", files=[str(path)], nodeId=node)


def _stages(browser) -> dict[str, int]:
    return browser.evaluate("Array.from(document.querySelectorAll('#cs-work .cs-photos')).reduce(function (m, p) {"
                            "m[p.dataset.stage] = p.querySelectorAll('img').length; return m; }, {})")


@pytest.fixture(scope="module")
def case(site):  # noqa: F811
    """A resident's report in 西山社区 (a phone's GPS fix): its case and tracking number."""
    made, _ = _report(site, GPS[0] - 0.0002, GPS[1] + 0.0001, "路边垃圾桶满了没人清", None)
    complaint = site.one("SELECT complaint_id FROM public_reports WHERE tracking = %s", (made["tracking"],))
    return {"id": complaint, "tracking": made["tracking"]}


def test_the_street_office_photographs_the_work_and_the_resident_sees_it(browser, site, case, tmp_path):  # noqa: F811
    photo = tmp_path / "camera.jpg"
    Image.new("RGB", (4000, 3000), (90, 120, 60)).save(photo, format="JPEG", quality=90)  # a phone camera's size
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        login(browser, site.base, {"tokens": site.tokens}, "street")
        _open(browser, case["id"])
        _wait(browser, f"document.body.dataset.photos === '{case['id']}'")
        assert _stages(browser) == {"before": 0, "after": 0}
        # At 受理 the work is not done: no after photo is offered, and the page says from when.
        assert browser.evaluate("document.querySelector('#cs-photo-form option[value=after]').disabled") is True
        assert "核查" in browser.evaluate("document.getElementById('cs-photo-form').innerText")
        _choose(browser, photo)
        _wait(browser, "!!document.getElementById('cs-ok') && document.body.dataset.photos === "
                       f"'{case['id']}' && document.querySelectorAll('#cs-work img').length === 1")
        assert browser.evaluate("document.getElementById('cs-ok').innerText") == "照片已添加"
        stored = site.sql("SELECT stage, width, height, uploaded_by FROM public_photos WHERE complaint_id = %s "
                          "AND tracking IS NULL", (case["id"],))
        assert stored == [("before", 1600, 1200, "yt-street")]  # made small on the phone, upright
        for status in ("立案", "派遣", "处置", "核查"):
            moved = call(site, "PATCH", f"/api/complaints/{case['id']}", "street", json={"status": status, "note": "已清运"})
            assert moved.status_code == 200, moved.text
        browser.evaluate("location.hash = ''; 0")  # back to the list, and the case again as it is now
        _open(browser, case["id"])
        _wait(browser, f"document.body.dataset.photos === '{case['id']}'")
        assert browser.evaluate("document.querySelector('#cs-photo-form select').value") == "after"
        _choose(browser, photo)  # the before picture again: it shows no work, refused in the page's words
        _wait(browser, "!!document.getElementById('cs-photo-msg') && "
                       "document.getElementById('cs-photo-msg').innerText.indexOf('完全相同') >= 0")
        after = tmp_path / "after.jpg"
        Image.new("RGB", (4000, 3000), (60, 140, 200)).save(after, format="JPEG", quality=90)
        _choose(browser, after)
        _wait(browser, "document.querySelectorAll('#cs-work img').length === 2")
        assert _stages(browser) == {"before": 1, "after": 1}
        browser.evaluate("document.getElementById('cs-work').scrollIntoView(); 0")
        browser.screenshot(Path(__file__).resolve().parent / "artifacts" / "cases-photos.png")
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert problems(browser, site.base, allowed=(f"/api/complaints/{case['id']}/photos", "422")) == []
        browser.open(site.base + f"/report/{case['tracking']}",
                     ready_js="document.querySelectorAll('.tr-photos img').length === 2")
        assert "yt-street" not in browser.evaluate("document.body.innerText")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_another_street_s_office_neither_sees_nor_fetches_the_photos(browser, site, case):  # noqa: F811
    assert call(site, "GET", f"/api/complaints/{case['id']}", "other").json()["actions"]["photos"] is False
    assert call(site, "GET", f"/api/complaints/{case['id']}", "street").json()["actions"]["photos"] is True
    login(browser, site.base, {"tokens": site.tokens}, "other")
    _open(browser, case["id"])
    assert not browser.evaluate("!!document.getElementById('cs-work')")
    assert _fetched(browser, f"/api/complaints/{case['id']}/photos") == []


def test_in_english_a_file_that_is_no_photo_is_said_and_nothing_is_stored(browser, site, case, tmp_path):  # noqa: F811
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"this is not a picture")
    login(browser, site.base, {"tokens": site.tokens}, "street", "?lang=en")
    _open(browser, case["id"])
    _wait(browser, f"document.body.dataset.photos === '{case['id']}'")
    assert browser.evaluate("document.querySelector('#cs-work h3').innerText") == "Photos of the work"
    before = site.one("SELECT count(*) FROM public_photos WHERE complaint_id = %s", (case["id"],))
    _choose(browser, bad)
    # "Preparing the photo…" first, then the refusal.
    _wait(browser, "document.getElementById('cs-photo-msg').innerText.indexOf('not added') >= 0")
    said = browser.evaluate("document.getElementById('cs-photo-msg').innerText")
    assert said.startswith("The photo was not added") and "cannot be read" in said, said
    assert site.one("SELECT count(*) FROM public_photos WHERE complaint_id = %s", (case["id"],)) == before
