"""New York from a planner's shell: the commands as typed, on the real files (the boroughs and the 311 day of
28 February 2023, whose hygiene requests were made between 11:31 and 23:41 New York time)."""

from __future__ import annotations

import pytest

from tests.new_york import SAMPLE
from tests.real_city import new_city


@pytest.fixture(scope="module")
def boroughs(pg_server, tmp_path_factory):
    """The five boroughs (the first import sets the city up in America/New_York) and the 311 day's requests."""
    with new_city(pg_server, tmp_path_factory, "nyc", ("boundaries/nybb.shp", SAMPLE)) as city:
        city.cli("import", "admin_areas", "nybb.shp", "--level", "district", "--code-field", "BoroCode",
                 "--name-field", "BoroName")
        city.cli("import", "complaints", SAMPLE, "--skip-bad")
        yield city


def test_analyze_reads_times_in_the_city_zone(boroughs):
    """`analyze hotspots --since 2023-02-28 --until 2023-03-01` is New York's 28 February, as the route reads it:
    every request of the day, not the Shanghai day (which ends at 11:00 in New York, before the first of them)."""
    assert boroughs.one("SELECT time_zone FROM city_settings") == "America/New_York"
    done = boroughs.cli("analyze", "hotspots", "--since", "2023-02-28", "--until", "2023-03-01", "--cell", "500",
                        "--limit", "1")
    day = boroughs.one("SELECT count(*) FROM complaints WHERE reported_at >= '2023-02-28T00:00-05:00' "
                       "AND reported_at < '2023-03-01T00:00-05:00'")
    assert day == boroughs.one("SELECT count(*) FROM complaints") > 300
    assert f"投诉 {day:,} 件" in done.stdout, done.stdout
