"""Costly work is limited per client and overall: 429 with Retry-After past the limit (issue 14, item 12).

Threads send costly requests at once to a real server (uvicorn over the
small demo, default limits: 1 per client, 2 in all); the extra ones get 429
naming the setting, the admitted ones succeed, cheap requests are unaffected.
"""

from __future__ import annotations

import secrets
import threading
import urllib.error
import urllib.request

import pytest

from data.db import connect
from layers.workflow.access import add_user


@pytest.fixture(scope="module")
def tokens(demo_db):
    conn = connect(url=demo_db)
    tag = secrets.token_hex(3)
    out = [add_user(conn, f"costly-{i}-{tag}", "planner", created_by="test")[1] for i in range(4)]
    conn.commit()
    conn.close()
    return out


def _get(url: str, token: str | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, _lower(response.headers), response.read()[:200].decode("latin-1")
    except urllib.error.HTTPError as exc:
        return exc.code, _lower(exc.headers), exc.read().decode()


def _lower(headers) -> dict:
    return {k.lower(): v for k, v in headers.items()}


def _at_once(urls_tokens: list[tuple[str, str | None]]) -> list[tuple[int, dict, str]]:
    results: list = [None] * len(urls_tokens)
    start = threading.Barrier(len(urls_tokens))

    def run(i, url, token):
        start.wait()
        results[i] = _get(url, token)

    threads = [threading.Thread(target=run, args=(i, u, t)) for i, (u, t) in enumerate(urls_tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _siting(server: str, add: int) -> str:
    # A different ``add`` each: no request is answered from the analysis cache.
    return f"{server}/api/analysis/siting?kind=toilets&add={add}&radius={300 + add}"


def test_one_costly_request_per_client(server):
    results = _at_once([(_siting(server, 1 + i), None) for i in range(3)])  # one client: the same IP
    statuses = sorted(r[0] for r in results)
    assert statuses == [200, 429, 429], [(r[0], r[2][:120]) for r in results]
    for status, headers, body in results:
        if status == 429:
            assert int(headers["retry-after"]) > 0
            assert "HYGIENE_MAP_COSTLY_PER_CLIENT" in body


def test_costly_requests_limited_overall_and_cheap_ones_unaffected(server, tokens):
    urls = [(_siting(server, 11 + i), token) for i, token in enumerate(tokens)]
    cheap: list = []
    stop = threading.Event()

    def cheap_reads():
        while not stop.is_set():
            cheap.append(_get(f"{server}/api/layers/toilets/features?limit=5")[0])

    reader = threading.Thread(target=cheap_reads)
    reader.start()
    try:
        results = _at_once(urls)
    finally:
        stop.set()
        reader.join()
    statuses = sorted(r[0] for r in results)
    assert statuses == [200, 200, 429, 429], [(r[0], r[2][:120]) for r in results]
    assert all("HYGIENE_MAP_COSTLY_TOTAL" in r[2] and r[1].get("retry-after") for r in results if r[0] == 429)
    assert cheap and set(cheap) == {200}
    # The slots are given back: the same requests now pass one after the other.
    assert _get(urls[2][0], urls[2][1])[0] == 200
