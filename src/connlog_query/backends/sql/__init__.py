"""The SQL backend: a :class:`~connlog_query.query.Query` as parameterized SQL for real databases.

Coder-mode and extended queries alike: the whole query (``query.expression()``) is compiled,
with negation, OR, value lists, wildcards, free text and relative times.

Three dialects, each with its usual driver's placeholder style; parameters are always a tuple:

==============  ===================  ===========
dialect         driver               placeholder
==============  ===================  ===========
``postgresql``  psycopg 3            ``%s``
``sqlite``      stdlib ``sqlite3``   ``?``
``mysql``       PyMySQL (MariaDB)    ``%s``
==============  ===================  ===========

:func:`compile` gives the WHERE condition alone; :func:`select_logs` and :func:`count_logs` give
Coder's complete list and count statements. No value ever appears in the SQL text: values are
bound parameters, identifiers come only from the :class:`~connlog_query.backends.schema.Schema`.

Example:
    >>> from connlog_query import Query
    >>> frag = compile(Query(workspace_owner="alice", type="ssh"), "sqlite")
    >>> frag.params
    ('alice', 'ssh', 'zed')
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType

from ...query import Query
from ..context import DEFAULT_CONTEXT, CompileContext
from ..schema import DEFAULT_SCHEMA, Schema
from .dialect import ColumnKind, Dialect
from .fragment import SqlFragment
from .mysql import MYSQL
from .postgresql import POSTGRESQL
from .sqlite import SQLITE
from .statements import DEFAULT_LIMIT, LOG_COLUMNS, build_count, build_select, decode_row
from .where import ALWAYS_FALSE, ALWAYS_TRUE, compile_where

__all__ = [
    "ALWAYS_FALSE",
    "ALWAYS_TRUE",
    "DEFAULT_COUNT_CAP",
    "DEFAULT_LIMIT",
    "DIALECTS",
    "LOG_COLUMNS",
    "ColumnKind",
    "Dialect",
    "SqlFragment",
    "compile",
    "count_logs",
    "decode_row",
    "get_dialect",
    "select_logs",
]

DEFAULT_COUNT_CAP = 2000
"""Coder's count cap: the count stops at 2001, meaning "more than 2000"."""

DIALECTS: Mapping[str, Dialect] = MappingProxyType({d.name: d for d in (POSTGRESQL, SQLITE, MYSQL)})
"""The supported dialects by canonical name."""

_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "sqlite3": "sqlite", "mariadb": "mysql"}


def get_dialect(dialect: str | Dialect) -> Dialect:
    """The :class:`Dialect` named ``dialect`` (aliases: postgres, pg, sqlite3, mariadb).

    Raises:
        ValueError: unknown name; the message lists the known ones and a close match.
    """
    if isinstance(dialect, Dialect):
        return dialect
    key = _ALIASES.get(dialect.lower(), dialect.lower()) if isinstance(dialect, str) else ""
    found = DIALECTS.get(key)
    if found is not None:
        return found
    known = sorted([*DIALECTS, *_ALIASES])
    close = difflib.get_close_matches(str(dialect).lower(), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown SQL dialect {dialect!r} (known: {', '.join(sorted(DIALECTS))}){hint}"
    )


def compile(
    query: Query,
    dialect: str | Dialect = "postgresql",
    *,
    context: CompileContext = DEFAULT_CONTEXT,
    schema: Schema = DEFAULT_SCHEMA,
) -> SqlFragment:
    """The WHERE condition (without the word ``WHERE``) selecting the rows ``query`` matches.

    Columns are written ``"connection_logs"."col"`` (the log table's base name), so use the table
    unaliased in ``FROM``. Only active filters are emitted, joined by ``AND``; an empty query
    gives ``1 = 1``. A condition whose top level is ``OR`` comes in parentheses, so the text can
    be AND-ed as it is; wrap it before putting it under ``NOT`` or ``OR``. Relative times
    resolve against ``context.now`` (default: the current UTC time).

    Raises:
        QueryError: an organization name (anywhere in the query) does not resolve through
            ``context.organization_resolver``, or ``me`` is used without ``context.user_id``.
        ValueError: unknown dialect.
    """
    return compile_where(query, get_dialect(dialect), context=context, schema=schema)


def select_logs(
    query: Query,
    dialect: str | Dialect = "postgresql",
    *,
    context: CompileContext = DEFAULT_CONTEXT,
    schema: Schema = DEFAULT_SCHEMA,
    limit: int = 0,
    offset: int = 0,
) -> SqlFragment:
    """Coder's list statement: joined rows, newest first, one page.

    Joins: workspace owner (inner), connecting user (left), organization (inner). Columns are
    :data:`LOG_COLUMNS` in order (decode a row with :func:`decode_row`). Order:
    ``connect_time DESC, id DESC``; the ``id`` tie-breaker is a documented deviation that makes
    paging over equal times stable. ``limit`` 0 means :data:`DEFAULT_LIMIT` (100).

    Raises:
        QueryError: as :func:`compile`.
        ValueError: negative ``limit``/``offset`` or unknown dialect.
    """
    return build_select(
        query, get_dialect(dialect), context=context, schema=schema, limit=limit, offset=offset
    )


def count_logs(
    query: Query,
    dialect: str | Dialect = "postgresql",
    *,
    context: CompileContext = DEFAULT_CONTEXT,
    schema: Schema = DEFAULT_SCHEMA,
    count_cap: int = DEFAULT_COUNT_CAP,
) -> SqlFragment:
    """Coder's capped count: one row, one column, ``min(matching, count_cap + 1)``.

    ``count_cap`` 0 counts every matching row.

    Raises:
        QueryError: as :func:`compile`.
        ValueError: negative ``count_cap`` or unknown dialect.
    """
    return build_count(
        query, get_dialect(dialect), context=context, schema=schema, count_cap=count_cap
    )
