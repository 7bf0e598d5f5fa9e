"""A store in MariaDB/MySQL through PyMySQL (the ``mysql`` extra).

Text columns use a binary, no-pad collation (see :mod:`connlog_query.backends.ddl`), so email
comparisons are as exact as in PostgreSQL; times are ``DATETIME(6)`` in UTC.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from ..backends.schema import Schema
from ._sql import SqlStore

__all__ = ["MySQLStore", "parse_mysql_url"]


def parse_mysql_url(url: str) -> dict[str, Any]:
    """PyMySQL ``connect`` arguments from ``mysql://user:password@host:port/database``."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("mysql", "mariadb"):
        raise ValueError(f"not a mysql:// or mariadb:// URL: {url!r}")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ValueError(f"the URL names no database: {url!r}")
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username) if parts.username else "root",
        "password": unquote(parts.password) if parts.password else "",
        "database": database,
    }


class MySQLStore(SqlStore):
    """Coder's endpoint over a MariaDB or MySQL database.

    Args:
        url: ``mysql://user:password@host:port/database`` (``mariadb://`` works too).
        schema: Table/column names and the ``type`` mode; tests give each run its own table
            names with :meth:`~connlog_query.backends.schema.Schema.with_prefix`.
        connect_timeout: Seconds to wait for the server.

    Raises:
        ImportError: PyMySQL is not installed (``pip install 'connlog-query[mysql]'``).
    """

    dialect = "mysql"

    def __init__(
        self,
        url: str,
        *,
        schema: Schema = Schema(),  # noqa: B008 - frozen, shared safely
        connect_timeout: int = 10,
    ) -> None:
        try:
            import pymysql
        except ImportError as exc:
            raise ImportError(
                "MariaDB/MySQL stores need PyMySQL: pip install 'connlog-query[mysql]'"
            ) from exc

        self.url = url
        args = parse_mysql_url(url)
        conn = pymysql.connect(
            **args,
            charset="utf8mb4",
            connect_timeout=connect_timeout,
            autocommit=False,
            # Times are stored in UTC; make the session agree so NOW()-style defaults would too.
            init_command="SET time_zone = '+00:00'",
        )
        super().__init__(conn, schema=schema)

    def __repr__(self) -> str:
        parts = urlsplit(self.url)
        return f"MySQLStore(host={parts.hostname!r}, database={parts.path.lstrip('/')!r})"
