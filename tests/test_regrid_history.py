"""Cutting a street's grids again (regrid): findings follow their place, past bulletins keep their units.

What a street office and a campaign office rely on after ``grids generate`` runs again for a street:
an open finding lies in a grid that exists and contains it (its list, its print, the inspector of
that grid), and a bulletin for a period before the regrid charges each complaint to the unit that
held its place then — or to no unit when that cannot be known, saying so — never to a grid cut later.
On the small demo and on Taipei's 大同區 from the real files (villages as communities).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg2
import pytest
import shapely
from click.testing import CliRunner

from api.cli.main import main
from data.db import connect
from data.params import period_of
from data.vocab import RECHECK_PASSED, city_tz
from layers.printing.problems_data import load_problems
from layers.reports.bulletin import period_figures
from layers.reports.compose import bulletin
from layers.workflow import complaints, inspections
from layers.workflow.access import OPERATOR, User
from layers.workflow.grids import HOLDERS_SQL
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
    """Each finding of the round in ``street`` lies in a current grid, whose inspector reads it; the list names the
    grid as published — an ended round's, the grid the finding was found in; one under way, today's."""
    codes = {c for (c,) in _rows(conn, "SELECT code FROM grids WHERE street_code = %s", (street,))}
    today, named = {}, {}
    for fid, grid, origin, ended in _rows(conn, "SELECT f.id, f.grid_code, f.origin_grid_code, r.ends <= now() "
                                                "FROM inspection_findings f JOIN inspection_rounds r ON r.id = f.round_id "
                                                "WHERE f.round_id = %s AND f.street_code = %s", (round_id, street)):
        today[fid], named[fid] = grid, (origin or grid) if ended else grid
    problems = load_problems(conn, round_id, street).problems
    assert problems
    for p in problems:
        assert today[p.id] in codes and p.grid_code == named[p.id], (p.id, p.grid_code)
        inspector = User(0, "grid-inspector", "inspector", street, (today[p.id],))
        shown = {q.id: q for q in load_problems(conn, round_id, street, viewer=inspector).problems}
        assert shown[p.id].personal, (p.id, p.grid_code)


def _regrid(size: str) -> str:
    result = CliRunner().invoke(main, ["grids", "generate", "--street", DEMO_STREET, "--size", size, "--force",
                                       "--lang", "en"])
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


def _old_grids(conn, street: str) -> list[tuple[str, str, object]]:
    """The street's grids (code, unit, shape) as they are now, before a regrid."""
    return [(c, u, shapely.from_wkb(bytes(g))) for c, u, g in _rows(
        conn, "SELECT code, responsible_unit, ST_AsBinary(geom) FROM grids WHERE street_code = %s", (street,))]


def _held_then(old: list, lon: float, lat: float) -> tuple[str, str]:
    """The old grid holding a point, and its unit."""
    held = [(c, u) for c, u, g in old if g.intersects(shapely.Point(lon, lat))]
    assert len(held) == 1, held
    return held[0]


def test_demo_bulletin_before_a_regrid_keeps_its_units(writable_demo, env_for):
    env_for(writable_demo)
    conn = connect(url=writable_demo)
    old = _old_grids(conn, DEMO_STREET)
    october = _units(conn, OCTOBER)
    assert sum(f["received"] for f in october.values()) > 50
    conn.close()
    _regrid("200")
    conn = connect(url=writable_demo)
    # October's bulletin is the one printed before the regrid: every unit charged as it was.
    assert _units(conn, OCTOBER) == october

    # A complaint of October loaded after the regrid, inside a grid that did not exist in October: charged to
    # the unit of the grid that held its place in October (the demo's grids were held by one unit throughout),
    # not to the new grid's unit, and not left unattributed.
    code, unit, lon, lat = _new_code_point(conn, DEMO_STREET, {c for c, *_ in old})
    then, unit_then = _held_then(old, lon, lat)
    late = complaints.create(conn, lon=lon, lat=lat, category=_rows(conn, "SELECT name FROM event_types LIMIT 1")[0][0],
                             description=None, channel="12345",
                             reported_at=datetime(2026, 10, 20, 9, tzinfo=city_tz()), actor="test")
    assert _rows(conn, "SELECT grid_code, origin_grid_code FROM complaints WHERE id = %s", (late["id"],)) == [
        (code, then)]
    after = _units(conn, OCTOBER)
    assert after[unit_then]["received"] == october[unit_then]["received"] + 1
    assert after.get("", {}).get("received", 0) == october.get("", {}).get("received", 0)
    conn.rollback()
    conn.close()


