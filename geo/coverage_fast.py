"""Straight-line coverage in shapely, from state that can be kept between requests.

The answer is the one :mod:`geo.coverage` defines (equal-area 64-gon discs,
population spread over residential land), computed from two parts:

* :class:`Areas` — each area's valid metric outline and its residential land
  (the land-use class R polygons cut to the area, kept as pieces: land-use
  polygons form a partition, so their areas add up). They change only with
  the areas or the land use, never with the facilities: kept in the database
  (migration 0760) and rebuilt when those tables change (:func:`load_areas`).
* :class:`Cover` — one facility kind at one radius: each facility's disc, and
  per area its covered part, its covered area and its covered residential
  land. The areas are grouped in blocks (:data:`BLOCK_M` squares, by the
  centre of each area's box); an area's covered part is the area cut by the
  union of the discs touching its block's areas, unioned in facility-id order,
  so it is a function of those discs alone. A changed facility changes only
  the areas its old or new disc touches (:func:`with_facilities`): an update
  unions again the blocks of those few areas and measures them afresh
  (:func:`remeasure`); a full build does the same for every block, so both
  give the same figures to the last bit.

The discs are GEOS buffers as PostGIS draws them (same quad_segs, same
enlargement), so the figures equal the SQL's to ~1e-9 percentage points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import psycopg2
import shapely
from psycopg2 import sql
from psycopg2.extras import execute_values

from geo import kept as geo_kept
from geo.metric import metric_polygon

#: The table of each area level not in admin_areas.
LEVEL_TABLE = {"grid": "grids", "urban_village": "urban_villages"}
#: Side of the square blocks of areas whose discs are unioned once (metres). Per area, a disc near an
#: edge would be unioned once per area it touches (9,345 times for the city demo's 3,000 discs); per
#: 2 km block about 5,300 times, and a union of a few dozen discs is still cheap to redo after an edit.
BLOCK_M = 2000.0


@dataclass(frozen=True)
class Areas:
    """The areas of one level (in code order), in the city's metric CRS."""

    codes: list[str]
    names: list[str | None]
    names_en: list[str | None]
    pops: list[int | None]
    geoms: np.ndarray  # valid metric (multi)polygons
    m2: np.ndarray
    outlines: list[str]  # WGS84 GeoJSON, 6 decimals
    res_owner: np.ndarray  # index of the area each residential piece belongs to
    res_pieces: np.ndarray
    res_m2: np.ndarray  # residential m² per area; NaN where there is none to spread population over
    tree: shapely.STRtree
    blocks: np.ndarray  # per area its block (a BLOCK_M square, by the centre of the area's box)

    def index(self) -> dict[str, int]:
        """Area code → its position."""
        return {code: i for i, code in enumerate(self.codes)}


@dataclass(frozen=True)
class Cover:
    """One facility kind's discs at one radius, and what they cover in each area of :class:`Areas`."""

    radius: float
    factor: float  # the points' disc enlargement (geo.coverage.AREA_FACTOR)
    wkb: dict  # facility id → metric geometry (WKB); draft facilities have negative ids
    ids: np.ndarray
    discs: np.ndarray
    tree: shapely.STRtree
    covered: np.ndarray  # per area: its covered part (a polygon), or None when no disc touches it
    cov: np.ndarray  # covered m² per area
    res_cov: np.ndarray  # covered residential m² per area


def area_tables(level: str) -> tuple[str, ...]:
    """The tables the areas of ``level`` are read from: a change to one of them rebuilds them."""
    return (LEVEL_TABLE.get(level, "admin_areas"), "land_use", "city_settings")


def load_areas(conn, level: str, level_sql: str, srid: int, code_prefix: str | None, population: bool) -> Areas:
    """The areas of a level (those whose code starts with ``code_prefix``) and their residential land.

    Read from the kept part of the level (migration 0760, :mod:`geo.kept`)
    while its tables are unchanged; else the whole level is built from them
    and kept again. Residential land counts only for areas with people
    (``population`` asked and a population > 0).
    """
    part, tables = f"coverage areas {level} {srid}", area_tables(level)
    prefix = (code_prefix or "") + "%"
    kept, built_at = geo_kept.is_kept(conn, part, tables)
    if kept:
        rows, owner, pieces = _read_kept(conn, part, prefix)
    else:
        rows, owner, pieces = _build_level(conn, level_sql, srid)
        geo_kept.store(conn, part, tables, built_at, lambda cur: _write_kept(cur, part, srid, rows, owner, pieces))
        if code_prefix:
            inside = np.array([r[0].startswith(code_prefix) for r in rows], dtype=bool)
            position = np.cumsum(inside) - 1
            rows = [r for r, k in zip(rows, inside) if k]
            keep = inside[owner] if len(owner) else np.empty(0, dtype=bool)
            owner, pieces = position[owner[keep]], pieces[keep]
    return _assemble(rows, owner, pieces, population)


