"""Schemathesis over the whole OpenAPI document, with an admin token.

Every operation gets generated requests (valid and invalid); the server must
never answer 5xx and every answer must match its documented schema. This is
the CI-sized run; bench/fuzz_long.sh runs many more examples.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from data.db import connect, transaction
from data.demo.city import generate
from data.demo.load import load
from data.migrate import migrate
from layers.workflow.access import add_user

EXAMPLES = int(os.environ.get("HYGIENE_MAP_FUZZ_EXAMPLES", "12"))


# The OpenAPI document needs no database; the app reads its database settings
# only when its lifespan starts (in the fixture below), after DATABASE_URL is set.
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def admin_token(pg_server):
    """Start APP over its own small demo city (the fuzzer writes) and give an admin token."""
    from fastapi.testclient import TestClient

    from tests.conftest import create_database, drop_database

    url = create_database(pg_server[0])
    conn = connect(url=url)
    migrate(conn)
    with transaction(conn):
        load(conn, generate("small", 5))
    _, token = add_user(conn, "fuzzer", "admin", created_by="test")
    conn.commit()
    conn.close()
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        with TestClient(APP):  # the lifespan makes the pool every call below uses
            yield token
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        drop_database(url)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_matches_its_schema(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
