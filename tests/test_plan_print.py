"""A saved coverage plan printed for the campaign office's meeting (GET /plans/{id}.pdf), on the real Taipei
(tests/real_city.py: districts, villages, toilets imported with the command line).

Planners bring a printed map: where the plan adds, moves and removes toilets, what they reach, and the
before/after table with the numbers of /api/plans/{id}/compare. Checked as a reader of the PDF checks it:
pdftotext for the words and numbers, pdfinfo for pages and paper, pdftoppm's pixels for the map."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.pdf_tools import crop_mm, page_size_pt, pdfinfo, pdftext, words
from tests.real_city import taipei  # noqa: F401 (fixture)
from tests.taipei_planner import DATONG

SAVER = "plan-printer"
#: 大同區, the district office whose toilets the small plan removes and moves.
DATONG_OFFICE = "6300600"


def _save(url: str, body: dict) -> dict:
    from data.db import connect
    from layers.analysis.plans import save_plan

    conn = connect(url=url)
    try:
        saved = save_plan(conn, body, SAVER)
        conn.commit()
    finally:
        conn.close()
    return saved


@pytest.fixture(scope="module")
def token(taipei):
    return taipei.cli("users", "add", SAVER, "--role", "planner").stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def small_plan(taipei) -> dict:
    """Toilets at 300 m in 大同區: one added (a gap a siting run proposes), one removed, one moved 300 m east."""
    gone, moved = [r[0] for r in taipei.sql("SELECT id FROM toilets WHERE in_service AND street_code = %s "
                                            "ORDER BY id LIMIT 2", (DATONG_OFFICE,))]
    x, y = taipei.sql("SELECT ST_X(geom), ST_Y(geom) FROM toilets WHERE id = %s", (moved,))[0]
    return _save(taipei.url, {"name": "大同區公廁調整（打印）", "kind": "toilets", "edits": [
        DATONG[0], {"op": "remove", "id": gone}, {"op": "move", "id": moved, "lon": x + 0.003, "lat": y}]})


@pytest.fixture(scope="module")
def long_plan(taipei) -> dict:
    """Toilets at 100 m: one added inside each of 45 villages, so that far more areas change than a page holds."""
    points = taipei.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p FROM admin_areas "
                        "WHERE level = 'community' ORDER BY code LIMIT 45) v")
    return _save(taipei.url, {"name": "四十五里各增一座", "kind": "toilets", "radius": 100,
                              "edits": [{"op": "add", "lon": x, "lat": y} for x, y in points]})


@pytest.fixture
def client(taipei, env_for, token):
    from api.app import create_app

    env_for(taipei.url)
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def _pdf(client, tmp_path, plan_id: int, name: str = "plan.pdf", **params):
    answer = client.get(f"/plans/{plan_id}.pdf", params=params)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/pdf"
    path = tmp_path / name
    path.write_bytes(answer.content)
    return path


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_plan_prints_as_its_map_then_its_table_with_the_comparisons_numbers(client, small_plan, tmp_path):
    """Landscape A4: page 1 the map titled with the plan's name, kind and radius, its legend (新增, 移除, 移动),
    the city's totals before and after, the data time, the saver (a login reads it); page 2 each changed area's
    row — code, name and the figures of /api/plans/{id}/compare — and the edit list, under Chinese headers."""
    pid = small_plan["id"]
    compare = client.get(f"/api/plans/{pid}/compare").json()
    assert compare["areas"], compare  # the plan changes some village's coverage
    path = _pdf(client, tmp_path, pid)
    info = pdfinfo(path)
    assert int(info["Pages"]) == 2, info
    assert page_size_pt(info) == pytest.approx((841.9, 595.3), abs=1)  # A4, landscape
    first, second = _words(pdftext(path, 1)), _words(pdftext(path, 2))
    for said in ("大同區公廁調整（打印）", "公共厕所，服务半径 300 米，按社区统计", "新增设施", "移除设施",
                 "移动：原位置 → 新位置", "现状公共厕所", "全市合计", "数据时间", f"{SAVER} 保存于", "比例尺约"):
        assert said in first, (said, first)
    before, after = compare["before"]["covered_area_pct"], compare["after"]["covered_area_pct"]
    assert f"{before:.2f}" in first and f"{after:.2f}" in first, first
    for header in ("编码", "名称", "覆盖面积比例（现状，%）", "覆盖面积比例（规划后，%）", "调整清单（3 项）"):
        assert header in second, (header, second)
    for row in compare["areas"]:
        line = next((ln for ln in pdftext(path, 2).splitlines() if row["code"] in ln), None)
        assert line is not None, (row["code"], second)
        assert row["name"] in line and f"{row['covered_area_pct_before']:.2f}" in line, (row, line)
        assert f"{row['covered_area_pct']:.2f}" in line, (row, line)
    for op in ("新增", "移除", "移动"):
        assert op in second


def test_the_print_is_in_english_with_lang_en(client, small_plan, tmp_path):
    path = _pdf(client, tmp_path, small_plan["id"], lang="en")
    text = _words(pdftext(path))
    for said in ("public toilets, service radius 300 m, by community", "added facility", "removed facility",
                 "City totals", "Data as of", "covered area % (now)", "Edits (3)", "Page 2 of 2"):
        assert said in text, (said, text)
    assert "新增" not in text and "调整清单" not in text


def test_the_saver_is_named_only_to_whom_the_plan_names_him(client, small_plan, tmp_path, monkeypatch):
    """Without a login the plan's JSON has no saver (created_by null): nor has its print; where reads need a token,
    the print is refused as the plan's page is."""
    pid = small_plan["id"]
    del client.headers["Authorization"]
    assert client.get(f"/api/plans/{pid}").json()["created_by"] is None
    text = _words(pdftext(_pdf(client, tmp_path, pid)))
    assert SAVER not in text and "— 保存于" in text, text
    monkeypatch.setenv("HYGIENE_MAP_READS_NEED_TOKEN", "1")
    page = client.get(f"/plans/{pid}", follow_redirects=False)
    printed = client.get(f"/plans/{pid}.pdf", follow_redirects=False)
    assert page.status_code in (302, 303, 307, 401), page.status_code
    assert printed.status_code == page.status_code and printed.headers.get("content-type") != "application/pdf"


