"""Request-validation refusals (pydantic's) answer Chinese beside the English, built from the error's type."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError

from api.validation import validation_message


@pytest.mark.parametrize("path,params,detail,detail_zh", [
    ("/api/layers/toilets/export", {"format": "dwg"},
     "format: must be one of geojson, gpkg, shp, csv, xlsx, kml, not 'dwg'",
     "format：应为 geojson、gpkg、shp、csv、xlsx、kml 之一，不能是 'dwg'"),
    ("/api/layers/complaints/heat", {"bbox": "1,2,3,4"}, "zoom: Field required", "zoom：必填"),
    ("/api/layers/complaints/heat", {"bbox": "1,2,3,4", "zoom": "near"},
     "zoom: Input should be a valid integer, unable to parse string as an integer", "zoom：应为整数"),
    # A choice of a path's part (a Literal): its values listed in Chinese, not pydantic's "'pdf' or 'xlsx'".
    ("/reports/bulletin.html", {"period": "week", "date": "2026-11-30"},
     "suffix: must be one of pdf, xlsx, not 'html'", "suffix：应为 pdf、xlsx 之一，不能是 'html'"),
])
def test_a_malformed_parameter_is_refused_in_both_languages(demo_client, path, params, detail, detail_zh):
    """A Chinese page shows ``detail_zh``: the parameter, then what it should be, never pydantic's English."""
    answer = demo_client.get(path, params=params)
    assert answer.status_code == 422, answer.text
    assert (answer.json()["detail"], answer.json().get("detail_zh")) == (detail, detail_zh), answer.text


def test_a_pattern_that_is_no_choice_is_said_as_the_pattern():
    err = {"type": "string_pattern_mismatch", "loc": ("query", "key"), "msg": "String should match pattern '^[a-z]+$'",
           "input": "A!", "ctx": {"pattern": "^[a-z]+$"}}
    assert validation_message(RequestValidationError([err])) == (
        "key: String should match pattern '^[a-z]+$'", "key：格式不符（应匹配 ^[a-z]+$）")


def test_an_error_type_without_chinese_leaves_the_whole_answer_english():
    """Half Chinese, half pydantic's English would read as a translation slip: no detail_zh at all instead."""
    known = {"type": "missing", "loc": ("query", "zoom"), "msg": "Field required", "input": None}
    unknown = {"type": "url_parsing", "loc": ("body", "link"), "msg": "Input should be a valid URL", "input": "x"}
    assert validation_message(RequestValidationError([known, unknown])) == (
        "zoom: Field required; link: Input should be a valid URL", None)
    assert validation_message(RequestValidationError([known])) == ("zoom: Field required", "zoom：必填")
