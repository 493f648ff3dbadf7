"""The inspection checklist as data (data/checklist.csv) and a city's own file over it."""

from __future__ import annotations

import pytest

from data import checklist
from data.errors import InvalidInput, InvalidParameter
from data.settings import InspectionSettings
from data.vocab import PLACE_TYPES


def settings_for(path) -> InspectionSettings:
    return InspectionSettings.from_env({"HYGIENE_MAP_CHECKLIST_FILE": str(path)})


def test_shipped_checklist_covers_every_place_type_with_sources_and_labels():
    items = checklist.load(InspectionSettings.from_env({}))
    assert {i.place_type for i in items.values()} == set(PLACE_TYPES)
    for item in items.values():
        assert item.source and item.label in checklist.LABELS and item.text_zh and item.text_en
        # No source gives deductions or deadlines: they are this project's working values, said so.
        assert item.values_label == "W"


def test_a_city_file_overrides_and_adds_items(tmp_path):
    path = tmp_path / "city.csv"
    path.write_text("code,deduction,due_days,values_label,place_type,text_zh,source,label\n"
                    "TLT-01,5,,V (local),,,,\n"
                    "CITY-1,3,2,V (local),公厕,无障碍厕位被占用,本市创卫考核细则,V (local)\n", encoding="utf-8")
    items = checklist.load(settings_for(path))
    toilet = items["TLT-01"]
    assert (toilet.deduction, toilet.due_days, toilet.values_label) == (5.0, 1, "V (local)")
    assert toilet.text_zh == "通风不良有臭气"  # columns left empty keep the shipped value
    assert items["CITY-1"].text_en == "" and items["CITY-1"].deduction == 3.0
    assert items["CITY-1"].as_dict("zh")["values_label_text"] == "地方规定原文"


@pytest.mark.parametrize(("text", "message"), [
    ("code,deduction\nTLT-01,lots\n", "row 2: deduction='lots' is not a float"),
    ("code,due_days\nTLT-01,0\n", "row 2: due_days='0' must be at least 1"),
    ("code,place_type\nTLT-01,商场\n", "row 2: place_type '商场' is not one of"),
    ("code,label\nTLT-01,Q\n", "row 2: label 'Q' is not one of"),
    ("code,colour\nTLT-01,red\n", "unknown: colour"),
    ("code,deduction\n,1\n", "row 2: the code is empty"),
    ("code,deduction\nNEW-1,1\n", "item 'NEW-1' is new, so it needs place_type"),
])
def test_a_bad_city_file_is_refused_naming_file_row_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        checklist.load(settings_for(path))
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_city_file_and_an_unknown_item_are_clear_errors(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        checklist.load(settings_for(tmp_path / "none.csv"))
    with pytest.raises(InvalidParameter, match="NOPE"):
        checklist.item("NOPE", InspectionSettings.from_env({}))
