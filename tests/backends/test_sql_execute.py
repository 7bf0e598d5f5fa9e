"""The SQL and SQLAlchemy backends on real databases: SQLite, PostgreSQL and MariaDB.

Every database gets Coder's schema from ``ddl.create_schema`` (in a uniquely named PostgreSQL
schema, behind a unique MariaDB table prefix, or in an in-memory SQLite database) and the
hand-made dataset of ``test_sql_dataset``; then every case must return exactly its expected
rows, in Coder's order, through ``select_logs`` / ``count_logs`` and through the SQLAlchemy
expression.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_sql_dataset import (
    CALLER,
    CASES,
    LOGS,
    ME_CONTEXT,
    OBRIEN_EMAIL,
    ORGS,
    USERS,
    Case,
    cid,
    expected_for,
    lid,
    oid,
    ordered,
    uid,
)

from connlog_query import Query, QueryError
from connlog_query.backends import ddl
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema, base_name
from connlog_query.backends.sql import (
    compile,
    count_logs,
    decode_row,
    get_dialect,
    select_logs,
)

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy.pool import StaticPool  # noqa: E402

from connlog_query.backends import sqlalchemy as sa_backend  # noqa: E402


@dataclass
class Db:
    """One live database holding the dataset."""

    dialect: str
    conn: Any
    schema: Schema
    engine: Any

    def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def execute(self, sql: str, params: Any = ()) -> None:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
        finally:
            cur.close()
        if self.dialect == "sqlite":
            self.conn.commit()

    def with_mode(self, type_mode: str) -> Schema:
        s = self.schema
        return Schema(s.connection_logs, s.users, s.organizations, type_mode=type_mode)  # type: ignore[arg-type]


def _fill(db: Db) -> None:
    for sql in ddl.create_schema(db.dialect, db.schema):
        db.execute(sql)
    for table, records in (("organizations", ORGS), ("users", USERS), ("connection_logs", LOGS)):
        sql = ddl.insert_sql(db.dialect, table, db.schema)  # type: ignore[arg-type]
        for record in records:
            db.execute(sql, ddl.insert_params(db.dialect, table, record))  # type: ignore[arg-type]


def _suffix() -> str:
    return uuid.uuid4().hex[:10]


@contextmanager
def sqlite_database() -> Iterator[Db]:
    """An in-memory SQLite database holding the dataset (shared with a SQLAlchemy engine)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    engine = sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    db = Db("sqlite", conn, Schema(), engine)
    try:
        _fill(db)
        yield db
    finally:
        engine.dispose()
        conn.close()


@contextmanager
def postgresql_database(pg_dsn: str) -> Iterator[Db]:
    """The dataset in a PostgreSQL schema of its own, dropped afterwards."""
    import psycopg

    ns = f"clq_sql_{_suffix()}"
    conn = psycopg.connect(pg_dsn, autocommit=True)
    conn.execute(f'CREATE SCHEMA "{ns}"')
    schema = Schema(f"{ns}.connection_logs", f"{ns}.users", f"{ns}.organizations")
    engine = sa.create_engine(pg_dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        db = Db("postgresql", conn, schema, engine)
        _fill(db)
        yield db
    finally:
        engine.dispose()
        conn.execute(f'DROP SCHEMA "{ns}" CASCADE')
        conn.close()


@contextmanager
def mysql_database(mysql_dsn: str) -> Iterator[Db]:
    """The dataset in MariaDB tables behind a unique prefix, dropped afterwards."""
    import pymysql

    parts = urlsplit(mysql_dsn)
    kwargs = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": parts.username or "root",
        "password": parts.password or "",
        "database": (parts.path or "/test").lstrip("/"),
    }
    conn = pymysql.connect(**kwargs, charset="utf8mb4", autocommit=True)
    schema = Schema().with_prefix(f"clq_{_suffix()}_")
    url = sa.engine.URL.create(
        "mysql+pymysql",
        username=kwargs["user"],
        password=kwargs["password"] or None,
        host=kwargs["host"],
        port=kwargs["port"],
        database=kwargs["database"],
        query={"charset": "utf8mb4"},
    )
    engine = sa.create_engine(url)
    db = Db("mysql", conn, schema, engine)
    try:
        _fill(db)
        yield db
    finally:
        engine.dispose()
        for sql in ddl.drop_schema("mysql", schema):
            db.execute(sql)
        conn.close()


def run_sql(db: Db, query: Query, context: CompileContext, schema: Schema, **kw: Any) -> list[Any]:
    frag = select_logs(query, db.dialect, context=context, schema=schema, **kw)
    dialect = get_dialect(db.dialect)
    return [decode_row(dialect, row)["id"] for row in db.fetch(frag.sql, frag.params)]


def run_count(db: Db, query: Query, context: CompileContext, schema: Schema, cap: int) -> int:
    frag = count_logs(query, db.dialect, context=context, schema=schema, count_cap=cap)
    ((count,),) = db.fetch(frag.sql, frag.params)
    return int(count)


