"""Property: for random demo data and random valid queries, every backend and store agrees.

Each example draws a small seeded data set and a query built from values present in it (user
names including deleted ones, emails, organization names and ids, connect times at, just
before and just after stored ones, workspace and connection ids, ``me``). Then:

* the in-memory predicate selects exactly the oracle's rows;
* every store (memory, SQLite, PostgreSQL, MariaDB) lists the oracle's rows in the oracle's order;
* every store returns the same page (byte-identical JSON) for a random limit and offset.

A second property does the same for random EXTENDED expressions (value lists, wildcards, free
text, absolute and relative time bounds, NOT/AND/OR nested) over the demo data plus users and
workspaces with LIKE metacharacters, mixed case and non-ASCII names
(``store_helpers.extended_data``), with the clock injected as ``CompileContext(now=NOW)``.

Connections are opened once per module; each example replaces the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, given, settings

from connlog_query import Query, QueryError
from connlog_query.backends import memory
from connlog_query.backends.context import CompileContext
from connlog_query.demo import DemoData
from connlog_query.store import Store
from store_helpers import (
    KINDS,
    NOW,
    UnknownOrganization,
    extended_scenarios,
    open_kind,
    oracle,
    scenarios,
    server_dsns,
)


class _Loaded:
    """The stores of this module and the data set they currently hold."""

    def __init__(self, stores: dict[str, Store]) -> None:
        self.stores = stores
        self.data: DemoData | None = None

    def hold(self, data: DemoData) -> None:
        if self.data is data:
            return
        for store in self.stores.values():
            store.clear()
            store.ingest(data)
        self.data = data


@pytest.fixture(scope="module")
def loaded(request: pytest.FixtureRequest) -> Iterator[_Loaded]:
    """One store of every kind, opened once for all examples."""
    dsns = {**server_dsns(request, "postgresql"), **server_dsns(request, "mysql")}
    with (
        open_kind("memory") as mem,
        open_kind("sqlite") as lite,
        open_kind("postgresql", pg_dsn=dsns["pg_dsn"]) as pg,
        open_kind("mysql", mysql_dsn=dsns["mysql_dsn"]) as my,
    ):
        stores: dict[str, Store] = {"memory": mem, "sqlite": lite, "postgresql": pg, "mysql": my}
        assert sorted(stores) == sorted(KINDS)
        yield _Loaded(stores)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except QueryError as exc:
        return ("error", [e.to_dict() for e in exc.errors])


def _assert_agree(
    loaded: _Loaded,
    data: DemoData,
    query: Query,
    context: CompileContext,
    expected: list[uuid.UUID],
    limit: int,
    offset: int,
) -> None:
    """The memory backend and every store select ``expected`` (stores in its order, with
    Coder's capped count), and every store answers the page byte-identically."""
    predicate = memory.compile(
        query, context=context, users=data.users, organizations=data.organizations
    )
    assert {log.id for log in data.connection_logs if predicate(log)} == set(expected)

    pages = {}
    for kind, store in loaded.stores.items():
        everything = store.list(query, limit=5000, context=context)
        assert [log.id for log in everything.connection_logs] == expected, kind
        assert everything.count == min(len(expected), 2001), kind
        pages[kind] = _outcome(
            lambda s=store: s.list(
                query, limit=limit, offset=offset, context=context
            ).model_dump_json()
        )
    assert len(set(pages.values())) == 1, pages


@settings(max_examples=30, deadline=None)
@given(scenario=scenarios())
def test_backends_and_stores_agree(
    loaded: _Loaded, scenario: tuple[DemoData, Query, uuid.UUID, int, int]
) -> None:
    data, query, caller, limit, offset = scenario
    context = CompileContext(user_id=caller)
    loaded.hold(data)
    try:
        expected = oracle(data, query, user_id=caller)
    except UnknownOrganization:
        pytest.fail("strategies only draw live organization names")
    event("some rows match" if expected else "no row matches")

    _assert_agree(loaded, data, query, context, expected, limit, offset)


@settings(max_examples=80, deadline=None)
@given(scenario=extended_scenarios())
def test_extended_queries_agree(
    loaded: _Loaded, scenario: tuple[DemoData, Query, uuid.UUID, int, int]
) -> None:
    data, query, caller, limit, offset = scenario
    context = CompileContext(user_id=caller, now=NOW)
    loaded.hold(data)
    expected = oracle(data, query, user_id=caller, now=NOW)
    event("some rows match" if expected else "no row matches")
    event("has a where part" if query.where is not None else "Coder-mode only")

    _assert_agree(loaded, data, query, context, expected, limit, offset)
