"""``open_store`` URLs, SQLite files, and ingest's all-or-nothing transaction."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from pathlib import Path

import pytest

from connlog_query import Query, parse
from connlog_query.backends.schema import Schema
from connlog_query.demo import generate
from connlog_query.store import (
    MemoryStore,
    MySQLStore,
    PostgresStore,
    SQLiteStore,
    Store,
    open_store,
    sqlite_path,
)
from connlog_query.store.mysql import parse_mysql_url
from store_helpers import open_kind, oracle, server_dsns

DATA = generate(seed=3, n_logs=120)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite://:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:///relative.db", "relative.db"),
        ("sqlite:////abs/path.db", "/abs/path.db"),
        ("plain/file.db", "plain/file.db"),
        ("memory://", None),
        ("postgresql://x@h/db", None),
    ],
)
def test_sqlite_paths(url: str, path: str | None) -> None:
    assert sqlite_path(url) == path


def test_bad_urls() -> None:
    with pytest.raises(ValueError, match="unknown store URL scheme"):
        open_store("oracle://x")
    with pytest.raises(ValueError, match="invalid SQLite URL"):
        open_store("sqlite://host/file.db")
    with pytest.raises(ValueError, match="no database"):
        parse_mysql_url("mysql://root@127.0.0.1:3306/")


def test_mysql_url() -> None:
    assert parse_mysql_url("mariadb://u%40x:p%2Fw@db.example:3307/logs") == {
        "host": "db.example",
        "port": 3307,
        "user": "u@x",
        "password": "p/w",
        "database": "logs",
    }


def test_open_store_kinds(tmp_path: Path, pg_dsn: str, mysql_dsn: str) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    with open_store(f"sqlite:///{tmp_path}/a.db") as store:
        assert isinstance(store, SQLiteStore)
        assert isinstance(store, Store)
    assert (tmp_path / "a.db").exists()
    with open_store(pg_dsn.replace("postgresql://", "postgres://")) as store:
        assert isinstance(store, PostgresStore)
    with open_store(mysql_dsn) as store:
        assert isinstance(store, MySQLStore)


def test_memory_url_takes_the_schema_type_mode() -> None:
    store = open_store("memory://", schema=Schema(type_mode="exact"))
    assert isinstance(store, MemoryStore)
    assert store.type_mode == "exact"


def test_sqlite_file_persists(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    with SQLiteStore(path) as store:
        store.create_schema()
        store.create_schema()  # idempotent
        store.ingest(DATA)
    with open_store(f"sqlite:///{path}") as store:
        page = store.list(parse("type:ssh"), limit=500)
    assert [log.id for log in page.connection_logs] == oracle(DATA, parse("type:ssh"))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_failed_ingest_leaves_nothing(request: pytest.FixtureRequest, kind: str) -> None:
    duplicate = dataclasses.replace(DATA.logs[1], id=DATA.logs[0].id)
    with open_kind(kind, **server_dsns(request, kind)) as store:
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            store.ingest(DATA, logs=[duplicate], batch_size=7)
        assert store.count(Query(), count_cap=0) == 0
        assert store.resolve_user("alice") is None
        store.ingest(DATA)  # the connection is still usable
        assert store.count(Query(), count_cap=0) == len(DATA.logs)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql", "mysql"])
def test_clear_keeps_tables(request: pytest.FixtureRequest, kind: str) -> None:
    with open_kind(kind, **server_dsns(request, kind)) as store:
        store.ingest(DATA)
        store.clear()
        assert store.count(Query(), count_cap=0) == 0
        store.ingest(DATA)
        assert store.count(Query(), count_cap=0) == len(DATA.logs)


def test_bad_batch_size() -> None:
    with SQLiteStore() as store, pytest.raises(ValueError, match="batch_size"):
        store.ingest(DATA, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        MemoryStore().ingest(DATA, batch_size=0)


def test_postgres_db_schema_must_be_an_identifier(pg_dsn: str) -> None:
    with pytest.raises(ValueError, match="db_schema"):
        PostgresStore(pg_dsn, db_schema='x"; drop schema public; --')


@pytest.mark.parametrize("kind", ["memory", "mysql"])
def test_duplicate_live_names_take_the_smallest_id(
    request: pytest.FixtureRequest, kind: str
) -> None:
    """Coder's unique indexes forbid two live users with one name; MariaDB cannot enforce
    them, so every backend picks the smallest id, as the SQL look-up does."""
    alice = DATA.user("alice")
    twins = [
        dataclasses.replace(alice, id=uuid.UUID(int=n), username="Twin", email=f"t{n}@x.io")
        for n in (7, 5)
    ]
    logs = [
        dataclasses.replace(
            DATA.logs[i],
            id=uuid.UUID(int=100 + i),
            workspace_owner_id=t.id,
            connection_id=uuid.UUID(int=200 + i),
        )
        for i, t in enumerate(twins)
    ]
    with open_kind(kind, **server_dsns(request, kind)) as store:
        store.ingest(DATA, users=twins, logs=logs)
        assert store.resolve_user("twin") == uuid.UUID(int=5)
        page = store.list(parse("workspace_owner:twin"))
        assert [log.workspace_owner_id for log in page.connection_logs] == [uuid.UUID(int=5)]


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("postgresql://x@127.0.0.1/db", "psycopg", "postgres"),
        ("mysql://r@h/db", "pymysql", "mysql"),
    ],
)
def test_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=rf"connlog-query\[{extra}\]"):
        open_store(url)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql"])
def test_one_store_serves_many_threads(request: pytest.FixtureRequest, kind: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = [parse(t) for t in ("type:ssh", "organization:acme", "username:bob", "")]
    with open_kind(kind, **server_dsns(request, kind)) as store:
        store.ingest(DATA)
        expected = [oracle(DATA, q)[:100] for q in queries]

        def work(i: int) -> list[uuid.UUID]:
            page = store.list(queries[i % len(queries)])
            return [log.id for log in page.connection_logs]

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(work, range(40)))
    assert results == [expected[i % len(queries)] for i in range(40)]
