"""Deterministic demo data: organizations, users, workspaces and connection logs.

``generate(seed, n_logs)`` always returns the same :class:`DemoData` for the same arguments (it
uses its own ``random.Random`` and a fixed time anchor, never the clock), so every store can be
filled identically and tests can compare them row for row. The data exercises every rule of
Coder's filters:

* organizations: a mixed-case name (``Research-Lab``), and a deleted ``sandbox`` next to a live
  ``sandbox`` (name lookups must find the live one);
* users: a deleted ``bob`` next to the live ``bob``, a deleted user whose name nobody else has
  (``mallory``), a mixed-case username (``Carol``), mixed-case emails (which an email filter can
  never match, since Coder lower-cases the query);
* every connection type: agent sessions stored under app names (``cursor``, ``windsurf``,
  ``zed``, ``sftp``, ``code_server``, an unregistered ``emacs``) and the three web types;
* ongoing and completed sessions, web events with and without a connecting user;
* six weeks of connect times with some exact ties (to exercise the ``id`` tie-breaker).

As in Coder, agent-reported sessions have no ``user_id`` and web events have no
``connection_id``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property

from .models import ConnectionLog
from .store.records import (
    WEB_TYPES,
    LogRecord,
    OrganizationRecord,
    UserRecord,
    to_connection_log,
)

__all__ = [
    "DEFAULT_USERNAME",
    "DemoData",
    "Workspace",
    "generate",
]

ANCHOR = dt.datetime(2025, 7, 28, 18, 0, 0, tzinfo=dt.timezone.utc)
"""The newest connect time the generator can produce (fixed, so output never depends on now)."""

SPAN = dt.timedelta(weeks=6)
"""How far back connect times go from :data:`ANCHOR`."""

DEFAULT_USERNAME = "alice"
"""The demo user the CLI acts as for ``me`` unless told otherwise."""

# (name, display name, deleted)
_ORGANIZATIONS: tuple[tuple[str, str, bool], ...] = (
    ("coder", "Coder", False),
    ("acme", "Acme Corp", False),
    ("Research-Lab", "Research Lab", False),
    ("sandbox", "Sandbox (old)", True),
    ("sandbox", "Sandbox", False),
)

# (username, display name, email, deleted)
_USERS: tuple[tuple[str, str, str, bool], ...] = (
    ("alice", "Alice Liddell", "alice@example.com", False),
    ("bob", "Bob Builder", "Bob@Example.com", False),
    ("Carol", "Carol Danvers", "carol@example.com", False),
    ("dave", "Dave Lister", "dave@example.com", False),
    ("erin", "Erin Zoë", "Erin.Hart@Example.org", False),
    ("frank", "", "frank@example.org", False),
    ("grace", "Grace Hopper", "grace@example.com", False),
    ("heidi", "Heidi", "heidi@example.net", False),
    ("bob", "Bob (former)", "bob.old@example.com", True),
    ("mallory", "Mallory", "mallory@example.com", True),
)

_WORKSPACE_NAMES = ("dev", "main", "api", "web", "ml", "docs", "scratch", "infra")
_AGENT_NAMES = ("main", "main", "main", "gpu", "sidecar")

# Stored ``type`` values of agent-reported sessions with rough weights (V2 app names).
_SESSION_TYPES: tuple[tuple[str, int], ...] = (
    ("ssh", 14),
    ("vscode", 12),
    ("cursor", 6),
    ("windsurf", 3),
    ("code_server", 2),
    ("zed", 3),
    ("jetbrains", 6),
    ("reconnecting_pty", 8),
    ("sftp", 2),
    ("emacs", 1),
)
_WEB_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("workspace_app", 12),
    ("port_forwarding", 6),
    ("tunnel", 4),
)
_USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Gecko/20100101 Firefox/128.0",
    "curl/8.5.0",
    "coder/2.24 (linux/amd64)",
)
_SLUGS = ("code-server", "jupyter", "8080", "3000", "grafana", "5432")
_DISCONNECT_REASONS = ("client closed", "server shut down", "network timeout", "")


@dataclass(frozen=True, slots=True)
class Workspace:
    """A demo workspace: the ids and names a log row copies."""

    id: uuid.UUID
    name: str
    owner_id: uuid.UUID
    organization_id: uuid.UUID


@dataclass(frozen=True)
class DemoData:
    """One generated data set: the rows of every table, ready to ingest into any store."""

    organizations: tuple[OrganizationRecord, ...]
    users: tuple[UserRecord, ...]
    workspaces: tuple[Workspace, ...]
    logs: tuple[LogRecord, ...]
    seed: int = 0

    def user(self, username: str, *, deleted: bool = False) -> UserRecord:
        """The user with this exact ``username`` and ``deleted`` flag (``KeyError`` if none)."""
        for user in self.users:
            if user.username == username and user.deleted == deleted:
                return user
        raise KeyError(username)

    def organization(self, name: str, *, deleted: bool = False) -> OrganizationRecord:
        """The organization with this exact ``name`` and ``deleted`` flag."""
        for org in self.organizations:
            if org.name == name and org.deleted == deleted:
                return org
        raise KeyError(name)

    @cached_property
    def connection_logs(self) -> tuple[ConnectionLog, ...]:
        """Every log row as Coder's JSON model, joined the way the endpoint joins (cached)."""
        orgs = {o.id: o for o in self.organizations}
        users = {u.id: u for u in self.users}
        return tuple(
            to_connection_log(
                log,
                orgs[log.organization_id],
                users[log.workspace_owner_id].username,
                users.get(log.user_id) if log.user_id is not None else None,
            )
            for log in self.logs
        )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in table]
    weights = [weight for _, weight in table]
    return rng.choices(names, weights)[0]


