"""SQL about idempotency keys: the first answer to a write, kept with the caller's key (no HTTP here).

Semantics of draft-ietf-httpapi-idempotency-key-header: a key is scoped to
its caller and route (method and path); a retry with the same key and the
same body gets the first answer again; the same key with another body is
refused; a retry while the first request is still running is a conflict.
The answer is written in the write's own transaction (:func:`record`), so a
key is never kept without its write, nor a write without its key. Keys
expire after ``HYGIENE_MAP_IDEMPOTENCY_TTL_HOURS``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from data.errors import Conflict, InvalidParameter
from data.settings import IdempotencySettings

# Namespace of the advisory locks that mark a key in flight (two-int form: apart from other advisory locks).
_LOCK_SPACE = 0x49644B79  # "IdKy"
# Expired keys removed by each new key: enough to keep up, bounded per request.
_PURGE_BATCH = 100


@dataclass(frozen=True)
class Answer:
    """A write's answer as first given: status, JSON body and Location (None when it had none)."""

    status: int
    body: Any
    location: str | None = None


def fingerprint(payload: Any) -> str:
    """SHA-256 of the request's parsed body as canonical JSON: equal for equal bodies, however spelled."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def claim(conn, user_id: int, route: str, key: str, print_: str) -> Answer | None:
    """Hold ``key`` for this transaction; the first answer when the key was used before, else None.

    Raises
    ------
    Conflict
        another request with this key is still running (it holds the key until it ends).
    InvalidParameter
        the key was used before with a different body (parameter ``Idempotency-Key``).
    """
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_SPACE, f"{user_id}|{route}|{key}"))
        if not cur.fetchone()[0]:
            raise Conflict(f"a request to {route} with this Idempotency-Key is still being processed; "
                           "retry once it has answered",
                           f"使用此 Idempotency-Key 的 {route} 请求仍在处理中；请等它答复后再重试")
        cur.execute(
            """DELETE FROM idempotency_keys WHERE (user_id, route, key) IN
                   (SELECT user_id, route, key FROM idempotency_keys WHERE expires_at < now()
                    ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)""",
            (_PURGE_BATCH,),
        )
        cur.execute(
            """SELECT fingerprint, status, body, location FROM idempotency_keys
               WHERE user_id = %s AND route = %s AND key = %s AND expires_at >= now()""",
            (user_id, route, key),
        )
        row = cur.fetchone()
    if row is None:
        return None
    if row[0] != print_:
        raise InvalidParameter("Idempotency-Key", f"was already used for a different request to {route}; "
                                                  "a key belongs to one request body: send a new key for a new request",
                               f"已用于另一个不同的 {route} 请求；一个键只对应一个请求体：新请求请用新键")
    return Answer(row[1], row[2], row[3])


def record(conn, user_id: int, route: str, key: str, print_: str, answer: Answer,
           settings: IdempotencySettings | None = None) -> None:
    """Keep ``answer`` under the key, in the caller's transaction (the one that made the write).

    An expired row of the same key (not yet purged) is replaced: the caller holds the key.
    """
    hours = (settings or IdempotencySettings.from_env()).ttl_hours
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO idempotency_keys (user_id, route, key, fingerprint, status, body, location, expires_at)
               VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, now() + make_interval(hours => %s))
               ON CONFLICT (user_id, route, key) DO UPDATE SET
                   fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status, body = EXCLUDED.body,
                   location = EXCLUDED.location, created_at = now(), expires_at = EXCLUDED.expires_at""",
            (user_id, route, key, print_, answer.status, json.dumps(answer.body, ensure_ascii=False),
             answer.location, hours),
        )
