"""Merging the clipped pieces of a fishnet into grids: slivers and detached pieces join a neighbour.

Pure geometry in a metric CRS (shapely). :func:`geo.grids.cut_community` clips
the cells and calls :func:`merge_pieces`.
"""

from __future__ import annotations

import heapq

import numpy as np
import shapely

# Pieces closer than this (metres) touch: neighbouring cells' edges, computed
# from different centres (hexagons), may miss each other by a rounding error.
TOUCH_M = 1e-3
# A border shorter than this (metres) is a touch at a point, not a shared border.
BORDER_M = 0.01


def merge_pieces(pieces, min_area: float) -> dict:
    """Merge the pieces of a cut community until each is a grid of its own.

    Parameters
    ----------
    pieces : list of (key or None, Polygon)
        Every polygon the cells cut from the community: the largest of each
        cell under its cell's key, any other (a piece the cell cuts off from
        it) under ``None``.
    min_area : float
        The smallest grid (m²): a share of a full cell.

    Returns
    -------
    dict
        ``{key: geometry}``. A piece with no key or smaller than ``min_area``
        is merged, smallest first, into the piece it shares the longest border
        with — the pieces as merged so far, not the lattice, so a chain of
        slivers goes on until it holds ``min_area``; one touching nothing (an
        islet of the outline) joins the nearest. It keeps its key when the
        piece it joins has none. Only a community with a single piece left
        keeps a smaller grid.
    """
    polys = [p for _, p in pieces]
    key = dict(enumerate(k for k, _ in pieces))
    geom = dict(enumerate(polys))
    area = {i: p.area for i, p in enumerate(polys)}
    owner = list(range(len(polys)))  # part → the group holding it
    members = {i: [i] for i in geom}
    tree = shapely.STRtree(polys)

    def open_(g: int) -> bool:
        return key[g] is None or area[g] < min_area

    heap = [(area[g], g) for g in geom if open_(g)]
    heapq.heapify(heap)
    while heap and len(geom) > 1:
        size, g = heapq.heappop(heap)
        if g not in geom or size != area[g] or not open_(g):
            continue  # merged away, grown since pushed, or a grid now
        target = _best_neighbour(g, geom, owner, tree)
        for i in members[g]:
            owner[i] = target
        members[target] += members.pop(g)
        geom[target] = shapely.union_all([geom[target], geom.pop(g)])
        area[target] += area.pop(g)
        key[target] = key[target] if key[target] is not None else key.pop(g)
        if open_(target):
            heapq.heappush(heap, (area[target], target))
    return {key[g]: shape for g, shape in geom.items()}


def _best_neighbour(g: int, geom: dict, owner: list[int], tree) -> int:
    """The group sharing the longest border with group ``g``; if none shares one, the nearest."""
    near = {owner[i] for i in tree.query(geom[g], predicate="dwithin", distance=TOUCH_M)} - {g}
    best, best_len = None, BORDER_M
    ring = geom[g].boundary
    for h in sorted(near):
        shared = ring.intersection(geom[h].buffer(TOUCH_M)).length
        if shared > best_len:
            best, best_len = h, shared
    if best is not None:
        return best
    others = sorted(set(geom) - {g})
    distances = shapely.distance(geom[g], np.array([geom[h] for h in others], dtype=object))
    return others[int(np.argmin(distances))]
