"""The real cities of the end-to-end tests, built from nothing on the real files (issue 14), as a user would.

:class:`City` drives a city's database and working folder through the `hygiene-map` command (a subprocess, as
typed in a shell) and the HTTP API of a real server (uvicorn): no demo, no row written by a test itself except
through those two doors. The fixtures build **Taipei** (districts, villages, toilets, garbage-truck stops,
grids of 大同區 with a roster, complaints) and **Yantai** (its 11 Gaode district outlines read as GCJ-02) once
per test module that imports them; tests/test_real_city.py and tests/test_yantai_city.py say what is checked.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import openpyxl
import pytest

from tests.conftest import REPO, create_database, drop_database, query, real_data

CLI = [sys.executable, "-m", "api.cli"]
READY_MAP = "window.hygieneMapState && hygieneMapState.ready && hygieneMapState.pending === 0"
READY_ANALYSIS = "window.hygieneAnalysisState && window.hygieneAnalysisState.ready === true"
READY_GRIDS = ("document.body.getAttribute('data-grids-loaded') !== null && "
               "document.body.getAttribute('data-complaints-loaded') !== null")
ARTIFACTS = REPO / "var" / "test-artifacts" / "real-city"

#: The district office (區公所) whose villages are cut into grids: 大同區, 25 villages, 4.8 km².
TAIPEI_STREET = "6300600"
TAIPEI_FILES = ("taipei_districts_town.geojson", "taipei_villages_li.geojson", "taipei_public_toilets.csv",
                "taipei_garbage_truck_stops.csv")



@dataclass
class City:
    """One city's database and working folder, driven through the command line and a server."""

    url: str
    work: Path
    base: str | None = None  # the server's base URL once it runs
    token: str | None = None  # an admin token from `users add`
    log: dict = field(default_factory=dict)

    def cli(self, *args, check: bool = True, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run ``hygiene-map ARGS`` in the working folder, as a user would in a shell (``env``: its own settings)."""
        extra = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
        env.update(DATABASE_URL=self.url, PYTHONPATH=str(REPO), **extra)
        words = [str(a) for a in args]
        done = subprocess.run([*CLI, *words], cwd=self.work, env=env, capture_output=True, text=True,
                              timeout=timeout)
        if check:
            assert done.returncode == 0, (f"`hygiene-map {' '.join(words)}` exited {done.returncode}:\n"
                                          f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Rows of a read-only query (the test's own check of what the commands wrote)."""
        return query(self.url, statement, params)

    def one(self, query: str, params: tuple = ()):
        return self.sql(query, params)[0][0]

    def get(self, path: str, **params) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.get(self.base + path, params=params or None, headers=headers, timeout=120)


@contextlib.contextmanager
def new_city(pg_server, tmp_path_factory, folder: str, files) -> Iterator[City]:
    """A :class:`City` over a new database, with ``files`` of the real data's ``folder`` copied into its working
    folder (as a user downloads them); the database is dropped afterwards."""
    url = create_database(pg_server[0])
    work = tmp_path_factory.mktemp(folder)
    for name in files:
        real_data(f"{folder}/{name}", work)
    try:
        yield City(url, work)
    finally:
        drop_database(url)


def metric_crs_fits(srid: int, lon: float, lat: float):
    """The pyproj CRS of ``srid``, checked to be projected, in metres, and true to 0.1 % at (lon, lat)."""
    from pyproj import CRS, Proj

    crs = CRS.from_epsg(srid)
    assert crs.is_projected, crs.name
    assert all(axis.unit_name in ("metre", "meter") for axis in crs.axis_info), crs.axis_info
    factors = Proj(crs).get_factors(lon, lat)
    assert abs(factors.meridional_scale - 1) < 0.001 and abs(factors.parallel_scale - 1) < 0.001, (crs.name, factors)
    return crs


def grids_assigned(city: City, street: str, size: int, contact, reason: str) -> list[str]:
    """``street`` cut into ``size`` m grids, its roster filled in with ``contact(row)`` → (unit, manager, phone)
    for each spreadsheet row and loaded back (the commands' outputs in ``city.log``); the grid codes, in order."""
    city.log["generate"] = city.cli("grids", "generate", "--street", street, "--size", size)
    city.cli("grids", "roster", "--street", street, "--out", "roster.xlsx")
    book = openpyxl.load_workbook(city.work / "roster.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    columns = [header.index(h) + 1 for h in ("责任单位", "网格长", "联系电话")]
    for row in range(2, sheet.max_row + 1):
        for column, value in zip(columns, contact(row), strict=True):
            sheet.cell(row, column, value)
    book.save(city.work / "roster-filled.xlsx")
    city.log["assign"] = city.cli("grids", "assign", "roster-filled.xlsx", "--reason", reason, "--lang", "en")
    return [code for (code,) in city.sql("SELECT code FROM grids WHERE street_code = %s ORDER BY code", (street,))]



def taipei_areas(city: City) -> None:
    """Taipei's districts, its district offices (區公所, the street level) and villages imported with the command
    line into ``city`` (whose folder holds TAIPEI_FILES' first two); the first import's output in ``city.log``."""
    city.log["first_import"] = city.cli(
        "import", "admin_areas", "taipei_districts_town.geojson", "--level", "district",
        "--code-field", "CPID", "--name-field", "TNAME")
    city.cli("import", "admin_areas", "taipei_districts_town.geojson", "--level", "street",
             "--code-field", "CPTID", "--name-field", "TNAME", "--parent-field", "CPID",
             "--source", "taipei_district_offices")
    city.cli("import", "admin_areas", "taipei_villages_li.geojson", "--level", "community",
             "--code-field", "CPTVID", "--name-field", "VNAME", "--parent-field", "CPTID")


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's boundaries, toilets and garbage-truck stops imported with the command line into a new database."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES) as city:
        taipei_areas(city)
        city.log["toilets"] = city.cli("import", "toilets", "taipei_public_toilets.csv", "--skip-bad")
        city.log["garbage"] = city.cli("import", "garbage_stations", "taipei_garbage_truck_stops.csv", "--skip-bad")
        yield city


@pytest.fixture(scope="module")
def taipei_grids(taipei):
    """大同區's villages cut into 500 m grids, and a filled-in roster loaded back."""
    return grids_assigned(taipei, TAIPEI_STREET, 500,
                          lambda row: (f"大同區清潔隊第{row % 4 + 1}分隊", f"網格長{row:03d}", f"02-2597-{row:04d}"), "首次指定")


@pytest.fixture(scope="module")
def taipei_server(taipei, taipei_grids):
    """The app over Taipei, served by uvicorn on a free port, with an admin token from `users add`."""
    from tests.chromium import serve_app

    taipei.token = taipei.cli("users", "add", "taipei-admin", "--role", "admin").stdout.strip().splitlines()[-1]
    with serve_app(taipei.url) as base:
        taipei.base = base
        yield taipei


def _complaints_file(city: City) -> Path:
    """A 12345-hotline style export: 400 complaints at real garbage-truck stops, half of them in 大同區."""
    stops = city.sql("SELECT ST_X(geom), ST_Y(geom), coalesce(attributes->>'地點', name, ''), street_code = %s "
                     "FROM garbage_stations ORDER BY source_id", (TAIPEI_STREET,))
    datong = [s for s in stops if s[3]]
    rest = [s for s in stops if not s[3]]
    categories = ["暴露垃圾", "垃圾满溢", "道路不洁", "病媒生物", "乱倒污水"]
    now = datetime.now(UTC).replace(microsecond=0)
    out = city.work / "taipei_12345.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度", "事件类型", "描述", "渠道", "上报时间"])
        for i in range(400):
            lon, lat, place, _ = datong[i % len(datong)] if i % 2 else rest[(i * 7) % len(rest)]
            reported = now - timedelta(hours=7 * i + 1)
            writer.writerow([f"TP{i:05d}", f"{lon:.6f}", f"{lat:.6f}", categories[i % len(categories)],
                             f"{place} 附近", "12345", reported.isoformat()])
    return out


