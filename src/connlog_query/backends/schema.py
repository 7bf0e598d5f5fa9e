"""Table and column names of the database the SQL backends read (default: Coder's own schema).

Identifiers are the only text besides fixed keywords that reaches generated SQL, so every name
is checked against a strict pattern when a :class:`Schema` is built: a plain identifier for a
column, an optionally schema-qualified ``schema.table`` for a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Literal

__all__ = [
    "DEFAULT_SCHEMA",
    "JOIN_ALIASES",
    "ConnectionLogColumns",
    "OrganizationColumns",
    "Schema",
    "TypeMode",
    "UserColumns",
    "base_name",
]

TypeMode = Literal["exact", "family"]
"""How a ``type`` filter matches: ``exact`` = Coder V1 equality; ``family`` = V2 expansion."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\Z")

JOIN_ALIASES: tuple[str, str, str] = ("owner_user", "conn_user", "org")
"""Aliases :func:`~connlog_query.backends.sql.select_logs` gives the joined tables (workspace
owner, connecting user, organization); table names may not collide with them."""


def _check_columns(owner: object) -> None:
    for f in fields(owner):  # type: ignore[arg-type]
        value = getattr(owner, f.name)
        if not isinstance(value, str) or not _IDENT.match(value):
            raise ValueError(
                f"column name for {type(owner).__name__}.{f.name} must match "
                f"[A-Za-z_][A-Za-z0-9_]*, got {value!r}"
            )


@dataclass(frozen=True)
class ConnectionLogColumns:
    """Column names of the connection-log table (reference 11.1)."""

    id: str = "id"
    connect_time: str = "connect_time"
    organization_id: str = "organization_id"
    workspace_owner_id: str = "workspace_owner_id"
    workspace_id: str = "workspace_id"
    workspace_name: str = "workspace_name"
    agent_name: str = "agent_name"
    type: str = "type"
    code: str = "code"
    ip: str = "ip"
    user_agent: str = "user_agent"
    user_id: str = "user_id"
    slug_or_port: str = "slug_or_port"
    connection_id: str = "connection_id"
    disconnect_time: str = "disconnect_time"
    disconnect_reason: str = "disconnect_reason"

    def __post_init__(self) -> None:
        _check_columns(self)


@dataclass(frozen=True)
class UserColumns:
    """Column names of the users table used by filters and by ``web_info.user`` (reference 11.2)."""

    id: str = "id"
    username: str = "username"
    email: str = "email"
    deleted: str = "deleted"
    name: str = "name"
    created_at: str = "created_at"
    updated_at: str = "updated_at"
    last_seen_at: str = "last_seen_at"
    status: str = "status"
    login_type: str = "login_type"
    avatar_url: str = "avatar_url"

    def __post_init__(self) -> None:
        _check_columns(self)


@dataclass(frozen=True)
class OrganizationColumns:
    """Column names of the organizations table (reference 11.2)."""

    id: str = "id"
    name: str = "name"
    display_name: str = "display_name"
    icon: str = "icon"
    deleted: str = "deleted"

    def __post_init__(self) -> None:
        _check_columns(self)


def base_name(table: str) -> str:
    """The table name without its schema qualifier (``"audit.connection_logs"`` -> last part)."""
    return table.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Schema:
    """Where the connection log lives, and how ``type`` filters behave.

    Attributes:
        connection_logs: Table of log rows; ``name`` or ``schema.name``.
        users: Table of users (workspace owners and connecting users).
        organizations: Table of organizations.
        log_columns: Column names of ``connection_logs``.
        user_columns: Column names of ``users``.
        organization_columns: Column names of ``organizations``.
        type_mode: ``"family"`` (default, Coder V2): ``type:vscode`` matches every app of the
            family (``cursor``, ``windsurf``, ...). ``"exact"`` (Coder V1): equality with the
            filter value.

    Raises:
        ValueError: a name is not a plain identifier, two tables share a base name, or a base
            name collides with the join aliases of :data:`JOIN_ALIASES`.
    """

    connection_logs: str = "connection_logs"
    users: str = "users"
    organizations: str = "organizations"
    log_columns: ConnectionLogColumns = field(default_factory=ConnectionLogColumns)
    user_columns: UserColumns = field(default_factory=UserColumns)
    organization_columns: OrganizationColumns = field(default_factory=OrganizationColumns)
    type_mode: TypeMode = "family"

    def __post_init__(self) -> None:
        tables = (self.connection_logs, self.users, self.organizations)
        for table in tables:
            if not isinstance(table, str) or not _TABLE.match(table):
                raise ValueError(
                    "table name must be an identifier or schema.identifier "
                    f"([A-Za-z_][A-Za-z0-9_]*), got {table!r}"
                )
        bases = [base_name(t).lower() for t in tables]
        if len(set(bases)) != len(bases):
            raise ValueError(f"table base names must differ, got {list(tables)!r}")
        clash = set(bases) & set(JOIN_ALIASES)
        if clash:
            raise ValueError(f"table names may not be the join aliases {sorted(clash)!r}")
        if self.type_mode not in ("exact", "family"):
            raise ValueError(f'type_mode must be "exact" or "family", got {self.type_mode!r}')

    def with_prefix(self, prefix: str) -> Schema:
        """This schema with ``prefix`` before every table's base name (e.g. to isolate tests)."""

        def add(table: str) -> str:
            head, _, tail = table.rpartition(".")
            return f"{head}.{prefix}{tail}" if head else f"{prefix}{tail}"

        return Schema(
            connection_logs=add(self.connection_logs),
            users=add(self.users),
            organizations=add(self.organizations),
            log_columns=self.log_columns,
            user_columns=self.user_columns,
            organization_columns=self.organization_columns,
            type_mode=self.type_mode,
        )


DEFAULT_SCHEMA = Schema()
"""Coder's own schema (the default of every ``schema=`` argument)."""