def _ip(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.2:
        return f"2001:db8::{rng.randrange(1, 0xFFFF):x}"
    return f"10.{rng.randrange(0, 4)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"


def _organizations(rng: random.Random) -> tuple[OrganizationRecord, ...]:
    return tuple(
        OrganizationRecord(id=_uuid(rng), name=name, display_name=display, deleted=deleted)
        for name, display, deleted in _ORGANIZATIONS
    )


def _users(rng: random.Random) -> tuple[UserRecord, ...]:
    created = ANCHOR - dt.timedelta(days=400)
    out = []
    for index, (username, name, email, deleted) in enumerate(_USERS):
        created_at = created + dt.timedelta(days=7 * index, seconds=rng.randrange(86400))
        out.append(
            UserRecord(
                id=_uuid(rng),
                username=username,
                email=email,
                name=name,
                created_at=created_at,
                updated_at=created_at + dt.timedelta(days=3),
                last_seen_at=ANCHOR - dt.timedelta(hours=rng.randrange(1, 500)),
                status="suspended" if deleted else "active",
                login_type=rng.choice(("password", "github", "oidc")),
                deleted=deleted,
            )
        )
    return tuple(out)


def _workspaces(
    rng: random.Random,
    organizations: tuple[OrganizationRecord, ...],
    users: tuple[UserRecord, ...],
) -> tuple[Workspace, ...]:
    out = []
    for user in users:
        for name in rng.sample(_WORKSPACE_NAMES, 2):
            org = rng.choice(organizations)
            out.append(Workspace(_uuid(rng), name, user.id, org.id))
    return tuple(out)


def _connect_times(rng: random.Random, n: int) -> Iterator[dt.datetime]:
    previous: dt.datetime | None = None
    for _ in range(n):
        if previous is not None and rng.random() < 0.05:
            yield previous  # an exact tie with the row before
            continue
        offset = dt.timedelta(microseconds=rng.randrange(int(SPAN.total_seconds() * 1e6)))
        when = ANCHOR - offset
        if rng.random() < 0.1:
            when = when.replace(microsecond=0)  # whole seconds: no fraction in Go's format
        previous = when
        yield when


def _log(
    rng: random.Random,
    when: dt.datetime,
    workspace: Workspace,
    users: tuple[UserRecord, ...],
) -> LogRecord:
    web = rng.random() < 0.3
    kind = _weighted(rng, _WEB_WEIGHTS if web else _SESSION_TYPES)
    common = LogRecord(
        id=_uuid(rng),
        connect_time=when,
        organization_id=workspace.organization_id,
        workspace_owner_id=workspace.owner_id,
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        agent_name=rng.choice(_AGENT_NAMES),
        type=kind,
        ip=_ip(rng),
    )
    if kind in WEB_TYPES:
        with_user = rng.random() < 0.75
        if kind == "tunnel":
            code = rng.choice((101, 101, 101, 403))
        else:
            code = rng.choice((200, 200, 200, 302, 403, 502))
        return replace(
            common,
            code=code,
            user_agent=rng.choice(_USER_AGENTS),
            user_id=rng.choice(users).id if with_user else None,
            slug_or_port=rng.choice(_SLUGS),
        )
    ongoing = rng.random() < 0.2
    disconnect_time: dt.datetime | None = None
    disconnect_reason: str | None = None
    exit_code: int | None = None
    if not ongoing:
        seconds = rng.choice((0, 1, 59, 600, 3600, 4 * 3600)) + rng.randrange(0, 600)
        disconnect_time = when + dt.timedelta(seconds=seconds, microseconds=rng.randrange(10**6))
        disconnect_reason = rng.choice((*_DISCONNECT_REASONS, None))
        exit_code = rng.choice((0, 0, 0, 1, 130, 255, None))
    return replace(
        common,
        code=exit_code,
        connection_id=_uuid(rng),
        disconnect_time=disconnect_time,
        disconnect_reason=disconnect_reason,
    )


def generate(seed: int = 0, n_logs: int = 5000) -> DemoData:
    """A deterministic demo data set: the same ``seed`` and ``n_logs`` give the same rows.

    Args:
        seed: Seed of the generator's own ``random.Random``.
        n_logs: Number of connection-log rows.

    Returns:
        The organizations, users, workspaces and logs (logs in generation order, not sorted).
    """
    if n_logs < 0:
        raise ValueError(f"n_logs must be >= 0, not {n_logs}")
    rng = random.Random(seed)
    organizations = _organizations(rng)
    users = _users(rng)
    workspaces = _workspaces(rng, organizations, users)
    logs = tuple(
        _log(rng, when, rng.choice(workspaces), users) for when in _connect_times(rng, n_logs)
    )
    return DemoData(organizations, users, workspaces, logs, seed)
