"""Fixtures for the HTTP client tests: the reference server, a fault server, sync/async drivers.

* ``reference``: the project's ASGI server over an SQLite demo store, on 127.0.0.1 with an
  ephemeral port, served by uvicorn in a background thread; real HTTP.
* ``faults``: a small scripted HTTP/1.1 server (plain asyncio on loopback) that answers each
  request with the next scripted action: a response, a delayed response, or a dropped
  connection. It records every request it saw.
* ``api``: runs the same call through ``Client`` or ``AsyncClient`` (parametrized), with the
  retry sleeps recorded instead of slept, so both clients go through one table of cases.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clientkit import TOKEN, Api, FaultServer, RecordingStore, Reference

from connlog_query.demo import generate
from connlog_query.query import Query
from connlog_query.server.app import create_app
from connlog_query.server.testing import serve_in_thread
from connlog_query.store.sqlite import SQLiteStore


@pytest.fixture(scope="session")
def reference() -> Iterator[Reference]:
    store = SQLiteStore(":memory:")
    store.create_schema()
    store.ingest(generate(seed=4, n_logs=400))
    alice = store.resolve_user("alice")
    assert alice is not None
    seen: list[Query] = []
    app = create_app(
        RecordingStore(store, seen), authenticate=lambda t: alice if t == TOKEN else None
    )
    with serve_in_thread(app) as url:
        yield Reference(url, store, alice, seen)
    store.close()


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    server = FaultServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> Api:
    return Api(request.param)
