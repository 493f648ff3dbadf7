"""Yantai's own outlines (Gaode, GCJ-02) before any toilet is imported: siting says its "before" is missing data,
as coverage and density say it, instead of proposing sites for a city that seems to have no toilet at all."""

from __future__ import annotations

import json

from tests.real_city import yantai  # noqa: F401  (the fixture)

NONE_ZH = "没有公共厕所数据：结果中的 0 是缺少数据"


def test_siting_without_toilets_warns_as_coverage_does(yantai):  # noqa: F811
    coverage = yantai.cli("analyze", "coverage", "--kind", "toilets", "--limit", "1")
    assert NONE_ZH in coverage.stdout
    sited = yantai.cli("analyze", "siting", "--kind", "toilets", "--add", "2", "--street", "370602",
                       "--out", "sites.geojson")
    assert NONE_ZH in sited.stdout, sited.stdout
    answer = json.loads((yantai.work / "sites.geojson").read_text(encoding="utf-8"))
    assert answer["before"]["pct"] == 0 and len(answer["features"]) == 2
    assert answer["warning"].startswith(NONE_ZH), answer.get("warning")
    english = yantai.cli("analyze", "siting", "--kind", "toilets", "--add", "1", "--street", "370602", "--lang", "en")
    assert "no public toilets in the city's data" in english.stdout.lower(), english.stdout
