"""A city whose only public file is its districts with one code each (Gaode's adcode, Yantai's): the way to
grids is a street per district with a code of its own, and every refusal on the way says so."""

from __future__ import annotations

from tests.real_city import yantai  # noqa: F401  (a fixture, used by name)


def test_the_priority_hint_names_a_street_code_of_its_own_for_a_one_code_district_file(yantai):
    """Importing the same file again as streets (its one code per district) is refused, nothing written; priority's
    hint says that a street needs a code of its own under the district's, and how to give it."""
    refused = yantai.cli("import", "admin_areas", "yantai_districts_gaode.geojson", "--crs", "gcj02", "--level",
                         "street", "--code-field", "adcode", "--name-field", "name", "--parent-field", "adcode",
                         "--source", "yt-streets", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "code 370602" in refused.stderr, refused.stderr
    assert yantai.sql("SELECT count(*) FROM admin_areas WHERE level = 'street'")[0][0] == 0
    said = yantai.cli("analyze", "priority").stdout
    assert "本市没有街道级区划" in said and "370602 → 370602001" in said, said
    english = yantai.cli("analyze", "priority", "--lang", "en").stdout
    assert "a code of its own under its district's" in english and "Gaode's adcode" in english, english
