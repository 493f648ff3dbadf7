"""Query parameters mean one thing on every route, bad ones are a 422 (400 under /ogc) naming them,
and a write's transaction is committed before its answer is sent.

Each 500 that fuzzing found is a regression test here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from data.db import connect
from tests import test_grids_access

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A writable city of this module's own, with a token per role, and a client of the app over it.
city = test_grids_access.city
client = test_grids_access.client


def _auth(city) -> dict:
    return {"Authorization": f"Bearer {city['tokens']['admin']}"}


def _complaint_body(city, **extra) -> dict:
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids WHERE code = %s) s",
                    (city["grid"]["own"],))
        lon, lat = cur.fetchone()
    conn.close()
    return {"lon": lon, "lat": lat, "category": "暴露垃圾", "source": "12345", **extra}


def _refused(response, parameter: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body.get("description") or body["detail"]).startswith(f"{parameter}: "), body
    assert "Traceback" not in response.text


# -- offsets beyond ±14:00, years outside 1900–2100 (fuzzing: 500 on 8 routes) -----------------------

FAR_OFFSETS = ["2026-01-01T00:00:00+21:00", "2026-01-01T00:00:00-16:00", "2026-01-01T00:00:00+14:01"]


@pytest.mark.parametrize("value", FAR_OFFSETS)
@pytest.mark.parametrize("path, extra", [
    ("/api/complaints", {}),
    ("/api/layers/complaints/features", {}),
    ("/tiles/complaints/8/213/97.pbf", {}),
    ("/api/layers/complaints/heat", {"bbox": "121,37,122,38", "zoom": 8}),
])
@pytest.mark.parametrize("name", ["since", "until"])
def test_offsets_beyond_14_hours_are_422_naming_the_parameter(client, path, extra, name, value):
    _refused(client.get(path, params={**extra, name: value}), name)


@pytest.mark.parametrize("value", FAR_OFFSETS)
def test_ogc_offsets_beyond_14_hours_are_400(client, value):
    _refused(client.get("/ogc/collections/complaints/items", params={"datetime": value}), "datetime", 400)
    _refused(client.get("/ogc/collections/complaints/items", params={"datetime": f"../{value}"}), "datetime", 400)
    _refused(client.get("/ogc/collections/complaints/items", params={"reported_at": value}), "reported_at", 400)


@pytest.mark.parametrize("reported_at", [*FAR_OFFSETS, "0001-01-01T00:00:00", "0001-01-01T00:00:00+08:00",
                                         "1899-12-31", "yesterday", 1700000000])
def test_a_posted_complaint_with_a_bad_time_is_422_and_not_filed(client, city, reported_at):
    response = client.post("/api/complaints", json=_complaint_body(city, reported_at=reported_at),
                           headers=_auth(city))
    _refused(response, "reported_at")


def test_a_zoned_time_mixed_with_an_unzoned_one_is_no_server_error(client):
    """Fuzzing: since=9999-12-31T23:59:59Z with until=2027-01-01 was a 500 (aware compared with naive)."""
    far = client.get("/api/layers/complaints/features", params={"since": "9999-12-31T23:59:59Z",
                                                                  "until": "2027-01-01"})
    _refused(far, "since")
    mixed = client.get("/api/layers/complaints/features", params={"since": "2025-03-01T00:00:00Z",
                                                                    "until": "2025-03-08", "limit": 10000})
    assert mixed.status_code == 200, mixed.text
    reversed_ = client.get("/api/complaints", params={"since": "2025-03-08", "until": "2025-03-01T00:00:00Z"})
    _refused(reversed_, "since")


# -- a time without a zone is the city's, on every route -----------------------------------------

def test_one_window_selects_the_same_complaints_on_every_route(client, city):
    since, until = "2025-03-01", "2025-03-08T12:00"
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM complaints WHERE reported_at >= %s AND reported_at < %s",
                    (datetime(2025, 3, 1, tzinfo=SHANGHAI), datetime(2025, 3, 8, 12, tzinfo=SHANGHAI)))
        expected = sorted(r[0] for r in cur.fetchall())
    conn.close()
    assert expected
    features = client.get("/api/layers/complaints/features",
                          params={"since": since, "until": until, "limit": 10000}).json()
    assert sorted(f["id"] for f in features["features"]) == expected
    listed = client.get("/api/complaints", params={"since": since, "until": until, "limit": 1000}).json()
    assert sorted(i["id"] for i in listed["items"]) == expected
    # OGC: the interval's end is inclusive; an unzoned time is the city's there too.
    ogc = client.get("/ogc/collections/complaints/items",
                     params={"datetime": f"{since}T00:00/2025-03-08T11:59:59.999999", "limit": 10000}).json()
    assert sorted(f["id"] for f in ogc["features"]) == expected


def test_an_ogc_date_is_that_whole_day_in_the_city(client, city):
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE reported_at >= %s AND reported_at < %s",
                    (datetime(2025, 3, 1, tzinfo=SHANGHAI), datetime(2025, 3, 2, tzinfo=SHANGHAI)))
        expected = cur.fetchone()[0]
    conn.close()
    assert expected
    one_day = client.get("/ogc/collections/complaints/items", params={"datetime": "2025-03-01", "limit": 1}).json()
    assert one_day["numberReturned"] == 1
    walked, offset = 0, 0
    while True:
        page = client.get("/ogc/collections/complaints/items",
                          params={"datetime": "2025-03-01/2025-03-01", "limit": 1000, "offset": offset}).json()
        walked += page["numberReturned"]
        if page["numberReturned"] < 1000:
            break
        offset += 1000
    assert walked == expected


# -- area codes: one rule (1–32 ASCII letters, digits, '-', '.'), no NUL (fuzzing: full-width street → 500) --

FULL_WIDTH = "３７９９"


@pytest.mark.parametrize("path, name, value", [
    ("/api/layers/toilets/export?format=csv", "street", FULL_WIDTH),
    ("/api/layers/toilets/export?format=csv", "street", "37\x0099"),
    ("/api/layers/toilets/features", "street", "３７９９０１００１"),
    ("/api/layers/complaints/heat?bbox=121,37,122,38&zoom=8", "street", "３７９９０１００１"),
    ("/tiles/complaints/8/213/97.pbf", "street", "\x00"),
    ("/api/complaints", "street", "３７９９０１００１"),
    ("/api/complaints", "grid", "３７９９０１００１０１０１"),
    ("/api/complaints", "grid", "3799010010101\x00"),
    ("/api/grids", "street", "３７９９０１００１"),
    ("/map/grids", "street", "３７９９０１００１"),
    ("/map", "street", "379901001\x00"),
    ("/api/layers/toilets/features", "bbox", "121,37,122,３８"),
    ("/api/layers/complaints/features", "since", "2025-01-01\x00"),
    ("/api/layers/complaints/features", "status", "结案\x00"),
])
def test_full_width_digits_and_nul_bytes_are_422_naming_the_parameter(client, path, name, value):
    _refused(client.get(path, params={name: value}), name)


@pytest.mark.parametrize("path", ["/print/grids/%00.pdf", "/print/grids/%EF%BC%93.pdf", "/print/grids/a%20b.pdf",
                                  "/print/grids/MN03_01.pdf", "/print/grids/" + "1" * 33 + ".pdf",
                                  "/print/streets/%00/atlas.pdf", "/print/streets/３７９９０１００１/route.pdf",
                                  "/api/grids/%00/history"])
def test_bad_codes_in_paths_are_422_not_500(client, path):
    _refused(client.get(path), "code")


def test_an_unknown_but_well_formed_grid_is_404(client):
    assert client.get("/print/grids/37999999999999.pdf").status_code == 404


@pytest.mark.parametrize("code", ["MN03", "MN030101", "6301200042", "630120004201", "A-1.2", "379901001"])
def test_area_codes_of_any_scheme_pass_every_parameter(client, code):
    """New York's and Taipei's codes are codes: a street that does not exist is 404, never 422."""
    for path, name in (("/api/layers/toilets/features", "street"), ("/api/complaints", "grid"),
                       ("/api/grids", "street")):
        response = client.get(path, params={name: code})
        assert response.status_code in (200, 404), (path, response.text)
    assert client.get(f"/print/grids/{code}.pdf").status_code == 404
    assert client.get(f"/print/streets/{code}/route.pdf").status_code in (200, 404)


@pytest.mark.parametrize("raw, reason, reason_zh", [
    ("MN 03", "contains a space", "其中有空格"), ("３７９９", "full-width digits", "全角数字"),
    ("37_99", "not '37_99'", "不能是 '37_99'"), ("1" * 33, "not 33 characters", "不能是 33 个字符"),
    ("37%", "not '37%'", "不能是 '37%'"),
])
def test_the_one_area_code_rule_says_why(raw, reason, reason_zh):
    from data.errors import InvalidParameter
    from data.params import parse_area_code

    with pytest.raises(InvalidParameter) as caught:
        parse_area_code(raw, "street")
    assert str(caught.value).startswith("street: an area code is 1–32 ASCII letters") and reason in str(caught.value)
    assert caught.value.zh.startswith("street：区划代码应为 1–32 个 ASCII 字母") and reason_zh in caught.value.zh
    assert parse_area_code(" MN03 ", "street") == "MN03" and parse_area_code("", "street") is None


def test_a_refusal_carries_its_chinese_beside_the_unchanged_english(client):
    """The API answers the English ``detail`` as before and the same in Chinese in ``detail_zh``."""
    body = client.get("/api/complaints", params={"since": "soon"}).json()
    assert body["detail"] == ("since: 'soon' is not an ISO 8601 date (2026-01-31) "
                              "or date-time (2026-01-31T08:00, 2026-01-31T00:00:00Z)"), body
    assert body["detail_zh"] == ("since：'soon' 不是 ISO 8601 日期（2026-01-31）或日期时间（2026-01-31T08:00、"
                                 "2026-01-31T00:00:00Z）"), body
    body = client.get("/api/complaints", params={"limit": "100000"}).json()
    assert body["detail"].startswith("limit: ") and body["detail_zh"].startswith("limit：每页最多 "), body


def test_a_page_refused_shows_the_reason_in_the_page_language(client):
    """A browser opening /map with a bad street gets a page saying why: in Chinese, or in English with lang=en."""
    html = {"Accept": "text/html"}
    page = client.get("/map", params={"street": "３７９９"}, headers=html)
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html"), page.text
    assert "页面无法显示（422）" in page.text and "street：区划代码应为 1–32 个 ASCII 字母" in page.text, page.text
    assert "全角数字" in page.text and "an area code is" not in page.text, page.text
    page = client.get("/map", params={"street": "３７９９", "lang": "en"}, headers=html)
    assert page.status_code == 422 and "street: an area code is 1–32 ASCII letters" in page.text, page.text
    assert "区划代码" not in page.text, page.text


# -- heat on a layer that is not points (fuzzing: 500) -------------------------------------------

@pytest.mark.parametrize("layer", ["grids", "roads", "health_trails"])
def test_heat_on_a_layer_without_points_is_422_naming_the_layer(client, layer):
    response = client.get(f"/api/layers/{layer}/heat", params={"bbox": "121,37,122,38", "zoom": 8})
    _refused(response, "layer_id")
    assert layer in response.json()["detail"]


# -- one transaction owner -----------------------------------------------------------------------

def test_a_write_whose_commit_fails_is_not_answered_2xx_and_keeps_nothing(client, city):
    """The commit runs before the answer is sent: a deferred constraint that fails at COMMIT is a 5xx."""
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$")
        cur.execute("CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER UPDATE ON grids DEFERRABLE INITIALLY DEFERRED "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()")
    conn.commit()
    grid = city["grid"]["own"]
    body = {"unit": "提交失败单位", "manager": "赵六", "phone": "0535-6000009", "reason": "commit test"}
    try:
        response = client.put(f"/api/grids/{grid}/assignment", json=body, headers=_auth(city))
        assert not 200 <= response.status_code < 300, response.text
        assert response.status_code >= 500 and "Traceback" not in response.text
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP TRIGGER refuse_at_commit ON grids")
            cur.execute("DROP FUNCTION refuse_at_commit()")
        conn.commit()
    with conn.cursor() as cur:
        cur.execute("SELECT responsible_unit FROM grids WHERE code = %s", (grid,))
        assert cur.fetchone()[0] != "提交失败单位"
        cur.execute("SELECT count(*) FROM audit_log WHERE after->>'unit' = '提交失败单位'")
        assert cur.fetchone()[0] == 0
    conn.close()
    # Without the trigger the same write is kept, and visible to others as soon as it is answered.
    kept = client.put(f"/api/grids/{grid}/assignment", json=body, headers=_auth(city))
    assert kept.status_code == 200, kept.text
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT responsible_unit FROM grids WHERE code = %s", (grid,))
        assert cur.fetchone()[0] == "提交失败单位"
    conn.close()

