"""Coverage of a kind the city has no data for, on Taipei imported from nothing (tests/taipei_planner.py): its
garbage-truck stops are collection points (收集点); it has no transfer station (转运站) in its files."""

from __future__ import annotations

import json

from data.db import connect
from layers.analysis import registry
from tests.taipei_planner import taipei  # noqa: F401 (fixture)


def _coverage(taipei, lang: str, **raw) -> tuple[dict, list[str]]:
    analysis = registry.load("coverage")
    conn = connect(url=taipei["url"])
    try:
        args = analysis.parse({"by": "district", **raw})
        result = analysis.compute(conn, args)
        return json.loads(analysis.geojson(result, args, lang)), analysis.report(result, args, lang).head
    finally:
        conn.close()


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
