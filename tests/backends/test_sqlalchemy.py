"""The SQLAlchemy backend: tables, column types and the compiled expression.

Execution against every database (with the whole case table) is in ``test_sql_execute``; this
module checks what is particular to SQLAlchemy on in-memory SQLite.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from test_sql_dataset import LOGS, ORGS, USERS, lid, ordered, uid

from connlog_query import ME, Query, QueryError
from connlog_query.backends import get_backend
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy.dialects import mysql, postgresql, sqlite  # noqa: E402

from connlog_query.backends import sqlalchemy as backend  # noqa: E402
from connlog_query.backends.sqlalchemy import CoderUuid, UtcDateTime  # noqa: E402


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.engine.Engine]:
    eng = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    t = backend.tables(sa.MetaData())
    with eng.begin() as conn:
        from connlog_query.backends import ddl

        for sql in ddl.create_schema("sqlite"):
            conn.exec_driver_sql(sql)
        conn.execute(t.organizations.insert(), ORGS)
        conn.execute(t.users.insert(), USERS)
        conn.execute(t.connection_logs.insert(), LOGS)
    yield eng
    eng.dispose()


def test_registered_as_a_backend() -> None:
    assert get_backend("sqlalchemy") is backend


def test_tables_follow_the_schema() -> None:
    schema = Schema(connection_logs="audit.logs", users="people", organizations="orgs")
    t = backend.tables(sa.MetaData(), schema)
    assert (t.connection_logs.schema, t.connection_logs.name) == ("audit", "logs")
    assert t.users.name == "people"
    assert t.schema is schema
    assert isinstance(t.connection_logs.c.id.type, CoderUuid)
    assert isinstance(t.connection_logs.c.connect_time.type, UtcDateTime)
    assert [c.name for c in t.organizations.c] == ["id", "name", "display_name", "icon", "deleted"]


def test_empty_and_impossible_queries() -> None:
    t = backend.tables(sa.MetaData())
    assert str(backend.compile(Query(), tables=t)) == "true"
    assert str(backend.compile(Query(username="a\x00"), tables=t)) == "false"


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect(), mysql.dialect()])
def test_values_stay_parameters_in_every_dialect(dialect: sa.engine.Dialect) -> None:
    t = backend.tables(sa.MetaData())
    q = Query(workspace_owner="x' OR 1=1 --", user_email="'; DROP TABLE users; --", type="ssh")
    compiled = backend.compile(q, tables=t).compile(dialect=dialect)
    text = str(compiled)
    assert "OR 1=1" not in text
    assert "DROP" not in text
    assert "x' or 1=1 --" in compiled.params.values()


def test_lookups_ignore_a_joined_users_table(engine: sa.engine.Engine) -> None:
    # The caller joins the (unaliased) users table as the owner; the connecting-user email
    # look-up must still search every user rather than correlate to that joined row.
    t = backend.tables(sa.MetaData())
    logs, users = t.connection_logs, t.users
    expr = backend.compile(Query(user_email="erin@example.com"), tables=t)
    stmt = (
        sa.select(logs.c.id, users.c.username)
        .select_from(logs.join(users, users.c.id == logs.c.workspace_owner_id))
        .where(expr)
    )
    with engine.connect() as conn:
        assert conn.execute(stmt).all() == [(lid(14), "carol")]


def test_types_round_trip(engine: sa.engine.Engine) -> None:
    t = backend.tables(sa.MetaData())
    logs = t.connection_logs
    with engine.connect() as conn:
        row = conn.execute(sa.select(logs).where(logs.c.id == lid(1))).one()
        raw = conn.exec_driver_sql(
            "SELECT id, connect_time FROM connection_logs WHERE id = ?", (str(lid(1)),)
        ).one()
    assert row.id == lid(1)
    assert row.connect_time == LOGS[0]["connect_time"]
    assert row.connect_time.tzinfo is not None
    assert row.ip == "10.0.0.1"
    assert raw == (str(lid(1)), "2025-07-01 12:00:00.000000")


def test_times_bind_in_utc(engine: sa.engine.Engine) -> None:
    t = backend.tables(sa.MetaData())
    plus_two = dt.timezone(dt.timedelta(hours=2))
    at = dt.datetime(2025, 7, 1, 14, 0, tzinfo=plus_two)  # 12:00 UTC, row 1 exactly
    expr = backend.compile(Query(connected_before=at), tables=t)
    stmt = (
        sa.select(t.connection_logs.c.id)
        .where(expr)
        .order_by(t.connection_logs.c.connect_time.desc(), t.connection_logs.c.id.desc())
    )
    with engine.connect() as conn:
        assert list(conn.execute(stmt).scalars()) == ordered({1, 22, 23})


def test_me_uses_the_caller(engine: sa.engine.Engine) -> None:
    t = backend.tables(sa.MetaData())
    with pytest.raises(QueryError):
        backend.compile(Query(username=ME), tables=t)
    expr = backend.compile(Query(username=ME), tables=t, context=CompileContext(user_id=uid(1)))
    with engine.connect() as conn:
        got = set(conn.execute(sa.select(t.connection_logs.c.id).where(expr)).scalars())
    assert got == {lid(12), lid(19)}


def test_schema_argument_overrides_type_mode() -> None:
    t = backend.tables(sa.MetaData())
    family = backend.compile(Query(type="vscode"), tables=t)
    exact = backend.compile(Query(type="vscode"), tables=t, schema=Schema(type_mode="exact"))
    assert len(family.compile().params["type_1"]) == 13
    assert exact.compile().params == {"type_1": "vscode"}


def test_uuid_type_accepts_strings() -> None:
    value = uuid.uuid4()
    bind = CoderUuid().process_bind_param(str(value).upper(), sqlite.dialect())
    assert bind == str(value)
    assert CoderUuid().process_bind_param(value, postgresql.dialect()) == value


def test_statement_cache_keeps_wildcard_and_text_values_apart(engine: sa.engine.Engine) -> None:
    """Queries that differ only in a pattern or a text share SQLAlchemy's compiled-statement
    cache entry; the values must still be bound per execution (dialect-converted)."""
    from connlog_query import parse

    t = backend.tables(sa.MetaData())
    logs = t.connection_logs

    def ids(text: str) -> set[uuid.UUID]:
        expr = backend.compile(parse(text, mode="extended"), tables=t)
        with engine.connect() as conn:
            return set(conn.execute(sa.select(logs.c.id).where(expr)).scalars())

    by_pattern = {p: ids(f"user_email:{p}") for p in ("*@example.com", "carol*", "x*", "*[*")}
    assert by_pattern["*@example.com"] == {lid(n) for n in (7, 12, 14, 19, 20, 24, 25)}
    assert by_pattern["carol*"] == {lid(20)}
    assert by_pattern["x*"] == by_pattern["*[*"] == set()
    assert ids("bob_") == {lid(n) for n in (4, 5, 16, 19)}
    assert ids("carol's") == {lid(n) for n in (13, 14, 20)}
    assert ids("-dev -main") == {lid(6), lid(26)}


def test_relative_times_use_the_context_clock(engine: sa.engine.Engine) -> None:
    from connlog_query import parse

    t = backend.tables(sa.MetaData())
    query = parse("connected:-1h..now", mode="extended")
    at = LOGS[0]["connect_time"] + dt.timedelta(hours=1)  # rows 1 (start) and 2
    expr = backend.compile(query, tables=t, context=CompileContext(now=at))
    with engine.connect() as conn:
        got = set(conn.execute(sa.select(t.connection_logs.c.id).where(expr)).scalars())
    assert got == {lid(1), lid(2)}


def test_value_lists_are_one_array_on_postgresql() -> None:
    t = backend.tables(sa.MetaData())
    pg = postgresql.psycopg.dialect()
    two = backend.compile(Query(type="ssh"), tables=t).compile(dialect=pg)
    many = backend.compile(Query(type="vscode"), tables=t).compile(dialect=pg)
    assert str(two) == str(many) == "(connection_logs.type = ANY (%(param_1)s::TEXT[]))"
    assert two.params == {"param_1": ["ssh", "zed"]}
    assert len(many.params["param_1"]) == 13
    done = backend.compile(Query(status="completed"), tables=t).compile(dialect=pg)
    assert str(done).endswith("(connection_logs.type != ALL (%(param_1)s::TEXT[]))")
    ids = backend.compile(Query(where=None, workspace_id=uid(1)), tables=t)
    assert "ANY" not in str(ids.compile(dialect=pg))  # a single value stays "= %s"
    on_sqlite = backend.compile(Query(type="ssh"), tables=t).compile(dialect=sqlite.dialect())
    assert str(on_sqlite) == "(connection_logs.type IN (__[POSTCOMPILE_type_1]))"
