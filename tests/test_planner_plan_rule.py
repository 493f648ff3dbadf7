"""A plan names the standard it is measured against, on its page, in print and in its workbook (Taipei imported
from nothing, tests/taipei_planner.py). The coverage map cites its rule; the plan made on it said only "公共厕所，
服务半径 300 米", so a printed plan did not say which standard its before/after figures judge by."""

from __future__ import annotations

import pytest

from tests.taipei_planner import DATONG, client, sheet_rows, taipei  # noqa: F401 (fixtures)


@pytest.mark.parametrize("kind, radius, words", [
    ("toilets", None, "GB 55013-2021"),
    ("garbage_points", 70, "生活垃圾收集点服务半径（规划指引） 70 m"),
    ("garbage_points", 100, "服务半径 100 m（用户指定，未采用标准条文）"),
])
def test_a_plan_cites_its_standard(client, kind, radius, words):
    saved = client.post("/api/plans", json={"name": f"大同區 {kind} {radius}", "kind": kind, "radius": radius,
                                            "edits": DATONG})
    assert saved.status_code == 201, saved.text
    plan = saved.json()["id"]
    page = client.get(f"/plans/{plan}")
    assert page.status_code == 200 and words in page.text, page.text[:2000]
    rows = sheet_rows(client.get(f"/api/plans/{plan}/compare", params={"format": "xlsx"}).content)
    assert any(words in str(cell) for cell in rows[0]), rows[0]
    if kind == "toilets":
        english = client.get(f"/plans/{plan}", params={"lang": "en"}).text
        assert "Public toilet service radius (mandatory) 300 m" in english
        assert client.get(f"/api/plans/{plan}/compare").json()["rule"] == "toilet_radius_mandatory"


def test_the_english_workbook_heads_its_plan_in_english(client):
    """The English workbook's first cell read "plan：…" with a Chinese colon."""
    plan = client.post("/api/plans", json={"name": "Datong two", "kind": "toilets", "edits": DATONG}).json()["id"]
    rows = sheet_rows(client.get(f"/api/plans/{plan}/compare", params={"format": "xlsx", "lang": "en"}).content)
    assert rows[0][:2] == ("plan: Datong two", "public toilets 300 m"), rows[0]
    rows = sheet_rows(client.get(f"/api/plans/{plan}/compare", params={"format": "xlsx"}).content)
    assert rows[0][:2] == ("方案：Datong two", "公共厕所 300 m"), rows[0]