def _build_level(conn, level_sql: str, srid: int) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """Every area of the level (code, name, name_en, population, metric WKB, outline GeoJSON), and the
    residential pieces of those with people: the index of each one's area, and the pieces."""
    params = {"srid": srid}
    level = sql.SQL("SELECT * FROM ({}) a(code, name, name_en, population, geom)").format(sql.SQL(level_sql))
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT code, name, name_en, population, ST_AsBinary({g}), ST_AsGeoJSON(geom, 6) "
                            "FROM ({level}) a ORDER BY code").format(g=sql.SQL(metric_polygon("geom")), level=level),
                    params)
        rows = [(c, n, e, p, bytes(w), o) for c, n, e, p, w, o in cur.fetchall()]
        cur.execute(sql.SQL("SELECT ST_AsBinary({g}) FROM land_use l WHERE l.class = 'R' "
                            "AND l.geom && (SELECT ST_Extent(geom) FROM ({level}) a)"
                            ).format(g=sql.SQL(metric_polygon("l.geom")), level=level), params)
        land = shapely.from_wkb([bytes(r[0]) for r in cur.fetchall()])
    geoms = shapely.from_wkb([r[4] for r in rows]) if rows else np.empty(0, dtype=object)
    people = np.array([r[3] is not None and r[3] > 0 for r in rows], dtype=bool)
    owner, li = shapely.STRtree(land).query(geoms, predicate="intersects") if len(land) and len(geoms) else \
        (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    keep = people[owner] if len(owner) else np.empty(0, dtype=bool)
    owner, li = owner[keep], li[keep]
    return rows, owner, shapely.intersection(geoms[owner], land[li])


def _read_kept(conn, part: str, prefix: str) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """:func:`_build_level`'s answer for the areas whose code is LIKE ``prefix``, from the kept part."""
    with conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en, population, ST_AsBinary(geom), outline FROM kept_areas "
                    "WHERE part = %s AND code LIKE %s ORDER BY code", (part, prefix))
        rows = [(c, n, e, p, bytes(w), o) for c, n, e, p, w, o in cur.fetchall()]
        cur.execute("SELECT code, ST_AsBinary(piece) FROM kept_land WHERE part = %s AND code LIKE %s",
                    (part, prefix))
        land = cur.fetchall()
    position = {r[0]: k for k, r in enumerate(rows)}
    owner = np.array([position[c] for c, _ in land], dtype=np.int64)
    return rows, owner, shapely.from_wkb([bytes(w) for _, w in land]) if land else np.empty(0, dtype=object)


def _write_kept(cur, part: str, srid: int, rows: list[tuple], owner: np.ndarray, pieces: np.ndarray) -> None:
    """Insert the areas and residential pieces of one level into the kept part (already emptied)."""
    execute_values(cur, "INSERT INTO kept_areas (part, code, name, name_en, population, geom, outline) VALUES %s",
                   [(part, c, n, e, p, psycopg2.Binary(w), o) for c, n, e, p, w, o in rows],
                   template=f"(%s, %s, %s, %s, %s, ST_GeomFromWKB(%s, {int(srid)}), %s)", page_size=500)
    execute_values(cur, "INSERT INTO kept_land (part, code, piece) VALUES %s",
                   [(part, rows[i][0], psycopg2.Binary(w)) for i, w in zip(owner, shapely.to_wkb(pieces))],
                   template=f"(%s, %s, ST_GeomFromWKB(%s, {int(srid)}))", page_size=500)


def _assemble(rows: list[tuple], owner: np.ndarray, pieces: np.ndarray, population: bool) -> Areas:
    """The :class:`Areas` of ``rows`` and their residential pieces (none unless ``population``).

    The pieces are put in one order (by area, then by their box), whether
    just cut or read back from the database in whatever order it gives them:
    sums over them then agree to the last bit.
    """
    geoms = shapely.from_wkb([r[4] for r in rows]) if rows else np.empty(0, dtype=object)
    if not population:
        owner, pieces = np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    piece_box = shapely.bounds(pieces).reshape(-1, 4)
    order = np.lexsort((piece_box[:, 3], piece_box[:, 2], piece_box[:, 1], piece_box[:, 0], owner))
    owner, pieces = owner[order], pieces[order]
    res_m2 = np.bincount(owner, shapely.area(pieces), minlength=len(geoms)).astype(float)
    res_m2[~np.isin(np.arange(len(geoms)), owner)] = np.nan
    box = shapely.bounds(geoms).reshape(-1, 4)
    cells = np.floor(np.stack([box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]], axis=1) / (2 * BLOCK_M))
    blocks = np.unique(cells, axis=0, return_inverse=True)[1].ravel() if len(geoms) else np.empty(0, dtype=np.int64)
    return Areas([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], geoms,
                 shapely.area(geoms), [r[5] for r in rows], owner, pieces, res_m2, shapely.STRtree(geoms), blocks)


