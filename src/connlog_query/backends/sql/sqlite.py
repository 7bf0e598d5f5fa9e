"""SQLite (stdlib ``sqlite3``): ``?`` placeholders, text UUIDs, fixed-width UTC text timestamps.

Timestamps are stored and bound as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC: every value has the
same width, so comparing the text compares the times and the ``connect_time`` index orders rows
correctly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .dialect import Dialect, as_utc

__all__ = ["SQLITE", "SQLiteDialect", "format_timestamp"]


def format_timestamp(value: dt.datetime) -> str:
    """The fixed-width UTC text form of ``value`` (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    v = as_utc(value)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


class SQLiteDialect(Dialect):
    """SQLite: UUIDs as lower-case hyphenated text, booleans 0/1, timestamps as UTC text."""

    def bind_timestamp(self, value: dt.datetime) -> Any:
        return format_timestamp(value)


SQLITE = SQLiteDialect(name="sqlite", driver="sqlite3", placeholder="?", quote_char='"')
"""The SQLite dialect."""
