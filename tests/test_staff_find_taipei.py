"""A street office finds a resident's case by its 查询码 and owes answers only for its own street, on Taipei from the
real files (tests/real_city.py; tests/taipei_public.py serves it with a 大同區 office's token).

A resident phones 大同區's office and reads out the tracking number the report page gave (in lower case, a dash, an
O for a 0): the office's search (``GET /api/complaints?q=``, the /cases search box) finds the case; another district's
office and a planner do not learn whose report it is. The 待答复群众 list of 大同區 holds its own cases only, and a
case a resident reopened with 不满意 comes back into it until the office answers. A neighbourhood behind one address
can send more than ten reports an hour, and the page refusing one names the hotline. On a phone (390 px) /cases says
the street by its name and its logout and date buttons are 44 px tall."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.real_city import TAIPEI_STREET, taipei, taipei_grids  # noqa: F401  (the city, built once here)
from tests.taipei_public import post_report, reported_and_closed, site, stop  # noqa: F401
from tests.test_cases_page import login
from tests.test_public_browser import _wait


def _token(city, name: str, *args: str) -> str:
    return city.cli("users", "add", name, *args).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def staff(site):  # noqa: F811
    """Tokens: 大同區's office (the site's), another district's office, a planner and the campaign office."""
    other = site.sql("SELECT code FROM admin_areas WHERE level = 'street' AND code <> %s ORDER BY code LIMIT 1",
                     (TAIPEI_STREET,))[0][0]
    return {"datong": site.token, "other": _token(site, "other-office", "--role", "street", "--street", other),
            "planner": _token(site, "find-planner", "--role", "planner"),
            "admin": _token(site, "find-admin", "--role", "admin"), "other_street": other}


def _found(site, token: str, **params) -> list[int]:
    answer = httpx.get(site.base + "/api/complaints", params=params, timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


def _as_read_out(tracking: str) -> str:
    """The number as a resident types or reads it: lower case, a dash in the middle, O for 0 and I for 1."""
    text = tracking.lower().replace("0", "o").replace("1", "i")
    return text[:5] + "-" + text[5:]


@pytest.fixture(scope="module")
def phoned(site):  # noqa: F811
    """A resident's report at a garbage-truck stop of 大同區: its tracking number and case."""
    made, _ = post_report(site, *stop(site, 40), "暴露垃圾", description="垃圾車停靠點旁堆了三袋垃圾")
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    return tracking, site.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))[0][0]


def test_the_street_office_finds_a_case_by_the_residents_tracking_number(site, staff, phoned):  # noqa: F811
    tracking, case = phoned
    for typed in (tracking, tracking.lower(), _as_read_out(tracking), f" {tracking[:3]} {tracking[3:]} "):
        assert _found(site, staff["datong"], q=typed) == [case], typed
    assert _found(site, staff["admin"], q=_as_read_out(tracking)) == [case]
    assert _found(site, staff["datong"], q=tracking, street=TAIPEI_STREET, open="true") == [case]
    # Only who handles the case learns whose report a number is: not another district's office, not a planner.
    assert _found(site, staff["other"], q=tracking) == []
    assert _found(site, staff["planner"], q=tracking) == []


