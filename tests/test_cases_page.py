"""The case page (/cases, 工单办理) in headless Chromium at phone width, on the small demo: a street office logs in,
sees only its street's complaints, filters the overdue ones, finds one by its number or hotline number, opens one,
registers it (受理→立案) with a note, is offered only the states the workflow allows, is told in Chinese when the
complaint moved on (409), is offered nothing on another street's complaint (a read-only note), and asks for more
time; the campaign office approves and the deadline shown changes. Nothing overflows at 390 px, nothing is loaded
from another host, the console stays clean."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from data.vocab import TRANSITIONS
from tests.chromium import PageReport
from tests.conftest import query
from tests.inspecting import OTHER_STREET, OWN_STREET, make_city
from tests.test_public_browser import _wait

pytestmark = pytest.mark.browser

CITY_ZONE = ZoneInfo("Asia/Shanghai")  # the demo city's zone


@pytest.fixture(scope="module")
def city(module_demo):
    return make_city(module_demo)


@pytest.fixture(scope="module")
def site(city):
    from tests.chromium import serve_app

    with serve_app(city["url"]) as base:
        yield base


@pytest.fixture(scope="module")
def phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    yield browser
    browser.send("Emulation.clearDeviceMetricsOverride")


def shown(iso_or_dt) -> str:
    """A time as the page shows it: minutes, in the city's zone."""
    value = datetime.fromisoformat(iso_or_dt) if isinstance(iso_or_dt, str) else iso_or_dt
    return value.astimezone(CITY_ZONE).strftime("%Y-%m-%d %H:%M")


def api(site, city, who, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(site + path, data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {city['tokens'][who]}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def problems(browser, site, allowed=()) -> list[str]:
    """Console errors, failed requests (but the ``allowed`` ones) and requests to another host since the last call."""
    report = PageReport(site)
    browser.send("Runtime.evaluate", expression="1")
    browser._collect(report)
    browser.events = []
    noise = [e for e in report.console_errors + report.failed_requests
             if not any(a in e for a in allowed)]
    return noise + report.other_hosts(site)


def login(browser, site, city, who, lang=""):
    """Log in through the page: /cases says to log in, its link leads to /login, which comes back to /cases."""
    browser.send("Network.clearBrowserCookies")
    browser.open(site + "/cases" + lang, ready_js="!!document.getElementById('cs-login-link')")
    browser.evaluate("document.getElementById('cs-login-link').click()")
    _wait(browser, "!!document.getElementById('token')")
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(city['tokens'][who])};"
                     "document.querySelector('form').submit()")
    _wait(browser, "location.pathname === '/cases' && document.body.hasAttribute('data-rows')")


def rows(browser) -> list[dict]:
    return browser.evaluate("Array.from(document.querySelectorAll('#cs-rows tr[data-id]')).map(function (r) {"
                            "return {id: Number(r.dataset.id), overdue: r.classList.contains('cs-overdue'),"
                            "cells: Array.from(r.cells).map(function (c) { return c.innerText; })}; })")


def fits(browser) -> bool:
    return browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def open_case(browser, complaint_id):
    browser.evaluate(f"location.hash = '{complaint_id}'")
    _wait(browser, f"document.body.dataset.detail === '{complaint_id}'")


def buttons(browser) -> list[str]:
    return browser.evaluate("Array.from(document.querySelectorAll('#cs-step button[data-to]'))"
                            ".map(function (b) { return b.dataset.to; })")


def message(browser) -> str:
    return browser.evaluate("document.getElementById('cs-msg').innerText")


@pytest.fixture(scope="module")
def target(city):
    """The newest complaint of the street still at 受理 (an overdue one if there is one): the one worked on."""
    found = query(city["url"], "SELECT c.id, c.due_at, c.due_at < now() FROM complaints c WHERE street_code = %s "
                               "AND status = '受理' ORDER BY (c.due_at < now()) DESC, reported_at DESC, id DESC LIMIT 1",
                  (OWN_STREET,))
    assert found, "the demo street has no complaint at 受理"
    return {"id": found[0][0], "due_at": found[0][1]}


