"""What a planner pastes and reads, on Hong Kong's 18 districts and FEHD's public toilets (../shared/real-data/hongkong):
sheets whose coordinates say their CRS, plan totals that show one toilet's change in km², coverage and density
workbooks with formatted figures, a 合计 row and the standard cited, and a plan print that names its data sources."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.real_city import hongkong_planner, planner_client

#: A point in 油尖旺區 (Yau Tsim Mong), near a gap of its toilets' 300 m discs.
YAU_TSIM = {"op": "add", "lon": 114.17, "lat": 22.32}


@pytest.fixture(scope="module")
def hongkong(pg_server, tmp_path_factory):
    """Hong Kong's URL and a planner's token: its districts and toilets."""
    with hongkong_planner(pg_server, tmp_path_factory.mktemp("hk-figures")) as city:
        yield city


@pytest.fixture
def client(hongkong, env_for):
    with planner_client(hongkong, env_for) as c:
        yield c


@pytest.fixture
def plan(client):
    """A saved plan adding one toilet in 油尖旺區 (made once; later tests find it by name)."""
    name = "油尖旺加一座（数字）"
    for p in client.get("/api/plans").json():
        if p["name"] == name:
            return p
    saved = client.post("/api/plans", json={"name": name, "kind": "toilets", "edits": [YAU_TSIM]})
    assert saved.status_code == 201, saved.text
    return saved.json()


def _book(content: bytes):
    return load_workbook(io.BytesIO(content))


def test_sheets_with_coordinates_say_they_are_wgs84(client, plan):
    """A plan's edit list and the siting table are pasted into Gaode (GCJ-02) or re-imported: their lon/lat headers
    say WGS84, as the layer exports do, not a bare 经度 that reads as the ledger's GCJ-02 (~500 m off in the mainland)."""
    edits = _book(client.get(f"/api/plans/{plan['id']}/compare", params={"format": "xlsx"}).content)["调整清单"]
    head = [c.value for c in edits[1]]
    assert "经度(WGS84)" in head and "纬度(WGS84)" in head, head
    en = _book(client.get(f"/api/plans/{plan['id']}/compare", params={"format": "xlsx", "lang": "en"}).content)
    assert "lon (WGS84)" in [c.value for c in en["edits"][1]]
    sites = client.get("/api/analysis/siting", params={"kind": "toilets", "add": "1", "street": "A", "format": "xlsx"})
    assert sites.status_code == 200, sites.text
    head = [c.value for c in _book(sites.content).active[1]]
    assert "经度(WGS84)" in head and "纬度(WGS84)" in head, head


def test_one_added_toilet_shows_in_the_city_totals_in_km2(client, plan):
    """Hong Kong's 1,100 km²: one toilet moves the covered share by a few hundredths of a point at most. The compare,
    the plan page and the workbook give the covered km² before, after and the change; the workbook keeps every digit
    of the shares (formatted to two decimals), not values rounded to 4.46."""
    compared = client.get(f"/api/plans/{plan['id']}/compare").json()
    now, after = compared["before"], compared["after"]
    gained = after["covered_area_km2"] - now["covered_area_km2"]
    assert 0.01 < gained <= 3.15 * 0.3 ** 2, (now, after)  # at most one 300 m disc
    page = client.get(f"/plans/{plan['id']}").text
    assert "覆盖面积（km²）" in page and f"+{gained:,.3f}" in page, page
    sheet = _book(client.get(f"/api/plans/{plan['id']}/compare", params={"format": "xlsx"}).content)["规划对比"]
    header = [c.value for c in sheet[2]]
    city = {h: c for h, c in zip(header, sheet[sheet.max_row])}
    assert city["覆盖面积比例（现状，%）"].value == now["covered_area_pct"]  # not round(…, 2)
    assert city["覆盖面积比例（现状，%）"].number_format == "0.00"
    assert city["覆盖面积（规划后，km²）"].value == pytest.approx(after["covered_area_km2"])
    assert city["覆盖面积（现状，km²）"].value == pytest.approx(now["covered_area_km2"])
    area = {h: c for h, c in zip(header, sheet[3])}
    assert area["覆盖面积（规划后，km²）"].value > area["覆盖面积（现状，km²）"].value
    assert area["覆盖面积比例（规划后，%）"].value == compared["areas"][0]["covered_area_pct"]


