"""Complaints counted into hexagons in numpy, for a cell size whose counts the database does not keep yet.

A size asked for the first time was binned by one SQL pass over every complaint (``hm_hex_q`` / ``hm_hex_r``
per row, then a GROUP BY): 3.5 s on the city demo's 1,000,000 complaints, and again for every new size a planner
tried (150 m, 200 m, 400 m), while the background fill of that size (:func:`geo.hotspot_counts.register`) ran
beside it on the same two cores. Here the complaints' metric coordinates are read once (binary COPY, 16 bytes a
complaint), and each size is cube-rounded in numpy with the very arithmetic of migration 0750's functions (its
constants as PostgreSQL folds them), so every complaint lands in the same cell as the SQL puts it. The read of all
complaints is what the analysis keeps between requests while no complaint changes (:mod:`layers.analysis.hotspots`),
so a second new size is numpy alone.
"""

from __future__ import annotations

import io

import numpy as np

#: A binary COPY row of two float8 columns: field count, then (length, value) per column; big-endian.
_ROW = np.dtype([("fields", ">i2"), ("x_len", ">i4"), ("x", ">f8"), ("y_len", ">i4"), ("y", ">f8")])
#: The binary COPY header (signature, flags, extension length) and trailer.
_HEADER, _TRAILER = 19, 2


def read(conn, srid: int, where: str = "true", params: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The metric (x, y) of the complaints matching ``where`` in CRS ``srid`` (migration 0300's stored pair, else
    projected by PostGIS as :func:`geo.hotspot_counts.binned_sql` does), in one binary COPY."""
    params = dict(params or {}, srid=srid)
    with conn.cursor() as cur:
        query = cur.mogrify(f"""
            SELECT metric_x, metric_y FROM complaints WHERE metric_srid = %(srid)s AND {where}
            UNION ALL
            SELECT ST_X(ST_Transform(geom, %(srid)s)), ST_Y(ST_Transform(geom, %(srid)s)) FROM complaints
            WHERE metric_srid IS DISTINCT FROM %(srid)s AND {where}""", params).decode()
        buf = io.BytesIO()
        cur.copy_expert(f"COPY ({query}) TO STDOUT (FORMAT binary)", buf)
    raw = buf.getbuffer()
    rows = np.frombuffer(raw, dtype=_ROW, count=(len(raw) - _HEADER - _TRAILER) // _ROW.itemsize, offset=_HEADER)
    return rows["x"].astype(np.float64), rows["y"].astype(np.float64)


def constants(conn) -> tuple[float, float]:
    """√3/3 and 2/3 as migration 0750's functions use them: numeric literals folded by PostgreSQL, then float8
    (its √3/3 is 0.5773502691896256, one unit in the last place below the float's own)."""
    with conn.cursor() as cur:
        cur.execute("SELECT (sqrt(3.0) / 3.0)::float8, (2.0 / 3.0)::float8")
        return cur.fetchone()


def cells(x: np.ndarray, y: np.ndarray, size: float, consts: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The axial (q, r) of each point's hexagon of edge ``size``: ``hm_hex_q`` / ``hm_hex_r`` operation by
    operation (the same IEEE products and sums, ``round`` half to even as PostgreSQL's float8 ``round``)."""
    third, two_thirds = consts
    fq = (third * x - y / 3.0) / size
    fr = (two_thirds * y) / size
    rq, rr = np.rint(fq), np.rint(fr)
    rs = np.rint(-fq - fr)
    dq, dr = np.abs(rq - fq), np.abs(rr - fr)
    ds = np.abs(rs + fq + fr)
    q_moved = (dq > dr) & (dq > ds)
    q = np.where(q_moved, -rr - rs, rq)
    r = np.where(q_moved, rr, np.where(dr > ds, -rq - rs, rr))
    return q.astype(np.int64), r.astype(np.int64)


def counts(x: np.ndarray, y: np.ndarray, size: float, consts: tuple[float, float]) -> np.ndarray:
    """Rows (q, r, n) of the points per hexagon, as :func:`geo.hotspot_counts.counts` answers them; points too far
    out for an integer hexagon left out, as the SQL leaves them."""
    fits = (np.abs(x) < 5e8 * size) & (np.abs(y) < 5e8 * size)
    q, r = cells(x[fits], y[fits], size, consts)
    if q.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    q0, r0 = int(q.min()), int(r.min())
    width, height = int(q.max()) - q0 + 1, int(r.max()) - r0 + 1
    if width * height <= max(4 * q.size, 1 << 20):
        # The cells' rectangle is small (a city at street scale): one dense tally, 10× faster than sorting keys.
        tally = np.bincount((q - q0) * height + (r - r0), minlength=width * height)
        key = np.flatnonzero(tally)
        return np.column_stack([key // height + q0, key % height + r0, tally[key]]).astype(np.int64)
    # Points spread far apart (a stray complaint kilometres out): one integer key per cell, sorted.
    key, n = np.unique((q - q0) * height + (r - r0), return_counts=True)
    return np.column_stack([key // height + q0, key % height + r0, n]).astype(np.int64)


def scatter(q: np.ndarray, r: np.ndarray, binned: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts in the order of the city cells, zero where a cell had none; and the count outside them."""
    counts = np.zeros(q.size, dtype=np.int64)
    if binned.size == 0:
        return counts, 0
    if q.size == 0:
        return counts, int(binned[:, 2].sum())
    # One integer key per (q, r), then a sorted search of the binned keys among the cells' keys.
    q0, r0 = min(q.min(), binned[:, 0].min()), min(r.min(), binned[:, 1].min())
    height = int(max(r.max(), binned[:, 1].max()) - r0 + 1)
    key_cells = (q - q0) * height + (r - r0)
    key_binned = (binned[:, 0] - q0) * height + (binned[:, 1] - r0)
    order = np.argsort(key_cells)
    pos = np.searchsorted(key_cells[order], key_binned)
    pos = np.clip(pos, 0, q.size - 1)
    found = key_cells[order][pos] == key_binned
    counts[order[pos[found]]] = binned[found, 2]
    return counts, int(binned[~found, 2].sum())