def test_without_a_login_the_page_says_so_and_links_the_login(browser, site):
    browser.send("Network.clearBrowserCookies")
    report = browser.open(site + "/cases", ready_js="!!document.getElementById('cs-login')")
    assert "需要登录" in browser.evaluate("document.body.innerText")
    assert browser.evaluate("document.getElementById('cs-login-link').getAttribute('href')") == "/login?next=/cases"
    assert not report.console_errors and report.other_hosts(site) == []
    browser.open(site + "/cases?lang=en", ready_js="!!document.getElementById('cs-login')")
    assert "needs a login" in browser.evaluate("document.body.innerText")
    assert "next=/cases%3Flang%3Den" in browser.evaluate("document.getElementById('cs-login-link').href")


def choose_status(browser, value: str) -> None:
    """Pick a status in the list's filter ('' all, 'open' 未办结, or a status) and wait for its first page."""
    browser.evaluate(f"var s = document.getElementById('cs-status'); s.value = {json.dumps(value)};"
                     "s.dispatchEvent(new Event('change', {bubbles: true}))")
    _wait(browser, "document.body.hasAttribute('data-rows')")


def test_a_street_office_sees_its_own_complaints_newest_first_in_city_time(phone, site, city):
    login(phone, site, city, "street1")
    # An inbox: the page opens on the complaints still to be handled (未办结), newest first.
    assert phone.evaluate("document.getElementById('cs-status').value") == "open"
    still_open = query(city["url"], "SELECT id FROM complaints WHERE street_code = %s AND status <> '结案' "
                                    "ORDER BY reported_at DESC, id DESC LIMIT 20", (OWN_STREET,))
    assert [r["id"] for r in rows(phone)] == [r[0] for r in still_open] and still_open
    choose_status(phone, "")  # 全部: closed ones too
    listed = rows(phone)
    assert len(listed) == 20  # a page
    ids = [r["id"] for r in listed]
    db = {r[0]: r[1:] for r in query(city["url"], "SELECT id, street_code, reported_at, due_at FROM complaints "
                                                  "WHERE id = ANY(%s)", (ids,))}
    assert {db[i][0] for i in ids} == {OWN_STREET}
    newest = query(city["url"], "SELECT id FROM complaints WHERE street_code = %s ORDER BY reported_at DESC, id DESC "
                                "LIMIT 20", (OWN_STREET,))
    assert ids == [r[0] for r in newest]
    first = listed[0]
    assert first["cells"][3] == shown(db[first["id"]][1]) and first["cells"][4].startswith(shown(db[first["id"]][2]))
    assert not phone.evaluate("document.getElementById('cs-more').hidden")
    phone.evaluate("document.getElementById('cs-more').click()")
    _wait(phone, "document.body.dataset.rows === '40'")
    assert len({r["id"] for r in rows(phone)}) == 40
    assert phone.evaluate("document.getElementById('cs-scope-box').hidden")  # one street: nothing to choose
    assert fits(phone)
    assert problems(phone, site) == []


def test_the_overdue_filter_shows_the_overdue_ones_as_the_api_lists_them(phone, site, city):
    choose_status(phone, "open")
    phone.evaluate("document.getElementById('cs-overdue').click()")
    _wait(phone, "document.body.hasAttribute('data-rows')")
    listed = rows(phone)
    expected = api(site, city, "street1", "GET", f"/api/complaints?street={OWN_STREET}&overdue=true&limit=20")["items"]
    assert [r["id"] for r in listed] == [c["id"] for c in expected]
    assert listed and all(r["overdue"] and "超期" in r["cells"][4] for r in listed)
    phone.evaluate("document.getElementById('cs-overdue').click()")
    still_open = query(city["url"], "SELECT count(*) FROM complaints WHERE street_code = %s AND status <> '结案'",
                       (OWN_STREET,))[0][0]
    _wait(phone, f"document.body.dataset.rows === '{min(20, still_open)}'")  # the inbox again: open ones
    assert problems(phone, site) == []


