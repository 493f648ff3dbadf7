"""Hot spots say when the complaints are too sparse for the cells, and account for every complaint of the window.

On Hong Kong's real district outlines of 2001 and FEHD's real toilets (DATA.GOV.HK): one complaint at each
toilet, those of 中西區 (A) a month after the others. One toilet lies 456 m outside the coarse 2001 coastline,
within the import's 500 m tolerance: its complaint is stored, but no 300 m hexagon touching the city holds it.
The small demo city is the dense case: no warning.
"""

from __future__ import annotations

import csv

import pytest

from data.db import connect, transaction
from data.migrate import migrate
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.test_real_analyses import load, run

#: The district whose toilets' complaints come in April (the others in March): 33 complaints in a small district.
APRIL_DISTRICT = "A"


@pytest.fixture(scope="module")
def hongkong(module_fresh_db, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hk-hotspots")
    conn = connect(url=module_fresh_db)
    migrate(conn)
    load(conn, tmp_path, "hongkong/hk_district_council_2001_dc_land.json", "admin_areas", level="district",
         code_field="DC_CODE", name_field="DC_CHIN")
    load(conn, tmp_path, "hongkong/hk_fehd_public_toilets.json", "toilets")
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom), district_code FROM toilets ORDER BY source_id")
        toilets = cur.fetchall()
    conn.rollback()
    path = tmp_path / "hk_12345.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间"])
        for i, (lon, lat, district) in enumerate(toilets):
            when = "2024-04-02T10:00:00+08:00" if district == APRIL_DISTRICT else "2024-03-05T10:00:00+08:00"
            writer.writerow([f"HK{i:04d}", f"{lon:.7f}", f"{lat:.7f}", "暴露垃圾", "公厕旁", "12345", when])
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints")).inserted == len(toilets)
    yield conn
    conn.close()


def stored(conn, since: str | None = None) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE reported_at >= coalesce(%s::timestamptz, '-infinity')",
                    (since,))
        n = cur.fetchone()[0]
    conn.rollback()
    return n


def test_complaints_outside_every_hexagon_are_named_beside_the_answer(hongkong):
    """At 300 m the complaint 456 m off the coastline is in no hexagon: the answer says so, with the window's
    total, in Chinese and English (the map's warning and the command's lines); at the default cell it is counted."""
    total = stored(hongkong)
    body, report = run(hongkong, "hotspots", lang="en", cell="300")
    s = body["summary"]
    assert s["outside_city"] == 1 and s["complaints"] + s["outside_city"] == total
    assert sum(f["properties"]["count"] for f in body["features"]) == s["complaints"]
    said = f"1 of the {total:,} complaints of the window lie outside every 300 m hexagon"
    assert said in body["warning"] and any(said in line for line in report.head), (body["warning"], report.head)
    body_zh, report_zh = run(hongkong, "hotspots", lang="zh", cell="300")
    said = f"时段内投诉 {total:,} 件，其中 1 件在所有边长 300 m 的六边形之外"
    assert said in body_zh["warning"] and any(said in line for line in report_zh.head), body_zh["warning"]
    whole, _ = run(hongkong, "hotspots", lang="en")
    assert whole["summary"]["complaints"] == total and whole["summary"]["outside_city"] == 0
    assert whole["warning"] is None, whole["warning"]  # 804 complaints in some 130 cells: nothing to say


def test_cells_too_small_for_the_complaints_say_so(hongkong):
    """One complaint per toilet in 300 m hexagons: most cells with any hold one, so Gi* marks where complaints
    are, not where they cluster; the warning names the complaints, the cells and the cells with complaints."""
    body, report = run(hongkong, "hotspots", lang="en", cell="300")
    s = body["summary"]
    with_any = sum(f["properties"]["count"] > 0 for f in body["features"])
    assert s["cells_with_complaints"] == with_any and s["complaints"] < 2 * with_any
    said = (f"too sparse for 300 m hexagons: {s['complaints']:,} complaints in {with_any:,} of {s['cells']:,} "
            "hexagons")
    assert said in body["warning"] and "use a larger cell (for these complaints' spread: --cell " in body["warning"], \
        body["warning"]
    assert report.head[2].startswith(said), report.head
    body, report = run(hongkong, "hotspots", lang="zh", cell="300")
    said = f"数据过稀：{s['complaints']:,} 件投诉落在边长 300 m 的 {s['cells']:,} 个六边形中的 {with_any:,} 个"
    assert said in body["warning"] and "请用较大的六边形（这些投诉的分布宜用 --cell " in body["warning"], body["warning"]


