"""Printed field maps: grid sheets, atlases and routes, checked with poppler as a user's PDF reader would."""

from __future__ import annotations

import re
from itertools import permutations

import numpy as np
import pytest
from click.testing import CliRunner

from api.cli.main import main
from data.settings import LinkSettings, PrintSettings
from geo.tour import open_tour, path_length
from layers.printing.docs import PrintOptions, atlas_document, grid_document, route_document
from layers.printing.furniture import qr_path
from layers.printing.sheets import first_page_rows, grid_layout
from layers.printing.style import Paper, register_font
from tests.pdf_tools import crop_mm, page_size_pt, pdffonts, pdfinfo, pdftext, printed_param, render_page

A4_PT = (595.276, 841.89)
A3_LANDSCAPE_PT = (1190.55, 841.89)


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def busiest_grid(demo_db):
    """The small demo's grid with the most things to check, with its street and names."""
    from data.db import connect

    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT g.code, g.name, s.name, s.name_en, g.street_code
            FROM grids g JOIN admin_areas s ON s.code = g.street_code
            ORDER BY (SELECT count(*) FROM complaints c WHERE ST_Intersects(c.geom, g.geom) AND c.status <> '结案')
                   + (SELECT count(*) FROM garbage_stations t WHERE ST_Intersects(t.geom, g.geom)) DESC, g.code
            LIMIT 1
            """
        )
        row = cur.fetchone()
    conn.close()
    return dict(zip(["code", "name", "street", "street_en", "street_code"], row))


@pytest.fixture(scope="module")
def grid_pdf(demo_db, busiest_grid, tmp_path_factory):
    from data.db import connect

    path = tmp_path_factory.mktemp("print") / "grid.pdf"
    conn = connect(url=demo_db)
    result = grid_document(conn, busiest_grid["code"], settings=PrintSettings.from_env({}))
    conn.close()
    result.write(str(path))
    return path, result


def expected_checklist(conn, code: str) -> set[tuple[str, int]]:
    """What is in a grid, asked independently of the print code."""
    with conn.cursor() as cur:
        cur.execute(
            """
            WITH g AS (SELECT geom FROM grids WHERE code = %s)
            SELECT 'markets', m.id FROM markets m, g WHERE ST_Intersects(m.geom, g.geom)
            UNION ALL SELECT 'toilets', t.id FROM toilets t, g WHERE ST_Intersects(t.geom, g.geom)
            UNION ALL SELECT 'garbage_stations', s.id FROM garbage_stations s, g WHERE ST_Intersects(s.geom, g.geom)
            UNION ALL SELECT 'complaints', c.id FROM complaints c, g
                      WHERE ST_Intersects(c.geom, g.geom) AND c.status <> '结案'
            UNION ALL SELECT 'urban_villages', v.id FROM urban_villages v, g WHERE ST_Intersects(v.geom, g.geom)
            UNION ALL SELECT 'health_trails', h.id FROM health_trails h, g WHERE ST_Intersects(h.geom, g.geom)
            """,
            (code,),
        )
        return {(layer, fid) for layer, fid in cur.fetchall()}


# -- a grid sheet ------------------------------------------------------------------------------
def test_grid_sheet_is_an_a4_pdf_with_every_font_embedded(grid_pdf):
    path, result = grid_pdf
    info = pdfinfo(path)
    assert int(info["Pages"]) == len(result.pages) >= 1
    assert page_size_pt(info) == pytest.approx(A4_PT, abs=0.5)
    fonts, warnings = pdffonts(path)
    assert fonts, "no fonts: the text was not kept as text"
    assert all(row[-5] == "yes" for row in fonts), fonts  # the emb column
    assert "Mismatch" not in warnings  # a font program of the type the PDF says it is


def test_grid_sheet_text_names_the_street_grid_and_checklist_ids(grid_pdf, busiest_grid):
    path, result = grid_pdf
    text = pdftext(path)
    for needle in (busiest_grid["street"], busiest_grid["name"], busiest_grid["code"], "核查清单", "责任单位",
                   "网格长", "数据时间"):
        assert needle in text, needle
    for page in result.pages:
        page_text = pdftext(path, page.number)
        for _, _, fid in page.items:
            assert re.search(rf"\b{fid}\b", page_text), f"checklist id {fid} not on page {page.number}"


def test_checklist_rows_are_exactly_the_features_in_the_grid(grid_pdf, busiest_grid, demo_conn):
    path, result = grid_pdf
    printed = [(layer, fid) for page in result.pages for _, layer, fid in page.items]
    assert len(printed) == len(set(printed))
    expected = expected_checklist(demo_conn, busiest_grid["code"])
    assert set(printed) == expected
    assert len(expected) > 10  # the busiest grid: long enough to mean something
    numbers = [n for page in result.pages for n, _, _ in page.items]
    assert numbers == list(range(1, len(printed) + 1))
    # The sheet's table and the continuation pages show the same numbers in order.
    for page in result.pages:
        rows = re.findall(r"(?<!\S)(\d+)\s+(?:投诉|农贸市场|公共厕所|垃圾收集点|城中村|健康步道)\s", pdftext(path, page.number))
        assert [int(n) for n in rows] == [n for n, _, _ in page.items]


def test_map_frame_is_drawn_and_the_qr_code_is_the_grids_url(grid_pdf, busiest_grid, tmp_path):
    path, _ = grid_pdf
    paper = Paper("A4", False)
    layout = grid_layout(paper)
    image = render_page(path, 1, 100, tmp_path)
    x, y, w, h = layout.map
    inside = crop_mm(image, paper, (x + 2, y + 2, w - 4, h - 4))
    assert (inside < 200).mean() > 0.05, "the map frame is (nearly) blank"
    assert len(np.unique(inside // 16)) >= 6  # lines, hatching, markers, labels: many grey levels

    # The QR code's modules, read back from the rendered page, are those of the grid's URL.
    ctx_url = f"{LinkSettings.from_env({}).fallback_url()}/map/grids?street={busiest_grid['street_code']}" \
              f"&grid={busiest_grid['code']}{printed_param(path)}"
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(ctx_url)
    qr.make(fit=True)
    modules = np.array(qr.get_matrix(), dtype=bool)
    n = modules.shape[0]
    assert qr_path(ctx_url)[1] == n
    hi = render_page(path, 1, 300, tmp_path)
    qx, qy, side, _ = layout.qr
    pixels = crop_mm(hi, paper, (qx, qy, side, side))
    centres = ((np.arange(n) + 0.5) * pixels.shape[0] / n).astype(int)
    read = pixels[np.ix_(centres, centres)] < 128
    assert (read == modules).mean() > 0.99


def test_a3_landscape_and_english(demo_db, busiest_grid, tmp_path, env_for):
    env_for(demo_db)
    out = tmp_path / "a3.pdf"
    run = CliRunner().invoke(main, ["print", "grid", busiest_grid["code"], "--out", str(out), "--paper", "A3",
                                    "--landscape", "--lang", "en"])
    assert run.exit_code == 0, run.output
    info = pdfinfo(out)
    pages = int(info["Pages"])
    assert f"wrote {out}: {pages} page{'' if pages == 1 else 's'} (" in run.output, run.output  # 1 page, 2 pages
    assert page_size_pt(info) == pytest.approx(A3_LANDSCAPE_PT, abs=0.5)
    text = pdftext(out, 1)
    assert "Checklist" in text and "Grid manager" in text
    assert busiest_grid["street_en"] in text


def test_cli_unknown_grid_is_one_line_and_writes_nothing(demo_db, tmp_path, env_for):
    env_for(demo_db)
    out = tmp_path / "none.pdf"
    run = CliRunner().invoke(main, ["print", "grid", "37999999999999", "--out", str(out)])
    assert run.exit_code == 2
    assert run.output.strip().splitlines() == ["hygiene-map：错误：网格 '37999999999999' 不存在"]
    assert not out.exists() and not list(tmp_path.iterdir())


def test_bad_paper_is_refused_by_name(demo_db, busiest_grid, tmp_path, env_for):
    env_for(demo_db)
    run = CliRunner().invoke(main, ["print", "grid", busiest_grid["code"], "--paper", "B5",
                                    "--out", str(tmp_path / "x.pdf")])
    assert run.exit_code == 2 and "--paper" in run.output and "Traceback" not in run.output


def test_a_missing_font_file_is_a_setup_error():
    from data.errors import SetupError

    with pytest.raises(SetupError, match="HYGIENE_MAP_PRINT_FONT"):
        register_font("/nonexistent/font.ttc")


# -- atlas and route ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def smallest_street(demo_db):
    from data.db import connect

    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT s.code, s.name, count(g.id) FROM admin_areas s JOIN grids g ON g.street_code = s.code "
            "WHERE s.level = 'street' GROUP BY s.code, s.name ORDER BY count(g.id), s.code LIMIT 1"
        )
        code, name, n = cur.fetchone()
        cur.execute("SELECT code, name FROM grids WHERE street_code = %s ORDER BY code", (code,))
        grids = cur.fetchall()
    conn.close()
    return {"code": code, "name": name, "grids": grids}


@pytest.fixture(scope="module")
def atlas_pdf(demo_db, smallest_street, tmp_path_factory):
    from data.db import connect

    path = tmp_path_factory.mktemp("atlas") / "atlas.pdf"
    conn = connect(url=demo_db)
    stages = []

    def progress(stage, done, total):
        stages.append((stage, done, total))

    result = atlas_document(conn, smallest_street["code"], settings=PrintSettings.from_env({}), progress=progress)
    conn.close()
    result.write(str(path), progress=progress)
    return path, result, stages


def test_atlas_has_cover_index_and_one_sheet_per_grid(atlas_pdf, smallest_street, demo_conn):
    path, result, stages = atlas_pdf
    info = pdfinfo(path)
    assert int(info["Pages"]) == len(result.pages)
    kinds = [p.kind for p in result.pages]
    assert kinds[0] == "cover" and kinds[1] == "index"
    sheets = [p for p in result.pages if p.kind == "grid"]
    assert [p.grid_code for p in sheets] == [code for code, _ in smallest_street["grids"]]
    cover = pdftext(path, 1)
    assert smallest_street["name"] in cover and "网格巡查图册" in cover
    # Drawn by worker processes and joined: still one font program type, every font embedded.
    fonts, warnings = pdffonts(path)
    assert fonts and all(row[-5] == "yes" for row in fonts) and "Mismatch" not in warnings
    index = pdftext(path, 2)
    for page in sheets:
        # The index gives each grid's page, and that page is the grid's sheet.
        assert re.search(rf"(?<!\S){page.number}\s+{page.grid_code}\b", index), page.grid_code
        sheet_text = pdftext(path, page.number)
        assert page.grid_code in sheet_text
        items = {(layer, fid) for p in result.pages if p.grid_code == page.grid_code for _, layer, fid in p.items}
        assert items == expected_checklist(demo_conn, page.grid_code)
    # Progress was reported for loading and for every page drawn.
    assert stages[-1] == ("drawing", len(result.pages), len(result.pages))
    assert ("loading", len(sheets), len(sheets)) in stages


def test_route_visits_the_top_grids_in_a_short_order(demo_db, smallest_street, demo_conn, tmp_path):
    path = tmp_path / "route.pdf"
    result = route_document(demo_conn, smallest_street["code"], 5, settings=PrintSettings.from_env({}))
    result.write(str(path))
    # The five grids with the highest open + 2 × overdue, asked independently.
    with demo_conn.cursor() as cur:
        cur.execute(
            """
            SELECT g.code, count(c.id) + 2 * count(c.id) FILTER (WHERE c.due_at < (SELECT data_time FROM city_settings))
            FROM grids g JOIN complaints c ON ST_Intersects(c.geom, g.geom) AND c.status <> '结案'
            WHERE g.street_code = %s GROUP BY g.code ORDER BY 2 DESC, 1 LIMIT 5
            """,
            (smallest_street["code"],),
        )
        expected = [code for code, _ in cur.fetchall()]
    stops = [p.grid_code for p in result.pages if p.kind == "grid"]
    assert sorted(stops) == sorted(expected)
    assert result.pages[0].kind == "route"
    text = pdftext(path, 1)
    assert "巡查路线图" in text
    for code in expected:
        assert code in text
    for k, page in enumerate([p for p in result.pages if p.kind == "grid"], start=1):
        assert f"第{k}站" in re.sub(r"\s", "", pdftext(path, page.number))
    assert int(pdfinfo(path)["Pages"]) == len(result.pages)
    # The walking order is no longer than visiting the grids in ranking order.
    with demo_conn.cursor() as cur:
        cur.execute("SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(ST_Transform(geom, "
                    "(SELECT metric_srid FROM city_settings))) AS p FROM grids WHERE code = ANY(%s)) q", (stops,))
        where = {code: (x, y) for code, x, y in cur.fetchall()}
    walked = np.array([where[c] for c in stops])
    ranked = np.array([where[c] for c in expected])
    assert path_length(walked, np.arange(5)) <= path_length(ranked, np.arange(5)) + 1e-6


def test_route_top_out_of_range_is_refused(demo_conn):
    from data.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="--top"):
        route_document(demo_conn, "379901001", 0, settings=PrintSettings.from_env({}))


# -- the tour -----------------------------------------------------------------------------------
def test_open_tour_walks_a_line_in_order():
    xy = np.array([[x, 0.0] for x in (5, 1, 4, 2, 0, 3)])
    order = open_tour(xy)
    assert list(xy[order][:, 0]) in ([0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0])
    assert path_length(xy, order) == pytest.approx(5.0)


def test_open_tour_is_near_the_brute_force_optimum():
    rng = np.random.default_rng(7)
    for _ in range(5):
        xy = rng.uniform(0, 1000, (7, 2))
        best = min(path_length(xy, np.array(p)) for p in permutations(range(7)))
        order = open_tour(xy)
        assert sorted(order) == list(range(7))
        assert path_length(xy, order) <= best * 1.05


# -- HTTP -----------------------------------------------------------------------------------------
def test_http_grid_pdf(demo_client, busiest_grid):
    response = demo_client.get(f"/print/grids/{busiest_grid['code']}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_http_unknown_codes_are_404_and_bad_parameters_422(demo_client):
    missing = demo_client.get("/print/grids/37999999999999.pdf")
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    assert demo_client.get("/print/streets/379999999/atlas.pdf").status_code == 404
    bad = demo_client.get("/print/grids/37990100100101.pdf", params={"paper": "B5"})
    assert bad.status_code == 422 and "paper" in bad.json()["detail"]


def test_http_atlas_over_the_page_limit_is_refused_before_drawing(demo_client, smallest_street, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_PRINT_MAX_PAGES", "5")
    response = demo_client.get(f"/print/streets/{smallest_street['code']}/atlas.pdf")
    assert response.status_code == 422
    assert "HYGIENE_MAP_PRINT_MAX_PAGES" in response.json()["detail"]


def test_to_bytes_matches_a_file(demo_conn, busiest_grid, tmp_path):
    result = grid_document(demo_conn, busiest_grid["code"], options=PrintOptions(lang="en"),
                           settings=PrintSettings.from_env({}))
    body = result.to_bytes()
    assert body.startswith(b"%PDF") and len(result.pages) >= 1


# -- long and empty checklists ---------------------------------------------------------------------
def test_a_long_checklist_continues_on_numbered_pages(writable_demo, tmp_path):
    from data.db import connect

    conn = connect(url=writable_demo)
    code = "37990100100101"
    with conn.cursor() as cur:
        # 40 open, overdue complaints inside one grid: more rows than one sheet holds.
        cur.execute(
            """
            INSERT INTO complaints (source, source_id, category, reported_at, status, due_at, grid_code, geom)
            SELECT 'test', 'long-' || i, '暴露垃圾', timestamptz '2026-09-01', '派遣', timestamptz '2026-09-02', code,
                   ST_PointOnSurface(geom)
            FROM grids, generate_series(1, 40) AS i WHERE code = %s
            """,
            (code,),
        )
    conn.commit()
    path = tmp_path / "long.pdf"
    result = grid_document(conn, code, settings=PrintSettings.from_env({}))
    result.write(str(path))
    assert [p.kind for p in result.pages][:2] == ["grid", "checklist"]
    numbers = [n for p in result.pages for n, _, _ in p.items]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == len(expected_checklist(conn, code)) >= 40
    assert len(result.pages[0].items) == first_page_rows(Paper("A4", False))
    assert int(pdfinfo(path)["Pages"]) == len(result.pages)
    second = pdftext(path, 2)
    assert "核查清单（续）" in re.sub(r"\s", "", second)
    for _, _, fid in result.pages[1].items:
        assert re.search(rf"\b{fid}\b", second)
    conn.close()


def test_an_empty_grid_says_there_is_nothing_to_check(demo_conn, tmp_path):
    with demo_conn.cursor() as cur:
        cur.execute(
            """
            SELECT g.code FROM grids g
            WHERE NOT EXISTS (SELECT 1 FROM complaints c WHERE ST_Intersects(c.geom, g.geom) AND c.status <> '结案')
              AND NOT EXISTS (SELECT 1 FROM garbage_stations s WHERE ST_Intersects(s.geom, g.geom))
              AND NOT EXISTS (SELECT 1 FROM toilets t WHERE ST_Intersects(t.geom, g.geom))
              AND NOT EXISTS (SELECT 1 FROM markets m WHERE ST_Intersects(m.geom, g.geom))
              AND NOT EXISTS (SELECT 1 FROM urban_villages v WHERE ST_Intersects(v.geom, g.geom))
              AND NOT EXISTS (SELECT 1 FROM health_trails h WHERE ST_Intersects(h.geom, g.geom))
            ORDER BY g.code LIMIT 1
            """
        )
        row = cur.fetchone()
    if row is None:
        pytest.skip("every grid of the small demo has something to check")
    path = tmp_path / "empty.pdf"
    result = grid_document(demo_conn, row[0], settings=PrintSettings.from_env({}))
    result.write(str(path))
    assert [p.items for p in result.pages] == [[]]
    assert "本网格内无设施和待办投诉" in pdftext(path)