def search(browser, words):
    """Type ``words`` into the search box (as a phone's keyboard does: input events)."""
    browser.evaluate(f"var q = document.getElementById('cs-q'); q.value = {json.dumps(words)};"
                     "q.dispatchEvent(new Event('input', {bubbles: true}))")


def test_the_office_finds_a_complaint_by_its_number_or_its_hotline_number(phone, site, city):
    oldest, hotline = query(city["url"], "SELECT id, source_id FROM complaints WHERE street_code = %s "
                                         "AND status = '结案' ORDER BY reported_at, id LIMIT 1", (OWN_STREET,))[0]
    login(phone, site, city, "street1")
    search(phone, hotline)  # the inbox holds open complaints only: a closed one is not there, and the page says why
    _wait(phone, "document.body.dataset.rows === '0'")
    assert "状态选“全部”可查已结案的" in phone.evaluate("document.getElementById('cs-rows').innerText")
    choose_status(phone, "")
    search(phone, hotline)
    _wait(phone, "document.body.dataset.rows === '1'")
    assert [r["id"] for r in rows(phone)] == [oldest]  # far past the first pages, found at once
    search(phone, "no such place")
    _wait(phone, "document.body.dataset.rows === '0'")
    assert "没有符合条件的投诉" in phone.evaluate("document.getElementById('cs-rows').innerText")
    search(phone, str(oldest))
    _wait(phone, "document.body.dataset.rows === '1'")
    assert [r["id"] for r in rows(phone)] == [oldest]
    assert fits(phone)
    search(phone, "")
    _wait(phone, "document.body.dataset.rows === '20'")
    assert problems(phone, site) == []


def test_the_office_registers_a_complaint_with_a_note_and_only_allowed_steps_are_offered(phone, site, city, target):
    complaint = target["id"]
    phone.evaluate("var s = document.getElementById('cs-status'); s.value = '受理';"
                   "s.dispatchEvent(new Event('change', {bubbles: true}))")
    _wait(phone, f"!!document.querySelector('#cs-rows tr[data-id=\"{complaint}\"]')")
    assert {r["cells"][2] for r in rows(phone)} == {"受理"}
    phone.evaluate(f"document.querySelector('#cs-rows tr[data-id=\"{complaint}\"] td:nth-child(2)').click()")
    _wait(phone, f"document.body.dataset.detail === '{complaint}'")
    assert buttons(phone) == list(TRANSITIONS["受理"])  # 立案, 结案 (不予立案); never 派遣 or 处置
    assert shown(target["due_at"]) in phone.evaluate("document.getElementById('cs-due').innerText")
    assert "问题描述" in phone.evaluate("document.getElementById('cs-detail').innerText")  # its street's: readable
    assert fits(phone)
    # 结案 from 受理 needs a note: without one the page says so and writes nothing.
    phone.evaluate("document.querySelector('#cs-step button[data-to=\"结案\"]').click()")
    assert message(phone) == "请填写办理说明"
    phone.evaluate("document.getElementById('cs-note').value = '核实属实，转环卫所立案';"
                   "document.querySelector('#cs-step button[data-to=\"立案\"]').click()")
    _wait(phone, "document.body.dataset.status === '立案'")
    assert "已转为 立案" in phone.evaluate("document.getElementById('cs-ok').innerText")
    step = phone.evaluate("document.querySelector('#cs-history li:last-child').innerText")
    assert "受理 → 立案" in step and "核实属实，转环卫所立案" in step and "street1" in step
    assert buttons(phone) == list(TRANSITIONS["立案"])
    assert query(city["url"], "SELECT status FROM complaints WHERE id = %s", (complaint,))[0][0] == "立案"
    assert query(city["url"], "SELECT from_status, to_status, note, actor FROM complaint_events WHERE complaint_id = %s "
                              "ORDER BY seq DESC LIMIT 1", (complaint,))[0] == ("受理", "立案", "核实属实，转环卫所立案", "street1")
    assert problems(phone, site) == []


