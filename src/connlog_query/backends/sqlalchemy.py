"""The SQLAlchemy backend: a query as a SQLAlchemy Core boolean expression (extra ``sqlalchemy``).

:func:`tables` describes Coder's three tables as :class:`sqlalchemy.Table` objects whose column
types store values exactly like :mod:`connlog_query.backends.ddl` (so both backends read the same
database), and :func:`compile` turns a :class:`~connlog_query.query.Query` into an expression for
``select(...).where(...)``. The meaning of every filter is that of the SQL backend
(:func:`connlog_query.backends.sql.compile`), written with SQLAlchemy constructs, so it renders
on any SQLAlchemy dialect.

Example:
    >>> import sqlalchemy as sa
    >>> from connlog_query import Query
    >>> t = tables(sa.MetaData())
    >>> expr = compile(Query(type="ssh"), tables=t)
    >>> print(expr)
    connection_logs.type IN (__[POSTCOMPILE_type_1])
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from ..apps import matching_types
from ..query import Query
from ..values import ME, POINT_IN_TIME_TYPES, ConnectionStatus, ConnectionType
from .context import DEFAULT_CONTEXT, CompileContext, reject_extended, resolve
from .ddl import TABLE_COLUMNS, TableKey
from .schema import DEFAULT_SCHEMA, Schema
from .sql import DIALECTS
from .sql.dialect import ColumnKind, Dialect, as_utc, as_uuid, ip_text
from .sql.where import storable

__all__ = ["CoderTables", "CoderUuid", "UtcDateTime", "compile", "tables"]

_POINT_IN_TIME = tuple(sorted(t.value for t in POINT_IN_TIME_TYPES))


def _our_dialect(sa_dialect: SADialect) -> Dialect | None:
    name = "mysql" if sa_dialect.name in ("mysql", "mariadb") else sa_dialect.name
    return DIALECTS.get(name)


class CoderUuid(sa.types.TypeDecorator[uuid.UUID]):
    """A UUID stored like the SQL backend stores it: native on PostgreSQL, else hyphenated text."""

    impl = sa.CHAR(36)
    cache_ok = True

    def load_dialect_impl(self, dialect: SADialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=True))
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.CHAR(36, charset="ascii", collation="ascii_bin"))
        return dialect.type_descriptor(sa.CHAR(36))

    def process_bind_param(self, value: Any, dialect: SADialect) -> Any:
        if value is None:
            return None
        value = as_uuid(value)
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: SADialect) -> uuid.UUID | None:
        return None if value is None else as_uuid(value)


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """An aware UTC datetime, stored like the SQL backend stores it in each dialect.

    PostgreSQL ``timestamptz``; MariaDB/MySQL ``DATETIME(6)`` holding UTC; SQLite fixed-width
    UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``, so text order is time order).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: SADialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(26))
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: SADialect) -> Any:
        if value is None:
            return None
        ours = _our_dialect(dialect)
        return ours.to_db("timestamp", value) if ours else as_utc(value)

    def process_result_value(self, value: Any, dialect: SADialect) -> dt.datetime | None:
        if value is None:
            return None
        ours = _our_dialect(dialect) or DIALECTS["postgresql"]
        result: dt.datetime = ours.from_db("timestamp", value)
        return result


class _IpText(sa.types.TypeDecorator[str]):
    """``inet`` on PostgreSQL, text elsewhere; read back as Coder's address text."""

    impl = sa.String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: SADialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.INET())
        return dialect.type_descriptor(sa.String(64))

    def process_result_value(self, value: Any, dialect: SADialect) -> str | None:
        return None if value is None else ip_text(value)


def _sa_type(kind: ColumnKind, mysql_text: str) -> TypeEngine[Any] | type[TypeEngine[Any]]:
    if kind == "uuid":
        return CoderUuid()
    if kind == "timestamp":
        return UtcDateTime()
    if kind == "bool":
        return sa.Boolean(create_constraint=False)
    if kind == "int":
        return sa.Integer()
    if kind == "ip":
        return _IpText()
    if mysql_text.startswith("VARCHAR("):
        length = int(mysql_text[len("VARCHAR(") : -1])
        return sa.Text().with_variant(sa.String(length), "mysql", "mariadb")
    return sa.Text()


@dataclass(frozen=True)
class CoderTables:
    """The three tables a query reads, and the :class:`Schema` they were described with."""

    connection_logs: sa.Table
    users: sa.Table
    organizations: sa.Table
    schema: Schema = DEFAULT_SCHEMA


def _table(metadata: sa.MetaData, schema: Schema, key: TableKey) -> sa.Table:
    full: str = getattr(schema, key)
    db_schema, _, name = full.rpartition(".")
    names = {
        "organizations": schema.organization_columns,
        "users": schema.user_columns,
        "connection_logs": schema.log_columns,
    }[key]
    columns = [
        sa.Column(
            getattr(names, attr),
            _sa_type(kind, mysql_text),
            primary_key=attr == "id",
            nullable=nullable,
        )
        for attr, kind, nullable, mysql_text in TABLE_COLUMNS[key]
    ]
    return sa.Table(name, metadata, *columns, schema=db_schema or None)


