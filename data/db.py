"""Connections to PostGIS: resolve the URL, open connections, pool them for the server.

Connection failures become :class:`~data.errors.DatabaseUnavailable` with a
message; a broken pooled connection is discarded, so the service recovers by
itself when the database returns.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions

from data.catalog import load_city_tz
from data.cluster import EmbeddedCluster
from data.errors import DatabaseUnavailable, SetupError
from data.settings import DatabaseSettings


def database_url(settings: DatabaseSettings | None = None) -> str:
    """DATABASE_URL when set, else the embedded cluster's URL."""
    settings = settings or DatabaseSettings.from_env()
    if settings.url:
        return settings.url
    return EmbeddedCluster(settings).url()


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in creds else ''}@{host}"


def connect(settings: DatabaseSettings | None = None, *, url: str | None = None) -> psycopg2.extensions.connection:
    """One new connection, with the connect and statement time-outs of the settings."""
    settings = settings or DatabaseSettings.from_env()
    url = url or database_url(settings)
    try:
        return load_city_tz(psycopg2.connect(
            url,
            connect_timeout=settings.connect_timeout_s,
            options=f"-c statement_timeout={settings.statement_timeout_ms}",
            application_name="hygiene-map",
        ))
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        hint = "" if settings.url else "; the embedded database is not running: start it with `hygiene-map db up`"
        raise DatabaseUnavailable(f"cannot connect to the database at {_redact(url)}: {first}{hint}") from None


@contextmanager
def transaction(conn, *, dry_run: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """Own one transaction: ``with transaction(conn): ...`` commits when the block ends, else rolls back.

    The one place a command line job commits (the web server's is the
    transaction dependency of ``api.deps``); the functions called inside
    never commit. With ``dry_run`` the block runs in full, checks and all,
    and is rolled back at the end: nothing is written.
    """
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    if dry_run:
        conn.rollback()
    else:
        conn.commit()


@contextmanager
def session(settings: DatabaseSettings | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A new connection for one command, closed afterwards (uncommitted work is dropped with it)."""
    conn = connect(settings)
    try:
        yield conn
    finally:
        conn.close()


def check_postgis(conn) -> str:
    """The PostGIS version, or a SetupError when the server cannot provide PostGIS."""
    with conn.cursor() as cur:
        cur.execute("SELECT installed_version, default_version FROM pg_available_extensions WHERE name = 'postgis'")
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise SetupError(
            "the database server has no PostGIS extension: install postgresql-15-postgis-3 "
            "(matching the server's major version) on the server, or point DATABASE_URL at a PostGIS server"
        )
    return row[0] or row[1]


def _alive(conn) -> bool:
    """Whether an idle connection can still be used, without a round trip to the server.

    An idle connection is sent nothing, except when the server ends it: a
    restart or shutdown sends a FATAL message and closes the socket. So a
    socket with something to read (or a closed connection) is a dead one.
    """
    if conn.closed:
        return False
    poller = select.poll()  # not select.select: file numbers past 1024 are common in a busy server
    try:
        poller.register(conn.fileno(), select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError, psycopg2.Error):
        return False


class Database:
    """A small thread-safe connection pool for the web server.

    ``with db.connection() as conn`` yields a connection; it is rolled back
    afterwards unless the caller committed. A connection that failed is
    closed instead of being returned, and an idle one is checked before it
    is handed out (:func:`_alive`): after a restart of the database the very
    first request gets a new connection instead of a dead one.
    """

    def __init__(self, settings: DatabaseSettings | None = None):
        self.settings = settings or DatabaseSettings.from_env()
        self._url: str | None = None
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.settings.pool_max)

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = database_url(self.settings)
        return self._url

    def _acquire(self) -> psycopg2.extensions.connection:
        # Waiting for a free connection is queueing under load, not a fault:
        # its own (longer) limit, apart from the connect time-out.
        if not self._slots.acquire(timeout=self.settings.pool_wait_s):
            raise DatabaseUnavailable(
                f"all {self.settings.pool_max} database connections stayed busy for {self.settings.pool_wait_s} s; "
                "try again shortly"
            )
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            if _alive(conn):
                return conn
            # One connection died while idle (the database restarted): its siblings did too.
            conn.close()
            self.close()
        try:
            return connect(self.settings, url=self.url)
        except BaseException:
            self._slots.release()
            raise

    def _release(self, conn, broken: bool) -> None:
        try:
            if not broken and not conn.closed:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    broken = True
            if broken or conn.closed:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
            else:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._slots.release()

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        conn = self._acquire()
        broken = False
        try:
            yield conn
        except psycopg2.extensions.QueryCanceledError:
            raise DatabaseUnavailable("the database query took too long and was cancelled "
                                      "(HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS); try a smaller request") from None
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            broken = True
            # The server went away: the idle connections died with it. Drop them now rather than
            # fail one request each once it is back.
            self.close()
            text = str(exc).strip().splitlines()
            raise DatabaseUnavailable(f"the database connection failed: {text[0] if text else 'closed'}") from None
        finally:
            self._release(conn, broken)

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
