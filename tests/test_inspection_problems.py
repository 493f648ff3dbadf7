"""问题清单 (issue 15): a round's problem list as XLSX and PDF, on the command line and over HTTP, read back as a
user would (openpyxl, pdftotext, the PDF looked at as a picture), with the personal-data rules of findings;
on the demo and on a real city (Taipei's 大同區, its real outlines and toilets)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner
from PIL import Image

from api.cli.main import main
from data import checklist
from data.vocab import city_tz
from tests.conftest import REPO, create_database, drop_database, real_data
from tests.inspecting import (  # noqa: F401 (fixtures)
    OTHER_STREET,
    OWN_STREET,
    auth,
    city_fixture,
    client_fixture,
    new_round,
    photo_bytes,
    post_finding,
    query,
    upload,
)
from tests.pdf_tools import crop_mm, pdftext, printed_param, render_page


def _paper():
    from layers.printing.style import Paper

    return Paper("A4", False)


def _sheet(content: bytes, index: int = 0):
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[index]
    rows = list(sheet.iter_rows(values_only=True))
    return book, rows[0], rows[1:]


def _write_pdf(content: bytes, tmp_path: Path, name: str = "list.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# -- the demo's rounds on the command line --------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_round(demo_db):
    """The demo's monthly round (every street) and its busiest street."""
    (round_id,) = query(demo_db, "SELECT id FROM inspection_rounds WHERE kind = '月度暗访' ORDER BY id LIMIT 1")[0]
    street, n = query(demo_db, "SELECT street_code, count(*) FROM inspection_findings WHERE round_id = %s "
                               "GROUP BY street_code ORDER BY 2 DESC, 1 LIMIT 1", (round_id,))[0]
    return {"id": round_id, "street": street, "n": n}


def _street_list(demo_round: dict, out: Path):
    """`hygiene-map inspections problems` of the round's busiest street to ``out``; the file and the run."""
    run = CliRunner().invoke(main, ["inspections", "problems", "--round", str(demo_round["id"]),
                                    "--street", demo_round["street"], "--out", str(out)])
    assert run.exit_code == 0, run.output
    return out, run


def _map_ink(path: Path, tmp_path: Path) -> np.ndarray:
    """The grey pixels of page 1's map frame, rendered at 60 dpi."""
    W, H = _paper().size_mm
    return crop_mm(render_page(path, 1, 60, tmp_path), _paper(), (15, 40, W - 30, H - 90))


def test_cli_xlsx_lists_every_finding_per_unit_with_numbers_and_dates(demo_db, demo_round, tmp_path, env_for):
    env_for(demo_db)
    out, run = _street_list(demo_round, tmp_path / "p.xlsx")
    assert re.fullmatch(rf"已写入 {out}：检查轮次 {demo_round['id']} 街道 {demo_round['street']} 的问题 {demo_round['n']} 条，"
                        r"责任单位 \d+ 个，扣 [\d.]+ 分\n", run.output), run.output  # in Chinese by default
    _, head, rows = _sheet(out.read_bytes())
    col = {name: k for k, name in enumerate(head)}
    for name in ("编号", "责任单位", "街道", "社区", "网格", "问题代码", "问题", "扣分", "整改期限", "状态", "问题描述"):
        assert name in col, name
    expected = query(demo_db, """SELECT id, responsible_unit, item_code, deduction, status, grid_code, due_at
                                 FROM inspection_findings WHERE round_id = %s AND street_code = %s""",
                     (demo_round["id"], demo_round["street"]))
    by_id = {r[0]: r for r in expected}
    assert sorted(r[col["问题ID"]] for r in rows) == sorted(by_id)
    assert [r[col["编号"]] for r in rows] == list(range(1, len(rows) + 1))
    for r in rows:
        fid, unit, item, deduction, status, grid, due = by_id[r[col["问题ID"]]]
        assert (r[col["责任单位"]], r[col["问题代码"]], r[col["状态"]], r[col["网格"]]) == (unit, item, status, grid)
        assert isinstance(r[col["扣分"]], (int, float)) and r[col["扣分"]] == pytest.approx(float(deduction))
        local_due = due.astimezone(city_tz()).replace(tzinfo=None)
        assert isinstance(r[col["整改期限"]], datetime) and abs((r[col["整改期限"]] - local_due).total_seconds()) < 1
        assert isinstance(r[col["经度(WGS84)"]], float) and r[col["问题描述"]]  # the command line reads every column
        assert r[col["超期"]] in ("是", "否")  # said either way, as every yes/no column of the exports is
    units = [r[col["责任单位"]] for r in rows]
    runs = [u for k, u in enumerate(units) if k == 0 or units[k - 1] != u]
    assert len(runs) == len(set(units)) > 1, "a unit's findings are not listed together"
    _, unit_head, unit_rows = _sheet(out.read_bytes(), 1)
    assert unit_head[:3] == ("责任单位", "问题数", "扣分")
    assert sum(r[1] for r in unit_rows) == len(rows)


