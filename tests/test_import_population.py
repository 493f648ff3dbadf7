"""A census table's population added to areas already imported: Taipei's villages file again, with a POP column,
under another file name. Refused naming the area code taken and how to update those rows (--source with the file
they came from; no PostgreSQL fragment), nothing written; imported again that way, every village has its figure."""

from __future__ import annotations

import json

import pytest

from tests.real_city import TAIPEI_FILES, new_city, taipei_areas

VILLAGES = ("--level", "community", "--code-field", "CPTVID", "--name-field", "VNAME", "--parent-field", "CPTID",
            "--population-field", "POP")


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages, and the villages again with a population each."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        villages = json.loads((city.work / "taipei_villages_li.geojson").read_text(encoding="utf-8"))
        for k, feature in enumerate(villages["features"]):
            feature["properties"]["POP"] = 3000 + k
        (city.work / "里人口.geojson").write_text(json.dumps(villages, ensure_ascii=False), encoding="utf-8")
        yield city


def test_a_population_under_another_file_name_is_refused_saying_how(taipei):
    done = taipei.cli("import", "admin_areas", "里人口.geojson", *VILLAGES, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    said = done.stderr.strip()
    assert said.startswith("hygiene-map：错误：里人口.geojson：与 admin_areas 中来自其他来源的已有行冲突：code 63"), said
    assert said.endswith("请加 --source 指明它们最初导入的来源文件名（见 `hygiene-map export admin_areas` 的“数据来源”列）"), said
    assert "Key (" not in said and "already exists" not in said
    assert taipei.one("SELECT count(*) FROM admin_areas WHERE population IS NOT NULL") == 0


def test_imported_under_the_original_source_every_village_gets_its_figure(taipei):
    done = taipei.cli("import", "admin_areas", "里人口.geojson", *VILLAGES, "--source", "taipei_villages_li.geojson")
    assert "新增 0，更新 456" in done.stdout, done.stdout
    assert taipei.one("SELECT count(*) FROM admin_areas WHERE level = 'community' AND population >= 3000") == 456
