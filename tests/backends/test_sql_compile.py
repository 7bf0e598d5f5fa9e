"""Golden output of the SQL backend: the exact SQL text and parameters of every filter.

Each golden is written once in PostgreSQL spelling and rendered for the other dialects by
swapping the identifier quote and the placeholder (safe because the SQL text holds nothing
else that could contain them); parameters are spelled per dialect where their bind form differs.
A value list is written ``<IN n>`` / ``<NOT IN n>``: one array parameter on PostgreSQL
(``= ANY(%s)`` / ``<> ALL(%s)``), ``IN (%s, ...)`` with ``n`` placeholders elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query import ME, Query, QueryError
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import (
    ConnectionLogColumns,
    Schema,
    UserColumns,
)
from connlog_query.backends.sql import (
    DIALECTS,
    LOG_COLUMNS,
    compile,
    count_logs,
    get_dialect,
    select_logs,
)
from store_helpers import FAMILIES

W = uuid.UUID("6f0f0a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
CALLER = uuid.UUID("0000000b-0000-4000-8000-000000000001")
T = dt.datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
CTX = CompileContext(user_id=CALLER)

L = '"connection_logs"'
USERS_LIVE_NAME = (
    '= (SELECT "users"."id" FROM "users" WHERE lower("users"."username") = %s '
    'AND NOT "users"."deleted" ORDER BY "users"."id" LIMIT 1)'
)
USERS_LIVE_EMAIL = (
    '= (SELECT "users"."id" FROM "users" WHERE "users"."email" = %s AND NOT "users"."deleted" '
    'ORDER BY "users"."id" LIMIT 1)'
)
USERS_ANY_EMAIL = 'IN (SELECT "users"."id" FROM "users" WHERE "users"."email" = %s)'
WEB = ("port_forwarding", "tunnel", "workspace_app")
VSCODE_FAMILY = tuple(sorted(FAMILIES["vscode"]))


def _value_list(match: re.Match[str], dialect: str) -> str:
    negate, count = bool(match.group(1)), int(match.group(2))
    if dialect == "postgresql":
        return "<> ALL(%s)" if negate else "= ANY(%s)"
    return ("NOT IN" if negate else "IN") + " (" + ", ".join(["%s"] * count) + ")"


def render(template: str, dialect: str) -> str:
    d = get_dialect(dialect)
    template = re.sub(r"<(NOT )?IN (\d+)>", lambda m: _value_list(m, dialect), template)
    return template.replace('"', d.quote_char).replace("%s", d.placeholder)


def listed(dialect: str, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """The parameters of a value list: one list on PostgreSQL, one per value elsewhere."""
    return (list(values),) if dialect == "postgresql" else values


def uuid_param(dialect: str, value: uuid.UUID) -> Any:
    return value if dialect == "postgresql" else str(value)


def time_param(dialect: str, value: dt.datetime) -> Any:
    if dialect == "postgresql":
        return value
    if dialect == "mysql":
        return value.replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


# name, query, template (PostgreSQL spelling), params as a function of the dialect
GOLDEN: list[tuple[str, Query, str, Any]] = [
    ("empty", Query(), "1 = 1", ()),
    (
        "organization_id",
        Query(organization=W),
        f'{L}."organization_id" = %s',
        lambda d: (uuid_param(d, W),),
    ),
    (
        "organization_name",
        Query(organization="Acme"),
        f'{L}."organization_id" = (SELECT "organizations"."id" FROM "organizations" '
        'WHERE lower("organizations"."name") = %s AND NOT "organizations"."deleted" '
        'ORDER BY "organizations"."id" LIMIT 1)',
        ("acme",),
    ),
    (
        "workspace_owner",
        Query(workspace_owner="Alice"),
        f'{L}."workspace_owner_id" {USERS_LIVE_NAME}',
        ("alice",),
    ),
    (
        "workspace_owner_me",
        Query(workspace_owner=ME),
        f'{L}."workspace_owner_id" = %s',
        lambda d: (uuid_param(d, CALLER),),
    ),
    (
        "workspace_owner_email",
        Query(workspace_owner_email="a@b.c"),
        f'{L}."workspace_owner_id" {USERS_LIVE_EMAIL}',
        ("a@b.c",),
    ),
    (
        "type_family",
        Query(type="vscode"),
        f'{L}."type" <IN 13>',
        lambda d: listed(d, VSCODE_FAMILY),
    ),
    (
        "type_ssh_family",
        Query(type="ssh"),
        f'{L}."type" <IN 2>',
        lambda d: listed(d, ("ssh", "zed")),
    ),
    ("type_web", Query(type="tunnel"), f'{L}."type" = %s', ("tunnel",)),
    ("username", Query(username="Bob"), f'{L}."user_id" {USERS_LIVE_NAME}', ("bob",)),
    (
        "username_me",
        Query(username=ME),
        f'{L}."user_id" = %s',
        lambda d: (uuid_param(d, CALLER),),
    ),
    ("user_email", Query(user_email="x@y"), f'{L}."user_id" {USERS_ANY_EMAIL}', ("x@y",)),
    (
        "connected_after",
        Query(connected_after=T),
        f'{L}."connect_time" >= %s',
        lambda d: (time_param(d, T),),
    ),
    (
        "connected_before",
        Query(connected_before=T),
        f'{L}."connect_time" <= %s',
        lambda d: (time_param(d, T),),
    ),
    (
        "workspace_id",
        Query(workspace_id=W),
        f'{L}."workspace_id" = %s',
        lambda d: (uuid_param(d, W),),
    ),
    (
        "connection_id",
        Query(connection_id=W),
        f'{L}."connection_id" = %s',
        lambda d: (uuid_param(d, W),),
    ),
    (
        "ongoing",
        Query(status="ongoing"),
        f'{L}."disconnect_time" IS NULL AND {L}."type" <NOT IN 3>',
        lambda d: listed(d, WEB),
    ),
    (
        "completed",
        Query(status="completed"),
        f'{L}."disconnect_time" IS NOT NULL AND {L}."type" <NOT IN 3>',
        lambda d: listed(d, WEB),
    ),
    (
        "combined_in_coder_order",
        Query(status="ongoing", workspace_id=W, username="bob", organization=W),
        f'{L}."organization_id" = %s AND {L}."user_id" {USERS_LIVE_NAME} AND '
        f'{L}."workspace_id" = %s AND {L}."disconnect_time" IS NULL AND '
        f'{L}."type" <NOT IN 3>',
        lambda d: (uuid_param(d, W), "bob", uuid_param(d, W), *listed(d, WEB)),
    ),
    ("nul_matches_nothing", Query(username="a\x00b"), "1 = 0", ()),
    ("surrogate_matches_nothing", Query(user_email="\udcff@x"), "1 = 0", ()),
]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize(
    ("name", "query", "template", "params"), GOLDEN, ids=[g[0] for g in GOLDEN]
)
def test_golden(name: str, query: Query, template: str, params: Any, dialect: str) -> None:
    frag = compile(query, dialect, context=CTX)
    expected = params(dialect) if callable(params) else tuple(params)
    assert (frag.sql, frag.params) == (render(template, dialect), expected)


def test_exact_type_mode_is_plain_equality() -> None:
    frag = compile(Query(type="vscode"), "sqlite", schema=Schema(type_mode="exact"))
    assert (frag.sql, frag.params) == ('"connection_logs"."type" = ?', ("vscode",))


def test_custom_schema_names_are_the_only_identifiers() -> None:
    schema = Schema(
        connection_logs="audit.conn_log",
        users="auth.people",
        log_columns=ConnectionLogColumns(workspace_owner_id="owner", connect_time="at"),
        user_columns=UserColumns(username="login", deleted="gone"),
    )
    frag = compile(Query(workspace_owner="a", connected_after=T), "mysql", schema=schema)
    assert frag.sql == (
        "`conn_log`.`owner` = (SELECT `people`.`id` FROM `auth`.`people` "
        "WHERE lower(`people`.`login`) = %s AND NOT `people`.`gone` ORDER BY `people`.`id` "
        "LIMIT 1) AND `conn_log`.`at` >= %s"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"connection_logs": "logs; DROP TABLE x"},
        {"users": "a.b.c"},
        {"organizations": '"orgs"'},
        {"users": "1users"},
        {"users": "connection_logs"},
        {"organizations": "org"},  # collides with a join alias
        {"type_mode": "fuzzy"},
    ],
)
def test_schema_rejects_unsafe_names(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        Schema(**bad)


@pytest.mark.parametrize("column", ["id;", "a b", "", "x`y", 'x"y', "é"])
def test_column_names_are_validated(column: str) -> None:
    with pytest.raises(ValueError, match="column name"):
        ConnectionLogColumns(type=column)


def test_unknown_dialect_suggests_the_closest() -> None:
    with pytest.raises(
        ValueError, match=r"unknown SQL dialect 'postgress'.*did you mean 'postgres"
    ):
        compile(Query(), "postgress")
    assert get_dialect("MariaDB").name == "mysql"
    assert get_dialect("pg").name == "postgresql"


def test_me_without_caller_names_both_fields() -> None:
    text = "workspace_owner:me username:me"
    from connlog_query import parse

    with pytest.raises(QueryError) as info:
        compile(parse(text), "sqlite")
    assert [(e.field, e.span) for e in info.value.errors] == [
        ("workspace_owner", (16, 18)),
        ("username", (28, 30)),
    ]


def test_select_statement_shape() -> None:
    frag = select_logs(Query(type="tunnel"), "sqlite", limit=0, offset=7)
    assert frag.params == ("tunnel", 100, 7)
    lines = frag.sql.splitlines()
    assert lines[0] == "SELECT"
    assert len([x for x in lines if " AS " in x and x.startswith("  ")]) == len(LOG_COLUMNS)
    assert lines[-7:] == [
        'FROM "connection_logs"',
        'JOIN "users" AS "owner_user" ON "owner_user"."id" = "connection_logs"."workspace_owner_id"',
        'LEFT JOIN "users" AS "conn_user" ON "conn_user"."id" = "connection_logs"."user_id"',
        'JOIN "organizations" AS "org" ON "org"."id" = "connection_logs"."organization_id"',
        'WHERE ("connection_logs"."type" = ?)',
        'ORDER BY "connection_logs"."connect_time" DESC, "connection_logs"."id" DESC',
        "LIMIT ? OFFSET ?",
    ]


def test_count_statement_caps() -> None:
    capped = count_logs(Query(type="tunnel"), "postgresql")
    assert capped.params == ("tunnel", 2001)
    assert capped.sql.startswith("SELECT count(*) FROM (\nSELECT 1")
    assert "LEFT JOIN" not in capped.sql
    assert capped.sql.endswith('LIMIT %s\n) AS "matched"')
    uncapped = count_logs(Query(), "postgresql", count_cap=0)
    assert "LIMIT" not in uncapped.sql
    assert uncapped.params == ()


@pytest.mark.parametrize("kwargs", [{"limit": -1}, {"offset": -5}, {"limit": True}])
def test_negative_paging_is_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        select_logs(Query(), "sqlite", **kwargs)


def test_negative_cap_is_rejected() -> None:
    with pytest.raises(ValueError, match="count_cap"):
        count_logs(Query(), "sqlite", count_cap=-1)


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='"'), min_size=1, max_size=20
)


@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(
        ["organization", "workspace_owner", "workspace_owner_email", "username", "user_email"]
    ),
    value=_text,
    dialect=st.sampled_from(sorted(DIALECTS)),
)
def test_sql_text_never_depends_on_a_value(field: str, value: str, dialect: str) -> None:
    try:
        query = Query(**{field: value})
    except ValueError:
        return  # not expressible in Coder's language; nothing to compile
    frag = compile(query, dialect)
    stored = getattr(query, field)
    kind = "uuid" if isinstance(stored, uuid.UUID) else "text"
    benign = compile(Query(**{field: W if kind == "uuid" else "x"}), dialect)
    if frag.sql == "1 = 0":
        assert "\x00" in value
        return
    assert frag.sql == benign.sql
    assert get_dialect(dialect).to_db(kind, stored) in frag.params


# --- extended queries -------------------------------------------------------------------------

NOW = dt.datetime(2025, 7, 2, 12, 0, tzinfo=dt.timezone.utc)
XCTX = CompileContext(user_id=CALLER, now=NOW)


def ext(text: str) -> Query:
    from connlog_query import parse

    return parse(text, mode="extended")


# name, query text, template (PostgreSQL spelling; only quotes and placeholders differ), params
EXTENDED_GOLDEN: list[tuple[str, str, str, Any]] = [
    (
        "type_list_is_one_in",
        "type:ssh,tunnel",
        f'{L}."type" <IN 3>',
        lambda d: listed(d, ("ssh", "zed", "tunnel")),
    ),
    (
        "uuid_list",
        f"workspace_id:{W},{CALLER}",
        f'{L}."workspace_id" <IN 2>',
        lambda d: listed(d, (uuid_param(d, CALLER), uuid_param(d, W))),
    ),
    (
        "both_states_are_every_session",
        "status:ongoing,completed",
        f'{L}."type" <NOT IN 3>',
        lambda d: listed(d, WEB),
    ),
    (
        "not_of_a_not_null_column",
        "-type:tunnel",
        f'NOT ({L}."type" = %s)',
        ("tunnel",),
    ),
    (
        "not_of_a_lookup_is_not_true",
        "-username:bob",
        f'({L}."user_id" {USERS_LIVE_NAME}) IS NOT TRUE',
        ("bob",),
    ),
    (
        "top_level_or_is_grouped",
        "type:tunnel OR username:me",
        f'({L}."type" = %s OR {L}."user_id" = %s)',
        lambda d: ("tunnel", uuid_param(d, CALLER)),
    ),
    (
        "or_inside_and_is_grouped_and_inside_or",
        "(type:tunnel OR status:ongoing) workspace_id:" + str(W),
        f'({L}."type" = %s OR ({L}."disconnect_time" IS NULL AND {L}."type" <NOT IN 3>))'
        f' AND {L}."workspace_id" = %s',
        lambda d: ("tunnel", *listed(d, WEB), uuid_param(d, W)),
    ),
    (
        "relative_bound",
        "connected:>=-24h",
        f'{L}."connect_time" >= %s',
        lambda d: (time_param(d, NOW - dt.timedelta(hours=24)),),
    ),
    (
        "names_and_me_in_one_list",
        "workspace_owner:me,bob",
        f'({L}."workspace_owner_id" {USERS_LIVE_NAME} OR {L}."workspace_owner_id" = %s)',
        lambda d: ("bob", uuid_param(d, CALLER)),
    ),
    (
        "email_list_is_one_in",
        "user_email:a@b,c@d",
        f'{L}."user_id" IN (SELECT "users"."id" FROM "users" WHERE "users"."email" <IN 2>)',
        lambda d: listed(d, ("a@b", "c@d")),
    ),
]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize(
    ("name", "text", "template", "params"), EXTENDED_GOLDEN, ids=[g[0] for g in EXTENDED_GOLDEN]
)
def test_extended_golden(name: str, text: str, template: str, params: Any, dialect: str) -> None:
    frag = compile(ext(text), dialect, context=XCTX)
    expected = params(dialect) if callable(params) else tuple(params)
    assert (frag.sql, frag.params) == (render(template, dialect), expected)


WILDCARD_SQL = {
    "postgresql": ('"users"."email" LIKE %s ESCAPE \'!\'', "!%!_!!%"),
    "sqlite": ('"users"."email" GLOB ?', "%_!*"),
    "mysql": ("`users`.`email` LIKE BINARY %s ESCAPE '!'", "!%!_!!%"),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_wildcard_spelling_per_dialect(dialect: str) -> None:
    frag = compile(ext("user_email:%_!*"), dialect)
    match, pattern = WILDCARD_SQL[dialect]
    q = get_dialect(dialect).quote_char
    users = f"{q}users{q}"
    assert frag.sql == (
        f"{q}connection_logs{q}.{q}user_id{q} IN (SELECT {users}.{q}id{q} FROM {users} "
        f"WHERE {match})"
    )
    assert frag.params == (pattern,)
    glob = compile(ext("user_email:[?*"), "sqlite")
    assert glob.params == ("[[][?]*",)


def _nul_name() -> Any:
    from connlog_query.expr import Filter

    return Filter(key="username", values=("a\x00b",))


def _unstorable_cases() -> list[tuple[str, Any, str, tuple[Any, ...]]]:
    from connlog_query.expr import And, Filter, Not, Or, Text, Wildcard

    tunnel = Filter(key="type", values=("tunnel",))
    return [
        ("negated", Not(item=_nul_name()), "1 = 1", ()),
        (
            "or_keeps_the_rest",
            Or(items=(_nul_name(), tunnel)),
            '"connection_logs"."type" = ?',
            ("tunnel",),
        ),
        (
            "list_keeps_the_rest",
            Filter(key="username", values=("a\x00b", "bob")),
            f'"connection_logs"."user_id" {USERS_LIVE_NAME}'.replace("%s", "?"),
            ("bob",),
        ),
        ("not_of_and", Not(item=And(items=(tunnel, _nul_name()))), "1 = 1", ()),
        ("text", Text(text="x\x00"), "1 = 0", ()),
        ("wildcard", Filter(key="user_email", values=(Wildcard(pattern="*\x00"),)), "1 = 0", ()),
    ]


@pytest.mark.parametrize(
    ("name", "where", "sql", "params"), _unstorable_cases(), ids=[c[0] for c in _unstorable_cases()]
)
def test_unstorable_values_fold_to_constants(
    name: str, where: Any, sql: str, params: tuple[Any, ...]
) -> None:
    frag = compile(Query(where=where), "sqlite")
    assert (frag.sql, frag.params) == (sql, params)
