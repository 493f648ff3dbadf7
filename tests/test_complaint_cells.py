"""Pre-counted complaint cells (migration 0200): exact, kept up to date by triggers, same tiles as the raw count."""

from __future__ import annotations

import mapbox_vector_tile
import orjson
import pytest

from data.db import connect, transaction
from data.demo.city import generate
from data.demo.load import load
from data.migrate import migrate
from data.settings import TileSettings
from layers.spec.registry import get_layer
from layers.store.features import FeatureQuery, feature_query
from layers.store.heat import get_heat_cells
from layers.store.tile_counts import heat_sql
from layers.store.tiles import Tile, get_tile
from tests.test_layers_api import tile_of

RECOUNT = ("SELECT cx, cy, n FROM (SELECT complaint_cell_x(geom) AS cx, complaint_cell_y(geom) AS cy, count(*) AS n "
           "FROM complaints GROUP BY 1, 2) r ORDER BY 1, 2")
STORED = "SELECT cx, cy, n FROM complaint_cells WHERE n > 0 ORDER BY 1, 2"


def _rows(cur, statement):
    cur.execute(statement)
    return cur.fetchall()


@pytest.fixture
def writable_city(writable_demo):
    conn = connect(url=writable_demo)
    yield conn
    conn.rollback()
    conn.close()


def test_cells_stay_exact_through_insert_move_status_delete_and_truncate(writable_city):
    conn = writable_city
    with conn.cursor() as cur:
        assert _rows(cur, STORED) == _rows(cur, RECOUNT) and _rows(cur, STORED)
        cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                    "SELECT 'cells-test', id::text, category, now(), ST_Translate(geom, 0.01, 0.01) "
                    "FROM complaints ORDER BY id LIMIT 50")
        assert _rows(cur, STORED) == _rows(cur, RECOUNT)
        cur.execute("UPDATE complaints SET geom = ST_Translate(geom, -0.02, 0.005) WHERE id % 7 = 0")
        assert _rows(cur, STORED) == _rows(cur, RECOUNT)
        before = _rows(cur, STORED)
        cur.execute("UPDATE complaints SET status = '结案' WHERE id % 5 = 0")
        assert _rows(cur, STORED) == before
        # Complaints with history cannot be deleted (append-only events): delete the ones added here.
        cur.execute("DELETE FROM complaints WHERE source = 'cells-test' AND id % 3 = 0")
        assert cur.rowcount > 0
        assert _rows(cur, STORED) == _rows(cur, RECOUNT)
        cur.execute("TRUNCATE complaints CASCADE")
        assert _rows(cur, STORED) == []
    conn.commit()


def test_tiles_from_cells_equal_tiles_counted_from_every_complaint(demo_conn):
    spec = get_layer("complaints")
    with demo_conn.cursor() as cur:
        cur.execute("SELECT ST_X(ST_Centroid(ST_Extent(geom))), ST_Y(ST_Centroid(ST_Extent(geom))) FROM complaints")
        lon, lat = cur.fetchone()
    extent = TileSettings.from_env().extent
    for z in (9, 11, 13):
        x, y = tile_of(lon, lat, z)
        fast = mapbox_vector_tile.decode(get_tile(demo_conn, spec, Tile(z, x, y), feature_query(spec)))
        statement, params = heat_sql(spec, Tile(z, x, y), FeatureQuery(), extent)
        with demo_conn.cursor() as cur:
            cur.execute(statement, params)
            slow = mapbox_vector_tile.decode(bytes(cur.fetchone()[0]))

        def cells(decoded):
            return sorted((tuple(f["geometry"]["coordinates"]), f["properties"]["count"])
                          for f in decoded["complaints"]["features"])

        assert cells(fast) == cells(slow) and cells(fast), z


def test_heat_endpoint_from_cells_counts_every_complaint(demo_conn):
    spec = get_layer("complaints")
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*), ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)), "
                    "ST_YMax(ST_Extent(geom)) FROM complaints")
        total, *box = cur.fetchone()
    for zoom in (8, 10, 13):
        body = orjson.loads(get_heat_cells(demo_conn, spec, zoom, feature_query(spec, bbox=tuple(box))))
        assert sum(c[2] for c in body["cells"]) == total
        lats = [c[0] for c in body["cells"]]
        lons = [c[1] for c in body["cells"]]
        assert box[1] - 0.02 < min(lats) and max(lats) < box[3] + 0.02
        assert box[0] - 0.02 < min(lons) and max(lons) < box[2] + 0.02


def test_a_database_counted_with_0200_is_recounted_by_0201(fresh_db):
    """Databases migrated before 0201 (152 m cells, already holding complaints) end up exact too."""
    from data.migrate import available

    conn = connect(url=fresh_db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())")
        for m in available():
            if m.version <= 200:
                cur.execute(m.path.read_text(encoding="utf-8"))
                cur.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (m.version, m.name))
    conn.commit()
    with transaction(conn):
        load(conn, generate("small", 1))
    with conn.cursor() as cur:
        old_cells = len(_rows(cur, STORED))
    assert [m.version for m in migrate(conn)][0] == 201
    with conn.cursor() as cur:
        stored = _rows(cur, STORED)
        assert stored == _rows(cur, RECOUNT) and len(stored) > old_cells
        cur.execute("SELECT sum(n) FROM complaint_cells")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM complaints")
        assert total == cur.fetchone()[0]
    conn.close()