def test_a_step_the_complaint_has_moved_past_is_explained_with_the_states_allowed_now(phone, site, city, target):
    complaint = target["id"]
    api(site, city, "street1", "PATCH", f"/api/complaints/{complaint}", {"status": "派遣", "note": "另一台手机"})
    phone.evaluate("document.querySelector('#cs-step button[data-to=\"派遣\"]').click()")  # the page still shows 立案
    _wait(phone, "document.getElementById('cs-msg') && document.getElementById('cs-msg').innerText.length > 0")
    assert message(phone) == "该投诉当前状态为 派遣，只能转为：处置"
    assert buttons(phone) == ["处置"]
    assert problems(phone, site, allowed=(f"/api/complaints/{complaint}", "409")) == []


def test_a_complaint_of_another_street_is_shown_read_only(phone, site, city):
    """The detail says what this user may do: another street's complaint offers no step, no extension request,
    only a note that it is outside the user's scope; the API refuses the step all the same."""
    other = query(city["url"], "SELECT id, status FROM complaints WHERE street_code = %s AND status <> '结案' "
                               "ORDER BY id LIMIT 1", (OTHER_STREET,))[0]
    open_case(phone, other[0])
    assert buttons(phone) == [] and not phone.evaluate("!!document.getElementById('cs-ask')")
    assert not phone.evaluate("!!document.getElementById('cs-note')")
    note = phone.evaluate("document.getElementById('cs-readonly').innerText")
    name = query(city["url"], "SELECT name FROM admin_areas WHERE level = 'street' AND code = %s", (OWN_STREET,))[0][0]
    assert note == f"该投诉不在您的办理范围内（街道 {name}（{OWN_STREET}）），只能查看"  # the street as the header says it
    assert fits(phone)
    with pytest.raises(urllib.error.HTTPError) as refused:
        api(site, city, "street1", "PATCH", f"/api/complaints/{other[0]}", {"status": TRANSITIONS[other[1]][0],
                                                                          "note": "试试"})
    assert refused.value.code == 403
    assert query(city["url"], "SELECT status FROM complaints WHERE id = %s", (other[0],))[0][0] == other[1]
    open_case(phone, query(city["url"], "SELECT id FROM complaints WHERE street_code = %s AND status <> '结案' "
                                        "ORDER BY id LIMIT 1", (OWN_STREET,))[0][0])
    assert buttons(phone) and not phone.evaluate("!!document.getElementById('cs-readonly')")  # its own: steps
    assert problems(phone, site) == []


def test_a_step_whose_answer_is_lost_is_sent_again_as_the_same_write(phone, site, city, target):
    """Offline, the step fails and says so; sent again, it carries the same Idempotency-Key and is written once."""
    complaint = target["id"]
    open_case(phone, complaint)
    problems(phone, site)
    phone.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1)
    try:
        phone.evaluate("document.querySelector('#cs-step button[data-to=\"处置\"]').click()")
        _wait(phone, "document.getElementById('cs-msg').innerText === '网络错误，请稍后重试'")
    finally:
        phone.send("Network.emulateNetworkConditions", offline=False, latency=0, downloadThroughput=-1,
                   uploadThroughput=-1)
    phone.evaluate("document.querySelector('#cs-step button[data-to=\"处置\"]').click()")
    _wait(phone, "document.body.dataset.status === '处置'")
    keys = [e["params"]["request"]["headers"].get("Idempotency-Key") for e in phone.events
            if e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["method"] == "PATCH"]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert query(city["url"], "SELECT count(*) FROM complaint_events WHERE complaint_id = %s AND to_status = '处置'",
                 (complaint,))[0][0] == 1
    assert problems(phone, site, allowed=("ERR_INTERNET_DISCONNECTED",)) == []