@pytest.fixture(scope="module")
def taipei_complaints(taipei_server):
    city = taipei_server
    city.log["complaints"] = city.cli("import", "complaints", _complaints_file(city).name)
    posted = []
    for i, (lon, lat) in enumerate(city.sql(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
            "WHERE street_code = %s ORDER BY code LIMIT 5", (TAIPEI_STREET,))):
        answer = httpx.post(city.base + "/api/complaints", headers={"Authorization": f"Bearer {city.token}"},
                            json={"lon": lon, "lat": lat, "category": "暴露垃圾", "source": "巡查",
                                  "description": f"巡查發現 {i}"}, timeout=30)
        assert answer.status_code == 201, answer.text
        posted.append(answer.json())
    return posted


def page_checks(city: City, browser, path: str, ready: str | None, shot: str):
    """``path`` served (200), drawn in Chromium within a minute with no console error, failed request or
    other host; a screenshot under var/test-artifacts/real-city/ ``shot``."""
    answer = city.get(path)  # an error page would only time out in the browser: say why at once
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    report = browser.open(city.base + path, ready_js=ready, timeout=60)
    browser.screenshot(ARTIFACTS / shot)
    assert not report.timed_out, f"{path} did not finish drawing"
    assert report.console_errors == [], (path, report.console_errors)
    assert report.failed_requests == [], (path, report.failed_requests)
    assert report.other_hosts(city.base) == [], (path, report.other_hosts(city.base))
    return report


