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


def applied_rows(conn) -> dict[int, str]:
    """``{version: name}`` of every migration the database records as applied (empty before the first)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        return dict(cur.fetchall())


@dataclass(frozen=True)
class SchemaState:
    """How the database's migrations compare with this code's: names ``NNNN_name`` of each kind."""

    applied: int
    pending: list[str]  # this code's migrations the database lacks: `db migrate` applies them
    unknown: list[str]  # the database's migrations this code lacks: written by a newer hygiene-map


def schema_state(conn) -> SchemaState:
    """Compare the database's applied migrations with this code's files."""
    have = applied_rows(conn)
    ours = available()
    known = {m.version for m in ours}
    return SchemaState(len(have), [f"{m.version:04d}_{m.name}" for m in ours if m.version not in have],
                       [f"{v:04d}_{name}" for v, name in have.items() if v not in known])


def newer_schema_error(unknown: list[str]) -> SetupError:
    """The refusal of a database holding migrations this code does not know (a code rollback, a newer backup)."""
    return SetupError(
        f"the database holds {len(unknown)} migrations this hygiene-map does not know ({', '.join(unknown)}): it was "
        "written by a newer hygiene-map; run that version, or restore a backup made before the upgrade",
        f"数据库含有当前 hygiene-map 不认识的 {len(unknown)} 个迁移（{'、'.join(unknown)}）：它由更新版本的 hygiene-map "
        "写入；请运行该版本，或恢复升级前所做的备份")


def check_schema(conn) -> None:
    """Raise a SetupError naming the migrations the database lacks or holds beyond this code; nothing when it fits.

    What the server checks on its first connection (data.db.Database): a request never meets a missing table.
    """
    state = schema_state(conn)
    if state.unknown:
        raise newer_schema_error(state.unknown)
    if state.pending:
        raise SetupError(f"the database lacks migrations {', '.join(state.pending)}: run hygiene-map db migrate",
                         f"数据库缺少迁移 {'、'.join(state.pending)}：请运行 hygiene-map db migrate")


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
