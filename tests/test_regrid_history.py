"""Cutting a street's grids again (regrid): findings follow their place, past bulletins keep their units.

What a street office and a campaign office rely on after ``grids generate`` runs again for a street:
an open finding lies in a grid that exists and contains it (its list, its print, the inspector of
that grid), and a bulletin for a period before the regrid charges each complaint to the unit that
held its place then — or to no unit when that cannot be known, saying so — never to a grid cut later.
On the small demo and on Taipei's 大同區 from the real files (villages as communities).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from click.testing import CliRunner

from api.cli import main
from data.db import connect
from data.params import period_of
from data.vocab import RECHECK_PASSED, city_tz
from layers.printing.problems_data import load_problems
from layers.reports.bulletin import period_figures
from layers.reports.compose import bulletin
from layers.workflow import complaints, inspections
from layers.workflow.access import OPERATOR, User
from tests.test_inspection_problems import TAIPEI_STREET, _cli, taipei  # noqa: F401 (the real-city fixture)

DEMO_STREET = "379901001"
#: A month of demo complaints, before any regrid (the demo's data end on 1 November 2026).
OCTOBER = period_of("month", date(2026, 10, 15), city_tz())


def _rows(conn, sql, params=()):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _units(conn, period) -> dict[str, dict]:
    """The bulletin's figures per unit of ``period`` (the unassigned / unattributed under "")."""
    return {unit: f.as_dict() for unit, f in period_figures(conn, period)["units"].items()}


def _misplaced(conn, table: str, street: str) -> list:
    """Cases of the street whose grid is not a current grid containing them (what a regrid must not leave)."""
    return _rows(conn, f"""SELECT x.id, x.grid_code FROM {table} x WHERE x.street_code = %s AND NOT EXISTS
                              (SELECT 1 FROM grids g WHERE g.code = x.grid_code AND ST_Intersects(g.geom, x.geom))""",
                 (street,))


def _grid_sees(conn, round_id: int, street: str) -> None:
    """Each finding of the round in ``street`` is listed (and printed) in a current grid, whose inspector reads it."""
    codes = {c for (c,) in _rows(conn, "SELECT code FROM grids WHERE street_code = %s", (street,))}
    problems = load_problems(conn, round_id, street).problems
    assert problems
    for p in problems:
        assert p.grid_code in codes, (p.id, p.grid_code)
        inspector = User(0, "grid-inspector", "inspector", street, (p.grid_code,))
        shown = {q.id: q for q in load_problems(conn, round_id, street, viewer=inspector).problems}
        assert shown[p.id].personal, (p.id, p.grid_code)


def _regrid(size: str) -> str:
    result = CliRunner().invoke(main, ["grids", "generate", "--street", DEMO_STREET, "--size", size, "--force"])
    assert result.exit_code == 0, result.output
    return result.output


def _new_code_point(conn, street: str, old_codes: set[str]):
    """A point inside a grid whose code did not exist before the regrid, and that grid's code and unit."""
    rows = _rows(conn, """SELECT code, responsible_unit, ST_X(p), ST_Y(p)
                          FROM (SELECT code, responsible_unit, ST_PointOnSurface(geom) p FROM grids
                                WHERE street_code = %s AND responsible_unit IS NOT NULL) g ORDER BY code""", (street,))
    fresh = [r for r in rows if r[0] not in old_codes]
    assert fresh, "the regrid cut no grid with a new code"
    return fresh[0]


def test_demo_regrid_moves_every_finding_to_the_grid_now_containing_it(writable_demo, env_for):
    env_for(writable_demo)
    conn = connect(url=writable_demo)
    found_in = dict(_rows(conn, "SELECT id, grid_code FROM inspection_findings WHERE street_code = %s",
                          (DEMO_STREET,)))
    statuses = {s for (s,) in _rows(conn, "SELECT DISTINCT status FROM inspection_findings WHERE street_code = %s",
                                    (DEMO_STREET,))}
    assert len(found_in) > 5 and RECHECK_PASSED in statuses and len(statuses) > 1
    units = dict(_rows(conn, "SELECT id, responsible_unit FROM inspection_findings"))
    conn.close()

    text = _regrid("200")
    conn = connect(url=writable_demo)
    # Every finding, open or closed, lies in the current grid containing it, as every complaint does.
    assert _misplaced(conn, "complaints", DEMO_STREET) == []
    assert _misplaced(conn, "inspection_findings", DEMO_STREET) == []
    for (round_id,) in _rows(conn, "SELECT DISTINCT round_id FROM inspection_findings WHERE street_code = %s",
                             (DEMO_STREET,)):
        _grid_sees(conn, round_id, DEMO_STREET)
    # The unit charged with a finding stays; the grid it was found in stays on record.
    assert dict(_rows(conn, "SELECT id, responsible_unit FROM inspection_findings")) == units
    moved = _rows(conn, "SELECT id, grid_code, origin_grid_code FROM inspection_findings "
                        "WHERE street_code = %s AND origin_grid_code IS NOT NULL", (DEMO_STREET,))
    assert moved and f"{len(moved)} findings" in text
    assert all(found_in[i] == origin != grid for i, grid, origin in moved)
    conn.close()


