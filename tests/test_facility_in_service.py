"""Facilities closed, under construction or out of order (是否在用) stay on the map but reach no one.

New York's public restrooms (NYC Open Data, 2024-12-03) say so in their Status column: 88 not operational,
26 closed for construction, 2 closed. Coverage, density and siting counted them as serving their
neighbourhoods; a planner deciding where the next toilets go was told a closed restroom covered its block.
"""

from __future__ import annotations

import csv

import pytest

from data.db import connect, transaction
from data.migrate import migrate
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import real_data
from tests.test_real_analyses import load
from tests.test_real_analyses import run as answer

RESTROOMS = "nyc/nyc_public_restrooms_20241203.csv"


@pytest.fixture(scope="module")
def nyc(module_fresh_db, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("nyc")
    conn = connect(url=module_fresh_db)
    migrate(conn)
    b = "nyc/boundaries/"
    load(conn, tmp_path, b + "nybb.shp", "admin_areas", level="district", code_field="BoroCode", name_field="BoroName")
    load(conn, tmp_path, b + "nycdta2020.shp", "admin_areas", level="street", code_field="CDTA2020",
         name_field="CDTAName", parent_field="BoroCode")
    result = load(conn, tmp_path, RESTROOMS, "toilets")
    yield conn, result, tmp_path
    conn.close()


def statuses(tmp_path) -> list[tuple[str, float, float, str]]:
    """Each row's name, latitude, longitude and Status, as New York wrote them."""
    with open(real_data(RESTROOMS, tmp_path), encoding="utf-8-sig", newline="") as f:
        return [(r["Facility Name"].strip(), float(r["Latitude"]), float(r["Longitude"]), r["Status"])
                for r in csv.DictReader(f)]


def by_code(conn, name: str, **raw) -> dict:
    """Each area's properties in one analysis's answer, by its code."""
    body, _ = answer(conn, name, **raw)
    return {f["properties"]["code"]: f["properties"] for f in body["features"]}


def test_the_answers_say_how_many_were_left_out(nyc):
    """Coverage, density and siting say beside their answer that 116 restrooms not in service are not counted,
    on the map page (the GeoJSON's warning) and in the command's report, in Chinese and in English."""
    conn, _, _ = nyc
    for name, raw in (("coverage", {"by": "district"}), ("density", {"by": "district"}),
                      ("siting", {"add": "1", "street": "MN03"})):
        body, report = answer(conn, name, "zh", **raw)
        said = body["warning"].split("；")
        assert said[0] == "不计不在用（停用、在建等）的公共厕所 116 处", (name, body["warning"])
        # Siting in a city without community populations or land use also says its sites are only indicative.
        assert said[1:] == (["需求按区域面积均匀分布：选址仅供参考，请导入社区人口或用地（条件相近的多处之间选哪一处是任意的）"]
                            if name == "siting" else []), (name, body["warning"])
        assert body["warning"] in report.head, (name, report.head)
        english, _ = answer(conn, name, "en", **raw)
        assert english["warning"].startswith(
            "116 public toilets not in service (closed, under construction) are not counted"), english["warning"]
        assert (english["warning"] == "116 public toilets not in service (closed, under construction) are not "
                                      "counted") == (name != "siting"), english["warning"]


def test_nyc_status_and_accessibility_are_read(nyc):
    conn, result, tmp_path = nyc
    assert not [p for p in result.problems if p.column in ("Status", "Accessibility")], result.problems[:5]
    with conn.cursor() as cur:
        cur.execute("SELECT in_service, count(*) FROM toilets GROUP BY 1")
        served = dict(cur.fetchall())
        cur.execute("SELECT accessible, count(*) FROM toilets GROUP BY 1")
        accessible = dict(cur.fetchall())
        cur.execute("SELECT name, ST_Y(geom), ST_X(geom), in_service FROM toilets")
        stored = cur.fetchall()
    stated = statuses(tmp_path)
    assert served[False] == sum(s != "Operational" for *_, s in stated) == 116
    assert served[True] == len(stored) - 116
    # Fully 569, not 213; "partially accessible" (40) and empty cells (225) are unknown, not a guess.
    assert accessible == {True: 569, False: 213, None: 265}
    said = {}
    for name, lat, lon, status in stated:
        said.setdefault((name, round(lat, 5), round(lon, 5)), set()).add(status == "Operational")
    for name, lat, lon, in_service in stored:
        assert in_service in said[(name, round(lat, 5), round(lon, 5))], name


def test_a_closed_restroom_covers_no_one_and_counts_in_no_density(nyc):
    """Reopening New York's closed restrooms raises the boroughs' coverage and counts; closing them again gives
    back the answer before to the digit (the kept coverage follows the change)."""
    conn, _, _ = nyc
    before = by_code(conn, "coverage", by="district")
    density = by_code(conn, "density", by="district")
    with conn.cursor() as cur:
        cur.execute("SELECT a.code, count(*) FILTER (WHERE in_service), count(*) FILTER (WHERE NOT in_service) "
                    "FROM admin_areas a JOIN toilets t ON ST_Intersects(t.geom, a.geom) "
                    "WHERE a.level = 'district' GROUP BY 1")
        counts = {code: (open_, closed) for code, open_, closed in cur.fetchall()}
        cur.execute("SELECT array_agg(id) FROM toilets WHERE NOT in_service")
        closed_ids = cur.fetchone()[0]
    assert {code: p["count"] for code, p in density.items()} == {c: counts.get(c, (0, 0))[0] for c in density}
    try:
        with transaction(conn), conn.cursor() as cur:
            cur.execute("UPDATE toilets SET in_service = true WHERE id = ANY(%s)", (closed_ids,))
        reopened = by_code(conn, "coverage", by="district")
        more = by_code(conn, "density", by="district")
    finally:
        with transaction(conn), conn.cursor() as cur:
            cur.execute("UPDATE toilets SET in_service = false WHERE id = ANY(%s)", (closed_ids,))
    assert {code: p["count"] for code, p in more.items()} == {c: sum(counts.get(c, (0, 0))) for c in more}
    for code, p in before.items():
        assert reopened[code]["covered_area_pct"] >= p["covered_area_pct"] - 1e-9, code
    assert sum(reopened[c]["covered_area_pct"] - p["covered_area_pct"] for c, p in before.items()) > 0.1
    again = by_code(conn, "coverage", by="district")
    assert {c: p["covered_area_pct"] for c, p in again.items()} == {c: p["covered_area_pct"] for c, p in before.items()}


def taipei_ledger(conn, tmp_path, lines: str):
    """Taipei's districts in a new database, then a toilet ledger of ``lines`` (名称,经度,纬度,状态); its result."""
    migrate(conn)
    load(conn, tmp_path, "taipei/taipei_districts_town.geojson", "admin_areas", level="district",
         code_field="CPTID", name_field="TNAME")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("名称,经度,纬度,状态\n" + lines, encoding="utf-8")
    with transaction(conn):
        return import_file(conn, ledger, ImportOptions("toilets"))


def test_a_ledger_status_column_in_chinese(fresh_db, tmp_path):
    """A district's toilet ledger with a 状态 column: 在用 and 暂停使用 are read; a word about something else (良好,
    the toilet's upkeep) is a warning naming the column and the word, and the toilet stays in service."""
    conn = connect(url=fresh_db)
    try:
        result = taipei_ledger(conn, tmp_path, "兰雅公园公厕,121.529402,25.109725,在用\n"
                               "剑潭站公厕,121.525078,25.084873,暂停使用\n士林站公厕,121.52623,25.093535,良好\n")
        with conn.cursor() as cur:
            cur.execute("SELECT name, in_service FROM toilets ORDER BY name")
            assert dict(cur.fetchall()) == {"兰雅公园公厕": True, "剑潭站公厕": False, "士林站公厕": True}
        (warning,) = [p for p in result.problems if p.column == "状态"]
        assert warning.severity == "warning" and warning.row == 4 and "'良好'" in warning.reason_zh, warning
    finally:
        conn.close()


def test_every_toilet_closed_is_said_as_such_not_as_missing_data(fresh_db, tmp_path):
    """A district whose toilets are all suspended: the answer says they are all left out and every answer is 0, not
    that the city has no toilet data to import (it has)."""
    conn = connect(url=fresh_db)
    try:
        taipei_ledger(conn, tmp_path, "剑潭站公厕,121.525078,25.084873,暂停使用\n士林站公厕,121.52623,25.093535,停用\n")
        body, _ = answer(conn, "coverage", "zh", by="district")
        assert body["warning"] == "不计不在用（停用、在建等）的公共厕所 2 处；均不在用：结果全为 0", body["warning"]
        english, _ = answer(conn, "coverage", "en", by="district")
        assert english["warning"] == ("2 public toilets not in service (closed, under construction) are not counted; "
                                      "none of them is in service: every answer is 0"), english["warning"]
    finally:
        conn.close()
