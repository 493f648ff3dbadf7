"""Geometry the demo city is drawn with: random points, Voronoi partitions, blobs, weighted points."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.ops import unary_union

from data.demo.model import DemoCity, density_per_km2
from geo.grids import as_multipolygon


def random_points_in(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform points inside a polygon, by rejection from its bounds."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    shapely.prepare(poly)
    while len(out) < n:
        k = max(64, 2 * (n - len(out)))
        xy = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:n]


def points_in_polygons(polys: list, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``counts[i]`` uniform points inside each ``polys[i]``, stacked."""
    return np.vstack([random_points_in(p, int(k), rng) for p, k in zip(polys, counts) if k > 0] or [np.empty((0, 2))])


def partition(poly, n: int, rng: np.random.Generator, lloyd: int = 3) -> list:
    """Split a polygon into n compact cells: Voronoi of relaxed random seeds.

    The cells tile the polygon exactly (up to floating point), which is what
    makes districts, streets and communities nest.
    """
    seeds = random_points_in(poly, n, rng)
    cells = []
    for _ in range(lloyd + 1):
        vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=poly.buffer(1000))
        raw = list(vor.geoms)
        # voronoi_polygons returns cells in no promised order: match to seeds.
        tree = shapely.STRtree(raw)
        idx = tree.query(shapely.points(seeds), predicate="within")
        order = np.empty(len(seeds), dtype=int)
        order[idx[0]] = idx[1]
        cells = [as_multipolygon(raw[i].intersection(poly)) for i in order]
        seeds = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return cells


def reading_order(geoms, band_m: float) -> list[int]:
    """Indices north→south in bands, then west→east (how grids are numbered)."""
    keys = [(-round(g.centroid.y / band_m), g.centroid.x, i) for i, g in enumerate(geoms)]
    return [k[2] for k in sorted(keys)]


def blob(cx: float, cy: float, radius: float, rng: np.random.Generator, n: int = 48) -> Polygon:
    """A wobbly round polygon (a village, a park) around a centre."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius * (1 + 0.18 * np.sin(3 * theta + rng.uniform(0, 6.3)) + 0.1 * np.sin(5 * theta + rng.uniform(0, 6.3)))
    return Polygon(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]))


def weighted_points(city: DemoCity, rng: np.random.Generator, n: int, *, village_factor: float,
                    power: float = 1.0) -> np.ndarray:
    """n points with probability ∝ density^power, damped inside urban villages."""
    s = city.scale
    shapely.prepare(city.boundary)
    villages = unary_union([v["geom"] for v in city.urban_villages]) if city.urban_villages else None
    if villages is not None:
        shapely.prepare(villages)
    top = density_per_km2(np.array([0.0]), np.array([0.0]), s)[0] ** power
    out = np.empty((0, 2))
    while len(out) < n:
        k = 4 * (n - len(out)) + 256
        x = rng.uniform(-s.half_width_m, s.half_width_m, k)
        y = rng.uniform(-s.half_height_m, s.half_height_m, k)
        w = density_per_km2(x, y, s) ** power / top
        if villages is not None:
            w = np.where(shapely.contains_xy(villages, x, y), w * village_factor, w)
        keep = (rng.random(k) < w) & shapely.contains_xy(city.boundary, x, y)
        out = np.vstack([out, np.column_stack([x[keep], y[keep]])])
    return out[:n]
