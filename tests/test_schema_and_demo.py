"""Migrations and the demo city, against a real PostGIS."""

from __future__ import annotations

import pytest

from data.db import connect, transaction
from data.demo.city import generate
from data.demo.load import load
from data.demo.model import metric_origin
from data.migrate import available, migrate
from layers.spec.registry import layer_ids


def _checksums(conn) -> dict[str, str]:
    out = {}
    with conn.cursor() as cur:
        for table in layer_ids():
            cur.execute(
                f"SELECT md5(string_agg(md5(t::text), '' ORDER BY id)) FROM "
                f"(SELECT id, ST_AsEWKB(geom)::text AS g, to_jsonb(x) - 'updated_at' - 'id' - 'geom' AS a "
                f" FROM {table} x) t"
            )
            out[table] = cur.fetchone()[0]
    return out


def test_migrations_apply_once_on_an_empty_database(fresh_db):
    conn = connect(url=fresh_db)
    first = migrate(conn)
    assert [m.version for m in first] == [m.version for m in available()]
    assert migrate(conn) == []
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_migrations")
        assert cur.fetchone()[0] == len(available())
        # Every layer table is named after its id, with a 4326 `geom` column and a GiST index.
        for table in layer_ids():
            cur.execute("SELECT srid FROM geometry_columns WHERE f_table_name = %s AND f_geometry_column = 'geom'",
                        (table,))
            assert cur.fetchone() == (4326,), table
            cur.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE '%%USING gist (geom)%%'",
                (table,),
            )
            assert cur.fetchone()[0] == 1, table
    conn.close()


def test_small_demo_is_deterministic_by_seed(fresh_db, pg_server):
    from tests.conftest import create_database, drop_database

    conn = connect(url=fresh_db)
    migrate(conn)
    with transaction(conn):
        load(conn, generate("small", 7))
    first = _checksums(conn)
    with transaction(conn):
        load(conn, generate("small", 7))  # reloading replaces, never adds
    again = _checksums(conn)
    other_url = create_database(pg_server[0])
    other = connect(url=other_url)
    try:
        migrate(other)
        with transaction(other):
            load(other, generate("small", 8))
        different = _checksums(other)
    finally:
        other.close()
        drop_database(other_url)
    conn.close()
    assert first == again
    assert first["complaints"] != different["complaints"]
    assert first["toilets"] != different["toilets"]


def test_every_layer_has_rows_and_only_valid_geometries(demo_conn):
    with demo_conn.cursor() as cur:
        for table in layer_ids():
            cur.execute(f"SELECT count(*), count(*) FILTER (WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)) FROM {table}")
            rows, invalid = cur.fetchone()
            assert rows > 0, table
            assert invalid == 0, table