def test_coverage_and_density_workbooks_format_total_and_cite_the_standard(client):
    """The coverage workbook's shares show two decimals (not 36.1886178186117), end in a 合计 row and cite the service
    radius and its standard; density's band is in whole toilets, with its 合计 and its standard too."""
    got = client.get("/api/analysis/coverage", params={"kind": "toilets", "by": "district", "format": "xlsx"})
    sheet = _book(got.content).active
    header = [c.value for c in sheet[1]]
    summary = client.get("/api/analysis/coverage", params={"kind": "toilets", "by": "district"}).json()["summary"]
    rows = list(sheet.iter_rows(min_row=2))
    share = header.index("覆盖面积占比（%）")
    assert rows[0][share].number_format == "0.00" and isinstance(rows[0][share].value, float)
    total = rows[18]
    assert total[0].value == "合计" and total[share].value == pytest.approx(summary["covered_area_pct"])
    said = " ".join(str(r[0].value) for r in rows[19:])
    assert "300" in said and "GB" in said, said
    got = client.get("/api/analysis/density", params={"kind": "toilets", "by": "district", "format": "xlsx"})
    sheet = _book(got.content).active
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    low = header.index("标准下限")
    big = [r[low] for r in rows[:18] if isinstance(r[low].value, float) and r[low].value >= 10]
    assert big and all(c.number_format == "#,##0" for c in big), [(c.value, c.number_format) for c in big]
    total = rows[18]
    count = header.index("数量")
    assert total[0].value == "合计" and total[count].value == sum(r[count].value for r in rows[:18])
    said = " ".join(str(r[0].value) for r in rows[19:])
    assert "座/km²" in said and "依据" in said, said


def test_plan_print_names_its_sources_and_scale_units(client, plan, tmp_path):
    """The plan print says where its areas and toilets come from, and each scale-bar label has its unit."""
    from tests.pdf_tools import pdftext

    pdf = client.get(f"/plans/{plan['id']}.pdf")
    assert pdf.status_code == 200, pdf.text[:300]
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf.content)
    first = " ".join(pdftext(path, 1).split())
    assert "数据来源：行政区划 hk_district_council_2001_dc_land.json" in first, first
    assert "公共厕所 hk_fehd_public_toilets.json" in first, first
    assert re.search(r"\b0 k?m\b", first), first  # "0 m" / "0 km", not a bare 0 before "5 km"


def test_plan_export_numbers_edits_from_1_as_the_compare_does(client, plan):
    exported = client.get(f"/api/plans/{plan['id']}/export").json()
    compared = client.get(f"/api/plans/{plan['id']}/compare").json()
    assert [f["properties"]["edit"] for f in exported["features"]] == [c["edit"] for c in compared["changes"]] == [1]


def test_several_bad_edits_name_the_first(client):
    """A draft whose second edit removes a toilet that does not exist and whose third is outside the city: the 422
    names edits[1] (the first bad one), not edits[2]."""
    edits = [YAU_TSIM, {"op": "remove", "id": 999999}, {"op": "add", "lon": 120.0, "lat": 22.0}]
    got = client.post("/api/analysis/coverage/whatif", json={"kind": "toilets", "edits": edits})
    assert got.status_code == 422 and "edits[1]" in got.text and "edits[2]" not in got.text, got.text
    got = client.post("/api/analysis/coverage/whatif", json={"kind": "toilets", "edits": edits[::-1]})
    assert got.status_code == 422 and "edits[0]" in got.text, got.text


def test_users_add_help_says_planners_save_plans():
    from api.cli.main import main

    said = CliRunner().invoke(main, ["users", "add", "--help"]).output
    assert "saves coverage plans" in " ".join(said.split()) and "reads only" not in said, said
