"""MariaDB / MySQL (PyMySQL): ``%s`` placeholders, ``CHAR(36)`` UUIDs, ``DATETIME(6)`` in UTC.

``DATETIME`` has no time zone, so times are bound as naive UTC datetimes (PyMySQL would drop an
offset silently rather than convert it) and read back as UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .dialect import Dialect

__all__ = ["MYSQL", "MySQLDialect"]


class MySQLDialect(Dialect):
    """MariaDB/MySQL: UUIDs as text, booleans 0/1, timestamps as naive UTC datetimes."""

    def bind_timestamp(self, value: dt.datetime) -> Any:
        return value.replace(tzinfo=None)


MYSQL = MySQLDialect(name="mysql", driver="pymysql", placeholder="%s", quote_char="`")
"""The MariaDB/MySQL dialect."""
