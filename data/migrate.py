"""Schema migrations: ordered SQL files in data/migrations, each applied once.

A file is named ``NNNN_what.sql``; its number is its version. Each file runs
in its own transaction and is recorded in ``schema_migrations``; an advisory
lock keeps two processes from migrating at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from data.errors import SetupError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x4879_6769  # "Hygi"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available() -> list[Migration]:
    """Every migration file, in version order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise SetupError(f"{path}: migration files are named NNNN_name.sql", f"{path}：迁移文件应命名为 NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise SetupError("two migration files share a version number in data/migrations",
                         "data/migrations 中有两个迁移文件的版本号相同")
    return found


def applied_versions(conn) -> set[int]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
        if not cur.fetchone()[0]:
            return set()
        cur.execute("SELECT version FROM schema_migrations")
        return {row[0] for row in cur.fetchall()}


def migrate(conn) -> list[Migration]:
    """Apply every migration not yet applied; return those applied now."""
    done: list[Migration] = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    conn.commit()
    try:
        with conn.cursor() as cur:
            cur.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version    integer PRIMARY KEY,
                       name       text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
        conn.commit()
        have = applied_versions(conn)
        for migration in available():
            if migration.version in have:
                continue
            sql = migration.path.read_text(encoding="utf-8")
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                conn.commit()
            except Exception as exc:
                conn.rollback()
                first = str(exc).strip().splitlines()[0]
                raise SetupError(f"migration {migration.path.name} failed: {first}",
                                 f"迁移 {migration.path.name} 失败：{first}") from None
            done.append(migration)
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
        conn.commit()
    return done
