"""Shared by the store, parity and memory-backend tests: a naive oracle and store factories.

:func:`oracle` evaluates reference section 7.1 directly over the raw table rows (LogRecord,
UserRecord, OrganizationRecord), written as plainly as possible and sharing no code with the
backends, so every backend and store is checked against an independent reading of the spec.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal

from hypothesis import strategies as st

from connlog_query import ME, ConnectionStatus, ConnectionType, Query
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema
from connlog_query.demo import ANCHOR, DemoData, Workspace, generate
from connlog_query.expr import And, Filter, Not, Or, RelativeTime, Text, TimeBound, Wildcard
from connlog_query.gocompat import go_lower
from connlog_query.store import (
    LogRecord,
    MemoryStore,
    MySQLStore,
    PostgresStore,
    SQLiteStore,
    Store,
)

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


UNKNOWN_ORGANIZATION_NOPE = {
    "message": "Invalid connection search query.",
    "validations": [
        {
            "field": "organization",
            "detail": 'Query param "organization" has invalid value: organization '
            '"nope" either does not exist, or you are unauthorized to view it',
        }
    ],
}
"""Coder's 400 body for a query naming the organization ``nope``, which no data set has."""


def case_context(
    store: Store, options: dict[str, Any], now: dt.datetime | None = None
) -> CompileContext:
    """The compile context of a table case: ``me`` is ``options["as_user"]`` when given."""
    name = options.get("as_user")
    if name is None:
        return CompileContext(now=now)
    user_id = store.resolve_user(name)
    assert user_id is not None, name
    return CompileContext(user_id=user_id, now=now)


class UnknownOrganization(LookupError):
    """The oracle's version of Coder's organization-not-found error."""


def oracle(
    data: DemoData,
    query: Query,
    *,
    user_id: uuid.UUID | None = None,
    type_mode: Literal["family", "exact"] = "family",
    now: dt.datetime | None = None,
) -> list[uuid.UUID]:
    """Ids of the rows ``query`` selects, newest first (connect_time desc, id desc).

    The typed fields are checked one by one as reference 7.1 says; ``query.where`` (extended
    queries) with :func:`holds`, relative times taken from ``now``.
    """
    org_id: Any = query.organization
    if isinstance(org_id, str):
        org_id = _organization_id(data, org_id)
    for name in _organization_names(query.where):
        _organization_id(data, name)  # Coder's error for any unknown name, even under NOT

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
        if query.where is not None and not holds(
            query.where, log, data, user_id=user_id, type_mode=type_mode, now=now
        ):
            continue
        out.append(log)
    out.sort(key=lambda r: (r.connect_time, r.id), reverse=True)
    return [r.id for r in out]


def _organization_id(data: DemoData, name: str) -> uuid.UUID:
    live = [o.id for o in data.organizations if not o.deleted and o.name.lower() == name]
    if not live:
        raise UnknownOrganization(name)
    return live[0]


def _organization_names(node: Any) -> list[str]:
    if isinstance(node, Filter):
        if node.key != "organization":
            return []
        return [v for v in node.values if isinstance(v, str)]
    if isinstance(node, Not):
        return _organization_names(node.item)
    if isinstance(node, (And, Or)):
        return [name for item in node.items for name in _organization_names(item)]
    return []


UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
"""Seconds per relative-time unit, written out here rather than taken from the package."""


def fold_ascii(text: str) -> str:
    """A-Z to a-z, every other character unchanged (free text's case rule)."""
    return "".join(chr(ord(ch) + 32) if "A" <= ch <= "Z" else ch for ch in text)


def glob(text: str, pattern: str) -> bool:
    """Whether ``text`` matches ``pattern`` where ``*`` is any run (even empty) of characters
    and every other character stands for itself (a plain dynamic programme)."""
    # reach[j]: text[:i] matches pattern[:j] for the current i.
    reach = [True] + [False] * len(pattern)
    for j, ch in enumerate(pattern, 1):
        reach[j] = reach[j - 1] and ch == "*"
    for letter in text:
        nxt = [False] * (len(pattern) + 1)
        for j, ch in enumerate(pattern, 1):
            if ch == "*":
                nxt[j] = nxt[j - 1] or reach[j]
            else:
                nxt[j] = reach[j - 1] and ch == letter
        reach = nxt
    return reach[-1]


