"""Complaint deadlines set and extended (限期整改 / 延期申请与审批), on the small demo and on Yantai from nothing.

A street office asks the campaign office (创卫办, role admin) for more time; the office approves (the deadline
moves, the complaint is no longer overdue, the bulletin's overdue count follows) or rejects (the deadline stays),
or sets a deadline itself. Every request, decision and change is in the complaint's history with who and when;
the reasons are staff text and never reach the public channel nor Open311.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from data.db import connect
from layers.workflow.access import add_user
from layers.workflow.deadlines import LAPSED_NOTE
from tests.real_city import yantai  # noqa: F401  (the city from nothing, for the Yantai test)
from tests.test_public import _complaint_id, _report, public_city
from tests.yantai_street import GPS, STREET, city  # noqa: F401

STAFF, OTHER, OFFICE, PLANNER = "王街道员", "李外街员", "赵管理员", "钱规划员"
#: Staff text with a marker no public answer may carry.
REASON = "雨天清运车辆不足，需协调环卫所 DL-REASON-7f3a"
NOTE = "已核实，同意延期 DL-NOTE-91c2"


@pytest.fixture(scope="module")
def demo(module_demo):
    """A writable small demo: a street user, one of another street, the campaign office and a planner."""
    facts = public_city(module_demo)
    conn = connect(url=module_demo)
    _, facts["tokens"][PLANNER] = add_user(conn, PLANNER, "planner", created_by="test")
    conn.commit()
    conn.close()
    return facts


@pytest.fixture
def client(demo, env_for, monkeypatch):
    from api.app import create_app

    env_for(demo["url"])
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "8")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _auth(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}"} if who else {}


def _file(client, tokens, who, lon, lat, days_ago=10) -> dict:
    """A complaint reported ``days_ago`` days ago (past its deadline when that is longer than the time limit)."""
    reported = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    r = client.post("/api/complaints", json={"lon": lon, "lat": lat, "category": "暴露垃圾", "source": "12345",
                                             "reported_at": reported}, headers=_auth(tokens, who))
    assert r.status_code == 201, r.text
    return r.json()


def _ask(client, tokens, who, complaint_id, due, reason=REASON, **headers):
    due = due.isoformat() if isinstance(due, datetime) else due
    return client.post(f"/api/complaints/{complaint_id}/deadline/requests", json={"due_at": due, "reason": reason},
                       headers={**_auth(tokens, who), **headers})


def _decide(client, tokens, who, complaint_id, request_id, decision, note=None):
    return client.post(f"/api/complaints/{complaint_id}/deadline/requests/{request_id}/decision",
                       json={"decision": decision, "note": note}, headers=_auth(tokens, who))


def _get(client, tokens, complaint_id, who) -> dict:
    r = client.get(f"/api/complaints/{complaint_id}", headers=_auth(tokens, who))
    assert r.status_code == 200, r.text
    return r.json()


def _ids(client, tokens, who, **params) -> set[int]:
    r = client.get("/api/complaints", params={"limit": 1000, **params}, headers=_auth(tokens, who))
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def _overdue_in_bulletin(client, street, reported_at) -> int:
    """The bulletin's open-and-overdue count of ``street`` for this month, in which the decision is made (the
    complaint, reported before, is open at its end); a month ended before the decision keeps the deadline as it
    stood at its end (tests/test_office_rectification.py)."""
    assert datetime.fromisoformat(reported_at) < datetime.now(UTC)
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    r = client.get("/api/reports/bulletin", params={"period": "month", "date": month})
    assert r.status_code == 200, r.text
    return next(row["overdue_at_end"] for row in r.json()["streets"] if row["code"] == street)


def _same_instant(a: str, b: datetime) -> bool:
    return datetime.fromisoformat(a) == b


def _extension_is_approved_and_counted(client, tokens, street, lon, lat, staff, office, outsider):
    """The whole path a street office and the campaign office take; shared by the demo and Yantai."""
    c = _file(client, tokens, staff, lon, lat)
    assert c["street_code"] == street and _get(client, tokens, c["id"], office)["overdue"] is True
    before = _overdue_in_bulletin(client, street, c["reported_at"])
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)

    assert _ask(client, tokens, outsider, c["id"], due).status_code == 403  # another street's office
    asked = _ask(client, tokens, staff, c["id"], due)
    assert asked.status_code == 201, asked.text
    pending = asked.json()["deadline_request"]
    assert _same_instant(pending["due_after"], due) and pending["reason"] == REASON and pending["actor"]
    assert asked.json()["due_at"] == c["due_at"]  # nothing moves before the decision
    assert c["id"] in _ids(client, tokens, office, pending_extension="true", street=street)
    assert c["id"] not in _ids(client, tokens, office, pending_extension="false", street=street)

    again = _ask(client, tokens, staff, c["id"], due + timedelta(days=1))
    assert again.status_code == 409 and str(pending["id"]) in again.json()["detail"], again.text
    own = _decide(client, tokens, staff, c["id"], pending["id"], "approve")
    assert own.status_code == 403 and "campaign office" in own.json()["detail"], own.text

    approved = _decide(client, tokens, office, c["id"], pending["id"], "approve", NOTE)
    assert approved.status_code == 200, approved.text
    after = approved.json()
    assert _same_instant(after["due_at"], due) and after["overdue"] is False and after["deadline_request"] is None
    assert c["id"] not in _ids(client, tokens, office, overdue="true", street=street)
    assert c["id"] not in _ids(client, tokens, office, pending_extension="true", street=street)
    assert _overdue_in_bulletin(client, street, c["reported_at"]) == before - 1
    twice = _decide(client, tokens, office, c["id"], pending["id"], "reject", "迟了")
    assert twice.status_code == 409 and "decided already" in twice.json()["detail"]
    kinds = [(h["kind"], h["request_id"]) for h in _get(client, tokens, c["id"], office)["deadline_changes"]]
    assert kinds == [("request", None), ("approve", pending["id"])]
    return c


def test_request_then_approval_moves_the_deadline_and_the_bulletin_follows(client, demo):
    _extension_is_approved_and_counted(client, demo["tokens"], demo["street"], demo["lon"], demo["lat"],
                                       STAFF, OFFICE, OTHER)


def test_a_rejection_needs_a_note_and_keeps_the_deadline(client, demo):
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][0])
    request_id = _ask(client, tokens, STAFF, c["id"], datetime.now(UTC) + timedelta(days=2)).json()[
        "deadline_request"]["id"]
    bare = _decide(client, tokens, OFFICE, c["id"], request_id, "reject")
    assert bare.status_code == 422 and bare.json()["detail"].startswith("note:"), bare.text
    rejected = _decide(client, tokens, OFFICE, c["id"], request_id, "reject", "理由不充分")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["due_at"] == c["due_at"] and rejected.json()["overdue"] is True
    assert c["id"] in _ids(client, tokens, OFFICE, overdue="true", street=demo["street"])
    history = rejected.json()["deadline_changes"]
    assert [h["kind"] for h in history] == ["request", "reject"]
    assert history[1]["request_id"] == request_id and history[1]["reason"] == "理由不充分"
    assert all(h["actor"] and h["at"] for h in history) and {h["actor"] for h in history} == {STAFF, OFFICE}
    # Rejected, the street may ask again.
    assert _ask(client, tokens, STAFF, c["id"], datetime.now(UTC) + timedelta(days=4)).status_code == 201
    wrong = _decide(client, tokens, OFFICE, c["id"], request_id + 1000, "approve")
    assert wrong.status_code == 404, wrong.text


def test_who_may_ask_and_who_may_decide(client, demo):
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][1])
    due = datetime.now(UTC) + timedelta(days=2)
    outsider = _ask(client, tokens, OTHER, c["id"], due)
    assert outsider.status_code == 403 and demo["street"] in outsider.json()["detail"], outsider.text
    assert _ask(client, tokens, PLANNER, c["id"], due).status_code == 403
    assert _ask(client, tokens, None, c["id"], due).status_code == 401
    put = client.put(f"/api/complaints/{c['id']}/deadline", json={"due_at": due.isoformat(), "reason": "限期整改"},
                     headers=_auth(tokens, STAFF))
    assert put.status_code == 403 and "campaign office" in put.json()["detail"], put.text
    assert _get(client, tokens, c["id"], OFFICE)["deadline_changes"] == []  # refused writes leave no trace


def test_bad_times_and_reasons_are_422_naming_the_field(client, demo):
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][2], days_ago=0)
    current = datetime.fromisoformat(c["due_at"])
    cases = [(datetime.now(UTC) - timedelta(hours=1), REASON, "due_at:", "past"),
             (current - timedelta(minutes=30), REASON, "due_at:", "not later than the current deadline"),
             ("tomorrow", REASON, "due_at:", "ISO 8601"),
             ("2026-13-01T08:00", REASON, "due_at:", "ISO 8601"),
             (current + timedelta(days=1), "   ", "reason:", ""),
             (current + timedelta(days=1), "a\x00b", "reason:", "NUL")]
    for due, reason, field, words in cases:
        r = _ask(client, tokens, STAFF, c["id"], due, reason)
        assert r.status_code == 422 and r.json()["detail"].startswith(field) and words in r.json()["detail"], (due, r.text)
    # Times said as a street office reads them: the city's (+08:00), to the minute, not UTC with microseconds.
    past = _ask(client, tokens, STAFF, c["id"], datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=1))
    assert re.fullmatch(r"due_at：\d{4}-\d\d-\d\dT\d\d:\d\d\+08:00 已过去：期限须晚于判定超期的时间 "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d\+08:00", past.json()["detail_zh"]), past.text
    missing = client.post(f"/api/complaints/{c['id']}/deadline/requests", json={"due_at": current.isoformat()},
                          headers=_auth(tokens, STAFF))
    assert missing.status_code == 422 and missing.json()["detail"].startswith("reason:"), missing.text
    # A time without a zone is the city's time (Asia/Shanghai in the demo).
    wall = (current + timedelta(days=5)).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    r = _ask(client, tokens, STAFF, c["id"], wall.isoformat())
    assert r.status_code == 201, r.text
    assert _same_instant(r.json()["deadline_request"]["due_after"], wall.replace(tzinfo=ZoneInfo("Asia/Shanghai")))
    bad = client.get("/api/complaints", params={"pending_extension": "maybe"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("pending_extension:"), bad.text
    bad = _decide(client, tokens, OFFICE, c["id"], r.json()["deadline_request"]["id"], "accept")
    assert bad.status_code == 422 and bad.json()["detail"].startswith("decision:"), bad.text


def test_refusals_say_it_in_chinese_beside_the_unchanged_english(client, demo):
    """Each refusal of the deadline and case workflow answers its English (scripts and pages match on it) and,
    beside it, the same in Chinese for Chinese pages: the same ids, times, statuses and parameter."""
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][1], days_ago=0)
    due = (datetime.fromisoformat(c["due_at"]) + timedelta(days=2)).replace(microsecond=0)
    first = _ask(client, tokens, STAFF, c["id"], due).json()["deadline_request"]
    again = _ask(client, tokens, STAFF, c["id"], due + timedelta(days=1)).json()
    # Said in the city's time (Yantai: +08:00), to the minute, as the pages show times.
    when = datetime.fromisoformat(first["due_after"]).astimezone(timezone(timedelta(hours=8))).isoformat("T", "minutes")
    assert again == {"detail": f"complaint {c['id']} has extension request {first['id']} awaiting the campaign "
                               f"office's decision (to {when}, asked by {STAFF}): one request at a time",
                     "detail_zh": f"投诉 {c['id']} 的延期申请 {first['id']}（延至 {when}，{STAFF} 申请）正等待创卫办审批："
                                  "一次只能有一个申请"}, again
    bare = _decide(client, tokens, OFFICE, c["id"], first["id"], "reject").json()
    assert bare == {"detail": "note: rejecting an extension request needs a note saying why",
                    "detail_zh": "note：驳回延期申请须在备注中写明原因"}, bare
    skip = client.patch(f"/api/complaints/{c['id']}", json={"status": "处置"}, headers=_auth(tokens, STAFF))
    assert skip.status_code == 409 and skip.json() == {
        "detail": f"complaint {c['id']}: cannot go from 受理 to 处置; allowed next: 立案, 结案",
        "detail_zh": f"投诉 {c['id']}：不能从受理转到处置；下一步只能是：立案、结案"}, skip.text
    gone = client.get("/api/complaints/987654321", headers=_auth(tokens, STAFF))
    assert gone.status_code == 404 and gone.json() == {"detail": "no complaint with id 987654321",
                                                       "detail_zh": "没有编号为 987654321 的投诉"}, gone.text


def test_a_closed_complaint_cannot_be_extended(client, demo):
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][3])
    waiting = _ask(client, tokens, STAFF, c["id"], datetime.now(UTC) + timedelta(days=2)).json()["deadline_request"]
    closed = client.patch(f"/api/complaints/{c['id']}", json={"status": "结案", "note": "不予立案：重复"},
                          headers=_auth(tokens, STAFF))
    assert closed.status_code == 200, closed.text
    late = _ask(client, tokens, STAFF, c["id"], datetime.now(UTC) + timedelta(days=9))
    assert late.status_code == 409 and "closed" in late.json()["detail"], late.text
    # The request waiting since before the close lapsed with it (rejected by the closing, its note says so): it
    # waits for no decision in the campaign office's list.
    approve = _decide(client, tokens, OFFICE, c["id"], waiting["id"], "approve")
    assert approve.status_code == 409 and "decided already" in approve.json()["detail"], approve.text
    listed = client.get("/api/complaints", params={"pending_extension": "true"}, headers=_auth(tokens, OFFICE))
    assert c["id"] not in [i["id"] for i in listed.json()["items"]]
    shown = _get(client, tokens, c["id"], OFFICE)
    lapsed = [h for h in shown["deadline_changes"] if h["kind"] == "reject"]
    assert [(h["request_id"], h["reason"]) for h in lapsed] == [(waiting["id"], LAPSED_NOTE)], shown
    assert shown["deadline_request"] is None


def test_the_campaign_office_sets_a_deadline_directly(client, demo):
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][4])
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    url = f"/api/complaints/{c['id']}/deadline"
    bare = client.put(url, json={"due_at": due.isoformat(), "reason": ""}, headers=_auth(tokens, OFFICE))
    assert bare.status_code == 422 and bare.json()["detail"].startswith("reason:"), bare.text
    done = client.put(url, json={"due_at": due.isoformat(), "reason": "限期整改：创卫复查前完成"},
                      headers=_auth(tokens, OFFICE))
    assert done.status_code == 200, done.text
    assert _same_instant(done.json()["due_at"], due) and done.json()["overdue"] is False
    # Earlier than now is refused; earlier than the current deadline is the office's call.
    past = client.put(url, json={"due_at": "2020-01-01T08:00", "reason": "x"}, headers=_auth(tokens, OFFICE))
    assert past.status_code == 422 and past.json()["detail"].startswith("due_at:"), past.text
    sooner = client.put(url, json={"due_at": (due - timedelta(hours=12)).isoformat(), "reason": "提前"},
                        headers=_auth(tokens, OFFICE))
    assert sooner.status_code == 200, sooner.text
    history = sooner.json()["deadline_changes"]
    assert [(h["kind"], h["actor"]) for h in history] == [("set", OFFICE), ("set", OFFICE)]
    assert history[0]["due_before"] == c["due_at"] and history[1]["due_before"] == history[0]["due_after"]


def test_a_retried_request_is_answered_once(client, demo):
    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][5])
    due = datetime.now(UTC) + timedelta(days=2)
    first = _ask(client, tokens, STAFF, c["id"], due, **{"Idempotency-Key": "dl-retry-1"})
    retry = _ask(client, tokens, STAFF, c["id"], due, **{"Idempotency-Key": "dl-retry-1"})
    assert first.status_code == retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == retry.json() and len(_get(client, tokens, c["id"], OFFICE)["deadline_changes"]) == 1


def test_the_deadline_history_cannot_be_rewritten_and_goes_with_its_complaint(client, demo):
    """As the status history: no UPDATE or DELETE of a row, even by SQL; removing the complaint takes it along."""
    import psycopg2

    tokens = demo["tokens"]
    c = _file(client, tokens, STAFF, *demo["street_points"][7])
    assert _ask(client, tokens, STAFF, c["id"], datetime.now(UTC) + timedelta(days=2)).status_code == 201
    conn = connect(url=demo["url"])
    try:
        for statement in ("UPDATE complaint_deadlines SET reason = 'x' WHERE complaint_id = %s",
                          "DELETE FROM complaint_deadlines WHERE complaint_id = %s"):
            with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cur:
                cur.execute(statement, (c["id"],))
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute("DELETE FROM complaints WHERE id = %s", (c["id"],))
            cur.execute("SELECT count(*) FROM complaint_deadlines WHERE complaint_id = %s", (c["id"],))
            assert cur.fetchone()[0] == 0
        conn.commit()
    finally:
        conn.close()


def test_a_reimported_hotline_export_keeps_the_approved_deadline(client, demo, tmp_path):
    """The next day's export of the same 12345 work orders carries the original deadlines: an approved extension
    stays, while a work order nobody extended takes the file's new deadline as before."""
    from data.db import transaction
    from layers.io.importing import import_file
    from layers.io.options import ImportOptions

    tokens, (lon, lat), zone = demo["tokens"], demo["street_points"][8], ZoneInfo("Asia/Shanghai")
    reported = (datetime.now(UTC) - timedelta(days=10)).astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    path = tmp_path / "12345-export.csv"

    def load(due_of_second: datetime) -> dict[str, tuple[int, datetime]]:
        path.write_text("工单编号,问题类型,上报时间,处置时限,经度,纬度\n"
                        f"DL-1,暴露垃圾,{reported:%Y-%m-%d %H:%M},{reported + timedelta(days=1):%Y-%m-%d %H:%M},{lon},{lat}\n"
                        f"DL-2,暴露垃圾,{reported:%Y-%m-%d %H:%M},{due_of_second:%Y-%m-%d %H:%M},{lon},{lat}\n",
                        encoding="utf-8")
        conn = connect(url=demo["url"])
        try:
            with transaction(conn):
                import_file(conn, path, ImportOptions("complaints", id_field="工单编号"))
            with conn.cursor() as cur:
                cur.execute("SELECT source_id, id, due_at FROM complaints WHERE source = %s", (path.name,))
                return {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        finally:
            conn.close()

    first = load(reported + timedelta(days=1))
    complaint_id = first["DL-1"][0]
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    request_id = _ask(client, tokens, STAFF, complaint_id, due).json()["deadline_request"]["id"]
    assert _decide(client, tokens, OFFICE, complaint_id, request_id, "approve", NOTE).status_code == 200
    again = load(reported + timedelta(days=2))
    assert again["DL-1"] == (complaint_id, due)  # the decision stands
    assert again["DL-2"][1] == (reported + timedelta(days=2)).replace(tzinfo=zone)  # the file's, as before
    assert _get(client, tokens, complaint_id, OFFICE)["overdue"] is False


def test_reasons_stay_off_public_routes_and_open311(client, demo):
    """Residents follow their report; they see its deadline move, never the staff's reasons nor names."""
    tokens = demo["tokens"]
    lon, lat = demo["street_points"][6]
    reported = _report(client, lon + 0.0001, lat)
    assert reported.status_code == 201, reported.text
    tracking = reported.json()["tracking"]
    complaint_id = _complaint_id(demo, tracking)
    due = (datetime.now(UTC) + timedelta(days=6)).replace(microsecond=0)
    request_id = _ask(client, tokens, STAFF, complaint_id, due).json()["deadline_request"]["id"]
    assert _decide(client, tokens, OFFICE, complaint_id, request_id, "approve", NOTE).status_code == 200
    public = [f"/api/public/reports/{tracking}", f"/report/{tracking}", f"/open311/v2/requests/{tracking}.json",
              f"/open311/v2/requests/{tracking}.xml", "/open311/v2/requests.json"]
    for path in public:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        for secret in (REASON, NOTE, "DL-", STAFF, OFFICE):
            assert secret not in r.text, (path, secret)
    assert _same_instant(client.get(f"/api/public/reports/{tracking}").json()["due_at"], due)
    expected = client.get(f"/open311/v2/requests/{tracking}.json").json()[0]["expected_datetime"]
    assert _same_instant(expected, due)
    # Anonymous readers of the staff API see that the deadline changed and when, not who nor why.
    seen = client.get(f"/api/complaints/{complaint_id}").json()
    assert [h["kind"] for h in seen["deadline_changes"]] == ["request", "approve"]
    assert all("reason" not in h and "actor" not in h for h in seen["deadline_changes"])
    assert REASON in client.get(f"/api/complaints/{complaint_id}", headers=_auth(tokens, PLANNER)).text


def test_yantai_from_nothing_street_office_asks_and_campaign_office_decides(city, env_for):
    """向阳街道 on Yantai's real Gaode outlines: its office asks, 黄海路街道's cannot, the office approves."""
    from api.app import create_app

    env_for(city.url)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        c = _extension_is_approved_and_counted(client, city.tokens, STREET, *GPS, "street", "admin", "other")
        asked = _ask(client, city.tokens, "inspector", c["id"], datetime.now(UTC) + timedelta(days=5))
        assert asked.status_code == 201, asked.text  # an inspector of the street handles its complaints too
        planner = _decide(client, city.tokens, "planner", c["id"], asked.json()["deadline_request"]["id"], "approve")
        assert planner.status_code == 403, planner.text
        # The street closes the case with the inspector's request still waiting: the request lapses with it.
        closed = client.patch(f"/api/complaints/{c['id']}", json={"status": "结案", "note": "已清理"},
                              headers=_auth(city.tokens, "street"))
        assert closed.status_code == 200, closed.text
    rows = city.sql("SELECT kind, actor, reason FROM complaint_deadlines WHERE complaint_id = %s ORDER BY id",
                    (c["id"],))
    assert [r[:2] for r in rows] == [("request", "yt-street"), ("approve", "yt-admin"), ("request", "yt-inspector"),
                                     ("reject", "yt-street")]
    assert rows[-1][2] == LAPSED_NOTE