def test_the_office_asks_for_more_time_and_the_campaign_office_approves_it(phone, site, city, target):
    complaint = target["id"]
    open_case(phone, complaint)
    assert not phone.evaluate("!!document.querySelector('#cs-request button')")  # a street office decides nothing
    asked = (max(target["due_at"], datetime.now(UTC)) + timedelta(days=2)).astimezone(CITY_ZONE)
    asked = asked.replace(hour=18, minute=0, second=0, microsecond=0)
    phone.evaluate(f"var f = document.getElementById('cs-ask'); f.due_at.value = '{asked:%Y-%m-%dT%H:%M}';"
                   "f.reason.value = '雨天清运车辆不足'; f.querySelector('button[type=submit]').click()")
    _wait(phone, "!!document.getElementById('cs-request')")
    assert "已提交延期申请" in phone.evaluate("document.getElementById('cs-ok').innerText")
    assert f"{asked:%Y-%m-%d %H:%M}" in phone.evaluate("document.getElementById('cs-request').innerText")
    assert query(city["url"], "SELECT kind, due_after, reason FROM complaint_deadlines WHERE complaint_id = %s",
                 (complaint,)) == [("request", asked, "雨天清运车辆不足")]
    assert fits(phone)
    assert problems(phone, site) == []
    # The campaign office: a street to choose, the pending request with approve and reject.
    login(phone, site, city, "admin1")
    assert not phone.evaluate("document.getElementById('cs-scope-box').hidden")
    phone.evaluate("document.getElementById('cs-pending').click()")
    _wait(phone, f"!!document.querySelector('#cs-rows tr[data-id=\"{complaint}\"]')")
    assert [r["id"] for r in rows(phone)] == [complaint]
    open_case(phone, complaint)
    phone.evaluate("document.querySelector('#cs-request button[data-decision=reject]').click()")
    assert message(phone) == "请填写办理说明"  # a rejection says why
    phone.evaluate("document.querySelector('#cs-request button[data-decision=approve]').click()")
    _wait(phone, "!document.getElementById('cs-request') && !!document.getElementById('cs-ok')")
    assert phone.evaluate("document.getElementById('cs-due').innerText").startswith(f"{asked:%Y-%m-%d %H:%M}")
    assert query(city["url"], "SELECT due_at FROM complaints WHERE id = %s", (complaint,))[0][0] == asked
    kinds = phone.evaluate("Array.from(document.querySelectorAll('#cs-deadline-history li')).map(function (l) {"
                           "return l.dataset.kind; })")
    assert kinds == ["request", "approve"]
    assert fits(phone)
    assert problems(phone, site) == []


def test_in_english_the_campaign_office_sets_a_deadline_and_a_past_one_is_explained(phone, site, city, target):
    complaint = target["id"]
    phone.open(site + f"/cases?lang=en#{complaint}", ready_js=f"document.body.dataset.detail === '{complaint}'")
    assert phone.evaluate("document.querySelector('h1').innerText") == "Case handling"
    assert phone.evaluate("document.body.innerText").count("dispatched") >= 1  # the status in English
    phone.evaluate("var f = document.getElementById('cs-set'); f.due_at.value = '2020-01-01T08:00';"
                   "f.reason.value = '限期整改'; f.querySelector('button[type=submit]').click()")
    _wait(phone, "document.getElementById('cs-msg') && document.getElementById('cs-msg').innerText.length > 0")
    assert message(phone).startswith("The new deadline must be later than the current one and not in the past")
    later = (datetime.now(UTC) + timedelta(days=9)).astimezone(CITY_ZONE).replace(hour=9, minute=30, second=0,
                                                                                    microsecond=0)
    phone.evaluate(f"var f = document.getElementById('cs-set'); f.due_at.value = '{later:%Y-%m-%dT%H:%M}';"
                   "f.reason.value = '限期整改'; f.querySelector('button[type=submit]').click()")
    _wait(phone, "!!document.getElementById('cs-ok')")
    assert phone.evaluate("document.getElementById('cs-due').innerText").startswith(f"{later:%Y-%m-%d %H:%M}")
    assert query(city["url"], "SELECT due_at FROM complaints WHERE id = %s", (complaint,))[0][0] == later
    assert problems(phone, site, allowed=(f"/api/complaints/{complaint}/deadline", "422")) == []


