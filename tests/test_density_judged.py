"""Density verdicts a planner can trust for whole counties, on Yantai's and Hong Kong's real districts.

A walk-through found: in a city without land use, a whole rural county (Yantai's 福山区, 972 km², "expected"
2,915–4,859 toilets from the built-up band over all of its km²) was coloured 低于标准 red, only a note saying why;
the legend cited the 3–5 座/km² band but not how it is meant (lower bound for new districts, upper end for old
districts, tourist cities, dense land); and a kind the city has none of (Hong Kong's markets) was not said to be
missing data, as the coverage map says it. Without land use an area over 100 km² is now not judged
(未评判（无建成区用地）), grey, counted and explained in the API, the workbook, the command and the page.
"""

from __future__ import annotations

import csv
import io

import httpx
import openpyxl
import pytest

from tests.real_city import yantai  # noqa: F401  (the city, built here from nothing)
from tests.test_analysis_pages_planner import _open, _screen, hk, plain  # noqa: F401  (Hong Kong, its server)

#: Points in 芝罘区 as read off a Gaode map (GCJ-02), as tests/test_sheets_yantai.py places its toilets.
ZHIFU_POINTS = ((121.4005, 37.5435), (121.3905, 37.5335), (121.4105, 37.5300))
FUSHAN = "370611"
UNJUDGED = "未评判（无建成区用地）"
#: Hong Kong's districts over 100 km² (New Territories, mostly country parks): Yuen Long, North, Tai Po, Sai Kung,
#: Islands; the others (7–85 km²) are judged over their whole area.
HK_LARGE = {"M", "N", "P", "Q", "T"}
GREY = "#bdbdbd"


