"""A store in PostgreSQL through psycopg 3 (the ``postgres`` extra); ingest uses ``COPY``."""

from __future__ import annotations

import re
from typing import Any

from ..backends import ddl
from ..backends.schema import Schema
from ._sql import SqlStore

__all__ = ["PostgresStore"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class PostgresStore(SqlStore):
    """Coder's endpoint over a PostgreSQL database.

    Args:
        dsn: A libpq connection string or URL (``postgresql://user@host:5432/db``).
        schema: Table/column names and the ``type`` mode.
        db_schema: A PostgreSQL schema (namespace) to work in: it is created if missing and put
            first on the connection's ``search_path``, so unqualified table names land there.
            Tests use it to keep their tables apart.
        connect_timeout: Seconds to wait for the server.

    Raises:
        ImportError: psycopg is not installed (``pip install 'connlog-query[postgres]'``).
    """

    dialect = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        schema: Schema = Schema(),  # noqa: B008 - frozen, shared safely
        db_schema: str | None = None,
        connect_timeout: int = 10,
    ) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise ImportError(
                "PostgreSQL stores need psycopg: pip install 'connlog-query[postgres]'"
            ) from exc

        if db_schema is not None and not _IDENT.match(db_schema):
            raise ValueError(f"db_schema must be a plain identifier, got {db_schema!r}")
        self.db_schema = db_schema
        conn = psycopg.connect(dsn, connect_timeout=connect_timeout)
        super().__init__(conn, schema=schema)
        if db_schema is not None:
            quoted = self._dialect.quote(db_schema)
            self._execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
            self._execute(f"SET search_path TO {quoted}")
            self._commit()

    def _write_rows(self, table: ddl.TableKey, rows: list[tuple[Any, ...]]) -> None:
        q = self._dialect.quote
        columns = ddl.TABLE_COLUMNS[table]
        names = ", ".join(q(getattr(self._column_names(table), attr)) for attr, *_ in columns)
        target = q(str(getattr(self.schema, table)))
        with self._conn.cursor() as cur, cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _column_names(self, table: ddl.TableKey) -> Any:
        return {
            "organizations": self.schema.organization_columns,
            "users": self.schema.user_columns,
            "connection_logs": self.schema.log_columns,
        }[table]

    def drop_db_schema(self) -> None:
        """Drop :attr:`db_schema` with everything in it (``DROP SCHEMA ... CASCADE``)."""
        if self.db_schema is None:
            raise ValueError("this store has no db_schema to drop")
        self._execute(f"DROP SCHEMA IF EXISTS {self._dialect.quote(self.db_schema)} CASCADE")
        self._commit()

    def __repr__(self) -> str:
        return f"PostgresStore(db_schema={self.db_schema!r})"
