"""Taipei imported as a user first reads it: 區 as districts, 里 as communities, no street level. Grids are cut per
street, so `grids generate` refuses a district; `analyze priority` then said "run grids generate first" — the
command that had just refused. It now says how to add the street level (README, "Levels"), and doing so works."""

from __future__ import annotations

import pytest

from tests.real_city import TAIPEI_FILES, new_city


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts and villages, with no street level between them."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        city.cli("import", "admin_areas", "taipei_districts_town.geojson", "--level", "district",
                 "--code-field", "CPID", "--name-field", "TNAME")
        city.cli("import", "admin_areas", "taipei_villages_li.geojson", "--level", "community",
                 "--code-field", "CPTVID", "--name-field", "VNAME", "--parent-field", "CPID")
        yield city


def test_priority_in_a_city_without_streets_says_how_to_add_them(taipei):
    refused = taipei.cli("grids", "generate", "--street", "63006", "--size", "500", check=False)
    assert refused.returncode != 0 and "不是街道" in refused.stderr, refused.stderr
    said = taipei.cli("analyze", "priority", "--street", "63006").stdout
    assert "先运行 grids generate" not in said, said
    assert "本市没有街道级区划" in said and "--level street" in said, said
    english = taipei.cli("analyze", "priority", "--street", "63006", "--lang", "en").stdout
    assert "this city has no streets" in english and "import the districts again with --level street" in english


def test_the_districts_imported_again_as_streets_take_grids(taipei):
    taipei.cli("import", "admin_areas", "taipei_districts_town.geojson", "--level", "street", "--code-field", "CPTID",
               "--name-field", "TNAME", "--parent-field", "CPID", "--source", "taipei_district_offices")
    taipei.cli("import", "admin_areas", "taipei_villages_li.geojson", "--level", "community",
               "--code-field", "CPTVID", "--name-field", "VNAME", "--parent-field", "CPTID")
    done = taipei.cli("grids", "generate", "--street", "6300600", "--size", "500")
    assert done.returncode == 0 and taipei.one("SELECT count(*) FROM grids WHERE street_code = '6300600'") > 10
