"""Balanced zones: contiguous groups of grids with about equal workload.

Algorithm (explicit, simple): region growing from spread-out seeds, then
boundary refinement.

1. Seeds: farthest-point sampling on grid centroids (the first seed is the
   grid farthest from the workload-weighted centre), so zones start apart.
2. Growing: the zone with the least workload so far takes its unassigned
   neighbour nearest to its seed; zones grow through rook adjacency (a
   shared border), so every zone is contiguous.
3. Refinement: a border grid moves from a heavier zone to a lighter
   neighbouring zone when that lowers the heavier one's load below where
   it was without lifting the lighter one above it, and the heavier zone
   stays contiguous; repeated until no move helps.

Grids not reachable from any seed (islands) join the nearest zone and are
reported, since that zone cannot be contiguous. With no workload at all (a
street before its first complaints and facilities are in) every grid weighs
one: zones of about equal numbers of grids, rather than one zone of all but
the seeds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import shapely

# Two grids are neighbours when they share at least this much border (m).
MIN_SHARED_BORDER_M = 1.0


@dataclass
class Zoning:
    """The proposal: a zone number (0..n-1) per grid, loads, imbalance and islands."""

    zone_of: list[int]
    loads: list[float]
    islands: list[int]
    by_count: bool = False  # no workload at all: balanced by number of grids

    @property
    def imbalance(self) -> float:
        """Largest zone load ÷ mean load − 1 (0 is perfect balance)."""
        mean = float(np.mean(self.loads)) if self.loads else 0.0
        return max(self.loads) / mean - 1.0 if mean > 0 else 0.0

    @property
    def spread(self) -> float:
        """(largest − smallest load) ÷ mean load."""
        mean = float(np.mean(self.loads)) if self.loads else 0.0
        return (max(self.loads) - min(self.loads)) / mean if mean > 0 else 0.0


def adjacency(geoms) -> list[set[int]]:
    """Rook neighbours of each polygon: those sharing at least ``MIN_SHARED_BORDER_M`` of border."""
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    out: list[set[int]] = [set() for _ in range(len(geoms))]
    for i, j in zip(left, right):
        if i < j:
            shared = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])).length
            if shared >= MIN_SHARED_BORDER_M:
                out[i].add(int(j))
                out[j].add(int(i))
    return out


def _connected_without(members: set[int], removed: int, neighbours: list[set[int]]) -> bool:
    rest = members - {removed}
    if not rest:
        return False
    start = next(iter(rest))
    seen, queue = {start}, deque([start])
    while queue:
        for nb in neighbours[queue.popleft()]:
            if nb in rest and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return len(seen) == len(rest)


def balance_zones(geoms, weights, n_zones: int, max_rounds: int = 200) -> Zoning:
    """Split polygons into ``n_zones`` contiguous zones of about equal total weight.

    Parameters
    ----------
    geoms : sequence of shapely polygons
        The grids, in a metric CRS.
    weights : sequence of float
        Workload of each grid (e.g. complaints + facilities).
    n_zones : int
        How many zones; at least 1 and at most the number of grids.
    max_rounds : int
        Upper bound on refinement passes.

    Returns
    -------
    Zoning
    """
    geoms = np.asarray(geoms, dtype=object)
    w = np.asarray(weights, dtype=float)
    by_count = not w.any()
    if by_count:  # every load 0 ties every choice: the first zone would take all
        w = np.ones_like(w)
    n = len(geoms)
    if not 1 <= n_zones <= n:
        raise ValueError(f"zones must be between 1 and the number of grids ({n}), not {n_zones}")
    neighbours = adjacency(geoms)
    cent = shapely.get_coordinates(shapely.centroid(geoms))
    # A grid touching no other (across water: two of Manhattan's MN03) would seed a zone that cannot grow.
    joined = np.array([bool(nb) for nb in neighbours])
    seeds = _seeds(cent, w, n_zones, joined if joined.sum() >= n_zones else None)
    zones = _Zones(w, seeds)
    _grow(zones, neighbours, cent, seeds)
    islands = [int(i) for i in np.flatnonzero(zones.zone < 0)]
    for i in islands:  # unreachable from every seed: the nearest seed's zone takes it
        zones.take(i, int(np.argmin([((cent[i] - cent[s]) ** 2).sum() for s in seeds])))
    for _ in range(max_rounds):
        if not _move_one(zones, neighbours):
            break
    loads = [0.0] * n_zones if by_count else [float(x) for x in zones.loads]
    return Zoning(zone_of=[int(z) for z in zones.zone], loads=loads, islands=islands, by_count=by_count)


def _seeds(cent: np.ndarray, w: np.ndarray, n_zones: int, allowed: np.ndarray | None = None) -> list[int]:
    """Farthest-point sampling: the grid farthest from the weighted centre, then each farthest from all chosen;
    among the ``allowed`` grids only, when given.

    Seeds far apart let zones grow without squeezing each other from the start.
    """
    n = len(cent)
    centre = (cent * (w[:, None] + 1e-9)).sum(axis=0) / (w.sum() + 1e-9 * n)
    barred = np.zeros(n) if allowed is None else np.where(allowed, 0.0, -np.inf)
    seeds = [int(np.argmax(((cent - centre) ** 2).sum(axis=1) + barred))]
    dist = ((cent - cent[seeds[0]]) ** 2).sum(axis=1) + barred
    while len(seeds) < n_zones:
        nxt = int(np.argmax(dist))
        seeds.append(nxt)
        dist = np.minimum(dist, ((cent - cent[nxt]) ** 2).sum(axis=1))
    return seeds


class _Zones:
    """The zone of each grid (-1: none yet), each zone's load and members."""

    def __init__(self, w: np.ndarray, seeds: list[int]):
        self.w = w
        self.zone = np.full(len(w), -1)
        self.loads = np.zeros(len(seeds))
        self.members: list[set[int]] = [set() for _ in seeds]
        for z, s in enumerate(seeds):
            self.take(s, z)

    def take(self, grid: int, z: int) -> None:
        self.zone[grid] = z
        self.loads[z] += self.w[grid]
        self.members[z].add(grid)

    def move(self, grid: int, a: int, b: int) -> None:
        self.members[a].discard(grid)
        self.members[b].add(grid)
        self.zone[grid] = b
        self.loads[a] -= self.w[grid]
        self.loads[b] += self.w[grid]


