"""A Chinese planner's command line on Taipei imported from nothing (tests/taipei_planner.py): `hygiene-map analyze`
prints its tables and summary lines in Chinese by default (the headers, the verdicts, the totals), English with
`--lang en`. Before, only the rule lines were Chinese: "total: 12 areas: 0 below …", "covered area %", "method:
straight-line" stood under a Chinese title."""

from __future__ import annotations

import re

import pytest

from tests.taipei_planner import analyze, taipei  # noqa: F401 (fixtures)

#: What each command prints in English that a Chinese planner read under Chinese titles.
ENGLISH = re.compile(r"\b(total|areas|covered|method|circle|below|within|above|band|more rows|before|after|"
                     r"objective|weights|hexagons|complaints|rank|score|grid|count|expected|status|wrote|"
                     r"population|name|code|per 10k|per km²|hot 99|cold)\b")
#: Runs (arguments, Chinese words the table or its summary must hold).
RUNS = {
    "coverage": (["--kind", "toilets", "--by", "district", "--out", "c.xlsx"],
                 ["代码", "名称", "覆盖面积占比", "合计：12 个区域", "直线距离", "已写出 12 行"]),
    "density": (["--kind", "toilets", "--by", "district", "--limit", "3"],
                ["每平方公里", "每万人", "标准范围", "判定", "低于标准", "合计：12 个区域", "还有 9 行"]),
    "hotspots": (["--cell", "300", "--limit", "3"], ["六边形", "投诉", "热点", "经度", "纬度"]),
    "siting": (["--kind", "toilets", "--add", "2", "--street", "6300600"], ["排名", "经度", "新增覆盖面积", "现状", "新增后"]),
    "priority": ([], ["权重", "排名", "网格", "得分", "投诉热点", "没有网格"]),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_analyze_prints_chinese_by_default(taipei, tmp_path, name):
    options, words = RUNS[name]
    done = analyze(taipei, tmp_path, name, *options)
    assert done.returncode == 0, done.stderr
    # The rule's source is quoted as the standards table has it (data/standards.csv), English words and all.
    shown = "\n".join(line for line in done.stdout.splitlines() if "依据" not in line)
    assert not ENGLISH.search(shown), shown
    for word in words:
        assert word in shown, (word, shown)


def test_analyze_in_english_stays_english(taipei, tmp_path):
    done = analyze(taipei, tmp_path, "density", "--kind", "toilets", "--by", "district", "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^total: 12 areas: \d+ below, \d+ within, \d+ above the band$", done.stdout, re.M), done.stdout
    header = next(line for line in done.stdout.splitlines() if line.startswith("Code"))
    assert header.split()[:3] == ["Code", "Name", "Count"] and "Status" in header, done.stdout


def test_walking_asked_without_roads_says_so_in_chinese(taipei, tmp_path):
    """Taipei's files have no roads: walking falls back to the straight line, and the Chinese head says why."""
    done = analyze(taipei, tmp_path, "coverage", "--kind", "toilets", "--by", "district", "--method", "walk")
    assert done.returncode == 0, done.stderr
    assert "方法：直线距离（要求步行距离，但没有道路数据）" in done.stdout, done.stdout


def test_coverage_to_geojson_counts_the_features_it_wrote(taipei, tmp_path):
    """Coverage written as GeoJSON holds each district and its gaps (盲区): the command counts what the file holds,
    not the 12 rows of its table."""
    import json

    done = analyze(taipei, tmp_path, "coverage", "--kind", "toilets", "--by", "district", "--gaps", "--out", "c.geojson")
    assert done.returncode == 0, done.stderr
    features = json.loads((tmp_path / "c.geojson").read_text(encoding="utf-8"))["features"]
    assert len(features) > 12
    assert f"已写出 {len(features)} 个要素到" in done.stdout, done.stdout