def test_admin_areas_nest_and_carry_population(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT level, count(*) FROM admin_areas GROUP BY level")
        levels = dict(cur.fetchall())
        assert levels == {"district": 2, "street": 4, "community": 16}
        # Every child lies in its parent, and parents' populations are their children's sums.
        cur.execute(
            """SELECT c.code FROM admin_areas c JOIN admin_areas p ON p.code = c.parent_code
               WHERE ST_Area(ST_Difference(c.geom, p.geom)::geography) > 1"""
        )
        assert cur.fetchall() == []
        cur.execute(
            """SELECT p.code, p.population, sum(c.population) FROM admin_areas p
               JOIN admin_areas c ON c.parent_code = p.code GROUP BY 1, 2 HAVING p.population <> sum(c.population)"""
        )
        assert cur.fetchall() == []
        cur.execute("SELECT count(*) FROM admin_areas WHERE code !~ '^3799[0-9]{2}([0-9]{3}){0,2}$'")
        assert cur.fetchone()[0] == 0


def test_complaints_lie_inside_the_city_and_are_routed_to_their_grid(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute(
            """SELECT count(*) FROM complaints c WHERE NOT EXISTS
                 (SELECT 1 FROM admin_areas a WHERE a.level = 'district' AND ST_Intersects(a.geom, c.geom))"""
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            """SELECT count(*) FROM complaints c JOIN grids g ON g.code = c.grid_code
               WHERE ST_Intersects(g.geom, c.geom)"""
        )
        routed = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints")
        assert routed == cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints WHERE street_code <> left(grid_code, 9)")
        assert cur.fetchone()[0] == 0


def test_grids_tile_their_communities_without_overlaps(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute(
            """WITH g AS (SELECT community_code, ST_Transform(geom, 32651) AS geom FROM grids),
                    per AS (SELECT community_code, sum(ST_Area(geom)) AS summed, ST_Area(ST_Union(geom)) AS unioned,
                                   ST_Union(geom) AS u FROM g GROUP BY 1)
               SELECT a.code, per.summed, per.unioned, ST_Area(ST_Transform(a.geom, 32651)) AS area,
                      ST_Area(ST_SymDifference(per.u, ST_Transform(a.geom, 32651))) AS diff
               FROM admin_areas a JOIN per ON per.community_code = a.code WHERE a.level = 'community'"""
        )
        rows = cur.fetchall()
        cur.execute("SELECT count(*) FROM admin_areas WHERE level = 'community'")
        assert len(rows) == cur.fetchone()[0]
        for code, summed, unioned, area, diff in rows:
            assert summed == pytest.approx(unioned, rel=1e-6), f"grids overlap in {code}"
            assert diff < 1e-4 * area, f"grids do not cover community {code}"


def test_grid_codes_follow_the_standard_and_reading_order(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT code, community_code FROM grids")
        rows = cur.fetchall()
        assert all(len(code) == 14 and code.startswith(comm) for code, comm in rows)
        # Numbered north→south, then west→east, by the fishnet cell each grid was cut from…
        cur.execute(
            """SELECT community_code, code, (attributes->>'row')::int, (attributes->>'col')::int FROM grids"""
        )
        by_community: dict[str, list] = {}
        for community, code, row, col in cur.fetchall():
            by_community.setdefault(community, []).append((code, row, col))
        for community, grids in by_community.items():
            by_code = [c for c, _, _ in sorted(grids)]
            by_reading = [c for c, _, _ in sorted(grids, key=lambda g: (-g[1], g[2]))]
            assert by_code == by_reading, community
        # …and that cell (in the generator's frame, centred on the city) is where
        # the grid is: its biggest share lies in it.
        e0, n0 = metric_origin()
        cur.execute(
            """SELECT code FROM grids g,
                 LATERAL (SELECT ST_Transform(g.geom, 32651) AS m) t,
                 LATERAL (SELECT ST_MakeEnvelope(%(e)s + c * s, %(n)s + r * s,
                                                 %(e)s + (c + 1) * s, %(n)s + (r + 1) * s, 32651) AS cell
                          FROM (SELECT (attributes->>'row')::int r, (attributes->>'col')::int c,
                                       (attributes->>'cell_m')::float s) k) e
               WHERE ST_Area(ST_Intersection(t.m, e.cell)) < 0.5 * ST_Area(t.m)""",
            {"e": e0, "n": n0},
        )
        assert cur.fetchall() == []


def test_city_settings_mark_the_demo(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT is_demo, metric_srid, name FROM city_settings")
        is_demo, srid, name = cur.fetchone()
    assert is_demo is True and srid == 32651 and "演示" in name


def test_demo_has_real_gaps_and_clusters(demo_conn):
    """The analyses need something to find: toilet gaps and complaint clusters."""
    with demo_conn.cursor() as cur:
        cur.execute(
            """SELECT 1 - ST_Area(ST_Intersection(ST_Union(ST_Buffer(t.geom::geography, 300)::geometry),
                                               (SELECT ST_Union(geom) FROM admin_areas WHERE level='district')))
                      / ST_Area((SELECT ST_Union(geom) FROM admin_areas WHERE level='district'))
               FROM toilets t"""
        )
        gap_share = cur.fetchone()[0]
        assert 0.2 < gap_share < 0.95
        cur.execute(
            """SELECT max(n)::float / avg(n) FROM (SELECT grid_code, count(*) n FROM complaints GROUP BY 1) s"""
        )
        assert cur.fetchone()[0] > 5
