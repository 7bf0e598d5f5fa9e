"""schemathesis fuzzes the reference app in-process from its own OpenAPI document.

Every generated request (valid and invalid ``q``/``limit``/``offset``, with and without a
token) must get a documented status with a body matching the documented schema, and never a
500. The number of examples is bounded to keep the suite fast.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from connlog_query.demo import generate
from connlog_query.server.app import create_app
from connlog_query.store.sqlite import SQLiteStore

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra")
from schemathesis import checks  # noqa: E402

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_app() -> Any:
    store = SQLiteStore(":memory:")
    store.create_schema()
    store.ingest(generate(seed=6, n_logs=150))
    someone = store.resolve_user("alice") or uuid.uuid4()
    # Every non-empty token is accepted, so generated tokens reach the query parser.
    return create_app(store, authenticate=lambda token: someone)


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_input_gives_a_server_error(fuzz_app: Any, mode: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operation = schema["/api/v2/connectionlog"]["GET"]
    seen: set[int] = set()

    @given(case=operation.as_strategy(schemathesis.GenerationMode(mode)))
    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call()
        seen.add(response.status_code)
        assert response.status_code < 500, response.text
        case.validate_response(response, checks=CHECKS)

    run()
    # The fuzzing reached every layer: authentication (401), validation (400) and the store.
    assert {200, 400, 401} <= seen
