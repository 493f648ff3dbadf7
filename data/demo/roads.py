"""The demo city's roads: a jittered lattice of main, secondary and branch roads, back-street alleys, a ring."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from data.demo.model import DemoCity
from data.demo.names import NameBank


def add_roads(city: DemoCity, rng: np.random.Generator, names: NameBank) -> None:
    """A jittered lattice of main, secondary and branch roads, back-street alleys and an expressway ring."""
    city.roads = [*_lattice(city, rng, names), *_alleys(city, rng), *_ring(city)]


def _road_class(index: int) -> str:
    """The class of the index-th lattice line: every 8th main, every 4th secondary, every 2nd branch."""
    if index % 8 == 0:
        return "主干路"
    if index % 4 == 0:
        return "次干路"
    if index % 2 == 0:
        return "支路"
    return "branch-core"  # only inside the core


class _LineNames:
    """One name per lattice line, drawn the first time the line is met."""

    def __init__(self, names: NameBank):
        self.names = names
        self.known: dict[tuple[str, int], str] = {}

    def __call__(self, axis: str, index: int, klass: str) -> str:
        key = (axis, index)
        if key not in self.known:
            zh, _ = self.names.take()
            suffix = {"主干路": "路", "次干路": "街", "支路": "巷"}.get(klass, "巷")
            self.known[key] = f"{zh}{'大' if klass == '主干路' else ''}{suffix}"
        return self.known[key]


def _lattice(city: DemoCity, rng: np.random.Generator, names: NameBank) -> list[dict]:
    """Segments between neighbouring jittered lattice nodes inside the city; odd lines only in the core."""
    s = city.scale
    sp = s.road_spacing_m
    nx = int(s.half_width_m * 1.2 // sp)
    ny = int(s.half_height_m * 1.2 // sp)
    xs = np.arange(-nx, nx + 1) * sp
    ys = np.arange(-ny, ny + 1) * sp
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    jx = gx + rng.normal(0, sp * 0.08, gx.shape)
    jy = gy + rng.normal(0, sp * 0.08, gy.shape)
    shapely.prepare(city.boundary)
    inside = shapely.contains_xy(city.boundary, jx, jy)
    core = (gx / s.half_width_m) ** 2 + (gy / s.half_height_m) ** 2 < 0.55**2
    line_name = _LineNames(names)
    segments = []
    for axis in ("x", "y"):
        for i in range(gx.shape[0]):
            for j in range(gx.shape[1]):
                i2, j2 = (i + 1, j) if axis == "x" else (i, j + 1)
                if i2 >= gx.shape[0] or j2 >= gx.shape[1]:
                    continue
                if not (inside[i, j] and inside[i2, j2]):
                    continue
                # Roads along x are named by their row (j), along y by column (i).
                line_index = j - ny if axis == "x" else i - nx
                klass = _road_class(line_index)
                if klass == "branch-core":
                    if not (core[i, j] and core[i2, j2]):
                        continue
                    klass = "支路"
                segments.append(
                    {
                        "name": line_name(axis, line_index, klass),
                        "class": klass,
                        "geom": LineString([(jx[i, j], jy[i, j]), (jx[i2, j2], jy[i2, j2])]),
                    }
                )
    return segments


def _alleys(city: DemoCity, rng: np.random.Generator) -> list[dict]:
    """Back streets (背街小巷): an irregular alley lattice in every urban village and in the old core."""
    s = city.scale
    alley_zones = [v["geom"] for v in city.urban_villages]
    alley_zones.append(Point(0, 0).buffer(0.16 * min(s.half_width_m, s.half_height_m) * 3))
    segments = []
    for zone_no, zone in enumerate(alley_zones, start=1):
        minx, miny, maxx, maxy = zone.bounds
        step = 70.0
        ax = np.arange(minx, maxx + step, step)
        ay = np.arange(miny, maxy + step, step)
        mx, my = np.meshgrid(ax, ay, indexing="ij")
        mx = mx + rng.normal(0, 12, mx.shape)
        my = my + rng.normal(0, 12, my.shape)
        for i in range(mx.shape[0]):
            for j in range(mx.shape[1]):
                for di, dj in ((1, 0), (0, 1)):
                    i2, j2 = i + di, j + dj
                    if i2 >= mx.shape[0] or j2 >= mx.shape[1] or rng.random() < 0.25:
                        continue
                    seg = LineString([(mx[i, j], my[i, j]), (mx[i2, j2], my[i2, j2])])
                    clipped = seg.intersection(zone)
                    if isinstance(clipped, LineString) and clipped.length > 15:
                        segments.append({"name": f"{zone_no}号片区{i}-{j}巷", "class": "背街小巷", "geom": clipped})
    return segments


def _ring(city: DemoCity) -> list[dict]:
    """An expressway ring, the parts inside the city."""
    s = city.scale
    theta = np.linspace(0, 2 * np.pi, 97)
    ring = np.column_stack([0.62 * s.half_width_m * np.cos(theta), 0.62 * s.half_height_m * np.sin(theta)])
    segments = []
    for k in range(len(ring) - 1):
        seg = LineString([ring[k], ring[k + 1]])
        if city.boundary.contains(seg):
            segments.append({"name": "环城快速路", "class": "快速路", "geom": seg})
    return segments
