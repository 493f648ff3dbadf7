"""Over Taipei's real files (tests/real_city.py): a missing photo file and the home page on a phone (findings F5 and
F15 of the ops walk).

- A photo whose file is gone (a restore without the photo folder) is a 404 照片不可用 / "photo not available" to
  anyone holding its public URL, not the server's folder; the server's log names the file.
- The home page at 390 px: the layers named in Chinese (no raw ids such as ``garbage_stations``), and the 登录
  button over none of the page's links where the page opens, nor scrolled to its end.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from layers.spec.registry import LAYERS
from tests.chromium import PHONE
from tests.inspecting import photo_bytes
from tests.phone_layout import BOXES, SHOTS, phone  # noqa: F401  (a pytest fixture, used by name)
from tests.real_city import TAIPEI_STREET, taipei, taipei_grids, taipei_server  # noqa: F401  (fixtures)


@pytest.fixture
def client(taipei_server, monkeypatch, tmp_path):
    """The app in this process over Taipei's database, its photos in a folder of the test's own."""
    from api.app import create_app

    monkeypatch.setenv("DATABASE_URL", taipei_server.url)
    monkeypatch.setenv("HYGIENE_MAP_PHOTO_DIR", str(tmp_path / "photos"))
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {taipei_server.token}"
        yield c


def test_a_photo_whose_file_is_missing_is_not_available_without_the_servers_path(client, taipei_server, tmp_path,
                                                                                   caplog):
    lon, lat = taipei_server.sql("SELECT ST_X(geom), ST_Y(geom) FROM garbage_stations WHERE street_code = %s "
                                 "ORDER BY source_id LIMIT 1", (TAIPEI_STREET,))[0]
    made = client.post("/api/complaints", json={"lon": lon, "lat": lat, "category": "暴露垃圾", "source": "巡查",
                                                "description": "華陰街口垃圾"})
    assert made.status_code == 201, made.text
    sent = client.post(f"/api/complaints/{made.json()['id']}/photos", data={"stage": "before"},
                       files={"file": ("before.jpg", photo_bytes(), "image/jpeg")})
    assert sent.status_code == 201, sent.text
    url = sent.json()["url"]
    assert client.get(url, headers={"Authorization": ""}).status_code == 200
    stored = [p for p in (tmp_path / "photos").rglob("*.jpg")]
    assert len(stored) == 1
    for path in (tmp_path / "photos").rglob("*"):  # the folder lost, as after a restore without it
        if path.is_file():
            path.unlink()
    with caplog.at_level(logging.WARNING):
        anonymous = client.get(url, headers={"Authorization": ""})
        zh_page = client.get(url, headers={"Authorization": "", "Accept": "text/html"})
    assert anonymous.status_code == 404, anonymous.text
    assert anonymous.json() == {"detail": "photo not available", "detail_zh": "照片不可用"}
    assert str(tmp_path) not in zh_page.text and "photos" not in anonymous.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(stored[0]) in logged, logged  # the administrator finds which file is gone


def _layer_cells(browser) -> list[str]:
    return browser.evaluate("Array.from(document.querySelectorAll('tr[data-layer]'))"
                            ".map(function (r) { return r.innerText; })")


@pytest.mark.browser
def test_the_home_page_on_a_phone_names_layers_in_chinese_and_the_login_button_covers_no_link(taipei_server, phone):
    report = phone.open(taipei_server.base + "/", timeout=60)
    assert not report.timed_out and report.console_errors == []
    assert phone.evaluate("innerWidth") == PHONE["width"]
    phone.screenshot(SHOTS / "home-quiet-phone.png")
    rows = _layer_cells(phone)
    assert rows and len(rows) == len(LAYERS)
    for spec, row in zip(LAYERS, rows, strict=True):
        assert spec.name("zh") in row and spec.id not in row, row
    clashes = []
    for where in ("top", "end"):
        if where == "end":
            phone.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            time.sleep(0.2)
            phone.screenshot(SHOTS / "home-quiet-phone-end.png")
        found = phone.evaluate(BOXES)
        clashes += [f"{where}: {c}" for c in found["clashes"]]
    assert clashes == [], clashes
    assert phone.evaluate("!!document.getElementById('hm-login')"), "the 登录 button is still on the page"
    assert Path(SHOTS / "home-quiet-phone.png").exists()