def test_demo_bulletin_before_a_regrid_keeps_its_units(writable_demo, env_for):
    env_for(writable_demo)
    conn = connect(url=writable_demo)
    old_codes = {c for (c,) in _rows(conn, "SELECT code FROM grids WHERE street_code = %s", (DEMO_STREET,))}
    october = _units(conn, OCTOBER)
    assert sum(f["received"] for f in october.values()) > 50
    conn.close()
    _regrid("200")
    conn = connect(url=writable_demo)
    # October's bulletin is the one printed before the regrid: every unit charged as it was.
    assert _units(conn, OCTOBER) == october

    # A complaint of October loaded after the regrid, inside a grid that did not exist in October:
    # nobody can be said to have held that place through the new grid, so no unit is charged.
    code, unit, lon, lat = _new_code_point(conn, DEMO_STREET, old_codes)
    complaints.create(conn, lon=lon, lat=lat, category=_rows(conn, "SELECT name FROM event_types LIMIT 1")[0][0],
                      description=None, channel="12345", reported_at=datetime(2026, 10, 20, 9, tzinfo=city_tz()),
                      actor="test")
    after = _units(conn, OCTOBER)
    assert after.get(unit, {}).get("received", 0) == october.get(unit, {}).get("received", 0)
    assert after[""]["received"] == october.get("", {}).get("received", 0) + 1
    # The bulletin says so: its row without a unit names why.
    row = next(r for r in bulletin(conn, OCTOBER)["units"] if r["code"] is None)
    assert "无法归属" in row["name"] and row["received"] >= 1
    assert "not attributable" in next(r for r in bulletin(conn, OCTOBER, "en")["units"] if r["code"] is None)["name"]
    conn.rollback()
    conn.close()


def test_demo_finding_observed_before_its_grid_existed_is_charged_to_no_grid_cut_later(writable_demo, env_for):
    """A phone syncing a finding seen before the regrid: the new grid's first unit did not hold the place then."""
    env_for(writable_demo)
    conn = connect(url=writable_demo)
    old_codes = {c for (c,) in _rows(conn, "SELECT code FROM grids WHERE street_code = %s", (DEMO_STREET,))}
    conn.close()
    before = datetime.now(UTC) - timedelta(hours=2)
    _regrid("200")
    conn = connect(url=writable_demo)
    code, unit, lon, lat = _new_code_point(conn, DEMO_STREET, old_codes)
    the_round = inspections.create_round(conn, name="补录", kind="周检查", starts=before - timedelta(days=1),
                                         ends=datetime.now(UTC) + timedelta(days=1), streets=[DEMO_STREET],
                                         actor="test")
    late, _ = inspections.record_finding(conn, OPERATOR, round_id=the_round["id"], lon=lon, lat=lat, item="TLT-01",
                                         note=None, observed_at=before, client_id="late-sync")
    now, _ = inspections.record_finding(conn, OPERATOR, round_id=the_round["id"], lon=lon, lat=lat, item="TLT-01",
                                        note=None, observed_at=datetime.now(UTC), client_id="now")
    assert late["grid_code"] == now["grid_code"] == code
    assert now["responsible_unit"] == unit
    assert late["responsible_unit"] is None
    conn.rollback()
    conn.close()


# -- a real city: Taipei's 大同區, villages as communities, grids of 500 m cut again at 300 m ---------------------

def _taipei_points(conn) -> list[tuple[str, float, float]]:
    return _rows(conn, """SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM grids
                          WHERE street_code = %s) g ORDER BY code""", (TAIPEI_STREET,))


