"""Siting: where K new facilities would cover the most demand not yet covered.

Greedy maximum coverage (Church & ReVelle 1974; the greedy choice is within
1 − 1/e of the optimum): demand is residents, residential area or open
complaints as weighted points (:mod:`geo.demand`, which also picks the
objective the data allows); candidates are points along the roads every
``CANDIDATE_SPACING_M`` (in a city without roads, the centres of the
lattice cells that hold demand, at most ``MAX_LATTICE_CANDIDATES``: :func:`lattice_candidates`); a candidate covers the demand points within the
service radius. Each step takes the candidate that newly covers the most
and stops early rather than propose a site that covers nothing new.

The lattice only chooses: the residents and area figures reported (``before``,
``after``, each site's gain) are measured with coverage's code on the chosen
sites (:mod:`geo.siting_figures`), so they are the coverage map's figures,
and the sites are ranked by them (each rank adds no more than the one before).
Open complaints are points, counted as they are.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from psycopg2 import sql
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from data.catalog import area_level, check_street
from data.catalog import metric_srid as city_srid
from data.errors import InvalidParameter, NotFound
from data.settings import AnalysisSettings
from geo.coverage import AREA_FACTOR, QUAD_SEGS, has_facilities, kind_filter, not_in_service, resolve
from geo.demand import PlaceDemand, check_objective, demand_points, place_demand
from geo.siting_figures import Figures, figures

CANDIDATE_SPACING_M = 50.0
#: At most this many lattice candidates (a city without roads): the candidate × demand matrix stays ~3 million pairs.
MAX_LATTICE_CANDIDATES = 25_000
#: A site must newly cover more than this (less than one person, one m² or one complaint is no reason to build).
MIN_GAIN = 0.5
#: What the demand of each objective counts: the key of ``before`` / ``after`` and of each site's ``new_…``.
MEASURES = {"residents": "residents", "area": "area_m2", "complaints": "complaints"}

_EXISTING_SQL = """
    SELECT ST_X(ST_Transform(geom, %(srid)s)), ST_Y(ST_Transform(geom, %(srid)s)) FROM {table}
    WHERE {where} AND GeometryType(geom) = 'POINT'
"""
# Candidate sites: points every CANDIDATE_SPACING_M along each road of the street.
_CANDIDATES_SQL = """
    WITH r AS (SELECT ST_Transform(geom, %(srid)s) AS g FROM roads
               WHERE (%(prefix)s = '%%' OR street_code LIKE %(prefix)s) AND ST_Length(geom) > 0)
    SELECT DISTINCT ST_X(p.geom), ST_Y(p.geom) FROM r,
           ST_DumpPoints(ST_LineInterpolatePoints(r.g, least(1.0, %(spacing)s / greatest(ST_Length(r.g), 1e-9)))) p