def test_a_refusal_the_page_passes_on_is_in_the_page_language(phone, site, city, target):
    """Another phone asked for more time on the complaint while this page still offers the request: the server
    refuses the page's request (409), and the page says why in Chinese on the Chinese page, in English on the
    English one — never the other language."""
    complaint, due = query(city["url"], "SELECT id, due_at FROM complaints c WHERE street_code = %s AND status = '立案' "
                                        "AND id <> %s AND NOT EXISTS (SELECT 1 FROM complaint_deadlines d "
                                        "WHERE d.complaint_id = c.id) ORDER BY id LIMIT 1", (OWN_STREET, target["id"]))[0]
    asked = (max(due, datetime.now(UTC)) + timedelta(days=3)).astimezone(CITY_ZONE).replace(second=0, microsecond=0)
    for lang, said in (("", "操作冲突：投诉 {c} 的延期申请 {r}（延至 {due}，street1 申请）正等待创卫办审批：一次只能有一个申请"),
                       ("?lang=en", "Conflict: complaint {c} has extension request {r} awaiting the campaign office's "
                                    "decision (to {due}, asked by street1): one request at a time")):
        login(phone, site, city, "street1", lang)
        open_case(phone, complaint)
        assert phone.evaluate("!!document.getElementById('cs-ask')")  # the page offers the request
        api(site, city, "street1", "POST", f"/api/complaints/{complaint}/deadline/requests",
            {"due_at": asked.isoformat(), "reason": "另一台手机先申请了"})
        first = query(city["url"], "SELECT id, due_after FROM complaint_deadlines WHERE complaint_id = %s "
                                   "ORDER BY id DESC LIMIT 1", (complaint,))[0]
        phone.evaluate(f"var f = document.getElementById('cs-ask'); f.due_at.value = "
                       f"'{asked + timedelta(days=1):%Y-%m-%dT%H:%M}'; f.reason.value = '本机申请';"
                       "f.querySelector('button[type=submit]').click()")
        _wait(phone, "document.getElementById('cs-msg') && document.getElementById('cs-msg').innerText.length > 0")
        assert message(phone) == said.format(c=complaint, r=first[0], due=first[1].astimezone(CITY_ZONE).isoformat(timespec="minutes")), message(phone)
        assert fits(phone)
        assert problems(phone, site, allowed=(f"/api/complaints/{complaint}/deadline/requests", "409")) == []
        api(site, city, "admin1", "POST", f"/api/complaints/{complaint}/deadline/requests/{first[0]}/decision",
            {"decision": "reject", "note": "测试完毕"})  # the next language starts from no pending request


def test_an_inspector_sees_its_grid_and_a_planner_reads_without_buttons(phone, site, city, target):
    login(phone, site, city, "inspector1")  # scoped to one grid
    choose_status(phone, "")  # its grid's complaints of every status
    listed = rows(phone)
    assert listed
    grids = query(city["url"], "SELECT DISTINCT grid_code FROM complaints WHERE id = ANY(%s)", ([r["id"] for r in listed],))
    assert grids == [(city["grid"]["own"],)]
    login(phone, site, city, "planner1")
    open_case(phone, target["id"])
    assert buttons(phone) == [] and not phone.evaluate("!!document.getElementById('cs-ask')")
    detail = phone.evaluate("document.getElementById('cs-detail').innerText")
    assert "只能查看" in detail
    assert "问题描述" not in detail  # what the complainant wrote is personal: a planner never reads it
    assert problems(phone, site) == []


def test_the_index_and_the_street_map_link_the_page(browser, site):
    browser.open(site + "/", ready_js="document.readyState === 'complete'")
    assert browser.evaluate("!!document.querySelector('a[href=\"/cases\"]')")
    assert browser.evaluate(f"!!document.querySelector('a[href=\"/cases?street={OWN_STREET}\"]')")
    browser.open(site + f"/map/grids?street={OWN_STREET}", ready_js="!!document.getElementById('cases-link')")
    assert browser.evaluate("document.getElementById('cases-link').getAttribute('href')") == f"/cases?street={OWN_STREET}"
