"""Connections to PostGIS: resolve the URL, open connections, pool them for the server.

Connection failures become :class:`~data.errors.DatabaseUnavailable` with a
message; a broken pooled connection is discarded, so the service recovers by
itself when the database returns.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from data.catalog import load_city_tz
from data.cluster import EmbeddedCluster
from data.errors import DatabaseUnavailable, DatabaseUnreachable, SetupError
from data.settings import DatabaseSettings


def database_url(settings: DatabaseSettings | None = None) -> str:
    """DATABASE_URL when set, else the embedded cluster's URL."""
    settings = settings or DatabaseSettings.from_env()
    if settings.url:
        return settings.url
    return EmbeddedCluster(settings).url()


def connect(settings: DatabaseSettings | None = None, *, url: str | None = None) -> psycopg2.extensions.connection:
    """One new connection, with the connect and statement time-outs of the settings."""
    settings = settings or DatabaseSettings.from_env()
    url = url or database_url(settings)
    try:
        return load_city_tz(psycopg2.connect(url, **connect_options(settings)))
    except psycopg2.extensions.QueryCanceledError as exc:  # connected, but reading the city's time zone ran late
        raise query_error(exc) from None
    except (psycopg2.OperationalError, psycopg2.ProgrammingError) as exc:  # unreachable, or a malformed DSN
        raise connect_error(settings, url, exc) from None


def connect_options(settings: DatabaseSettings) -> dict:
    """The keyword arguments of every connection (time-outs, name), blocking or asynchronous."""
    return {"connect_timeout": settings.connect_timeout_s, "application_name": "hygiene-map",
            "options": f"-c statement_timeout={settings.statement_timeout_ms}"}


