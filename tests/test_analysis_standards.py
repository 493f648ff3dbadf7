"""Standards as data: every STANDARDS.md §1–§3 row, labels shown where not V, city overrides."""

from __future__ import annotations

import pytest

from data.errors import InvalidInput
from data.standards import load


def test_every_rule_has_value_source_and_label():
    rules = load({})
    assert len(rules) == 37
    sections = {r.section for r in rules.values()}
    assert sections == {"1", "2", "3"}
    for rule in rules.values():
        assert rule.source and rule.label_zh and rule.label_en
        assert rule.label in {"V", "V (text)", "V (method)", "V (local)", "S", "S / V (local)", "R", "—"}, rule.id
    assert rules["toilet_radius_mandatory"].number() == 300
    assert rules["garbage_point_radius_mandatory"].number() == 120
    assert (rules["toilet_density_residential"].number(), rules["toilet_density_residential"].upper()) == (3, 5)


def test_labels_are_shown_where_not_verified():
    rules = load({})
    assert "二手来源" not in rules["toilet_radius_mandatory"].describe("zh")
    assert "（二手来源，S）" in rules["toilet_density_city"].describe("zh")
    assert "(secondary source, S)" in rules["transfer_station_radius_manual"].describe("en")


def test_city_override_file_changes_and_adds_rules(tmp_path, demo_conn, monkeypatch):
    override = tmp_path / "city.csv"
    override.write_text("id,value,source,label\n"
                        "garbage_point_radius_mandatory,100,市环卫专项规划（2025）,V\n"
                        "market_radius_city,800,市农贸市场布局规划,V\n", encoding="utf-8")
    rules = load({"HYGIENE_MAP_STANDARDS_FILE": str(override)})
    assert rules["garbage_point_radius_mandatory"].number() == 100
    assert rules["garbage_point_radius_mandatory"].unit == "m"  # untouched columns keep their value
    assert rules["market_radius_city"].number() == 800
    monkeypatch.setenv("HYGIENE_MAP_STANDARDS_FILE", str(override))
    from geo.coverage import coverage

    result = coverage(demo_conn, "garbage_points", by="district")
    assert result["radius_m"] == 100 and "市环卫专项规划" in result["rule"].describe()
    result = coverage(demo_conn, "markets", by="district", rule_id="market_radius_city")
    assert result["radius_m"] == 800 and result["rule"].id == "market_radius_city"


def test_bad_override_file_names_the_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,value,unit\ntoilet_radius_mandatory,三百,m\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad.csv, row 2: value='三百' is not a number"):
        load({"HYGIENE_MAP_STANDARDS_FILE": str(bad)})
    with pytest.raises(InvalidInput, match="unknown: colour"):
        bad.write_text("id,colour\nx,red\n", encoding="utf-8")
        load({"HYGIENE_MAP_STANDARDS_FILE": str(bad)})
    with pytest.raises(InvalidInput, match="does not exist"):
        load({"HYGIENE_MAP_STANDARDS_FILE": str(tmp_path / "missing.csv")})
