"""Which of some polygons hold a point, for many points at once (the import's routing, layers.io.routing)."""

from __future__ import annotations

import numpy as np
import shapely


class PolygonBoxes:
    """Which of some polygons hold a point: a raster over their extent whose cells list the polygons whose box meets them.

    Made once per import. A chunk's points are then tested only against the
    polygons whose bounding box holds them (numpy), and those exactly
    (``intersects_xy``, the polygons prepared): no point geometries and no
    tree per chunk. A point on a cell's edge is in the cell its floor gives,
    which every box holding the point spans (division and floor keep order).
    """

    _MAX_CELLS = 1 << 20

    def __init__(self, geoms: np.ndarray):
        self.geoms = geoms
        shapely.prepare(geoms)
        self.bounds = b = shapely.bounds(geoms)
        usable = np.flatnonzero(np.isfinite(b).all(axis=1))  # empty polygons hold nothing
        boxes = b[usable] if len(usable) else np.zeros((1, 4))
        lo, hi = boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)
        size = max(float(np.median((boxes[:, 2:] - boxes[:, :2]).max(axis=1))), 1e-9)  # about a polygon's size
        shape = np.floor((hi - lo) / size).astype(np.int64) + 1
        if shape.prod() > self._MAX_CELLS:
            size *= float(np.sqrt(shape.prod() / self._MAX_CELLS))
            shape = np.floor((hi - lo) / size).astype(np.int64) + 1
        self.origin, self.size, self.shape = lo, size, shape
        first, last = self._cell(b[usable, :2]), self._cell(b[usable, 2:])
        spans = last - first + 1
        polygons, k = _expand(usable, spans[:, 0] * spans[:, 1])
        width = np.repeat(spans[:, 1], spans[:, 0] * spans[:, 1])
        cells = ((np.repeat(first[:, 0], spans[:, 0] * spans[:, 1]) + k // width) * shape[1]
                 + np.repeat(first[:, 1], spans[:, 0] * spans[:, 1]) + k % width)
        order = np.lexsort((polygons, cells))  # by cell, then polygon
        self.listed = polygons[order]
        self.starts = np.searchsorted(cells[order], np.arange(shape.prod() + 1))

    def _cell(self, xy: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((xy - self.origin) / self.size), 0, self.shape - 1).astype(np.int64)

    def first_holding(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per point, the lowest index of the polygons holding it (boundary included), -1 for none."""
        found = np.full(len(x), -1, dtype=np.int64)
        xy = np.column_stack([x, y])
        within = np.isfinite(xy).all(axis=1) & (xy >= self.origin).all(axis=1) & \
            (np.floor((xy - self.origin) / self.size) < self.shape).all(axis=1)
        points = np.flatnonzero(within)
        cell = self._cell(xy[points])
        cell = cell[:, 0] * self.shape[1] + cell[:, 1]
        counts = self.starts[cell + 1] - self.starts[cell]
        point, k = _expand(points, counts)
        polygon = self.listed[np.repeat(self.starts[cell], counts) + k]
        b, px, py = self.bounds[polygon], x[point], y[point]
        boxed = (b[:, 0] <= px) & (px <= b[:, 2]) & (b[:, 1] <= py) & (py <= b[:, 3])
        point, polygon = point[boxed], polygon[boxed]
        hit = shapely.intersects_xy(self.geoms[polygon], x[point], y[point])
        point, polygon = point[hit], polygon[hit]
        first = np.unique(point, return_index=True)[1]  # candidates run by polygon within a point: the lowest
        found[point[first]] = polygon[first]
        return found


def _expand(items: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each item repeated ``counts`` times, with its repetition's number (0, 1, …)."""
    repeated = np.repeat(items, counts)
    k = np.arange(len(repeated)) - np.repeat(np.cumsum(counts) - counts, counts)
    return repeated, k
