"""Demand for siting: weighted points in the city's metric CRS, one per lattice cell or complaint.

Three objectives, the first the data allows by default (:data:`OBJECTIVES`):

* ``residents`` — each community's population spread over its residential
  land (land-use class R), else over its whole area, as in :mod:`geo.coverage`;
* ``area`` — the residential land itself (else the areas' whole extent), in m²,
  for cities without population per community;
* ``complaints`` — open complaints, one each.

The lattice is computed in numpy/shapely rather than one SQL intersection per
cell: cells wholly inside a polygon carry the full cell, and only the cells
crossing its outline are cut exactly (their weight by the part's area, their
point at the part's centroid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg2
import shapely
from psycopg2.extras import execute_values

from data.errors import InvalidParameter, NotFound
from data.vocab import CLOSED
from geo import kept as geo_kept
from geo.metric import metric_polygon

#: Objectives in the order the automatic choice tries them.
OBJECTIVES = ("residents", "area", "complaints")
DEMAND_CELL_M = 50.0
#: The lattice's cell edge doubles from DEMAND_CELL_M until the areas asked hold at most this many cells: a whole
#: municipality of 14,177 km² (Yantai, no --street) would be 5.7 million cells at 50 m (18 s on first use, the
#: part kept 137 MB) and gets 200 m (354,000); a district of 2,000 km² (784,000) keeps 50 m. The answer says so.
MAX_DEMAND_CELLS = 1_000_000
#: The finest level's areas under a prefix, their area (m², on the spheroid): what the cell edge is chosen by.
_AREA_SQL = """
    SELECT coalesce(sum(ST_Area(geom::geography)), 0) FROM admin_areas
    WHERE level = (SELECT level FROM admin_areas
                   ORDER BY array_position(ARRAY['community','street','district'], level) LIMIT 1)
      AND code LIKE %(prefix)s
"""
#: The tables the lattice is laid from: a change to one of them lays it again.
DEMAND_TABLES = ("admin_areas", "land_use", "city_settings")

# Demand polygons in pieces of at most 256 vertices (cutting a cell by a small piece is cheap), each
# with the density of its community: residents per m², or 1 for the area objective. A community's
# outline is cut to its residential land when the city has land use there; the finest admin level
# present stands in for communities when there are none.
_POLYGONS_SQL = f"""
    WITH lvl AS (SELECT level FROM admin_areas
                 ORDER BY array_position(ARRAY['community','street','district'], level) LIMIT 1),
    comm AS (
        SELECT code, population, geom, {metric_polygon("geom")} AS g FROM admin_areas
        WHERE level = (SELECT level FROM lvl) AND code LIKE %(prefix)s
          AND (NOT %(people)s OR population > 0)
    ),
    spread AS MATERIALIZED (  -- once per community: inlined, its union would be redone per use
        SELECT c.code, c.population, coalesce(
            (SELECT ST_Union(ST_Intersection(c.g, {metric_polygon("l.geom")})) FROM land_use l
             WHERE l.class = 'R' AND l.geom && c.geom AND ST_Intersects(l.geom, c.geom)), c.g) AS g
        FROM comm c
    )
    SELECT code, CASE WHEN %(people)s THEN population / ST_Area(g) ELSE 1.0 END, ST_AsBinary(ST_Subdivide(g, 256))
    FROM spread WHERE ST_Area(g) > 0 ORDER BY code
"""
_COMPLAINTS_SQL = """
    SELECT ST_X(ST_Transform(geom, %(srid)s)), ST_Y(ST_Transform(geom, %(srid)s)), 1.0 FROM complaints
    WHERE status <> %(closed)s AND (%(prefix)s = '%%' OR street_code LIKE %(prefix)s)