"""


@dataclass(frozen=True)
class Places:
    """What siting reads from the places alone, kept while they stand: metric points of the existing
    facilities and of the road candidates (x, y, sorted), and the lattice demand (:func:`geo.demand.place_demand`)."""

    existing: np.ndarray
    candidates: np.ndarray
    demand: PlaceDemand

    @property
    def nbytes(self) -> int:
        return self.existing.nbytes + self.candidates.nbytes + self.demand.points.nbytes


def siting(conn, kind: str = "toilets", add: int = 5, *, radius_m: float | None = None,
           street: str | None = None, objective: str | None = None, places: Places | None = None,
           store=None) -> dict:
    """Propose ``add`` new sites that maximise the newly covered demand.

    Parameters
    ----------
    conn : psycopg2 connection
    kind : str
        Facility kind (see :data:`data.vocab.FACILITY_KINDS`).
    add : int
        How many sites to propose (1 … HYGIENE_MAP_SITING_MAX_ADD, default 200).
    radius_m : float, optional
        Service radius; the kind's standard by default.
    street : str, optional
        Street code: demand and candidates inside this street only.
    objective : str, optional
        ``residents``, ``area`` or ``complaints`` (:mod:`geo.demand`); by default the first of them the data has.
    places : Places, optional (:func:`siting_places` of the same kind, street and objective, when kept)
    store : optional
        Where coverage's state is kept (the server's), for the figures (:mod:`geo.siting_figures`).

    Returns
    -------
    dict
        ``objective`` and its ``measure`` (residents, area_m2, complaints); ``candidates_on``: roads, or lattice;
        ``sites`` (rank, lon, lat, ``new_<measure>``, disc as GeoJSON), ``before`` / ``after`` covered demand and %,
        the total, the rule and radius (residents, area as coverage measures them); ``facilities``, ``not_in_service``:
        as coverage's; ``uniform``: :func:`uniform_demand`; ``demand_cell_m``, ``demand_area_m2``: the lattice's cell
        edge (50 m but over a very large area, :func:`geo.demand.demand_cell`; None for complaints), the area's m².
    """
    check_add(add), check_objective(objective)
    spec, radius, rule = resolve(kind, radius_m)
    srid = city_srid(conn)
    places = places or siting_places(conn, kind, street, objective)
    objective_used, demand = demand_points(conn, objective, _params(srid, street), places=places.demand)
    candidates, on = places.candidates, "roads"
    if candidates.size == 0:  # a city without roads yet: the centres of the lattice cells holding demand
        candidates, on = centre_first(lattice_candidates(demand, radius), places.existing, demand), "lattice"
    measure = MEASURES[objective_used]
    xy, counted = _choose(demand, places.existing, candidates, radius, add)
    # Residents and area measured again on the chosen sites as coverage measures them; complaints are counted.
    found = counted if objective_used == "complaints" else \
        figures(conn, spec, srid, radius, street, objective_used, xy, store)
    xy = xy if found.order is None else xy[found.order]  # ranked by the figures reported (geo.siting_figures)
    sites = [{"rank": k, "x": float(x), "y": float(y), "new_" + measure: gain}
             for k, ((x, y), gain) in enumerate(zip(xy, found.gains), 1)]
    _add_discs(conn, sites, radius, srid)

    def share(value: float) -> dict:
        return {measure: float(value), "pct": float(100.0 * value / found.total) if found.total else None}

    return {"kind": kind, "radius_m": radius, "rule": rule, "street": street, "objective": objective_used,
            "objective_asked": objective is not None, "measure": measure, "sites": sites,
            "candidates": int(len(candidates)), "candidates_on": on, "demand_cells": int(len(demand)),
            "demand_cell_m": None if objective_used == "complaints" else places.demand.cell,
            "demand_area_m2": places.demand.area_m2,
            "before": share(found.before), "after": share(found.after), measure: found.total,
            "facilities": has_facilities(conn, spec), "not_in_service": not_in_service(conn, spec),
            "uniform": objective_used != "complaints" and uniform_demand(conn)}


def uniform_demand(conn) -> bool:
    """Whether residents (or area) are spread evenly over whole districts or streets: no communities and no
    residential land use, so that every uncovered spot of an area weighs the same and sites are near-arbitrary."""
    with conn.cursor() as cur:
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM admin_areas WHERE level = 'community') "
                    "AND NOT EXISTS (SELECT 1 FROM land_use WHERE class = 'R')")
        return cur.fetchone()[0]


def centre_first(candidates: np.ndarray, existing: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``candidates`` nearest first to the centre of the existing facilities among the demand (its bounding box;
    else the demand's weighted centre), then by x, y: the greedy gives an exact tie to the first candidate, and on
    an even lattice the x, y order sent tied sites to the district's western edge, far from its town."""
    if not len(candidates):
        return candidates
    low, high = demand[:, :2].min(axis=0), demand[:, :2].max(axis=0)
    inside = existing[((existing >= low) & (existing <= high)).all(axis=1)] if len(existing) else existing
    if len(inside):
        centre = inside.mean(axis=0)
    else:
        weight = np.nan_to_num(demand[:, 2])
        centre = (demand[:, :2] * weight[:, None]).sum(axis=0) / weight.sum() if weight.sum() > 0 else \
            demand[:, :2].mean(axis=0)
    # Rounded to the metre: candidates as far from the centre within a metre keep their x, y order (deterministic).
    far = np.round(np.hypot(*(candidates - centre).T))
    return candidates[np.lexsort((candidates[:, 1], candidates[:, 0], far))]


