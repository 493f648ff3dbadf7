"""A saved plan is about one kind of facility at one radius (Taipei imported from nothing, tests/taipei_planner.py).

A tester saved a toilets plan ("remove toilet 1055") and opened it with ?kind=garbage_points&plan=1: the page
removed garbage point 1055 (ids repeat across layers), and ?radius=500 ran the plan at 500 m, without a word; the
"已载入方案" notice was gone with the first answer. The plan now opens at its own kind, radius and level and says
which of the URL's values it replaced; the APIs refuse a plan under another kind, radius or level (422)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import query
from tests.taipei_planner import DATONG, client, plans_count, taipei, taipei_base  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def shared_id(taipei) -> int:
    """An id that is both an in-service toilet's and an in-service garbage point's."""
    return query(taipei["url"], "SELECT t.id FROM toilets t JOIN garbage_stations g ON g.id = t.id "
                                "WHERE t.in_service AND g.in_service AND g.kind = '收集点' ORDER BY t.id LIMIT 1")[0][0]


@pytest.fixture(scope="module")
def plan(taipei, shared_id) -> dict:
    """A toilets plan at the standard's 300 m: one toilet added in 大同區, toilet ``shared_id`` removed."""
    from data.db import connect
    from layers.analysis.plans import save_plan

    conn = connect(url=taipei["url"])
    try:
        saved = save_plan(conn, {"name": "大同區補一座、撤一座", "kind": "toilets",
                                 "edits": [DATONG[0], {"op": "remove", "id": shared_id}]}, "taipei-planner")
        conn.commit()
    finally:
        conn.close()
    return saved


def test_a_plan_records_its_kind_radius_and_level_and_an_empty_one_is_refused(client, taipei, plan):
    """The tester saved a plan of no edits: it was kept, and compared as "no change". It is refused, naming
    ``edits``; a plan keeps the kind, radius (the standard's when none is given) and level it was made at."""
    assert (plan["kind"], plan["radius_m"], plan["by"]) == ("toilets", 300, "community")
    before = plans_count(taipei)
    empty = client.post("/api/plans", json={"name": "空方案", "kind": "toilets", "radius": 300, "edits": []})
    assert empty.status_code == 422, empty.text
    assert empty.json()["detail"].startswith("edits: a plan needs at least one edit"), empty.json()
    assert empty.json()["detail_zh"].startswith("edits：方案至少需要一处改动"), empty.json()
    assert plans_count(taipei) == before


@pytest.mark.parametrize("path", ["compare", "export"])
def test_a_plan_asked_under_another_kind_radius_or_level_is_refused_by_name(client, plan, path):
    """Its edits name toilets' ids: asked as garbage points, at 500 m or by district, the comparison and the
    export are a 422 naming the parameter and the plan's own value; asked with its own values they answer."""
    url = f"/api/plans/{plan['id']}/{path}"
    for name, value, own, zh in (("kind", "garbage_points", "kind=toilets", "调整的是公共厕所"),
                                 ("radius", 500, "radius=300", "按服务半径 300 米制定"),
                                 ("by", "district", "by=community", "按 community 统计")):
        refused = client.get(url, params={name: value})
        assert refused.status_code == 422, (name, refused.text)
        body = refused.json()
        assert body["detail"].startswith(f"{name}: plan #{plan['id']} ") and own in body["detail"], body
        assert body["detail_zh"].startswith(f"{name}：方案 #{plan['id']} ") and zh in body["detail_zh"], body
    fits = client.get(url, params={"kind": "toilets", "radius": "300.0", "by": "community"})
    assert fits.status_code == 200, fits.text


def test_the_map_opens_a_plan_at_its_own_kind_and_radius_and_says_what_it_replaced(client, plan):
    """?kind=garbage_points&radius=500&method=walk&plan=ID: the page is the plan's (toilets, 300 m, straight line),
    its lines name the plan and the URL's values it replaced, in English with lang=en."""
    page = client.get("/map/coverage", params={"kind": "garbage_points", "radius": 500, "method": "walk",
                                               "plan": plan["id"], "lang": "en"})
    assert page.status_code == 200, page.text
    assert "/api/analysis/coverage?kind=toilets&radius=300&by=community&method=straight&gaps=1" in page.text
    assert f"method=straight&amp;plan={plan['id']}&amp;lang=zh" in page.text  # 中文 keeps the plan open
    assert f"Loaded plan #{plan['id']} 大同區補一座、撤一座: public toilets, service radius 300 m" in page.text
    assert ("The URL's values are not the plan's; shown with the plan's: facility kind garbage collection points "
            "→ public toilets, service radius 500 → 300 m, distance walking → straight line") in page.text
    assert client.get("/map/coverage", params={"plan": 999999}).status_code == 404


@pytest.mark.browser
def test_a_toilets_plan_opened_as_garbage_points_edits_toilets_and_keeps_its_line(client, taipei_base, plan,
                                                                                  shared_id, browser):
    """The tester's steps: the toilets plan opened with ?kind=garbage_points&radius=500. The page measures the
    plan's toilets at 300 m (its figures are the plan's comparison), not garbage point ``shared_id``; the line
    naming the plan stays through the next edit's answer."""
    from tests.test_whatif_browser import READY, _mouse, _wait

    compared = client.get(f"/api/plans/{plan['id']}/compare").json()["after"]
    report = browser.open(f"{taipei_base}/map/coverage?kind=garbage_points&radius=500&plan={plan['id']}",
                          ready_js=READY, timeout=90)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    _wait(browser, f"hygieneWhatIfState.loaded === {plan['id']} && hygieneWhatIfState.answers >= 1 "
                   "&& !hygieneWhatIfState.pending", timeout=60)
    state = browser.evaluate("hygieneWhatIfState")
    assert state["errors"] == [] and {"op": "remove", "id": shared_id} in state["draft"], state
    assert state["after"]["covered_area_pct"] == pytest.approx(compared["covered_area_pct"]), (state, compared)
    line = f"已载入方案 #{plan['id']} 大同區補一座、撤一座：公共厕所，服务半径 300 米，按社区统计"
    said = "网址中的参数与方案不符，已按方案显示：设施类型 垃圾收集点 → 公共厕所、服务半径 500 → 300 米"
    assert browser.evaluate("document.getElementById('hm-whatif-plan').textContent") == line
    assert browser.evaluate("document.getElementById('hm-whatif-overridden').textContent") == said
    time.sleep(1.0)  # the map's zoom to the areas has ended
    browser.evaluate("document.getElementById('hm-whatif-add').click()")
    at = browser.evaluate(f"hygieneWhatIfState.pixel({DATONG[1]['lon']}, {DATONG[1]['lat']})")
    _mouse(browser, "mousePressed", at["x"], at["y"])
    _mouse(browser, "mouseReleased", at["x"], at["y"])
    _wait(browser, "hygieneWhatIfState.answers >= 2 && hygieneWhatIfState.edits === 3 && !hygieneWhatIfState.pending")
    assert browser.evaluate("hygieneWhatIfState.errors") == []
    assert browser.evaluate("document.getElementById('hm-whatif-plan').textContent") == line