def facility_wkb(conn, table: sql.Composable, where: sql.Composable, srid: int) -> dict:
    """Facility id → its geometry in the metric CRS (WKB), for the rows of ``table`` that ``where`` selects.

    In id order, as the kept cover reads them back: the discs are unioned in the same order either way.
    """
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT id, ST_AsBinary(ST_Transform(geom, %s)) FROM {} WHERE {} AND geom IS NOT NULL "
                            "ORDER BY id"
                            ).format(table, where), (srid,))
        return {int(i): bytes(w) for i, w in cur.fetchall()}


def discs(geoms: np.ndarray, radius: float, factor: float) -> np.ndarray:
    """Each facility's disc as PostGIS draws it: points by the equal-area radius, lines and polygons by r.

    A point's disc is one disc about the origin moved to the point: the same
    coordinates as a buffer of the point (GEOS adds the same offsets), a third
    of the time.
    """
    point = shapely.get_type_id(geoms) == 0
    out = np.empty(len(geoms), dtype=object)
    out[~point] = shapely.buffer(geoms[~point], radius, quad_segs=16)
    if point.any():
        ring = shapely.get_coordinates(shapely.buffer(shapely.Point(0, 0), radius * factor, quad_segs=16))
        out[point] = shapely.polygons(ring[None, :, :] + shapely.get_coordinates(geoms[point])[:, None, :])
    return out


def build_cover(areas: Areas, wkb: dict, radius: float, factor: float) -> Cover:
    """Every facility's disc and what the discs cover in every area.

    Every block is measured as :func:`remeasure` measures one after an edit:
    a full build and an update give the same figures to the last bit, so a
    facility added and removed again gives back the answer before. (Unioning
    every disc once and clipping the union to each area was as fast, but an
    update could not give its figures to the bit.)
    """
    ids = np.fromiter(wkb, dtype=np.int64, count=len(wkb))
    d = discs(shapely.from_wkb(list(wkb.values())), radius, factor) if wkb else np.empty(0, dtype=object)
    n = len(areas.codes)
    empty = Cover(radius, factor, dict(wkb), ids, d, shapely.STRtree(d), np.full(n, None, dtype=object),
                  np.zeros(n), np.zeros(n))
    return remeasure(areas, empty, np.arange(n))