def test_complaints_in_a_few_cells_say_so(hongkong):
    """April's 33 complaints all lie in one small district: even at the default cell (sized from them, 2.6 per
    hexagon at random) they fill fewer than 30 hexagons, and the hot spots are those cells and their neighbours,
    not clusters. At a coarse cell the warning names the edge sized from these complaints."""
    n = stored(hongkong, "2024-04-01T00:00:00+08:00")
    assert n >= 30  # not the warning of too few complaints
    body, report = run(hongkong, "hotspots", lang="en", since="2024-04-01")
    s = body["summary"]
    assert s["complaints"] == n and s["cells_with_complaints"] < 30
    said = f"the {n:,} complaints fall in only {s['cells_with_complaints']:,} of the {s['cells']:,} hexagons"
    # The default is the size the rule gives: no smaller one to propose.
    assert said in body["warning"] and "use a smaller cell (--cell) or a longer window" in body["warning"]
    empty_hot = sum(f["properties"]["gi_bin"] > 0 and f["properties"]["count"] == 0 for f in body["features"])
    assert (f"({empty_hot} of the hot spots hold no complaint)" in body["warning"]) == bool(empty_hot)
    assert any(line.startswith(said) for line in report.head), report.head
    body, _ = run(hongkong, "hotspots", lang="zh", since="2024-04-01")
    said = f"{n:,} 件投诉只落在 {s['cells']:,} 个六边形中的 {s['cells_with_complaints']:,} 个（少于 30 个）"
    assert said in body["warning"], body["warning"]
    coarse, _ = run(hongkong, "hotspots", lang="zh", since="2024-04-01", cell="2000")
    assert coarse["summary"]["suggested_cell_m"] == s["cell_m"]
    assert f"（这些投诉的分布宜用 --cell {s['cell_m']:g}，即 cell={s['cell_m']:g}）" in coarse["warning"], coarse["warning"]


@pytest.mark.parametrize("params", [{}, {"since": "2025-01-01", "cell": 200}, {"cell": 50}])
def test_the_dense_demo_has_nothing_to_warn_of(demo_client, params):
    """The demo's 6,000 complaints: many cells hold several, a lone complaint is no hot spot, none is outside."""
    body = demo_client.get("/api/analysis/hotspots", params=params).json()
    s = body["summary"]
    assert s["cells_with_complaints"] >= 30 and s["complaints"] >= 2 * s["cells_with_complaints"], s
    assert s["lone_complaint_hot"] is False and s["outside_city"] == 0, s
    assert body["warning"] is None, body["warning"]


@pytest.mark.browser
def test_the_map_page_shows_the_warnings(hongkong, module_fresh_db, browser):
    """The hot-spot page's legend says what the answer says: too sparse, and the complaint left out."""
    from tests.chromium import serve_app
    from tests.real_city import READY_ANALYSIS

    shown = {}
    with serve_app(module_fresh_db) as base:
        for lang in ("zh", "en"):
            report = browser.open(f"{base}/map/hotspots?cell=300&lang={lang}", ready_js=READY_ANALYSIS, timeout=90)
            assert not report.timed_out and report.console_errors == [], report
            shown[lang] = browser.evaluate("document.querySelector('.hm-warning').textContent")
    assert "数据过稀" in shown["zh"] and "其中 1 件在所有边长 300 m 的六边形之外" in shown["zh"], shown
    assert "too sparse for 300 m hexagons" in shown["en"] and "1 of the 804 complaints" in shown["en"], shown
