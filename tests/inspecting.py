"""Helpers of the inspection tests: users of every role on a demo copy, rounds and findings over HTTP."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from data.db import connect
from layers.workflow.access import add_user

OWN_STREET, OTHER_STREET = "379901001", "379901002"
USERS = [("admin1", "admin", None, None), ("admin2", "admin", None, None), ("planner1", "planner", None, None),
         ("street1", "street", OWN_STREET, None), ("street2", "street", OTHER_STREET, None),
         ("inspector1", "inspector", None, "own"), ("inspector2", "inspector", OWN_STREET, None),
         ("inspector3", "inspector", OTHER_STREET, None)]


def query(url, sql, params=()):
    conn = connect(url=url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


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
    """A test client of the app on ``city``'s database."""
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = city["url"]
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
    if old is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = old


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
