"""Areas drawn after the rows in them: complaints and facilities imported while a city had only its districts are
placed in its streets, communities and grids once those are imported.

The README's order — districts, then facilities and complaints, then streets and grids — is a city's common
path (streets come district by district). Before, those early rows stayed in no street for good: `grids
generate` re-routed none of them, rosters and bulletins did not count them. The oracle is the import's own
routing (numpy, in the client): the same files imported into a city whose areas came first.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from api.cli.main import main
from data.db import connect, transaction
from data.migrate import migrate
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import create_database, drop_database
from tests.test_real_analyses import load

B = "nyc/boundaries/"
ROWS = "SELECT source, source_id, district_code, street_code, community_code FROM {} ORDER BY source, source_id"


def _districts(conn, tmp_path):
    load(conn, tmp_path, B + "nybb.shp", "admin_areas", level="district", code_field="BoroCode", name_field="BoroName")


def _streets(conn, tmp_path):
    return (load(conn, tmp_path, B + "nycdta2020.shp", "admin_areas", level="street", code_field="CDTA2020",
                 name_field="CDTAName", parent_field="BoroCode"),
            load(conn, tmp_path, B + "nynta2020.shp", "admin_areas", level="community", code_field="NTA2020",
                 name_field="NTAName", parent_field="CDTA2020"))


def _rows(conn, tmp_path):
    load(conn, tmp_path, "nyc/nyc311_sample_2023-02-28.csv", "complaints", timezone="America/New_York")
    load(conn, tmp_path, "nyc/nyc_public_restrooms_20241203.csv", "toilets")


def _codes(conn, table: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(ROWS.format(table))
        rows = cur.fetchall()
    conn.rollback()
    return rows


@pytest.fixture
def cities(pg_server, fresh_db, tmp_path):
    """(late, first, the street and community imports' results): New York with its rows imported before its
    streets and communities, and the same with the areas first."""
    late = connect(url=fresh_db)
    migrate(late)
    _districts(late, tmp_path)
    _rows(late, tmp_path)
    results = _streets(late, tmp_path)
    first_url = create_database(pg_server[0])
    first = connect(url=first_url)
    try:
        migrate(first)
        _districts(first, tmp_path)
        _streets(first, tmp_path)
        _rows(first, tmp_path)
        yield late, first, results
    finally:
        first.close()
        late.close()
        drop_database(first_url)


def test_rows_imported_before_the_streets_are_placed_in_them(cities):
    """Every complaint and restroom gets the street and community the import gives when the areas came first,
    and the street and community imports say how many rows they placed, in Chinese and English."""
    late, first, (streets, communities) = cities
    for table in ("complaints", "toilets"):
        placed, oracle = _codes(late, table), _codes(first, table)
        assert len(placed) == len(oracle) > 300, table
        differ = [(a, b) for a, b in zip(placed, oracle) if a != b]
        assert not differ, (table, len(differ), differ[:5])
        assert sum(r[3] is not None for r in placed) > 0.9 * len(placed), table
    (note,) = [n for n in streets.notes if "now placed" in n]
    with late.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM complaints WHERE street_code IS NOT NULL), "
                    "(SELECT count(*) FROM toilets WHERE street_code IS NOT NULL)")
        complaints, toilets = cur.fetchone()
    late.rollback()
    assert note == ("rows already stored are now placed in the areas just imported (before, in no area of their "
                    f"level): {toilets:,} public toilets, {complaints:,} complaints"), note
    assert note.zh == f"已有数据按位置归入刚导入的区域（此前不在任何同级区域内）：公共厕所 {toilets:,} 条、投诉举报 {complaints:,} 条"
    # The communities came after the streets: every row placed in a street was placed in its community then.
    assert any("now placed" in n for n in communities.notes), communities.notes


def test_grids_generated_after_the_streets_take_the_early_complaints(cities, env_for, fresh_db):
    """`grids generate` on a street drawn after its complaints re-routes them to the new grids (it re-routed
    none: they had no street)."""
    late, _, _ = cities
    env_for(fresh_db)
    result = CliRunner().invoke(main, ["grids", "generate", "--street", "MN03", "--size", "500", "--lang", "en"])
    assert result.exit_code == 0, result.output
    with late.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints c JOIN grids g ON ST_Intersects(g.geom, c.geom) "
                    "WHERE g.street_code = 'MN03'")
        inside = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints WHERE grid_code LIKE 'MN03%%'")
        routed = cur.fetchone()[0]
    late.rollback()
    assert inside > 0 and routed == inside, (inside, routed)
    assert f"{inside} complaints" in result.output, result.output


def _finding_in(conn, community: str) -> int:
    """An inspection finding recorded in ``community`` while its street has no grids; its id."""
    from datetime import UTC, datetime, timedelta

    from layers.workflow import inspections
    from layers.workflow.access import OPERATOR

    now = datetime.now(UTC)
    with transaction(conn), conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                    "WHERE code = %s) c", (community,))
        lon, lat = cur.fetchone()
        the_round = inspections.create_round(conn, name="暗访", kind="周检查", starts=now - timedelta(days=1),
                                             ends=now + timedelta(days=1), streets=[community[:4]],
                                             actor="operator")
        found, _ = inspections.record_finding(conn, OPERATOR, round_id=the_round["id"], lon=lon, lat=lat,
                                              item="TLT-01", note=None, observed_at=now, client_id="backfill-1")
    assert found["grid_code"] is None and found["community_code"] == community, found
    return found["id"]


def test_a_grids_file_imported_after_the_complaints_takes_them(fresh_db, tmp_path):
    """A grids file imported after the complaints and a finding: those in its grid get the grid's code; the import
    says so."""
    conn = connect(url=fresh_db)
    try:
        migrate(conn)
        _districts(conn, tmp_path)
        _streets(conn, tmp_path)
        load(conn, tmp_path, "nyc/nyc311_sample_2023-02-28.csv", "complaints", timezone="America/New_York")
        finding = _finding_in(conn, "MN0301")
        with conn.cursor() as cur:
            # One grid: the whole of community MN0301 (Manhattan's Financial District), code MN0301 + 01.
            cur.execute("SELECT json_build_object('type', 'FeatureCollection', 'features', json_build_array("
                        "json_build_object('type', 'Feature', 'properties', json_build_object('code', 'MN030101'), "
                        "'geometry', ST_AsGeoJSON(geom)::json))) FROM admin_areas WHERE code = 'MN0301'")
            collection = cur.fetchone()[0]
            cur.execute("SELECT count(*) FILTER (WHERE grid_code IS NOT NULL), "
                        "count(*) FILTER (WHERE community_code = 'MN0301') FROM complaints")
            with_grid, inside = cur.fetchone()
        conn.rollback()
        assert with_grid == 0 and inside > 0, (with_grid, inside)
        grids = tmp_path / "grids.geojson"
        grids.write_text(json.dumps(collection), encoding="utf-8")
        with transaction(conn):
            result = import_file(conn, grids, ImportOptions("grids"))
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE community_code = 'MN0301') FROM complaints "
                        "WHERE grid_code = 'MN030101'")
            routed, of_community = cur.fetchone()
            cur.execute("SELECT grid_code FROM inspection_findings WHERE id = %s", (finding,))
            assert cur.fetchone()[0] == "MN030101"
        conn.rollback()
        assert routed == of_community == inside, (routed, of_community, inside)
        (note,) = [n for n in result.notes if "now placed" in n]
        assert note.endswith(f"(before, in no grid): {inside:,} complaints, 1 inspection findings"), note
        assert note.zh == (f"已有数据按位置归入刚导入的网格（此前不在任何网格内）：投诉举报 {inside:,} 条、"
                           "暗访问题 1 条"), note.zh
    finally:
        conn.close()