def test_demo_finding_observed_before_a_regrid_is_charged_to_the_unit_holding_its_place_then(writable_demo, env_for):
    """A phone syncing a finding seen before the regrid: charged to the unit of the grid its place lay in then,
    not to the new grid's first unit (who did not hold the place then), nor to nobody."""
    env_for(writable_demo)
    conn = connect(url=writable_demo)
    old = _old_grids(conn, DEMO_STREET)
    conn.close()
    before = datetime.now(UTC) - timedelta(hours=2)
    _regrid("200")
    conn = connect(url=writable_demo)
    code, unit, lon, lat = _new_code_point(conn, DEMO_STREET, {c for c, *_ in old})
    then, unit_then = _held_then(old, lon, lat)
    the_round = inspections.create_round(conn, name="补录", kind="周检查", starts=before - timedelta(days=1),
                                         ends=datetime.now(UTC) + timedelta(days=1), streets=[DEMO_STREET],
                                         actor="test")
    late, _ = inspections.record_finding(conn, OPERATOR, round_id=the_round["id"], lon=lon, lat=lat, item="TLT-01",
                                         note=None, observed_at=before, client_id="late-sync")
    now, _ = inspections.record_finding(conn, OPERATOR, round_id=the_round["id"], lon=lon, lat=lat, item="TLT-01",
                                        note=None, observed_at=datetime.now(UTC), client_id="now")
    assert late["grid_code"] == now["grid_code"] == code
    assert (now["responsible_unit"], late["responsible_unit"]) == (unit, unit_then)
    assert _rows(conn, "SELECT client_id, origin_grid_code FROM inspection_findings WHERE client_id IN "
                       "('late-sync', 'now') ORDER BY client_id") == [("late-sync", then), ("now", None)]
    conn.rollback()
    conn.close()


# -- a real city: Taipei's 大同區, villages as communities, grids of 500 m cut again at 300 m ---------------------

def _taipei_points(conn) -> list[tuple[str, float, float]]:
    return _rows(conn, """SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM grids
                          WHERE street_code = %s) g ORDER BY code""", (TAIPEI_STREET,))


def test_taipei_regrid_moves_open_findings_and_keeps_the_units_charged(taipei):
    url = taipei["url"]
    conn = connect(url=url)
    old = _old_grids(conn, TAIPEI_STREET)
    old_codes = {c for c, *_ in old}
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

    out = _cli(url, taipei["work"], "grids", "generate", "--street", TAIPEI_STREET, "--size", "300", "--force",
               "--lang", "en")
    conn = connect(url=url)
    assert _misplaced(conn, "inspection_findings", TAIPEI_STREET) == []
    assert "findings re-routed" in out
    assert _misplaced(conn, "complaints", TAIPEI_STREET) == []
    _grid_sees(conn, the_round["id"], TAIPEI_STREET)
    assert dict(_rows(conn, "SELECT id, responsible_unit FROM inspection_findings")) == units_before
    # This week's bulletin: each complaint still charged to the unit whose grid it was reported in.
    assert _units(conn, week) == charged

    # A complaint of this week from before the regrid, loaded after it, in a grid the regrid cut: charged to
    # the unit that held its place when it was reported. October's: to nobody (the roster came this week).
    code, unit, lon, lat = _new_code_point(conn, TAIPEI_STREET, old_codes)
    then, unit_then = _held_then(old, lon, lat)
    assert unit_then
    for at in (now, datetime(2026, 10, 8, 10, tzinfo=city_tz())):
        complaints.create(conn, lon=lon, lat=lat, category=category, description=None, channel="1999",
                          reported_at=at, actor="test")
    after = _units(conn, week)
    assert after[unit_then]["received"] == charged[unit_then]["received"] + 1
    assert after.get("", {}).get("received", 0) == charged.get("", {}).get("received", 0)
    october = _units(conn, OCTOBER)
    assert unit_then not in october and october[""]["received"] == 1
    # The bulletin says so: its row without a unit names why.
    row = next(r for r in bulletin(conn, OCTOBER)["units"] if r["code"] is None)
    assert "无法归属" in row["name"] and row["received"] == 1
    assert "not attributable" in next(r for r in bulletin(conn, OCTOBER, "en")["units"] if r["code"] is None)["name"]
    conn.rollback()
    # The same cut again moves nothing and keeps each record as it was.
    kept = _rows(conn, "SELECT id, grid_code, origin_grid_code FROM complaints ORDER BY id")
    conn.close()
    _cli(url, taipei["work"], "grids", "generate", "--street", TAIPEI_STREET, "--size", "300")
    conn = connect(url=url)
    assert _rows(conn, "SELECT id, grid_code, origin_grid_code FROM complaints ORDER BY id") == kept
    conn.close()