def _grow(zones: _Zones, neighbours: list[set[int]], cent: np.ndarray, seeds: list[int]) -> None:
    """The lightest zone takes its unassigned neighbour nearest its seed, until no zone can grow.

    Growing through shared borders only keeps every zone contiguous; the
    lightest-first order keeps loads close while they grow.
    """
    active = set(range(len(seeds)))
    while active:
        z = min(active, key=lambda k: (zones.loads[k], k))
        frontier = {nb for m in zones.members[z] for nb in neighbours[m] if zones.zone[nb] < 0}
        if not frontier:
            active.discard(z)
            continue
        seed_xy = cent[seeds[z]]
        zones.take(min(frontier, key=lambda i: (((cent[i] - seed_xy) ** 2).sum(), i)), z)


def _move_one(zones: _Zones, neighbours: list[set[int]]) -> bool:
    """Move one border grid from the heaviest zone that can shed one to a lighter neighbour; False if none.

    A move must lower the heavier zone's load without lifting the lighter one
    above it, and leave the heavier zone contiguous; the largest gain first.
    """
    w, loads = zones.w, zones.loads
    for a in sorted(range(len(loads)), key=lambda k: -loads[k]):
        candidates = []
        for g in zones.members[a]:
            for nb in neighbours[g]:
                b = int(zones.zone[nb])
                if b == a or w[g] <= 0 or loads[b] + w[g] >= loads[a]:
                    continue
                gain = loads[a] - max(loads[a] - w[g], loads[b] + w[g])
                if gain > 1e-9:
                    candidates.append((-gain, g, b))
        for _, g, b in sorted(candidates):
            if _connected_without(zones.members[a], g, neighbours):
                zones.move(g, a, b)
                return True
    return False
