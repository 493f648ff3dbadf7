"""Small helpers of the import and export tests: read rows, points inside the demo's communities, a CSV."""

from __future__ import annotations

import numpy as np

from data.db import transaction


def rows(conn, query: str, *params):
    """All rows of a read-only query; the transaction is ended so the caller's next import starts clean."""
    with conn.cursor() as cur:
        cur.execute(query, params)
        out = cur.fetchall()
    conn.rollback()
    return out


def city_points(conn, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n WGS84 points inside the demo city's communities."""
    got = rows(conn, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
               "WHERE level = 'community' ORDER BY code LIMIT %s) x", n)
    return np.array([g[0] for g in got]), np.array([g[1] for g in got])


def write_csv(path, header, lines, encoding="utf-8"):
    """A CSV of ``header`` and ``lines`` (no quoting: the tests' values hold no comma) at ``path``."""
    path.write_text("\n".join([",".join(header), *[",".join(map(str, r)) for r in lines]]) + "\n", encoding=encoding)
    return path


def empty_complaints(conn) -> None:
    """No complaints (and fresh statistics), so an import of a few rows is a bulk load that drops the indexes."""
    with transaction(conn), conn.cursor() as cur:
        cur.execute("TRUNCATE complaints CASCADE")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ANALYZE complaints")
    conn.autocommit = False
