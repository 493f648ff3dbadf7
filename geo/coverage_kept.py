"""A facility kind's coverage at its standard radius, kept in the database (migration 0760, :mod:`geo.kept`).

The maps, bulletins and what-if plans ask for the standard's radius over a
whole level again and again, and a process starting cold (one CLI run, a
restarted server) would draw and union every disc again. The part kept
here is :class:`geo.coverage_fast.Cover` without its discs (redrawn from the
kept facility geometries in milliseconds): per area its covered part and
what it covers, and the facilities it was measured from.

Its stamp covers the area tables and the facility table. When only the
facility table moved, the reader measures again the areas near the added,
moved or removed facilities (:func:`geo.coverage_fast.with_facilities`) and
writes back those rows only; when an area or land-use table moved, the
areas are new and the cover is built afresh.
"""

from __future__ import annotations

import numpy as np
import psycopg2
import shapely
from psycopg2.extras import execute_values

from geo import coverage_fast as fast
from geo import kept


def cover(conn, part: str, area_tables: tuple[str, ...], table: str, areas: fast.Areas, wkb: dict,
          radius: float, factor: float, srid: int) -> fast.Cover:
    """The cover of the facilities ``wkb`` over ``areas``: read from ``part``, updated near changed
    facilities, or built; the part stored (or its stale rows updated) on the way."""
    tables = area_tables + (table,)
    now, was = kept.stamp(conn, tables), kept.stored(conn, part)
    if was is not None and kept.same_on(was, now, area_tables):
        old = _read(conn, part, areas, radius, factor)
        if was == now:
            return old
        new, idx = fast.with_facilities(areas, old, wkb)
        kept.update(conn, part, tables, was, now, lambda cur: _write(cur, part, srid, areas, new, idx, old.wkb))
        return new
    new = fast.build_cover(areas, wkb, radius, factor)
    kept.store(conn, part, tables, now, lambda cur: _write(cur, part, srid, areas, new, np.arange(len(areas.codes))))
    return new


def _read(conn, part: str, areas: fast.Areas, radius: float, factor: float) -> fast.Cover:
    """The kept cover over ``areas`` (in their order; an area not kept is covered by nothing)."""
    with conn.cursor() as cur:
        cur.execute("SELECT id, geom FROM kept_cover_facilities WHERE part = %s ORDER BY id", (part,))
        wkb = {int(i): bytes(g) for i, g in cur.fetchall()}
        cur.execute("SELECT code, ST_AsBinary(discs), covered_m2, covered_res_m2 FROM kept_cover_areas "
                    "WHERE part = %s", (part,))
        rows = cur.fetchall()
    n, at = len(areas.codes), areas.index()
    covered, cov, res_cov = np.full(n, None, dtype=object), np.zeros(n), np.zeros(n)
    found = [(at[code], w, c, r) for code, w, c, r in rows if code in at]
    if found:
        idx = np.array([f[0] for f in found], dtype=np.int64)
        covered[idx] = shapely.from_wkb([bytes(f[1]) if f[1] is not None else None for f in found])
        cov[idx], res_cov[idx] = [f[2] for f in found], [f[3] for f in found]
    ids = np.fromiter(wkb, dtype=np.int64, count=len(wkb))
    d = fast.discs(shapely.from_wkb(list(wkb.values())), radius, factor) if wkb else np.empty(0, dtype=object)
    return fast.Cover(radius, factor, wkb, ids, d, shapely.STRtree(d), covered, cov, res_cov)


def _write(cur, part: str, srid: int, areas: fast.Areas, new: fast.Cover, idx: np.ndarray,
           old_wkb: dict | None = None) -> None:
    """Write the rows of the areas at ``idx`` and of the facilities changed since ``old_wkb`` (all when None)."""
    was = old_wkb or {}
    gone = [i for i in was if new.wkb.get(i) != was[i]]
    came = [(part, i, psycopg2.Binary(w)) for i, w in new.wkb.items() if was.get(i) != w]
    codes = [areas.codes[i] for i in idx]
    if old_wkb is not None:  # an update: the stale rows go first
        cur.execute("DELETE FROM kept_cover_facilities WHERE part = %s AND id = ANY(%s)", (part, gone))
        cur.execute("DELETE FROM kept_cover_areas WHERE part = %s AND code = ANY(%s)", (part, codes))
    execute_values(cur, "INSERT INTO kept_cover_facilities (part, id, geom) VALUES %s", came, page_size=1000)
    parts = [None if new.covered[i] is None else psycopg2.Binary(shapely.to_wkb(new.covered[i])) for i in idx]
    execute_values(cur, "INSERT INTO kept_cover_areas (part, code, discs, covered_m2, covered_res_m2) VALUES %s",
                   [(part, code, u, float(new.cov[i]), float(new.res_cov[i])) for code, u, i in zip(codes, parts, idx)],
                   template=f"(%s, %s, ST_GeomFromWKB(%s, {int(srid)}), %s, %s)", page_size=200)
