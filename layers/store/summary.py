"""SQL about layers as a whole: counts and the city they belong to."""

from __future__ import annotations

from psycopg2 import sql

from layers.spec.model import LayerSpec
from layers.spec.registry import LAYERS

# Above this many rows (by the planner's estimate) a layer's count is the
# estimate itself: no COUNT(*) over a big table per request.
EXACT_COUNT_LIMIT = 200_000


def layer_counts(conn, specs: tuple[LayerSpec, ...] = LAYERS) -> dict[str, tuple[int, bool]]:
    """Row count per layer id, as (count, exact). Large tables report the planner's estimate."""
    out: dict[str, tuple[int, bool]] = {}
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(%s)",
            ([s.table for s in specs],),
        )
        estimates = dict(cur.fetchall())
        for spec in specs:
            estimate = estimates.get(spec.table, -1)
            if estimate > EXACT_COUNT_LIMIT:
                out[spec.id] = (int(estimate), False)
            else:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(spec.table)))
                out[spec.id] = (cur.fetchone()[0], True)
    return out




def server_versions(conn) -> dict[str, str]:
    """PostgreSQL and PostGIS versions (what /healthz reports)."""
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), postgis_lib_version()")
        pg, postgis = cur.fetchone()
    return {"postgresql": pg, "postgis": postgis}
