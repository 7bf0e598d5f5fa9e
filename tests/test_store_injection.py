"""SQL metacharacters and odd text as filter values: every store returns the in-memory rows.

The data set gets extra users, organizations and rows whose names and emails are payloads
themselves, so a payload query that should match does match (and the checks are not all
"no rows"). Queries are built as ``Query`` objects, because Coder's query language cannot spell
some of these values (it has no escapes). The same payloads also go inside extended wildcards
(``*payload*`` on each name and email key) and free text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from connlog_query import Query, QueryError
from connlog_query.backends import memory, sql
from connlog_query.demo import DemoData, generate
from connlog_query.expr import Filter, Text, Wildcard
from connlog_query.store import LogRecord, OrganizationRecord, Store
from store_helpers import KINDS, open_kind, oracle, server_dsns

PAYLOADS = [
    "' or 1=1 --",
    'x"; drop table connection_logs; --',
    "robert'); drop table users;--",
    "\\",
    "\\'",
    "back\\slash",
    "%",
    "_",
    "%s",
    "?",
    "$1",
    ":name",
    "o'brien",
    "o'brien@example.com",
    "100%_sure@example.com",
    "alice",
    "alice ",
    " alice",
    "ünïcødé",
    "ユーザー",
    "😀",
    "a\nb",
    "\u200b",
    "\x00",
    "x\x00y",
    "\ud800",
    "o'reilly",
    "50%_off",
]

TEXT_FIELDS = ["workspace_owner", "workspace_owner_email", "username", "user_email"]


def _extend(data: DemoData) -> DemoData:
    """``data`` plus people and organizations named like payloads, with rows for each."""
    base = data.users[0]
    when = dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.timezone.utc)
    people = [
        ("o'brien", "o'brien@example.com"),
        ("back\\slash", "x\\y@example.com"),
        ("%s", "100%_sure@example.com"),
        ("robert'); drop table users;--", "bobby@example.com"),
        ("alice ", "alice2@example.com"),
        ("ünïcødé", "ünï@example.com"),
    ]
    users = [
        dataclasses.replace(base, id=uuid.UUID(int=0xA000 + i), username=name, email=email)
        for i, (name, email) in enumerate(people)
    ]
    orgs = [
        OrganizationRecord(id=uuid.UUID(int=0xB000 + i), name=name)
        for i, name in enumerate(["o'reilly", "50%_off"])
    ]
    logs = []
    for i, user in enumerate(users):
        org = orgs[i % len(orgs)]
        template = LogRecord(
            id=uuid.UUID(int=0xC000 + 2 * i),
            connect_time=when + dt.timedelta(minutes=i),
            organization_id=org.id,
            workspace_owner_id=user.id,
            workspace_id=uuid.UUID(int=0xD000 + i),
            workspace_name="dev",
            agent_name="main",
            type="ssh",
            connection_id=uuid.UUID(int=0xE000 + i),
        )
        web = dataclasses.replace(
            template,
            id=uuid.UUID(int=0xC000 + 2 * i + 1),
            workspace_owner_id=data.users[0].id,
            type="workspace_app",
            connection_id=None,
            user_id=user.id,
            code=200,
            slug_or_port="app",
            user_agent="ua",
        )
        logs += [template, web]
    return DemoData(
        organizations=(*data.organizations, *orgs),
        users=(*data.users, *users),
        workspaces=data.workspaces,
        logs=(*data.logs, *logs),
        seed=data.seed,
    )


DATA = _extend(generate(seed=21, n_logs=200))
USERS = memory.UserTable.of(DATA.users)


def _memory_ids(query: Query) -> list[uuid.UUID] | str:
    try:
        predicate = memory.compile(query, users=USERS, organizations=DATA.organizations)
    except QueryError as exc:
        return exc.errors[0].detail
    rows = sorted(DATA.connection_logs, key=lambda r: (r.connect_time, r.id), reverse=True)
    return [r.id for r in rows if predicate(r)]


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each store kind holding :data:`DATA`."""
    with open_kind(request.param, **server_dsns(request, request.param)) as opened:
        opened.ingest(DATA)
        yield opened