def test_taipei_hotline_export_loaded_after_a_regrid_charges_each_call_to_the_unit_of_its_time(taipei):
    """The week's 1999 export, imported after the street was cut again: a call from before the cut is charged
    to the unit that held its place then, one from after it to the new grid's unit."""
    url, work = taipei["url"], taipei["work"]
    conn = connect(url=url)
    old = _old_grids(conn, TAIPEI_STREET)
    category = _rows(conn, "SELECT name FROM event_types ORDER BY name LIMIT 1")[0][0]
    conn.close()
    time.sleep(1)  # the call before the cut comes after the roster (the file's times are whole seconds)
    before_cut = datetime.now(UTC).replace(microsecond=0)
    _cli(url, work, "grids", "generate", "--street", TAIPEI_STREET, "--size", "250", "--force")
    after_cut = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(2)  # the call after the cut is not in the future when the file is read
    conn = connect(url=url)
    code, unit, lon, lat = _new_code_point(conn, TAIPEI_STREET, {c for c, *_ in old})
    then, unit_then = _held_then(old, lon, lat)
    week = period_of("week", before_cut.astimezone(city_tz()).date(), city_tz())
    charged = _units(conn, week)
    conn.close()
    city = lambda t: t.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    (work / "1999.csv").write_text("工单编号,事件类型,上报时间,状态,经度,纬度\n"
                                   f"TP-1,{category},{city(before_cut)},受理,{lon},{lat}\n"
                                   f"TP-2,{category},{city(after_cut)},受理,{lon},{lat}\n", encoding="utf-8")
    _cli(url, work, "import", "complaints", "1999.csv", "--id-field", "工单编号")
    conn = connect(url=url)
    assert _rows(conn, "SELECT source_id, grid_code, origin_grid_code FROM complaints WHERE source = '1999.csv' "
                       "ORDER BY source_id") == [("TP-1", code, then), ("TP-2", code, None)]
    expected = Counter({unit_then: 1})
    expected[unit] += week.start <= after_cut < week.end
    after = _units(conn, week)
    added = {u: after[u]["received"] - charged.get(u, {}).get("received", 0) for u in after}
    assert {u: n for u, n in added.items() if n} == dict(expected)
    conn.close()


def test_the_migrations_mark_grids_cut_and_keep_shapes_removed_by_earlier_regrids(fresh_db, monkeypatch):
    """Grids cut before migration 0840 are read from their history's reason: held by nobody before their cut.
    Grids removed before migration 0850 (in the archive) keep their shape until their removal."""
    from data import migrate as migrations

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
        cur.execute("""INSERT INTO grid_archive (code, street_code, last_row, geom, reason, retired_by, retired_at)
                       VALUES ('37990100100199', '379901001', '{}', ST_Multi(ST_MakeEnvelope(120, 37, 120.01, 37.01,
                               4326)), '网格重新划分 square 200 m', 'cli:x', '2026-11-20')""")
    conn.commit()
    # The two migrations this test is about, not those that came after them (0860 …).
    monkeypatch.setattr(migrations, "available", lambda: [m for m in every if m.version <= 850])
    assert [m.version for m in migrations.migrate(conn)] == [840, 850]
    # Then the rest: today's history SQL reads a column of a later one (0895, effective_from).
    monkeypatch.setattr(migrations, "available", lambda: every)
    migrations.migrate(conn)
    held = dict(_rows(conn, f"SELECT grid_code, unit FROM ({HOLDERS_SQL}) h WHERE since < '2026-11-01' "
                            "AND until > '2026-11-01'"))
    assert held == {"37990100100101": None, "37990100100102": "甲单位", "37990100100199": None}
    assert _rows(conn, "SELECT grid_code, inherited_from FROM grid_assignments ORDER BY grid_code") == [
        ("37990100100101", "37990100100199"), ("37990100100102", None)]
    shapes = _rows(conn, "SELECT code, street_code, until, ST_AsText(geom) FROM grid_shapes")
    assert shapes == _rows(conn, "SELECT code, street_code, retired_at, ST_AsText(geom) FROM grid_archive")
    assert [s[0] for s in shapes] == ["37990100100199"]
    with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cur:  # history is not rewritten
        cur.execute("UPDATE grid_shapes SET until = now()")
    conn.rollback()
    conn.close()


