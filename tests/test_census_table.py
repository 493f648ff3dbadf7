"""A census table (code, name, population; CSV or XLSX, no coordinates) attached to the areas already imported:
`import admin_areas 人口.csv --level district --code-field 区划代码 --population-field 常住人口`.

Yantai (11 real Gaode districts) and Hong Kong (18 districts of 2001, FEHD's toilets, the 2021 census): the table
was refused ("找不到坐标列"), so a planner had to merge it into the outlines by script. Now each district gets its
population, its outline unchanged; a code that is no district of the city refuses the table, naming the rows, and
nothing is written. Hong Kong's covered residents by district are then checked against shapely/pyproj.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import openpyxl
import pytest
import shapely

from tests.real_city import new_city, yantai  # noqa: F401  (a fixture)

#: Yantai's districts' resident populations (常住人口).
YANTAI = {"370602": ("芝罘区", 912434), "370611": ("福山区", 417327), "370612": ("牟平区", 437011),
          "370613": ("莱山区", 436151), "370614": ("蓬莱区", 410458), "370681": ("龙口市", 680580),
          "370682": ("莱阳市", 781950), "370683": ("莱州市", 819628), "370685": ("招远市", 567255),
          "370686": ("栖霞市", 530420), "370687": ("海阳市", 557413)}
#: Hong Kong's district council areas' population, 2021 census (Census and Statistics Department).
HONG_KONG = {"A": 235953, "B": 166695, "C": 529603, "D": 263278, "E": 310647, "F": 431090, "G": 410634,
             "H": 406802, "J": 673166, "K": 320094, "L": 506879, "M": 668080, "N": 309631, "P": 316470,
             "Q": 489037, "R": 692806, "S": 495798, "T": 185282}
CENSUS = ("import", "admin_areas", "--level", "district", "--code-field", "区划代码", "--name-field", "名称",
          "--population-field", "常住人口")


def _table(path, rows: list[tuple]) -> str:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["区划代码", "名称", "常住人口"])
        out.writerows(rows)
    return path.name


def _census(city, name: str, *extra, check=True):
    return city.cli(*CENSUS[:2], name, *CENSUS[2:], *extra, check=check)


def _state(city) -> list[tuple]:
    return city.sql("SELECT code, population, md5(ST_AsBinary(geom)), source FROM admin_areas ORDER BY code")


def test_unknown_codes_are_refused_naming_the_rows_and_nothing_is_written(yantai):  # noqa: F811
    """Two codes that are no district of Yantai (a typo, a county of another city): refused, both rows named with
    their codes; not one population written, though the other rows are right."""
    before = _state(yantai)
    rows = [(c, n, p) for c, (n, p) in YANTAI.items()]
    rows[2] = ("370699", "错区", 1000)
    rows[7] = ("370783", "寿光市", 1000)
    done = _census(yantai, _table(yantai.work / "bad.csv", rows), check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert "第 4 行" in said and "370699" in said and "第 9 行" in said and "370783" in said, said
    assert "不是本市已导入的区县" in said and "未写入任何数据" in said, said
    assert _state(yantai) == before


def test_a_census_csv_sets_the_populations_outlines_unchanged(yantai):  # noqa: F811
    """The 11 districts' populations from the table, their outlines and source as imported; coverage by district
    then counts the city's residents (the districts' own figures, no community below them)."""
    before = _state(yantai)
    done = _census(yantai, _table(yantai.work / "烟台人口.csv", [(c, n, p) for c, (n, p) in YANTAI.items()]))
    assert "人口普查表：已更新 11 个区县的人口（合计 6,550,627 人）" in done.stdout, done.stdout
    after = _state(yantai)
    assert {code: pop for code, pop, _, _ in after} == {c: p for c, (_, p) in YANTAI.items()}
    assert [(c, g, s) for c, _, g, s in after] == [(c, g, s) for c, _, g, s in before]
    cover = yantai.cli("analyze", "coverage", "--kind", "toilets", "--by", "district", "--out", "cov.csv")
    with (yantai.work / "cov.csv").open(encoding="utf-8-sig") as fh:
        assert sum(int(r["population"]) for r in csv.DictReader(fh)) == 6_550_627, cover.stdout


def test_a_census_xlsx_updates_a_few(yantai):  # noqa: F811
    """A spreadsheet of two districts' new figures updates those two only; `--dry-run` writes none."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["区划代码", "名称", "常住人口"])
    sheet.append(["370602", "芝罘区", 913000])
    sheet.append(["370613", "莱山区", "436,500"])
    book.save(yantai.work / "更新.xlsx")
    dry = _census(yantai, "更新.xlsx", "--dry-run")
    assert "将更新 2 个区县的人口" in dry.stdout, dry.stdout
    assert yantai.one("SELECT population FROM admin_areas WHERE code = '370602'") == 912434
    _census(yantai, "更新.xlsx", "--lang", "en")
    assert dict(yantai.sql("SELECT code, population FROM admin_areas WHERE code IN ('370602', '370613', '370611')")) \
        == {"370602": 913000, "370613": 436500, "370611": 417327}