def lattice_candidates(demand: np.ndarray, radius: float) -> np.ndarray:
    """Candidates where there are no roads: the centres (sorted by x, then y) of the lattice cells holding demand.

    The spacing is a third of the radius (at least ``CANDIDATE_SPACING_M``: finer buys little), widened
    until there are at most ``MAX_LATTICE_CANDIDATES``: a district of 200 km² keeps its 100 m (20,500
    candidates at 300 m), a whole city of 13,800 km² without roads gets about 800 m, not 1.4 million.
    """
    step = max(CANDIDATE_SPACING_M, radius / 3.0)
    while True:
        cells = _cells(demand[:, :2], step)
        if len(cells) <= MAX_LATTICE_CANDIDATES:
            return (cells + 0.5) * step
        step *= max(1.02 * float(np.sqrt(len(cells) / MAX_LATTICE_CANDIDATES)), 1.05)  # area ∝ step²: one more pass


def _cells(xy: np.ndarray, step: float) -> np.ndarray:
    """The distinct cells (column, row as floats, sorted by column then row) of edge ``step`` holding a point:
    np.unique(axis=0)'s answer by one sort of integer keys (np.unique took 20 s on 5.7 million points)."""
    if not len(xy):
        return np.empty((0, 2))
    cell = np.floor(xy / step).astype(np.int64)
    low = cell.min(axis=0)
    cell -= low
    rows = int(cell[:, 1].max()) + 1
    keys = np.sort(cell[:, 0] * rows + cell[:, 1])
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
    return np.column_stack([keys // rows + low[0], keys % rows + low[1]]).astype(float)


def check_add(add: int) -> int:
    """``add`` when it is from 1 to HYGIENE_MAP_SITING_MAX_ADD: each site is one more pass over the candidates."""
    max_add = AnalysisSettings.from_env().siting_max_add
    if add is None:  # given empty (add=)
        raise InvalidParameter("add", f"must be a whole number from 1 to {max_add} (HYGIENE_MAP_SITING_MAX_ADD)",
                               f"须为 1 至 {max_add} 的整数（HYGIENE_MAP_SITING_MAX_ADD）")
    if not (1 <= add <= max_add):
        raise InvalidParameter("add", f"must be between 1 and {max_add} (HYGIENE_MAP_SITING_MAX_ADD), not {add}",
                               f"须在 1 至 {max_add} 之间（HYGIENE_MAP_SITING_MAX_ADD），不能是 {add}")
    return add


def _params(srid: int, street: str | None) -> dict:
    return {"srid": srid, "spacing": CANDIDATE_SPACING_M, "prefix": (street or "") + "%"}


def siting_places(conn, kind: str, street: str | None, objective: str | None) -> Places:
    """The existing facilities of ``kind``, the road candidates and the lattice demand, all in the metric CRS.

    They read the places only (areas, land use, roads, facilities), so the
    analysis keeps them while those stand: complaints coming in recompute
    the greedy, not the lattice.
    """
    spec = resolve(kind, None)[0]
    params = _params(city_srid(conn), street)
    existing_sql = sql.SQL(_EXISTING_SQL).format(table=sql.Identifier(spec.table), where=kind_filter(spec))
    if street:
        _check_area(conn, street)
    with conn.cursor() as cur:
        cur.execute(existing_sql, params)
        existing = np.array(cur.fetchall(), dtype=float).reshape(-1, 2)
        cur.execute(_CANDIDATES_SQL, params)
        # Sorted (x, then y): the greedy breaks ties by this order, so the answer never depends on a plan.
        candidates = np.unique(np.array(cur.fetchall(), dtype=float).reshape(-1, 2), axis=0)
    return Places(existing, candidates, place_demand(conn, objective, params))


def _check_area(conn, street: str) -> None:
    """NotFound unless ``street`` is a street, or a district of a city that has districts only (Hong Kong's 18:
    the demand is its finest areas, the districts, so one of them is where a planner sites)."""
    if area_level(conn, "street") != "district":
        check_street(conn, street)
        return
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM admin_areas WHERE level = 'district' AND code = %s", (street,))
        if cur.fetchone() is None:
            raise NotFound(f"street: {street!r} is no district of this city (it has no streets: give a district code)",
                           f"street：{street!r} 不是本市的区（本市没有街道一级：请给出区代码）")


def _covered(demand: np.ndarray, existing: np.ndarray, radius: float) -> np.ndarray:
    """Which demand cells an existing facility already covers (nearest facility within the radius)."""
    covered = np.zeros(len(demand), dtype=bool)
    if existing.size:
        near = cKDTree(existing).query(demand[:, :2], distance_upper_bound=radius)[0]
        covered = np.isfinite(near) & (near <= radius)
    return covered


def _choose(demand: np.ndarray, existing: np.ndarray, candidates: np.ndarray, radius: float,
            add: int) -> tuple[np.ndarray, Figures]:
    """The sites the greedy chooses on the demand points (rows x, y, in choice order), and the demand they and the
    existing facilities cover there: exact for complaints (points, counted), a lattice's estimate otherwise."""
    weight = np.nan_to_num(demand[:, 2])
    covered = _covered(demand, existing, radius)
    before = float(weight[covered].sum())
    chosen = _greedy(demand, weight, covered, candidates, radius, add)
    counted = Figures(before, float(weight[covered].sum()), [gain for _, gain in chosen], float(weight.sum()))
    return candidates[[best for best, _ in chosen]].reshape(-1, 2), counted


def _greedy(demand: np.ndarray, weight: np.ndarray, covered: np.ndarray, candidates: np.ndarray,
            radius: float, add: int) -> list[tuple[int, float]]:
    """Up to ``add`` sites as (candidate index, demand it newly covers on the lattice), each the candidate newly
    covering the most; marks them in ``covered``.

    Greedy rather than an exact integer programme: it is within 1 − 1/e of
    the optimum, takes seconds where a solver may take hours on a city, and
    each site's gain can be read on its own. Lazy (Minoux 1978): a gain only
    shrinks as sites are added, so a candidate popped from the priority
    queue whose fresh gain still tops the queue is the best, and most
    candidates are never looked at again. Ties go to the first candidate in
    ``candidates``' order, as in the plain greedy that recomputes every gain
    each round: queue entries are (−gain, index) and a fresh entry must sort
    before the head to be taken. Gains equal to 12 significant digits are ties
    (:func:`_tie`), as the plain greedy of tests/test_siting.py has them.
    """
    # Only the demand not covered yet can add to a gain: the matrix leaves the rest out (most of a city).
    open_ = np.flatnonzero(~covered)
    left, open_weight = np.ones(len(open_), dtype=bool), weight[open_]
    pairs = cKDTree(candidates).sparse_distance_matrix(cKDTree(demand[open_, :2]), radius, output_type="ndarray")
    matrix = csr_matrix((np.ones(len(pairs)), (pairs["i"], pairs["j"])), shape=(len(candidates), len(open_)))
    matrix.sum_duplicates()
    gains = matrix @ open_weight
    # The product sums in another order than a fresh gain: a hair above it, a bound is never below the
    # fresh gain, so an exact tie is always refreshed and goes to the first candidate.
    heap = [(-g * (1 + 1e-9), i) for i, g in enumerate(gains) if g > MIN_GAIN]
    heapq.heapify(heap)
    sites: list[tuple[int, float]] = []
    while heap and len(sites) < add:
        _, best = heapq.heappop(heap)
        idx = matrix.indices[matrix.indptr[best]:matrix.indptr[best + 1]]
        gain = open_weight[idx][left[idx]].sum()
        if gain <= MIN_GAIN:  # never a site that covers (next to) nothing new
            continue
        if heap and (-_tie(gain), best) > heap[0]:
            heapq.heappush(heap, (-_tie(gain), best))
            continue
        left[idx] = False
        covered[open_[idx]] = True
        sites.append((best, float(gain)))
    return sites


def _tie(gain: float) -> float:
    """``gain`` to 12 significant digits (rounding keeps the order, so bounds stay bounds): the same demand summed in
    another order, or a cell cut in two pieces, differs in the last bits, which must not outrank the first candidate
    (Yantai's 200 m lattice: 360,000.0000001 m² beat a whole 360,000 m² nearer the toilets)."""
    if gain <= 0:
        return gain
    step = 10.0 ** (math.floor(math.log10(gain)) - 11)
    return round(gain / step) * step


def _add_discs(conn, sites: list[dict], radius: float, srid: int) -> None:
    """Each site's lon, lat and its service disc (the equal-area polygon of geo.coverage) as GeoJSON."""
    with conn.cursor() as cur:
        for site in sites:
            cur.execute(
                "SELECT ST_X(p), ST_Y(p), ST_AsGeoJSON(ST_Transform(ST_Buffer(q, %s, %s), 4326), 6) FROM "
                "(SELECT ST_SetSRID(ST_MakePoint(%s, %s), %s) AS q) a, ST_Transform(q, 4326) p",
                (radius * AREA_FACTOR, f"quad_segs={QUAD_SEGS}", site["x"], site["y"], srid))
            site["lon"], site["lat"], site["disc"] = cur.fetchone()
