"""Shared by the store, parity and memory-backend tests: a naive oracle and store factories.

:func:`oracle` evaluates reference section 7.1 directly over the raw table rows (LogRecord,
UserRecord, OrganizationRecord), written as plainly as possible and sharing no code with the
backends, so every backend and store is checked against an independent reading of the spec.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal

from hypothesis import strategies as st

from connlog_query import ME, ConnectionStatus, ConnectionType, Query
from connlog_query.backends.schema import Schema
from connlog_query.demo import DemoData, generate
from connlog_query.gocompat import go_lower
from connlog_query.store import MemoryStore, MySQLStore, PostgresStore, SQLiteStore, Store

KINDS = ("memory", "sqlite", "postgresql", "mysql")
"""Every store kind the tests run against."""

PIT = {"workspace_app", "port_forwarding", "tunnel"}
FAMILIES = {
    "ssh": {"ssh", "zed"},
    "vscode": {
        "antigravity",
        "code_server",
        "codium",
        "cursor",
        "devin",
        "kiro",
        "positron",
        "trae",
        "vscode",
        "vscode_insiders",
        "vscode_web",
        "vscodium",
        "windsurf",
    },
    "jetbrains": {"jetbrains"},
    "reconnecting_pty": {"reconnecting_pty"},
    "workspace_app": {"workspace_app"},
    "port_forwarding": {"port_forwarding"},
    "tunnel": {"tunnel"},
}
"""Reference 6.3's expansion table, copied by hand (not computed by the package)."""


class UnknownOrganization(LookupError):
    """The oracle's version of Coder's organization-not-found error."""


def oracle(
    data: DemoData,
    query: Query,
    *,
    user_id: uuid.UUID | None = None,
    type_mode: Literal["family", "exact"] = "family",
) -> list[uuid.UUID]:
    """Ids of the rows ``query`` selects, newest first (connect_time desc, id desc)."""
    org_id: Any = query.organization
    if isinstance(org_id, str):
        live = [o.id for o in data.organizations if not o.deleted and o.name.lower() == org_id]
        if not live:
            raise UnknownOrganization(org_id)
        org_id = live[0]

    def person(value: Any) -> set[uuid.UUID]:
        if value is ME:
            assert user_id is not None
            return {user_id}
        return {u.id for u in data.users if not u.deleted and u.username.lower() == value}

    out = []
    for log in data.logs:
        if org_id is not None and log.organization_id != org_id:
            continue
        if query.workspace_owner is not None and log.workspace_owner_id not in person(
            query.workspace_owner
        ):
            continue
        if query.workspace_owner_email is not None:
            ids = {
                u.id for u in data.users if not u.deleted and u.email == query.workspace_owner_email
            }
            if log.workspace_owner_id not in ids:
                continue
        if query.type is not None:
            allowed = {query.type.value} if type_mode == "exact" else FAMILIES[query.type.value]
            if log.type not in allowed:
                continue
        if query.username is not None and (
            log.user_id is None or log.user_id not in person(query.username)
        ):
            continue
        if query.user_email is not None:
            joined = [u for u in data.users if u.id == log.user_id]
            if not joined or joined[0].email != query.user_email:
                continue
        if query.connected_after is not None and not log.connect_time >= query.connected_after:
            continue
        if query.connected_before is not None and not log.connect_time <= query.connected_before:
            continue
        if query.workspace_id is not None and log.workspace_id != query.workspace_id:
            continue
        if query.connection_id is not None and log.connection_id != query.connection_id:
            continue
        if query.status is not None:
            if log.type in PIT:
                continue
            if (query.status.value == "ongoing") != (log.disconnect_time is None):
                continue
        out.append(log)
    out.sort(key=lambda r: (r.connect_time, r.id), reverse=True)
    return [r.id for r in out]


def unique_suffix() -> str:
    """A random suffix for test-private schemas and table names."""
    return uuid.uuid4().hex[:10]


