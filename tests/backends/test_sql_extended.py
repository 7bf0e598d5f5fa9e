"""Extended queries through the SQL and SQLAlchemy backends on SQLite, PostgreSQL and MariaDB.

The hand-made dataset of ``test_sql_dataset`` is loaded into each database; every extended case
must return exactly its expected rows (checked there by a naive evaluator), in Coder's order,
through ``select_logs``/``count_logs`` and through the SQLAlchemy expression, in both type
modes. Then the particular rules: two-valued negation of NULL-able leaves, wildcard
metacharacters and case, ASCII-only folding of free text (also under a case-insensitive MariaDB
collation), relative times against an injected clock, organization names and ``me`` inside
``where``, injection payloads in wildcards and free text, and a property test of random
expressions (value-free SQL text, same rows as the naive evaluator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sql_dataset import (
    ALL,
    CALLER,
    EXTENDED_CASES,
    LOGS,
    NOW,
    NOW_CONTEXT,
    ORGS,
    T0,
    USERS,
    Case,
    cid,
    expected_for,
    naive_rows,
    oid,
    ordered,
    wid,
)
from test_sql_execute import (
    PAYLOADS,
    RUNNERS,
    Db,
    _suffix,
    run_count,
    run_sql,
    run_sqlalchemy,
)

from connlog_query import ME, Query, QueryError, parse
from connlog_query.backends import ddl
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema
from connlog_query.backends.sql import DIALECTS, compile, get_dialect, select_logs
from connlog_query.backends.sql.dialect import ASCII_LOWER, ASCII_UPPER
from connlog_query.expr import And, Filter, Not, Or, RelativeTime, Text, TimeBound, Wildcard
from connlog_query.values import ConnectionStatus, ConnectionType

sa = pytest.importorskip("sqlalchemy")

from connlog_query.backends import sqlalchemy as sa_backend  # noqa: E402


def rows(db: Db, query: Query, context: CompileContext = NOW_CONTEXT) -> set[int]:
    """Row numbers both backends return (they must agree)."""
    by_id = {r["id"]: n for n, r in enumerate(LOGS, start=1)}
    via_sql = {by_id[i] for i in run_sql(db, query, context, db.schema)}
    via_sa = {by_id[i] for i in run_sqlalchemy(db, query, context, db.schema)}
    assert via_sql == via_sa
    return via_sql


def ext(text: str) -> Query:
    return parse(text, mode="extended")


# --- the case table -------------------------------------------------------------------------


@pytest.mark.parametrize("type_mode", ["family", "exact"])
@pytest.mark.parametrize("via", sorted(RUNNERS))
@pytest.mark.parametrize("c", EXTENDED_CASES, ids=lambda c: c.name)
def test_extended_cases_return_exactly_the_expected_rows(
    db: Db, c: Case, via: str, type_mode: str
) -> None:
    schema = db.with_mode(type_mode)
    assert RUNNERS[via](db, c.query, c.context, schema) == ordered(expected_for(c, type_mode))


@pytest.mark.parametrize("c", EXTENDED_CASES[::3], ids=lambda c: c.name)
def test_extended_count_matches_the_rows(db: Db, c: Case) -> None:
    assert run_count(db, c.query, c.context, db.schema, 0) == len(c.expected)
    assert run_count(db, c.query, c.context, db.schema, 2) == min(len(c.expected), 3)


# --- negation: two-valued logic -------------------------------------------------------------

LEAVES = [
    "username:bob",
    "username:erin",  # deleted only: the look-up is NULL
    "username:me",
    "username:a*",
    "user_email:carol@example.com",
    "user_email:*@example.com",
    "workspace_owner:dave",
    "workspace_owner:nobody",
    "workspace_owner_email:carol@example.com",
    "workspace_owner_email:*.com",
    "organization:oldco",
    "organization:globex",
    f"connection_id:{cid(5)}",
    "status:completed",
    "type:ssh",
    "dev",
    "connected:>=-1h",
]


@pytest.mark.parametrize("leaf", LEAVES)
def test_a_leaf_and_its_negation_split_the_rows(db: Db, leaf: str) -> None:
    """Excluded middle: ``x`` and ``-x`` partition the table, whether or not ``x`` reads a
    NULL-able column or a look-up that finds nobody."""
    positive = rows(db, ext(leaf))
    negative = rows(db, ext(f"NOT ({leaf})"))
    assert positive | negative == set(ALL)
    assert not positive & negative
    assert rows(db, ext(f"{leaf} OR NOT ({leaf})")) == set(ALL)
    assert rows(db, ext(f"({leaf}) NOT ({leaf})")) == set()


def test_negated_username_keeps_rows_without_a_user(db: Db) -> None:
    no_user = {n for n, r in enumerate(LOGS, start=1) if r["user_id"] is None}
    assert no_user <= rows(db, ext("-username:bob"))
    assert no_user <= rows(db, ext("-user_email:*"))
    assert rows(db, ext("NOT (username:bob OR user_email:carol@example.com)")) >= no_user


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_negation_uses_not_where_no_null_is_possible(dialect: str) -> None:
    q = get_dialect(dialect).quote_char
    plain = compile(ext("-type:tunnel"), dialect).sql
    assert plain == f"NOT ({q}connection_logs{q}.{q}type{q} = {get_dialect(dialect).placeholder})"
    nullable = compile(ext("-username:bob"), dialect).sql
    assert nullable.startswith(f"({q}connection_logs{q}.{q}user_id{q} = (SELECT ")
    assert nullable.endswith(") IS NOT TRUE")


# --- wildcards and case ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "pattern", "expected"),
    [
        ("user_email", "o'brien_100%\\@example.com*", {25}),
        ("user_email", "*%*", {25}),
        ("user_email", "*_*", {25}),
        ("user_email", "*\\*", {25}),
        ("user_email", "*'*", {25}),
        ("user_email", "*%%*", set()),
        ("user_email", "*__*", set()),
        ("user_email", "*\\\\*", set()),
        ("user_email", "*!*", set()),
        ("user_email", "*?*", set()),
        ("user_email", "*[*", set()),
        ("user_email", "*bob*", set()),  # Bob@Example.com: the capital B does not match
        ("user_email", "*@ex*", {7, 12, 14, 19, 20, 24, 25, 26}),
        (
            "workspace_owner_email",
            "*@example.com",
            {1, 2, 3, 12, 15, 18, 21, 22, 23, 13, 14, 20, 7, 8, 17, 24, 25},
        ),
        ("workspace_owner", "*", set(ALL) - {9, 10, 11}),  # every live owner
        ("workspace_owner", "dav*", {7, 8, 17, 24}),  # DAVE, not the deleted dave
        ("username", "*o*", {6, 17, 20, 25, 26}),
        ("username", "o'brien*", {25}),
        ("username", "zoë*", {26}),
    ],
)
def test_wildcards_match_literally_and_with_the_exact_case_rule(
    db: Db, key: str, pattern: str, expected: set[int]
) -> None:
    query = Query(where=Filter(key=key, values=(Wildcard(pattern=pattern),)))
    assert rows(db, query) == expected == naive_rows(query, "family")


def test_mariadb_case_insensitive_collation_changes_no_wildcard_or_text(
    mysql_db: Db,
) -> None:
    """Tables created with a case- and accent-insensitive collation: wildcards still compare
    emails exactly and free text still folds ASCII letters only (binary comparisons)."""
    schema = Schema().with_prefix(f"ci_{_suffix()}_")
    ci = Db("mysql", mysql_db.conn, schema, mysql_db.engine)
    for sql in ddl.create_schema("mysql", schema, mysql_collation="utf8mb4_general_ci"):
        ci.execute(sql)
    try:
        _fill_tables(ci)
        for text, expected in [
            ("user_email:bob@*", set()),
            ("user_email:*@example.com", {7, 12, 14, 19, 20, 24, 25}),
            ("user_email:*exämple*", {26}),
            ("user_email:*example.com", {7, 9, 12, 14, 19, 20, 24, 25}),
            ("ägent", set()),
            ("gent", {26}),
            ("zoe", set()),
            ("main", set(ALL) - {6, 13, 14, 20, 26}),
        ]:
            assert rows(ci, ext(text)) == expected, text
    finally:
        for sql in ddl.drop_schema("mysql", schema):
            ci.execute(sql)


def _fill_tables(db: Db) -> None:
    for table, records in (("organizations", ORGS), ("users", USERS), ("connection_logs", LOGS)):
        sql = ddl.insert_sql(db.dialect, table, db.schema)  # type: ignore[arg-type]
        for record in records:
            db.execute(sql, ddl.insert_params(db.dialect, table, record))  # type: ignore[arg-type]


# --- free text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DEV-BOX", {1, 2, 3, 12, 15, 18, 21, 22, 23}),
        ("Carol's", {13, 14, 20}),
        ("zoë-lab", set()),  # ZOË: the Ë is not folded
        ("ZOË", {26}),  # the query is lower-cased (zoë) and matches the owner zoë
        ("100%", {6}),
        ("%done", {6}),
        ("1_0", set()),
        ("[1]", {25}),
        ("?", {25}),
        ("*", set()),
        ("'s ws", {13, 14, 20}),
    ],
)
def test_free_text_folds_ascii_only(db: Db, text: str, expected: set[int]) -> None:
    query = Query(where=Text(text=text))
    assert rows(db, query) == expected == naive_rows(query, "family")


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_free_text_sql_per_dialect(dialect: str) -> None:
    frag = compile(ext("Dev"), dialect)
    # A top-level OR is grouped, so the condition can be AND-ed as it is.
    assert frag.sql.startswith("(")
    assert frag.sql.endswith(")")
    if dialect == "sqlite":
        # SQLite's LIKE folds ASCII letters only: the pattern is the escaped text in %...%.
        assert frag.params == ("%dev%", "%dev%", "%dev%")
        assert frag.sql.count(" LIKE ? ESCAPE '\\'") == 3
        assert '"connection_logs"."workspace_name" LIKE ?' in frag.sql
        assert "lower(" not in frag.sql
        assert compile(ext(r"a%_\b"), dialect).params[0] == r"%a\%\_\\b%"
        return
    assert frag.params == ("dev", "dev", "dev")
    assert "LIKE" not in frag.sql  # substring search, nothing to escape
    if dialect == "postgresql":
        assert 'strpos(lower("connection_logs"."workspace_name" COLLATE "C"), %s) > 0' in frag.sql
    if dialect == "mysql":
        assert frag.sql.count("REPLACE(") == 3 * 26
        assert frag.sql.count("LOCATE(BINARY %s, ") == 3


# --- time -----------------------------------------------------------------------------------


def test_relative_times_follow_the_injected_clock(db: Db) -> None:
    query = ext("connected:-1h..now")
    for hours, expected in [(12, {14, 15, 16, 17}), (5, {6, 7, 8}), (30, set()), (-1, set())]:
        context = CompileContext(user_id=CALLER, now=T0 + dt.timedelta(hours=hours))
        assert rows(db, query, context) == expected
        # Only the bound instants change with the clock, never the statement.
        frag = select_logs(query, db.dialect, context=context, schema=db.schema)
        assert frag.sql == select_logs(query, db.dialect, context=NOW_CONTEXT, schema=db.schema).sql


def test_clock_in_another_zone_is_the_same_instant(db: Db) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    context = CompileContext(user_id=CALLER, now=NOW.astimezone(plus_two))
    assert rows(db, ext("connected:>=-1h"), context) == rows(db, ext("connected:>=-1h"))


def test_without_a_clock_now_is_the_current_time(db: Db) -> None:
    # The dataset lies in July 2025, before any run of this test.
    context = CompileContext(user_id=CALLER)
    assert rows(db, ext("connected:<now"), context) == set(ALL)
    assert rows(db, ext("connected:>=-1h"), context) == set()


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CompileContext(now=dt.datetime(2025, 7, 1))


def test_strict_relative_bounds_bind_the_next_microsecond() -> None:
    frag = compile(ext("connected:>-1h"), "postgresql", context=NOW_CONTEXT)
    assert frag.sql == '"connection_logs"."connect_time" >= %s'
    assert frag.params == (NOW - dt.timedelta(hours=1) + dt.timedelta(microseconds=1),)


# --- organization names and me inside `where` -----------------------------------------------


def test_organization_names_in_where_resolve_through_the_resolver(db: Db) -> None:
    live = {o["name"]: o["id"] for o in ORGS if not o["deleted"]}
    context = CompileContext(user_id=CALLER, organization_resolver=live.get, now=NOW)
    query = ext("organization:acme,globex -organization:globex")
    frag = compile(query, db.dialect, context=context, schema=db.schema)
    assert "organizations" not in frag.sql  # resolved to ids: no look-up sub-query
    assert rows(db, query, context) == rows(db, ext("organization:acme"))
    with pytest.raises(QueryError) as info:
        select_logs(ext("type:ssh OR -organization:oldco"), db.dialect, context=context)
    (err,) = info.value.errors
    assert err.field == "organization"
    assert '"oldco" either does not exist' in err.detail


def test_me_inside_where_needs_a_caller(db: Db) -> None:
    for text, fields in [
        ("type:ssh OR username:me", ["username"]),
        ("-workspace_owner:alice,me", ["workspace_owner"]),
        ("NOT (workspace_owner:me OR username:bob,me)", ["workspace_owner", "username"]),
    ]:
        with pytest.raises(QueryError) as info:
            select_logs(ext(text), db.dialect, schema=db.schema)
        assert [e.field for e in info.value.errors] == fields


# --- injection ------------------------------------------------------------------------------

WILDCARD_PAYLOADS = [
    "'OR'1'='1'--*",
    "';DROP/**/TABLE/**/users;--*",
    "*'*",
    "%*",
    "_*",
    "*\\",
    "\\'*",
    "*%s*",
    "*?*",
    "*:name*",
    "$1*",
    "[*]",
    "!*",
    "*`;DROP*",
    "*/**/OR/**/*",
    "a\x00*",
    "\ud800*",
    "💥'*",
]
NAME_KEYS = ["workspace_owner", "workspace_owner_email", "username", "user_email"]


def _same_shape(frag_sql: str, benign_sql: str, payload: str) -> None:
    assert frag_sql in (benign_sql, "1 = 0")
    stripped = payload.replace("*", "")
    if len(stripped) > 1:
        assert stripped not in frag_sql or stripped in benign_sql


@pytest.mark.parametrize("key", NAME_KEYS)
@pytest.mark.parametrize("payload", WILDCARD_PAYLOADS, ids=repr)
def test_wildcard_payloads_are_only_parameters(db: Db, key: str, payload: str) -> None:
    query = Query(where=Filter(key=key, values=(Wildcard(pattern=payload),)))
    benign = Query(where=Filter(key=key, values=(Wildcard(pattern="x*"),)))
    frag = compile(query, db.dialect, schema=db.schema)
    _same_shape(frag.sql, compile(benign, db.dialect, schema=db.schema).sql, payload)
    assert rows(db, query) == naive_rows(query, "family")


# A lone surrogate cannot even be held by a Text node (pydantic refuses it).
TEXT_PAYLOADS = [p for p in PAYLOADS if p.isprintable() or "\x00" in p] + [
    "'s ws",
    "100%",
    "back\\",
]


@pytest.mark.parametrize("payload", TEXT_PAYLOADS, ids=repr)
def test_free_text_payloads_are_only_parameters(db: Db, payload: str) -> None:
    query = Query(where=Text(text=payload))
    frag = compile(query, db.dialect, schema=db.schema)
    benign = compile(Query(where=Text(text="x")), db.dialect, schema=db.schema)
    _same_shape(frag.sql, benign.sql, payload)
    assert rows(db, query) == naive_rows(query, "family")


def test_tables_survive_the_extended_payloads(db: Db) -> None:
    for payload in WILDCARD_PAYLOADS:
        wildcard = Filter(key="username", values=(Wildcard(pattern=payload),))
        rows(db, Query(where=Not(item=wildcard)))
    for payload in TEXT_PAYLOADS:
        rows(db, Query(where=Not(item=Text(text=payload))))
    assert run_count(db, Query(), NOW_CONTEXT, db.schema, 0) == len(LOGS)


# --- SQLAlchemy rendering -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["postgresql", "sqlite", "mysql", "default"])
def test_sqlalchemy_renders_the_operators_per_dialect(name: str) -> None:
    from sqlalchemy.dialects import mysql, postgresql, sqlite
    from sqlalchemy.engine import default

    dialects = {
        "postgresql": postgresql.dialect(),
        "sqlite": sqlite.dialect(),
        "mysql": mysql.dialect(),
        "default": default.StrCompileDialect(),
    }
    t = sa_backend.tables(sa.MetaData())
    query = ext("user_email:*@x.com dev -username:bob")
    compiled = sa_backend.compile(query, tables=t, context=NOW_CONTEXT).compile(
        dialect=dialects[name]
    )
    text = str(compiled)
    assert "x.com" not in text
    assert "dev" not in text
    assert "= 1" not in text  # comparisons, not boolean values
    operator = {"postgresql": "LIKE", "sqlite": "GLOB", "mysql": "LIKE BINARY", "default": "LIKE"}
    assert f"users.email {operator[name]} " in text
    assert ") IS NOT " in text


# --- property: random expressions -----------------------------------------------------------

_SCHEMA_IDENTIFIERS = {
    "C",  # PostgreSQL's collation for ASCII-only lower()
    "connection_logs",
    "users",
    "organizations",
    *(f.name for f in dataclasses.fields(Schema().log_columns)),
    *(f.name for f in dataclasses.fields(Schema().user_columns)),
    *(f.name for f in dataclasses.fields(Schema().organization_columns)),
}
_LITERALS = {"!", "\\", ASCII_UPPER, ASCII_LOWER, *ASCII_UPPER, *ASCII_LOWER}
_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "LIKE",
    "ESCAPE", "GLOB", "BINARY", "LOCATE", "REPLACE", "lower", "COLLATE", "strpos", "instr",
    "ORDER", "BY", "LIMIT", "ANY", "ALL", "1", "0",
}  # fmt: skip
_TOKEN = re.compile(
    r"\s*(\"[A-Za-z_]+\"|`[A-Za-z_]+`|'[^']*'|%s|\?|[A-Za-z_]+|\d+|<=|>=|[=<>(),.])"
)


def assert_value_free(sql: str, dialect: str, n_params: int) -> None:
    """The SQL text is made only of keywords, schema identifiers, fixed literals and
    placeholders, so no value can be hiding in it; one placeholder per parameter."""
    pos, placeholders = 0, 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        assert m is not None, f"unexpected text at {pos}: {sql[pos : pos + 40]!r}"
        token = m.group(1)
        pos = m.end()
        if token[0] in '"`':
            assert token[1:-1] in _SCHEMA_IDENTIFIERS, token
        elif token[0] == "'":
            assert token[1:-1] in _LITERALS, token
        elif token == get_dialect(dialect).placeholder:
            placeholders += 1
        elif token[0].isalnum() or token[0] == "_":
            assert token in _KEYWORDS, token
    assert placeholders == n_params


_NAMES = ["alice", "bob", "dave", "erin", "zoë", "o'brien", "nobody"]
_EMAILS = ["alice@example.com", "bob@example.com", "dave@example.com", "erin@example.com"]
_PATTERNS = ["*", "a*", "*e*", "d*", "*@example.com", "*.com", "o'brien_100%*", "*%*", "*_*"]
_TEXTS = ["dev", "ws", "%", "_", "'", "\\", "main", "dave", "ë-lab", "gent", "xyz"]
_odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8
)


def _wildcard(text: str) -> Wildcard | None:
    try:
        return Wildcard(pattern=text)
    except ValueError:
        return None


_wildcards = st.one_of(
    st.sampled_from(_PATTERNS).map(lambda p: Wildcard(pattern=p)),
    _odd_text.map(lambda t: _wildcard(t + "*")).filter(lambda w: w is not None),
)
_person = st.one_of(st.just(ME), st.sampled_from(_NAMES), _wildcards, _odd_text)
_email = st.one_of(st.sampled_from(_EMAILS), _wildcards, _odd_text)
_VALUES: dict[str, Any] = {
    "organization": st.one_of(
        st.sampled_from([oid(1), oid(3), "acme", "globex", "oldco"]), _odd_text
    ),
    "workspace_owner": _person,
    "username": _person,
    "workspace_owner_email": _email,
    "user_email": _email,
    "type": st.sampled_from(list(ConnectionType)),
    "status": st.sampled_from(list(ConnectionStatus)),
    "workspace_id": st.integers(1, 9).map(wid),
    "connection_id": st.integers(1, 26).map(cid),
}


@st.composite
def _filters(draw: st.DrawFn) -> Filter:
    key = draw(st.sampled_from(sorted(_VALUES)))
    return Filter(key=key, values=tuple(draw(st.lists(_VALUES[key], min_size=1, max_size=3))))


_times = st.builds(
    TimeBound,
    op=st.sampled_from([">=", ">", "<=", "<"]),
    at=st.one_of(
        st.integers(-30, 24 * 60).map(lambda m: T0 + dt.timedelta(minutes=m)),
        st.builds(RelativeTime, amount=st.integers(-30, 0), unit=st.sampled_from(["m", "h"])),
    ),
)
_texts = st.one_of(st.sampled_from(_TEXTS), _odd_text).map(lambda t: Text(text=t))
_leaves = st.one_of(_filters(), _times, _texts)
_expressions = st.recursive(
    _leaves,
    lambda children: st.one_of(
        children.map(lambda c: Not(item=c)),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: And(items=tuple(cs))),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: Or(items=tuple(cs))),
    ),
    max_leaves=6,
)


def _check_random(db: Db, expression: Any) -> None:
    query = Query(where=expression)
    for dialect in DIALECTS:
        frag = compile(query, dialect, context=NOW_CONTEXT)
        assert isinstance(frag.params, tuple)
        assert_value_free(frag.sql, dialect, len(frag.params))
    assert rows(db, query) == set(naive_rows(query, "family"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_expressions)
def test_random_expressions_on_sqlite(sqlite_db: Db, expression: Any) -> None:
    _check_random(sqlite_db, expression)


@pytest.mark.parametrize("name", ["postgresql", "mysql"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(expression=_expressions)
def test_random_expressions_on_servers(
    request: pytest.FixtureRequest, name: str, expression: Any
) -> None:
    _check_random(request.getfixturevalue(f"{name}_db"), expression)


def test_value_free_check_catches_a_value() -> None:
    frag = compile(ext("username:bob"), "sqlite")
    with pytest.raises(AssertionError):
        assert_value_free(frag.sql.replace("?", "'bob'"), "sqlite", 0)
    with pytest.raises(AssertionError):
        assert_value_free(frag.sql, "sqlite", 2)
