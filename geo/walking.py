"""Walking service areas along the road network, with pgRouting.

The network is the ``roads`` layer: each road line is an edge between its
end points (snapped to 0.5 m so that lines meeting at a crossing share a
node), walkable both ways, cost = length in the metric CRS. Each facility
joins the network at its nearest node through a virtual edge as long as the
straight distance to it. ``pgr_drivingDistance`` (undirected, equicost:
every node keeps its nearest facility) gives the walking distance d of each
node within the radius r. An edge is reached from each end up to the
remaining budget r − d; those stretches of road, widened by
``WALK_ACCESS_M`` on each side (the walk from the road to a door), are the
walking service area. This is the line-based "service area" of network
analysis tools; it is smaller than the straight-line disc wherever the
roads make people detour.
"""

from __future__ import annotations

from data.errors import InvalidParameter

#: How far from a reachable road the service area extends (metres).
WALK_ACCESS_M = 100.0
#: Node snapping tolerance (metres): road ends closer than this are one node.
SNAP_M = 0.5


def has_roads(conn) -> bool:
    """True when the roads layer has at least one line."""
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM roads)")
        return bool(cur.fetchone()[0])


# Road ends snapped to SNAP_M and numbered: lines meeting at a crossing share a node.
_EDGES_SQL = """
    CREATE TEMP TABLE walk_edges AS
    WITH r AS (SELECT id, ST_Transform(geom, %(srid)s) AS g FROM roads),
    ends AS (
        SELECT id, g,
               round(ST_X(ST_StartPoint(g)) / %(snap)s) AS sx, round(ST_Y(ST_StartPoint(g)) / %(snap)s) AS sy,
               round(ST_X(ST_EndPoint(g)) / %(snap)s) AS tx, round(ST_Y(ST_EndPoint(g)) / %(snap)s) AS ty
        FROM r
    )
    SELECT e.id, ns.nid AS source, nt.nid AS target, ST_Length(e.g) AS cost, e.g
    FROM ends e
    JOIN (SELECT x, y, row_number() OVER (ORDER BY x, y) AS nid
          FROM (SELECT sx AS x, sy AS y FROM ends UNION SELECT tx, ty FROM ends) p) ns
         ON ns.x = e.sx AND ns.y = e.sy
    JOIN (SELECT x, y, row_number() OVER (ORDER BY x, y) AS nid
          FROM (SELECT sx AS x, sy AS y FROM ends UNION SELECT tx, ty FROM ends) p) nt
         ON nt.x = e.tx AND nt.y = e.ty
"""
_NODES_SQL = """
    CREATE TEMP TABLE walk_nodes AS
    SELECT DISTINCT ON (nid) nid, p FROM (
        SELECT source AS nid, ST_StartPoint(g) AS p FROM walk_edges
        UNION ALL SELECT target, ST_EndPoint(g) FROM walk_edges) n ORDER BY nid
"""
# Virtual edges: facility → its nearest node (ids below every road id), as long as the straight walk to it.
_FACILITY_EDGES_SQL = """
    INSERT INTO walk_edges (id, source, target, cost, g)
    SELECT -f.id, -f.id, n.nid, n.d, NULL
    FROM {table} f CROSS JOIN LATERAL (
        SELECT nid, ST_Distance(p, ST_Transform(f.geom, %(srid)s)) AS d FROM walk_nodes
        ORDER BY p <-> ST_Transform(f.geom, %(srid)s) LIMIT 1) n
    WHERE {where} AND GeometryType(f.geom) = 'POINT' AND n.d <= %(radius)s
"""
# Equicost: each node keeps the distance to its nearest facility only, one Dijkstra for all of them.
_REACHED_SQL = """
    CREATE TEMP TABLE walk_reached AS
    SELECT node, min(agg_cost) AS d FROM pgr_drivingDistance(
        'SELECT id, source, target, cost, cost AS reverse_cost FROM walk_edges',
        coalesce((SELECT array_agg(source) FROM walk_edges WHERE id < 0), ARRAY[]::bigint[]),
        %(radius)s, directed := false, equicost := true)
    WHERE node > 0 GROUP BY node
"""
# Each edge is walked in from either end up to the budget left there (r − d); an edge whose two
# budgets together exceed its length is walked whole.
_COVER_SQL = """
    CREATE TEMP TABLE walk_cover AS
    WITH budget AS (
        SELECT e.g, e.cost AS len,
               coalesce(%(radius)s - s.d, -1) AS bs, coalesce(%(radius)s - t.d, -1) AS bt
        FROM walk_edges e LEFT JOIN walk_reached s ON s.node = e.source
             LEFT JOIN walk_reached t ON t.node = e.target
        WHERE e.id > 0 AND (s.node IS NOT NULL OR t.node IS NOT NULL) AND e.cost > 0
    ),
    stretches AS (
        SELECT g FROM budget WHERE bs + bt >= len
        UNION ALL
        SELECT ST_LineSubstring(g, 0, least(1.0, bs / len)) FROM budget WHERE bs + bt < len AND bs > 0
        UNION ALL
        SELECT ST_LineSubstring(g, greatest(0.0, 1 - bt / len), 1) FROM budget WHERE bs + bt < len AND bt > 0
    )
    SELECT ST_Union(ST_Buffer(g, %(access)s, 'quad_segs=4')) AS g FROM stretches
"""


def build_walk_cover(conn, table_sql, where_sql, srid: int, radius_m: float, access_m: float = WALK_ACCESS_M) -> int:
    """Create the temporary table ``walk_cover(g)`` holding the walking service area in the metric CRS.

    Parameters
    ----------
    conn : psycopg2 connection
        The tables live in this session (dropped first if they exist).
    table_sql, where_sql : psycopg2.sql.Composable
        The facility table and its row filter.
    srid : int
        The metric CRS.
    radius_m : float
        Walking distance budget.
    access_m : float
        Width added on each side of reached roads.

    Returns
    -------
    int
        Number of network nodes reached.
    """
    from psycopg2 import sql

    if access_m < 0 or access_m > radius_m:
        raise InvalidParameter("access", f"must be between 0 and the radius, not {access_m:g}",
                               f"须在 0 至服务半径之间，不能是 {access_m:g}")
    params = {"srid": srid, "snap": SNAP_M, "radius": radius_m, "access": access_m}
    with conn.cursor() as cur:
        # 1. The network: road edges between snapped nodes, then the facilities joined to it.
        cur.execute("DROP TABLE IF EXISTS walk_edges, walk_nodes, walk_reached, walk_cover")
        cur.execute(_EDGES_SQL, params)
        cur.execute(_NODES_SQL)
        cur.execute("CREATE INDEX ON walk_nodes USING gist (p)")
        cur.execute(sql.SQL(_FACILITY_EDGES_SQL).format(table=table_sql, where=where_sql), params)
        # 2. Walking distance of every node within the radius from its nearest facility.
        cur.execute(_REACHED_SQL, params)
        cur.execute("SELECT count(*) FROM walk_reached")
        reached = int(cur.fetchone()[0])
        # 3. The reached stretches of road, widened by the walk from road to door.
        cur.execute(_COVER_SQL, params)
    return reached
