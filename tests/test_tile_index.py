"""Raw complaint tiles read from the tile index (migration 0790), on the small demo.

The index answers the same features, with the same columns for each viewer,
as the table read through its GiST index; a tile cut short by the feature cap
keeps the first complaints by id, wherever they lie in the tile.
"""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from layers.spec.registry import get_layer
from layers.store import tiles
from layers.store.features import feature_query
from layers.store.tiles import get_tile, parse_tile
from layers.workflow.access import User


def features(data: bytes) -> dict[int, tuple]:
    """id → (tile-grid point, sorted properties) of a complaints tile."""
    layer = mapbox_vector_tile.decode(data).get("complaints", {"features": []})
    return {f["id"]: (tuple(f["geometry"]["coordinates"]), tuple(sorted(f["properties"].items())))
            for f in layer["features"]}


def busiest_tiles(conn, z: int, n: int) -> list[tuple[int, int]]:
    """The ``n`` tiles at zoom ``z`` holding the most complaints."""
    with conn.cursor() as cur:
        cur.execute("SELECT floor((ST_X(geom) + 180) / 360 * 2 ^ %(z)s)::int AS x, "
                    "floor((1 - asinh(tan(radians(ST_Y(geom)))) / pi()) / 2 * 2 ^ %(z)s)::int AS y "
                    "FROM complaints GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT %(n)s", {"z": z, "n": n})
        return [tuple(r) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def street(demo_db):
    from data.db import connect

    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT street_code FROM complaints GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        code = cur.fetchone()[0]
    conn.close()
    return code


@pytest.mark.parametrize("viewer", ["public", "street", "admin"])
def test_tiles_from_the_index_hold_what_the_table_holds(demo_conn, street, monkeypatch, viewer):
    spec = get_layer("complaints")
    user = {"public": None, "street": User(2, "jie", "street", street_code=street),
            "admin": User(1, "root", "admin")}[viewer]
    query = feature_query(spec, viewer=user)
    compared = 0
    for z in (15, 16, 18, 22):
        for x, y in busiest_tiles(demo_conn, z, 3):
            # Neighbours too: their buffers hold the points on the shared edges.
            for tile in (parse_tile(z, x, y), parse_tile(z, x + 1, y), parse_tile(z, x, y + 1)):
                from_index = features(get_tile(demo_conn, spec, tile, query))
                with monkeypatch.context() as m:
                    m.setattr(tiles, "KEY_MIN_ZOOM", 99)  # the GiST index and the table, as before 0790
                    from_table = features(get_tile(demo_conn, spec, tile, query))
                assert from_index == from_table, (viewer, tile)
                compared += len(from_index)
    assert compared > 100


def test_public_complaint_tiles_carry_only_public_columns(demo_conn, street):
    spec = get_layer("complaints")
    x, y = busiest_tiles(demo_conn, 16, 1)[0]
    public = features(get_tile(demo_conn, spec, parse_tile(16, x, y), feature_query(spec)))
    admin = features(get_tile(demo_conn, spec, parse_tile(16, x, y), feature_query(spec, viewer=User(1, "root", "admin"))))
    shown = {key for _, props in public.values() for key, _ in props}
    assert shown and shown <= {"category", "reported_at", "status", "channel", "address", "due_at", "street_code",
                               "grid_code"}
    assert not shown & {"description", "attributes", "closed_at", "district_code", "community_code"}
    assert public.keys() == admin.keys()


def test_a_capped_tile_keeps_the_first_complaints_by_id(demo_conn, monkeypatch):
    spec = get_layer("complaints")
    x, y = busiest_tiles(demo_conn, 16, 1)[0]
    tile = parse_tile(16, x, y)
    everything = features(get_tile(demo_conn, spec, tile))
    assert len(everything) > 20
    monkeypatch.setenv("HYGIENE_MAP_TILE_MAX_FEATURES", "7")
    capped = features(get_tile(demo_conn, spec, tile))
    assert sorted(capped) == sorted(everything)[:7]
    assert all(capped[i] == everything[i] for i in capped)
