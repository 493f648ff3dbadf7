"""明察暗访 (issue 15): rounds, findings routed like complaints, rectification and re-check, access, over HTTP
against a real PostGIS (a module copy of the small demo city)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from data.db import connect
from tests.inspecting import (  # noqa: F401 (fixtures)
    OTHER_STREET,
    OWN_STREET,
    auth,
    city_fixture,
    client_fixture,
    new_round,
    photo_bytes,
    post_finding,
    query,
    upload,
)


def patch(client, city, finding_id, status, user, note=None):
    return client.patch(f"/api/inspections/findings/{finding_id}", json={"status": status, "note": note},
                        headers=auth(city, user))


def test_rounds_are_opened_by_admins_only(client, city):
    made = new_round(client, city)
    assert made["kind"] == "月度暗访" and made["streets"] == [OWN_STREET, OTHER_STREET]
    body = {"name": "x", "kind": "周检查", "starts": "2026-11-01", "ends": "2026-11-08", "streets": [OWN_STREET]}
    for name, expected in ((None, 401), ("planner1", 403), ("street1", 403), ("inspector2", 403)):
        assert client.post("/api/inspections/rounds", json=body, headers=auth(city, name)).status_code == expected
    bad = client.post("/api/inspections/rounds", json={**body, "ends": "2026-10-01"}, headers=auth(city, "admin1"))
    assert bad.status_code == 422 and "ends" in bad.text
    unknown = client.post("/api/inspections/rounds", json={**body, "streets": ["379909999"]},
                          headers=auth(city, "admin1"))
    assert unknown.status_code == 404 and "379909999" in unknown.text
    listed = client.get("/api/inspections/rounds").json()["items"]
    assert made["id"] in [r["id"] for r in listed]


def test_finding_is_routed_and_a_retry_returns_the_same_one(client, city):
    the_round = new_round(client, city)
    observed = datetime.now(UTC) - timedelta(hours=2)
    first = post_finding(client, city, the_round["id"], client_id="phone-1-abc", observed=observed)
    assert first.status_code == 201, first.text
    found = first.json()
    unit = query(city["url"], "SELECT responsible_unit FROM grids WHERE code = %s", (city["grid"]["own"],))[0][0]
    assert (found["grid_code"], found["street_code"], found["unit"], found["status"]) == \
        (city["grid"]["own"], OWN_STREET, unit, "待整改")
    # TLT-01 gives a day to rectify (data/checklist.csv).
    assert datetime.fromisoformat(found["due_at"]) == observed + timedelta(days=1)
    again = post_finding(client, city, the_round["id"], client_id="phone-1-abc", observed=observed)
    assert again.status_code == 200 and again.json()["id"] == found["id"]
    assert query(city["url"], "SELECT count(*) FROM inspection_findings WHERE client_id = 'phone-1-abc'")[0][0] == 1
    # Another inspector's phone may choose the same client_id: its own finding.
    other = post_finding(client, city, the_round["id"], user="inspector2", client_id="phone-1-abc")
    assert other.status_code == 201 and other.json()["id"] != found["id"]


def test_findings_are_refused_outside_scope_round_and_checklist(client, city):
    the_round = new_round(client, city, streets=(OWN_STREET,))
    rid = the_round["id"]
    outside = post_finding(client, city, rid, grid_key="own2")  # inspector1 holds only the first grid
    assert outside.status_code == 403 and city["grid"]["own2"] in outside.json()["detail"]
    assert post_finding(client, city, rid, user="inspector3").status_code == 403  # another street's inspector
    assert post_finding(client, city, rid, user="street1").status_code == 403  # streets rectify, not record
    assert post_finding(client, city, rid, user="planner1").status_code == 403
    not_in_round = post_finding(client, city, rid, grid_key="other", user="inspector3")
    assert not_in_round.status_code == 422 and OTHER_STREET in not_in_round.text
    early = post_finding(client, city, rid, observed=datetime.now(UTC) - timedelta(days=30))
    assert early.status_code == 422 and "observed_at" in early.text
    unknown = post_finding(client, city, rid, item="NOPE-1")
    assert unknown.status_code == 422 and "NOPE-1" in unknown.text
    missing = post_finding(client, city, 10**9)
    assert missing.status_code == 404
    assert query(city["url"], "SELECT count(*) FROM inspection_findings WHERE round_id = %s", (rid,))[0][0] == 0


def test_rectification_and_recheck_workflow(client, city):
    rid = new_round(client, city)["id"]
    finding = post_finding(client, city, rid).json()
    fid = finding["id"]
    other_street = patch(client, city, fid, "已整改", "street2")
    assert other_street.status_code == 403, other_street.text
    assert patch(client, city, fid, "已整改", "inspector1").status_code == 403  # inspectors re-check
    assert patch(client, city, fid, "复查通过", "inspector1").status_code == 409  # not rectified yet
    no_photo = patch(client, city, fid, "已整改", "street1", "已清理")
    assert no_photo.status_code == 409 and "after photo" in no_photo.json()["detail"]
    assert upload(client, city, fid, "after", "street1", photo_bytes((10, 200, 10))).status_code == 201
    assert patch(client, city, fid, "已整改", "street1", "已清理").status_code == 200
    assert patch(client, city, fid, "复查通过", "street1").status_code == 403  # the street does not re-check
    assert patch(client, city, fid, "复查通过", "inspector3").status_code == 403  # not its street
    no_note = patch(client, city, fid, "复查未通过", "inspector1")
    assert no_note.status_code == 422 and "note" in no_note.text
    failed = patch(client, city, fid, "复查未通过", "inspector1", "仍有异味")
    assert failed.status_code == 200, failed.text
    failed = failed.json()
    assert failed["status"] == "待整改" and failed["due_at"] > finding["due_at"]
    assert [(e["step"], e["from"], e["to"]) for e in failed["events"]] == [
        (1, None, "待整改"), (2, "待整改", "已整改"), (3, "已整改", "复查未通过"), (4, "复查未通过", "待整改")]
    assert failed["events"][3]["due_at"] == failed["due_at"]
    # The rectifier never re-checks its own work, an admin neither.
    # After a failed re-check, a photo of the new rectification is needed again.
    assert patch(client, city, fid, "已整改", "admin1", "再次清理").status_code == 409
    assert upload(client, city, fid, "after", "admin1", photo_bytes((10, 10, 200))).status_code == 201
    assert patch(client, city, fid, "已整改", "admin1", "再次清理").status_code == 200
    itself = patch(client, city, fid, "复查通过", "admin1")
    assert itself.status_code == 403 and "another user" in itself.json()["detail"]
    passed = patch(client, city, fid, "复查通过", "admin2", "已整改到位")
    assert passed.status_code == 200 and passed.json()["status"] == "复查通过"
    assert patch(client, city, fid, "已整改", "admin1").status_code == 409
    audited = query(city["url"], "SELECT count(*) FROM audit_log WHERE target = %s", (f"inspection_finding:{fid}",))
    assert audited[0][0] == 7  # the finding, two photos and four moves
    conn = connect(url=city["url"])
    with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cur:
        cur.execute("UPDATE inspection_events SET note = 'x' WHERE finding_id = %s", (fid,))
    conn.close()


def test_personal_and_staff_columns_follow_the_column_classes(client, city):
    rid = new_round(client, city)["id"]
    fid = post_finding(client, city, rid).json()["id"]
    url = f"/api/inspections/findings/{fid}"
    anonymous = client.get(url).json()
    assert "description" not in anonymous and "inspector" not in anonymous
    assert all("actor" not in e and "note" not in e for e in anonymous["events"])
    assert "description" not in client.get(url, headers=auth(city, "planner1")).json()
    assert client.get(url, headers=auth(city, "street2")).json()["description"] is None  # another street's row
    assert client.get(url, headers=auth(city, "street1")).json()["description"].startswith("公厕门口")
    staff = client.get(url, headers=auth(city, "admin1")).json()
    assert staff["inspector"] == "inspector1" and staff["events"][0]["actor"] == "inspector1"
    listed = client.get(f"/api/inspections/findings?round={rid}").json()["items"]
    assert [f["id"] for f in listed] == [fid] and "description" not in listed[0]


def test_checklist_lists_items_per_place_type(client):
    answer = client.get("/api/inspections/checklist").json()
    kinds = {p["name"] for p in answer["place_types"]}
    assert kinds == {"农贸市场", "公厕", "垃圾收集点/转运站", "背街小巷", "城中村/城乡结合部", "单位与门店门前三包",
                     "健康步道/公园", "病媒生物"}
    assert {i["place_type"] for i in answer["items"]} == kinds
    for item in answer["items"]:
        assert item["code"] and item["text_zh"] and item["source"] and item["deduction"] >= 0 and item["due_days"] >= 1
        assert item["label"] in ("V", "V (text)", "V (local)", "S", "R", "W")
        assert item["values_label"] == "W" and "working value" not in item["values_label_text"]
    toilets = client.get("/api/inspections/checklist?place_type=公厕&lang=en").json()["items"]
    assert toilets and all(i["place_type"] == "公厕" for i in toilets)
    assert "working value" in toilets[0]["values_label_text"]
    bad = client.get("/api/inspections/checklist?place_type=商场")
    assert bad.status_code == 422 and "place_type" in bad.text


def test_parallel_retries_of_one_client_id_store_one_finding(client, city):
    """The phone's first request is still writing when its retry arrives: the retry waits, then answers it."""
    import threading

    from layers.workflow.access import user_for_token
    from layers.workflow.inspections import record_finding

    rid = new_round(client, city)["id"]
    lon, lat = query(city["url"], "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                                  "WHERE code = %s) s", (city["grid"]["own"],))[0]
    body = {"round_id": rid, "lon": lon, "lat": lat, "item": "VEC-02", "note": "鼠迹",
            "observed_at": datetime.now(UTC) - timedelta(minutes=5), "client_id": "parallel-1"}
    first_conn, second_conn = connect(url=city["url"]), connect(url=city["url"])
    user = user_for_token(first_conn, city["tokens"]["inspector1"])
    first, new = record_finding(first_conn, user, **body)  # not committed yet
    answers = []
    retry = threading.Thread(target=lambda: answers.append(record_finding(second_conn, user, **body)))
    retry.start()
    first_conn.commit()
    retry.join(timeout=60)
    second_conn.commit()
    first_conn.close()
    second_conn.close()
    assert new and answers and answers[0][0]["id"] == first["id"] and answers[0][1] is False
    assert query(city["url"], "SELECT count(*) FROM inspection_findings WHERE client_id = 'parallel-1'")[0][0] == 1