@contextlib.contextmanager
def open_kind(
    kind: str,
    *,
    pg_dsn: str | None = None,
    mysql_dsn: str | None = None,
    type_mode: Literal["family", "exact"] = "family",
    sqlite_path: str = ":memory:",
) -> Iterator[Store]:
    """A fresh, empty store of ``kind`` with its tables created; dropped again on exit.

    PostgreSQL works in its own schema (namespace) and MariaDB on its own table prefix, so
    concurrent test runs never see each other's rows.
    """
    suffix = unique_suffix()
    store: Any
    cleanup: Callable[[], None]
    if kind == "memory":
        store = MemoryStore(type_mode=type_mode)
        cleanup = store.drop_schema
    elif kind == "sqlite":
        store = SQLiteStore(sqlite_path, schema=Schema(type_mode=type_mode))
        cleanup = store.drop_schema
    elif kind == "postgresql":
        assert pg_dsn is not None
        store = PostgresStore(
            pg_dsn, schema=Schema(type_mode=type_mode), db_schema=f"clq_test_{suffix}"
        )
        cleanup = store.drop_db_schema
    elif kind == "mysql":
        assert mysql_dsn is not None
        schema = Schema(type_mode=type_mode).with_prefix(f"clq_{suffix}_")
        store = MySQLStore(mysql_dsn, schema=schema)
        cleanup = store.drop_schema
    else:
        raise ValueError(kind)
    try:
        store.create_schema()
        yield store
    finally:
        try:
            cleanup()
        finally:
            store.close()


def server_dsns(request: Any, kind: str) -> dict[str, str]:
    """The DSN keyword for ``open_kind`` from the conftest fixtures (skips when down)."""
    if kind == "postgresql":
        return {"pg_dsn": request.getfixturevalue("pg_dsn")}
    if kind == "mysql":
        return {"mysql_dsn": request.getfixturevalue("mysql_dsn")}
    return {}


@functools.lru_cache(maxsize=64)
def dataset(seed: int, n_logs: int) -> DemoData:
    """A cached demo data set (strategies and the test body share it)."""
    return generate(seed=seed, n_logs=n_logs)


def _value_strategies(data: DemoData) -> dict[str, st.SearchStrategy[Any]]:
    usernames = [*sorted({u.username for u in data.users}), "nobody"]
    emails = [*sorted({u.email for u in data.users}), "nobody@example.com"]
    org_names = sorted({o.name for o in data.organizations if not o.deleted})
    org_ids = [o.id for o in data.organizations]
    times = sorted({log.connect_time for log in data.logs}) or [
        dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc)
    ]
    nudges = [dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1)]
    workspaces = [w.id for w in data.workspaces]
    connections = [log.connection_id for log in data.logs if log.connection_id is not None]
    person = st.one_of(st.just(ME), st.sampled_from(usernames))
    some_uuid = st.uuids(version=4)
    return {
        "organization": st.one_of(
            st.sampled_from(org_names),
            st.sampled_from(org_names).map(str.upper),
            st.sampled_from(org_ids),
            some_uuid,
        ),
        "workspace_owner": person,
        "workspace_owner_email": st.sampled_from(emails),
        "type": st.sampled_from(list(ConnectionType)),
        "username": person,
        "user_email": st.sampled_from(emails),
        "connected_after": st.builds(
            lambda t, d: t + d, st.sampled_from(times), st.sampled_from(nudges)
        ),
        "connected_before": st.builds(
            lambda t, d: t + d, st.sampled_from(times), st.sampled_from(nudges)
        ),
        "workspace_id": st.one_of(st.sampled_from(workspaces), some_uuid),
        "connection_id": (
            st.one_of(st.sampled_from(connections), some_uuid) if connections else some_uuid
        ),
        "status": st.sampled_from(list(ConnectionStatus)),
    }


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DemoData, Query, uuid.UUID, int, int]:
    """(data, query, caller id for ``me``, limit, offset)."""
    data = dataset(draw(st.integers(0, 500)), draw(st.integers(0, 40)))
    values = _value_strategies(data)
    keys = draw(st.lists(st.sampled_from(sorted(values)), max_size=3, unique=True))
    query = Query(**{key: draw(values[key]) for key in keys})
    caller = draw(st.sampled_from([u.id for u in data.users]))
    limit = draw(st.sampled_from([0, 1, 3, 10]))
    offset = draw(st.integers(0, 12))
    return data, query, caller, limit, offset


def lower(text: str) -> str:
    """Go's lower-casing (how Coder lower-cases a query)."""
    return go_lower(text)
