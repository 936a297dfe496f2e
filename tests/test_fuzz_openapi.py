"""Schemathesis against the app's own OpenAPI document (/api/openapi.json), in process (WSGI).

Every operation is called with generated valid and invalid data, with the
service token; the default checks apply: no 5xx, status codes, content types
and bodies as documented. A second pass without the token must get 401s only.
"""

from __future__ import annotations

import pytest
import schemathesis
from conftest import TEST_API_TOKEN
from hypothesis import HealthCheck, given, settings

from tickets import seed

API = {"Authorization": f"Bearer {TEST_API_TOKEN}"}


@pytest.fixture
def api_schema(make_app):
    app = make_app()
    from core.db import get_db

    with app.app_context(), get_db(app).session() as s:
        seed.seed(s)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers=API)


# Schemathesis' pytest plugin (from_fixture) does not run under pytest 9, so each
# operation's hypothesis strategy is driven here directly.
FUZZ = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def _operations(schema):
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) >= 8, [op.label for op in ops]
    return ops


def test_api_conforms_to_its_openapi_document(api_schema):
    for op in _operations(api_schema):

        @given(case=op.as_strategy())
        @FUZZ
        def run(case):
            case.call_and_validate(headers=API)

        run()


def test_api_without_credentials_is_always_401(api_schema):
    for op in _operations(api_schema):
        if op.path.endswith("openapi.json"):
            continue

        @given(case=op.as_strategy())
        @settings(FUZZ, max_examples=10)
        def run(case):
            case.headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
            }
            status = case.call().status_code
            assert status == 401, (case.method, case.path, status)

        run()