def holds(
    node: Any,
    log: LogRecord,
    data: DemoData,
    *,
    user_id: uuid.UUID | None,
    type_mode: Literal["family", "exact"] = "family",
    now: dt.datetime | None = None,
) -> bool:
    """Whether an extended expression holds for one raw row (two-valued: no NULLs)."""
    if isinstance(node, Not):
        return not holds(node.item, log, data, user_id=user_id, type_mode=type_mode, now=now)
    if isinstance(node, And):
        return all(
            holds(i, log, data, user_id=user_id, type_mode=type_mode, now=now) for i in node.items
        )
    if isinstance(node, Or):
        return any(
            holds(i, log, data, user_id=user_id, type_mode=type_mode, now=now) for i in node.items
        )
    if isinstance(node, TimeBound):
        at = node.at
        if isinstance(at, RelativeTime):
            assert now is not None, "relative times need the oracle's now"
            at = now + dt.timedelta(seconds=at.amount * UNIT_SECONDS[at.unit])
        return {
            ">=": log.connect_time >= at,
            ">": log.connect_time > at,
            "<=": log.connect_time <= at,
            "<": log.connect_time < at,
        }[node.op]
    if isinstance(node, Text):
        owner = next(u for u in data.users if u.id == log.workspace_owner_id)
        return any(
            node.text in fold_ascii(name)
            for name in (log.workspace_name, log.agent_name, owner.username)
        )
    assert isinstance(node, Filter), node
    return any(
        _value_holds(node.key, value, log, data, user_id, type_mode) for value in node.values
    )


def _value_holds(
    key: str,
    value: Any,
    log: LogRecord,
    data: DemoData,
    user_id: uuid.UUID | None,
    type_mode: str,
) -> bool:
    """One value of a filter, with the single-value rules of reference 7.1."""
    wild = value.pattern if isinstance(value, Wildcard) else None

    def live_named() -> set[uuid.UUID]:
        if value is ME:
            assert user_id is not None
            return {user_id}
        return {
            u.id
            for u in data.users
            if not u.deleted
            and (glob(u.username.lower(), wild) if wild else u.username.lower() == value)
        }

    if key == "organization":
        if isinstance(value, uuid.UUID):
            return log.organization_id == value
        return log.organization_id == _organization_id(data, value)
    if key == "workspace_owner":
        return log.workspace_owner_id in live_named()
    if key == "workspace_owner_email":
        return log.workspace_owner_id in {
            u.id
            for u in data.users
            if not u.deleted and (glob(u.email, wild) if wild else u.email == value)
        }
    if key == "type":
        allowed = {value.value} if type_mode == "exact" else FAMILIES[value.value]
        return log.type in allowed
    if key == "username":
        return log.user_id is not None and log.user_id in live_named()
    if key == "user_email":
        joined = [u for u in data.users if u.id == log.user_id]
        if not joined:
            return False
        return glob(joined[0].email, wild) if wild else joined[0].email == value
    if key == "workspace_id":
        return log.workspace_id == value
    if key == "connection_id":
        return log.connection_id == value
    assert key == "status", key
    if log.type in PIT:
        return False
    return (value.value == "ongoing") == (log.disconnect_time is None)


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


# --- extended queries: data with odd names, and random expressions over it ------------------

NOW = ANCHOR + dt.timedelta(minutes=30)
"""The injected clock of extended tests: half an hour after the newest demo row."""

EXTRA_PEOPLE: tuple[tuple[str, str, bool], ...] = (
    # (username, email, deleted): LIKE metacharacters, the LIKE escape character, a literal
    # star, mixed case, non-ASCII, and a deleted user.
    ("under_score", "under_score@Example.com", False),
    ("per%cent", "per%cent@example.com", False),
    ("back\\slash", "back\\slash@example.com", False),
    ("bang!x", "bang!x@example.com", False),
    ("star*name", "star*name@example.com", False),
    ("Mixed.Case", "Mixed.Case@Example.COM", False),
    ("ünïcødé", "ÜNÏ@example.com", False),
    ("gone_user", "gone_user@example.com", True),
)

