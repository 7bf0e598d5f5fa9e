"""SQLite (stdlib ``sqlite3``): ``?`` placeholders, text UUIDs, fixed-width UTC text timestamps.

Timestamps are stored and bound as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC: every value has the
same width, so comparing the text compares the times and the ``connect_time`` index orders rows
correctly.

SQLite's ``LIKE`` ignores ASCII case, so wildcards use ``GLOB`` (case-sensitive; ``*`` is its own
wildcard, ``?`` and ``[`` are escaped as ``[?]`` and ``[[]``). Its ``lower()`` folds ASCII only,
exactly what free text needs (unless the ICU extension replaced it), and ``instr()`` compares
exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .dialect import Dialect, as_utc

__all__ = ["SQLITE", "SQLiteDialect", "format_timestamp", "glob_pattern"]


def format_timestamp(value: dt.datetime) -> str:
    """The fixed-width UTC text form of ``value`` (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    v = as_utc(value)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


def glob_pattern(pattern: str) -> str:
    """A wildcard pattern as a ``GLOB`` pattern: ``*`` stays, ``?`` and ``[`` match literally."""
    return pattern.replace("[", "[[]").replace("?", "[?]")


class SQLiteDialect(Dialect):
    """SQLite: UUIDs as lower-case hyphenated text, booleans 0/1, timestamps as UTC text."""

    def bind_timestamp(self, value: dt.datetime) -> Any:
        return format_timestamp(value)

    def match_pattern(self, pattern: str) -> str:
        return glob_pattern(pattern)

    def match(self, expr: str, pattern: str) -> str:
        return f"{expr} GLOB {pattern}"

    def contains(self, haystack: str, needle: str) -> str:
        return f"instr({haystack}, {needle}) > 0"


SQLITE = SQLiteDialect(name="sqlite", driver="sqlite3", placeholder="?", quote_char='"')
"""The SQLite dialect."""
