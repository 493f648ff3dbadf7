"""Server-side prepared statements, per pooled connection (PREPARE once, then EXECUTE).

Parsing and planning a raw z16 tile's statement were about 13 % of the
database's time for it; a prepared statement with a generic plan skips both.
A generic plan is chosen without the parameters' values, so only statements
whose best plan does not depend on them may use it: the caller decides (the
tiles prepare only the unordered read of the tile index, never the id-ordered
variant, whose generic plan could walk the primary key).

A connection's prepared statements live as long as its server session: they
are remembered per connection object, which the pool drops with its session.
"""

from __future__ import annotations

import itertools
import re
import weakref

from psycopg2 import Error

# Connection -> names prepared in its session; None once a PREPARE's fate is unknown (its statement failed:
# PREPARE is not undone by a failure or a rollback), and then that connection prepares nothing more.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SEQUENCE = itertools.count(1)
MAX_PER_CONNECTION = 64  # a server session keeps each plan: a bound on the memory, not a target
GENERIC_PLAN = "SET LOCAL plan_cache_mode = force_generic_plan; "


def statement_name() -> str:
    """A new statement name, never given to another text in this process."""
    return f"hm_prepared_{next(_SEQUENCE)}"


def execute_prepared(cur, name: str, settings: str, body: str, params: list) -> None:
    """Run ``settings + body`` (``%s`` placeholders) with ``params``, ``body`` as the prepared statement ``name``.

    ``settings``: ``SET LOCAL …;`` statements sent before it each time
    (:data:`GENERIC_PLAN` to use a generic plan from the first execution).
    The first execution on a connection prepares it in the same round trip.
    """
    conn = cur.connection
    known = _PREPARED.setdefault(conn, set())
    if known is None or (name not in known and len(known) >= MAX_PER_CONNECTION):
        cur.execute(settings + body, params)
        return
    call = f"EXECUTE {name}({', '.join(['%s'] * len(params))})"
    if name in known:
        cur.execute(settings + call, params)
        return
    numbers = itertools.count(1)
    prepare = f"PREPARE {name} AS {re.sub('%s', lambda _: f'${next(numbers)}', body)}; "
    try:
        cur.execute(settings + prepare + call, params)
    except Error:
        _PREPARED[conn] = None
        raise
    known.add(name)
