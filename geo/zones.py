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
reported, since that zone cannot be contiguous.
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
    n = len(geoms)
    if not 1 <= n_zones <= n:
        raise ValueError(f"zones must be between 1 and the number of grids ({n}), not {n_zones}")
    neighbours = adjacency(geoms)
    cent = shapely.get_coordinates(shapely.centroid(geoms))
    centre = (cent * (w[:, None] + 1e-9)).sum(axis=0) / (w.sum() + 1e-9 * n)
    seeds = [int(np.argmax(((cent - centre) ** 2).sum(axis=1)))]
    dist = ((cent - cent[seeds[0]]) ** 2).sum(axis=1)
    while len(seeds) < n_zones:
        nxt = int(np.argmax(dist))
        seeds.append(nxt)
        dist = np.minimum(dist, ((cent - cent[nxt]) ** 2).sum(axis=1))

    zone = np.full(n, -1)
    loads = np.zeros(n_zones)
    members: list[set[int]] = [set() for _ in range(n_zones)]
    for z, s in enumerate(seeds):
        zone[s] = z
        loads[z] += w[s]
        members[z].add(s)
    active = set(range(n_zones))
    while active:
        z = min(active, key=lambda k: (loads[k], k))
        frontier = {nb for m in members[z] for nb in neighbours[m] if zone[nb] < 0}
        if not frontier:
            active.discard(z)
            continue
        seed_xy = cent[seeds[z]]
        pick = min(frontier, key=lambda i: (((cent[i] - seed_xy) ** 2).sum(), i))
        zone[pick] = z
        loads[z] += w[pick]
        members[z].add(pick)
    islands = [int(i) for i in np.flatnonzero(zone < 0)]
    for i in islands:
        z = int(np.argmin([((cent[i] - cent[s]) ** 2).sum() for s in seeds]))
        zone[i] = z
        loads[z] += w[i]
        members[z].add(i)

    for _ in range(max_rounds):
        moved = False
        for a in sorted(range(n_zones), key=lambda k: -loads[k]):
            candidates = []
            for g in members[a]:
                for nb in neighbours[g]:
                    b = int(zone[nb])
                    if b == a or w[g] <= 0 or loads[b] + w[g] >= loads[a]:
                        continue
                    gain = loads[a] - max(loads[a] - w[g], loads[b] + w[g])
                    if gain > 1e-9:
                        candidates.append((-gain, g, b))
            for _, g, b in sorted(candidates):
                if _connected_without(members[a], g, neighbours):
                    members[a].discard(g)
                    members[b].add(g)
                    zone[g] = b
                    loads[a] -= w[g]
                    loads[b] += w[g]
                    moved = True
                    break
            if moved:
                break
        if not moved:
            break
    return Zoning(zone_of=[int(z) for z in zone], loads=[float(x) for x in loads], islands=islands)
