"""Fixtures for the server tests: reference apps over one SQLite demo store, on real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from serverkit import TOKEN, Servers

from connlog_query.demo import generate
from connlog_query.server.app import create_app
from connlog_query.server.testing import serve_in_thread
from connlog_query.store.sqlite import SQLiteStore


@pytest.fixture(scope="session")
def demo_store() -> Iterator[SQLiteStore]:
    store = SQLiteStore(":memory:")
    store.create_schema()
    store.ingest(generate(seed=5, n_logs=300))
    yield store
    store.close()


@pytest.fixture(scope="session")
def servers(demo_store: SQLiteStore) -> Iterator[Servers]:
    alice = demo_store.resolve_user("alice")
    assert alice is not None

    def authenticate(token: str) -> uuid.UUID | None:
        return alice if token == TOKEN else None

    broken = SQLiteStore(":memory:")
    broken.close()
    apps = [
        create_app(demo_store, authenticate=authenticate),
        create_app(demo_store, authenticate=authenticate, licensed=False),
        create_app(demo_store, authenticate=authenticate, authorize=lambda user: False),
        create_app(broken, authenticate=authenticate),
        create_app(demo_store, authenticate=authenticate, mode="extended"),
    ]
    with (
        serve_in_thread(apps[0]) as main,
        serve_in_thread(apps[1]) as unlicensed,
        serve_in_thread(apps[2]) as forbidden,
        serve_in_thread(apps[3]) as broken_url,
        serve_in_thread(apps[4]) as extended,
    ):
        yield Servers(demo_store, alice, main, unlicensed, forbidden, broken_url, extended)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
