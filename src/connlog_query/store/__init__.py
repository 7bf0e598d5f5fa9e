"""Stores: a connection-log database that answers exactly like Coder's endpoint.

Every store can create Coder's schema, ingest organizations/users/logs (for instance
:func:`connlog_query.demo.generate` output) and answer
``list(query, limit=0, offset=0, context=...)`` with the
:class:`~connlog_query.models.ConnectionLogResponse` that ``GET /api/v2/connectionlog`` would
return for the same rows (see :class:`Store`).

==========================================  =========================================
URL given to :func:`open_store`             store
==========================================  =========================================
``memory://``                               :class:`MemoryStore` (Python lists)
``sqlite:///relative.db``,                  :class:`SQLiteStore` (three slashes: relative
``sqlite:////absolute/path.db``,            path, four: absolute, as in SQLAlchemy; a
``sqlite://:memory:``, ``path/to/file.db``  plain path is a file)
``postgresql://user@host:5432/db``          :class:`PostgresStore` (psycopg 3)
``mysql://user:pw@host:3306/db``            :class:`MySQLStore` (PyMySQL; MariaDB too)
==========================================  =========================================

Example:
    >>> from connlog_query import parse
    >>> from connlog_query.demo import generate
    >>> with open_store("sqlite://:memory:") as store:
    ...     store.create_schema()
    ...     store.ingest(generate(seed=1, n_logs=300))
    ...     page = store.list(parse("type:ssh status:ongoing"), limit=5)
    >>> len(page.connection_logs), page.count_cap
    (5, 2000)
"""

from __future__ import annotations

from typing import Any

from ..backends.schema import Schema
from .base import COUNT_CAP, DEFAULT_LIMIT, DataSet, Progress, Store
from .memory import MemoryStore
from .mysql import MySQLStore
from .postgres import PostgresStore
from .records import WEB_TYPES, LogRecord, OrganizationRecord, UserRecord, to_connection_log
from .sqlite import SQLiteStore

__all__ = [
    "COUNT_CAP",
    "DEFAULT_LIMIT",
    "WEB_TYPES",
    "DataSet",
    "LogRecord",
    "MemoryStore",
    "MySQLStore",
    "OrganizationRecord",
    "PostgresStore",
    "Progress",
    "SQLiteStore",
    "Store",
    "UserRecord",
    "open_store",
    "sqlite_path",
    "to_connection_log",
]


def sqlite_path(url: str) -> str | None:
    """The SQLite file (or ``:memory:``) a ``sqlite:`` URL or plain path names, else None."""
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://") :]
        if rest in ("", ":memory:", "/:memory:"):
            return ":memory:"
        if not rest.startswith("/"):
            raise ValueError(
                f"invalid SQLite URL {url!r}: use sqlite:///relative.db, "
                "sqlite:////absolute/path.db or sqlite://:memory:"
            )
        return rest[1:]
    if "://" not in url:
        return url
    return None


def open_store(url: str, *, schema: Schema | None = None, **options: Any) -> Store:
    """Open the store a URL names (see the table in this module's documentation).

    Args:
        url: Where the data lives.
        schema: Table/column names and ``type`` mode for SQL stores (default: Coder's).
        options: Passed to the store's constructor (``db_schema=`` for PostgreSQL,
            ``type_mode=`` for ``memory://``, ``connect_timeout=``).

    Raises:
        ValueError: an unknown URL scheme or a malformed URL.
        ImportError: the database driver of that scheme is not installed.
    """
    schema = schema or Schema()
    path = sqlite_path(url)
    if path is not None:
        return SQLiteStore(path, schema=schema, **options)
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return MemoryStore(type_mode=options.pop("type_mode", schema.type_mode), **options)
    if scheme.split("+")[0] in ("postgresql", "postgres"):
        # psycopg knows postgresql:// and postgres://, not SQLAlchemy's "+driver" suffix.
        dsn = "postgresql://" + url.split("://", 1)[1]
        return PostgresStore(dsn, schema=schema, **options)
    if scheme.split("+")[0] in ("mysql", "mariadb"):
        return MySQLStore(url, schema=schema, **options)
    raise ValueError(
        f"unknown store URL scheme {scheme!r} in {url!r}; use memory://, sqlite:///file.db, "
        "postgresql://... or mysql://..."
    )
