""":class:`SqlFragment` (SQL text plus bound parameters) and the builder that collects them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dialect import ColumnKind, Dialect

__all__ = ["SqlFragment"]


@dataclass(frozen=True)
class SqlFragment:
    """SQL text and its parameters in the dialect driver's paramstyle.

    Attributes:
        sql: The SQL text; it contains fixed keywords, quoted identifiers from the
            :class:`~connlog_query.backends.schema.Schema` and placeholders, never a value.
        params: Positional parameters (a tuple), already in the driver's bind form (see
            :meth:`~connlog_query.backends.sql.dialect.Dialect.to_db`).
    """

    sql: str
    params: tuple[Any, ...] | dict[str, Any]

    def __str__(self) -> str:
        return self.sql


class ParamBuilder:
    """Hands out placeholders left to right and remembers the value bound to each."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.params: list[Any] = []

    def bind(self, kind: ColumnKind, value: Any) -> str:
        """A placeholder for ``value``, converted to the dialect's bind form for ``kind``."""
        self.params.append(self.dialect.to_db(kind, value))
        return self.dialect.placeholder

    def bind_list(self, kind: ColumnKind, values: tuple[Any, ...]) -> str:
        """Comma-separated placeholders, one per value (for ``IN (...)``)."""
        return ", ".join(self.bind(kind, v) for v in values)

    def extend(self, fragment: SqlFragment) -> str:
        """Append ``fragment``'s parameters (in order) and return its SQL text."""
        if isinstance(fragment.params, dict):
            raise TypeError("named parameters cannot be combined with positional ones")
        self.params.extend(fragment.params)
        return fragment.sql
