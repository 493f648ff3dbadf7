"""Parts derived from the places, kept in the database (migration 0760) under the stamp of their tables.

A part (the residential land of one level's areas, siting's demand lattice)
takes seconds to build at city scale and changes only when an area or the
land use does. Its stamp is, per table it reads, the count and the last id
of the table's ``data_changes`` rows (migration 0500): every statement that
changes the table adds a row, and an id is never given twice, so a rolled
back change cannot bring an old stamp back. A reader whose own stamp equals
the stored one reads the part; else it builds the part and :func:`store`\\ s it.

Storing goes through a connection of its own, committed at once: the
caller's transaction may be read-only, or never committed (a CLI run). It
stores only when that connection reads the same stamp as the caller did,
i.e. when the part was built from committed data as it stands; a part built
from a transaction's own uncommitted edits is used by it and never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg2

log = logging.getLogger(__name__)

#: How long storing a part may wait for another process storing the same part, and take.
STORE_TIMEOUT_MS = 60_000


def stamp(conn, tables: tuple[str, ...]) -> str:
    """The stamp of ``tables`` as this transaction sees them: ``table:count:last id`` for each, sorted."""
    with conn.cursor() as cur:
        cur.execute("SELECT table_name, count(*), max(id) FROM data_changes WHERE table_name = ANY(%s) "
                    "GROUP BY table_name ORDER BY table_name", (sorted(tables),))
        return " ".join(f"{t}:{n}:{i}" for t, n, i in cur.fetchall())


def is_kept(conn, part: str, tables: tuple[str, ...]) -> tuple[bool, str]:
    """(whether ``part`` is stored under the stamp this transaction reads, that stamp)."""
    now = stamp(conn, tables)
    return stored(conn, part) == now, now


def stored(conn, part: str) -> str | None:
    """The stamp ``part`` is stored under, or None when it is not stored."""
    with conn.cursor() as cur:
        cur.execute("SELECT stamp FROM kept_parts WHERE part = %s", (part,))
        row = cur.fetchone()
    return row[0] if row else None


def same_on(a: str, b: str, tables: tuple[str, ...]) -> bool:
    """Whether the stamps ``a`` and ``b`` agree on ``tables`` (they may differ on others)."""
    def on(text: str) -> list[str]:
        return [entry for entry in text.split() if entry.split(":", 1)[0] in tables]

    return on(a) == on(b)


def store(conn, part: str, tables: tuple[str, ...], built_at: str, write: Callable[[object], None]) -> bool:
    """Store ``part`` (its rows written by ``write(cursor)``) under the stamp ``built_at``; whether it was.

    Nothing is stored when the committed tables no longer read ``built_at``
    (the caller saw its own uncommitted edits, or a change came in since),
    nor when the database cannot take it now: the answer does not depend on
    it, the next cold reader builds the part again.
    """
    def replace(cur) -> bool:
        cur.execute("DELETE FROM kept_parts WHERE part = %s", (part,))
        cur.execute("INSERT INTO kept_parts (part, stamp) VALUES (%s, %s)", (part, built_at))
        write(cur)
        return True

    return _on_side(conn, part, tables, built_at, replace)


def update(conn, part: str, tables: tuple[str, ...], was: str, built_at: str, write: Callable[[object], None]) -> bool:
    """Move ``part`` from the stamp ``was`` to ``built_at``, ``write(cursor)`` changing only its stale rows;
    whether it was (not when another process moved it meanwhile, nor when :func:`store` would not)."""
    def move(cur) -> bool:
        cur.execute("UPDATE kept_parts SET stamp = %s, built_at = now() WHERE part = %s AND stamp = %s",
                    (built_at, part, was))
        if cur.rowcount != 1:
            return False
        write(cur)
        return True

    return _on_side(conn, part, tables, built_at, move)


def _on_side(conn, part: str, tables: tuple[str, ...], built_at: str, body: Callable[[object], bool]) -> bool:
    """Run ``body(cursor)`` on a connection of its own, one part at a time, committed when it says so."""
    try:
        side = psycopg2.connect(conn.dsn, password=conn.info.password or None)
    except psycopg2.Error:
        return False
    try:
        with side.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = %s", (f"{STORE_TIMEOUT_MS}ms",))
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('kept ' || %s))", (part,))
            if stamp(side, tables) != built_at or not body(cur):
                return False
        side.commit()
        return True
    except psycopg2.Error as exc:
        log.warning("kept part %s not stored: %s", part, str(exc).strip().splitlines()[0] if str(exc) else exc)
        return False
    finally:
        side.close()  # rolls back what was not committed
