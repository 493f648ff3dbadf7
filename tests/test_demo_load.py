"""The demo's bulk load (data.demo.bulk): the tables and derived tables as the triggers would leave them."""

from __future__ import annotations

import pytest

from data.db import connect, transaction
from data.demo import load as demo_load
from data.demo.city import generate
from data.migrate import migrate


def _schema(cur) -> tuple:
    """Every index, constraint and trigger (and whether it is on) of the public schema."""
    cur.execute("""SELECT c.relname || ' ' || pg_get_indexdef(i.indexrelid) FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1""")
    indexes = cur.fetchall()
    cur.execute("""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated
                   FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""")
    constraints = cur.fetchall()
    cur.execute("SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal "
                "ORDER BY 1, 2")
    return indexes, constraints, cur.fetchall()


@pytest.fixture()
def conn(fresh_db):
    conn = connect(url=fresh_db)
    migrate(conn)
    yield conn
    conn.close()


def test_the_bulk_load_leaves_what_the_triggers_would(conn):
    with conn.cursor() as cur:
        before = _schema(cur)
        # A kept hot-spot grid: a statement of more than 5,000 complaints makes it forgotten (migration 0750).
        cur.execute("INSERT INTO hotspot_grids (cell_m, srid, tz) VALUES (170, 32651, 'Asia/Shanghai')")
        cur.execute("SELECT count(*) FROM data_changes WHERE table_name = 'complaints'")
        stamps = cur.fetchone()[0]
    conn.commit()
    with transaction(conn):
        counts = demo_load.load(conn, generate("small", 1))
    with conn.cursor() as cur:
        assert _schema(cur) == before
        cur.execute("SELECT count(*) FROM complaints")
        assert cur.fetchone()[0] == counts["complaints"] == 6000
        # The cells as a fresh count of the table.
        cur.execute("""SELECT count(*) FROM (SELECT cx, cy, n FROM complaint_cells EXCEPT ALL
                       SELECT complaint_cell_x(geom), complaint_cell_y(geom), count(*) FROM complaints
                       GROUP BY 1, 2) d""")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT sum(n) FROM complaint_cells")
        assert cur.fetchone()[0] == 6000
        # The metric pair as the row trigger computes it, in the city's CRS.
        cur.execute("""SELECT count(*) FROM complaints WHERE metric_srid <> 32651
                       OR metric_x <> ST_X(ST_Transform(geom, 32651)) OR metric_y <> ST_Y(ST_Transform(geom, 32651))""")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM hotspot_grids")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM data_changes WHERE table_name = 'complaints'")
        assert cur.fetchone()[0] > stamps
        cur.execute("SELECT count(*), count(DISTINCT complaint_id) FROM complaint_events")
        assert cur.fetchone() == (6000, 6000)
        # One history row per facility, as the row trigger writes it.
        cur.execute("""SELECT count(*) FROM toilets t LEFT JOIN facility_changes f
                           ON f.table_name = 'toilets' AND f.facility_id = t.id AND f.op = 'added'
                       WHERE f.id IS NULL OR f.name IS DISTINCT FROM t.name OR f.category IS DISTINCT FROM t.kind
                          OR f.street_code IS DISTINCT FROM t.street_code OR NOT ST_Equals(f.geom, t.geom)""")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM facility_changes WHERE table_name = 'toilets'")
        assert cur.fetchone()[0] == counts["toilets"]


def test_a_failure_while_making_the_rows_leaves_the_database_as_it_was(conn, monkeypatch):
    with transaction(conn):
        demo_load.load(conn, generate("small", 1))
    with conn.cursor() as cur:
        before = _schema(cur)
        cur.execute("SELECT count(*), sum(id) FROM complaints")
        rows = cur.fetchone()
    made = demo_load._complaint_chunks

    def failing(city, metric):
        chunks = made(city, metric)
        yield next(chunks)
        raise ValueError("broken generator")

    monkeypatch.setattr(demo_load, "COMPLAINT_CHUNK", 1000)
    monkeypatch.setattr(demo_load, "_complaint_chunks", failing)
    with pytest.raises(ValueError, match="broken generator"), transaction(conn):
        demo_load.load(conn, generate("small", 2))
    with conn.cursor() as cur:
        assert _schema(cur) == before
        cur.execute("SELECT count(*), sum(id) FROM complaints")
        assert cur.fetchone() == rows


def test_a_metric_pair_unlike_postgis_is_projected_again_on_the_server(conn, monkeypatch):
    real = demo_load.Transformer

    class Skewed:
        """PROJ giving other doubles than PostGIS's (another version, another pipeline)."""

        @staticmethod
        def from_crs(*args, **kwargs):
            project = real.from_crs(*args, **kwargs)

            class Off:
                @staticmethod
                def transform(x, y):
                    mx, my = project.transform(x, y)
                    return mx + 0.5, my

            return Off()

    monkeypatch.setattr(demo_load, "Transformer", Skewed)
    with transaction(conn):
        demo_load.load(conn, generate("small", 1))
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*) FROM complaints WHERE metric_srid <> 32651
                       OR metric_x <> ST_X(ST_Transform(geom, 32651)) OR metric_y <> ST_Y(ST_Transform(geom, 32651))""")
        assert cur.fetchone()[0] == 0


def test_the_demo_over_a_city_in_another_crs_keeps_its_grids_lattice(conn):
    """The demo's grids record their fishnet's origin in the demo's own metric CRS; loaded over a city kept in
    another CRS (Taipei's TWD97 here), that origin must not be re-projected as if it were the old city's."""
    from data.catalog import city_info, write_city
    from data.demo.model import METRIC_SRID, metric_origin

    with transaction(conn):
        write_city(conn, code="710000", name="台北市", metric_srid=3826, time_zone="Asia/Taipei")
    with transaction(conn):
        demo_load.load(conn, generate("small", 1))
    assert city_info(conn)["metric_srid"] == METRIC_SRID
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT attributes->'origin' FROM grids")
        origins = [r[0] for r in cur.fetchall()]
    assert origins == [[round(v, 3) for v in metric_origin()]]
