"""Siting's figures as coverage gives them: covered demand before, after, and each site's gain.

The greedy (:mod:`geo.siting`) chooses on the 50 m demand lattice of
:mod:`geo.demand`, where a cell counts whole when its point is within the
radius: fast, and good enough to rank candidates, but as a figure it is off
by the cells along every disc's edge (in Yantai a 300 m site "newly covered"
284,832 m², more than the disc's 282,743 m²; Hong Kong's district A was
36.3 % covered by siting and 36.19 % by the coverage map).

So the figures are measured here with coverage's own code
(:func:`geo.coverage.state`, :mod:`geo.coverage_fast`): the discs of the
existing facilities and of the chosen sites (equal-area 64-gons, area πr²),
unioned and cut by the areas of the city's finest level under the street.
An area's covered share is :func:`geo.residents.covered_share` — of its
residential land where it has any, else of the area — and the objective
weighs it by the area's population (``residents``) or by that land's m²
(``area``). Coverage cuts the residential land of the areas with people only
(it spreads people over it); for the area objective the land of the others
is cut here too, as the lattice's area demand counts it. ``before`` is therefore the coverage map's
figure today and ``after`` the figure with the sites added as facilities (as
a what-if adding them answers). Each site's gain is the figure with it minus
the figure before it: no gain exceeds a disc and the gains add up to
``after − before``.

The sites are ranked by these figures, not in the lattice's order: the
lattice's sums differ from coverage's by the cells along each disc's edge,
so in the lattice's order a site could add less than the one after it (in
Yantai's 芝罘区 rank 1 added 282,689.0 m², rank 2 a whole disc of
282,743.3 m²). :func:`figures` therefore runs the greedy once more over the
chosen sites on coverage's figures (lazily: a site's figure only shrinks as
others are added): each rank is the site adding the most to the ranks above
it, so no rank adds more than the one before (but for rounding, ~1e-9 of
it). Which sites are chosen is still the lattice's choice.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

import numpy as np
import shapely

from data.catalog import area_level
from data.vocab import FacilityKind
from geo import coverage_fast as fast
from geo.coverage import state
from geo.metric import metric_polygon
from geo.residents import covered_share

#: Residential land (land-use class R) near a box of the metric CRS (its corners in WGS84, 0.01° more, ~1 km).
_HOUSING_SQL = f"""
    SELECT ST_AsBinary({metric_polygon("l.geom")}) FROM land_use l
    WHERE l.class = 'R' AND l.geom && ST_Expand(ST_Transform(
        ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, %(srid)s), 4326), 0.01)
"""


@dataclass(frozen=True)
class Figures:
    """Covered demand before the sites and after them, each site's gain (rank order), the demand in all, and the
    sites' positions in the order given, rank by rank (None: as given)."""

    before: float
    after: float
    gains: list[float]
    total: float
    order: list[int] | None = None


def figures(conn, spec: FacilityKind, srid: int, radius: float, street: str | None, objective: str,
            sites: np.ndarray, store=None) -> Figures:
    """The covered ``objective`` (residents or area) with the existing facilities, then adding ``sites`` one by one.

    Parameters
    ----------
    conn : psycopg2 connection
    spec, srid, radius : the facility kind, the city's metric CRS and the service radius.
    street : str, optional
        Code prefix of the areas measured (the street, or a district in a city of districts only).
    objective : str
        ``residents`` or ``area`` (complaints are counted as points, not measured here).
    sites : ndarray
        Rows x, y (metric) of the sites in the order the greedy chose them.
    store : optional
        Where coverage's state is kept (:data:`layers.analysis.coverage_state.STATE` on the server).
    """
    level = area_level(conn, "community")
    areas, cover = state(conn, store or fast.FreshState(), spec, level, srid, radius, street, True)
    if objective == "area":
        areas, cover = _housing(conn, srid, areas, cover)
    base = _base(areas, objective)
    before = float(_covered(areas, cover, base, np.arange(len(areas.codes))).sum())
    order, gains, cover = _ranked(areas, cover, base, sites)
    after = float(_covered(areas, cover, base, np.arange(len(areas.codes))).sum())
    return Figures(before, after, gains, float(base.sum()), order)


