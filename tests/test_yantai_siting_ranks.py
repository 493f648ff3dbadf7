"""Siting in Yantai's 芝罘区 (197 km², a district of a city without streets or roads) once it has toilets: the
ranks read as a greedy's, each adding no more than the one before, and the sites lie in the district.

The city is the walkthrough's: the 11 real Gaode outlines (GCJ-02), then a ledger of toilets inside 芝罘区 only
(points of a regular 0.02° grid that fall inside its outline, as a CSV an office would send). Old code ranked the
sites in the lattice's order while reporting coverage's figures: rank 1 added 282,689.0 m², rank 2 a whole disc
(282,743.3 m²).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from tests.real_city import yantai  # noqa: F401  (the fixture)

DISTRICT = "370602"  # 芝罘区


def _toilets_inside(city) -> int:
    """Write 芝罘区's toilets ledger (GCJ-02, like the outlines) and import it; how many rows it has."""
    source = json.loads((city.work / "yantai_districts_gaode.geojson").read_text(encoding="utf-8"))
    [outline] = [shapely.geometry.shape(f["geometry"]) for f in source["features"]
                 if str(f["properties"]["adcode"]) == DISTRICT]
    x0, y0, x1, y1 = outline.bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 0.02), np.arange(y0, y1, 0.02))
    inside = shapely.contains_xy(outline, xs.ravel(), ys.ravel())
    rows = [f"芝罘公厕{k},{x:.6f},{y:.6f}" for k, (x, y) in enumerate(zip(xs.ravel()[inside], ys.ravel()[inside]), 1)]
    (city.work / "toilets.csv").write_text("名称,经度,纬度\n" + "\n".join(rows) + "\n", encoding="utf-8")
    city.cli("import", "toilets", "toilets.csv", "--crs", "gcj02")
    return len(rows)


def test_zhifu_ranks_never_add_more_than_the_one_before_and_lie_in_the_district(yantai):  # noqa: F811
    assert _toilets_inside(yantai) >= 20
    sited = yantai.cli("analyze", "siting", "--kind", "toilets", "--add", "5", "--street", DISTRICT,
                       "--out", "sites.geojson")
    assert "无道路数据：候选点取需求网格中心" in sited.stdout, sited.stdout
    answer = json.loads((yantai.work / "sites.geojson").read_text(encoding="utf-8"))
    sites = [f["properties"] for f in answer["features"]]
    gains = [s["new_area_m2"] for s in sites]
    assert [s["rank"] for s in sites] == [1, 2, 3, 4, 5] and all(g > 0 for g in gains), sites
    # A greedy takes the largest gain first: rank k+1 adds no more than rank k (as printed, to 0.1 m²).
    assert all(round(b, 1) <= round(a, 1) for a, b in zip(gains, gains[1:])), gains
    assert sum(gains) == pytest.approx(answer["after"]["area_m2"] - answer["before"]["area_m2"], rel=1e-9)
    # Each site inside 芝罘区, as PostGIS places its point among the imported outlines.
    for s in sites:
        found = yantai.sql("SELECT code FROM admin_areas WHERE level = 'district' AND "
                           "ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (s["lon"], s["lat"]))
        assert found == [(DISTRICT,)], (s, found)