def connect_error(settings: DatabaseSettings, url: str, exc: Exception) -> DatabaseUnavailable:
    """What a failed connection attempt (unreachable, or a malformed DSN) tells the user."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
    hint = "" if settings.url else "; the embedded database is not running: start it with `hygiene-map db up`"
    hint_zh = "" if settings.url else "；内置数据库未运行：请用 `hygiene-map db up` 启动"
    # DatabaseUnavailable's message is redacted (data.redact): no password in any answer or log.
    return DatabaseUnreachable(f"cannot connect to the database at {url}: {first}{hint}",
                               f"无法连接数据库 {url}：{first}{hint_zh}")


def query_error(exc: psycopg2.Error) -> DatabaseUnavailable | SetupError | None:
    """What a statement time-out, a lost connection or a schema older than the code tells the user; None for any
    other error."""
    if isinstance(exc, (psycopg2.errors.UndefinedColumn, psycopg2.errors.UndefinedTable)):
        # The code was upgraded and its migrations not applied yet (a git pull, a new image).
        first = (str(exc).strip().splitlines() or [""])[0]
        return SetupError(f"the database schema is older than this hygiene-map ({first}): apply its migrations "
                          "with `hygiene-map db migrate`",
                          f"数据库结构比当前 hygiene-map 旧（{first}）：请先运行 `hygiene-map db migrate` 应用迁移")
    if isinstance(exc, psycopg2.extensions.QueryCanceledError):
        return DatabaseUnavailable("the database query took too long and was cancelled "
                                   "(HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS); try a smaller request",
                                   "数据库查询超时，已取消（HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS）；请缩小查询范围")
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        text = str(exc).strip().splitlines()
        first = text[0] if text else "closed"
        return DatabaseUnreachable(f"the database connection failed: {first}", f"数据库连接中断：{first}")
    return None


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


@contextmanager
def outside_transaction(conn) -> Iterator[None]:
    """Run one statement on its own when no transaction is open: no BEGIN, no ROLLBACK.

    Two round trips to the server out of three; on a busy machine each is a
    wait for a core. A connection already in a transaction (a token was
    looked up) stays in it.
    """
    if conn.autocommit or conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        yield
        return
    conn.autocommit = True
    try:
        yield
    finally:
        if not conn.closed:  # a connection that broke is the pool's to drop
            conn.autocommit = False


# Statements as a generator (no I/O of its own): yields (SQL text, parameters), is sent each one's first row (or
# thrown its error), returns its answer. run_steps runs them on a blocking connection, data.db_async.run_steps_async
# on an asynchronous one: one place for the SQL of work done both ways (the tiles).
Steps = Generator[tuple[str, list], tuple, Any]


def run_steps(cur, steps: Steps) -> Any:
    """Run ``steps`` on the cursor of a blocking connection; their answer."""
    row = error = None
    while True:
        done, value = next_step(steps, row, error)
        if done:
            return value
        try:
            cur.execute(*value)
            row, error = cur.fetchone(), None
        except psycopg2.Error as exc:
            row, error = None, exc


def next_step(steps: Steps, row: tuple | None, error: psycopg2.Error | None) -> tuple[bool, Any]:
    """(False, the steps' next statement) given the last one's first row or error, or (True, their answer).

    An error is thrown into the steps, which clean up and raise it again.
    """
    try:
        return False, steps.throw(error) if error is not None else steps.send(row)
    except StopIteration as done:
        return True, done.value


def check_postgis(conn) -> str:
    """The PostGIS version, or a SetupError when the server cannot provide PostGIS."""
    with conn.cursor() as cur:
        cur.execute("SELECT installed_version, default_version FROM pg_available_extensions WHERE name = 'postgis'")
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise SetupError(
            "the database server has no PostGIS extension: install postgresql-15-postgis-3 "
            "(matching the server's major version) on the server, or point DATABASE_URL at a PostGIS server",
            "数据库服务器没有 PostGIS 扩展：请在服务器上安装 postgresql-15-postgis-3（与服务器主版本一致），"
            "或把 DATABASE_URL 指向有 PostGIS 的服务器"
        )
    return row[0] or row[1]


def idle_alive(conn) -> bool:
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
    is handed out (:func:`idle_alive`): after a restart of the database the very
    first request gets a new connection instead of a dead one.
    """

    def __init__(self, settings: DatabaseSettings | None = None):
        self.settings = settings or DatabaseSettings.from_env()
        self._url: str | None = None
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.settings.pool_max)
        self.schema_checked = False  # set by the first connection whose database has this code's migrations

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
                "try again shortly",
                f"全部 {self.settings.pool_max} 个数据库连接忙了 {self.settings.pool_wait_s} 秒；请稍后再试"
            )
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            if idle_alive(conn):
                return conn
            # One connection died while idle (the database restarted): its siblings did too.
            conn.close()
            self.close()
        try:
            conn = connect(self.settings, url=self.url)
            if not self.schema_checked:
                self._check_schema(conn)
            return conn
        except BaseException:
            self._slots.release()
            raise

    def check_schema_once(self) -> None:
        """The check of :meth:`_check_schema` on a connection of its own, not kept (the asynchronous pool's first
        connection: the blocking pool stays for the routes that need it)."""
        conn = connect(self.settings, url=self.url)
        try:
            self._check_schema(conn)
        finally:
            conn.close()

    def _check_schema(self, conn) -> None:
        """Once, on the first connection made (the database may have been down when the server started): a schema
        lacking this code's migrations, or holding a newer code's, is refused with a SetupError (503) naming them —
        until they are applied, not one request meets a missing table (a 500). Checked again until it passes."""
        from data.migrate import check_schema

        try:
            check_schema(conn)
        except BaseException:
            conn.close()
            raise
        conn.rollback()
        self.schema_checked = True

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
        except psycopg2.extensions.QueryCanceledError as exc:
            raise query_error(exc) from None
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            broken = True
            # The server went away: the idle connections died with it. Drop them now rather than
            # fail one request each once it is back.
            self.close()
            raise query_error(exc) from None
        finally:
            self._release(conn, broken)

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
