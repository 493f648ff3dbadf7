"""Costly work is limited per client and overall: 429 with Retry-After past the limit (issue 14, item 12).

No timing luck: the test's own app has one more costly route, ``/test/costly-hold``,
which takes a slot of the same gate as siting and prints (``api.limits.COSTLY``),
says it is in, and waits until the test lets it go. So the first N requests are
provably in flight when the extra one is sent; it gets 429 with ``Retry-After``
and the setting's name; once they are let go, the next one is admitted.

The client a slot belongs to is its user, else its address
(``api.urls.client_address``): behind a trusted proxy
(``HYGIENE_MAP_TRUSTED_PROXIES``) the hop the proxy added, from anyone else
the socket's peer, whatever ``X-Forwarded-For`` says.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from fastapi.testclient import TestClient

from api.limits import COSTLY
from data.db import connect
from layers.workflow.access import add_user

HOLD = "/test/costly-hold"
PEER = ("127.0.0.1", 50000)  # the test client's socket address (an IP, as a real peer's)


@pytest.fixture(scope="module")
def tokens(module_demo):
    conn = connect(url=module_demo)
    tag = secrets.token_hex(3)
    out = [add_user(conn, f"costly-{i}-{tag}", "planner", created_by="test")[1] for i in range(3)]
    conn.commit()
    conn.close()
    return out


class Held:
    """Costly requests kept in flight by the test: each one takes a slot, says so, and waits to be let go."""

    def __init__(self, client: TestClient):
        self.client = client
        self.entered = threading.Semaphore(0)
        self.go = threading.Event()
        self.threads: list[threading.Thread] = []
        self.statuses: list[int] = []

    def route(self) -> dict:
        self.entered.release()
        self.go.wait(120)  # a safety net only: the test lets it go
        return {"held": True}

    def hold(self, headers: dict | None = None) -> None:
        """Send one held request and return once it holds its slot (or fail with what it got instead)."""
        thread = threading.Thread(target=lambda: self.statuses.append(self.client.get(HOLD, headers=headers).status_code))
        thread.start()
        self.threads.append(thread)
        while not self.entered.acquire(timeout=0.05):
            if not thread.is_alive():
                raise AssertionError(f"the held request was not admitted: {self.statuses[-1]}")

    def release(self) -> list[int]:
        """Let every held request finish; their statuses."""
        self.go.set()
        for thread in self.threads:
            thread.join()
        return self.statuses


@pytest.fixture
def held(module_demo, env_for, monkeypatch):
    """A :class:`Held` over the app (limits: 1 per client, 2 in all, Retry-After 7 s; no trusted proxy)."""
    from api.app import create_app

    env_for(module_demo)
    for name in ("HYGIENE_MAP_READS_NEED_TOKEN", "HYGIENE_MAP_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HYGIENE_MAP_COSTLY_PER_CLIENT", "1")
    monkeypatch.setenv("HYGIENE_MAP_COSTLY_TOTAL", "2")
    monkeypatch.setenv("HYGIENE_MAP_COSTLY_RETRY_AFTER_S", "7")
    app = create_app()
    with TestClient(app, raise_server_exceptions=False, client=PEER) as client:
        held = Held(client)
        app.add_api_route(HOLD, held.route, dependencies=[COSTLY])
        try:
            yield held
        finally:
            held.release()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _siting(add: int) -> str:
    # A different ``add`` each: no answer comes from the analysis cache.
    return f"/api/analysis/siting?kind=toilets&add={add}&radius={300 + add}"


def _refused(response, setting: str) -> None:
    assert response.status_code == 429, (response.status_code, response.text[:200])
    assert response.headers["retry-after"] == "7"
    assert setting in response.json()["detail"]
    assert setting in response.json()["detail_zh"] and "耗时请求" in response.json()["detail_zh"], response.text


def test_extra_costly_requests_wait_for_the_ones_in_flight(held, tokens):
    client = held.client
    a, b, c = (_bearer(t) for t in tokens)
    held.hold(a)
    _refused(client.get(HOLD, headers=a), "HYGIENE_MAP_COSTLY_PER_CLIENT")
    _refused(client.get(_siting(1), headers=a), "HYGIENE_MAP_COSTLY_PER_CLIENT")  # siting: the same gate
    held.hold(b)  # another user: its own slot, the second of two in all
    _refused(client.get(_siting(2), headers=c), "HYGIENE_MAP_COSTLY_TOTAL")
    _refused(client.get(_siting(3)), "HYGIENE_MAP_COSTLY_TOTAL")  # anonymous too
    cheap = client.get("/api/layers/toilets/features?limit=5", headers=c)
    assert cheap.status_code == 200  # cheap requests never wait on the gate
    assert held.release() == [200, 200]
    # The slots are given back: the next one is admitted, and the refused user's own again.
    assert client.get(_siting(2), headers=c).status_code == 200
    assert client.get(_siting(1), headers=a).status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_slot(held, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_TRUSTED_PROXIES", "127.0.0.1")  # the peer is our proxy
    held.hold({"X-Forwarded-For": "203.0.113.5"})
    held.hold({"X-Forwarded-For": "203.0.113.6"})  # another client behind the same proxy: admitted
    monkeypatch.setenv("HYGIENE_MAP_COSTLY_TOTAL", "5")  # room in all: only the per-client limit can refuse
    _refused(held.client.get(_siting(4), headers={"X-Forwarded-For": "203.0.113.5"}), "HYGIENE_MAP_COSTLY_PER_CLIENT")
    # What a client writes before the hop the proxy added is its own to forge: it changes nothing.
    forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.6"}
    _refused(held.client.get(_siting(5), headers=forged), "HYGIENE_MAP_COSTLY_PER_CLIENT")
    assert held.client.get(_siting(6), headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    assert held.client.get(_siting(7), headers={"Forwarded": "for=203.0.113.8"}).status_code == 200
    assert held.release() == [200, 200]


def test_from_an_untrusted_peer_forwarded_for_is_ignored(held, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_TRUSTED_PROXIES", "10.0.0.1")  # a proxy, but not the peer
    held.hold({"X-Forwarded-For": "203.0.113.5"})
    for forged in ({"X-Forwarded-For": "203.0.113.6"}, {"Forwarded": "for=203.0.113.7"}, {}):
        _refused(held.client.get(_siting(8), headers=forged), "HYGIENE_MAP_COSTLY_PER_CLIENT")  # all are the peer
    assert held.release() == [200]
    assert held.client.get(_siting(8), headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 200
