"""A round planned by mistake (a typo in its name, the wrong kind, streets or dates) is corrected or deleted by the
campaign office, over HTTP and from the command line, against a real PostGIS (a module copy of the small demo city):
corrected while its findings stay inside it and until it has ended with findings, deleted only while it has none,
each refusal naming the round and changing nothing, each change in the audit log with who and why. And a finding
at a point in no street is the documented 422 naming lon/lat, never a 403 about "street None"."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import psycopg2
from click.testing import CliRunner

from api.cli.main import main
from tests.inspecting import (  # noqa: F401 (fixtures)
    OTHER_STREET,
    OWN_STREET,
    auth,
    city_fixture,
    client_fixture,
    new_round,
    post_finding,
    query,
)


def _edit(client, city, round_id, user="admin1", **body):
    return client.patch(f"/api/inspections/rounds/{round_id}", json={"reason": "名称输错", **body},
                        headers=auth(city, user))


def _delete(client, city, round_id, user="admin1", reason="误建"):
    params = {} if reason is None else {"reason": reason}
    return client.delete(f"/api/inspections/rounds/{round_id}", params=params, headers=auth(city, user))


def _audits(city, round_id, action):
    return query(city["url"], "SELECT actor, before, after, detail FROM audit_log WHERE target = %s AND action = %s "
                              "ORDER BY id", (f"inspection_round:{round_id}", action))


def _offered(client, city, user):
    """The ids of the rounds the field page offers ``user`` (its configuration, in the page)."""
    page = client.get("/field", headers=auth(city, user))
    assert page.status_code == 200, page.text
    config = json.loads(re.search(r"<script[^>]*id=\"fd-config\"[^>]*>(.*?)</script>", page.text, re.S).group(1))
    return {r["id"] for r in config["rounds"]}


def test_the_office_corrects_a_round_and_reads_it_back(client, city):
    made = new_round(client, city, streets=(OWN_STREET,), kind="周检查")
    rid = made["id"]
    for user, expected in ((None, 401), ("planner1", 403), ("street1", 403), ("inspector2", 403)):
        assert _edit(client, city, rid, user=user, name="x").status_code == expected
    starts = datetime.now(UTC) - timedelta(days=2)
    fixed = _edit(client, city, rid, name="2026年12月月度暗访", kind="月度暗访", starts=starts.isoformat(),
                  streets=[OWN_STREET, OTHER_STREET])
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["changed"] == ["name", "kind", "unannounced", "starts", "streets"]
    read = client.get(f"/api/inspections/rounds/{rid}", headers=auth(city, "admin1")).json()
    # A new kind without `unannounced` is as that kind usually is: a 月度暗访 is unannounced.
    assert (read["name"], read["kind"], read["unannounced"], read["streets"], read["ends"]) == \
        ("2026年12月月度暗访", "月度暗访", True, [OWN_STREET, OTHER_STREET], made["ends"])
    assert datetime.fromisoformat(read["starts"]) == starts
    (actor, before, after, detail), = _audits(city, rid, "inspection.round.edit")
    assert (actor, before["name"], after["name"], detail) == ("admin1", made["name"], "2026年12月月度暗访",
                                                              {"reason": "名称输错"})
    # Refusals with the field they name, nothing changed.
    assert _edit(client, city, rid, ends=(starts - timedelta(days=1)).isoformat()).status_code == 422
    unknown = _edit(client, city, rid, streets=["379909999"])
    assert unknown.status_code == 404 and "379909999" in unknown.text
    nothing = client.patch(f"/api/inspections/rounds/{rid}", json={"reason": "x"}, headers=auth(city, "admin1"))
    assert nothing.status_code == 422 and "name" in nothing.json()["detail"]
    assert client.get(f"/api/inspections/rounds/{rid}", headers=auth(city, "admin1")).json() == read
    assert len(_audits(city, rid, "inspection.round.edit")) == 1


def test_a_correction_that_would_leave_out_a_finding_is_refused_and_changes_nothing(client, city):
    made = new_round(client, city, kind="周检查")
    rid = made["id"]
    observed = datetime.now(UTC) - timedelta(hours=3)
    assert post_finding(client, city, rid, grid_key="other", user="inspector3", observed=observed).status_code == 201
    for body, field, words in (({"streets": [OWN_STREET]}, "streets", OTHER_STREET),
                               ({"starts": (observed + timedelta(hours=1)).isoformat()}, "starts", "start"),
                               ({"ends": (observed - timedelta(hours=1)).isoformat(),
                                 "starts": (observed - timedelta(days=1)).isoformat()}, "ends", "end")):
        refused = _edit(client, city, rid, **body)
        assert refused.status_code == 409, refused.text
        answer = refused.json()
        assert answer["detail"].startswith(f"{field}: round {rid} ({made['name']}) has ") and words in answer["detail"]
        assert answer["detail_zh"].startswith(f"{field}：检查轮次 {rid}（{made['name']}）"), answer
    read = client.get(f"/api/inspections/rounds/{rid}", headers=auth(city, "admin1")).json()
    assert {k: read[k] for k in made} == made
    assert _audits(city, rid, "inspection.round.edit") == []
    # A typo in its name is still corrected while it runs.
    assert _edit(client, city, rid, name="周检查（更正）").status_code == 200


def test_a_round_that_ended_with_findings_is_no_longer_changed(client, city):
    rid = new_round(client, city, kind="周检查")["id"]
    assert post_finding(client, city, rid, user="inspector2").status_code == 201
    ended = _edit(client, city, rid, ends=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    assert ended.status_code == 200, ended.text  # its finding, an hour old, still lies in it
    late = _edit(client, city, rid, name="迟到的更正")
    assert late.status_code == 409 and "no longer changed" in late.json()["detail"], late.text
    assert f"检查轮次 {rid}" in late.json()["detail_zh"] and "已按原样发布" in late.json()["detail_zh"]
    assert client.get(f"/api/inspections/rounds/{rid}").json()["name"] != "迟到的更正"


def test_a_round_without_findings_is_deleted_and_the_field_page_no_longer_offers_it(client, city):
    rid = new_round(client, city, streets=(OWN_STREET,), kind="周检查")["id"]
    assert rid in _offered(client, city, "inspector2")
    assert _delete(client, city, rid, user="planner1").status_code == 403
    assert _delete(client, city, rid, user="inspector2").status_code == 403
    no_reason = _delete(client, city, rid, reason=None)
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    gone = _delete(client, city, rid)
    assert gone.status_code == 200 and gone.json()["deleted"]["id"] == rid, gone.text
    assert client.get(f"/api/inspections/rounds/{rid}", headers=auth(city, "admin1")).status_code == 404
    assert rid not in {r["id"] for r in client.get("/api/inspections/rounds").json()["items"]}
    assert rid not in _offered(client, city, "inspector2")
    (actor, before, after, detail), = _audits(city, rid, "inspection.round.delete")
    assert (actor, before["kind"], after, detail) == ("admin1", "周检查", None, {"reason": "误建"})
    assert _delete(client, city, rid).status_code == 404


def test_a_round_with_findings_is_not_deleted_and_the_refusal_says_how_many(client, city):
    made = new_round(client, city, kind="周检查")
    rid = made["id"]
    for _ in range(2):
        assert post_finding(client, city, rid, user="inspector2").status_code == 201
    refused = _delete(client, city, rid)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith(f"round {rid} ({made['name']}) has 2 findings: ")
    assert f"检查轮次 {rid}（{made['name']}）已有问题 2 条，不能删除" in refused.json()["detail_zh"]
    assert client.get(f"/api/inspections/rounds/{rid}").status_code == 200
    assert query(city["url"], "SELECT count(*) FROM inspection_findings WHERE round_id = %s", (rid,))[0][0] == 2
    assert rid in _offered(client, city, "inspector2")
    assert _audits(city, rid, "inspection.round.delete") == []


def _cli(city, *args):
    return CliRunner().invoke(main, ["inspections", *map(str, args)], env={"DATABASE_URL": city["url"]})


def test_the_command_line_corrects_and_deletes_a_round_in_chinese_or_english(client, city):
    rid = new_round(client, city, streets=(OWN_STREET,), kind="周检查")["id"]
    run = _cli(city, "edit-round", "--round", rid, "--name", "烟台周检查", "--streets", f"{OWN_STREET},{OTHER_STREET}",
               "--reason", "漏了街道")
    assert run.exit_code == 0, run.output
    assert run.output.startswith(f"已修改检查轮次 {rid}（名称、街道）：烟台周检查（周检查，明察），"), run.output
    assert run.output.rstrip().endswith(f"街道 {OWN_STREET}, {OTHER_STREET}"), run.output
    english = _cli(city, "edit-round", "--round", rid, "--announced", "--reason", "x", "--lang", "en")
    assert english.output == f"round {rid} unchanged: the values given are those it has\n", english.output
    assert _audits(city, rid, "inspection.round.edit")[0][3] == {"reason": "漏了街道"}
    assert _audits(city, rid, "inspection.round.edit")[0][0].startswith("cli:")
    assert post_finding(client, city, rid, user="inspector2").status_code == 201
    refused = _cli(city, "delete-round", "--round", rid, "--reason", "误建")
    assert refused.exit_code == 2 and f"检查轮次 {rid}（烟台周检查）已有问题 1 条，不能删除" in refused.output, refused.output
    refused_en = _cli(city, "delete-round", "--round", rid, "--reason", "误建", "--lang", "en")
    assert f"round {rid} (烟台周检查) has 1 finding: only a round without findings" in refused_en.output
    shrink = _cli(city, "edit-round", "--round", rid, "--streets", OTHER_STREET, "--reason", "x", "--lang", "en")
    assert shrink.exit_code == 2 and "streets: " in shrink.output and OWN_STREET in shrink.output, shrink.output
    empty = new_round(client, city, streets=(OWN_STREET,), kind="周检查")
    gone = _cli(city, "delete-round", "--round", empty["id"], "--reason", "误建", "--lang", "en")
    assert gone.exit_code == 0 and gone.output.startswith(f"deleted round {empty['id']}: {empty['name']} (周检查, 明察)")
    assert query(city["url"], "SELECT count(*) FROM inspection_rounds WHERE id = %s", (empty["id"],))[0][0] == 0


def test_a_finding_in_no_street_is_422_naming_lon_lat_never_a_403_about_street_none(client, city):
    """A district drawn without streets beside the city (as Yantai's 莱山区 before its streets are imported): a
    street's inspector, and an admin, recording a point there are told the place is outside the round."""
    query_write = psycopg2.connect(city["url"])
    with query_write, query_write.cursor() as cur:
        cur.execute("""INSERT INTO admin_areas (level, code, name, geom)
                       SELECT 'district', '379998', '无街道区', ST_Multi(ST_MakeEnvelope(x + 0.01, y0, x + 0.05, y1, 4326))
                       FROM (SELECT ST_XMax(e) x, ST_YMin(e) y0, ST_YMax(e) y1
                             FROM (SELECT ST_Extent(geom) e FROM admin_areas) s) b""")
        cur.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM admin_areas "
                    "WHERE code = '379998') p")
        lon, lat = cur.fetchone()
    query_write.close()
    rid = new_round(client, city, kind="周检查")["id"]
    for user in ("inspector2", "admin1"):
        refused = post_finding(client, city, rid, user=user, lon=lon, lat=lat)
        assert refused.status_code == 422, refused.text
        answer = refused.json()
        assert answer["detail"].startswith("lon/lat: the point lies in no street") and "379998" in answer["detail"]
        assert answer["detail_zh"].startswith("lon/lat：该地点不在本市任何街道内"), answer
        assert "None" not in refused.text
    # Inside the round's streets but outside the inspector's: still 403, naming both, never "None".
    scoped = post_finding(client, city, rid, user="inspector3")
    assert scoped.status_code == 403 and "None" not in scoped.text and OWN_STREET in scoped.json()["detail"]
    assert query(city["url"], "SELECT count(*) FROM inspection_findings WHERE round_id = %s", (rid,))[0][0] == 0
