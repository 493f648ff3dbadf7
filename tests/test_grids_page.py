"""The street office's map, served for real and rendered by Debian's headless Chromium (no outside network)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from data.db import connect
from tests.chromium import PHONE

ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"

STREET = "379901001"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def server(demo_db):
    import os

    import uvicorn

    from api.app import create_app

    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = demo_db
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    if old is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = old


def _dom(url: str) -> str:
    profile = tempfile.mkdtemp(prefix="hm-chromium-")
    try:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=10000", "--dump-dom", url],
            capture_output=True, text=True, timeout=90,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_street_map_shows_grids_codes_complaints_and_unit_table(server, demo_db):
    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT responsible_unit) FROM grids WHERE street_code = %s", (STREET,))
        n_grids, n_units = cur.fetchone()
        cur.execute("SELECT count(*) FROM complaints WHERE street_code = %s AND status <> '结案'", (STREET,))
        n_open = cur.fetchone()[0]
        cur.execute("SELECT code FROM grids WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))
        first = cur.fetchone()[0]
    conn.close()
    dom = _dom(f"{server}/map/grids?street={STREET}")
    assert f'data-grids-loaded="{n_grids}"' in dom
    assert f'data-complaints-loaded="{n_open}"' in dom
    labels = re.findall(r'class="leaflet-tooltip grid-code[^"]*"[^>]*>([^<]+)<', dom)
    assert len(labels) == n_grids and f"{first[9:12]}-{first[12:]}" in labels
    assert dom.count('data-unit="') == n_units
    assert len(re.findall(r'class="[^"]*complaint (?:open|overdue)', dom)) == n_open
    assert "<title>" in dom and "网格责任图" in dom


def test_street_map_references_only_local_files_and_has_english(demo_client):
    page = demo_client.get(f"/map/grids?street={STREET}")
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    # data: URIs (the inline empty favicon) make no request at all.
    # Besides its files: the link to the case page of the same host (/cases, the street's complaints to handle),
    # and the street's prints (/print/streets/…: the atlas, the route; /print/grids/…: a grid's sheet in its popup).
    assert all(ref.startswith(("/static/", "?", "data:", f"/cases?street={STREET}", f"/print/streets/{STREET}/",
                                "/print/grids/"))
               for ref in refs), refs
    for ref in refs:
        if ref.startswith("/static/"):
            assert demo_client.get(ref).status_code == 200, ref
    assert "/api/grids?street=379901001" in page.text  # data by URL, not embedded
    en = demo_client.get(f"/map/grids?street={STREET}&lang=en")
    assert '<html lang="en">' in en.text and "Responsible unit" in en.text
    assert demo_client.get("/map/grids?street=379999999").status_code == 404
    missing = demo_client.get("/map/grids")
    assert missing.status_code == 422 and "street" in missing.json()["detail"]


FOCUSED = "document.body.getAttribute('data-grid-focus')"


@pytest.fixture
def phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
    yield browser
    browser.send("Emulation.clearDeviceMetricsOverride")


def test_the_grid_of_a_qr_code_is_zoomed_to_highlighted_and_described_on_a_phone(phone, server, demo_db):
    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT code, responsible_unit FROM grids WHERE street_code = %s ORDER BY code DESC LIMIT 1",
                    (STREET,))
        code, unit = cur.fetchone()
    conn.close()
    report = phone.open(f"{server}/map/grids?street={STREET}&grid={code}", ready_js=FOCUSED, timeout=60)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    assert phone.evaluate(FOCUSED) == code
    assert phone.evaluate("window.innerWidth") == PHONE["width"]
    shown = phone.evaluate(f"""(function () {{
        var p = hygieneGridPage, layer = p.grids[{code!r}], view = p.map.getBounds(), box = layer.getBounds();
        var panel = document.getElementById('unit-panel').getBoundingClientRect();
        var ne = p.map.latLngToContainerPoint(box.getNorthEast()), sw = p.map.latLngToContainerPoint(box.getSouthWest());
        return {{zoom: p.map.getZoom(), inside: view.contains(box), weight: layer.options.weight,
                 color: layer.options.color, popup: layer.isPopupOpen(),
                 clearOfPanel: sw.y <= panel.top + 1 && ne.y >= 0,
                 side: document.getElementById('grid-focus').innerText,
                 share: (box.getNorth() - box.getSouth()) / (view.getNorth() - view.getSouth())}};
    }})()""")
    assert shown["inside"] and shown["popup"] and shown["clearOfPanel"], shown
    assert shown["weight"] == 4 and shown["color"] == "#d7191c", shown
    assert shown["share"] > 0.2 and shown["zoom"] >= 15, shown  # zoomed to the grid, not the whole street
    assert code in shown["side"] and (unit or "") in shown["side"]
    phone.screenshot(ARTIFACTS / "grid-focus-phone.png")


def test_an_unknown_grid_code_is_said_on_the_page(phone, server, demo_client):
    for bad in ("37990100199999", "not-a-grid"):
        report = phone.open(f"{server}/map/grids?street={STREET}&grid={bad}&lang=en", ready_js=FOCUSED, timeout=60)
        assert not report.timed_out and report.failed_requests == [], report.failed_requests
        assert phone.evaluate(FOCUSED) == "missing"
        message = phone.evaluate("document.getElementById('grid-focus').innerText")
        assert bad in message and "no grid" in message
        assert demo_client.get(f"/map/grids?street={STREET}&grid={bad}").status_code == 200