def test_taipei_regrid_moves_open_findings_and_keeps_the_units_charged(taipei):
    url = taipei["url"]
    conn = connect(url=url)
    old_codes = {c for c, *_ in _taipei_points(conn)}
    now = datetime.now(UTC)
    the_round = inspections.create_round(conn, name="大同區週檢", kind="周检查", starts=now - timedelta(days=1),
                                         ends=now + timedelta(days=1), streets=[TAIPEI_STREET], actor="test")
    category = _rows(conn, "SELECT name FROM event_types ORDER BY name LIMIT 1")[0][0]
    # A complaint and a finding at a point of every 500 m grid, after the roster gave each grid its unit.
    for code, lon, lat in _taipei_points(conn):
        complaints.create(conn, lon=lon, lat=lat, category=category, description=None, channel="1999",
                          reported_at=now, actor="test")
        inspections.record_finding(conn, OPERATOR, round_id=the_round["id"], lon=lon, lat=lat, item="TLT-01",
                                   note="門口", observed_at=now, client_id=f"tp-{code}")
    conn.commit()
    week = period_of("week", now.astimezone(city_tz()).date(), city_tz())
    charged = _units(conn, week)
    assert len([u for u in charged if u]) == 3
    units_before = dict(_rows(conn, "SELECT id, responsible_unit FROM inspection_findings"))
    conn.close()

    out = _cli(url, taipei["work"], "grids", "generate", "--street", TAIPEI_STREET, "--size", "300", "--force")
    conn = connect(url=url)
    assert _misplaced(conn, "inspection_findings", TAIPEI_STREET) == []
    assert "findings re-routed" in out
    assert _misplaced(conn, "complaints", TAIPEI_STREET) == []
    _grid_sees(conn, the_round["id"], TAIPEI_STREET)
    assert dict(_rows(conn, "SELECT id, responsible_unit FROM inspection_findings")) == units_before
    # This week's bulletin: each complaint still charged to the unit whose grid it was reported in.
    assert _units(conn, week) == charged

    # October's complaints, loaded after the regrid in a grid cut by it: held by nobody in October.
    code, unit, lon, lat = _new_code_point(conn, TAIPEI_STREET, old_codes)
    complaints.create(conn, lon=lon, lat=lat, category=category, description=None, channel="1999",
                      reported_at=datetime(2026, 10, 8, 10, tzinfo=city_tz()), actor="test")
    october = _units(conn, OCTOBER)
    assert unit not in october and october[""]["received"] == 1
    conn.rollback()
    # The same cut again moves nothing and keeps each record as it was.
    kept = _rows(conn, "SELECT id, grid_code, origin_grid_code FROM complaints ORDER BY id")
    conn.close()
    _cli(url, taipei["work"], "grids", "generate", "--street", TAIPEI_STREET, "--size", "300")
    conn = connect(url=url)
    assert _rows(conn, "SELECT id, grid_code, origin_grid_code FROM complaints ORDER BY id") == kept
    conn.close()


def test_the_migration_marks_grids_cut_by_earlier_regrids(fresh_db, monkeypatch):
    """Grids cut before migration 0840 are read from their history's reason: held by nobody before their cut."""
    from data import migrate as migrations
    from layers.workflow.grids import HOLDERS_SQL

    every = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in every if m.version < 840])
    conn = connect(url=fresh_db)
    migrations.migrate(conn)
    with conn.cursor() as cur:
        for code in ("37990100100101", "37990100100102"):
            cur.execute("""INSERT INTO grids (code, district_code, street_code, community_code, responsible_unit, geom)
                           VALUES (%s, '379901', '379901001', '379901001001', '甲单位',
                                   ST_Multi(ST_MakeEnvelope(120, 37, 120.01, 37.01, 4326)))""", (code,))
        cur.execute("""INSERT INTO grid_assignments (grid_code, responsible_unit, before, reason, changed_by, changed_at)
                       VALUES ('37990100100101', '甲单位', NULL, '网格重新划分 square 200 m：继承自 37990100100199',
                               'cli:x', '2026-11-20'),
                              ('37990100100102', '甲单位', NULL, '名册导入', 'cli:x', '2026-11-20')""")
    conn.commit()
    monkeypatch.setattr(migrations, "available", lambda: every)
    assert [m.version for m in migrations.migrate(conn)] == [840]
    held = dict(_rows(conn, f"SELECT grid_code, unit FROM ({HOLDERS_SQL}) h WHERE since < '2026-11-01' "
                            "AND until > '2026-11-01'"))
    assert held == {"37990100100101": None, "37990100100102": "甲单位"}
    assert _rows(conn, "SELECT grid_code, inherited_from FROM grid_assignments ORDER BY grid_code") == [
        ("37990100100101", "37990100100199"), ("37990100100102", None)]
    conn.close()
