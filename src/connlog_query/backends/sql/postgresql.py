"""PostgreSQL (psycopg 3): ``%s`` placeholders, native ``uuid``, ``timestamptz`` and ``boolean``."""

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


POSTGRESQL = PostgreSQLDialect(
    name="postgresql", driver="psycopg", placeholder="%s", quote_char='"'
)
"""The PostgreSQL dialect."""
