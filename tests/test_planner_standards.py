"""The standard a coverage map names, and the data it lacks, on Taipei imported from nothing (tests/taipei_planner.py).

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


def test_a_chinese_line_cites_its_source_in_chinese(taipei):
    """The coverage head and the rule's JSON said "依据 《市容环卫工程项目规范》GB 55013-2021 §5.0.1 (code number
    inferred)" in a Chinese line: the source is cited in Chinese there, in English in English."""
    body, head = _coverage(taipei, kind="toilets", radius="300")
    assert "依据 《市容环卫工程项目规范》GB 55013-2021 第5.0.1条（规范编号系推断）" in head[0], head
    assert "inferred" not in head[0] and "inferred" not in json.dumps(body["rule"], ensure_ascii=False)
    english, head_en = _coverage(taipei, "en", kind="toilets", radius="300")
    assert "(code number inferred)" in head_en[0] and "推断" not in english["rule"]["text"], head_en


def test_a_radius_of_no_rule_names_none(taipei):
    body, head = _coverage(taipei, kind="garbage_points", radius="100")
    assert body["rule"] is None and head[0] == "服务半径 100 m（用户指定，未采用标准条文）", head
    # A rule of another kind does not apply: 70 m is the garbage points' guidance, not the toilets'.
    body, _ = _coverage(taipei, kind="toilets", radius="70")
    assert body["rule"] is None


# Taipei's garbage-truck stops are collection points (收集点); its files hold no transfer station (转运站).

def test_coverage_of_a_kind_with_no_facilities_says_there_are_none(taipei):
    """Transfer stations at 400 m: every district 0 % covered, the whole city drawn as 服务盲区, and nothing said
    that Taipei's files hold no transfer station at all — a planner read a gap where there is no data."""
    for lang, words in (("zh", "没有垃圾转运站"), ("en", "no transfer stations")):
        body, head = _coverage(taipei, lang, kind="transfer_stations")
        assert body["summary"]["covered_area_pct"] == 0
        assert body["warning"] and words in body["warning"], body.get("warning")
        assert any(words in line for line in head), head
    body, head = _coverage(taipei, "zh", kind="garbage_points")
    assert body["summary"]["covered_area_pct"] > 0 and body["warning"] is None
    assert not any("没有" in line for line in head), head


def test_density_of_a_kind_with_no_facilities_says_there_are_none(taipei):
    """Yantai's districts before any toilet is imported, or Taipei's transfer stations: every area 0 per km² — for
    toilets every one 低于标准 — with no word that the city has no such facility in its data."""
    analysis = registry.load("density")
    conn = connect(url=taipei["url"])
    try:
        for kind, warned in (("transfer_stations", True), ("toilets", False)):
            args = analysis.parse({"kind": kind, "by": "district"})
            result = analysis.compute(conn, args)
            body = json.loads(analysis.geojson(result, args, "zh"))
            head = analysis.report(result, args, "en").head
            assert (body["warning"] is not None) is warned, body["warning"]
            assert any("no transfer stations" in line for line in head) is warned, head
    finally:
        conn.close()