EXTRA_WORKSPACES: tuple[tuple[str, str], ...] = (
    # (workspace name, agent name): mixed case, non-ASCII upper and lower case, metacharacters.
    ("Dev-Box", "GPU"),
    ("ÜBER-ws", "Ágent"),
    ("qa_50%", "main"),
    ("back\\ws", "Side!Car"),
    # KELVIN SIGN and I WITH DOT ABOVE lower-case to ASCII in Unicode, but not in ASCII folding.
    ("\u212aelvin-\u0130x", "main"),
)


def extended_data(data: DemoData) -> DemoData:
    """``data`` plus users, workspaces and rows that extended queries have rules about.

    Each extra user owns one workspace (names from :data:`EXTRA_WORKSPACES`) with an SSH
    session there and a web event without a connecting user, and connects as a user to a web
    event in the first demo user's workspace. Times are the hours before :data:`ANCHOR`, so
    relative times around :data:`NOW` select some of them.
    """
    base = data.users[0]
    org = data.organizations[0]
    users = [
        dataclasses.replace(
            base,
            id=uuid.UUID(int=0xE0_0000 + i),
            username=name,
            email=email,
            name=name,
            deleted=deleted,
        )
        for i, (name, email, deleted) in enumerate(EXTRA_PEOPLE)
    ]
    workspaces = []
    logs = []
    host = data.workspaces[0] if data.workspaces else None
    for i, user in enumerate(users):
        ws_name, agent = EXTRA_WORKSPACES[i % len(EXTRA_WORKSPACES)]
        ws = Workspace(uuid.UUID(int=0xE1_0000 + i), ws_name, user.id, org.id)
        workspaces.append(ws)
        when = ANCHOR - dt.timedelta(hours=i, minutes=7 * i)
        session = LogRecord(
            id=uuid.UUID(int=0xE2_0000 + 3 * i),
            connect_time=when,
            organization_id=org.id,
            workspace_owner_id=user.id,
            workspace_id=ws.id,
            workspace_name=ws.name,
            agent_name=agent,
            type="ssh",
            connection_id=uuid.UUID(int=0xE3_0000 + i),
            disconnect_time=None if i % 2 else when + dt.timedelta(minutes=5),
        )
        anonymous = dataclasses.replace(
            session,
            id=uuid.UUID(int=0xE2_0000 + 3 * i + 1),
            connect_time=when - dt.timedelta(days=i),
            type="port_forwarding",
            connection_id=None,
            disconnect_time=None,
            code=200,
            slug_or_port="8080",
            user_agent="curl/8.5.0",
        )
        logs += [session, anonymous]
        if host is not None:
            logs.append(
                dataclasses.replace(
                    anonymous,
                    id=uuid.UUID(int=0xE2_0000 + 3 * i + 2),
                    connect_time=when - dt.timedelta(days=2 * i, minutes=1),
                    workspace_owner_id=host.owner_id,
                    workspace_id=host.id,
                    workspace_name=host.name,
                    agent_name="main",
                    organization_id=host.organization_id,
                    type="workspace_app",
                    user_id=user.id,
                    slug_or_port="code-server",
                )
            )
    return DemoData(
        organizations=data.organizations,
        users=(*data.users, *users),
        workspaces=(*data.workspaces, *workspaces),
        logs=(*data.logs, *logs),
        seed=data.seed,
    )


@functools.lru_cache(maxsize=64)
def extended_dataset(seed: int, n_logs: int) -> DemoData:
    """A cached :func:`extended_data` of a demo data set."""
    return extended_data(generate(seed=seed, n_logs=n_logs))