CASES = [(field, payload) for field in [*TEXT_FIELDS, "organization"] for payload in PAYLOADS]


def _query(field: str, payload: str) -> Query:
    return Query(**{field: payload})


@pytest.mark.parametrize(("field", "payload"), CASES)
def test_payload_matches_memory(store: Store, field: str, payload: str) -> None:
    query = _query(field, payload)
    expected = _memory_ids(query)
    got: Any
    try:
        got = [log.id for log in store.list(query, limit=5000).connection_logs]
    except QueryError as exc:
        got = exc.errors[0].detail
    assert got == expected
    if not isinstance(expected, str):
        assert expected == oracle(DATA, query)


def test_payloads_do_match_something() -> None:
    """Guard against a vacuous table: several payload queries select rows."""
    results = [_memory_ids(_query(f, p)) for f, p in CASES]
    assert sum(1 for r in results if isinstance(r, list) and r) >= 10
    assert sum(1 for r in results if isinstance(r, str)) >= 10  # unknown organization names


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite", "mysql"])
@pytest.mark.parametrize(("field", "payload"), [c for c in CASES if c[0] != "organization"])
def test_payload_never_reaches_sql_text(dialect: str, field: str, payload: str) -> None:
    benign = sql.compile(_query(field, "benign"), dialect).sql
    query = _query(field, payload)
    fragment = sql.compile(query, dialect)
    # The SQL text never depends on the value: it is the benign one (the value travels as a
    # parameter), or constant false for a value no database can store (NUL, lone surrogate).
    if fragment.sql == sql.ALWAYS_FALSE:
        assert "\x00" in payload or "\ud800" in payload
    else:
        assert fragment.sql == benign
        assert getattr(query, field) in fragment.params


def _wildcard(payload: str) -> Wildcard | None:
    try:
        return Wildcard(pattern=f"*{payload}*")
    except ValueError:
        return None  # white space, quotes, commas or parentheses: not a writable pattern


def _text(payload: str) -> Text | None:
    try:
        return Text(text=payload)
    except ValueError:
        return None  # text the query model refuses (a lone surrogate is not valid text)


EXTENDED_CASES = [
    (field, payload)
    for field in TEXT_FIELDS
    for payload in PAYLOADS
    if _wildcard(payload) is not None
] + [("text", payload) for payload in PAYLOADS if _text(payload) is not None]


def _extended_query(field: str, payload: str) -> Query:
    if field == "text":
        return Query(where=_text(payload))
    wildcard = _wildcard(payload)
    assert wildcard is not None
    return Query(where=Filter(key=field, values=(wildcard,)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "payload"), EXTENDED_CASES)
def test_extended_payload_matches_memory(store: Store, field: str, payload: str) -> None:
    query = _extended_query(field, payload)
    expected = _memory_ids(query)
    got = [log.id for log in store.list(query, limit=5000).connection_logs]
    assert got == expected == oracle(DATA, query)


def test_extended_payloads_do_match_something() -> None:
    results = [_memory_ids(_extended_query(f, p)) for f, p in EXTENDED_CASES]
    assert sum(1 for r in results if r) >= 15
    assert len(EXTENDED_CASES) >= 80


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite", "mysql"])
@pytest.mark.parametrize(("field", "payload"), EXTENDED_CASES)
def test_extended_payload_never_reaches_sql_text(dialect: str, field: str, payload: str) -> None:
    benign = sql.compile(_extended_query(field, "benign"), dialect).sql
    fragment = sql.compile(_extended_query(field, payload), dialect)
    if fragment.sql == sql.ALWAYS_FALSE:
        assert "\x00" in payload or "\ud800" in payload
    else:
        assert fragment.sql == benign
