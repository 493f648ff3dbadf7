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
