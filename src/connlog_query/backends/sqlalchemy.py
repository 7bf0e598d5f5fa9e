"""The SQLAlchemy backend: a query as a SQLAlchemy Core boolean expression (extra ``sqlalchemy``).

:func:`tables` describes Coder's three tables as :class:`sqlalchemy.Table` objects whose column
types store values exactly like :mod:`connlog_query.backends.ddl` (so both backends read the same
database), and :func:`compile` turns a :class:`~connlog_query.query.Query` (Coder-mode or
extended) into an expression for ``select(...).where(...)``. The meaning of every node is that
of the SQL backend (:func:`connlog_query.backends.sql.compile`), written with SQLAlchemy
constructs, so it renders on any SQLAlchemy dialect; wildcards and free text are spelled per
dialect (exactly on PostgreSQL, SQLite and MariaDB/MySQL, with standard SQL elsewhere).

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
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from ..apps import matching_types
from ..expr import And, Filter, Not, Or, Text, TimeBound, Wildcard
from ..query import Query
from ..values import ME, POINT_IN_TIME_TYPES, ConnectionStatus, ConnectionType
from .context import DEFAULT_CONTEXT, CompileContext, resolve
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


# --- dialect-spelled text operators ----------------------------------------------------------
#
# Wildcards and free text are spelled differently per database (GLOB and LIKE on SQLite,
# LIKE BINARY on MariaDB, lower(x COLLATE "C") on PostgreSQL; see
# connlog_query.backends.sql.dialect). These constructs render through the SQL backend's
# Dialect hooks, so both backends emit the same operators; on other SQLAlchemy dialects they
# fall back to standard LIKE / lower() / POSITION.

_GENERIC = Dialect(name="generic", driver="", placeholder="?", quote_char='"')


def _text_dialect(sa_dialect: SADialect) -> Dialect:
    return _our_dialect(sa_dialect) or _GENERIC


class _WildcardPattern(sa.types.TypeDecorator[str]):
    """Binds a wildcard pattern (``*`` = any run) in the form the dialect's match operator
    reads (an escaped LIKE pattern, or a GLOB pattern on SQLite)."""

    impl = sa.String()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: SADialect) -> Any:
        return None if value is None else _text_dialect(dialect).match_pattern(str(value))

    def process_literal_param(self, value: Any, dialect: SADialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "'" + str(bound).replace("'", "''") + "'"


class _FreeText(sa.types.TypeDecorator[str]):
    """Binds free text in the form the dialect's folded substring test reads (the text as it
    is, or an escaped ``%...%`` LIKE pattern on SQLite)."""

    impl = sa.String()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: SADialect) -> Any:
        return None if value is None else _text_dialect(dialect).contains_param(str(value))

    def process_literal_param(self, value: Any, dialect: SADialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "'" + str(bound).replace("'", "''") + "'"


class _Match(FunctionElement[bool]):
    """``match(expr, pattern)``: ``expr`` matches a wildcard pattern, case-sensitively."""

    type = sa.Boolean()
    name = "connlog_match"
    inherit_cache = True
    # A comparison, not a boolean value: no "= 1" where the database lacks a boolean type.
    _is_implicitly_boolean = True


class _ContainsFolded(FunctionElement[bool]):
    """``contains_folded(column, needle)``: the free text ``needle`` (bound as
    :class:`_FreeText`) occurs in ``column`` with its ASCII letters folded."""

    type = sa.Boolean()
    name = "connlog_contains_folded"
    inherit_cache = True
    # A comparison, not a boolean value: no "= 1" where the database lacks a boolean type.
    _is_implicitly_boolean = True


class _OneOf(FunctionElement[bool]):
    """``column [NOT] IN (values)``, holding two spellings of it: the portable ``IN`` with an
    expanding parameter, and PostgreSQL's ``= ANY(array)`` / ``<> ALL(array)`` with the list as
    one array parameter (faster there, and the statement text is the same for any number of
    values). Each dialect renders one; both are part of the cache key, so cached statements
    bind the current values either way."""

    type = sa.Boolean()
    name = "connlog_one_of"
    inherit_cache = True
    _is_implicitly_boolean = True


def _one_of(column: sa.Column[Any], values: Sequence[Any], *, negate: bool = False) -> _OneOf:
    array = sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
    if negate:
        return _OneOf(column.not_in(list(values)), column != sa.all_(array))
    return _OneOf(column.in_(list(values)), column == sa.any_(array))


@compiles(_Match)
def _render_match(element: _Match, compiler: SQLCompiler, **kw: Any) -> str:
    expr, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"({_text_dialect(compiler.dialect).match(expr, pattern)})"


@compiles(_ContainsFolded)
def _render_contains_folded(element: _ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    column, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"({_text_dialect(compiler.dialect).contains_folded(column, needle)})"


@compiles(_OneOf)
def _render_one_of(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    portable, _ = element.clauses
    return f"({compiler.process(portable, **kw)})"


@compiles(_OneOf, "postgresql")
def _render_one_of_postgresql(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    _, array = element.clauses
    return f"({compiler.process(array, **kw)})"


# --- the compiler ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """A compiled sub-expression; ``nullable``: SQL may give NULL; ``const``: a constant."""

    clause: ColumnElement[bool]
    nullable: bool = False
    const: bool | None = None


_TRUE = _Part(sa.true(), const=True)
_FALSE = _Part(sa.false(), const=False)


def _and(parts: Iterable[_Part]) -> _Part:
    kept = [p for p in parts if p.const is not True]
    if any(p.const is False for p in kept):
        return _FALSE
    if len(kept) <= 1:
        return kept[0] if kept else _TRUE
    return _Part(sa.and_(*(p.clause for p in kept)), any(p.nullable for p in kept))


def _or(parts: Iterable[_Part]) -> _Part:
    kept = [p for p in parts if p.const is not False]
    if any(p.const is True for p in kept):
        return _TRUE
    if len(kept) <= 1:
        return kept[0] if kept else _FALSE
    return _Part(sa.or_(*(p.clause for p in kept)), any(p.nullable for p in kept))


def _not(part: _Part) -> _Part:
    """Two-valued negation: a leaf that SQL evaluates to NULL counts as false."""
    if part.const is not None:
        return _FALSE if part.const else _TRUE
    if part.nullable:
        return _Part(part.clause.is_not(sa.true()))
    return _Part(sa.not_(part.clause))


_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


class _Compiler:
    def __init__(
        self, t: CoderTables, schema: Schema, context: CompileContext, now: dt.datetime
    ) -> None:
        self.t, self.s, self.context, self.now = t, schema, context, now

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

    def users_where(self, condition: ColumnElement[bool], *, live: bool) -> sa.Select[Any]:
        conditions = [condition, ~self.user("deleted")] if live else [condition]
        return sa.select(self.user("id")).where(*conditions).correlate(None)

    def equals_any(self, attr: str, values: Sequence[Any], *, nullable: bool) -> _Part:
        column = self.log(attr)
        clause = column == values[0] if len(values) == 1 else _one_of(column, values)
        return _Part(clause, nullable)

    def wildcards(
        self, attr: str, values: Sequence[Any], expr: ColumnElement[Any], *, live: bool
    ) -> _Part:
        wild = [v for v in values if isinstance(v, Wildcard) and storable(v.pattern)]
        if not wild:
            return _FALSE
        matches = [_Match(expr, sa.literal(w.pattern, _WildcardPattern())) for w in wild]
        condition = matches[0] if len(matches) == 1 else sa.or_(*matches)
        sub = self.users_where(condition, live=live)
        return _Part(self.log(attr).in_(sub), nullable=attr == "user_id")

    def organization(self, values: Sequence[Any]) -> _Part:
        ids = [v for v in values if isinstance(v, uuid.UUID)]
        parts = [self.equals_any("organization_id", ids, nullable=False)] if ids else []
        for name in values:
            if isinstance(name, uuid.UUID) or not storable(name):
                continue
            found = self.live_id(
                self.org("id"), sa.func.lower(self.org("name")) == name, ~self.org("deleted")
            )
            parts.append(_Part(self.log("organization_id") == found, nullable=True))
        return _or(parts)

    def person(self, attr: str, values: Sequence[Any]) -> _Part:
        nullable = attr == "user_id"
        parts: list[_Part] = []
        if any(v is ME for v in values):
            parts.append(self.equals_any(attr, [self.context.user_id], nullable=nullable))
        lowered = sa.func.lower(self.user("username"))
        for name in values:
            if name is ME or isinstance(name, Wildcard) or not storable(name):
                continue
            found = self.live_user(lowered == name)
            parts.append(_Part(self.log(attr) == found, nullable=True))
        parts.append(self.wildcards(attr, values, lowered, live=True))
        return _or(parts)

    def owner_email(self, values: Sequence[Any]) -> _Part:
        parts: list[_Part] = []
        for value in values:
            if isinstance(value, Wildcard) or not storable(value):
                continue
            found = self.live_user(self.user("email") == value)
            parts.append(_Part(self.log("workspace_owner_id") == found, nullable=True))
        parts.append(self.wildcards("workspace_owner_id", values, self.user("email"), live=True))
        return _or(parts)

    def user_email(self, values: Sequence[Any]) -> _Part:
        # Any user, deleted or not: Coder matches the LEFT JOINed connecting user.
        exact = [v for v in values if not isinstance(v, Wildcard) and storable(v)]
        parts: list[_Part] = []
        if exact:
            email = self.user("email")
            condition = email == exact[0] if len(exact) == 1 else _one_of(email, exact)
            sub = self.users_where(condition, live=False)
            parts.append(_Part(self.log("user_id").in_(sub), nullable=True))
        parts.append(self.wildcards("user_id", values, self.user("email"), live=False))
        return _or(parts)

    def type_(self, values: Sequence[ConnectionType]) -> _Part:
        types: dict[str, None] = {}
        for value in values:
            found = (value.value,) if self.s.type_mode == "exact" else matching_types(value)
            types.update(dict.fromkeys(found))
        return self.equals_any("type", list(types), nullable=False)

    def status(self, values: Sequence[ConnectionStatus]) -> _Part:
        sessions = _one_of(self.log("type"), _POINT_IN_TIME, negate=True)
        if len(set(values)) > 1:
            return _Part(sessions)  # ongoing OR completed: every session
        time = self.log("disconnect_time")
        null = time.is_(None) if values[0] is ConnectionStatus.ONGOING else time.is_not(None)
        return _Part(sa.and_(null, sessions))

    def filter(self, node: Filter) -> _Part:
        key, values = node.key, node.values
        if key == "organization":
            return self.organization(values)
        if key == "workspace_owner":
            return self.person("workspace_owner_id", values)
        if key == "workspace_owner_email":
            return self.owner_email(values)
        if key == "type":
            return self.type_(values)  # type: ignore[arg-type]
        if key == "username":
            return self.person("user_id", values)
        if key == "user_email":
            return self.user_email(values)
        if key in ("workspace_id", "connection_id"):
            return self.equals_any(key, values, nullable=key == "connection_id")
        return self.status(values)  # type: ignore[arg-type]

    def time(self, node: TimeBound) -> _Part:
        bound = node.resolve(self.now)
        return _Part(_COMPARE[bound.op](self.log("connect_time"), bound.at))

    def text(self, node: Text) -> _Part:
        # Free text: workspace name, agent name or the owner's username (deleted or not),
        # ASCII letters folded on the column side (the text is lower case already).
        if not storable(node.text):
            return _FALSE

        def found(column: ColumnElement[Any]) -> ColumnElement[bool]:
            return _ContainsFolded(column, sa.literal(node.text, _FreeText()))

        owners = self.users_where(found(self.user("username")), live=False)
        return _Part(
            sa.or_(
                found(self.log("workspace_name")),
                found(self.log("agent_name")),
                self.log("workspace_owner_id").in_(owners),
            )
        )

    def node(self, node: Any) -> _Part:
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, TimeBound):
            return self.time(node)
        if isinstance(node, Text):
            return self.text(node)
        if isinstance(node, Not):
            return _not(self.node(node.item))
        if isinstance(node, And):
            return _and(self.node(item) for item in node.items)
        if isinstance(node, Or):
            return _or(self.node(item) for item in node.items)
        raise TypeError(f"not an expression node: {type(node).__name__}")


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
    Relative times resolve against ``context.now`` (default: the current UTC time).

    Args:
        query: The query.
        tables: From :func:`tables` (or built by hand with the same column names).
        context: The caller (``me``) and the organization resolver.
        schema: Column names and ``type_mode``; defaults to ``tables.schema``.

    Raises:
        QueryError: an organization name (anywhere in the query) does not resolve, or ``me``
            has no caller.
    """
    schema = tables.schema if schema is None else schema
    query = resolve(query, context)
    expression = query.expression()
    if expression is None:
        return sa.true()
    return _Compiler(tables, schema, context, context.current_time()).node(expression).clause
