"""Print jobs that go wrong, on the small demo: a failure inside the job ends it as failed with a message (never a
job left "running"), its costly-work slot is given back, and a job whose server died is read as failed after a while.
The atlases that succeed are tests/test_print_jobs.py's, on Taipei.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from data.db import connect
from layers.workflow.access import add_user


@pytest.fixture(scope="module")
def demo(module_demo):
    """The demo's smallest street and an admin's token."""
    conn = connect(url=module_demo)
    _, token = add_user(conn, "print-admin", "admin", created_by="test")
    with conn.cursor() as cur:
        cur.execute("SELECT street_code FROM grids GROUP BY street_code ORDER BY count(*), street_code LIMIT 1")
        street = cur.fetchone()[0]
    conn.commit()
    conn.close()
    return {"url": module_demo, "token": token, "street": street}


@pytest.fixture
def client(demo, env_for):
    from api.app import create_app

    env_for(demo["url"])
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {demo['token']}"
        yield c


def _until_ended(client, location: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(location).json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"still {state} after {timeout} s")


def test_a_failure_inside_the_job_ends_it_failed_and_frees_its_slot(client, demo, monkeypatch):
    import layers.printing.docs as docs

    go = threading.Event()

    def broken(*args, **kwargs):
        go.wait(30)
        raise RuntimeError("font cache unreadable")

    monkeypatch.setattr(docs, "atlas_document", broken)
    started = client.post(f"/print/streets/{demo['street']}/atlas/jobs")
    assert started.status_code == 202, started.text
    # The running job holds this client's one costly slot (HYGIENE_MAP_COSTLY_PER_CLIENT=1): a second waits.
    busy = client.post(f"/print/streets/{demo['street']}/atlas/jobs")
    assert busy.status_code == 429 and "HYGIENE_MAP_COSTLY_PER_CLIENT" in busy.text, busy.text
    go.set()
    failed = _until_ended(client, started.headers["location"])
    assert failed["state"] == "failed" and failed["message"].startswith("生成失败：图册生成出错"), failed
    english = client.get(started.headers["location"], params={"lang": "en"}).json()
    assert english["message"].startswith("failed: the atlas could not be drawn"), english
    assert client.get(f"/print/jobs/{failed['id']}/atlas.pdf").status_code == 404  # no PDF to fetch
    again = client.post(f"/print/streets/{demo['street']}/atlas/jobs")  # the slot was given back
    assert again.status_code == 202, again.text
    _until_ended(client, again.headers["location"])


def test_a_job_left_running_by_a_killed_server_is_read_as_failed(client, demo):
    from layers.printing import jobs  # its table's rows written as a job's thread would leave them

    conn = connect(url=demo["url"])
    try:
        user = type("U", (), {"id": 0, "role": "admin"})()
        job_id = jobs.start(conn, user, demo["street"], "A4", "zh")
        with conn.cursor() as cur:  # its thread died with its server: no progress since
            cur.execute("UPDATE print_jobs SET state = 'running', updated_at = now() - %s WHERE id = %s",
                        (jobs.STALE + timedelta(minutes=1), job_id))
        conn.commit()
    finally:
        conn.close()
    state = client.get(f"/print/jobs/{job_id}").json()
    assert state["state"] == "failed" and "服务器已停止" in state["message"], state
