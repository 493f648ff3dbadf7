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

# Connection -> names prepared in its session; None once a PREPARE's fate is unknown (its statement failed:
# PREPARE is not undone by a failure or a rollback), and then that connection prepares nothing more.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SEQUENCE = itertools.count(1)
MAX_PER_CONNECTION = 64  # a server session keeps each plan: a bound on the memory, not a target
GENERIC_PLAN = "SET LOCAL plan_cache_mode = force_generic_plan; "


def statement_name() -> str:
    """A new statement name, never given to another text in this process."""
    return f"hm_prepared_{next(_SEQUENCE)}"


def prepared_call(conn, name: str, settings: str, body: str, params: list) -> tuple[str, list, bool]:
    """(SQL text, parameters, whether it prepares) running ``settings + body`` as the prepared statement ``name``.

    ``body`` has ``%s`` placeholders for ``params``; ``settings``: ``SET LOCAL
    …;`` statements sent before it each time (:data:`GENERIC_PLAN` to use a
    generic plan from the first execution). The first execution on a
    connection prepares it in the same round trip: tell :func:`prepared_done`
    how it went. The caller sends the text, on a blocking or an asynchronous
    connection.
    """
    known = _PREPARED.setdefault(conn, set())
    if known is None or (name not in known and len(known) >= MAX_PER_CONNECTION):
        return settings + body, params, False
    call = f"EXECUTE {name}({', '.join(['%s'] * len(params))})"
    if name in known:
        return settings + call, params, False
    numbers = itertools.count(1)
    prepare = f"PREPARE {name} AS {re.sub('%s', lambda _: f'${next(numbers)}', body)}; "
    return settings + prepare + call, params, True


def prepared_done(conn, name: str, ok: bool) -> None:
    """After a :func:`prepared_call` that prepared: ``name`` is known on ``conn``, or (``ok`` false, its
    statement failed) that connection prepares nothing more."""
    if not ok:
        _PREPARED[conn] = None
    elif (known := _PREPARED.get(conn)) is not None:
        known.add(name)
