"""Yantai's 11 real Gaode districts with their census populations and no communities below them (how a planner
of a real city starts): coverage by district gives covered residents from each district's own population, spread
over its area (no land use here), the same figure in the command, its CSV and XLSX, the map's GeoJSON and the
what-if; and hot spots per 10,000 residents spread the districts' populations.

Coverage said "覆盖人口 —（无人口数据）" beside the population column, while the what-if on the same page counted
49,574 residents covered. The figures are checked against shapely/pyproj on the same files (the walkthrough's check).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import openpyxl
import pytest
import shapely

from data.db import connect
from tests.real_city import yantai  # noqa: F401  (the fixture)

ZHIFU, LAISHAN = "370602", "370613"
RADIUS = 300.0
#: The districts' resident populations (常住人口), as the census table gives them.
PEOPLE = {"370602": 912434, "370611": 417327, "370612": 437011, "370613": 436151, "370614": 410458,
          "370681": 680580, "370682": 781950, "370683": 819628, "370685": 567255, "370686": 530420,
          "370687": 557413}


def _outlines(city) -> dict:
    source = json.loads((city.work / "yantai_districts_gaode.geojson").read_text(encoding="utf-8"))
    return {str(f["properties"]["adcode"]): (f, shapely.geometry.shape(f["geometry"])) for f in source["features"]}


def _grid_points(outline, step: float) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = outline.bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    inside = shapely.contains_xy(outline, xs.ravel(), ys.ravel())
    return list(zip(xs.ravel()[inside], ys.ravel()[inside]))


@pytest.fixture(scope="module")
def city(yantai):  # noqa: F811
    """The districts' populations added by re-importing their outlines with a population column (the source kept),
    toilets in 芝罘区 and 莱山区 and complaints in 芝罘区 (GCJ-02, as the outlines): the toilets' positions."""
    outlines = _outlines(yantai)
    features = []
    for code, (feature, _) in outlines.items():
        features.append({**feature, "properties": {**feature["properties"], "population": PEOPLE[code]}})
    (yantai.work / "districts_pop.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    yantai.cli("import", "admin_areas", "districts_pop.geojson", "--crs", "gcj02", "--level", "district",
               "--code-field", "adcode", "--name-field", "name", "--population-field", "population",
               "--source", "yantai_districts_gaode.geojson")
    toilets = _grid_points(outlines[ZHIFU][1], 0.02) + _grid_points(outlines[LAISHAN][1], 0.03)
    rows = [f"公厕{k},{x:.6f},{y:.6f}" for k, (x, y) in enumerate(toilets, 1)]
    (yantai.work / "toilets.csv").write_text("名称,经度,纬度\n" + "\n".join(rows) + "\n", encoding="utf-8")
    yantai.cli("import", "toilets", "toilets.csv", "--crs", "gcj02")
    complaints = [(x, y) for x, y in _grid_points(outlines[ZHIFU][1], 0.01) for _ in range(1 + int(x * 100) % 3)]
    with (yantai.work / "complaints.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["编号", "经度", "纬度", "事件类型", "上报时间"])
        out.writerows([f"YT{k:05d}", f"{x:.6f}", f"{y:.6f}", "暴露垃圾", "2026-06-15 09:00"]
                      for k, (x, y) in enumerate(complaints))
    yantai.cli("import", "complaints", "complaints.csv", "--crs", "gcj02")
    return yantai, toilets


@pytest.fixture(scope="module")
def expected(city):
    """Covered % of each district's area (= of its residents: no land use) by true 300 m circles, in shapely."""
    from pyproj import Transformer

    from geo.coords import to_wgs84

    site, toilets = city
    srid = site.one("SELECT metric_srid FROM city_settings")
    project = Transformer.from_crs(4326, srid, always_xy=True).transform

    def metric(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(project(*to_wgs84(xy[:, 0], xy[:, 1], "gcj02")))

    lon, lat = to_wgs84(np.array([t[0] for t in toilets]), np.array([t[1] for t in toilets]), "gcj02")
    x, y = project(lon, lat)
    cover = shapely.union_all(shapely.buffer(shapely.points(x, y), RADIUS, quad_segs=256))
    shares = {}
    for code, (_, outline) in _outlines(site).items():
        area = shapely.transform(outline, metric)
        shares[code] = 100.0 * area.intersection(cover).area / area.area
    residents = sum(PEOPLE[c] * shares[c] / 100 for c in PEOPLE)
    return shares, residents


def _coverage(conn, by="district"):
    from layers.analysis import registry

    analysis = registry.load("coverage")
    args = analysis.parse({"kind": "toilets", "by": by, "radius": str(RADIUS)})
    return analysis, args, analysis.compute(conn, args)


def test_covered_residents_by_district_from_their_own_population(city, expected):
    """Every district's covered residents % is its covered area % (population spread over its area), as shapely
    measures it; the total is the districts' residents covered over all their residents; the GeoJSON the map's
    legend reads says the same, with no population note."""
    shares, residents = expected
    assert shares[ZHIFU] > 1 and shares[LAISHAN] > 0.3, shares
    conn = connect(url=city[0].url)
    try:
        analysis, args, result = _coverage(conn)
    finally:
        conn.close()
    rows = {r["code"]: r for r in result["rows"]}
    for code, share in shares.items():
        assert rows[code]["population"] == PEOPLE[code]
        assert rows[code]["covered_pop_pct"] == pytest.approx(share, abs=0.02), (code, rows[code])
        assert rows[code]["covered_pop_pct"] == pytest.approx(rows[code]["covered_area_pct"], abs=1e-9)
        assert rows[code]["population_spread"] == "area"
    total = sum(PEOPLE.values())
    assert result["summary"]["population"] == total
    assert result["summary"]["covered_pop_pct"] == pytest.approx(100 * residents / total, abs=0.005)
    written = json.loads(analysis.geojson(result, args, "zh"))
    assert written["summary"]["covered_pop_pct"] == pytest.approx(result["summary"]["covered_pop_pct"])
    assert written["population_note"] is None


def test_the_command_and_its_sheets_say_the_same(city, expected):
    """`analyze coverage --by district`: its 合计 line gives covered residents (not "无人口数据"), and its CSV and XLSX
    give 芝罘区's covered residents % as shapely measures it."""
    site, _ = city
    shares, residents = expected
    done = site.cli("analyze", "coverage", "--kind", "toilets", "--by", "district", "--radius", RADIUS,
                    "--out", "cov.csv")
    assert "无人口数据" not in done.stdout, done.stdout
    pct = 100 * residents / sum(PEOPLE.values())
    assert f"覆盖人口 {pct:.1f} %" in done.stdout, done.stdout
    with (site.work / "cov.csv").open(encoding="utf-8-sig") as fh:
        by_code = {r["code"]: r for r in csv.DictReader(fh)}
    assert float(by_code[ZHIFU]["covered_pop_pct"]) == pytest.approx(shares[ZHIFU], abs=0.02)
    site.cli("analyze", "coverage", "--kind", "toilets", "--by", "district", "--radius", RADIUS, "--out", "cov.xlsx")
    sheet = openpyxl.load_workbook(site.work / "cov.xlsx").active
    table = list(sheet.iter_rows(values_only=True))
    head = next(i for i, row in enumerate(table) if "覆盖人口占比（%）" in row)
    column = table[head].index("覆盖人口占比（%）")
    zhifu = next(row for row in table[head + 1:] if ZHIFU in [str(v) for v in row])
    assert zhifu[column] == pytest.approx(shares[ZHIFU], abs=0.02), zhifu


def test_the_whatif_and_coverage_give_one_answer(city):
    """The what-if's "before" (the 规划草案 panel) is coverage's answer: the city's residents and covered residents,
    and 芝罘区's covered residents % once a toilet is added there."""
    from geo.coords import to_wgs84
    from layers.analysis.whatif import whatif

    # A point of 芝罘区 a kilometre inside its outline (GCJ-02 is ~500 m off WGS 84), off the toilets' grid.
    lon, lat = _grid_points(_outlines(city[0])[ZHIFU][1].buffer(-0.01), 0.013)[0]
    lon, lat = (float(v[0]) for v in to_wgs84(np.array([lon]), np.array([lat]), "gcj02"))
    conn = connect(url=city[0].url)
    try:
        _, _, cover = _coverage(conn)
        answer = whatif(conn, "toilets", RADIUS, [{"op": "add", "lon": lon, "lat": lat}], by="district", gaps=False)
    finally:
        conn.rollback()
        conn.close()
    before = answer["before"]
    assert before["population"] == cover["summary"]["population"]
    assert before["covered_pop_pct"] == pytest.approx(cover["summary"]["covered_pop_pct"], abs=1e-9)
    zhifu = {r["code"]: r for r in cover["rows"]}[ZHIFU]
    [changed] = answer["areas"]
    assert changed["code"] == ZHIFU
    assert changed["covered_pop_pct_before"] == pytest.approx(zhifu["covered_pop_pct"], abs=1e-9)
    assert changed["covered_residents_before"] == round(PEOPLE[ZHIFU] * zhifu["covered_pop_pct"] / 100)


def test_hot_spots_per_population_spread_the_districts_residents(city):
    """`--per-population` is answered from the districts' populations (the finest level that has them): every
    resident spread over the hexagons, the rate each cell's complaints per 10,000 of its residents."""
    from geo.hotspots import hotspots

    conn = connect(url=city[0].url)
    try:
        res = hotspots(conn, cell_m=2000, per_population=True)
        # The cells cover the complaints' part of the city: each district's residents in them are its census
        # figure times the share of its area the cells cover (spread over the area: no land use here).
        with conn.cursor() as cur:
            cur.execute(
                "WITH cells AS (SELECT ST_Union(ST_Transform(ST_GeomFromGeoJSON(g), %(srid)s)) AS geom "
                "FROM unnest(%(cells)s::text[]) AS g), "
                "d AS (SELECT code, ST_MakeValid(ST_Transform(geom, %(srid)s)) AS geom FROM admin_areas "
                "WHERE level = 'district') "
                "SELECT d.code, ST_Area(ST_Intersection(d.geom, cells.geom)) / ST_Area(d.geom) FROM d, cells",
                {"srid": res.srid, "cells": res.geojson})
            covered = dict(cur.fetchall())
    finally:
        conn.rollback()
        conn.close()
    expected = sum(PEOPLE[code] * share for code, share in covered.items())
    assert 0 < expected < sum(PEOPLE.values())
    assert res.population.sum() == pytest.approx(expected, rel=1e-3)
    people = res.population > 0
    np.testing.assert_allclose(res.value[people], res.count[people] / res.population[people] * 1e4)
    assert res.count.sum() > 0 and (res.gi_bin > 0).any()
    done = city[0].cli("analyze", "hotspots", "--since", "2026-06-01", "--until", "2026-07-01", "--cell", "2000",
                       "--per-population", check=False)
    assert done.returncode == 0, done.stderr


def test_hot_spots_per_population_say_whose_populations_they_are(city):
    """A rate per 10,000 residents says which admin level's populations it divides by — here the districts' census
    figures (no communities) — in the API's GeoJSON (the page's legend shows it) and the command's output, zh
    first, English with lang=en; a map of counts says none."""
    from layers.analysis.registry import load

    analysis = load("hotspots")
    conn = connect(url=city[0].url)
    try:
        args = analysis.parse({"cell": "2000", "per_population": "1"})
        found = analysis.compute(conn, args, None)
        zh, en = (json.loads(analysis.geojson(found, args, lang)) for lang in ("zh", "en"))
        counts = json.loads(analysis.geojson(analysis.compute(conn, analysis.parse({"cell": "2000"}), None),
                                             args, "zh"))
    finally:
        conn.rollback()
        conn.close()
    assert zh["summary"]["population_level"] == "district"
    assert "区县人口" in zh["population_note"] and "district populations" in en["population_note"]
    assert counts.get("population_note") is None and counts["summary"]["population_level"] is None
    shown = city[0].cli("analyze", "hotspots", "--cell", "2000", "--per-population").stdout
    assert "每万人投诉数的人口取自区县人口" in shown
    shown = city[0].cli("analyze", "hotspots", "--cell", "2000", "--per-population", "--lang", "en").stdout
    assert "the rates per 10,000 residents use the district populations" in shown
