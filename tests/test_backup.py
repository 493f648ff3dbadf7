"""Backup and restore: a restored database has the same rows and geometries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from data.db import connect, transaction
from data.demo.city import generate
from data.demo.load import load
from data.migrate import migrate
from layers.spec.registry import layer_ids

REPO = Path(__file__).resolve().parent.parent


def _fingerprint(url: str) -> dict[str, tuple]:
    conn = connect(url=url)
    out = {}
    with conn.cursor() as cur:
        for table in [*layer_ids(), "grid_assignments", "complaint_events", "city_settings", "schema_migrations"]:
            geom = "md5(string_agg(ST_AsEWKB(geom)::text, '' ORDER BY id))" if table in layer_ids() else "NULL"
            cur.execute(f"SELECT count(*), {geom} FROM {table}")
            out[table] = cur.fetchone()
    conn.close()
    return out


def _cli(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url},
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_restore_into_an_empty_database_gives_identical_rows_and_geometries(fresh_db, pg_server, tmp_path):
    from tests.conftest import create_database, drop_database

    conn = connect(url=fresh_db)
    migrate(conn)
    with transaction(conn):
        load(conn, generate("small", 3))
    conn.close()
    dump = tmp_path / "city.dump"
    made = _cli(["db", "backup", "--out", str(dump)], fresh_db)
    assert made.returncode == 0, made.stderr
    assert dump.stat().st_size > 10_000
    target = create_database(pg_server[0])
    try:
        restored = _cli(["db", "restore", str(dump)], target)
        assert restored.returncode == 0, restored.stderr
        assert _fingerprint(target) == _fingerprint(fresh_db)
        # Restoring over a database that already has the schema is refused, with nothing changed.
        again = _cli(["db", "restore", str(dump)], target)
        assert again.returncode != 0 and "目标数据库不是空的" in again.stderr and "Traceback" not in again.stderr
        assert _fingerprint(target) == _fingerprint(fresh_db)
    finally:
        drop_database(target)


def test_backup_to_a_missing_folder_is_a_one_line_error(fresh_db, tmp_path):
    result = _cli(["db", "backup", "--out", str(tmp_path / "nowhere" / "x.dump")], fresh_db)
    assert result.returncode != 0
    assert "hygiene-map：错误：无法把备份写到" in result.stderr and "不存在" in result.stderr
    assert "Traceback" not in result.stderr
