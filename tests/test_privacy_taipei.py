"""Privacy audit on Taipei (tenth session): a resident's number, words and report key, from the report to the log.

Taipei from nothing — its districts (the street offices, 區公所) and villages (里) — served by ``hygiene-map serve``
with its log in a file of the test's. A resident of 大同區 reports with a phone number and her address in her words;
大同區's office answers her, 中山區's office is another street's.
"""

from __future__ import annotations

import httpx
import pytest

from tests.real_city import TAIPEI_STREET, new_city
from tests.test_privacy_newyork import logged, serve_logged

OTHER_STREET = "6300400"  # 中山區
PHONE = "0912-345-678"
WORDS = "重慶北路二段五號三樓門口垃圾堆了一週，王小姐"


@pytest.fixture(scope="module")
def taipei_private(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages; an admin and two offices' tokens; served, logged."""
    files = ("taipei_districts_town.geojson", "taipei_villages_li.geojson")
    with new_city(pg_server, tmp_path_factory, "taipei", files) as city:
        city.cli("import", "admin_areas", files[0], "--level", "district", "--code-field", "CPID", "--name-field", "TNAME")
        city.cli("import", "admin_areas", files[0], "--level", "street", "--code-field", "CPTID", "--name-field",
                 "TNAME", "--parent-field", "CPID", "--source", "taipei_district_offices")
        city.cli("import", "admin_areas", files[1], "--level", "community", "--code-field", "CPTVID", "--name-field",
                 "VNAME", "--parent-field", "CPTID")
        city.tokens = {who: city.cli("users", "add", f"tp-{who}", "--role", "street", "--street", street)
                       .stdout.split()[-1] for who, street in (("datong", TAIPEI_STREET), ("zhongshan", OTHER_STREET))}
        city.tokens["planner"] = city.cli("users", "add", "tp-planner", "--role", "planner").stdout.split()[-1]
        city.log_file = city.work / "server.log"
        proc, city.base = serve_logged(city, city.log_file, HYGIENE_MAP_PUBLIC_POW_BITS="0")
        try:
            yield city
        finally:
            proc.terminate()
            proc.wait(15)


def _get(city, path: str, who: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {city.tokens[who]}"} if who else {}
    return httpx.get(city.base + path, headers={**headers, **kwargs.pop("headers", {})}, timeout=60, **kwargs)


def test_a_residents_number_words_and_key_reach_only_her_office_and_never_the_log(taipei_private):
    city = taipei_private
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_areas "
                        "WHERE level = 'community' AND parent_code = %s ORDER BY code LIMIT 1", (TAIPEI_STREET,))[0]
    key = httpx.get(city.base + "/api/public/challenge", timeout=30).json()["challenge"]
    made = httpx.post(city.base + "/api/public/reports", timeout=30, json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "description": WORDS, "phone": PHONE, "challenge": key,
        "nonce": "0"})
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    case = city.one("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))
    # She follows it with her key; a careless client repeating it in the query string is refused, the key unsaid.
    own = _get(city, f"/api/public/reports/{tracking}", headers={"X-Report-Key": key})
    assert own.json()["description"] == WORDS and own.json()["reporter"] is True
    careless = _get(city, f"/api/public/reports/{tracking}", headers={"X-Report-Key": key}, params={"report_key": key})
    assert careless.status_code == 422 and "no parameter 'report_key'" in careless.json()["detail"], careless.text
    assert key not in careless.text and WORDS not in careless.text
    rating = httpx.post(city.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                        json={"rating": "满意", "key": key})
    assert rating.status_code == 409  # not closed yet: refused, and the key is not in the log either
    # Her office reads her number; another office, the public and Open311 do not.
    contacts = _get(city, f"/api/complaints/{case}/contacts", "datong")
    assert [r["phone"] for r in contacts.json()["reports"]] == [PHONE]
    assert "no-store" in contacts.headers["cache-control"]
    others = [_get(city, f"/api/complaints/{case}/contacts", "zhongshan"), _get(city, f"/api/complaints/{case}"),
              _get(city, f"/api/complaints/{case}", "zhongshan"), _get(city, f"/api/public/reports/{tracking}"),
              _get(city, "/open311/v2/requests.json"), _get(city, f"/open311/v2/requests/{tracking}.xml"),
              _get(city, "/api/complaints", "zhongshan", params={"q": "重慶北路"})]
    assert [r.status_code for r in others] == [403, 200, 200, 200, 200, 200, 200]
    assert not any(PHONE in r.text or "王小姐" in r.text for r in others)
    # A planner reads maps and figures, not her number: told so (not that planners "read everything").
    planner = _get(city, f"/api/complaints/{case}/contacts", "planner")
    assert planner.status_code == 403 and PHONE not in planner.text
    assert "reads no complainant's contact" in planner.json()["detail"]
    assert "不能查看投诉人联系方式" in planner.json()["detail_zh"]
    # Her office finds the case by her words; the log keeps neither them, her number nor her key.
    found = _get(city, "/api/complaints", "datong", params={"q": "重慶北路"}).json()["items"]
    assert [i["id"] for i in found] == [case]
    assert logged(city, "/api/complaints", 2) and logged(city, f"/api/public/reports/{tracking}")
    log = city.log_file.read_text(errors="replace")
    assert all(secret not in log for secret in (PHONE, key, "重慶北路", "王小姐", *city.tokens.values()))


def test_a_residents_reason_for_not_being_satisfied_reaches_only_her_office(taipei_private):
    """不满意 sends the case back (返工) with her reason — her own words, perhaps her name and number. Her office
    reads it with her report; the case's history (read by every staff user) says only that she was not."""
    city = taipei_private
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_areas "
                        "WHERE level = 'community' AND parent_code = %s ORDER BY code OFFSET 1 LIMIT 1",
                        (TAIPEI_STREET,))[0]
    key = httpx.get(city.base + "/api/public/challenge", timeout=30).json()["challenge"]
    made = httpx.post(city.base + "/api/public/reports", timeout=30, json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "challenge": key, "nonce": "0"})
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    case = city.one("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))
    for status in ("立案", "派遣", "处置", "核查", "结案"):
        moved = httpx.patch(city.base + f"/api/complaints/{case}", timeout=30, json={"status": status, "note": "已清運"},
                            headers={"Authorization": f"Bearer {city.tokens['datong']}"})
        assert moved.status_code == 200, moved.text
    reason = "還是很髒，我是林先生 0922-111-222，住三樓"
    rated = httpx.post(city.base + f"/api/public/reports/{tracking}/rating", timeout=30,
                       json={"rating": "不满意", "reason": reason, "key": key})
    assert rated.status_code == 201 and rated.json()["reopened"] is True, rated.text
    for who in ("zhongshan", None):
        seen = _get(city, f"/api/complaints/{case}", who)
        assert seen.status_code == 200 and seen.json()["status"] == "处置"
        assert "林先生" not in seen.text and "0922" not in seen.text, who
    own = _get(city, f"/api/complaints/{case}", "datong").json()
    assert own["events"][-1]["note"] == "返工：群众评价不满意（理由见群众反映）"
    contacts = _get(city, f"/api/complaints/{case}/contacts", "datong").json()["reports"]
    assert [(r["rating"]["rating"], r["rating"]["reason"]) for r in contacts] == [("不满意", reason)]