def test_cli_pdf_maps_the_numbered_findings_and_lists_them(demo_db, demo_round, tmp_path, env_for):
    env_for(demo_db)
    out, _ = _street_list(demo_round, tmp_path / "p.pdf")
    text = pdftext(out)
    assert "问题清单" in text and "问题分布图" in text and "责任单位" in text
    items = query(demo_db, "SELECT DISTINCT item_code FROM inspection_findings WHERE round_id = %s AND street_code = %s",
                  (demo_round["id"], demo_round["street"]))
    for (code,) in items:
        assert code in text, code
    list_text = "\n".join(pdftext(out, page) for page in range(2, 4))
    assert "演示：" in list_text  # the descriptions, read by the command line
    # Page 1 is a map: outlines, roads and markers drawn, in several grey levels.
    inside = _map_ink(out, tmp_path)
    assert (inside < 200).mean() > 0.02 and len(np.unique(inside // 16)) >= 5
    colour = np.asarray(Image.open(next(tmp_path.glob("p1-60*.png"))).convert("RGB")).astype(int)
    red = (colour[..., 0] > 180) & (colour[..., 1] < 90) & (colour[..., 2] < 90)
    assert red.sum() > 20, "no red markers of findings waiting for rectification"


def test_cli_english_and_bad_input_name_the_problem(demo_db, demo_round, tmp_path, env_for):
    env_for(demo_db)
    out = tmp_path / "en.xlsx"
    run = CliRunner().invoke(main, ["inspections", "problems", "--round", str(demo_round["id"]), "--lang", "en",
                                    "--out", str(out)])
    assert run.exit_code == 0, run.output
    _, head, rows = _sheet(out.read_bytes())
    assert head[:2] == ("No.", "Responsible unit") and len(rows) > demo_round["n"]
    units = len({r[1] for r in rows})
    assert re.fullmatch(rf"wrote {out}: {len(rows)} findings of round {demo_round['id']}, {units} units, "
                        r"[\d.]+ points\n", run.output), run.output
    assert {r[head.index("Status")] for r in rows} <= {"To rectify", "Rectified", "Re-check passed", "Re-check failed"}
    english = {code: item.text_en for code, item in checklist.load().items()}
    assert all(r[head.index("Problem")] == english[r[head.index("Item")]] for r in rows)
    for args, needle in ((["--round", "999999"], "999999"), (["--round", str(demo_round["id"]), "--street", "379999999"],
                                                              "--street: "),
                         (["--round", str(demo_round["id"]), "--out", str(tmp_path / "x.doc")], "--out")):
        argv = ["inspections", "problems", *args, "--lang", "en"]
        if "--out" not in args:
            argv += ["--out", str(tmp_path / "x.xlsx")]
        run = CliRunner().invoke(main, argv)
        assert run.exit_code == 2 and needle in run.output and "Traceback" not in run.output, run.output
    assert not list(tmp_path.glob("x.*"))


# -- over HTTP, with photos and access rules ------------------------------------------------------------------
@pytest.fixture(scope="module")
def photographed(client, city):
    """A round of the module's demo copy with two findings, one with a red before and a blue after photo."""
    the_round = new_round(client, city)
    first = post_finding(client, city, the_round["id"]).json()
    second = post_finding(client, city, the_round["id"], item="LAN-01").json()
    assert upload(client, city, first["id"], "before", "inspector1").status_code == 201
    blue = photo_bytes(color=(20, 40, 220))
    assert upload(client, city, first["id"], "after", "street1", data=blue).status_code == 201
    return {"round": the_round["id"], "findings": [first, second]}


def _get(client, city, rid, fmt, user="admin1", **params):
    return client.get(f"/api/inspections/rounds/{rid}/problems.{fmt}", params=params, headers=auth(city, user))


def test_http_pdf_has_photo_thumbnails_and_descriptions(client, city, photographed, tmp_path):
    response = _get(client, city, photographed["round"], "pdf", street=OWN_STREET)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    path = _write_pdf(response.content, tmp_path)
    text = pdftext(path, 2)
    assert "王某某" in text and "TLT-01" in text and "LAN-01" in text
    rgb = np.asarray(Image.open(_render_rgb(path, 2, tmp_path))).astype(int)
    red = (rgb[..., 0] > 170) & (rgb[..., 1] < 70) & (rgb[..., 2] < 70)
    blue = (rgb[..., 2] > 180) & (rgb[..., 0] < 60) & (rgb[..., 1] < 80)
    assert red.sum() > 100 and blue.sum() > 100, "the before (red) and after (blue) thumbnails are not on the page"
    # Side by side in one row: the before thumbnail left of the after one.
    assert np.nonzero(red)[1].mean() < np.nonzero(blue)[1].mean()


def _render_rgb(path: Path, page: int, tmp_path: Path) -> Path:
    prefix = tmp_path / f"rgb{page}"
    subprocess.run(["pdftoppm", "-r", "80", "-f", str(page), "-l", str(page), "-png", "-singlefile", str(path),
                    str(prefix)], check=True)
    return Path(f"{prefix}.png")


def test_http_another_streets_user_gets_no_personal_columns(client, city, photographed, tmp_path):
    own = _get(client, city, photographed["round"], "xlsx", user="street1", street=OWN_STREET)
    other = _get(client, city, photographed["round"], "xlsx", user="street2", street=OWN_STREET)
    anonymous = _get(client, city, photographed["round"], "xlsx", user=None, street=OWN_STREET)
    for response in (own, other, anonymous):
        assert response.status_code == 200, response.text
    _, head, rows = _sheet(own.content)
    d, before = head.index("问题描述"), head.index("整改前照片")
    assert all(r[d] == "公厕门口 王某某 13800000000" for r in rows) and sorted(r[before] for r in rows) == [0, 1]
    for response in (other, anonymous):
        _, head, rows = _sheet(response.content)
        assert len(rows) == 2 and all(r[d] is None and r[before] is None and r[head.index("照片地址")] is None
                                      for r in rows)
    _, head, rows = _sheet(anonymous.content)
    assert all(r[head.index("检查人")] is None for r in rows)  # staff-only
    pdf = _get(client, city, photographed["round"], "pdf", user="street2", street=OWN_STREET)
    path = _write_pdf(pdf.content, tmp_path, "other.pdf")
    assert "王某某" not in pdftext(path) and "TLT-01" in pdftext(path)
    rgb = np.asarray(Image.open(_render_rgb(path, 2, tmp_path))).astype(int)
    assert ((rgb[..., 2] > 180) & (rgb[..., 0] < 60)).sum() < 20, "a photo shown to another street's user"


def test_http_bad_round_street_and_format_are_named(client, city, photographed, tmp_path):
    missing = _get(client, city, 10**9, "xlsx")
    assert missing.status_code == 404 and str(10**9) in missing.text
    unknown = _get(client, city, photographed["round"], "pdf", street="379999999")
    assert unknown.status_code == 404 and "379999999" in unknown.text
    uncovered = client.post("/api/inspections/rounds", headers=auth(city, "admin1"), json={
        "name": "x", "kind": "周检查", "starts": "2026-11-01", "ends": "2026-11-08", "streets": [OWN_STREET]}).json()
    outside = _get(client, city, uncovered["id"], "xlsx", street=OTHER_STREET)
    assert outside.status_code == 422 and OTHER_STREET in outside.text and "street" in outside.text
    # A round without findings yet: a map page saying so, and an empty table.
    empty = _get(client, city, uncovered["id"], "pdf", lang="en")
    assert empty.status_code == 200 and "No findings in this round" in pdftext(_write_pdf(empty.content, tmp_path))
    _, head, rows = _sheet(_get(client, city, uncovered["id"], "xlsx").content)
    assert head[0] == "编号" and rows == []
    assert _get(client, city, photographed["round"], "doc").status_code in (404, 422)
    bad = _get(client, city, photographed["round"], "xlsx", street="３７９")
    assert bad.status_code == 422 and "street" in bad.text


# -- a real city: Taipei's 大同區 ------------------------------------------------------------------------------
TAIPEI_STREET = "6300600"


def _cli(url: str, work: Path, *args) -> str:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "api.cli", *map(str, args)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """大同區 from the real files (districts as streets, villages as communities, toilets), cut into grids."""
    url = create_database(pg_server[0])
    work = tmp_path_factory.mktemp("taipei-problems")
    for name in ("taipei_districts_town.geojson", "taipei_villages_li.geojson", "taipei_public_toilets.csv"):
        real_data(f"taipei/{name}", work)
    try:
        _cli(url, work, "import", "admin_areas", "taipei_districts_town.geojson", "--level", "district",
             "--code-field", "CPID", "--name-field", "TNAME")
        _cli(url, work, "import", "admin_areas", "taipei_districts_town.geojson", "--level", "street",
             "--code-field", "CPTID", "--name-field", "TNAME", "--parent-field", "CPID",
             "--source", "taipei_district_offices")
        _cli(url, work, "import", "admin_areas", "taipei_villages_li.geojson", "--level", "community",
             "--code-field", "CPTVID", "--name-field", "VNAME", "--parent-field", "CPTID")
        _cli(url, work, "import", "toilets", "taipei_public_toilets.csv", "--skip-bad")
        _cli(url, work, "city", "set", "--name", "臺北市")
        _cli(url, work, "grids", "generate", "--street", TAIPEI_STREET, "--size", "500")
        _cli(url, work, "grids", "roster", "--street", TAIPEI_STREET, "--out", "roster.xlsx")
        book = openpyxl.load_workbook(work / "roster.xlsx")
        head = [c.value for c in book.active[1]]
        for row in range(2, book.active.max_row + 1):
            for column, value in (("责任单位", f"大同區清潔隊第{row % 3 + 1}分隊"), ("网格长", f"網格長{row:03d}"),
                                  ("联系电话", f"02-2597-{row:04d}")):
                book.active.cell(row, head.index(column) + 1, value)
        book.save(work / "roster.xlsx")
        _cli(url, work, "grids", "assign", "roster.xlsx", "--reason", "首次指定")
        yield {"url": url, "work": work}
    finally:
        drop_database(url)


def test_taipei_round_of_findings_at_real_toilets(taipei, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from data.db import connect
    from layers.workflow.access import add_user

    conn = connect(url=taipei["url"])
    _, admin = add_user(conn, "tp-admin", "admin", created_by="test")
    _, inspector = add_user(conn, "tp-inspector", "inspector", street_code=TAIPEI_STREET, created_by="test")
    conn.commit()
    conn.close()
    toilets = query(taipei["url"], "SELECT ST_X(geom), ST_Y(geom) FROM toilets WHERE street_code = %s "
                                   "ORDER BY id LIMIT 12", (TAIPEI_STREET,))
    assert len(toilets) == 12
    import os

    os.environ["DATABASE_URL"] = taipei["url"]
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            made = client.post("/api/inspections/rounds", headers={"Authorization": f"Bearer {admin}"}, json={
                "name": "大同區公廁抽查", "kind": "专项检查", "starts": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                "ends": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "streets": [TAIPEI_STREET]})
            assert made.status_code == 201, made.text
            rid = made.json()["id"]
            # After the roster was assigned: the findings are charged to the units holding their grids now.
            observed = datetime.now(UTC).isoformat()
            for k, (lon, lat) in enumerate(toilets):
                posted = client.post("/api/inspections/findings", headers={"Authorization": f"Bearer {inspector}"},
                                     json={"round_id": rid, "lon": lon, "lat": lat, "item": "TLT-01",
                                           "note": f"廁所 {k}" + ("，地面積水😡🐀" if k == 0 else ""),
                                           "observed_at": observed,
                                           "client_id": f"tp-{k}"})
                assert posted.status_code == 201, posted.text
            xlsx = client.get(f"/api/inspections/rounds/{rid}/problems.xlsx?street={TAIPEI_STREET}",
                              headers={"Authorization": f"Bearer {admin}"})
            assert xlsx.status_code == 200, xlsx.text
    finally:
        os.environ.pop("DATABASE_URL", None)
    _, head, rows = _sheet(xlsx.content)
    assert len(rows) == 12 and {r[head.index("街道")] for r in rows} == {"大同區"}
    units = {code: unit for code, unit in query(taipei["url"], "SELECT code, responsible_unit FROM grids")}
    assert all(r[head.index("责任单位")] == units[r[head.index("网格")]] for r in rows)
    villages = {name for (name,) in query(taipei["url"], "SELECT name FROM admin_areas WHERE level = 'community'")}
    assert all(r[head.index("社区")] in villages and r[head.index("网格")] for r in rows)
    out = taipei["work"] / "taipei.pdf"
    said = _cli(taipei["url"], taipei["work"], "inspections", "problems", "--round", rid, "--street", TAIPEI_STREET,
                "--out", out)
    assert f"街道 {TAIPEI_STREET} 的问题 12 条，" in said, said
    text = pdftext(out)
    assert "臺北市 · 大同區 · 问题清单" in text and "大同區清潔隊第" in text
    assert all(f"廁所 {k}" in text for k in range(12))
    # The emoji an inspector's phone put in a note print as themselves (from the symbol font), not as boxes.
    assert "地面積水😡🐀" in text
    assert "Symbola" in subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert (_map_ink(out, tmp_path) < 200).mean() > 0.01, "the map of 大同區 is blank"


# -- the grid sheet's QR codes: the map and the field page ---------------------------------------------------
def _qr_reads(image, paper, rect, url) -> float:
    """The share of a QR code's modules, read back from a rendered page, that are those of ``url``."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    modules = np.array(qr.get_matrix(), dtype=bool)
    n = modules.shape[0]
    x, y, side, _ = rect
    pixels = crop_mm(image, paper, (x, y, side, side))
    centres = ((np.arange(n) + 0.5) * pixels.shape[0] / n).astype(int)
    return float(((pixels[np.ix_(centres, centres)] < 128) == modules).mean())


@pytest.mark.parametrize("paper,landscape,lang", [("A4", False, "zh"), ("A4", True, "en"), ("A3", False, "zh")])
def test_grid_sheet_qr_codes_open_the_map_and_the_field_page(demo_db, tmp_path, paper, landscape, lang):
    from data.db import connect
    from data.settings import LinkSettings, PrintSettings
    from layers.printing.docs import PrintOptions, grid_document
    from layers.printing.sheets import grid_layout
    from layers.printing.style import Paper

    (code, street), = query(demo_db, "SELECT code, street_code FROM grids ORDER BY code LIMIT 1")
    conn = connect(url=demo_db)
    made = datetime.now(UTC)
    document = grid_document(conn, code, PrintOptions(paper=paper, landscape=landscape, lang=lang),
                             settings=PrintSettings.from_env({}))
    conn.close()
    path = tmp_path / "sheet.pdf"
    document.write(str(path))
    sheet = Paper(paper, landscape)
    layout = grid_layout(sheet)
    image = render_page(path, 1, 300 if paper == "A4" else 200, tmp_path)
    base, suffix = LinkSettings.from_env({}).fallback_url(), "&lang=en" if lang == "en" else ""
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    # Both links carry when the sheet was printed (a regrid since is said there), as printed beneath.
    printed = printed_param(path)
    assert abs(datetime.strptime(printed, "&printed=%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) - made) < timedelta(minutes=1)
    map_url = f"{base}/map/grids?street={street}&grid={code}{printed}{suffix}"
    assert _qr_reads(image, sheet, layout.qr, map_url) > 0.99
    assert _qr_reads(image, sheet, layout.qr_field, f"{base}/field?grid={code}{printed}{suffix}") > 0.99
    assert ("现场检查" in text and "地图" in text) if lang == "zh" else ("Field check" in text and "Map" in text)
    assert f"/field?grid={code}" in text.replace("\n", "")  # the URL printed beneath, to type in
