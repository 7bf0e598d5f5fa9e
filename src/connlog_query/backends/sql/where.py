"""Compile a :class:`~connlog_query.query.Query` into the WHERE condition of Coder's list query.

Only active filters produce SQL, each as a predicate the planner can match to an index (no
``CASE WHEN param = ''`` scaffolding). The condition refers to the log table by its base name
(``"connection_logs".col``), so it works in ``FROM connection_logs`` with or without joins; name
and email look-ups are self-contained sub-queries on the users and organizations tables.
"""

from __future__ import annotations

import uuid

from ...apps import matching_types
from ...query import Query
from ...values import ME, POINT_IN_TIME_TYPES, ConnectionStatus, ConnectionType
from ..context import CompileContext, reject_extended, resolve
from ..schema import Schema, base_name
from .dialect import Dialect
from .fragment import ParamBuilder, SqlFragment

__all__ = ["ALWAYS_FALSE", "ALWAYS_TRUE", "compile_where", "storable"]

ALWAYS_TRUE = "1 = 1"
"""The condition of an empty query (every row matches)."""
ALWAYS_FALSE = "1 = 0"
"""The condition of a query no stored row can match (see :func:`storable`)."""

# Sorted so the generated SQL (and its parameters) is the same on every run.
_POINT_IN_TIME = tuple(sorted(t.value for t in POINT_IN_TIME_TYPES))


