"""MariaDB / MySQL (PyMySQL): ``%s`` placeholders, ``CHAR(36)`` UUIDs, ``DATETIME(6)`` in UTC.

``DATETIME`` has no time zone, so times are bound as naive UTC datetimes (PyMySQL would drop an
offset silently rather than convert it) and read back as UTC.

How text compares depends on the collation, so the operators of extended queries force a binary
comparison: ``LIKE BINARY`` for wildcards and ``LOCATE(BINARY ...)`` for free text (``%`` then
matches bytes, which for valid UTF-8 and literal pieces selects the same strings as characters).
MariaDB has no ``translate()``, and its ``LOWER()`` folds every Unicode letter, so free text folds
ASCII letters with nested ``REPLACE()`` (which is always case-sensitive).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .dialect import ASCII_LOWER, ASCII_UPPER, LIKE_ESCAPE, Dialect

__all__ = ["MYSQL", "MySQLDialect"]


class MySQLDialect(Dialect):
    """MariaDB/MySQL: UUIDs as text, booleans 0/1, timestamps as naive UTC datetimes."""

    def bind_timestamp(self, value: dt.datetime) -> Any:
        return value.replace(tzinfo=None)

    def match(self, expr: str, pattern: str) -> str:
        return f"{expr} LIKE BINARY {pattern} ESCAPE '{LIKE_ESCAPE}'"

    def ascii_lower(self, expr: str) -> str:
        for upper, lower in zip(ASCII_UPPER, ASCII_LOWER, strict=True):
            expr = f"REPLACE({expr}, '{upper}', '{lower}')"
        return expr

    def contains(self, haystack: str, needle: str) -> str:
        return f"LOCATE(BINARY {needle}, {haystack}) > 0"


MYSQL = MySQLDialect(name="mysql", driver="pymysql", placeholder="%s", quote_char="`")
"""The MariaDB/MySQL dialect."""
