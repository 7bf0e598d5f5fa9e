"""Thread and task safety: parse, compile, predicates, stores and the client used concurrently
give exactly the results they give one at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from connlog_query import QueryError, parse
from connlog_query.backends import CompileContext, sql
from connlog_query.backends import memory as memory_backend
from connlog_query.demo import DemoData, generate
from connlog_query.store.sqlite import SQLiteStore

QUERIES = [
    ("type:ssh status:ongoing", "coder"),
    ("workspace_owner:me type:vscode", "coder"),
    ('connected_after:"2025-07-20T00:00:00Z" status:completed', "coder"),
    ("status:x typ:ssh", "coder"),
    ("username:alice user_email:alice@example.com", "coder"),
    ("type:ssh,vscode -status:completed", "extended"),
    ("(type:ssh OR type:tunnel) workspace_owner:me", "extended"),
    ("dev OR -type:workspace_app", "extended"),
    ("NOT (type:ssh", "extended"),
]


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=11, n_logs=300)


def _outcome(text: str, mode: str) -> str:
    try:
        return str(parse(text, mode=mode))  # type: ignore[arg-type]
    except QueryError as exc:
        return repr([e.to_dict() for e in exc.errors])


def test_parse_from_many_threads() -> None:
    # Unique texts per call so the cache cannot hide a race in the parsers themselves.
    jobs = [(f"{text} username:u{i}", mode) for i in range(300) for text, mode in QUERIES]
    expected = [_outcome(t, m) for t, m in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda job: _outcome(*job), jobs))
    assert got == expected


def test_sql_and_memory_compile_from_many_threads(data: DemoData) -> None:
    alice = data.user("alice")
    context = CompileContext(user_id=alice.id)
    queries = []
    for text, mode in QUERIES:
        try:
            queries.append(parse(text, mode=mode))  # type: ignore[arg-type]
        except QueryError:
            continue
    logs = data.connection_logs

    def run(index: int) -> tuple[str, tuple[object, ...], list[uuid.UUID]]:
        query = queries[index % len(queries)]
        try:
            fragment = sql.compile(query, "postgresql", context=context)
            text, params = fragment.sql, tuple(fragment.params)
        except QueryError as exc:
            text, params = str(exc), ()
        try:
            predicate = memory_backend.compile(query, context=context, users=data.users)
            ids = [log.id for log in logs if predicate(log)]
        except QueryError:
            ids = []
        return text, params, ids

    expected = [run(i) for i in range(len(queries) * 20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(run, range(len(queries) * 20))) == expected


@pytest.fixture(scope="module")
def store(data: DemoData) -> Iterator[SQLiteStore]:
    with SQLiteStore(":memory:") as s:
        s.create_schema()
        s.ingest(data)
        yield s


def test_store_list_from_many_threads(store: SQLiteStore, data: DemoData) -> None:
    context = CompileContext(user_id=data.user("alice").id)
    queries = [parse(t) for t, m in QUERIES if m == "coder" and "status:x" not in t]

    def run(index: int) -> str:
        page = store.list(queries[index % len(queries)], limit=20, context=context)
        return page.model_dump_json()

    expected = [run(i) for i in range(len(queries) * 10)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(run, range(len(queries) * 10))) == expected


def test_client_from_threads_and_tasks(store: SQLiteStore, data: DemoData) -> None:
    from connlog_query.client import AsyncClient, Client
    from connlog_query.server.app import create_app
    from connlog_query.server.testing import serve_in_thread

    alice = data.user("alice").id
    app = create_app(store, authenticate=lambda token: alice if token == "t0ken" else None)
    texts = [t for t, m in QUERIES if m == "coder" and "status:x" not in t]
    with serve_in_thread(app) as url:
        with Client(url, token="t0ken") as client:
            expected = {t: client.connection_logs(t, limit=25).model_dump_json() for t in texts}
            with ThreadPoolExecutor(max_workers=8) as pool:
                got = list(
                    pool.map(
                        lambda i: client.connection_logs(
                            texts[i % len(texts)], limit=25
                        ).model_dump_json(),
                        range(80),
                    )
                )
        assert got == [expected[texts[i % len(texts)]] for i in range(80)]

        async def many() -> list[str]:
            async with AsyncClient(url, token="t0ken") as aclient:
                pages = await asyncio.gather(
                    *(aclient.connection_logs(texts[i % len(texts)], limit=25) for i in range(80))
                )
            return [p.model_dump_json() for p in pages]

        assert asyncio.run(many()) == [expected[texts[i % len(texts)]] for i in range(80)]
