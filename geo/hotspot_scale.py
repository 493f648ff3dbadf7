"""The scale of a hot-spot map: the default hexagon from the complaints' own spread, and the study area around them.

A municipality is mostly rural counties: sized over the whole of it, Yantai's 3,189 complaints in two districts got
4.9 km hexagons, and a street-scale grid (150 m) meant ~600,000 hexagons, refused. Both now follow the complaints:
the default edge from their extent (:func:`default_cell_m`), the cells only within one cell of them
(:func:`study_box`); hexagons without complaints inside that area are still cells (Gi* needs them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo import hexgrid, hotspot_points

#: Bounds of the default edge (metres); a ``cell`` asked for may be 25 m (geo.hotspots.MIN_CELL_M).
MIN_DEFAULT_M, MAX_DEFAULT_M = 50.0, 5_000.0

#: Cells of the default map at most: beyond this the default grows its cells (a finer map is asked for by ``cell``).
MAX_DEFAULT_CELLS = 50_000
#: Fewer cells holding complaints than this and the hot spots are those few cells and their neighbours: Optimized
#: Hot Spot Analysis, which keeps only the cells with incidents, wants 30 features to work on.
MIN_CELLS_WITH_COMPLAINTS = 30
#: Fewer complaints than this per cell holding any (most such cells hold one) and Gi* compares cells with a
#: complaint against the empty ones: the bins show where complaints are, not where they cluster.
MIN_MEAN_PER_CELL = 2.0


@dataclass
class Spread:
    """How many complaints match and the rectangle around them (metric CRS), from one scan."""

    n: int
    minx: float = 0.0
    miny: float = 0.0
    maxx: float = 0.0
    maxy: float = 0.0

    @property
    def area(self) -> float:
        """The rectangle's area in m² (a line or a point of complaints: a 100 m strip, not zero)."""
        return max(self.maxx - self.minx, 100.0) * max(self.maxy - self.miny, 100.0)


def spread(conn, where: str, params: dict) -> Spread:
    """The matching complaints' count and extent, from their metric coordinates (migration 0300)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*), min(metric_x), min(metric_y), max(metric_x), max(metric_y) FROM complaints "
                    f"WHERE {where}", params)
        n, *box = cur.fetchone()
    return Spread(int(n), *(float(v) for v in box)) if n else Spread(0)


def default_cell_m(found: Spread) -> float:
    """Cell edge length from the complaints' own spread: twice the mean nearest-neighbour distance expected if they
    lay at random over their extent, 10 m steps (50 … 5,000 m).

    The expected distance is Clark & Evans's (1954) r_E = 0.5·√(A/N) — the "expected mean distance" of ArcGIS's
    Average Nearest Neighbor tool — over A, the rectangle around the complaints (their own extent, as Optimized
    Hot Spot Analysis derives its scale from the incidents), not the whole city: a municipality's rural
    counties would make cells of kilometres for complaints in two districts. An edge of 2·r_E = √(A/N) makes
    hexagons of 2.6·A/N, so 2.6 complaints per cell at random and more where they cluster: above the 2 per cell
    below which the map is too sparse (:mod:`layers.analysis.hotspots`). Never more than :data:`MAX_DEFAULT_CELLS`
    hexagons over the extent. Yantai's 3,189 complaints over 19 × 16 km: 310 m (was 4,910 m from the municipality).
    """
    if found.n == 0:
        return 250.0
    size = max(math.sqrt(found.area / found.n), math.sqrt(found.area / (MAX_DEFAULT_CELLS * 1.5 * hexgrid.SQRT3)))
    return float(min(MAX_DEFAULT_M, max(MIN_DEFAULT_M, round(size / 10.0) * 10.0)))


def study_box(q: np.ndarray, r: np.ndarray, size: float) -> tuple[float, float, float, float]:
    """The study area's rectangle: around the centres of the hexagons holding complaints, widened by one hexagon's
    width (√3·edge, the farthest neighbour's centre) on every side, so every neighbour of a cell with complaints is
    a cell too; in whole cells, so the same complaints give the same rectangle (and cached cells)."""
    x, y = hexgrid.centres(q, r, size)
    reach = math.sqrt(3.0) * size
    return (float(x.min() - reach), float(y.min() - reach), float(x.max() + reach), float(y.max() + reach))


def sparse(summary: dict) -> bool:
    """Whether the cells are too small for the complaints: fewer than :data:`MIN_MEAN_PER_CELL` in each cell holding
    any, or a lone complaint with none around it binned hot (the map's ``summary``)."""
    mean = summary["complaints"] / max(summary["cells_with_complaints"], 1)
    return mean < MIN_MEAN_PER_CELL or bool(summary["lone_complaint_hot"])


def larger_cell_m(x: np.ndarray, y: np.ndarray, size: float, consts: tuple[float, float]) -> float | None:
    """The first edge in steps of a quarter above ``size`` (10 m steps, at most :data:`MAX_DEFAULT_M`) at which these
    complaints hold :data:`MIN_MEAN_PER_CELL` per cell holding any: what a too sparse map is told to use (their
    cells counted in numpy, :mod:`geo.hotspot_points`); None when even the largest does not."""
    edge = size
    while edge < MAX_DEFAULT_M:
        edge = min(MAX_DEFAULT_M, max(edge + 10.0, round(edge * 1.25 / 10.0) * 10.0))
        held = hotspot_points.counts(x, y, edge, consts)
        if held.size and held[:, 2].sum() / len(held) >= MIN_MEAN_PER_CELL:
            return edge
    return None