def test_awaiting_reply_is_the_offices_own_and_a_dissatisfied_resident_comes_back(site, staff):  # noqa: F811
    # A report in another district, unanswered: that district's to answer, not 大同區's.
    lon, lat = site.sql("SELECT ST_X(geom), ST_Y(geom) FROM garbage_stations WHERE street_code = %s "
                        "ORDER BY source_id LIMIT 1", (staff["other_street"],))[0]
    made, _ = post_report(site, lon, lat, "暴露垃圾", description="路口有人亂丟垃圾")
    assert made.status_code == 201, made.text
    elsewhere = site.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (made.json()["tracking"],))[0][0]
    assert elsewhere in _found(site, staff["other"], awaiting_reply="true")
    assert elsewhere in _found(site, staff["admin"], awaiting_reply="true")
    assert elsewhere not in _found(site, staff["datong"], awaiting_reply="true")

    # 大同區 answers a report, closes it; the resident is not satisfied and says why: the case is reopened and its
    # reason awaits an answer again, until the office replies.
    tracking, key, case = reported_and_closed(site, 41, "垃圾桶滿了沒人收")
    office = {"Authorization": f"Bearer {staff['datong']}"}
    replied = httpx.post(site.base + f"/api/complaints/{case}/replies", headers=office, timeout=30,
                         json={"reply": "大同區清潔隊已清運。"})
    assert replied.status_code == 201, replied.text
    assert case not in _found(site, staff["datong"], awaiting_reply="true")
    rated = httpx.post(site.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                       json={"rating": "不满意", "reason": "只收了一半，桶邊還有垃圾", "key": key})
    assert rated.status_code == 201 and rated.json()["reopened"], rated.text
    waiting = _found(site, staff["datong"], awaiting_reply="true")
    assert case in waiting and elsewhere not in waiting
    assert case not in _found(site, staff["datong"], awaiting_reply="false")
    again = httpx.post(site.base + f"/api/complaints/{case}/replies", headers=office, timeout=30,
                       json={"reply": "已再次清理桶邊垃圾。"})
    assert again.status_code == 201, again.text
    assert case not in _found(site, staff["datong"], awaiting_reply="true")


def _config(page: str, marker: str) -> dict:
    start = page.index(f'<script id="{marker}" type="application/json">') + len(f'<script id="{marker}" type="application/json">')
    return json.loads(page[start:page.index("</script>", start)])


def test_a_neighbourhood_behind_one_address_reports_more_than_ten_an_hour(site):  # noqa: F811
    from tests.chromium import serve_app

    # The server's own default limit (nothing set), a cheap proof-of-work, Taipei's hotline (1999).
    with serve_app(site.url, extra_env={"HYGIENE_MAP_PUBLIC_POW_BITS": "4", "HYGIENE_MAP_PUBLIC_HOTLINE": "1999"}) as base:
        city = type("Served", (), {"base": base})
        answers = [post_report(city, *stop(site, 60 + i), "暴露垃圾")[0] for i in range(12)]
        assert [a.status_code for a in answers] == [201] * 12, answers[-1].text
        for lang, words in (("", "或拨打 1999 热线反映"), ("?lang=en", "or call the 1999 hotline")):
            page = httpx.get(base + "/report" + lang, timeout=30).text
            assert words in _config(page, "rp-config")["words"]["refused"]["too_often"]
    # No hotline set: the national one.
    assert "12345" in _config(httpx.get(site.base + "/report", timeout=30).text,
                              "rp-config")["words"]["refused"]["too_often"]


@pytest.fixture(scope="module")
def phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    yield browser
    browser.send("Emulation.clearDeviceMetricsOverride")


def _height(browser, selector: str) -> float:
    return browser.evaluate(f"document.querySelector({json.dumps(selector)}).getBoundingClientRect().height")


@pytest.mark.browser
def test_on_a_phone_the_office_sees_its_street_by_name_and_finds_the_case(phone, site, staff, phoned):  # noqa: F811
    tracking, case = phoned
    name = site.sql("SELECT name FROM admin_areas WHERE level = 'street' AND code = %s", (TAIPEI_STREET,))[0][0]
    login(phone, site.base, {"tokens": {"datong": staff["datong"]}}, "datong")
    header = phone.evaluate("document.querySelector('.cs-who').innerText")
    assert f"{name}（{TAIPEI_STREET}）" in header, header
    assert _height(phone, "#cs-logout") >= 44
    assert "查询码" in phone.evaluate("document.getElementById('cs-q').placeholder")
    phone.evaluate(f"var q = document.getElementById('cs-q'); q.value = {json.dumps(_as_read_out(tracking))};"
                   "q.form.requestSubmit()")
    _wait(phone, "Array.from(document.querySelectorAll('#cs-rows tr[data-id]')).map(function (r) {"
                 f"return r.dataset.id; }}).join(',') === '{case}'")
    phone.evaluate(f"location.hash = '{case}'")
    _wait(phone, f"document.body.dataset.detail === '{case}' && !!document.querySelector('.cs-pick-day')")
    assert _height(phone, ".cs-pick-day") >= 44
