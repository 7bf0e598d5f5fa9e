"""PostgreSQL (psycopg 3): ``%s`` placeholders, native ``uuid``, ``timestamptz`` and ``boolean``.

``LIKE`` is case-sensitive (with the default, deterministic collations), so wildcards use it as it
is. Free text folds with ``lower(x COLLATE "C")``: under the ``C`` collation (always present,
whatever the database's locale or provider) ``lower()`` changes ASCII letters only, where the
database collation would fold every letter it knows. It is also cheaper than ``translate()``.

A list of values is one array parameter (``x = ANY(%s)``, ``x <> ALL(%s)``) rather than
``IN (%s, ...)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from .dialect import Dialect

__all__ = ["POSTGRESQL", "PostgreSQLDialect"]


class PostgreSQLDialect(Dialect):
    """PostgreSQL: values are bound natively; psycopg adapts ``UUID`` and aware datetimes."""

    def bind_uuid(self, value: uuid.UUID) -> Any:
        return value

    def bind_bool(self, value: bool) -> Any:
        return value

    def bind_timestamp(self, value: dt.datetime) -> Any:
        return value

    def in_list(self, expr: str, count: int, *, negate: bool = False) -> str:
        # One array parameter instead of one per value: measured faster than IN (...) on
        # large tables, and the statement text does not depend on the number of values, so
        # prepared statements share one plan. `x <> ALL(a)` is NULL for a NULL x, as NOT IN.
        return (
            f"{expr} <> ALL({self.placeholder})" if negate else f"{expr} = ANY({self.placeholder})"
        )

    def list_params(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        # psycopg dumps a list of UUIDs as uuid[] and a list of str as an untyped array that
        # the server reads as the column's type (text[]).
        return (list(values),)

    def ascii_lower(self, expr: str) -> str:
        return f'lower({expr} COLLATE "C")'

    def contains(self, haystack: str, needle: str) -> str:
        return f"strpos({haystack}, {needle}) > 0"


POSTGRESQL = PostgreSQLDialect(
    name="postgresql", driver="psycopg", placeholder="%s", quote_char='"'
)
"""The PostgreSQL dialect."""
