"""Routing a chunk's points by the raster of polygon boxes (layers.io.boxes.PolygonBoxes) finds what an exact search finds.

For every point: the lowest-numbered polygon that holds it (its boundary
included), as a tree query of every point against every polygon gives —
on the demo's grids and communities and on Taipei's real villages (two of
them repaired self-intersections), with points on their vertices and edges,
outside, and without coordinates.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np
import shapely

from data.db import connect
from data.migrate import migrate
from layers.io.boxes import PolygonBoxes
from layers.io.routing import AreaIndex
from tests.test_import_real import load_taipei_areas


def exact_first(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per point, the lowest index of the polygons that intersect it, -1 for none: a tree of the polygons queried."""
    point, polygon = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    found = np.full(len(x), -1)
    for p, g in zip(point, polygon):
        if found[p] < 0 or g < found[p]:
            found[p] = g
    return found


def probe_points(geoms: np.ndarray, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the polygons' extent and a margin, every vertex, edge midpoints, NaN and far away."""
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    dx, dy = (x1 - x0) * 0.05, (y1 - y0) * 0.05
    rx, ry = rng.uniform(x0 - dx, x1 + dx, n), rng.uniform(y0 - dy, y1 + dy, n)
    ring = shapely.get_coordinates(shapely.boundary(geoms))
    mid = (ring[:-1] + ring[1:]) / 2
    x = np.concatenate([rx, ring[:, 0], mid[:, 0], [np.nan, x0 - 1.0, x1 + 1.0, x0]])
    y = np.concatenate([ry, ring[:, 1], mid[:, 1], [y0, np.nan, y1 + 1.0, y0]])
    return x, y


def assert_same(geoms: np.ndarray) -> int:
    x, y = probe_points(geoms)
    got = PolygonBoxes(geoms).first_holding(x, y)
    assert np.array_equal(got, exact_first(geoms, x, y))
    return int((got >= 0).sum())


def test_demo_grids_and_communities(module_demo):
    with closing(connect(url=module_demo)) as conn:
        areas = AreaIndex.load(conn, with_grids=True)
    assert assert_same(areas.grid_geoms) > 10_000
    assert assert_same(areas.geoms[areas.levels == "community"]) > 10_000


def test_taipei_villages_and_districts(fresh_db, tmp_path):
    with closing(connect(url=fresh_db)) as conn:
        migrate(conn)
        load_taipei_areas(conn, tmp_path)
        areas = AreaIndex.load(conn)
    assert assert_same(areas.geoms[areas.levels == "community"]) > 10_000
    assert assert_same(areas.geoms[areas.levels == "district"]) > 10_000


def test_chunks_route_alike_whichever_points_they_hold(module_demo):
    """A chunk routed alone gets the codes the same points get in a larger chunk (the index is made once)."""
    with closing(connect(url=module_demo)) as conn:
        areas = AreaIndex.load(conn, with_grids=True)
    x, y = probe_points(areas.grid_geoms, 3_000)
    whole = areas.route(x, y, grids=True)
    part = areas.route(x[1000:2000], y[1000:2000], grids=True)
    assert all(np.array_equal(part[c], whole[c][1000:2000]) for c in whole)
