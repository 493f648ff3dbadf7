"""Straight-line coverage in shapely, from state that can be kept between requests.

The answer is the one :mod:`geo.coverage` defines (equal-area 64-gon discs,
population spread over residential land), computed from two parts:

* :class:`Areas` — each area's valid metric outline and its residential land
  (the land-use class R polygons cut to the area, kept as pieces: land-use
  polygons form a partition, so their areas add up). They change only with
  the areas or the land use, never with the facilities: kept in the database
  (migration 0760) and rebuilt when those tables change (:func:`load_areas`).
* :class:`Cover` — one facility kind at one radius: each facility's disc, and
  per area the union of the discs that touch it, its covered area and its
  covered residential land. A changed facility changes only the areas its
  old or new disc touches (:func:`with_facilities`), so an update recomputes
  those few areas (:func:`remeasure`) and keeps the rest.

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
    unions: np.ndarray  # per area: the union of the discs touching it, or None
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
    """The :class:`Areas` of ``rows`` and their residential pieces (none unless ``population``)."""
    geoms = shapely.from_wkb([r[4] for r in rows]) if rows else np.empty(0, dtype=object)
    if not population:
        owner, pieces = np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    res_m2 = np.bincount(owner, shapely.area(pieces), minlength=len(geoms)).astype(float)
    res_m2[~np.isin(np.arange(len(geoms)), owner)] = np.nan
    return Areas([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], geoms,
                 shapely.area(geoms), [r[5] for r in rows], owner, pieces, res_m2, shapely.STRtree(geoms))


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
    """Each facility's disc as PostGIS draws it: points by the equal-area radius, lines and polygons by r."""
    radii = np.where(shapely.get_type_id(geoms) == 0, radius * factor, radius)
    return shapely.buffer(geoms, radii, quad_segs=16)


def build_cover(areas: Areas, wkb: dict, radius: float, factor: float) -> Cover:
    """Every facility's disc and what the discs cover in every area.

    Each area is measured as :func:`remeasure` measures it after an edit
    (the union of the discs touching it): a full build and an update then
    give the same figures to the last bit, so a facility added and removed
    again gives back the answer before. (Unioning every disc once and
    clipping the union to each area was a third faster at city scale, but
    its figures differ from the per-area union's in the 15th digit.)
    """
    ids = np.fromiter(wkb, dtype=np.int64, count=len(wkb))
    d = discs(shapely.from_wkb(list(wkb.values())), radius, factor) if wkb else np.empty(0, dtype=object)
    n = len(areas.codes)
    empty = Cover(radius, factor, dict(wkb), ids, d, shapely.STRtree(d), np.full(n, None, dtype=object),
                  np.zeros(n), np.zeros(n))
    return remeasure(areas, empty, np.arange(n))


def _res_cover(areas: Areas, unions: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Covered residential m² per area: each residential piece of the areas ``has`` cut by its area's union.

    A piece the union contains counts whole and one it misses not at all
    (prepared predicates, far cheaper than an overlay); only the pieces its
    boundary crosses are cut.
    """
    res_cov = np.zeros(len(areas.codes))
    sel = np.flatnonzero(np.isin(areas.res_owner, has))
    if len(sel):
        owner, pieces = areas.res_owner[sel], areas.res_pieces[sel]
        shapely.prepare(unions[has])
        inside = shapely.contains(unions[owner], pieces)
        cut = ~inside & shapely.intersects(unions[owner], pieces)
        shapely.destroy_prepared(unions[has])
        covered = np.where(inside, shapely.area(pieces), 0.0)
        covered[cut] = shapely.area(shapely.intersection(pieces[cut], unions[owner[cut]]))
        res_cov += np.bincount(owner, covered, minlength=len(res_cov))
    return res_cov


def remeasure(areas: Areas, cover: Cover, idx: np.ndarray) -> Cover:
    """``cover`` with the areas at positions ``idx`` measured afresh from its discs (a new Cover; ``cover`` is kept).

    Per area: the union of the discs whose disc intersects it, its intersection
    with the area (covered area) and with each residential piece (covered residential land).
    """
    idx = np.asarray(idx, dtype=np.int64)
    unions, cov, res_cov = cover.unions.copy(), cover.cov.copy(), cover.res_cov.copy()
    unions[idx], cov[idx], res_cov[idx] = None, 0.0, 0.0
    if len(idx) and len(cover.discs):
        gi, di = cover.tree.query(areas.geoms[idx], predicate="intersects")
        if len(gi):
            starts = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1]])
            for at, group in zip(idx[gi[starts]], np.split(di, starts[1:])):
                unions[at] = shapely.union_all(cover.discs[group])
        has = idx[np.array([unions[i] is not None for i in idx], dtype=bool)]
        cov[has] = shapely.area(shapely.intersection(areas.geoms[has], unions[has]))
        res_cov += _res_cover(areas, unions, has)
    return replace(cover, unions=unions, cov=cov, res_cov=res_cov)


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
    parts = [areas.geoms[i] if cover.unions[i] is None else shapely.difference(areas.geoms[i], cover.unions[i])
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