def storable(value: str) -> bool:
    """Whether text ``value`` can be stored in Coder's database at all.

    PostgreSQL ``text`` cannot hold NUL, and no database accepts text that is not valid UTF-8
    (a lone surrogate). Such a value can never equal a stored one, so the filter matches no row;
    compiling it to a constant false keeps drivers from failing on it.
    """
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _WhereCompiler:
    """One compilation: a dialect, a schema and the parameters collected so far."""

    def __init__(
        self, dialect: Dialect, schema: Schema, context: CompileContext, builder: ParamBuilder
    ) -> None:
        self.d = dialect
        self.s = schema
        self.context = context
        self.b = builder
        self.logs = dialect.quote(base_name(schema.connection_logs))

    def log_col(self, name: str) -> str:
        return f"{self.logs}.{self.d.quote(name)}"

    def live_id(self, table: str, id_col: str, deleted_col: str, condition: str) -> str:
        """Coder's scalar look-up of the live row matching ``condition`` (NULL when none).

        Coder writes ``(SELECT id ... AND NOT deleted)`` and relies on its unique indexes for a
        single row. ``ORDER BY id LIMIT 1`` keeps that plan (a scalar sub-query, run once) and
        picks the smallest id deterministically where a schema lacks those indexes, instead of
        PostgreSQL's "more than one row returned by a subquery" or MariaDB's equivalent error.
        """
        d = self.d
        ref = d.quote(base_name(table))
        ident = f"{ref}.{d.quote(id_col)}"
        return (
            f"(SELECT {ident} FROM {d.quote(table)} WHERE {condition} "
            f"AND NOT {ref}.{d.quote(deleted_col)} ORDER BY {ident} LIMIT 1)"
        )

    def user_col(self, attr: str) -> str:
        column = getattr(self.s.user_columns, attr)
        return f"{self.d.quote(base_name(self.s.users))}.{self.d.quote(column)}"

    def live_user(self, condition: str) -> str:
        uc = self.s.user_columns
        return self.live_id(self.s.users, uc.id, uc.deleted, condition)

    def by_username(self, column: str, name: str) -> str:
        cond = f"lower({self.user_col('username')}) = {self.b.bind('text', name)}"
        return f"{self.log_col(column)} = {self.live_user(cond)}"

    def by_live_email(self, column: str, email: str) -> str:
        cond = f"{self.user_col('email')} = {self.b.bind('text', email)}"
        return f"{self.log_col(column)} = {self.live_user(cond)}"

    def by_any_email(self, column: str, email: str) -> str:
        # The connecting user is matched through Coder's LEFT JOIN, deleted or not; a
        # sub-query over the primary key selects the same rows without needing the join.
        cond = f"{self.user_col('email')} = {self.b.bind('text', email)}"
        users = f"{self.user_col('id')} FROM {self.d.quote(self.s.users)}"
        return f"{self.log_col(column)} IN (SELECT {users} WHERE {cond})"

    def equals(self, column: str, kind: str, value: object) -> str:
        return f"{self.log_col(column)} = {self.b.bind(kind, value)}"  # type: ignore[arg-type]

    def organization(self, value: uuid.UUID | str) -> str:
        lc, oc, d = self.s.log_columns, self.s.organization_columns, self.d
        if isinstance(value, uuid.UUID):
            return self.equals(lc.organization_id, "uuid", value)
        name = f"{d.quote(base_name(self.s.organizations))}.{d.quote(oc.name)}"
        cond = f"lower({name}) = {self.b.bind('text', value)}"
        sub = self.live_id(self.s.organizations, oc.id, oc.deleted, cond)
        return f"{self.log_col(lc.organization_id)} = {sub}"

    def person(self, id_column: str, value: object) -> str:
        if value is ME:
            return self.equals(id_column, "uuid", self.context.user_id)
        assert isinstance(value, str)
        return self.by_username(id_column, value)

    def type_(self, value: ConnectionType) -> str:
        col = self.log_col(self.s.log_columns.type)
        types = (value.value,) if self.s.type_mode == "exact" else matching_types(value)
        if len(types) == 1:
            return f"{col} = {self.b.bind('text', types[0])}"
        return f"{col} IN ({self.b.bind_list('text', types)})"

    def status(self, value: ConnectionStatus) -> str:
        lc = self.s.log_columns
        null = "IS NULL" if value is ConnectionStatus.ONGOING else "IS NOT NULL"
        return (
            f"{self.log_col(lc.disconnect_time)} {null} AND {self.log_col(lc.type)} "
            f"NOT IN ({self.b.bind_list('text', _POINT_IN_TIME)})"
        )

    def conditions(self, q: Query) -> list[str]:
        lc = self.s.log_columns
        out: list[str] = []
        if q.organization is not None:
            out.append(self.organization(q.organization))
        if q.workspace_owner is not None:
            out.append(self.person(lc.workspace_owner_id, q.workspace_owner))
        if q.workspace_owner_email is not None:
            out.append(self.by_live_email(lc.workspace_owner_id, q.workspace_owner_email))
        if q.type is not None:
            out.append(self.type_(q.type))
        if q.username is not None:
            out.append(self.person(lc.user_id, q.username))
        if q.user_email is not None:
            out.append(self.by_any_email(lc.user_id, q.user_email))
        if q.connected_after is not None:
            out.append(
                f"{self.log_col(lc.connect_time)} >= {self.b.bind('timestamp', q.connected_after)}"
            )
        if q.connected_before is not None:
            out.append(
                f"{self.log_col(lc.connect_time)} <= {self.b.bind('timestamp', q.connected_before)}"
            )
        if q.workspace_id is not None:
            out.append(self.equals(lc.workspace_id, "uuid", q.workspace_id))
        if q.connection_id is not None:
            out.append(self.equals(lc.connection_id, "uuid", q.connection_id))
        if q.status is not None:
            out.append(self.status(q.status))
        return out


def _text_values(q: Query) -> list[str]:
    values = [q.organization, q.workspace_owner, q.workspace_owner_email, q.username, q.user_email]
    return [v for v in values if isinstance(v, str) and v is not ME]


def compile_where(
    query: Query, dialect: Dialect, *, context: CompileContext, schema: Schema
) -> SqlFragment:
    """The WHERE condition for ``query``; see :func:`connlog_query.backends.sql.compile`."""
    reject_extended(query, "SQL")
    query = resolve(query, context)
    if not all(storable(v) for v in _text_values(query)):
        return SqlFragment(ALWAYS_FALSE, ())
    builder = ParamBuilder(dialect)
    parts = _WhereCompiler(dialect, schema, context, builder).conditions(query)
    return SqlFragment(" AND ".join(parts) or ALWAYS_TRUE, tuple(builder.params))
