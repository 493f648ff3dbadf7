"""geo.grids and geo.zones: pure geometry, no database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from geo.grids import SLIVER_SHARE, cut_community, cut_grids, hex_side, match_grids
from geo.zones import adjacency, balance_zones


def test_square_cells_tile_the_community_and_merge_slivers():
    community = Polygon([(0, 0), (1030, 0), (1030, 760), (0, 760)])  # 30 m and 10 m slivers at the edges
    pieces = cut_community(community, 250)
    assert sum(p.area for p in pieces.values()) == pytest.approx(community.area)
    assert shapely.union_all(list(pieces.values())).symmetric_difference(community).area < 1e-6
    assert all(p.area >= SLIVER_SHARE * 250 * 250 for p in pieces.values())
    assert len(pieces) == 4 * 3  # 4 columns, 3 rows after merging the slivers


def test_hex_cells_have_the_area_of_the_square_and_tile():
    community = Polygon([(0, 0), (3000, 0), (3000, 2000), (0, 2000)])
    pieces = cut_community(community, 250, "hex")
    side = hex_side(250)
    assert 3 * np.sqrt(3) / 2 * side**2 == pytest.approx(250 * 250)
    assert sum(p.area for p in pieces.values()) == pytest.approx(community.area)
    full = [p for p in pieces.values() if p.area == pytest.approx(250 * 250)]
    assert len(full) > 50
    assert all(len(p.exterior.coords) == 7 for p in full)


def test_numbering_north_to_south_then_west_to_east():
    cells = cut_grids([("379901001001", Polygon([(0, 0), (500, 0), (500, 500), (0, 500)]))], 250)
    assert [c.code(2) for c in cells] == [f"379901001001{i:02d}" for i in (1, 2, 3, 4)]
    centres = [(c.geom.centroid.x, c.geom.centroid.y) for c in cells]
    assert centres == [(125, 375), (375, 375), (125, 125), (375, 125)]
    with pytest.raises(ValueError, match="sequence width"):
        cut_grids([("c", Polygon([(0, 0), (3000, 0), (3000, 3000), (0, 3000)]))], 250, sequence_width=2)


def test_same_origin_same_cells_and_match_statuses():
    community = Polygon([(5, 7), (990, 3), (1010, 740), (0, 760)])
    a = {c.code(2): c.geom for c in cut_grids([("c" * 12, community)], 250, origin=(3.0, 4.0))}
    b = {c.code(2): c.geom for c in cut_grids([("c" * 12, community)], 250, origin=(3.0, 4.0))}
    assert {m["status"] for m in match_grids(a, b).values()} == {"unchanged"}
    shifted = {c.code(2): c.geom for c in cut_grids([("c" * 12, community)], 250, origin=(128.0, 4.0))}
    statuses = {m["status"] for m in match_grids(a, shifted).values()}
    assert statuses & {"reshaped", "moved", "new"}
    assert all(m["source"] in a for m in match_grids(a, shifted).values())


def test_balanced_zones_are_contiguous_and_balanced():
    cells = [shapely.box(x * 100, y * 100, (x + 1) * 100, (y + 1) * 100) for x in range(8) for y in range(6)]
    rng = np.random.default_rng(3)
    weights = rng.integers(1, 20, len(cells)).astype(float)
    weights[:6] = 60  # a heavy western column
    zoning = balance_zones(cells, weights, 4)
    neighbours = adjacency(cells)
    assert all(len(n) in (2, 3, 4) for n in neighbours)
    for z in range(4):
        members = [i for i, zz in enumerate(zoning.zone_of) if zz == z]
        assert members
        assert shapely.union_all([cells[i] for i in members]).geom_type == "Polygon"  # one piece
    assert sum(zoning.loads) == pytest.approx(weights.sum())
    assert zoning.imbalance < 0.25
    assert zoning.islands == []
    with pytest.raises(ValueError):
        balance_zones(cells, weights, 0)


def test_a_grid_across_the_water_seeds_no_zone_and_is_named():
    """Two grids touching no other (across the water) join the nearest zone and are named as islands; no zone is
    made of them alone with no workload (as MN03's 400 m grids once had, before their islets joined a grid)."""
    cells = [shapely.box(x * 100, y * 100, (x + 1) * 100, (y + 1) * 100) for x in range(6) for y in range(4)]
    cells += [shapely.box(900, 0, 910, 10), shapely.box(900, 390, 910, 400)]
    weights = np.array([5.0] * 24 + [0.0, 0.0])
    zoning = balance_zones(cells, weights, 3)
    assert zoning.islands == [24, 25]
    for z in range(3):
        members = [i for i, zz in enumerate(zoning.zone_of) if zz == z]
        assert any(i < 24 for i in members) and zoning.loads[z] > 0


def test_a_grid_is_named_after_its_community_with_its_number_apart_from_latin_names():
    cell = cut_grids([("110101001001", box(0, 0, 400, 200))], 200)[1]
    assert cell.sequence == 2
    assert cell.name("东华门社区") == "东华门社区2号网格"
    assert cell.name("Chinatown-Two Bridges") == "Chinatown-Two Bridges 2号网格"
    assert cell.name("Block 12") == "Block 12 2号网格"  # not "Block 122号网格"


def test_without_any_workload_zones_hold_about_equal_numbers_of_grids():
    """A street before its first complaint and facility: every workload 0. Manhattan CD 3's real outline cut into
    400 m grids, 3 zones: each of 12 or 13 grids and one piece (the first zone took all but the seeds before)."""
    import geopandas as gpd

    from tests.conftest import REAL_DATA

    path = REAL_DATA / "nyc/boundaries/nycdta2020.shp"
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    outline = gpd.read_file(path)  # read only
    mn03 = outline.loc[outline.CDTA2020 == "MN03"].to_crs(32618).geometry.iat[0]
    cells = [c.geom for c in cut_grids([("MN03", mn03)], 400)]
    zoning = balance_zones(cells, np.zeros(len(cells)), 3)
    sizes = sorted(zoning.zone_of.count(z) for z in range(3))
    assert zoning.by_count and zoning.loads == [0.0, 0.0, 0.0]
    assert sum(sizes) == len(cells) > 20 and sizes[-1] - sizes[0] <= 1, sizes
    neighbours = adjacency(cells)  # contiguity by shared borders: a grid holding an islet is a MultiPolygon
    for z in range(3):
        members = {i for i in range(len(cells)) if zoning.zone_of[i] == z and neighbours[i]}
        reached, todo = set(), [min(members)]
        while todo:
            i = todo.pop()
            reached.add(i)
            todo += [j for j in neighbours[i] if j in members and j not in reached]
        assert reached == members, z
