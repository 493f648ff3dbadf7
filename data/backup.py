"""Backups with the server's own pg_dump/pg_restore (custom format, compressed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from data.cluster import find_pg_bindir
from data.errors import SetupError
from data.settings import DatabaseSettings


def _tool(settings: DatabaseSettings, name: str) -> str:
    path = find_pg_bindir(settings.pg_bindir) / name
    if not path.exists():
        raise SetupError(f"{name} is not installed beside the PostgreSQL server ({path})",
                         f"PostgreSQL 服务器旁没有安装 {name}（{path}）")
    return str(path)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        last = lines[-1] if lines else None
        raise SetupError(f"{what} failed: {last or f'exit code {result.returncode}'}",
                         f"{what} 失败：{last or f'退出码 {result.returncode}'}")


def backup(url: str, out: Path, settings: DatabaseSettings | None = None) -> Path:
    """Dump the whole database (schema, data, history) to ``out`` in pg_dump's custom format."""
    settings = settings or DatabaseSettings.from_env()
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise SetupError(f"cannot write the backup to {out}: folder {out.parent} does not exist",
                         f"无法把备份写到 {out}：文件夹 {out.parent} 不存在")
    tmp = out.with_name(out.name + ".partial")
    _run([_tool(settings, "pg_dump"), "--format=custom", "--no-owner",
          # Print jobs are a day's downloads, not the city's data (data/migrations/0900_print_jobs.sql).
          "--exclude-table-data=print_jobs", f"--file={tmp}", f"--dbname={url}"], "pg_dump")
    tmp.replace(out)  # a backup file is either complete or absent
    return out


def restore(url: str, dump: Path, settings: DatabaseSettings | None = None) -> None:
    """Restore a dump into an EMPTY database, in one transaction (all or nothing)."""
    settings = settings or DatabaseSettings.from_env()
    dump = Path(dump)
    if not dump.is_file():
        raise SetupError(f"backup file {dump} does not exist", f"备份文件 {dump} 不存在")
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
            if cur.fetchone()[0]:
                raise SetupError(
                    "the target database is not empty (it has hygiene-map tables): restore into a new, empty database",
                    "目标数据库不是空的（已有 hygiene-map 的表）：请恢复到一个新的空数据库"
                )
    finally:
        conn.close()
    _run(
        [_tool(settings, "pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error",
         f"--dbname={url}", str(dump)],
        "pg_restore",
    )