def _printed_links(url: str, work, code: str) -> tuple[str, str]:
    """The grid sheet of ``code`` printed now; the paths of its two QR codes (the map, the field page), read from
    the URLs printed beneath them."""
    import re
    import subprocess

    from layers.printing.docs import PrintOptions, grid_document

    conn = connect(url=url)
    document = grid_document(conn, code, PrintOptions(paper="A4", lang="zh"))
    conn.close()
    document.write(str(work / "sheet.pdf"))
    text = subprocess.run(["pdftotext", "-raw", str(work / "sheet.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\n", "")
    return (re.search(r"/map/grids\?street=\d+&grid=\d+&printed=\d{8}T\d{6}Z", text).group(0),
            re.search(r"/field\?grid=\d+&printed=\d{8}T\d{6}Z", text).group(0))


@pytest.mark.browser
def test_a_grid_sheet_printed_before_a_regrid_says_so_when_its_qr_code_is_scanned(taipei, browser):
    """A sheet (or a notice board) printed before the street was cut again: its QR code opens the street's map on
    the grid as printed, dashed, and says when the grids were redrawn — not today's grid that has its code. So does
    its field-page code, whose place starts inside the grid as printed. A sheet printed after the cut opens that
    grid as before."""
    from tests.chromium import serve_app

    url, work = taipei["url"], taipei["work"]
    conn = connect(url=url)
    (code,) = _rows(conn, "SELECT code FROM grids WHERE street_code = %s ORDER BY code DESC LIMIT 1",
                    (TAIPEI_STREET,))[0]
    (printed_shape,) = _rows(conn, "SELECT ST_AsBinary(geom) FROM grids WHERE code = %s", (code,))[0]
    conn.close()
    before, field_before = _printed_links(url, work, code)
    time.sleep(1)  # the sheet's time is whole seconds
    _cli(url, work, "grids", "generate", "--street", TAIPEI_STREET, "--size", "200", "--force")
    time.sleep(1)  # a sheet's time is rounded down: one printed within the second of the cut would be flagged
    after, field_after = _printed_links(url, work, code)
    assert before != after
    token = _cli(url, work, "users", "add", "tp-field", "--role", "inspector", "--street", TAIPEI_STREET).strip()
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    try:
        with serve_app(url) as base:
            browser.open(base + before, ready_js="!!document.body.getAttribute('data-grid-focus')", timeout=60)
            assert browser.evaluate("document.body.getAttribute('data-grid-focus')") == "redrawn"
            said = browser.evaluate("document.getElementById('grid-focus').innerText")
            assert "重新划分" in said and code in said, said
            assert browser.evaluate("document.querySelectorAll('path[stroke-dasharray]').length") == 1
            # In English too: the link to the other language keeps the grid and when the sheet was printed.
            english = browser.evaluate("document.querySelector('#unit-panel a[href*=\"lang=en\"]').href")
            assert f"grid={code}" in english and "printed=" in english, english
            browser.open(english, ready_js="!!document.body.getAttribute('data-grid-focus')", timeout=60)
            assert browser.evaluate("document.body.getAttribute('data-grid-focus')") == "redrawn"
            assert "redrawn" in browser.evaluate("document.getElementById('grid-focus').innerText")
            browser.open(base + after, ready_js="!!document.body.getAttribute('data-grid-focus')", timeout=60)
            assert browser.evaluate("document.body.getAttribute('data-grid-focus')") == code
            bad = httpx.get(base + before.replace("&printed=", "&printed=x"), timeout=30)
            assert bad.status_code == 422 and "printed" in bad.json()["detail"], bad.text
            _field_as_printed(browser, base, token, field_before, field_after, code, printed_shape)
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def _field_as_printed(browser, base: str, token: str, before: str, after: str, code: str, printed_shape) -> None:
    """The field page from a sheet printed before the cut: the grid as printed, dashed, said, the place starting
    inside it; from one printed after: today's grid of that code."""
    from tests.test_public_browser import _wait

    browser.open(base + "/login", ready_js="!!document.getElementById('token')")
    browser.evaluate(f"document.getElementById('token').value = {token!r}; document.querySelector('form').submit()")
    _wait(browser, "location.pathname !== '/login'")
    browser.open(base + before, ready_js="!!window.hmField && !!window.hmField.place()")
    said = browser.evaluate("(document.getElementById('fd-redrawn') || {}).innerText")
    assert said and "重新划分" in said and code in said, said
    assert browser.evaluate("document.querySelectorAll('path[stroke-dasharray]').length") == 1
    lat, lon = browser.evaluate("window.hmField.place()")
    assert shapely.from_wkb(bytes(printed_shape)).contains(shapely.Point(lon, lat)), (lon, lat)
    assert "印制时的网格 " + code in browser.evaluate("document.getElementById('fd-place').innerText")
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    browser.open(base + after, ready_js="!!window.hmField && !!window.hmField.place()")
    assert browser.evaluate("document.getElementById('fd-redrawn')") is None
    assert browser.evaluate("document.querySelectorAll('path[stroke-dasharray]').length") == 0


def test_an_inspector_of_some_grids_keeps_its_ground_when_the_street_is_cut_again(taipei):
    """An inspector given two of 大同區's grids: after a cut renumbers them its codes would name other places. It
    gets the new grids mostly on the ground its old ones covered — checked against shapely — and the cut says so."""
    url, work = taipei["url"], taipei["work"]
    conn = connect(url=url)
    old = {code: shapely.from_wkb(bytes(wkb)) for code, wkb in _rows(
        conn, "SELECT code, ST_AsBinary(geom) FROM grids WHERE street_code = %s ORDER BY code LIMIT 2",
        (TAIPEI_STREET,))}
    conn.close()
    _cli(url, work, "users", "add", "tp-gridded", "--role", "inspector", "--grids", ",".join(old))
    out = _cli(url, work, "grids", "generate", "--street", TAIPEI_STREET, "--size", "350", "--force", "--lang", "en")
    conn = connect(url=url)
    ground = shapely.union_all(list(old.values()))
    new = {code: shapely.from_wkb(bytes(wkb)) for code, wkb in _rows(
        conn, "SELECT code, ST_AsBinary(geom) FROM grids WHERE street_code = %s", (TAIPEI_STREET,))}
    expected = sorted(c for c, g in new.items() if g.intersection(ground).area >= 0.5 * g.area)
    (given,) = _rows(conn, "SELECT grid_codes FROM users WHERE name = 'tp-gridded'")[0]
    assert given == expected and expected != sorted(old), (given, sorted(old))
    assert f"user tp-gridded keeps its ground: grids {', '.join(old)} → {', '.join(expected)}" in out, out
    audited = _rows(conn, "SELECT before, after FROM audit_log WHERE action = 'user.grids' AND target = "
                          "'user:tp-gridded'")
    assert audited == [({"grid_codes": list(old)}, {"grid_codes": expected})]
    conn.close()


def test_a_sheet_of_a_grid_a_cut_removed_opens_that_grid_as_it_last_was(taipei):
    """A sheet printed before the printed time was put in its QR code: its grid's code is gone after a cut into
    fewer grids. The field page starts from the grid's last shape and says when it was redrawn; a code no grid ever
    had is refused by name."""
    from data.errors import NotFound
    from layers.workflow.inspection_places import grid_place

    url, work = taipei["url"], taipei["work"]
    _cli(url, work, "grids", "generate", "--street", TAIPEI_STREET, "--size", "700", "--force")
    conn = connect(url=url)
    try:
        code, until, wkb = _rows(conn, """SELECT DISTINCT ON (code) code, until, ST_AsBinary(geom) FROM grid_shapes
                                         WHERE street_code = %s AND code NOT IN (SELECT code FROM grids)
                                         ORDER BY code DESC, until DESC LIMIT 1""", (TAIPEI_STREET,))[0]
        place = grid_place(conn, code)
        assert place["redrawn"] == until.isoformat() and place["street_code"] == TAIPEI_STREET
        assert shapely.from_wkb(bytes(wkb)).contains(shapely.Point(place["point"]))
        with pytest.raises(NotFound, match="no grid with code 99"):
            grid_place(conn, "99" + code)
    finally:
        conn.close()
