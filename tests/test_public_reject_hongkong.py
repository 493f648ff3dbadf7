"""A resident's report turned down in Hong Kong (walk "res" F2, F3, F4, F6), on the real city of
tests/test_hongkong.py: the districts as streets and grids in Central and Western (street 11).

Closed straight from 受理 (不予立案), the report reads as not taken up — with the unit's public reply as the
reason — on the tracking page, the public API and Open311, never as fixed; the office cannot close it so
without that reply. The reporter's 不满意 sends it back to 受理 for a fresh decision (not to 处置, where a case
never filed has nothing to rework); the rating does not count in the street's satisfaction, and the bulletin
counts the case filed once the office files it. The public gets the point to about a metre; a photo with a
wrong challenge is refused naming ``challenge``."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from data.params import Period
from layers.reports.bulletin import period_figures
from layers.workflow import public_challenges
from tests.test_hongkong import hk_grids, hk_server, hongkong  # noqa: F401  (the city, built here from nothing)

#: A resident's GPS fix in a back lane of Central (中西區, street 11), at full float precision (walk F3).
DOORWAY = (114.15490150451662, 22.283602766369974)
#: Other points of Central, well apart (more than the 50 m a report joins an open case within).
PEEL_STREET = (114.1530, 22.2820)
QUEENS_ROAD = (114.1560, 22.2850)
SHEUNG_WAN = (114.1500, 22.2860)
REASON = "私人物業範圍，不屬食環署職責，請聯絡業主立案法團。"


@pytest.fixture(scope="module")
def hk(hk_grids):
    """香港 with the districts as streets and 400 m grids in Central and Western (tests/test_hongkong.py)."""
    return hk_grids


@pytest.fixture
def client(hk_server, hk, env_for, monkeypatch):
    from api.app import create_app

    env_for(hk_server.url)
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "4")
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR", "100")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _staff(city) -> dict:
    return {"Authorization": f"Bearer {city.token}"}


def _report(client, city, point, category="病媒生物") -> tuple[str, int, str]:
    """A resident's report at ``point``: its tracking number, its case and its key (the challenge)."""
    ch = client.get("/api/public/challenge").json()
    made = client.post("/api/public/reports", json={
        "lon": point[0], "lat": point[1], "category": category, "description": "後巷老鼠出沒",
        "challenge": ch["challenge"], "nonce": public_challenges.solve(ch["challenge"], ch["bits"])})
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    (case,), = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))
    return tracking, case, ch["challenge"]


def _move(client, city, complaint_id, status, **extra):
    return client.patch(f"/api/complaints/{complaint_id}", headers=_staff(city), json={"status": status, **extra})


def _reject(client, city, complaint_id):
    """The office closes the case unfiled (不予立案), with its staff note and its reply to the public."""
    done = _move(client, city, complaint_id, "结案", note="私人物業，轉介業主", public_reply=REASON)
    assert done.status_code == 200, done.text


def test_a_report_turned_down_reads_as_not_taken_up_everywhere(hk_server, hk, client):
    """不予立案 of a resident's report needs a public reply (refused naming public_reply with only the staff note);
    then the tracking API, Open311's status_notes and the tracking page (zh and en) say it was not taken up and
    why, unlike a case closed after rectification. Everyone but the reporter gets the point to 5 decimals."""
    city = hk_server
    tracking, case, key = _report(client, city, DOORWAY)
    only_note = _move(client, city, case, "结案", note="私人物業範圍，不屬本處職責")
    assert only_note.status_code == 422 and only_note.json()["detail"].startswith("public_reply: "), only_note.text
    assert client.get(f"/api/public/reports/{tracking}").json()["status"] == "受理"  # nothing was written
    _reject(client, city, case)

    seen = client.get(f"/api/public/reports/{tracking}").json()
    assert (seen["status"], seen["outcome"], seen["outcome_reason"]) == ("结案", "not_taken_up", REASON), seen
    assert (seen["lon"], seen["lat"]) == (114.1549, 22.2836), seen  # round(…, 5): about a metre
    assert "轉介業主" not in str(seen)  # the staff note stays with the staff
    own = client.get(f"/api/public/reports/{tracking}", headers={"X-Report-Key": key}).json()
    assert (own["lon"], own["lat"]) == DOORWAY and own["outcome"] == "not_taken_up"

    request = client.get(f"/open311/v2/requests/{tracking}.json").json()[0]
    assert request["status"] == "closed" and request["status_notes"] == f"不予立案 (not taken up): {REASON}", request
    assert (request["long"], request["lat"]) == (114.1549, 22.2836), request
    listed = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert all(len(str(r["lat"]).split(".")[-1]) <= 5 for r in listed), listed

    for lang, words in (("zh", "结案（不予立案）"), ("en", "closed – not taken up")):
        page = client.get(f"/report/{tracking}", params={"lang": lang})
        assert page.status_code == 200 and words in page.text, lang

    fixed, fixed_case, _ = _report(client, city, PEEL_STREET)  # the same office, a case it did handle
    for step in ("立案", "派遣", "处置", "核查", "结案"):
        assert _move(client, city, fixed_case, step).status_code == 200, step
    done = client.get(f"/api/public/reports/{fixed}").json()
    assert (done["outcome"], done["outcome_reason"]) == ("handled", None), done
    assert client.get(f"/open311/v2/requests/{fixed}.json").json()[0]["status_notes"] is None


