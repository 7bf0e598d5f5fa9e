"""Coder's two statements: the list query (joins, order, limit/offset) and the capped count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...query import Query
from ..context import CompileContext
from ..schema import JOIN_ALIASES, Schema, base_name
from .dialect import ColumnKind, Dialect
from .fragment import ParamBuilder, SqlFragment
from .where import compile_where

__all__ = ["DEFAULT_LIMIT", "LOG_COLUMNS", "build_count", "build_select", "decode_row"]

DEFAULT_LIMIT = 100
"""Rows returned when the limit is 0, as in Coder."""

_OWNER, _CONN_USER, _ORG = JOIN_ALIASES

# (output name, source table key, schema column attribute, kind), in SELECT order.
_SPEC: tuple[tuple[str, str, str, ColumnKind], ...] = (
    ("id", "log", "id", "uuid"),
    ("connect_time", "log", "connect_time", "timestamp"),
    ("organization_id", "log", "organization_id", "uuid"),
    ("workspace_owner_id", "log", "workspace_owner_id", "uuid"),
    ("workspace_id", "log", "workspace_id", "uuid"),
    ("workspace_name", "log", "workspace_name", "text"),
    ("agent_name", "log", "agent_name", "text"),
    ("type", "log", "type", "text"),
    ("code", "log", "code", "int"),
    ("ip", "log", "ip", "ip"),
    ("user_agent", "log", "user_agent", "text"),
    ("user_id", "log", "user_id", "uuid"),
    ("slug_or_port", "log", "slug_or_port", "text"),
    ("connection_id", "log", "connection_id", "uuid"),
    ("disconnect_time", "log", "disconnect_time", "timestamp"),
    ("disconnect_reason", "log", "disconnect_reason", "text"),
    ("workspace_owner_username", "owner", "username", "text"),
    ("organization_name", "org", "name", "text"),
    ("organization_display_name", "org", "display_name", "text"),
    ("organization_icon", "org", "icon", "text"),
    ("user_username", "user", "username", "text"),
    ("user_email", "user", "email", "text"),
    ("user_name", "user", "name", "text"),
    ("user_created_at", "user", "created_at", "timestamp"),
    ("user_updated_at", "user", "updated_at", "timestamp"),
    ("user_last_seen_at", "user", "last_seen_at", "timestamp"),
    ("user_status", "user", "status", "text"),
    ("user_login_type", "user", "login_type", "text"),
    ("user_avatar_url", "user", "avatar_url", "text"),
)

LOG_COLUMNS: tuple[tuple[str, ColumnKind], ...] = tuple((name, kind) for name, _, _, kind in _SPEC)
"""``(name, kind)`` of every column :func:`build_select` returns, in order. ``user_*`` columns
come from the left-joined connecting user and are ``NULL`` when the row has no user."""


def decode_row(dialect: Dialect, row: Sequence[Any]) -> dict[str, Any]:
    """A fetched list row as ``{name: value}`` (UUIDs, aware UTC datetimes, text IPs)."""
    return {
        name: dialect.from_db(kind, value)
        for (name, kind), value in zip(LOG_COLUMNS, row, strict=True)
    }


class _Tables:
    """Quoted table references of one schema in one dialect."""

    def __init__(self, dialect: Dialect, schema: Schema) -> None:
        q = dialect.quote
        self.d, self.s = dialect, schema
        self.logs = q(base_name(schema.connection_logs))
        self.refs = {"log": self.logs, "owner": q(_OWNER), "user": q(_CONN_USER), "org": q(_ORG)}

    def col(self, table: str, attr: str) -> str:
        columns: Any = {
            "log": self.s.log_columns,
            "owner": self.s.user_columns,
            "user": self.s.user_columns,
            "org": self.s.organization_columns,
        }[table]
        return f"{self.refs[table]}.{self.d.quote(getattr(columns, attr))}"

    def joins(self, *, connecting_user: bool) -> str:
        q, s, uc = self.d.quote, self.s, self.s.user_columns
        oc = s.organization_columns
        parts = [
            f"FROM {q(s.connection_logs)}",
            f"JOIN {q(s.users)} AS {self.refs['owner']} "
            f"ON {self.refs['owner']}.{q(uc.id)} = {self.col('log', 'workspace_owner_id')}",
        ]
        if connecting_user:
            parts.append(
                f"LEFT JOIN {q(s.users)} AS {self.refs['user']} "
                f"ON {self.refs['user']}.{q(uc.id)} = {self.col('log', 'user_id')}"
            )
        parts.append(
            f"JOIN {q(s.organizations)} AS {self.refs['org']} "
            f"ON {self.refs['org']}.{q(oc.id)} = {self.col('log', 'organization_id')}"
        )
        return "\n".join(parts)


def _check_non_negative(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def build_select(
    query: Query,
    dialect: Dialect,
    *,
    context: CompileContext,
    schema: Schema,
    limit: int,
    offset: int,
) -> SqlFragment:
    """The list statement; see :func:`connlog_query.backends.sql.select_logs`."""
    _check_non_negative(limit=limit, offset=offset)
    where = compile_where(query, dialect, context=context, schema=schema)
    t = _Tables(dialect, schema)
    b = ParamBuilder(dialect)
    columns = ",\n  ".join(
        f"{t.col(table, attr)} AS {dialect.quote(name)}" for name, table, attr, _ in _SPEC
    )
    sql = (
        f"SELECT\n  {columns}\n{t.joins(connecting_user=True)}\n"
        f"WHERE ({b.extend(where)})\n"
        f"ORDER BY {t.col('log', 'connect_time')} DESC, {t.col('log', 'id')} DESC\n"
        f"LIMIT {b.bind('int', limit or DEFAULT_LIMIT)} OFFSET {b.bind('int', offset)}"
    )
    return SqlFragment(sql, tuple(b.params))


def build_count(
    query: Query,
    dialect: Dialect,
    *,
    context: CompileContext,
    schema: Schema,
    count_cap: int,
) -> SqlFragment:
    """The capped count statement; see :func:`connlog_query.backends.sql.count_logs`."""
    _check_non_negative(count_cap=count_cap)
    where = compile_where(query, dialect, context=context, schema=schema)
    t = _Tables(dialect, schema)
    b = ParamBuilder(dialect)
    # The connecting-user LEFT JOIN is left out: users.id is unique, so it cannot change the
    # number of rows, and the WHERE condition never refers to it.
    inner = (
        f"SELECT 1 AS {dialect.quote('one')}\n{t.joins(connecting_user=False)}\n"
        f"WHERE ({b.extend(where)})"
    )
    if count_cap:
        inner += f"\nLIMIT {b.bind('int', count_cap + 1)}"
    sql = f"SELECT count(*) FROM (\n{inner}\n) AS {dialect.quote('matched')}"
    return SqlFragment(sql, tuple(b.params))