"""


def check_objective(objective: str | None) -> str | None:
    """``objective`` when it is one of :data:`OBJECTIVES` (None: the automatic choice)."""
    if objective is not None and objective not in OBJECTIVES:
        raise InvalidParameter("objective", f"{objective!r} is not one of {', '.join(OBJECTIVES)}",
                               f"{objective!r} 不是 {'、'.join(OBJECTIVES)} 之一")
    return objective


def demand_points(conn, objective: str | None, params: dict, *, places: PlaceDemand | None = None) -> tuple[str, np.ndarray]:
    """(the objective used, demand as rows x, y, weight); the first objective with demand when None.

    ``params`` holds ``srid`` and ``prefix`` (a street code + ``%``);
    ``places``, :func:`place_demand` already computed for the same
    objective (kept while the places stand): only complaints are read then.
    """
    found = place_demand(conn, objective, params) if places is None else places
    if found.objective is not None:
        return found.objective, found.points
    if objective in (None, "complaints"):
        points = _complaints(conn, params)
        if len(points):
            return "complaints", points
    if objective == "residents":
        raise NotFound("no residents to cover here (no community with population); "
                       "use objective=area or objective=complaints",
                       "这里没有可覆盖的居民（没有社区有人口数据）；请用 objective=area 或 objective=complaints")
    if objective:
        raise NotFound(f"nothing to cover here by {objective}", f"这里按 {objective} 没有可覆盖的对象")
    raise NotFound("nothing to cover here: no community with population, no admin area and no open complaint",
                   "这里没有可覆盖的对象：没有社区有人口数据，没有行政区划，也没有未办结投诉")


@dataclass(frozen=True)
class PlaceDemand:
    """The demand lattice of the first place objective (residents, area) that has any, or none (``objective`` None);
    its cell edge (m) and the area of the areas it was chosen by (m², :func:`demand_cell`)."""

    objective: str | None
    points: np.ndarray
    cell: float = DEMAND_CELL_M
    area_m2: float = 0.0


def demand_cell(area_m2: float) -> float:
    """The lattice's cell edge for areas of ``area_m2`` in all: DEMAND_CELL_M, doubled until at most
    MAX_DEMAND_CELLS cells (finer costs time and memory in proportion and buys nothing a 300 m disc can tell)."""
    cell = DEMAND_CELL_M
    while area_m2 / (cell * cell) > MAX_DEMAND_CELLS:
        cell *= 2.0
    return cell


def areas_m2(conn, prefix: str) -> float:
    """The area (m²) of the finest level's areas under ``prefix`` (a code + ``%``)."""
    with conn.cursor() as cur:
        cur.execute(_AREA_SQL, {"prefix": prefix})
        return float(cur.fetchone()[0])


def place_demand(conn, objective: str | None, params: dict) -> PlaceDemand:
    """The lattice demand ``objective`` asks for (residents or area; by default the first with demand).

    It reads the areas and land use only, not the complaints: kept while
    the places stand (:mod:`layers.analysis.siting`).
    """
    area = areas_m2(conn, params["prefix"])
    cell = demand_cell(area)
    for name in (objective,) if objective else OBJECTIVES:
        if name == "complaints":
            break
        points = _lattice(conn, name, params, cell)
        if len(points) and points[:, 2].sum() > 0:
            return PlaceDemand(name, points, cell, area)
    return PlaceDemand(None, np.empty((0, 3)), cell, area)


def _complaints(conn, params: dict) -> np.ndarray:
    with conn.cursor() as cur:
        cur.execute(_COMPLAINTS_SQL, {**params, "closed": CLOSED})
        return np.array(cur.fetchall(), dtype=float).reshape(-1, 3)


def _lattice(conn, objective: str, params: dict, cell: float = DEMAND_CELL_M) -> np.ndarray:
    """The lattice demand of ``objective`` in the communities under ``params['prefix']``, in code order.

    Read from the kept part (migration 0760, :mod:`geo.kept`) while the
    areas and land use are unchanged: the city's, else the prefix's own.
    Else laid for the prefix's communities only (a street or district need
    not wait for the whole city: Yantai's 芝罘区 is 1/70 of the city's
    13,800 km²) and kept under the prefix, or as the city's when it is all.
    A part of another ``cell`` edge is not this one (its name says the edge
    unless 50 m): a district never reads the whole city's 200 m lattice.
    """
    city = f"siting demand {objective} {params['srid']}" + ("" if cell == DEMAND_CELL_M else f" {cell:g}m")
    own = city if params["prefix"] == "%" else f"{city} {params['prefix'][:-1]}"
    found, built_at = _kept(conn, (city, own), params["prefix"])
    if found is None:
        found = _lay(conn, objective, params["srid"], params["prefix"], cell)
        rows = [(own, code, psycopg2.Binary(points.astype("<f8").tobytes())) for code, points in found.items()]
        geo_kept.store(conn, own, DEMAND_TABLES, built_at, lambda cur: execute_values(
            cur, "INSERT INTO kept_demand (part, code, points) VALUES %s", rows))
    parts = [found[code] for code in sorted(found)]
    return np.vstack(parts) if parts else np.empty((0, 3))


