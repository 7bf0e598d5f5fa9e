"""A store in an SQLite database (a file, or ``:memory:``), through the stdlib ``sqlite3``."""

from __future__ import annotations

import os
import sqlite3

from ..backends.schema import Schema
from ._sql import SqlStore

__all__ = ["SQLiteStore"]


class SQLiteStore(SqlStore):
    """Coder's endpoint over an SQLite database.

    Args:
        path: Database file, or ``":memory:"`` for a private in-memory database.
        schema: Table/column names and the ``type`` mode.

    Timestamps are stored as fixed-width UTC text and UUIDs as lower-case text (see
    :mod:`connlog_query.backends.ddl`), so ordering and comparisons in SQL are exact.
    """

    dialect = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        schema: Schema = Schema(),  # noqa: B008 - frozen, shared safely
    ) -> None:
        self.path = os.fspath(path)
        # check_same_thread off: the store serializes use with its own lock, and servers call
        # it from worker threads.
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        super().__init__(conn, schema=schema)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
