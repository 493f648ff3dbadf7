"""A finding in Taipei's 中正區, cut into grids with no roster yet, is charged to no unit: the problem list, the
bulletin's workbook and its page call that unit by one name, （无责任单位） ((no responsible unit) in English),
and the bulletin's unit ranking its row （无责任单位或无法归属）— where they said （无责任单位）, （未分配） and
（未分配或无法归属） of the same row.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from tests.real_city import taipei, taipei_grids, taipei_server  # noqa: F401  (fixtures)

ZHONGZHENG = "6300500"
OLD_NAMES = ("未分配", "未指定", "unassigned")


@pytest.fixture(scope="module")
def unowned(taipei_server):
    """中正區's 500 m grids (no roster), a round over it started yesterday, and one finding in a grid of it."""
    city = taipei_server
    city.cli("grids", "generate", "--street", ZHONGZHENG, "--size", 500)
    auth = {"Authorization": f"Bearer {city.token}"}
    now = datetime.now(UTC)
    made = httpx.post(city.base + "/api/inspections/rounds", headers=auth, timeout=30,
                      json={"name": "中正區周检查", "kind": "周检查", "streets": [ZHONGZHENG],
                            "starts": (now - timedelta(days=1)).isoformat(), "ends": (now + timedelta(days=5)).isoformat()})
    assert made.status_code == 201, made.text
    (lon, lat), = city.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                           "WHERE street_code = %s ORDER BY code LIMIT 1) g", (ZHONGZHENG,))
    found = httpx.post(city.base + "/api/inspections/findings", headers=auth, timeout=30,
                       json={"round_id": made.json()["id"], "lon": lon, "lat": lat, "item": "MKT-01", "note": "",
                             "observed_at": now.isoformat(), "client_id": str(uuid.uuid4())})
    assert found.status_code == 201 and found.json()["responsible_unit"] is None, found.text
    return made.json()["id"]


def _cells(body: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v is not None]


@pytest.mark.parametrize("lang, name, row", [("zh", "（无责任单位）", "（无责任单位或无法归属）"),
                                             ("en", "(no responsible unit)", "(no responsible unit, or not attributable)")])
def test_a_finding_charged_to_no_unit_is_named_alike_in_every_document(taipei_server, unowned, lang, name, row):
    city, auth = taipei_server, {"Authorization": f"Bearer {taipei_server.token}"}

    def get(path: str) -> httpx.Response:
        answer = httpx.get(city.base + path, headers=auth, timeout=180)
        assert answer.status_code == 200, (path, answer.text[:300])
        return answer

    week = f"period=week&date={datetime.now(ZoneInfo('Asia/Taipei')).date()}&lang={lang}"  # the finding's week
    problems = _cells(get(f"/api/inspections/rounds/{unowned}/problems.xlsx?lang={lang}").content)
    bulletin = _cells(get(f"/reports/bulletin.xlsx?{week}").content)
    page = get(f"/reports?{week}").text
    assert name in problems and name in bulletin and name in page
    assert row in bulletin  # the unit ranking's row of cases and findings charged to no unit
    for text in (*problems, *bulletin, page):
        assert not any(old in text for old in OLD_NAMES), text[:200]


def test_the_round_s_scores_name_each_street_alike_in_both_lists(taipei_server, unowned):
    """Taipei's districts have no English names: the round's streets are named in English as its deductions by
    item name them (the Chinese name), not null in one list and filled in the other."""
    scores = httpx.get(f"{taipei_server.base}/api/inspections/rounds/{unowned}/scores",
                       headers={"Authorization": f"Bearer {taipei_server.token}"}, timeout=60).json()
    assert scores["streets"] and all(s["name_en"] == s["name"] == "中正區" for s in scores["streets"]), scores
    assert {i["street_name_en"] for i in scores["by_item"]} == {"中正區"}, scores["by_item"]