def _kept(conn, parts: tuple[str, ...], prefix: str) -> tuple[dict[str, np.ndarray] | None, str]:
    """(community code → lattice rows under ``prefix`` of the first of ``parts`` kept, or None; the stamp read)."""
    for part in dict.fromkeys(parts):
        kept, built_at = geo_kept.is_kept(conn, part, DEMAND_TABLES)
        if kept:
            with conn.cursor() as cur:
                cur.execute("SELECT code, points FROM kept_demand WHERE part = %s AND code LIKE %s", (part, prefix))
                return {code: np.frombuffer(bytes(points), dtype="<f8").reshape(-1, 3) for code, points in cur}, built_at
    return None, built_at


def _lay(conn, objective: str, srid: int, prefix: str = "%", cell: float = DEMAND_CELL_M) -> dict[str, np.ndarray]:
    """Community code → its lattice demand (rows x, y, weight; cells of edge ``cell``), for every community with
    demand under ``prefix``."""
    with conn.cursor() as cur:
        cur.execute(_POLYGONS_SQL, {"srid": srid, "people": objective == "residents", "prefix": prefix})
        rows = cur.fetchall()
    found: dict[str, list[np.ndarray]] = {}
    for code, density, wkb in rows:
        geom = shapely.from_wkb(bytes(wkb))
        if geom.is_empty or geom.area <= 0:
            continue
        points = lattice(geom, cell)
        points[:, 2] *= float(density)
        found.setdefault(code, []).append(points)
    return {code: np.vstack(parts) for code, parts in found.items()}


def lattice(geom, cell: float) -> np.ndarray:
    """Rows x, y, m² of the square cells (edge ``cell``, aligned on multiples of it) covering ``geom``.

    Whole cells keep their centre and full area; the cells the outline
    crosses are cut, their point at the part's centroid. The areas add up to
    the polygon's.
    """
    x0, y0, x1, y1 = geom.bounds
    ix0, iy0 = np.floor(x0 / cell), np.floor(y0 / cell)
    xs = (np.arange(ix0, np.ceil(x1 / cell)) + 0.5) * cell
    ys = (np.arange(iy0, np.ceil(y1 / cell)) + 0.5) * cell
    cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(geom)
    edge = _edge_cells(geom, cell, ix0, iy0, len(xs), len(ys))
    inside = shapely.contains_xy(geom, cx, cy)
    inside[edge] = False
    half = cell / 2.0
    x0s, y0s, x1s, y1s = cx[edge] - half, cy[edge] - half, cx[edge] + half, cy[edge] + half
    if cell <= DEMAND_CELL_M:  # GEOS's overlay: the 50 m rows are the ones kept and tested since migration 0760
        cut = shapely.intersection(shapely.box(x0s, y0s, x1s, y1s), geom)
    else:  # a coarser lattice (a whole municipality): the rectangle clip, 3× faster, areas equal to ~1e-7 m²
        cut = np.array([shapely.clip_by_rect(geom, *box) for box in zip(x0s, y0s, x1s, y1s)], dtype=object)
    area = shapely.area(cut)
    keep = area > 0
    centre = shapely.get_coordinates(shapely.centroid(cut[keep]))
    whole = np.column_stack([cx[inside], cy[inside], np.full(inside.sum(), cell * cell)])
    return np.vstack([whole, np.column_stack([centre, area[keep]])])


def _edge_cells(geom, cell: float, ix0: float, iy0: float, nx: int, ny: int) -> np.ndarray:
    """Flat indices (row-major, sorted) of the cells whose box meets ``geom``'s outline.

    Boxes are made only near the outline, not for every cell of the bounds
    (a district of 200 km² has 80,000 cells, a few thousand on its edge):
    the outline densified to a quarter cell passes within an eighth of a
    cell of every point of it, so any cell it touches is next to the cell of
    one of those vertices; those 3 × 3 neighbourhoods are then tested exactly.
    """
    boundary = geom.boundary
    at = shapely.get_coordinates(shapely.segmentize(boundary, cell / 4.0))
    ix = np.floor(at[:, 0] / cell) - ix0
    iy = np.floor(at[:, 1] / cell) - iy0
    near = np.unique(np.column_stack([ix, iy]).astype(np.int64), axis=0)
    steps = np.array([(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    around = (near[:, None, :] + steps[None, :, :]).reshape(-1, 2)
    around = around[(around[:, 0] >= 0) & (around[:, 0] < nx) & (around[:, 1] >= 0) & (around[:, 1] < ny)]
    flat = np.unique(around[:, 1] * nx + around[:, 0])
    bx = (flat % nx + ix0 + 0.5) * cell
    by = (flat // nx + iy0 + 0.5) * cell
    half = cell / 2.0
    return flat[shapely.intersects(shapely.box(bx - half, by - half, bx + half, by + half), boundary)]
