"""docker-compose.yml parses and wires the app to a healthy PostGIS.

No Docker engine runs on the project's machines, so this checks the file,
not a running stack (README says so).
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_compose_wires_the_app_to_a_healthy_postgis():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    db, app = services["db"], services["app"]
    assert "postgis" in db["image"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    url = app["environment"]["DATABASE_URL"]
    assert "@db:5432/" in url
    assert db["environment"]["POSTGRES_DB"] == url.rsplit("/", 1)[1]
    assert app["build"] in (".", {"context": "."}) or app["build"]["context"] == "."
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "hygiene-map" in dockerfile and "db migrate" in " ".join(app["command"] if isinstance(app["command"], list) else [app["command"]]) + dockerfile
    assert any("8000" in str(p) for p in app["ports"])


def test_compose_keeps_photos_on_a_volume_and_the_app_image_can_back_up():
    """A new app container (an upgrade) keeps the photos; `docker compose exec app hygiene-map db backup` finds
    pg_dump of the db service's major version; the password comes from the environment, as before by default."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    db, app = compose["services"]["db"], compose["services"]["app"]
    home = app["environment"]["HYGIENE_MAP_HOME"]
    volume = next(v.split(":")[0] for v in app["volumes"] if v.split(":")[1] == home)
    assert volume in compose["volumes"]
    major = db["image"].split(":")[1].split("-")[0]  # postgis/postgis:15-3.3 → 15
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"postgresql-client-{major}" in dockerfile
    assert "bookworm" in dockerfile.splitlines()[1]  # whose own postgresql-client-15 apt installs
    assert db["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-hygiene_map}"
    assert ":${POSTGRES_PASSWORD:-hygiene_map}@db:5432/" in app["environment"]["DATABASE_URL"]


def test_compose_passes_the_public_address_through():
    """Users on other computers reach the compose stack by its DNS name: the app must be told it, else QGIS's paging
    links and the prints' QR codes point at an address only the container knows (ops walkthrough F9)."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    env = compose["services"]["app"]["environment"]
    assert env["HYGIENE_MAP_PUBLIC_URL"] == "${HYGIENE_MAP_PUBLIC_URL:-}"
    assert env["HYGIENE_MAP_ALLOWED_HOSTS"] == "${HYGIENE_MAP_ALLOWED_HOSTS:-}"
