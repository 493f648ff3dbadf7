"""Schemathesis over the whole OpenAPI document, with an admin token.

Every operation gets generated requests (valid and invalid); the server must
never answer 5xx and every answer must match its documented schema. Each run
draws fresh examples (a new seed per run), bounded in time: few examples per
operation, fewer for the costly ones (analyses, prints), whose answers take
seconds each. bench/fuzz_long.sh runs many more examples.

To replay a failure, run again with the seed the failure names::

    HYGIENE_MAP_FUZZ_SEED=<seed> .venv/bin/python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import os
import random

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from data.db import connect, transaction
from data.demo.city import generate
from data.demo.load import load
from data.migrate import migrate
from layers.workflow.access import add_user

EXAMPLES = int(os.environ.get("HYGIENE_MAP_FUZZ_EXAMPLES", "12"))
COSTLY_EXAMPLES = max(1, EXAMPLES // 4)
SEED = int(os.environ.get("HYGIENE_MAP_FUZZ_SEED") or random.getrandbits(64))
# Operations whose valid answers take seconds (an analysis, a PDF, a whole-layer export): fuzzed with
# fewer generated examples and without the coverage phase's hundreds of fixed cases.
COSTLY = r"^/(api/analysis|map/(coverage|hotspots)|print)/|/export$"


# The OpenAPI document needs no database; the app reads its database settings
# only when its lifespan starts (in the fixture below), after DATABASE_URL is set.
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.seed = SEED
cheap = schema.exclude(path_regex=COSTLY)
costly = schema.include(path_regex=COSTLY)


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
    env = {"DATABASE_URL": url}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with TestClient(APP):  # the lifespan makes the pool every call below uses
            yield token
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        drop_database(url)


def _call(case, token: str) -> None:
    """Send the case; a failure names the seed that replays it."""
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               checks=[not_a_server_error, response_schema_conformance])
    except BaseException as exc:
        exc.add_note(f"replay this run: HYGIENE_MAP_FUZZ_SEED={SEED} pytest tests/test_fuzz.py")
        raise


# database=None: no example database either, so nothing is replayed from an earlier run.
@cheap.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_matches_its_schema(case, admin_token):
    _call(case, admin_token)


@costly.parametrize()
@settings(max_examples=COSTLY_EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_costly_operations_too(case, admin_token):
    _call(case, admin_token)