def _res_cover(areas: Areas, unions: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Covered residential m² per area: each residential piece of the areas ``has`` cut by its block's union.

    A piece the union contains counts whole and one it misses not at all
    (prepared predicates, far cheaper than an overlay); only the pieces its
    boundary crosses are cut.
    """
    res_cov = np.zeros(len(areas.codes))
    sel = np.flatnonzero(np.isin(areas.res_owner, has))
    if len(sel):
        owner, pieces = areas.res_owner[sel], areas.res_pieces[sel]
        cutter = unions[areas.blocks[owner]]
        inside = shapely.contains(cutter, pieces)
        cut = ~inside & shapely.intersects(cutter, pieces)
        part = np.where(inside, shapely.area(pieces), 0.0)
        part[cut] = shapely.area(shapely.intersection(pieces[cut], cutter[cut]))
        res_cov += np.bincount(owner, part, minlength=len(res_cov))
    return res_cov


def remeasure(areas: Areas, cover: Cover, idx: np.ndarray) -> Cover:
    """``cover`` with the areas at positions ``idx`` measured afresh from its discs (a new Cover; ``cover`` is kept).

    Per block of those areas: the union of the discs touching any of its
    areas (:func:`_block_unions`); per area the part of it the union covers
    (the area itself when the union contains it), and the residential pieces
    cut by that (covered residential land).
    """
    idx = np.asarray(idx, dtype=np.int64)
    covered, cov, res_cov = cover.covered.copy(), cover.cov.copy(), cover.res_cov.copy()
    covered[idx], cov[idx], res_cov[idx] = None, 0.0, 0.0
    if len(idx) and len(cover.discs):
        unions, touched = _block_unions(areas, cover, np.unique(areas.blocks[idx]))
        has = idx[touched[idx]]
        shapely.prepare(unions)
        whole = shapely.contains(unions[areas.blocks[has]], areas.geoms[has])
        covered[has[whole]] = areas.geoms[has[whole]]
        part = has[~whole]
        covered[part] = shapely.intersection(areas.geoms[part], unions[areas.blocks[part]])
        cov[has] = shapely.area(covered[has])
        res_cov += _res_cover(areas, unions, has)
    return replace(cover, covered=covered, cov=cov, res_cov=res_cov)


def _block_unions(areas: Areas, cover: Cover, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block (None outside ``blocks``): the union of the discs touching any of its areas, unioned in
    facility-id order (a function of those discs alone); and per area whether a disc touches it."""
    members = np.flatnonzero(np.isin(areas.blocks, blocks))
    ai, di = cover.tree.query(areas.geoms[members], predicate="intersects")
    touched = np.zeros(len(areas.codes), dtype=bool)
    touched[members[ai]] = True
    unions = np.full(int(areas.blocks.max()) + 1, None, dtype=object)
    if len(di):
        pairs = np.unique(np.stack([areas.blocks[members[ai]], cover.ids[di], di]), axis=1)  # by block, then id
        starts = np.flatnonzero(np.r_[True, pairs[0, 1:] != pairs[0, :-1]])
        for block, group in zip(pairs[0, starts], np.split(pairs[2], starts[1:])):
            unions[block] = shapely.union_all(cover.discs[group])
    return unions, touched


def with_facilities(areas: Areas, cover: Cover, wkb: dict) -> tuple[Cover, np.ndarray]:
    """``cover`` for the facilities ``wkb`` (id → WKB), and the positions of the areas that changed.

    Only the facilities added, moved or removed since ``cover`` are looked at:
    the areas their old or new discs touch are measured afresh, the others kept.
    """
    old, new = cover.wkb, wkb
    gone = [i for i in old if new.get(i) != old[i]]
    came = [i for i in new if old.get(i) != new[i]]
    if not gone and not came:
        return cover, np.empty(0, dtype=np.int64)
    position = {int(i): k for k, i in enumerate(cover.ids)}
    touched = np.concatenate([cover.discs[[position[i] for i in gone]],
                              discs(shapely.from_wkb([new[i] for i in came]), cover.radius, cover.factor)
                              if came else np.empty(0, dtype=object)])
    idx = np.unique(areas.tree.query(touched, predicate="intersects")[1])
    dropped = set(gone)
    keep = [k for k, i in enumerate(cover.ids) if int(i) not in dropped]
    ids = np.concatenate([cover.ids[keep], np.array(came, dtype=np.int64)])
    d = np.concatenate([cover.discs[keep], touched[len(gone):]])
    moved = replace(cover, wkb=dict(new), ids=ids, discs=d, tree=shapely.STRtree(d))
    return remeasure(areas, moved, idx), idx


def gaps(conn, srid: int, areas: Areas, cover: Cover, idx: np.ndarray) -> list[str]:
    """The uncovered part of the areas at ``idx`` as WGS84 GeoJSON (6 decimals), transformed by PostGIS."""
    parts = [areas.geoms[i] if cover.covered[i] is None else shapely.difference(areas.geoms[i], cover.covered[i])
             for i in idx]
    if not parts:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT ST_AsGeoJSON(ST_Transform(ST_GeomFromWKB(w, %s), 4326), 6) "
                    "FROM unnest(%s::bytea[]) WITH ORDINALITY u(w, n) ORDER BY n",
                    (srid, [shapely.to_wkb(p) for p in parts]))
        return [r[0] for r in cur.fetchall()]


class FreshState:
    """No state kept: every request loads the areas and draws every disc (the CLI, geo callers).

    :class:`layers.analysis.coverage_state.MaintainedState` has the same two
    methods and keeps both parts while the tables under them are unchanged.
    """

    def areas(self, conn, key: tuple, load: Callable[[], Areas]) -> Areas:
        """The areas ``load`` gives (``key`` names them for a store that keeps them)."""
        return load()

    def cover(self, conn, key: tuple, areas: Areas, table: str, wkb: Callable[[], dict],
              build: Callable[[dict], Cover]) -> Cover:
        """The cover ``build`` makes of the facilities ``wkb`` reads from ``table``."""
        return build(wkb())


def measures(areas: Areas, cover: Cover, idx: np.ndarray, gap_json: list[str] | None = None) -> list[tuple]:
    """Per area at ``idx``: (code, name, name_en, population, m², covered m², residential m² or None,
    covered residential m², outline GeoJSON, gap GeoJSON or None) — the rows geo.coverage reports from."""
    out = []
    for k, i in enumerate(idx):
        res = areas.res_m2[i]
        out.append((areas.codes[i], areas.names[i], areas.names_en[i], areas.pops[i], float(areas.m2[i]),
                    float(cover.cov[i]), None if np.isnan(res) else float(res), float(cover.res_cov[i]),
                    areas.outlines[i], gap_json[k] if gap_json is not None else None))
    return out
