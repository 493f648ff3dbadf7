"""Helpers of the inspection tests: users of every role on a demo copy, rounds and findings over HTTP."""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from data.db import connect
from layers.workflow.access import add_user
from tests.conftest import query

OWN_STREET, OTHER_STREET = "379901001", "379901002"
USERS = [("admin1", "admin", None, None), ("admin2", "admin", None, None), ("planner1", "planner", None, None),
         ("street1", "street", OWN_STREET, None), ("street2", "street", OTHER_STREET, None),
         ("inspector1", "inspector", None, "own"), ("inspector2", "inspector", OWN_STREET, None),
         ("inspector3", "inspector", OTHER_STREET, None)]


def make_city(url: str) -> dict:
    """Users of every role on a writable demo copy; their tokens and three grids (two of one street)."""
    grids = {name: query(url, "SELECT code FROM grids WHERE street_code = %s ORDER BY code LIMIT 2", (street,))
             for name, street in (("own", OWN_STREET), ("other", OTHER_STREET))}
    grid = {"own": grids["own"][0][0], "own2": grids["own"][1][0], "other": grids["other"][0][0]}
    conn = connect(url=url)
    tokens = {}
    for name, role, street, grid_key in USERS:
        _, tokens[name] = add_user(conn, name, role, street_code=street,
                                   grid_codes=[grid[grid_key]] if grid_key else None, created_by="test")
    conn.commit()
    conn.close()
    return {"url": url, "tokens": tokens, "grid": grid}


@contextmanager
def app_client(city):
    """A test client of the app on ``city``'s database, its photos in a directory of their own."""
    names = ("DATABASE_URL", "HYGIENE_MAP_PHOTO_DIR")
    old = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory() as photos:
        os.environ.update(DATABASE_URL=city["url"], HYGIENE_MAP_PHOTO_DIR=photos)
        city["photos"] = Path(photos)
        with TestClient(create_app(), raise_server_exceptions=False) as c:
            yield c
    for name, value in old.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def auth(city, name):
    return {} if name is None else {"Authorization": f"Bearer {city['tokens'][name]}"}


def point_in(city, grid_key):
    return query(city["url"], "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                              "WHERE code = %s) s", (city["grid"][grid_key],))[0]


def new_round(client, city, streets=(OWN_STREET, OTHER_STREET), kind="月度暗访"):
    now = datetime.now(UTC)
    body = {"name": f"暗访 {uuid.uuid4().hex[:6]}", "kind": kind, "starts": (now - timedelta(days=7)).isoformat(),
            "ends": (now + timedelta(days=7)).isoformat(), "streets": list(streets)}
    response = client.post("/api/inspections/rounds", json=body, headers=auth(city, "admin1"))
    assert response.status_code == 201, response.text
    return response.json()


def post_finding(client, city, round_id, grid_key="own", user="inspector1", item="TLT-01", client_id=None,
                 observed=None, **extra):
    lon, lat = point_in(city, grid_key)
    body = {"round_id": round_id, "lon": lon, "lat": lat, "item": item, "note": "公厕门口 王某某 13800000000",
            "observed_at": (observed or datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "client_id": client_id or str(uuid.uuid4()), **extra}
    return client.post("/api/inspections/findings", json=body, headers=auth(city, user))


def photo_bytes(color=(200, 30, 30), fmt="JPEG", exif: bool = True) -> bytes:
    """A small photo; with EXIF naming a camera, its serial, an owner, a time and a GPS position (Yantai)."""
    image = Image.new("RGB", (64, 48), color)
    out = io.BytesIO()
    if not exif:
        image.save(out, format=fmt)
        return out.getvalue()
    data = image.getexif()
    data[0x010F], data[0x013B] = "PhoneMaker", "张三的手机"  # Make, Artist
    data.get_ifd(0x8769).update({0x9003: "2026:11:29 09:30:00", 0xA431: "SERIAL-XYZ-123"})
    data.get_ifd(0x8825).update({1: "N", 2: (37.0, 29.0, 24.0), 3: "E", 4: (121.0, 22.0, 48.0)})
    image.save(out, format=fmt, exif=data)
    return out.getvalue()


def upload(client, city, finding_id, stage, user, data=None, name="photo.jpg", media_type="image/jpeg"):
    files = {"file": (name, data if data is not None else photo_bytes(), media_type)}
    return client.post(f"/api/inspections/findings/{finding_id}/photos", data={"stage": stage}, files=files,
                       headers=auth(city, user))


# The fixtures of the inspection test modules (imported there by these names; pytest knows them as city, client).
@pytest.fixture(scope="module", name="city")
def city_fixture(module_demo):
    """A module copy of the small demo city with a user of every role."""
    return make_city(module_demo)


@pytest.fixture(scope="module", name="client")
def client_fixture(city):
    with app_client(city) as c:
        yield c