def test_a_district_mixing_communities_with_and_without_figures_is_said(yantai):  # noqa: F811
    """芝罘区 with 2 communities drawn, one with a population: its covered residents stay unknown (the one's share
    would speak for all) and the population note names it; the other districts use their own figures."""
    box = [[121.38, 37.525], [121.40, 37.525], [121.40, 37.545], [121.38, 37.545], [121.38, 37.525]]
    half = [[[x, y] for x, y in box]]
    features = [{"type": "Feature", "properties": {"code": f"370602001{k:03d}", "name": f"社区{k}", "parent": "370602",
                                                   "pop": pop},
                 "geometry": {"type": "Polygon", "coordinates": [[[x + 0.02 * k, y] for x, y in half[0]]]}}
                for k, pop in ((0, 9000), (1, None))]
    (yantai.work / "communities.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    yantai.cli("import", "admin_areas", "communities.geojson", "--crs", "gcj02", "--level", "community",
               "--code-field", "code", "--name-field", "name", "--parent-field", "parent", "--population-field", "pop")
    yantai.cli("analyze", "coverage", "--kind", "toilets", "--by", "district", "--out", "mixed.geojson")
    written = json.loads((yantai.work / "mixed.geojson").read_text(encoding="utf-8"))
    rows = {f["properties"]["code"]: f["properties"] for f in written["features"]}
    assert rows["370602"]["covered_pop_pct"] is None and rows["370611"]["covered_pop_pct"] == 0
    assert "芝罘区：只有部分社区有人口数据，覆盖人口不详" in written["population_note"], written["population_note"]


@pytest.fixture(scope="module")
def hongkong(pg_server, tmp_path_factory):
    """香港: its 18 districts and FEHD's toilets, then the 2021 census table attached by district code."""
    with new_city(pg_server, tmp_path_factory, "hongkong",
                  ("hk_district_council_2001_dc_land.json", "hk_fehd_public_toilets.json")) as city:
        city.cli("city", "init", "--name", "香港", "--code", "810000", "--name-en", "Hong Kong")
        city.cli("import", "admin_areas", "hk_district_council_2001_dc_land.json", "--level", "district",
                 "--code-field", "DC_CODE", "--name-field", "DC_CHIN", "--name-en-field", "DC_ENG")
        city.cli("import", "toilets", "hk_fehd_public_toilets.json", "--skip-bad")
        city.log["census"] = _census(city, _table(city.work / "2021人口普查.csv",
                                                  [(c, "", p) for c, p in HONG_KONG.items()]))
        yield city


def test_hongkong_covered_residents_by_district(hongkong):
    """Each district's covered residents % is its covered area % (its census population spread over it: no land
    use), as shapely measures true 300 m circles; the city's total weighs them by population."""
    from pyproj import Transformer
    from shapely.geometry import Point, shape

    assert "已更新 18 个区县的人口" in hongkong.log["census"].stdout
    srid = hongkong.one("SELECT metric_srid FROM city_settings")
    project = Transformer.from_crs(4326, srid, always_xy=True).transform
    cover = []
    for row in json.loads((hongkong.work / "hk_fehd_public_toilets.json").read_text(encoding="utf-8")):
        lat, lon = (float(v) for v in row["latitude"].split(","))
        cover.append(Point(project(lon, lat)).buffer(300, quad_segs=256))
    cover = shapely.union_all(cover)
    shares = {}
    for f in json.loads((hongkong.work / "hk_district_council_2001_dc_land.json").read_text(encoding="utf-8"))["features"]:
        area = shapely.make_valid(shapely.transform(shape(f["geometry"]),
                                                    lambda xy: np.column_stack(project(xy[:, 0], xy[:, 1]))))
        shares[f["properties"]["DC_CODE"]] = 100 * area.intersection(cover).area / area.area
    hongkong.cli("analyze", "coverage", "--kind", "toilets", "--by", "district", "--radius", "300",
                 "--out", "cov.geojson")
    written = json.loads((hongkong.work / "cov.geojson").read_text(encoding="utf-8"))
    rows = {f["properties"]["code"]: f["properties"] for f in written["features"]}
    for code, share in shares.items():
        assert rows[code]["population"] == HONG_KONG[code]
        assert rows[code]["covered_pop_pct"] == pytest.approx(share, abs=0.05), (code, rows[code], share)
    total = sum(HONG_KONG.values())
    assert written["summary"]["population"] == total
    expected = sum(HONG_KONG[c] * shares[c] for c in shares) / total
    assert written["summary"]["covered_pop_pct"] == pytest.approx(expected, abs=0.02)
