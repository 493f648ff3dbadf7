"""Yantai's 11 real Gaode districts with communities drawn in one street of 芝罘区 only (what a city gets when it
starts drawing them): 3 communities with a population tile 向阳街道 (a few km² of 芝罘区's ~198 km²).

Their residents were 芝罘区's (density printed every toilet of the district per 10,000 of those few residents,
~15× too high), and a plan's "全市合计" (city totals) and /map/coverage's 合计 were theirs in a city of 13,900 km².
The district's residents are now unknown (its own figure where it has one) and said so; the street they tile keeps
their sum; the totals say what they add up. (Taipei, whose villages cover their districts: tests/test_planner_density.py.)
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from data.db import connect
from layers.analysis import registry
from tests.pdf_tools import pdftext
from tests.real_city import READY_ANALYSIS, yantai  # noqa: F401  (a fixture)

ZHIFU, XIANGYANG = "370602", "370602001"
#: 向阳街道 (GCJ-02, as the office draws it on Gaode's map) and its 3 communities, west to east, with residents.
WEST, EAST, SOUTH, NORTH = 121.375, 121.405, 37.525, 37.545
PEOPLE = {"370602001001": ("新华社区", 8000), "370602001002": ("南通社区", 9500), "370602001003": ("海港社区", 11000)}


def _box(west: float, east: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, SOUTH], [east, SOUTH], [east, NORTH], [west, NORTH], [west, SOUTH]]]}


def _write(city, name: str, features: list[tuple[dict, dict]]) -> str:
    collection = {"type": "FeatureCollection",
                  "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}
    (city.work / name).write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return name


@pytest.fixture(scope="module")
def drawn(yantai):
    """向阳街道 and its 3 communities imported with the command line, as GCJ-02; a connection to the city."""
    step = (EAST - WEST) / 3
    streets = _write(yantai, "streets.geojson", [({"code": XIANGYANG, "name": "向阳街道", "parent": ZHIFU},
                                                  _box(WEST, EAST))])
    communities = _write(yantai, "communities.geojson", [
        ({"code": code, "name": name, "parent": XIANGYANG, "pop": pop}, _box(WEST + i * step, WEST + (i + 1) * step))
        for i, (code, (name, pop)) in enumerate(PEOPLE.items())])
    yantai.cli("import", "admin_areas", streets, "--crs", "gcj02", "--level", "street", "--code-field", "code",
               "--name-field", "name", "--parent-field", "parent")
    yantai.cli("import", "admin_areas", communities, "--crs", "gcj02", "--level", "community", "--code-field",
               "code", "--name-field", "name", "--parent-field", "parent", "--population-field", "pop")
    conn = connect(url=yantai.url)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _run(conn, name: str, **raw):
    analysis = registry.load(name)
    args = analysis.parse(raw)
    result = analysis.compute(conn, args)
    return analysis, args, result


@pytest.mark.parametrize("name", ["density", "coverage"])
def test_a_district_is_not_given_the_residents_of_the_few_communities_drawn_in_it(drawn, name):
    """芝罘区 by district: no population (and no rate per 10,000) rather than its 3 communities' 28,500, and the
    answer says why; the other 10 districts as before (no population: Gaode's file has none); 向阳街道, which its
    communities tile, keeps their sum."""
    analysis, args, result = _run(drawn, name, kind="toilets", by="district")
    rows = {r["code"]: r for r in result["rows"]}
    assert len(rows) == 11
    assert rows[ZHIFU]["population"] is None, rows[ZHIFU]
    assert all(r["population"] is None for r in rows.values())
    if name == "density":
        assert rows[ZHIFU]["per_10k_residents"] is None
        assert result["summary"]["population"] is None and result["summary"]["without_population"] == 11
    else:
        assert rows[ZHIFU]["covered_pop_pct"] is None and result["summary"]["population"] is None
    [partly] = result["partly_drawn"]
    assert partly["code"] == ZHIFU and partly["name"] == "芝罘区" and 0 < partly["drawn_pct"] < 10, partly
    report = analysis.report(result, args, "zh")
    said = [line for line in report.head if "芝罘区" in line]
    assert said and "社区只覆盖部分面积" in said[0] and "人口不由社区汇总" in said[0], report.head
    english = analysis.report(result, args, "en")
    assert any("cover only part of the area" in line for line in english.head), english.head
    written = json.loads(analysis.geojson(result, args, "zh"))
    assert "芝罘区" in written["population_note"]
    # The street its communities tile: their residents are its residents.
    _, _, by_street = _run(drawn, name, kind="toilets", by="street")
    assert {r["code"]: r["population"] for r in by_street["rows"]} == {XIANGYANG: 28_500}
    assert by_street["partly_drawn"] == []


def test_a_plans_totals_say_they_are_the_communities_drawn_not_the_city(drawn, tmp_path):
    """A plan by community (the finest level) in Yantai: its compare, page, workbook and print name the 3
    communities and their share of the city, not 全市合计; the coverage map's legend likewise."""
    from layers.analysis.plans import compare_plan, comparison_xlsx, save_plan
    from layers.printing.plan_pdf import plan_pdf
    from layers.web.plan_page import plan_page

    plan = save_plan(drawn, {"name": "向阳街道补建公厕方案", "kind": "toilets",
                             "edits": [{"op": "add", "lon": 121.385, "lat": 37.533}]}, "planner")
    drawn.commit()  # the print reads it afresh
    result = compare_plan(drawn, plan["id"])
    assert result["before"]["population"] == 28_500
    page = plan_page(result, "zh")
    assert "所列 3 个社区合计（占全市面积" in page and "全市合计" not in page
    scope = result["scope"]
    assert scope["by"] == "community" and scope["areas"] == 3 and not scope["whole_city"], scope
    assert 0 < scope["city_pct"] < 0.2, scope  # a few km² of 13,900
    assert "Totals of the 3 communities drawn" in plan_page(result, "en")
    sheet = openpyxl.load_workbook(io.BytesIO(comparison_xlsx(result, "zh"))).active
    labels = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert any(str(v).startswith("所列 3 个社区合计") for v in labels) and "全市合计" not in labels, labels
    printed = tmp_path / "plan.pdf"
    printed.write_bytes(plan_pdf(drawn, plan["id"], None))
    first = " ".join(pdftext(printed, 1).split())
    assert "所列 3 个社区合计（占全市面积" in first and "全市合计" not in first, first
    # /map/coverage opens by community: its legend's total names the 3 communities.
    analysis, args, cover = _run(drawn, "coverage", kind="toilets")
    legend = json.loads(analysis.geojson(cover, args, "zh"))["totals_label"]
    assert legend.startswith("所列 3 个社区合计（占全市面积"), legend
    assert analysis.report(cover, args, "zh").tail[0].startswith("所列 3 个社区合计")
    # By district the areas are the city: the plain label.
    analysis, args, districts = _run(drawn, "coverage", kind="toilets", by="district")
    assert json.loads(analysis.geojson(districts, args, "zh"))["totals_label"] == "合计"


@pytest.mark.browser
def test_the_coverage_maps_legend_names_the_communities_its_total_adds_up(drawn, yantai, browser):
    """/map/coverage opens on the 3 communities (the finest level): its legend's total says it is theirs, not 合计
    of a city of 13,900 km²."""
    from tests.chromium import serve_app

    with serve_app(yantai.url) as base:
        report = browser.open(f"{base}/map/coverage?kind=toilets", ready_js=READY_ANALYSIS, timeout=90)
        assert not report.timed_out
        legend = browser.evaluate("document.querySelector('.hm-legend').textContent")
    assert "所列 3 个社区合计（占全市面积" in legend, legend