def run_sqlalchemy(db: Db, query: Query, context: CompileContext, schema: Schema) -> list[Any]:
    tables = sa_backend.tables(sa.MetaData(), schema)
    logs = tables.connection_logs
    # The same joins as Coder's list query: they must not change what the look-ups see.
    owner = tables.users.alias("owner_user")
    stmt = (
        sa.select(logs.c.id)
        .select_from(logs.join(owner, owner.c.id == logs.c.workspace_owner_id))
        .where(sa_backend.compile(query, tables=tables, context=context))
        .order_by(logs.c.connect_time.desc(), logs.c.id.desc())
    )
    with db.engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


Runner = Callable[[Db, Query, CompileContext, Schema], list[Any]]
RUNNERS: dict[str, Runner] = {"sql": run_sql, "sqlalchemy": run_sqlalchemy}


@pytest.mark.parametrize("type_mode", ["family", "exact"])
@pytest.mark.parametrize("via", sorted(RUNNERS))
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_cases_return_exactly_the_expected_rows(db: Db, c: Case, via: str, type_mode: str) -> None:
    schema = db.with_mode(type_mode)
    expected = ordered(expected_for(c, type_mode))
    assert RUNNERS[via](db, c.query, c.context, schema) == expected


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_count_matches_the_rows(db: Db, c: Case) -> None:
    assert run_count(db, c.query, c.context, db.schema, 0) == len(c.expected)


@pytest.mark.parametrize(
    ("cap", "expected"), [(0, 26), (10, 11), (25, 26), (26, 26), (2000, 26), (1, 2)]
)
def test_count_is_capped_at_cap_plus_one(db: Db, cap: int, expected: int) -> None:
    assert run_count(db, Query(), ME_CONTEXT, db.schema, cap) == expected


def test_pages_follow_the_tie_broken_order(db: Db) -> None:
    everything = ordered(frozenset(range(1, len(LOGS) + 1)))
    pages = [
        run_sql(db, Query(), ME_CONTEXT, db.schema, limit=4, offset=o) for o in range(0, 28, 4)
    ]
    assert [i for page in pages for i in page] == everything
    assert run_sql(db, Query(), ME_CONTEXT, db.schema, limit=0) == everything  # 0 -> 100
    assert run_sql(db, Query(), ME_CONTEXT, db.schema, limit=3, offset=50) == []


def test_rows_decode_to_the_stored_values(db: Db) -> None:
    frag = select_logs(Query(), db.dialect, schema=db.schema)
    dialect = get_dialect(db.dialect)
    decoded = [decode_row(dialect, t) for t in db.fetch(frag.sql, frag.params)]
    rows = {r["id"]: r for r in decoded}
    web = rows[lid(14)]  # workspace app opened by a deleted user
    for key in ("connect_time", "organization_id", "workspace_id", "type", "code", "ip", "user_id"):
        assert web[key] == LOGS[13][key], key
    assert web["connect_time"].utcoffset().total_seconds() == 0
    assert (web["workspace_owner_username"], web["user_username"]) == ("carol", "erin")
    assert (web["organization_name"], web["organization_display_name"]) == ("acme", "Acme")
    assert web["user_email"] == "erin@example.com"
    assert web["user_created_at"] == USERS[5]["created_at"]
    session = rows[lid(1)]
    assert session["user_id"] is None
    assert session["user_username"] is None
    assert session["disconnect_time"] == LOGS[0]["disconnect_time"]
    assert session["connection_id"] == LOGS[0]["connection_id"]


def test_resolver_from_the_database(db: Db) -> None:
    live = {o["name"]: o["id"] for o in ORGS if not o["deleted"]}
    context = CompileContext(user_id=CALLER, organization_resolver=live.get)
    assert len(run_sql(db, Query(organization="globex"), context, db.schema)) == 9
    with pytest.raises(QueryError) as info:
        run_sql(db, Query(organization="oldco"), context, db.schema)
    assert info.value.errors[0].field == "organization"


# --- injection ---------------------------------------------------------------------------

