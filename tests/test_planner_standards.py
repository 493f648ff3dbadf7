"""The standard a coverage map names, on Taipei imported from nothing (tests/taipei_planner.py).

A planner who draws Taipei's garbage-truck stops at 70 m (the planning guidance of GB 50337 / CJJ 27) or its toilets
at 500 m (the circle of the national toilet rankings) uses a figure of the standards table: the map and the command
said "radius given by the user, no standard applied", as for any other figure.
"""

from __future__ import annotations

import json

import pytest

from data.db import connect
from layers.analysis import registry
from tests.taipei_planner import taipei  # noqa: F401 (fixture)


def _coverage(taipei, lang: str = "zh", **raw) -> tuple[dict, list[str]]:
    analysis = registry.load("coverage")
    conn = connect(url=taipei["url"])
    try:
        args = analysis.parse({"by": "district", **raw})
        result = analysis.compute(conn, args)
        return json.loads(analysis.geojson(result, args, lang)), analysis.report(result, args, lang).head
    finally:
        conn.close()


@pytest.mark.parametrize("kind, radius, rule, words", [
    ("garbage_points", "70", "garbage_point_radius_planning", "生活垃圾收集点服务半径（规划指引） 70 m"),
    ("toilets", "500", "toilet_coverage_ranking", "公厕覆盖率（全国排名口径） 500 m"),
    ("toilets", "300", "toilet_radius_mandatory", "公厕服务半径 300 m"),
    ("garbage_points", "120", "garbage_point_radius_mandatory", "生活垃圾收集点服务半径 120 m"),
])
def test_a_radius_of_the_standards_table_names_its_rule(taipei, kind, radius, rule, words):
    body, head = _coverage(taipei, kind=kind, radius=radius)
    assert body["rule"] is not None and body["rule"]["id"] == rule, body["rule"]
    assert head[0].startswith(words), head


def test_a_radius_of_no_rule_names_none(taipei):
    body, head = _coverage(taipei, kind="garbage_points", radius="100")
    assert body["rule"] is None and head[0] == "服务半径 100 m（用户指定，未采用标准条文）", head
    # A rule of another kind does not apply: 70 m is the garbage points' guidance, not the toilets'.
    body, _ = _coverage(taipei, kind="toilets", radius="70")
    assert body["rule"] is None