def log_in(browser, city: City, path: str, ready: str, timeout: float = 90) -> None:
    """Log in with the city's admin token in the browser's login form, which then opens ``path``; back when
    ``ready`` holds (or ``timeout`` seconds), and half a second more: the session's CSRF token has come."""
    browser.open(f"{city.base}/login?next={quote(path)}", ready_js="!!document.getElementById('token')")
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(city.token)};"
                     "document.querySelector('form').submit()")
    deadline = time.monotonic() + timeout
    while not browser.evaluate(ready) and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(0.5)


@pytest.fixture(scope="module")
def yantai(pg_server, tmp_path_factory):
    """烟台市 established by `city init`, then its 11 real district outlines (Gaode, GCJ-02)."""
    with new_city(pg_server, tmp_path_factory, "china", ["yantai_districts_gaode.geojson"]) as city:
        city.cli("city", "init", "--name", "烟台市", "--code", "370600")
        city.log["import"] = city.cli("import", "admin_areas", "yantai_districts_gaode.geojson", "--crs", "gcj02",
                                      "--level", "district", "--code-field", "adcode", "--name-field", "name")
        yield city



@contextlib.contextmanager
def hongkong_planner(pg_server, work: Path, populations: dict[str, int] | None = None) -> Iterator[dict]:
    """Hong Kong's 18 districts (with ``populations`` by district code, if given) and the FEHD toilets in a database
    of their own, and a planner's token: ``{"url", "token"}``; the database dropped after."""
    from data.db import connect, transaction
    from data.migrate import migrate
    from layers.io.importing import import_file
    from layers.io.options import ImportOptions
    from layers.workflow.access import add_user

    url = create_database(pg_server[0])
    conn = connect(url=url)
    try:
        migrate(conn)
        with transaction(conn):
            import_file(conn, real_data("hongkong/hk_district_council_2001_dc_land.json", work),
                        ImportOptions("admin_areas", level="district", code_field="DC_CODE", name_field="DC_CHIN",
                                      name_en_field="DC_ENG"))
        with transaction(conn):
            import_file(conn, real_data("hongkong/hk_fehd_public_toilets.json", work),
                        ImportOptions("toilets", skip_bad=True))
        with transaction(conn), conn.cursor() as cur:
            for code, population in (populations or {}).items():
                cur.execute("UPDATE admin_areas SET population = %s WHERE code = %s", (population, code))
        token = add_user(conn, "hk-planner", "planner", created_by="test")[1]
        conn.commit()
    finally:
        conn.close()
    try:
        yield {"url": url, "token": token}
    finally:
        drop_database(url)


@contextlib.contextmanager
def planner_client(city: dict, env_for) -> Iterator:
    """A TestClient of the app on ``city`` (from :func:`hongkong_planner`), sending its planner's token."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    env_for(city["url"])
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {city['token']}"
        yield c
