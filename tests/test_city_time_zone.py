"""The city's time zone when `city init` came before the admin areas, on the real files, as a user types it.

Without ``--tz`` the zone is only a placeholder (Beijing time) until the first admin-area import chooses it from
where the areas lie, as it does without `city init`: Hong Kong's 18 district council areas of 2001 → Asia/Hong_Kong,
New York's five boroughs → America/New_York. A zone named with ``--tz`` (at init or with `city set`) stays.
The city of tests/test_hongkong.py (`city init` without ``--tz``) is checked there.
"""

from __future__ import annotations

import pytest

from tests.real_city import new_city

DISTRICTS = "hk_district_council_2001_dc_land.json"
HK_IMPORT = ("import", "admin_areas", DISTRICTS, "--level", "district", "--code-field", "DC_CODE",
             "--name-field", "DC_CHIN")


def _zone(city) -> tuple[str, bool]:
    return city.sql("SELECT time_zone, time_zone_pending FROM city_settings")[0]


def test_hong_kong_init_without_tz_then_its_districts_take_hong_kong_time(pg_server, tmp_path_factory):
    """`city init` without --tz (and with a metric CRS of its own): the districts choose the zone, not the CRS."""
    with new_city(pg_server, tmp_path_factory, "hongkong", [DISTRICTS]) as city:
        shown = city.cli("city", "init", "--name", "香港", "--code", "810000", "--crs", "EPSG:2326", "--lang", "en").stdout
        assert "time zone:   Asia/Shanghai for now (the first admin-area import chooses it)" in shown, shown
        said = city.cli(*HK_IMPORT)
        assert "说明：城市的时区尚未指定：本次导入已设为区域所在的时区 Asia/Hong_Kong" in said.stdout, said.stdout
        assert _zone(city) == ("Asia/Hong_Kong", False)
        assert city.one("SELECT metric_srid FROM city_settings") == 2326  # named at init: kept
        shown = city.cli("city", "show", "--lang", "en").stdout
        assert "time zone:   Asia/Hong_Kong\n" in shown, shown
        # Areas imported again (here: as streets) change nothing: the zone is chosen.
        again = city.cli("import", "admin_areas", DISTRICTS, "--level", "street", "--code-field", "DC",
                         "--name-field", "DC_CHIN", "--parent-field", "DC_CODE")
        assert "时区" not in again.stdout + again.stderr
        assert _zone(city) == ("Asia/Hong_Kong", False)


@pytest.mark.parametrize("named", ["init", "set"])
def test_hong_kong_with_a_zone_named_keeps_it(pg_server, tmp_path_factory, named):
    """--tz Asia/Shanghai at `city init`, or with `city set` before the import: the districts do not replace it."""
    with new_city(pg_server, tmp_path_factory, "hongkong", [DISTRICTS]) as city:
        tz = ["--tz", "Asia/Shanghai"] if named == "init" else []
        city.cli("city", "init", "--name", "香港", "--code", "810000", *tz)
        if named == "set":
            city.cli("city", "set", "--tz", "Asia/Shanghai")
        assert _zone(city) == ("Asia/Shanghai", False)
        said = city.cli(*HK_IMPORT)
        assert "time zone" not in said.stdout + said.stderr, said.stdout
        assert _zone(city) == ("Asia/Shanghai", False)
        assert "time zone:   Asia/Shanghai\n" in city.cli("city", "show", "--lang", "en").stdout


def test_new_york_init_without_tz_then_its_boroughs_take_new_york_time(pg_server, tmp_path_factory):
    """The zone comes from the tz database's boundaries (not only mainland / Hong Kong / Taipei): New York's,
    with its summer time, and the UTM zone as the metric CRS."""
    with new_city(pg_server, tmp_path_factory, "nyc", ["boundaries/nybb.shp"]) as city:
        city.cli("city", "init", "--name", "New York", "--code", "3651000")
        said = city.cli("import", "admin_areas", "nybb.shp", "--level", "district", "--code-field", "BoroCode",
                        "--name-field", "BoroName")
        assert "America/New_York" in said.stdout, said.stdout
        assert _zone(city) == ("America/New_York", False)
        assert city.one("SELECT metric_srid FROM city_settings") == 32618
        assert city.one("SELECT name FROM city_settings") == "New York"  # the name given at init stays
