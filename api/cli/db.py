"""`hygiene-map db up|down|status|migrate|backup|restore`: the database's lifecycle."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("db")
def db() -> None:
    """Manage the database: the embedded cluster (no DATABASE_URL) or DATABASE_URL's server."""


def _migrate_and_report() -> None:
    from data.db import check_postgis, session
    from data.migrate import migrate

    with session() as conn:
        check_postgis(conn)
        applied = migrate(conn)
    if applied:
        click.echo("applied migrations: " + ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
    else:
        click.echo("database schema is up to date")


@db.command("up")
def db_up() -> None:
    """Create (first time) and start the embedded cluster, then migrate; with DATABASE_URL, check and migrate."""
    from data.cluster import EmbeddedCluster
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url is None:
        cluster = EmbeddedCluster(settings)
        if cluster.init():
            click.echo(f"created a PostgreSQL cluster in {cluster.pgdata}")
        was_running = cluster.is_running()
        cluster.start()
        click.echo(("already running: " if was_running else "started: ") + cluster.url())
    _migrate_and_report()


@db.command("down")
def db_down() -> None:
    """Stop the embedded cluster (nothing to do with DATABASE_URL)."""
    from data.cluster import EmbeddedCluster
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url:
        click.echo("DATABASE_URL is set: that server is not managed by hygiene-map; nothing stopped")
        return
    stopped = EmbeddedCluster(settings).stop()
    click.echo("stopped" if stopped else "not running")


@db.command("status")
def db_status() -> None:
    """Say whether the database runs, and print the URL it uses."""
    from data.cluster import EmbeddedCluster
    from data.db import check_postgis, connect, database_url
    from data.errors import DatabaseUnavailable
    from data.migrate import applied_versions, available
    from data.redact import redact
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url is None:
        cluster = EmbeddedCluster(settings)
        click.echo(f"embedded cluster: {cluster.pgdata} ({'running' if cluster.is_running() else 'stopped'})")
    url = database_url(settings)
    click.echo(f"url: {redact(url)}")
    try:
        conn = connect(settings, url=url)
    except DatabaseUnavailable as exc:
        click.echo(f"status: unreachable ({exc})")
        sys.exit(1)
    try:
        if settings.url is None and not _is_this_cluster(conn, cluster):
            click.echo("status: stopped; the server answering on its port is another one: run `hygiene-map db up` "
                       "(it starts this cluster on a free port)")
            sys.exit(1)
        postgis = check_postgis(conn)
        have = applied_versions(conn)
        pending = [m for m in available() if m.version not in have]
        click.echo(f"status: running, PostGIS {postgis}, {len(have)} migrations applied, {len(pending)} pending")
    finally:
        conn.close()


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
def db_migrate() -> None:
    """Apply pending schema migrations."""
    _migrate_and_report()


@db.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="backup file (.dump)")
def db_backup(out: str) -> None:
    """Back up the whole database with pg_dump (custom format)."""
    from data.backup import backup
    from data.db import database_url

    path = backup(database_url(), Path(out))
    click.echo(f"backup written to {path} ({path.stat().st_size:,} bytes)")


@db.command("restore")
@click.argument("dump", type=click.Path(dir_okay=False))
def db_restore(dump: str) -> None:
    """Restore a backup into an empty database (all or nothing)."""
    from data.backup import restore
    from data.db import database_url

    restore(database_url(), Path(dump))
    click.echo(f"restored {dump}")
