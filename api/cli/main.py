"""The `hygiene-map` command line.

Every command turns a :class:`~data.errors.HygieneMapError` into one line on
stderr and a non-zero exit code; users never see a traceback.
"""

from __future__ import annotations

import sys
import time

import click
import psycopg2

from data.errors import HygieneMapError


class _Group(click.Group):
    """A click group that reports project errors on one line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HygieneMapError as exc:
            click.echo(f"hygiene-map: error: {exc}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        except psycopg2.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"hygiene-map: database error: {first}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("hygiene-map: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """hygiene-map: coverage gaps, complaint hotspots, grids and field maps for city hygiene campaigns (创卫)."""


# -- db -------------------------------------------------------------------------
@main.group(cls=_Group)
def db() -> None:
    """Manage the database: the embedded cluster (no DATABASE_URL) or DATABASE_URL's server."""


def _migrate_and_report() -> None:
    from data.db import check_postgis, connect
    from data.migrate import migrate

    conn = connect()
    try:
        check_postgis(conn)
        applied = migrate(conn)
    finally:
        conn.close()
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
    from data.settings import DatabaseSettings

    settings = DatabaseSettings.from_env()
    if settings.url is None:
        cluster = EmbeddedCluster(settings)
        click.echo(f"embedded cluster: {cluster.pgdata} ({'running' if cluster.is_running() else 'stopped'})")
    url = database_url(settings)
    click.echo(f"url: {url}")
    try:
        conn = connect(settings, url=url)
    except DatabaseUnavailable as exc:
        click.echo(f"status: unreachable ({exc})")
        sys.exit(1)
    try:
        postgis = check_postgis(conn)
        have = applied_versions(conn)
        pending = [m for m in available() if m.version not in have]
        click.echo(f"status: running, PostGIS {postgis}, {len(have)} migrations applied, {len(pending)} pending")
    finally:
        conn.close()


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations."""
    _migrate_and_report()


@db.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="backup file (.dump)")
def db_backup(out: str) -> None:
    """Back up the whole database with pg_dump (custom format)."""
    from pathlib import Path

    from data.backup import backup
    from data.db import database_url

    path = backup(database_url(), Path(out))
    click.echo(f"backup written to {path} ({path.stat().st_size:,} bytes)")


@db.command("restore")
@click.argument("dump", type=click.Path(dir_okay=False))
def db_restore(dump: str) -> None:
    """Restore a backup into an empty database (all or nothing)."""
    from pathlib import Path

    from data.backup import restore
    from data.db import database_url

    restore(database_url(), Path(dump))
    click.echo(f"restored {dump}")


# -- demo -----------------------------------------------------------------------
@main.command("demo")
@click.option("--scale", type=click.Choice(["small", "city"]), default="small", show_default=True,
              help="small: seconds, for tests; city: 6 districts, 1,000,000 complaints")
@click.option("--seed", type=int, default=1, show_default=True, help="same seed, same city")
def demo(scale: str, seed: int) -> None:
    """Load the synthetic demo city (fictional, near Yantai), replacing every layer."""
    from tqdm import tqdm

    from data.db import check_postgis, connect
    from data.demo import load
    from data.demo_city import SCALES, generate
    from data.migrate import migrate

    started = time.monotonic()
    conn = connect()
    try:
        check_postgis(conn)
        migrate(conn)
        click.echo(f"generating the {scale} demo city (seed {seed}) …", err=True)
        city = generate(scale, seed)
        bar = tqdm(total=SCALES[scale].complaints, unit="complaints", desc="loading", file=sys.stderr,
                   disable=None, mininterval=1.0)

        def progress(label: str, n: int) -> None:
            bar.set_description(label)
            bar.update(n)

        counts = load(conn, city, progress)
        bar.close()
    finally:
        conn.close()
    for table, n in counts.items():
        click.echo(f"{table:18s} {n:>9,d}")
    click.echo(f"loaded in {time.monotonic() - started:.1f} s")


# -- serve ----------------------------------------------------------------------
@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the maps and the API."""
    import uvicorn

    from data.db import database_url

    database_url()  # fail now, with a clear message, if there is no database configured
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")

# -- issue 6: grids and users ---------------------------------------------------
from api.cli.grids import grids  # noqa: E402
from api.cli.users import users  # noqa: E402

main.add_command(grids)
main.add_command(users)


from api.cli.analysis import analyze  # noqa: E402  (issue 5)

main.add_command(analyze)

from api.cli.prints import print_group  # noqa: E402  (issue 7: printed field maps)

main.add_command(print_group)


from api.cli.data import export_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(export_command)

if __name__ == "__main__":
    main()
