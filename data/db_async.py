"""Asynchronous connections to PostGIS on the server's event loop (psycopg2's own non-blocking mode).

For the most frequent request, an anonymous map tile: its one statement is
sent and its answer read on the event loop, without handing the request to a
worker thread and back (:class:`data.db.Database` serves everything else).
An asynchronous connection is always in autocommit mode and runs one
statement at a time; the statements are :data:`data.db.Steps`, the same as
on a blocking connection. The same time-outs and the same errors as
:class:`data.db.Database`: a statement time-out or a lost server become
:class:`~data.errors.DatabaseUnavailable` with the same messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

from data.db import Database, Steps, connect_error, connect_options, idle_alive, next_step, query_error
from data.errors import DatabaseUnavailable


async def _ready(conn) -> None:
    """Wait on the event loop until ``conn`` finished what it was doing (connecting, or a statement).

    Raises the statement's (or the connection's) error, as ``conn.poll()`` does.
    """
    loop = asyncio.get_running_loop()
    while True:
        state = conn.poll()
        if state == POLL_OK:
            return
        if state not in (POLL_READ, POLL_WRITE):
            raise psycopg2.OperationalError(f"unexpected poll state {state}")
        fd = conn.fileno()  # may change while connecting
        waiter = loop.create_future()

        def wake(fut=waiter):
            if not fut.done():
                fut.set_result(None)

        add, remove = (loop.add_reader, loop.remove_reader) if state == POLL_READ else (loop.add_writer,
                                                                                       loop.remove_writer)
        add(fd, wake)
        try:
            await waiter
        finally:
            remove(fd)


async def run_steps_async(conn, steps: Steps) -> Any:
    """Run ``steps`` (:data:`data.db.Steps`) on an asynchronous connection; their answer."""
    cur = conn.cursor()
    row = error = None
    try:
        while True:
            done, value = next_step(steps, row, error)
            if done:
                return value
            try:
                cur.execute(*value)
                await _ready(conn)
                row, error = cur.fetchone(), None
            except psycopg2.Error as exc:
                row, error = None, exc
    finally:
        if not conn.closed and not conn.isexecuting():
            cur.close()


class AsyncPool:
    """Up to ``settings.async_max`` asynchronous connections of one server process, made when first needed.

    ``async with pool.connection() as conn`` lends one. A connection whose
    statement was interrupted (the request was cancelled: the client went
    away, the server stops) is closed, not lent again, so the server ends
    that statement with the session; one whose server went away is closed
    with every idle one, and the next request connects anew.
    """

    def __init__(self, db: Database):
        self.db = db
        self.settings = db.settings
        self._idle: list = []
        self._slots = asyncio.Semaphore(self.settings.async_max)

    async def _connect(self):
        if not self.db.schema_checked:  # the blocking pool's once-only check of the migrations (data.db.Database)
            await asyncio.to_thread(self.db.check_schema_once)
        url = self.db.url
        try:
            conn = psycopg2.connect(url, async_=True, **connect_options(self.settings))
            await asyncio.wait_for(_ready(conn), self.settings.connect_timeout_s)
        except (psycopg2.OperationalError, psycopg2.ProgrammingError) as exc:
            raise connect_error(self.settings, url, exc) from None
        except TimeoutError:
            conn.close()
            raise connect_error(self.settings, url, TimeoutError("timeout expired")) from None
        return conn

    async def _acquire(self):
        try:
            if self._slots.locked():  # wait_for makes a task: only when there is something to wait for
                await asyncio.wait_for(self._slots.acquire(), self.settings.pool_wait_s)
            else:
                await self._slots.acquire()
        except TimeoutError:
            raise DatabaseUnavailable(
                f"all {self.settings.async_max} asynchronous database connections (HYGIENE_MAP_DB_ASYNC_MAX) "
                f"stayed busy for {self.settings.pool_wait_s} s; try again shortly",
                f"全部 {self.settings.async_max} 个异步数据库连接（HYGIENE_MAP_DB_ASYNC_MAX）忙了 "
                f"{self.settings.pool_wait_s} 秒；请稍后再试") from None
        while self._idle:
            conn = self._idle.pop()
            if idle_alive(conn):
                return conn
            conn.close()  # died while idle (the database restarted): its siblings too
            self.close()
        try:
            return await self._connect()
        except BaseException:
            self._slots.release()
            raise

    @asynccontextmanager
    async def connection(self) -> AsyncIterator:
        conn = await self._acquire()
        broken = False
        try:
            yield conn
        except psycopg2.Error as exc:
            mapped = query_error(exc)
            if mapped is None:
                raise
            if not isinstance(exc, psycopg2.extensions.QueryCanceledError):
                broken = True
                self.close()  # the server went away: the idle connections died with it
            raise mapped from None
        finally:
            if broken or conn.closed or conn.isexecuting():
                conn.close()  # an interrupted statement ends with its session
            else:
                self._idle.append(conn)
            self._slots.release()

    def close(self) -> None:
        """Close every idle connection."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