def _street_11(city) -> dict:
    """The bulletin's figures of street 11 over the last and next day (so they stand as of now)."""
    now = datetime.now(UTC)
    with psycopg2.connect(city.url) as conn:
        figures = period_figures(conn, Period("week", now - timedelta(days=1), now + timedelta(days=1)))
    return figures["streets"]["11"].as_dict()


def test_unsatisfied_with_a_rejection_sends_it_back_for_a_fresh_decision(hk_server, hk, client):
    """The reporter's 不满意 with a 不予立案 takes the case back to 受理 (the office may then file it or turn it
    down again), not to 处置; the rating is left out of street 11's satisfaction; filed afterwards, the bulletin
    counts it filed."""
    city = hk_server
    tracking, case, key = _report(client, city, QUEENS_ROAD)
    _reject(client, city, case)
    before = _street_11(city)
    rated = client.post(f"/api/public/reports/{tracking}/rating",
                        json={"rating": "不满意", "reason": "明明是公共後巷", "key": key})
    assert rated.status_code == 201, rated.text
    assert (rated.json()["reopened"], rated.json()["status"]) == (True, "受理"), rated.text
    steps = [(s["from"], s["to"]) for s in client.get(f"/api/public/reports/{tracking}").json()["steps"]]
    assert steps[-2:] == [("受理", "结案"), ("结案", "受理")], steps
    detail = client.get(f"/api/complaints/{case}", headers=_staff(city)).json()
    assert detail["actions"]["steps"] == ["立案", "结案"], detail["actions"]

    satisfaction = client.get("/api/satisfaction", params={"street": "11"}, headers=_staff(city)).json()["items"]
    assert sum(row["不满意"] for row in satisfaction) == 0, satisfaction  # it judged no handling by the unit

    assert _street_11(city)["filed"] == before["filed"]  # back in 受理: still not filed
    assert _move(client, city, case, "立案").status_code == 200
    assert _street_11(city)["filed"] == before["filed"] + 1


def test_a_photo_with_a_wrong_challenge_is_refused_naming_challenge(hk_server, hk, client):
    """A photo sent to someone else's report (a wrong challenge): 403 worded "challenge: …" like every refusal."""
    tracking, _, _ = _report(client, hk_server, SHEUNG_WAN, category="暴露垃圾")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(photo, "JPEG")
    sent = client.post(f"/api/public/reports/{tracking}/photos", data={"challenge": "wrong"},
                       files={"file": ("ok.jpg", photo.getvalue(), "image/jpeg")})
    assert sent.status_code == 403 and sent.json()["detail"].startswith("challenge: "), sent.text


@pytest.mark.browser
def test_the_tracking_page_says_not_taken_up_and_why_at_phone_width(hk_server, hk, client, browser):
    """On the resident's phone the turned-down report reads 不予立案 with the unit's reason — in Chinese, and
    with ?lang=en in English — and not only 结案, which a resident reads as fixed."""
    city = hk_server
    tracking, case, _ = _report(client, city, (QUEENS_ROAD[0] + 0.002, QUEENS_ROAD[1]))
    _reject(client, city, case)
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        for lang, words in (("zh", ["结案（不予立案）", "并非问题已处理", f"理由：{REASON}"]),
                            ("en", ["closed – not taken up", "does not mean the problem was fixed",
                                    f"Reason: {REASON}"])):
            page = browser.open(city.base + f"/report/{tracking}?lang={lang}", ready_js="!!document.body.dataset.status")
            assert not page.timed_out and page.console_errors == [], page.console_errors
            shown = browser.evaluate("document.body.innerText")
            assert all(w in shown for w in words), (lang, shown)
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
