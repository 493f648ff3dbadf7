"""The bulletin's coverage section from the facility history (migration 0730): the facilities added, removed and
moved in a period, and the covered share at its start and end against the coverage engine run in PostGIS on the
facility sets of those times; and the honest answer when the history begins after the period's start."""

from __future__ import annotations

import re

import pytest

from data.db import connect
from data.params import parse_period
from geo.coverage import coverage
from layers.reports.compose import bulletin

OCTOBER = "2026-10-15 10:00+08"
NOVEMBER = "2026-11-15 10:00+08"  # not "now": from 16:00 UTC on 30 November it is December in the city


def _share(conn) -> float:
    """The city's covered share of residents (else area) for toilets, by community, from PostGIS (the reference)."""
    s = coverage(conn, "toilets", by="community", engine="postgis")["summary"]
    return s["covered_pop_pct"] if s["covered_pop_pct"] is not None else s["covered_area_pct"]


def _october_changes(conn) -> dict:
    """Add a toilet, move one and remove one, stamped in October; returns their ids and names."""
    with conn, conn.cursor() as cur:
        cur.execute("SELECT code, ST_PointOnSurface(geom) FROM admin_areas WHERE level = 'community' "
                    "ORDER BY code LIMIT 1")
        community, point = cur.fetchone()
        cur.execute("INSERT INTO toilets (name, address, street_code, geom) VALUES ('测试新厕', '测试路1号', %s, %s) "
                    "RETURNING id", (community[:9], point))
        added = cur.fetchone()[0]
        cur.execute("SELECT min(id), max(id) FROM toilets WHERE id <> %s", (added,))
        moved, removed = cur.fetchone()
        cur.execute("UPDATE toilets SET geom = ST_Translate(geom, 0.004, 0.002) WHERE id = %s", (moved,))
        cur.execute("SELECT name FROM toilets WHERE id = %s", (removed,))
        removed_name = cur.fetchone()[0]
        cur.execute("DELETE FROM toilets WHERE id = %s", (removed,))
        cur.execute("UPDATE facility_changes SET at = %s", (OCTOBER,))
    return {"added": added, "moved": moved, "removed": removed, "removed_name": removed_name}


@pytest.fixture
def history(writable_demo):
    """The demo with its history begun on 2026-01-01 and nothing changed since, and a connection to it."""
    conn = connect(url=writable_demo)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM facility_changes")
        cur.execute("UPDATE facility_log SET since = '2026-01-01 00:00+08'")
    try:
        yield conn
    finally:
        conn.close()


def test_period_changes_and_covered_share(history):
    conn = history
    before = _share(conn)
    ids = _october_changes(conn)
    after = _share(conn)
    with conn, conn.cursor() as cur:  # a later removal (November) must be put back for October's end
        cur.execute("DELETE FROM toilets WHERE id = (SELECT max(id) FROM toilets WHERE id <> %s)", (ids["added"],))
        cur.execute("UPDATE facility_changes SET at = %s WHERE at <> %s::timestamptz", (NOVEMBER, OCTOBER))
    c = bulletin(conn, parse_period("month", "2026-10"))["coverage"]
    assert c["available"] and c["since"].startswith("2025-12-31T16:00")
    toilets = {k["kind"]: k for k in c["kinds"]}["toilets"]
    assert (toilets["added"], toilets["removed"], toilets["moved"]) == (1, 1, 1)
    assert [x["id"] for x in toilets["added_list"]] == [ids["added"]]
    assert toilets["added_list"][0]["name"] == "测试新厕" and toilets["added_list"][0]["street_name"]
    assert [x["name"] for x in toilets["removed_list"]] == [ids["removed_name"]]
    assert [x["id"] for x in toilets["moved_list"]] == [ids["moved"]]
    assert abs(before - after) > 1e-3  # the changes move the share: the test can fail
    assert toilets["share_start"] == pytest.approx(before, abs=0.01)
    assert toilets["share_end"] == pytest.approx(after, abs=0.01)
    assert c["covered_share_change"]["toilets"] == pytest.approx(after - before, abs=0.02)
    assert c["added"] >= 1 and {k["kind"]: k for k in c["kinds"]}["markets"]["added"] == 0
    november = {k["kind"]: k for k in bulletin(conn, parse_period("month", "2026-11"))["coverage"]["kinds"]}
    assert (november["toilets"]["added"], november["toilets"]["removed"]) == (0, 1)
    assert november["toilets"]["share_start"] == pytest.approx(after, abs=0.01)