@pytest.fixture(scope="module")
def served(yantai):  # noqa: F811
    """Yantai with three toilets in 芝罘区 (imported with the command line), served by uvicorn."""
    from tests.chromium import serve_app

    with (yantai.work / "toilets.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "名称", "经度", "纬度"])
        writer.writerows([f"T{k}", f"公厕{k}", lon, lat] for k, (lon, lat) in enumerate(ZHIFU_POINTS))
    yantai.cli("import", "toilets", "toilets.csv", "--crs", "gcj02")
    with serve_app(yantai.url) as base:
        yantai.base = base
        yield yantai


def test_a_rural_county_without_land_use_is_not_judged_below(served):
    """福山区 (972 km², no land use): not 低于标准 against 2,915–4,859 toilets but 未评判（无建成区用地）, no expected
    range, counted in the summary, the reason in the note; every Yantai district is over 100 km², so none is judged."""
    answer = served.get("/api/analysis/density", kind="toilets", by="district").json()
    rows = {f["properties"]["code"]: f["properties"] for f in answer["features"]}
    fushan = rows[FUSHAN]
    assert fushan["area_km2"] > 900 and fushan["status"] == "unjudged", fushan
    assert fushan["expected_min"] is None and fushan["expected_max"] is None, fushan
    assert {p["status"] for p in rows.values()} == {"unjudged"}, rows
    summary = answer["summary"]
    assert (summary["unjudged"], summary["below"], summary["within"], summary["above"]) == (11, 0, 0, 0), summary
    assert "未评判 11 个区域" in answer["basis_note"] and "100 km²" in answer["basis_note"], answer["basis_note"]
    english = served.get("/api/analysis/density", kind="toilets", by="district", lang="en").json()
    assert "not judged (no built-up land)" in english["basis_note"], english["basis_note"]


def test_the_workbook_and_the_command_say_not_judged_and_why(served):
    """The XLSX a planner forwards: 福山区's 判定 reads 未评判（无建成区用地）, the notes say why and how the band is
    meant; the command's total counts the areas not judged."""
    got = served.get("/api/analysis/density", kind="toilets", by="district", format="xlsx")
    assert got.status_code == 200, got.text
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    head = rows[0]
    fushan = next(r for r in rows if r[0] == FUSHAN)
    assert fushan[head.index("判定")] == UNJUDGED, fushan
    assert fushan[head.index("标准下限")] is None and fushan[head.index("标准上限")] is None, (head, fushan)
    texts = " ".join(str(r[0]) for r in rows if r[0])
    assert "无用地数据且面积超过 100 km²" in texts, texts
    assert "新区取下限 3，老城区、旅游城市、用地紧张地区取上限 5" in texts, texts
    shown = served.cli("analyze", "density", "--kind", "toilets", "--by", "district").stdout
    assert "未评判（无建成区用地，面积超过 100 km²）11 个" in shown, shown


def test_hong_kong_judges_its_urban_districts_and_not_its_country_park_districts(plain):  # noqa: F811
    """Hong Kong without land use: the urban districts keep their verdict against 3–5 座/km² over the whole area;
    the five New Territories districts over 100 km² are not judged; the band's use is said in one line."""
    answer = httpx.get(plain + "/api/analysis/density", params={"kind": "toilets", "by": "district"}, timeout=60).json()
    rows = {f["properties"]["code"]: f["properties"] for f in answer["features"]}
    assert {c for c, p in rows.items() if p["status"] == "unjudged"} == HK_LARGE, rows
    for code, p in rows.items():
        if code not in HK_LARGE:
            assert p["status"] in ("below", "within", "above"), p
            assert p["expected_min"] == pytest.approx(3 * p["area_km2"]), p
    assert answer["summary"]["unjudged"] == len(HK_LARGE)
    assert answer["band_use"] == ("建成区密度 3–5 座/km²：新区取下限 3，老城区、旅游城市、用地紧张地区取上限 5；"
                                  "“低于标准”指低于下限 3"), answer["band_use"]
    english = httpx.get(plain + "/api/analysis/density", params={"kind": "toilets", "by": "district", "lang": "en"},
                        timeout=60).json()
    assert "up to 5 for old districts, tourist cities and dense land" in english["band_use"], english["band_use"]


@pytest.mark.browser
def test_the_density_map_draws_unjudged_districts_grey_and_cites_the_bands_use(plain, browser):  # noqa: F811
    """/map/density in Hong Kong: 離島區 grey 未评判（无建成区用地）, not red; 中西區 in its verdict's colour; the legend
    cites the band's use and counts the districts not judged."""
    from layers.web.analysis_page import STATUS_COLOURS
    from tests.chromium import DESKTOP

    _screen(browser, DESKTOP)
    try:
        _open(browser, plain + "/map/density?kind=toilets&by=district")
        state = browser.evaluate("hygieneAnalysisState")
        assert state["fills"]["T"] == GREY and state["statuses"]["unjudged"] == len(HK_LARGE), state
        verdict = httpx.get(plain + "/api/analysis/density", params={"kind": "toilets", "by": "district"},
                            timeout=60).json()
        central = next(f["properties"] for f in verdict["features"] if f["properties"]["code"] == "A")
        assert state["fills"]["A"] == STATUS_COLOURS[central["status"]] != GREY, state["fills"]
        legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
        assert "新区取下限 3，老城区、旅游城市、用地紧张地区取上限 5" in legend, legend
        assert f"{UNJUDGED} {len(HK_LARGE)}" in legend and "未评判 5 个区域" in legend, legend
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


@pytest.mark.browser
def test_a_kind_the_city_has_none_of_is_no_data_said_at_the_top(plain, browser):  # noqa: F811
    """/map/density?kind=markets in Hong Kong (no markets): hatched grey 无数据, as /map/coverage draws it, with the
    reason at the top in Chinese, not a grey "counted, not judged" map of zeros."""
    from tests.chromium import DESKTOP

    _screen(browser, DESKTOP)
    try:
        _open(browser, plain + "/map/density?kind=markets&by=district")
        state = browser.evaluate("hygieneAnalysisState")
        assert state["noData"] is True and state["statuses"] == {"no_data": 18}, state
        dashed = browser.evaluate("hygieneAnalysisLayer.getLayers()[0].options.dashArray")
        assert dashed == "4 3", dashed  # the coverage page's no-data style
        top = browser.evaluate("document.getElementById('hm-status').textContent")
        assert top.startswith("没有农贸市场数据") and "请先导入农贸市场图层" in top, top
        legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
        assert "无数据" in legend and "无密度标准" not in legend, legend
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")
