"""Test fixtures: a real PostGIS, started by the project's own code.

The session starts a throw-away embedded cluster (the same code path users
get from `hygiene-map db up`) in a temporary directory, or uses
HYGIENE_MAP_TEST_DATABASE_URL's server when given. Each test that needs a
clean database asks for `fresh_db`, a new database in that server; one that writes to the demo city
asks for its own copy of it (`writable_demo`, `module_demo`), copied from a template loaded once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from data.cluster import EmbeddedCluster
from data.db import connect, transaction
from data.settings import DatabaseSettings

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO.parent / "shared" / "real-data"


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``: (size, mtime in ns) by relative path."""
    found = {}
    for path in [folder, *folder.rglob("*")] if folder.exists() else []:
        st = path.lstat()
        found[str(path.relative_to(folder))] = (st.st_size if path.is_file() else 0, st.st_mtime_ns)
    return found


@pytest.fixture(autouse=True, scope="session")
def real_data_untouched():
    """Fail the session when a test wrote into shared/real-data: the users' folder, read-only by design, which
    root (the tests' user here) could still write into; a test copies what it imports (:func:`real_data`)."""
    before = _listing(REAL_DATA)
    yield
    after = _listing(REAL_DATA)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if changed:
        pytest.fail(f"tests changed {REAL_DATA} (copy real data with tests.conftest.real_data, pass --rejects "
                    f"into tmp_path): {', '.join(changed)}", pytrace=False)


def _with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def pg_server():
    """(admin URL, cluster or None) of the server the tests use."""
    external = os.environ.get("HYGIENE_MAP_TEST_DATABASE_URL")
    if external:
        yield external, None
        return
    home = Path(tempfile.mkdtemp(prefix="hm-test-"))
    os.chmod(home, 0o755)
    settings = DatabaseSettings.from_env({"HYGIENE_MAP_HOME": str(home)})
    cluster = EmbeddedCluster(settings)
    cluster.init()
    cluster.start()
    try:
        yield cluster.url(), cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def create_database(admin_url: str, template: str | None = None) -> str:
    """A new database of the server ``admin_url`` (a copy of the database ``template`` when given); its URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(_with_dbname(admin_url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        if template:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return _with_dbname(admin_url, name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = psycopg2.connect(_with_dbname(url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a read-only query on its own connection: a test's own check of what the code under test wrote."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture
def fresh_db(pg_server):
    """The URL of a new, empty database (no migrations), dropped afterwards."""
    url = create_database(pg_server[0])
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def demo_template(pg_server):
    """The name of a database holding the small demo city (seed 1), loaded once a session and never
    connected to again: :func:`demo_copy` copies it (CREATE DATABASE … TEMPLATE needs it idle)."""
    from data.demo.city import generate
    from data.demo.load import load
    from data.migrate import migrate

    url = create_database(pg_server[0])
    conn = connect(url=url)
    migrate(conn)
    with transaction(conn):
        load(conn, generate("small", 1))
    conn.close()
    yield urlsplit(url).path.lstrip("/")
    drop_database(url)


@contextmanager
def demo_copy(pg_server, demo_template) -> Iterator[str]:
    """The URL of a new database holding the small demo city, for tests that write; dropped afterwards."""
    url = create_database(pg_server[0], template=demo_template)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def writable_demo(pg_server, demo_template):
    """The URL of this test's own copy of the small demo city (:func:`demo_copy`), dropped afterwards."""
    with demo_copy(pg_server, demo_template) as url:
        yield url


@pytest.fixture(scope="module")
def module_demo(pg_server, demo_template):
    """The URL of a copy of the small demo city shared by one test module, whose tests write to it."""
    with demo_copy(pg_server, demo_template) as url:
        yield url


@pytest.fixture(scope="session")
def demo_db(pg_server, demo_template):
    """A database with the small demo city (seed 1) loaded, shared read-only by tests.

    Tests that write use their own copy instead: `writable_demo` (one per test) or `module_demo` (one per
    test module), or `fresh_db` for an empty database.
    """
    with demo_copy(pg_server, demo_template) as url:
        yield url


@pytest.fixture
def demo_conn(demo_db):
    conn = connect(url=demo_db)
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture
def env_for(monkeypatch):
    """Point the process environment (and so the CLI and the app) at a database URL."""

    def apply(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)

    return apply


@pytest.fixture
def demo_client(demo_db, env_for):
    """A FastAPI test client of the app over the small demo city."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    env_for(demo_db)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def real_data(relative: str, tmp_path: Path) -> Path:
    """Copy a file (or a shapefile's siblings) from shared/real-data into tmp_path; never edit originals."""
    src = REAL_DATA / relative
    if not src.exists():
        pytest.skip(f"real data not present: {src}")
    stem = src.with_suffix("")
    for sibling in src.parent.glob(stem.name + ".*"):
        if not sibling.name.endswith(".rejects.csv"):  # not a stale rejects file an older run left beside it
            shutil.copy(sibling, tmp_path / sibling.name)
    return tmp_path / src.name


@pytest.fixture(scope="module")
def server(demo_db):
    """The app over the small demo city, served by uvicorn on a free localhost port (its base URL)."""
    from tests.chromium import serve_app

    with serve_app(demo_db) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (skipped where it is not installed)."""
    from tests.chromium import Chromium, chromium_binary

    if chromium_binary() is None:
        pytest.skip("chromium is not installed")
    chromium = Chromium()
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def module_fresh_db(pg_server):
    """A new, empty database (no migrations) shared by one test module, dropped after it.

    For an end-to-end module that builds one city step by step (tests/test_readme.py); a test that needs a
    clean database of its own uses `fresh_db`.
    """
    url = create_database(pg_server[0])
    yield url
    drop_database(url)