def test_a_long_table_continues_on_further_pages(client, long_plan, tmp_path):
    """45 new toilets change more villages than a page's rows: the table goes on over pages, its title marked 续,
    every changed village on one of them."""
    pid = long_plan["id"]
    compare = client.get(f"/api/plans/{pid}/compare").json()
    assert len(compare["areas"]) > 40, len(compare["areas"])
    path = _pdf(client, tmp_path, pid)
    pages = int(pdfinfo(path)["Pages"])
    assert pages >= 3, pages
    tables = "\n".join(pdftext(path, n) for n in range(2, pages + 1))
    assert "受影响的统计单元（" in pdftext(path, 2) and "（续）" in pdftext(path, 3)
    assert all(row["code"] in tables for row in compare["areas"])
    assert f"第{pages}/{pages}页" in pdftext(path, pages).replace(" ", "")


def test_a3_and_refusals(client, small_plan, tmp_path):
    """paper=A3 as the other prints take it; another paper is a 422 naming paper; no such plan a 404 saying so."""
    info = pdfinfo(_pdf(client, tmp_path, small_plan["id"], paper="A3"))
    assert page_size_pt(info) == pytest.approx((1190.6, 841.9), abs=1)
    bad = client.get(f"/plans/{small_plan['id']}.pdf", params={"paper": "A5"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("paper: "), bad.text
    missing = client.get("/plans/987654.pdf")
    assert missing.status_code == 404, missing.text
    assert missing.json()["detail"] == "no coverage plan 987654" and "987654" in missing.json()["detail_zh"]


def test_the_plans_page_links_its_print(client, small_plan):
    pid = small_plan["id"]
    assert f'href="/plans/{pid}.pdf?lang=zh">打印 PDF</a>' in client.get(f"/plans/{pid}").text
    assert f'href="/plans/{pid}.pdf?lang=en">Print PDF</a>' in client.get(f"/plans/{pid}", params={"lang": "en"}).text


def test_the_map_is_drawn_and_the_added_toilet_is_green_at_its_place(client, taipei, small_plan, tmp_path):
    """Rendered at 150 dpi: the map is not blank, and where the added toilet lies (its frame's metres to the page's
    millimetres) the pixels are the plan's green."""
    import subprocess

    path = _pdf(client, tmp_path, small_plan["id"])
    from data.db import connect
    from layers.printing.plan_data import load_plan_map
    from layers.printing.plan_pdf import ADDED, map_rect
    from layers.printing.style import Paper

    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", str(path),
                    str(tmp_path / "map")], check=True)
    image = Image.open(tmp_path / "map.png").convert("RGB")
    paper = Paper("A4", True)
    rect = map_rect(paper)
    grey = crop_mm(image.convert("L"), paper, rect)
    assert (grey < 245).mean() > 0.05, (grey < 245).mean()  # villages, reach, toilets: not a blank frame
    conn = connect(url=taipei.url)
    try:
        pm = load_plan_map(conn, small_plan["id"], None, rect[2] / rect[3])
    finally:
        conn.close()
    added = next(e for e in pm.edits if e.op == "add")
    m_per_mm = (pm.frame[2] - pm.frame[0]) / rect[2]
    x = rect[0] + (added.x - pm.frame[0]) / m_per_mm
    y = rect[1] + (added.y - pm.frame[1]) / m_per_mm
    spot = crop_mm(image, paper, (x - 0.5, y - 0.5, 1.0, 1.0)).reshape(-1, 3).astype(float)
    green = np.array([int(ADDED[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    assert np.abs(spot.mean(axis=0) - green).max() < 40, (spot.mean(axis=0), green)


def test_no_area_name_hides_the_toilet_the_plan_adds(client, taipei, tmp_path):
    """A toilet added at the very middle of a village (its pole of inaccessibility, where the village's name is
    put first): the name moves aside, so the marker and its number stay readable."""
    from data.catalog import metric_srid
    from data.db import connect
    from layers.printing.plan_data import load_plan_map
    from layers.printing.plan_pdf import map_rect
    from layers.printing.style import Paper

    conn = connect(url=taipei.url)
    try:
        srid = metric_srid(conn)
    finally:
        conn.close()
    code, name, lon, lat = taipei.sql(
        "SELECT code, name, ST_X(c), ST_Y(c) FROM (SELECT code, name, ST_Transform((ST_MaximumInscribedCircle("
        "ST_Transform(geom, %s))).center, 4326) c, ST_Area(geom::geography) a FROM admin_areas WHERE level = "
        "'community' AND parent_code = %s) v ORDER BY a DESC LIMIT 1", (srid, DATONG_OFFICE))[0]
    plan = _save(taipei.url, {"name": f"{name}正中加一座", "kind": "toilets", "radius": 100,
                              "edits": [{"op": "add", "lon": lon, "lat": lat}]})
    path = _pdf(client, tmp_path, plan["id"])
    paper, rect = Paper("A4", True), map_rect(Paper("A4", True))
    conn = connect(url=taipei.url)
    try:
        pm = load_plan_map(conn, plan["id"], None, rect[2] / rect[3])
    finally:
        conn.close()
    assert code in [c for c, *_ in pm.changed]
    m_per_mm = (pm.frame[2] - pm.frame[0]) / rect[2]
    (e,) = pm.edits
    # The marker and its number, in millimetres from the page's upper left as pdftotext gives word boxes.
    x = rect[0] + (e.x - pm.frame[0]) / m_per_mm
    y = paper.size_mm[1] - rect[1] - (e.y - pm.frame[1]) / m_per_mm
    marked = (x - 1.2, y - 3.5, x + 3.5, y + 1.2)
    found = [box for word, box in words(path) if word == name]
    assert found, f"{name} is not named on the map"
    for box in found:
        assert min(box[2], marked[2]) <= max(box[0], marked[0]) or min(box[3], marked[3]) <= max(box[1], marked[1]), \
            (name, box, marked)