def tables(metadata: sa.MetaData, schema: Schema = DEFAULT_SCHEMA) -> CoderTables:
    """:class:`sqlalchemy.Table` objects for the three tables of ``schema``, added to ``metadata``.

    Column types bind and read values in the storage forms of
    :mod:`connlog_query.backends.ddl`; create the tables with
    :func:`~connlog_query.backends.ddl.create_schema` (it also makes Coder's indexes and, on
    MariaDB, the exact collation).
    """
    return CoderTables(
        connection_logs=_table(metadata, schema, "connection_logs"),
        users=_table(metadata, schema, "users"),
        organizations=_table(metadata, schema, "organizations"),
        schema=schema,
    )


class _Compiler:
    def __init__(self, t: CoderTables, schema: Schema, context: CompileContext) -> None:
        self.t, self.s, self.context = t, schema, context

    def log(self, attr: str) -> sa.Column[Any]:
        return self.t.connection_logs.c[str(getattr(self.s.log_columns, attr))]

    def user(self, attr: str) -> sa.Column[Any]:
        return self.t.users.c[str(getattr(self.s.user_columns, attr))]

    def org(self, attr: str) -> sa.Column[Any]:
        return self.t.organizations.c[str(getattr(self.s.organization_columns, attr))]

    def live_id(
        self, id_col: sa.Column[Any], *conditions: ColumnElement[bool]
    ) -> sa.ScalarSelect[Any]:
        # Same form as the SQL backend: Coder's scalar look-up, made deterministic (smallest
        # id) and error-free for schemas without Coder's unique indexes. correlate(None): the
        # caller's statement may join the same table; the look-up must read the whole table.
        return (
            sa.select(id_col)
            .where(*conditions)
            .order_by(id_col)
            .limit(1)
            .correlate(None)
            .scalar_subquery()
        )

    def live_user(self, condition: ColumnElement[bool]) -> sa.ScalarSelect[Any]:
        return self.live_id(self.user("id"), condition, ~self.user("deleted"))

    def person(self, attr: str, value: object) -> ColumnElement[bool]:
        if value is ME:
            return self.log(attr) == self.context.user_id
        return self.log(attr) == self.live_user(sa.func.lower(self.user("username")) == value)

    def organization(self, value: uuid.UUID | str) -> ColumnElement[bool]:
        if isinstance(value, uuid.UUID):
            return self.log("organization_id") == value
        name = sa.func.lower(self.org("name")) == value
        return self.log("organization_id") == self.live_id(
            self.org("id"), name, ~self.org("deleted")
        )

    def type_(self, value: ConnectionType) -> ColumnElement[bool]:
        types = (value.value,) if self.s.type_mode == "exact" else matching_types(value)
        if len(types) == 1:
            return self.log("type") == types[0]
        return self.log("type").in_(types)

    def status(self, value: ConnectionStatus) -> ColumnElement[bool]:
        time = self.log("disconnect_time")
        null = time.is_(None) if value is ConnectionStatus.ONGOING else time.is_not(None)
        return sa.and_(null, self.log("type").not_in(_POINT_IN_TIME))

    def conditions(self, q: Query) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if q.organization is not None:
            out.append(self.organization(q.organization))
        if q.workspace_owner is not None:
            out.append(self.person("workspace_owner_id", q.workspace_owner))
        if q.workspace_owner_email is not None:
            owner = self.live_user(self.user("email") == q.workspace_owner_email)
            out.append(self.log("workspace_owner_id") == owner)
        if q.type is not None:
            out.append(self.type_(q.type))
        if q.username is not None:
            out.append(self.person("user_id", q.username))
        if q.user_email is not None:
            # Any user, deleted or not: Coder matches the LEFT JOINed connecting user.
            anyone = sa.select(self.user("id")).where(self.user("email") == q.user_email)
            out.append(self.log("user_id").in_(anyone.correlate(None)))
        if q.connected_after is not None:
            out.append(self.log("connect_time") >= q.connected_after)
        if q.connected_before is not None:
            out.append(self.log("connect_time") <= q.connected_before)
        if q.workspace_id is not None:
            out.append(self.log("workspace_id") == q.workspace_id)
        if q.connection_id is not None:
            out.append(self.log("connection_id") == q.connection_id)
        if q.status is not None:
            out.append(self.status(q.status))
        return out


def compile(
    query: Query,
    *,
    tables: CoderTables,
    context: CompileContext = DEFAULT_CONTEXT,
    schema: Schema | None = None,
) -> ColumnElement[bool]:
    """A boolean expression over ``tables.connection_logs`` selecting the rows ``query`` matches.

    Use it as ``select(...).select_from(tables.connection_logs).where(expr)``; name and email
    look-ups are uncorrelated sub-selects on ``tables.users``. An empty query gives ``true()``.

    Args:
        query: The query.
        tables: From :func:`tables` (or built by hand with the same column names).
        context: The caller (``me``) and the organization resolver.
        schema: Column names and ``type_mode``; defaults to ``tables.schema``.

    Raises:
        QueryError: an organization name does not resolve, or ``me`` has no caller.
    """
    schema = tables.schema if schema is None else schema
    reject_extended(query, "SQLAlchemy")
    query = resolve(query, context)
    texts = [query.organization, query.workspace_owner, query.workspace_owner_email]
    texts += [query.username, query.user_email]
    if not all(storable(v) for v in texts if isinstance(v, str)):
        return sa.false()
    parts = _Compiler(tables, schema, context).conditions(query)
    if not parts:
        return sa.true()
    return parts[0] if len(parts) == 1 else sa.and_(*parts)