PAYLOADS = [
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    'x"; DROP TABLE x; --',
    "\\",
    "\\' OR '1'='1",
    "%",
    "_",
    "a%",
    "o_brien",
    "o%",
    "%s",
    "?",
    ":name",
    "$1",
    "a\x00b",
    "o'brien\x00",
    "\ud800",
    "ä",
    "💥'",
    "`; DROP TABLE users; --",
    "*/ OR /*",
]
FIELDS = ["organization", "workspace_owner", "workspace_owner_email", "username", "user_email"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_payloads_are_only_ever_parameters(db: Db, field: str, payload: str) -> None:
    query = Query(**{field: payload})
    frag = compile(query, db.dialect, schema=db.schema)
    benign = compile(Query(**{field: "x"}), db.dialect, schema=db.schema)
    assert frag.sql in (benign.sql, "1 = 0")
    assert payload not in frag.sql or payload in benign.sql  # "%s", "?", "_" occur in SQL itself
    assert run_sql(db, query, ME_CONTEXT, db.schema) == []
    assert run_sqlalchemy(db, query, ME_CONTEXT, db.schema) == []


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("workspace_owner", "o'brien", {25}),
        ("username", "o'brien", {25}),
        ("user_email", OBRIEN_EMAIL, {25}),
        ("workspace_owner_email", OBRIEN_EMAIL, {25}),
        ("user_email", "o'brien_100%%\\@example.com", set()),
        ("user_email", "o'brien_100%\\\\@example.com", set()),
        ("user_email", "o'brien_100%\\@example.com ", set()),  # no trailing-space padding
        ("workspace_owner", "zoë", {26}),
        ("workspace_owner", "zoe", set()),  # no accent folding
        ("user_email", "zoë@exämple.com", {26}),
    ],
)
def test_metacharacters_match_literally(db: Db, field: str, value: str, expected: set[int]) -> None:
    query = Query(**{field: value})
    assert run_sql(db, query, ME_CONTEXT, db.schema) == ordered(frozenset(expected))
    assert run_sqlalchemy(db, query, ME_CONTEXT, db.schema) == ordered(frozenset(expected))


def test_tables_survive_the_payloads(db: Db) -> None:
    for payload in PAYLOADS:
        run_sql(db, Query(workspace_owner=payload), ME_CONTEXT, db.schema)
    assert run_count(db, Query(), ME_CONTEXT, db.schema, 0) == len(LOGS)
    users = select_logs(Query(workspace_owner="alice"), db.dialect, schema=db.schema)
    assert len(db.fetch(users.sql, users.params)) == 9


def test_me_without_a_caller_is_a_query_error(db: Db) -> None:
    with pytest.raises(QueryError) as info:
        select_logs(Query(username="me"), db.dialect, schema=db.schema)
    assert [e.field for e in info.value.errors] == ["username"]


def test_organization_subquery_ignores_deleted_names(db: Db) -> None:
    assert run_sql(db, Query(organization=oid(3)), ME_CONTEXT, db.schema) == [lid(13)]
    assert run_sql(db, Query(organization="oldco"), ME_CONTEXT, db.schema) == []


# --- look-ups where a schema lacks Coder's unique indexes ----------------------------------


def test_duplicate_live_users_pick_the_smallest_id(db: Db) -> None:
    """Two live users share a name (MariaDB cannot enforce Coder's partial unique index, and a
    custom schema may lack it): the look-up is deterministic, the smallest id, never an error."""
    schema = Schema().with_prefix(f"dup_{_suffix()}_")
    if db.dialect == "postgresql":
        ns = db.schema.connection_logs.rpartition(".")[0]
        schema = Schema(
            f"{ns}.{base_name(schema.connection_logs)}",
            f"{ns}.{base_name(schema.users)}",
            f"{ns}.{base_name(schema.organizations)}",
        )
    twin = Db(db.dialect, db.conn, schema, db.engine)
    try:
        for sql in ddl.create_schema(db.dialect, schema):
            if not sql.startswith("CREATE UNIQUE INDEX"):  # drop Coder's uniqueness rules
                twin.execute(sql)
        twin.execute(
            ddl.insert_sql(db.dialect, "organizations", schema),
            ddl.insert_params(db.dialect, "organizations", ORGS[0]),
        )
        rows = []
        for n, user in ((51, "Twin"), (50, "twin")):
            record = {**USERS[0], "id": uid(n), "username": user, "email": "twin@example.com"}
            twin.execute(
                ddl.insert_sql(db.dialect, "users", schema),
                ddl.insert_params(db.dialect, "users", record),
            )
            rows.append(
                {
                    **LOGS[0],
                    "id": lid(100 + n),
                    "workspace_owner_id": uid(n),
                    "user_id": uid(n),
                    "connection_id": cid(100 + n),
                }
            )
        for record in rows:
            twin.execute(
                ddl.insert_sql(db.dialect, "connection_logs", schema),
                ddl.insert_params(db.dialect, "connection_logs", record),
            )
        for query in (
            Query(workspace_owner="twin"),
            Query(username="TWIN"),
            Query(workspace_owner_email="twin@example.com"),
        ):
            assert run_sql(twin, query, ME_CONTEXT, schema) == [lid(150)]
            assert run_sqlalchemy(twin, query, ME_CONTEXT, schema) == [lid(150)]
        # The connecting user's email is a join in Coder: every user with it matches.
        both = run_sql(twin, Query(user_email="twin@example.com"), ME_CONTEXT, schema)
        assert sorted(both) == [lid(150), lid(151)]
    finally:
        for sql in ddl.drop_schema(db.dialect, schema):
            twin.execute(sql)
