"""Siting over the whole of Yantai (no --street: 14,174 km², its 11 real Gaode district outlines, no roads, no
population) once it has toilets, as a planner asks it at /map/siting or with `analyze siting`.

At 50 m the demand lattice of the whole municipality is 5.7 million cells (15–32 s on first use, bench/RESULTS.md),
so over so large an area the cell edge doubles until at most 1,000,000 cells (200 m here, geo.demand.demand_cell):
the answer says so in both languages, the lattice still holds the whole city's area, the greedy's choice on it is
the plain greedy's (every gain recomputed each round, ties to the first candidate, as tests/test_siting.py), and a
district asked afterwards keeps its 50 m lattice (it never reads the city's coarse one).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from data.db import connect
from geo.coverage import resolve
from geo.siting import MIN_GAIN, centre_first, lattice_candidates, siting, siting_places
from tests.real_city import yantai  # noqa: F401  (the fixture)

CELL_ZH = "需求按 200 m 网格计（非 50 m）：所选范围 14,174 km²"
CELL_EN = "demand counted on a 200 m lattice, not 50 m: the area asked (14,174 km²)"


@pytest.fixture(scope="module")
def city(yantai):  # noqa: F811
    """Yantai with a toilets ledger over the whole city (GCJ-02 points of a regular grid inside each district's
    outline: 0.02° in 芝罘区, 0.1° elsewhere, as an office's CSV), imported with the command line."""
    source = json.loads((yantai.work / "yantai_districts_gaode.geojson").read_text(encoding="utf-8"))
    rows = []
    for feature in source["features"]:
        outline = shapely.geometry.shape(feature["geometry"])
        step = 0.02 if str(feature["properties"]["adcode"]) == "370602" else 0.1
        x0, y0, x1, y1 = outline.bounds
        xs, ys = (a.ravel() for a in np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step)))
        inside = shapely.contains_xy(outline, xs, ys)
        rows += [f"{x:.6f},{y:.6f}" for x, y in zip(xs[inside], ys[inside])]
    (yantai.work / "toilets.csv").write_text(
        "名称,经度,纬度\n" + "".join(f"公厕{k},{row}\n" for k, row in enumerate(rows, 1)), encoding="utf-8")
    yantai.cli("import", "toilets", "toilets.csv", "--crs", "gcj02")
    assert yantai.one("SELECT count(*) FROM toilets") == len(rows) > 100
    return yantai


def plain_greedy(demand: np.ndarray, existing: np.ndarray, candidates: np.ndarray, radius: float,
                 add: int) -> list[tuple[float, float]]:
    """(x, y) of each site the textbook greedy picks: every candidate's gain recomputed each round with shapely's
    dwithin, the largest taken, ties to the first candidate."""
    weight = np.nan_to_num(demand[:, 2])
    tree = shapely.STRtree(shapely.points(demand[:, :2]))
    covered = np.zeros(len(demand), dtype=bool)
    covered[tree.query(shapely.points(existing), predicate="dwithin", distance=radius)[1]] = True
    at, cell = tree.query(shapely.points(candidates), predicate="dwithin", distance=radius)
    sites = []
    for _ in range(add):
        gains = np.bincount(at, weight[cell] * ~covered[cell], minlength=len(candidates))
        if gains.max() <= MIN_GAIN:
            break
        best = int(np.flatnonzero(gains >= gains.max() * (1 - 1e-12))[0])
        covered[cell[at == best]] = True
        sites.append(tuple(candidates[best]))
    return sites


def test_whole_city_siting_says_its_coarser_lattice(city):
    sited = city.cli("analyze", "siting", "--kind", "toilets", "--add", "5", "--out", "city.geojson")
    assert CELL_ZH in sited.stdout and "无道路数据：候选点取需求网格中心" in sited.stdout, sited.stdout
    answer = json.loads((city.work / "city.geojson").read_text(encoding="utf-8"))
    assert len(answer["features"]) == 5 and CELL_ZH in answer["warning"], answer.get("warning")
    english = city.cli("analyze", "siting", "--kind", "toilets", "--add", "5", "--lang", "en")
    assert CELL_EN in english.stdout, english.stdout
    district = city.cli("analyze", "siting", "--kind", "toilets", "--add", "2", "--street", "370602")
    assert "m 网格计" not in district.stdout, district.stdout  # a district is not coarsened


def test_whole_city_choice_is_the_plain_greedy_on_its_lattice_and_a_district_keeps_50_m(city):
    conn = connect(url=city.url)
    try:
        radius = resolve("toilets", None)[1]
        result = siting(conn, "toilets", 5)
        conn.rollback()
        assert result["objective"] == "area" and result["candidates_on"] == "lattice"
        assert result["demand_cell_m"] == 200.0 and result["demand_area_m2"] == pytest.approx(14_174e6, rel=1e-3)
        places = siting_places(conn, "toilets", None, None)
        demand = places.demand.points
        # Coarser, not poorer: the lattice still holds the whole city's area (m², the metric CRS against the spheroid).
        assert demand[:, 2].sum() == pytest.approx(result["demand_area_m2"], rel=2e-3)
        assert len(demand) == result["demand_cells"] < 1_000_000
        candidates = centre_first(lattice_candidates(demand, radius), places.existing, demand)
        plain = plain_greedy(demand, places.existing, candidates, radius, 5)
        assert len(plain) == 5
        assert sorted((s["x"], s["y"]) for s in result["sites"]) == sorted(plain)
        # 芝罘区 asked after the whole city was kept at 200 m: its own 50 m lattice, as before (81,125 cells).
        zhifu = siting(conn, "toilets", 2, street="370602")
        assert zhifu["demand_cell_m"] == 50.0 and zhifu["demand_cells"] == 81_125
    finally:
        conn.close()