def _ranked(areas: fast.Areas, cover: fast.Cover, base: np.ndarray,
            sites: np.ndarray) -> tuple[list[int], list[float], fast.Cover]:
    """(the sites' positions rank by rank, each one's gain over the ranks above it, the cover with all of them):
    the lazy greedy (Minoux 1978) on coverage's figures. Entries are (−gain, position, round measured): a gain
    measured this round is fresh and tops every bound, so it is taken; ties go to the lattice's order."""

    def gain(k: int, now: fast.Cover) -> tuple[float, fast.Cover]:
        wkb = dict(now.wkb)
        wkb[-(k + 1)] = shapely.to_wkb(shapely.Point(*sites[k]))  # draft ids, as a what-if's added facilities
        added, idx = fast.with_facilities(areas, now, wkb)
        return float((_covered(areas, added, base, idx) - _covered(areas, now, base, idx)).sum()), added

    covers: dict[int, fast.Cover] = {}
    heap = []
    for k in range(len(sites)):
        g, covers[k] = gain(k, cover)
        heap.append((-g, k, 0))
    heapq.heapify(heap)
    order, gains, rank = [], [], 0
    while heap:
        g, k, measured = heapq.heappop(heap)
        if measured != rank:
            g, covers[k] = gain(k, cover)
            heapq.heappush(heap, (-g, k, rank))
            continue
        order.append(k)
        gains.append(-g)
        cover, rank = covers.pop(k), rank + 1
        covers.clear()
    return order, gains, cover


def _base(areas: fast.Areas, objective: str) -> np.ndarray:
    """Per area what a covered share of 1 is worth: its population (0 without), or its residential land (else area) m²."""
    if objective == "residents":
        return np.array([float(p) if p is not None and p > 0 else 0.0 for p in areas.pops])
    res = np.nan_to_num(areas.res_m2)
    return np.where(res > 0, res, areas.m2)


def _covered(areas: fast.Areas, cover: fast.Cover, base: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The covered demand of the areas at ``idx``: each area's covered share (as coverage has it) times its base."""
    return np.array([base[i] * covered_share(areas.m2[i], cover.cov[i], areas.res_m2[i], cover.res_cov[i])
                     for i in idx])


def _housing(conn, srid: int, areas: fast.Areas, cover: fast.Cover) -> tuple[fast.Areas, fast.Cover]:
    """``areas`` with the residential land of those coverage cut none for (no population), and ``cover`` measured
    again there: the land the lattice's area demand counts (:mod:`geo.demand`). Unchanged when there is none."""
    bare = np.flatnonzero(np.isnan(areas.res_m2))
    if not len(bare):
        return areas, cover
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(areas.geoms[bare]))
    with conn.cursor() as cur:
        cur.execute(_HOUSING_SQL, {"srid": srid, "x0": x0, "y0": y0, "x1": x1, "y1": y1})
        land = shapely.from_wkb([bytes(r[0]) for r in cur.fetchall()])
    if not len(land):
        return areas, cover
    at, li = shapely.STRtree(land).query(areas.geoms[bare], predicate="intersects")
    owner, pieces = bare[at], shapely.intersection(areas.geoms[bare[at]], land[li])
    housed = np.unique(owner)
    res_m2 = areas.res_m2.copy()
    res_m2[housed] = np.bincount(owner, shapely.area(pieces), minlength=len(res_m2))[housed]
    areas = replace(areas, res_owner=np.concatenate([areas.res_owner, owner]),
                    res_pieces=np.concatenate([areas.res_pieces, pieces]), res_m2=res_m2)
    return areas, fast.remeasure(areas, cover, housed)
