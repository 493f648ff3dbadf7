"""`hygiene-map db up|down|status|migrate|backup|restore`: the database's lifecycle."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from api.cli.output import LANG
from data.said import say

#: What the db commands print, in Chinese and in English (data.said.say); paths, URLs and numbers are the same.
_SAID = {
    "created": ("已在 {pgdata} 创建 PostgreSQL 集群", "created a PostgreSQL cluster in {pgdata}"),
    "started": ("已启动：{url}", "started: {url}"),
    "already": ("已在运行：{url}", "already running: {url}"),
    "applied": ("已应用迁移：{names}", "applied migrations: {names}"),
    "current": ("数据库结构已是最新", "database schema is up to date"),
    "not_ours": ("已设置 DATABASE_URL：该服务器不由 hygiene-map 管理，未停止任何服务",
                 "DATABASE_URL is set: that server is not managed by hygiene-map; nothing stopped"),
    "stopped": ("已停止", "stopped"),
    "not_running": ("未在运行", "not running"),
    "cluster_up": ("内置集群：{pgdata}（运行中）", "embedded cluster: {pgdata} (running)"),
    "cluster_down": ("内置集群：{pgdata}（已停止）", "embedded cluster: {pgdata} (stopped)"),
    "url": ("数据库地址：{url}", "url: {url}"),
    "unreachable": ("状态：无法连接（{reason}）", "status: unreachable ({reason})"),
    "other_server": ("状态：已停止；占用其端口的是另一个服务器：请运行 `hygiene-map db up`（它会在空闲端口上启动本集群）",
                     "status: stopped; the server answering on its port is another one: run `hygiene-map db up` "
                     "(it starts this cluster on a free port)"),
    "running": ("状态：运行中，PostGIS {postgis}，已应用 {have} 个迁移，{pending} 个待应用",
                "status: running, PostGIS {postgis}, {have} migrations applied, {pending} pending"),
    "pending": ("待应用的迁移：{names}（请运行 hygiene-map db migrate）",
                "pending migrations: {names} (run hygiene-map db migrate)"),
    "unknown": ("当前 hygiene-map 不认识的迁移：{names}（由更新版本的 hygiene-map 写入：请运行该版本，或恢复升级前所做的备份）",
                "migrations this hygiene-map does not know: {names} (written by a newer hygiene-map: run that "
                "version, or restore a backup made before the upgrade)"),
    "backup": ("备份已写入 {path}（{size:,} 字节，含数据库和 {photos} 张照片；不含打印任务）",
               "backup written to {path} ({size:,} bytes: the database and {photos} photos; print jobs are not kept)"),
    "restored": ("已恢复 {dump}（数据库和 {photos} 张照片）", "restored {dump} (the database and {photos} photos)"),
}


@click.group("db")
def db() -> None:
    """Manage the database: the embedded cluster (no DATABASE_URL) or DATABASE_URL's server."""


def _migrate_and_report(lang: str) -> None:
    from data.db import check_postgis, session
    from data.migrate import migrate, newer_schema_error, schema_state

    with session() as conn:
        check_postgis(conn)
        unknown = schema_state(conn).unknown
        conn.rollback()
        if unknown:  # a newer hygiene-map's database: "up to date" would be untrue, and older steps no fix
            raise newer_schema_error(unknown)
        applied = migrate(conn)
    if applied:
        click.echo(say(_SAID, "applied", lang, names=", ".join(f"{m.version:04d}_{m.name}" for m in applied)))
    else:
        click.echo(say(_SAID, "current", lang))


@db.command("up")
@LANG
def db_up(lang: str) -> None:
    """Create (first time) and start the embedded cluster, then migrate; with DATABASE_URL, check and migrate."""
    from data.cluster import EmbeddedCluster
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url is None:
        cluster = EmbeddedCluster(settings)
        if cluster.init():
            click.echo(say(_SAID, "created", lang, pgdata=cluster.pgdata))
        was_running = cluster.is_running()
        cluster.start()
        click.echo(say(_SAID, "already" if was_running else "started", lang, url=cluster.url()))
    _migrate_and_report(lang)


@db.command("down")
@LANG
def db_down(lang: str) -> None:
    """Stop the embedded cluster (nothing to do with DATABASE_URL)."""
    from data.cluster import EmbeddedCluster
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url:
        click.echo(say(_SAID, "not_ours", lang))
        return
    stopped = EmbeddedCluster(settings).stop()
    click.echo(say(_SAID, "stopped" if stopped else "not_running", lang))


