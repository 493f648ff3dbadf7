"""`serve` and `db status` against a database whose migrations are not this code's (ops findings F12, F6, F9 c).

An upgrade or reboot often starts the app before PostgreSQL: the migrations are then checked when the database is
first reached, never skipped. A database written by a newer hygiene-map (the code rolled back, a newer backup
restored) is refused by name. A server listening beyond this machine without HYGIENE_MAP_PUBLIC_URL says what its
links will hold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg2
import pytest

from data.cluster import EmbeddedCluster
from data.db import connect
from data.migrate import migrate
from data.settings import DatabaseSettings
from tests.chromium import free_port
from tests.conftest import create_database, drop_database

REPO = Path(__file__).resolve().parent.parent
NOWHERE = "postgresql://hm@127.0.0.1:1/nothing"  # no server: the database is down


def _env(extra: dict) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    return {**base, "PYTHONPATH": str(REPO), "HYGIENE_MAP_DB_CONNECT_TIMEOUT_S": "2", **extra}


def cli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=_env(env), capture_output=True, text=True,
                          cwd=REPO, timeout=120)


@contextmanager
def serving(args: list[str], env: dict):
    """`hygiene-map serve ARGS` on a free port until it answers; yields (base URL, a function reading its stderr)."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="hm-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), *args], env=_env(env),
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while "Uvicorn running" not in Path(log.name).read_text(errors="replace"):
            assert proc.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.2)
        yield base, lambda: Path(log.name).read_text(errors="replace")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


def _ours(stderr: str) -> list[str]:
    """The lines hygiene-map itself wrote (uvicorn's own start-up lines left out)."""
    return [line for line in stderr.splitlines() if line.startswith("hygiene-map")]