def _wildcards(texts: list[str]) -> list[Wildcard]:
    """Valid wildcard patterns cut from ``texts``: prefix, suffix, infix, both ends, ``*``."""
    patterns = {"*"}
    for text in texts:
        low = go_lower(text)
        n = len(low)
        patterns.update(
            {
                low[:1] + "*",
                low[: n // 2] + "*",
                "*" + low[-2:],
                "*" + low[1:4] + "*",
                low[:2] + "*" + low[-1:],
                "*" + low[n // 2 :],
            }
        )
    out = []
    for pattern in sorted(patterns):
        try:
            out.append(Wildcard(pattern=pattern))
        except ValueError:
            continue  # white space, quotes and the like cannot be written as a pattern
    return out


def _pieces(texts: list[str]) -> list[str]:
    """Non-empty substrings of ``texts`` for free text (short ones, so they recur)."""
    out = {"nothing-like-this"}
    for text in texts:
        for size in (1, 2, 3):
            out.update(text[i : i + size] for i in range(0, max(1, len(text) - size + 1), 2))
    return sorted(p for p in out if p.strip())


def _filter_values(data: DemoData) -> dict[str, list[Any]]:
    usernames = sorted({u.username for u in data.users})
    emails = sorted({u.email for u in data.users})
    name_values: list[Any] = [*(go_lower(n) for n in usernames), "nobody", *_wildcards(usernames)]
    email_values: list[Any] = [*emails, "nobody@example.com", *_wildcards(emails)]
    workspaces = [w.id for w in data.workspaces]
    connections = [log.connection_id for log in data.logs if log.connection_id is not None]
    return {
        "organization": [
            *sorted({o.name for o in data.organizations if not o.deleted}),
            *(o.id for o in data.organizations),
            uuid.UUID(int=7),
        ],
        "workspace_owner": [ME, *name_values],
        "workspace_owner_email": email_values,
        "type": list(ConnectionType),
        "username": [ME, *name_values],
        "user_email": email_values,
        "workspace_id": [*workspaces, uuid.UUID(int=8)],
        "connection_id": [*connections, uuid.UUID(int=9)],
        "status": list(ConnectionStatus),
    }


def expressions(data: DemoData) -> st.SearchStrategy[Any]:
    """Random extended expressions over values present in ``data``: filters with value lists
    and wildcards, free text, absolute and relative time bounds, NOT, AND, OR, nested."""
    values = _filter_values(data)
    keys = sorted(values)
    filters = st.sampled_from(keys).flatmap(
        lambda key: st.lists(st.sampled_from(values[key]), min_size=1, max_size=3).map(
            lambda vs: Filter(key=key, values=tuple(vs))
        )
    )
    names = [log.workspace_name for log in data.logs] + [log.agent_name for log in data.logs]
    texts = st.sampled_from(_pieces(sorted({*names, *(u.username for u in data.users)})))
    times = sorted({log.connect_time for log in data.logs})
    nudge = st.sampled_from(
        [dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1)]
    )
    absolute = st.builds(lambda t, d: t + d, st.sampled_from(times), nudge)
    relative = st.one_of(
        st.just(RelativeTime(amount=0)),
        st.builds(lambda n: RelativeTime(amount=-n, unit="h"), st.integers(0, 200)),
        st.builds(lambda n: RelativeTime(amount=-n, unit="d"), st.integers(1, 45)),
        st.builds(lambda n: RelativeTime(amount=-n, unit="w"), st.integers(1, 6)),
        st.builds(lambda n: RelativeTime(amount=-n, unit="m"), st.integers(1, 600)),
    )
    bounds = st.builds(
        lambda op, at: TimeBound(op=op, at=at),
        st.sampled_from([">=", ">", "<=", "<"]),
        st.one_of(absolute, relative),
    )
    leaves = st.one_of(filters, filters, bounds, texts.map(lambda t: Text(text=t)))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(lambda item: Not(item=item)),
            st.lists(inner, min_size=2, max_size=3).map(lambda items: And(items=tuple(items))),
            st.lists(inner, min_size=2, max_size=3).map(lambda items: Or(items=tuple(items))),
        ),
        max_leaves=6,
    )


@st.composite
def extended_scenarios(draw: st.DrawFn) -> tuple[DemoData, Query, uuid.UUID, int, int]:
    """(data, extended query, caller id for ``me``, limit, offset) over :func:`extended_data`;
    relative times are meant to be resolved at :data:`NOW`."""
    data = extended_dataset(draw(st.integers(0, 500)), draw(st.integers(0, 40)))
    expression = draw(expressions(data))
    query = Query.from_expression(expression)
    caller = draw(st.sampled_from([u.id for u in data.users]))
    limit = draw(st.sampled_from([0, 1, 3, 10]))
    offset = draw(st.integers(0, 12))
    return data, query, caller, limit, offset
