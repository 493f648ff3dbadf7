"""GDAL's OAPIF driver (system gdal-bin) reads /ogc of the small demo, served by uvicorn on a free port.

Every layer is listed; ogr2ogr copies every layer to a GeoPackage with the
same feature ids, geometries and properties as the database.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal

import httpx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from psycopg2 import sql

from layers.spec.registry import LAYERS

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ogc_server(demo_db):
    """Base URL of the app over the small demo, served by uvicorn in a child process."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": demo_db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        # Not a pipe: nobody reads it, and a full pipe would block the server.
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _gdal(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ogrinfo_lists_every_layer(ogc_server):
    out = _gdal("ogrinfo", "-ro", "-q", f"OAPIF:{ogc_server}/ogc")
    listed = re.findall(r"^\d+: (\w+)", out, flags=re.M)
    assert listed == [spec.id for spec in LAYERS]


def _db_rows(conn, spec):
    columns = sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(c)) for c in spec.columns)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT id, ST_AsBinary(geom){} FROM {} ORDER BY id").format(
            columns, sql.Identifier(spec.table)))
        return cur.fetchall()


def _same_value(db, copied) -> bool:
    if db is None:
        return copied is None or (isinstance(copied, float) and math.isnan(copied)) or copied is pd.NaT
    if isinstance(db, datetime):
        return pd.Timestamp(copied) == pd.Timestamp(db)
    if isinstance(db, (Decimal, float)) and not isinstance(db, bool):
        return math.isclose(float(copied), float(db), rel_tol=1e-9)
    if isinstance(db, bool):
        return bool(copied) is db
    return copied == db or str(copied) == str(db)


def test_ogr2ogr_copies_every_layer_unchanged(ogc_server, demo_conn, tmp_path):
    from layers.workflow.access import add_user

    # As an admin (every column; anonymous copies lack the staff-only ones): GDAL sends the token on each request.
    _, token = add_user(demo_conn, f"gdal-{os.getpid()}-{time.monotonic_ns()}", "admin", created_by="test")
    demo_conn.commit()
    gpkg = tmp_path / "copy.gpkg"
    # One page of 2,000 for every layer but complaints (6,000 rows: three pages and an empty one).
    _gdal("ogr2ogr", "--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}", "-preserve_fid", "-f", "GPKG",
          str(gpkg), f"OAPIF:{ogc_server}/ogc", "-oo", "PAGE_SIZE=2000")
    for spec in LAYERS:
        rows = _db_rows(demo_conn, spec)
        assert rows, f"{spec.id} is empty in the demo"
        copied = pyogrio.read_dataframe(gpkg, layer=spec.id, fid_as_index=True)
        # Same features: every id exactly once (the GeoPackage fid is the feature id).
        assert sorted(copied.index.tolist()) == [r[0] for r in rows], spec.id
        copied = copied.loc[[r[0] for r in rows]]
        # Same geometries, to the 1e-6° (≈ 0.1 m) the service writes.
        db_geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
        same = shapely.equals_exact(np.asarray(copied.geometry.values), db_geoms, tolerance=1.1e-6)
        assert same.all(), f"{spec.id}: {int((~same).sum())} geometries differ, e.g. id {rows[int(np.argmin(same))][0]}"
        assert (shapely.get_type_id(np.asarray(copied.geometry.values)) == shapely.get_type_id(db_geoms)).all()
        # Same properties.
        for i, column in enumerate(spec.columns):
            if column == "id":
                continue
            values = copied[column].tolist()
            bad = [(r[0], r[2 + i], v) for r, v in zip(rows, values) if not _same_value(r[2 + i], v)]
            assert not bad, f"{spec.id}.{column}: {len(bad)} values differ, e.g. {bad[0]}"


def test_gdal_spatial_filter_is_answered_by_the_server(ogc_server, demo_conn, tmp_path):
    """ogr2ogr -spat sends bbox=…; the copy holds exactly the toilets whose point is in the box."""
    with demo_conn.cursor() as cur:
        # The south-west quarter of the toilets' extent.
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), (ST_XMin(e) + ST_XMax(e)) / 2, (ST_YMin(e) + ST_YMax(e)) / 2"
                    " FROM (SELECT ST_Extent(geom) e FROM toilets) s")
        box = tuple(round(v, 6) for v in cur.fetchone())
        cur.execute("SELECT id FROM toilets WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
                    " ORDER BY id", box)
        expected = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM toilets")
        total = cur.fetchone()[0]
    assert 0 < len(expected) < total
    gpkg = tmp_path / "box.gpkg"
    _gdal("ogr2ogr", "-preserve_fid", "-f", "GPKG", str(gpkg), f"OAPIF:{ogc_server}/ogc", "toilets",
          "-spat", *map(str, box), "-oo", "PAGE_SIZE=7")
    copied = pyogrio.read_dataframe(gpkg, layer="toilets", fid_as_index=True)
    assert sorted(copied.index.tolist()) == expected


def test_gdal_reads_an_ogc_tile_with_its_times_as_text(ogc_server, demo_conn, tmp_path):
    """GDAL's MVT driver (as QGIS uses it) reads an OGC tile of complaints: the features in it, with
    ``reported_at`` as the same ISO 8601 text the OGC features give, not a number of seconds."""
    with demo_conn.cursor() as cur:
        cur.execute("""SELECT tx, ty FROM (SELECT floor((ST_X(geom) + 180) / 360 * 65536)::int AS tx,
                         floor((1 - asinh(tan(radians(ST_Y(geom)))) / pi()) / 2 * 65536)::int AS ty
                         FROM complaints) c GROUP BY tx, ty ORDER BY count(*) DESC LIMIT 1""")
        x, y = cur.fetchone()
    tile = httpx.get(f"{ogc_server}/ogc/collections/complaints/tiles/WebMercatorQuad/16/{y}/{x}", timeout=30)
    assert tile.status_code == 200
    path = tmp_path / "16" / str(x) / f"{y}.pbf"  # the driver reads z/x/y from the path
    path.parent.mkdir(parents=True)
    path.write_bytes(tile.content)
    info = _gdal("ogrinfo", "-ro", "-al", str(path))
    assert re.search(r"^reported_at: String", info, re.M), info[:2000]
    shown = re.findall(r"^\s+reported_at \(String\) = (\S+)$", info, re.M)
    assert shown and all(datetime.fromisoformat(v) for v in shown)
    first_id = int(re.search(r"^\s+mvt_id \(Integer64\) = (\d+)$", info, re.M).group(1))
    item = httpx.get(f"{ogc_server}/ogc/collections/complaints/items/{first_id}", timeout=30).json()
    assert shown[0] == item["properties"]["reported_at"]