def _undo_print_jobs(url: str) -> None:
    """The database as an install one release older left it: 0900_print_jobs not applied."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE print_jobs CASCADE")
        cur.execute("DELETE FROM schema_migrations WHERE version = 900")


@pytest.fixture
def own_cluster():
    """A cluster of its own, migrated and then one migration older, so stopping it disturbs no other test."""
    home = Path(tempfile.mkdtemp(prefix="hm-schema-"))
    os.chmod(home, 0o755)
    settings = DatabaseSettings.from_env({"HYGIENE_MAP_HOME": str(home)})
    cluster = EmbeddedCluster(settings)
    cluster.init()
    cluster.start()
    conn = connect(settings)
    migrate(conn)
    conn.close()
    _undo_print_jobs(cluster.url())
    yield cluster, home
    cluster.stop()
    shutil.rmtree(home, ignore_errors=True)


def test_serve_started_before_the_database_checks_its_migrations_when_it_comes(own_cluster):
    """F12: the app came up before PostgreSQL, after an upgrade whose migration was not applied. It said nothing,
    /healthz said ok once the database came, and printing an atlas was a 500 (relation "print_jobs" does not exist).
    Now: one line at start, then 503s naming the migration until `db migrate`, then the service as usual."""
    cluster, home = own_cluster
    env = {"HYGIENE_MAP_HOME": str(home)}
    cluster.stop()
    with serving([], env) as (base, stderr):
        said = _ours(stderr())
        assert len(said) == 1 and "数据库暂时无法连接" in said[0] and "检查迁移" in said[0], stderr()
        assert httpx.get(base + "/healthz", timeout=30).json()["status"] == "unavailable"
        cluster.start()
        health = httpx.get(base + "/healthz", timeout=30)
        assert health.status_code == 503, health.text
        assert health.json()["detail_zh"] == "数据库缺少迁移 0900_print_jobs：请运行 hygiene-map db migrate"
        atlas = httpx.post(base + "/print/streets/6300600/atlas/jobs", params={"paper": "A4"},
                           headers={"Authorization": "Bearer not-checked-before-the-schema"}, timeout=30)
        answers = [atlas, *(httpx.get(base + path, timeout=30) for path in ("/", "/api/layers", "/api/complaints",
                                                                    "/tiles/complaints/16/54864/25396.pbf"))]
        for answer in answers:
            assert answer.status_code == 503, (answer.request.url, answer.status_code, answer.text[:300])
            assert "0900_print_jobs" in answer.text and "db migrate" in answer.text
        assert "Traceback" not in stderr() and "UndefinedTable" not in stderr()
        migrated = cli(["db", "migrate"], env)
        assert migrated.returncode == 0 and "0900_print_jobs" in migrated.stdout, migrated.stderr
        assert httpx.get(base + "/healthz", timeout=30).json()["status"] == "ok"
        assert httpx.get(base + "/api/layers", timeout=30).status_code == 200


@pytest.fixture
def newer_database(pg_server):
    """A database migrated by this code, then given a migration only a newer hygiene-map has."""
    url = create_database(pg_server[0])
    assert cli(["db", "migrate"], {"DATABASE_URL": url}).returncode == 0
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO schema_migrations (version, name) VALUES (910, 'future_thing')")
    yield url
    drop_database(url)


def test_a_database_of_a_newer_hygiene_map_is_refused_by_name(newer_database):
    """F6: serve started and `db status` said "0 pending" on a database a newer hygiene-map had migrated."""
    env = {"DATABASE_URL": newer_database}
    serve = cli(["serve", "--port", str(free_port())], env)
    lines = [line for line in serve.stderr.splitlines() if line.strip()]
    assert serve.returncode == 2 and len(lines) == 1, serve.stderr
    assert "0910_future_thing" in lines[0] and "更新版本" in lines[0] and "恢复升级前" in lines[0]
    status = cli(["db", "status"], env)
    assert "0910_future_thing" in status.stdout and "更新版本" in status.stdout, status.stdout
    assert status.returncode == 1  # a monitoring script sees a database this code cannot serve
    english = cli(["db", "status", "--lang", "en"], env)
    assert "migrations this hygiene-map does not know: 0910_future_thing" in english.stdout
    again = cli(["db", "migrate"], env)
    assert again.returncode == 2 and "0910_future_thing" in again.stderr and "数据库结构已是最新" not in again.stdout


def test_db_status_names_the_pending_migrations(pg_server):
    """F6 (minor): `db status` said "1 个待应用" without saying which."""
    url = create_database(pg_server[0])
    try:
        assert cli(["db", "migrate"], {"DATABASE_URL": url}).returncode == 0
        _undo_print_jobs(url)
        status = cli(["db", "status"], {"DATABASE_URL": url})
        assert "1 个待应用" in status.stdout and "待应用的迁移：0900_print_jobs" in status.stdout, status.stdout
    finally:
        drop_database(url)


@pytest.mark.parametrize("host,public_url,warned", [("0.0.0.0", None, True), ("0.0.0.0", "https://gis.city.gov.cn", False),
                                                    ("127.0.0.1", None, False)])
def test_serve_beyond_this_machine_without_a_public_url_says_what_links_hold(host, public_url, warned):
    """F9 c: with --host 0.0.0.0 and no HYGIENE_MAP_PUBLIC_URL, a QGIS user reaching the server by its DNS name got
    paging links to 127.0.0.1 behind a local proxy (or to an IP), with no word at start."""
    env = {"DATABASE_URL": NOWHERE} | ({"HYGIENE_MAP_PUBLIC_URL": public_url} if public_url else {})
    with serving(["--host", host], env) as (_, stderr):
        printed = stderr()
    said = [line for line in _ours(printed) if "HYGIENE_MAP_PUBLIC_URL" in line]
    if not warned:
        assert said == []
        return
    assert len(said) == 1, printed
    assert all(words in said[0] for words in ("0.0.0.0", "HYGIENE_MAP_ALLOWED_HOSTS", "127.0.0.1", "Host"))
