"""A 12345 hotline export says nothing of its channel (every row came through the hotline): `--channel 12345`
gives every row its channel, as the bulletins' and the case list's channel column then show; a whole-file value
for a layer without that column is refused, not ignored. Taipei's real boundaries, imported as a user does."""

from __future__ import annotations

import pytest

from tests.real_city import TAIPEI_FILES, new_city, taipei_areas
from tests.test_import_traditional import write_export


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages, and nothing else."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        yield city


def test_a_hotline_export_gets_its_channel_from_the_option(taipei):
    name = write_export(taipei, "12345工單_渠道.csv")
    taipei.cli("import", "complaints", name, "--channel", "12345")
    assert taipei.sql("SELECT DISTINCT channel FROM complaints WHERE source = %s", (name,)) == [("12345",)]
    # Without the option the export's rows have none: the file says nothing of it.
    other = write_export(taipei, "12345工單_無渠道.csv")
    taipei.cli("import", "complaints", other)
    assert taipei.sql("SELECT DISTINCT channel FROM complaints WHERE source = %s", (other,)) == [(None,)]


@pytest.mark.parametrize("layer, option, value", [("toilets", "--channel", "12345"),
                                                   ("complaints", "--level", "street")])
def test_a_whole_file_value_for_another_layer_is_refused_naming_the_option(taipei, layer, option, value):
    name = write_export(taipei, "12345工單_錯層.csv")
    done = taipei.cli("import", layer, name, option, value, check=False)
    assert done.returncode != 0 and done.stderr.startswith(f"hygiene-map：错误：{option}：只用于 "), done.stderr
    assert taipei.one("SELECT count(*) FROM complaints WHERE source = %s", (name,)) == 0
