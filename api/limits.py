"""Costly work limited per client and overall: a dependency the costly routes declare.

Siting, street atlases and routes, city-wide hot spots take seconds to a
minute of CPU; a few at once starve the server. ``Costly`` admits at most
``HYGIENE_MAP_COSTLY_PER_CLIENT`` such requests per client (its user, else
its IP address) and ``HYGIENE_MAP_COSTLY_TOTAL`` in all, at a time, per
server process; past that it answers 429 with ``Retry-After`` and a message
naming the setting. Cheap requests never wait on it.

Use in a route: ``def atlas(..., _: Costly)``, or ``dependencies=[COSTLY]``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request

from api.auth import Reader
from api.urls import client_address
from data.errors import TooBusy
from data.settings import AccessSettings
from layers.workflow.access import User


class CostlyGate:
    """Counts of costly requests under way, per client and in all (one per app)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_client: dict[str, int] = {}
        self._total = 0

    def enter(self, client: str, settings: AccessSettings) -> None:
        """Admit one costly request of ``client``, or raise :class:`TooBusy` naming the limit it hit."""
        with self._lock:
            if self._by_client.get(client, 0) >= settings.costly_per_client:
                raise TooBusy(f"this client already runs {settings.costly_per_client} costly request(s) "
                              f"(HYGIENE_MAP_COSTLY_PER_CLIENT); wait for it to finish and try again",
                              settings.costly_retry_after_s,
                              zh=f"此客户端已有 {settings.costly_per_client} 个耗时请求在运行（HYGIENE_MAP_COSTLY_PER_CLIENT）；"
                              "请等它完成后再试")
            if self._total >= settings.costly_total:
                raise TooBusy(f"the server already runs {settings.costly_total} costly request(s) "
                              f"(HYGIENE_MAP_COSTLY_TOTAL); try again shortly", settings.costly_retry_after_s,
                              zh=f"服务器已有 {settings.costly_total} 个耗时请求在运行（HYGIENE_MAP_COSTLY_TOTAL）；请稍后再试")
            self._by_client[client] = self._by_client.get(client, 0) + 1
            self._total += 1

    def leave(self, client: str) -> None:
        with self._lock:
            left = self._by_client.get(client, 1) - 1
            if left:
                self._by_client[client] = left
            else:
                self._by_client.pop(client, None)
            self._total -= 1


_create_lock = threading.Lock()


def _gate(app) -> CostlyGate:
    with _create_lock:
        gate = getattr(app.state, "costly_gate", None)
        if gate is None:
            gate = app.state.costly_gate = CostlyGate()
    return gate


def hold_costly(request: Request, user: User | None) -> Callable[[], None]:
    """Take one costly-work slot of the caller (its user, else its IP), or raise TooBusy; the function that
    gives it back. For work that outlives its request (a print job's thread), which calls it when done."""
    client = f"user:{user.name}" if user is not None else f"ip:{client_address(request)}"
    gate = _gate(request.app)
    gate.enter(client, AccessSettings.from_env())
    return functools.partial(gate.leave, client)


def costly(request: Request, user: Reader) -> Iterator[None]:
    """Hold one costly-work slot of the caller (its user, else its IP) while the route runs."""
    release = hold_costly(request, user)
    try:
        yield
    finally:
        release()


#: The dependency a costly route declares; released as soon as the route function returns.
COSTLY = Depends(costly, scope="function")
Costly = Annotated[None, COSTLY]