@db.command("status")
@LANG
def db_status(lang: str) -> None:
    """Say whether the database runs, and print the URL it uses."""
    from data.cluster import EmbeddedCluster
    from data.db import check_postgis, connect, database_url
    from data.errors import DatabaseUnavailable
    from data.migrate import schema_state
    from data.redact import redact
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url is None:
        cluster = EmbeddedCluster(settings)
        state = "cluster_up" if cluster.is_running() else "cluster_down"
        click.echo(say(_SAID, state, lang, pgdata=cluster.pgdata))
    url = database_url(settings)
    click.echo(say(_SAID, "url", lang, url=redact(url)))
    try:
        conn = connect(settings, url=url)
    except DatabaseUnavailable as exc:
        click.echo(say(_SAID, "unreachable", lang, reason=exc.zh if lang == "zh" and exc.zh else exc.message))
        sys.exit(1)
    try:
        if settings.url is None and not _is_this_cluster(conn, cluster):
            click.echo(say(_SAID, "other_server", lang))
            sys.exit(1)
        postgis = check_postgis(conn)
        state = schema_state(conn)
        click.echo(say(_SAID, "running", lang, postgis=postgis, have=state.applied, pending=len(state.pending)))
        sep = "、" if lang == "zh" else ", "
        if state.pending:
            click.echo(say(_SAID, "pending", lang, names=sep.join(state.pending)))
        if state.unknown:
            click.echo(say(_SAID, "unknown", lang, names=sep.join(state.unknown)))
    finally:
        conn.close()
    if state.unknown:  # serve refuses such a database: a script checking status must see it too
        sys.exit(1)


def _is_this_cluster(conn, cluster) -> bool:
    """Whether ``conn`` reached ``cluster`` itself, not another server that took its port while it was stopped."""
    import psycopg2

    try:
        with conn.cursor() as cur:
            cur.execute("SHOW data_directory")
            served = Path(cur.fetchone()[0])
    except psycopg2.Error:  # not allowed to see it: not a cluster of ours, whose user is its superuser
        return False
    return served.resolve() == cluster.pgdata.resolve()


@db.command("migrate")
@LANG
def db_migrate(lang: str) -> None:
    """Apply pending schema migrations."""
    _migrate_and_report(lang)


@db.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="backup file: one tar file with the database and the photos")
@LANG
def db_backup(out: str, lang: str) -> None:
    """Back up the whole database (pg_dump, custom format) and every photo file into one file, made 0600."""
    from data.backup import backup
    from data.db import database_url

    path, photos = backup(database_url(), Path(out))
    click.echo(say(_SAID, "backup", lang, path=path, size=path.stat().st_size, photos=photos))


#: Tables that hold a city's data: a database `db up` made has no row in any of them (only migrations' own).
_CITY_TABLES = ("users", "city_settings", "audit_log")


@db.command("restore")
@click.argument("backup_file", metavar="BACKUP", type=click.Path(dir_okay=False))
@LANG
def db_restore(backup_file: str, lang: str) -> None:
    """Restore a backup (database and photos) into an empty database, all or nothing, then migrate.

    The photos are unpacked and checked beside the photo folder (its free space checked first) before the
    database is touched, and moved into place only once it is restored.

    Without DATABASE_URL the embedded cluster is created when the home has none (and started), and its
    database, if `db up` made it but it holds no data yet, is emptied first.
    """
    from data.backup import restore
    from data.db import database_url
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    target = database_url(settings) if settings.url else lambda: _embedded_for_restore(settings, lang)
    photos = restore(target, Path(backup_file), settings)
    click.echo(say(_SAID, "restored", lang, dump=backup_file, photos=photos))
    _migrate_and_report(lang)  # a backup of older code gets this code's migrations


def _embedded_for_restore(settings, lang: str) -> str:
    """The embedded cluster's URL, made ready for a restore: created if the home has none, started, and its
    database emptied if `db up` made it but it holds no city, user or record yet."""
    from data.cluster import EmbeddedCluster
    from layers.spec.registry import layer_ids

    cluster = EmbeddedCluster(settings)
    if cluster.init():
        click.echo(say(_SAID, "created", lang, pgdata=cluster.pgdata))
    cluster.start()
    cluster.empty_if_unused((*layer_ids(), *_CITY_TABLES))
    return cluster.url()
