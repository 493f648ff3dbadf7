"""Taipei imported from nothing for the planner's tests (real files, ../shared/real-data/taipei).

Taipei's 12 districts (and their district offices as streets), 456 villages (里, as communities), 1,544 public
toilets, 4,024 garbage-truck stops and 300 complaints at those stops; no population, no land use, no roads: what a
city has on its first day. The fixtures build it once per test module that imports them
(tests/test_planner_taipei*.py). Credits: data.taipei (Open Government Data License, Taiwan 1.0).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from data.db import connect, transaction
from data.migrate import migrate
from layers.analysis import registry
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from layers.workflow.access import add_user
from tests.conftest import REPO, create_database, drop_database, query, real_data

WHATIF = "/api/analysis/coverage/whatif"
#: Two points in 大同區 (the 300 m gaps of 景星里 and 國順里) that a siting run on Taipei proposes.
DATONG = [{"op": "add", "lon": 121.507996, "lat": 25.064684}, {"op": "add", "lon": 121.506896, "lat": 25.073699}]


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's URL and an admin token: districts, villages, toilets and garbage-truck stops imported."""
    url = create_database(pg_server[0])
    work = tmp_path_factory.mktemp("taipei-plans")
    conn = connect(url=url)
    try:
        migrate(conn)
        for name, layer, options in (
                ("taipei_districts_town.geojson", "admin_areas",
                 {"level": "district", "code_field": "CPID", "name_field": "TNAME"}),
                ("taipei_districts_town.geojson", "admin_areas",  # the district offices (區公所) as streets
                 {"level": "street", "code_field": "CPTID", "name_field": "TNAME", "parent_field": "CPID"}),
                ("taipei_villages_li.geojson", "admin_areas",
                 {"level": "community", "code_field": "CPTVID", "name_field": "VNAME", "parent_field": "CPTID"}),
                ("taipei_public_toilets.csv", "toilets", {}), ("taipei_garbage_truck_stops.csv", "garbage_stations", {})):
            with transaction(conn):
                import_file(conn, real_data(f"taipei/{name}", work), ImportOptions(layer, skip_bad=True, **options))
        with transaction(conn):
            import_file(conn, _complaints(conn, work), ImportOptions("complaints"))
        token = add_user(conn, "taipei-planner", "planner", created_by="test")[1]
        conn.commit()
    finally:
        conn.close()
    yield {"url": url, "token": token}
    drop_database(url)


def _complaints(conn, work):
    """A 12345-hotline export of 300 complaints at real garbage-truck stops, two in three of them in 大同區."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom), street_code = '6300600' FROM garbage_stations ORDER BY source_id")
        stops = cur.fetchall()
    datong, rest = [s for s in stops if s[2]], [s for s in stops if not s[2]]
    now = datetime.now(UTC).replace(microsecond=0)
    path = work / "taipei_12345.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "上报时间"])
        for i in range(300):
            lon, lat, _ = rest[(i * 7) % len(rest)] if i % 3 == 0 else datong[i % len(datong)]
            writer.writerow([f"TP{i:05d}", f"{lon:.6f}", f"{lat:.6f}", "暴露垃圾", (now - timedelta(hours=5 * i + 1)).isoformat()])
    return path


@pytest.fixture
def client(taipei, env_for):
    from api.app import create_app

    env_for(taipei["url"])
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {taipei['token']}"
        yield c


@pytest.fixture(scope="module")
def taipei_base(taipei):
    """Taipei served by uvicorn (the browser's server)."""
    from tests.chromium import serve_app

    with serve_app(taipei["url"]) as base:
        yield base


def plans_count(taipei) -> int:
    return query(taipei["url"], "SELECT count(*) FROM coverage_plans")[0][0]


def sheet_rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def analysis_report(taipei, name: str, lang: str, **raw):
    """What `hygiene-map analyze NAME` prints (its head, headers, rows and tail), computed on Taipei."""
    analysis = registry.load(name)
    conn = connect(url=taipei["url"])
    try:
        args = analysis.parse(raw)
        return analysis.report(analysis.compute(conn, args), args, lang)
    finally:
        conn.close()


def workbook(taipei, name: str, tmp_path, lang: str = "zh", **raw) -> tuple[dict, list[dict]]:
    """(the GeoJSON, the rows of `hygiene-map analyze NAME --out x.xlsx` read back by header) on Taipei."""
    from layers.analysis.encode import write

    analysis = registry.load(name)
    conn = connect(url=taipei["url"])
    try:
        args = analysis.parse(raw)
        result = analysis.compute(conn, args)
        body = json.loads(analysis.geojson(result, args, lang))
        write(tmp_path / "x.xlsx", analysis.rows(result), lambda: b"", lang, name)
    finally:
        conn.close()
    rows = sheet_rows((tmp_path / "x.xlsx").read_bytes())
    return body, [dict(zip(rows[0], row)) for row in rows[1:]]


def analyze(taipei, cwd, *args) -> subprocess.CompletedProcess:
    """`hygiene-map analyze ARGS` run on Taipei in ``cwd``, as typed in a shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    env.update(DATABASE_URL=taipei["url"], PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "api.cli", "analyze", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