def test_period_before_the_history_is_not_available(history):
    c = bulletin(history, parse_period("month", "2025-12"))["coverage"]
    assert not c["available"] and c["added"] is None and c["covered_share_change"] is None
    assert "无法得出" in c["reason"] and "2026-01-01" in c["reason"]


def test_reload_restarts_the_history(writable_demo):
    """The demo load empties the tables (TRUNCATE): the history starts at the load, so a period begun before it
    is not available, and the loaded facilities are where the history starts, not additions."""
    conn = connect(url=writable_demo)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT min(since) = max(since), count(*) FROM facility_log")
            assert cur.fetchone() == (True, 4)
            cur.execute("SELECT count(*) FROM facility_changes c JOIN facility_log l USING (table_name) "
                        "WHERE c.at > l.since")
            assert cur.fetchone()[0] == 0
        c = bulletin(conn, parse_period("month", "2026-11"))["coverage"]
        assert not c["available"] and "无法得出" in c["reason"]
    finally:
        conn.close()


def test_documents_show_the_changes(history, tmp_path):
    """The PDF, the page and the workbook give the counts, the shares and the changed facilities by name."""
    import subprocess

    from openpyxl import load_workbook

    from layers.reports.document import write_pdf
    from layers.reports.workbook import write_workbook
    from layers.web.bulletin_page import bulletin_page

    ids = _october_changes(history)
    b = bulletin(history, parse_period("month", "2026-10"))
    toilets = {k["kind"]: k for k in b["coverage"]["kinds"]}["toilets"]
    write_pdf(b, tmp_path / "b.pdf")
    text = subprocess.run(["pdftotext", "-raw", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "期初覆盖率" in text and "测试新厕" in text and ids["removed_name"] in text
    assert f"{toilets['share_start']}" in text and f"{toilets['share_end']}" in text
    page = bulletin_page(b, lang="zh", kind="month", date="2026-10")
    assert 'id="facility-changes"' in page and "测试新厕" in page and "测试路1号" in page
    write_workbook(b, tmp_path / "b.xlsx")
    sheet = load_workbook(tmp_path / "b.xlsx")["设施变化"]
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True)}
    assert rows["公共厕所"][4:9] == (1, 1, 1, toilets["share_start"], toilets["share_end"])
    assert any("测试新厕" in str(r[0]) for r in rows.values())
    # Words for the office, not the database's names (facility_changes, due_at, updated_at) in its sentences.
    said = text + " ".join(str(v) for ws in load_workbook(tmp_path / "b.xlsx") for r in ws.iter_rows(values_only=True)
                           for v in r if isinstance(v, str))
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", said), re.findall(r".{30}\b[a-z]+_[a-z_]+\b.{10}", said)


def test_an_import_is_recorded(history, tmp_path):
    """The importer (COPY of new rows) leaves the history's triggers on: each imported toilet is an 'added' row."""
    from layers.io.importing import import_file
    from layers.io.options import ImportOptions

    with history.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                    "WHERE level = 'community' ORDER BY code LIMIT 3) x")
        points = cur.fetchall()
    path = tmp_path / "toilets.csv"
    path.write_text("编号,名称,经度,纬度\n" + "".join(f"T{k},导入公厕{k},{x:.6f},{y:.6f}\n"
                                                  for k, (x, y) in enumerate(points)), encoding="utf-8")
    import_file(history, path, ImportOptions("toilets"))
    history.commit()
    with history.cursor() as cur:
        cur.execute("SELECT c.name, c.op FROM facility_changes c JOIN toilets t ON t.id = c.facility_id "
                    "WHERE c.table_name = 'toilets' ORDER BY c.name")
        assert cur.fetchall() == [(f"导入公厕{k}", "added") for k in range(3)]
