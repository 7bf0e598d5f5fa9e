r"""SQLite (stdlib ``sqlite3``): ``?`` placeholders, text UUIDs, fixed-width UTC text timestamps.

Timestamps are stored and bound as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC: every value has the
same width, so comparing the text compares the times and the ``connect_time`` index orders rows
correctly.

SQLite's ``LIKE`` ignores ASCII case, so wildcards use ``GLOB`` (case-sensitive; ``*`` is its own
wildcard, ``?`` and ``[`` are escaped as ``[?]`` and ``[[]``). That same ``LIKE`` is exactly what
free text needs: it folds ASCII letters only (like SQLite's ``lower()``), and
``x LIKE '%text%' ESCAPE '\'`` is about twice as fast as ``instr(lower(x), 'text') > 0``. This
assumes SQLite's default ``PRAGMA case_sensitive_like = OFF`` (and no ICU extension replacing
``LIKE``); with it on, free text would stop folding ASCII case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .dialect import Dialect, as_utc

__all__ = ["SQLITE", "SQLiteDialect", "contains_pattern", "format_timestamp", "glob_pattern"]

_CONTAINS_ESCAPE = "\\"


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


def contains_pattern(text: str) -> str:
    r"""A ``LIKE`` pattern (escape character ``\``) matching any string that contains ``text``:
    ``%``, ``_`` and ``\`` in ``text`` match literally."""
    escaped = "".join(_CONTAINS_ESCAPE + ch if ch in "%_\\" else ch for ch in text)
    return f"%{escaped}%"


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

    def contains_folded(self, column: str, needle: str) -> str:
        # LIKE folds ASCII letters only (with the default case_sensitive_like = OFF).
        return f"{column} LIKE {needle} ESCAPE '{_CONTAINS_ESCAPE}'"

    def contains_param(self, text: str) -> str:
        return contains_pattern(text)


SQLITE = SQLiteDialect(name="sqlite", driver="sqlite3", placeholder="?", quote_char='"')
"""The SQLite dialect."""
