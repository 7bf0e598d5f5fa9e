"""What the SQL stores share: schema creation, batched ingest and Coder's list/count flow.

A concrete store only opens a DB-API connection and, where its driver has something faster than
``executemany`` (PostgreSQL's ``COPY``), overrides :meth:`SqlStore._write_rows`. All SQL text
comes from :mod:`connlog_query.backends.sql` and :mod:`connlog_query.backends.ddl`; every value
is a bound parameter.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from ..backends import ddl
from ..backends.context import CompileContext, resolve
from ..backends.schema import Schema
from ..backends.sql import count_logs, decode_row, get_dialect, select_logs
from ..models import ConnectionLogResponse
from ..query import Query
from .base import (
    COUNT_CAP,
    DataSet,
    Progress,
    empty_response,
    live_id,
    rows_of,
    store_context,
)
from .records import LogRecord, OrganizationRecord, UserRecord, to_connection_log

__all__ = ["SqlStore"]

_BATCH = 5000


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class SqlStore:
    """A store over one DB-API connection (base class; use a concrete store).

    Subclasses set ``dialect`` and call ``__init__`` with an open connection whose cursor uses
    the dialect's placeholder style.
    """

    dialect: str = ""

    def __init__(self, connection: Any, *, schema: Schema = Schema()) -> None:  # noqa: B008
        self._conn = connection
        self.schema = schema
        self._dialect = get_dialect(self.dialect)
        # One connection serves the whole store; servers may call it from worker threads.
        self._lock = threading.RLock()

    # -- plumbing ------------------------------------------------------------------------

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute(sql, tuple(params))
                rows = cur.fetchall() if cur.description is not None else []
            finally:
                cur.close()
        return [tuple(r) for r in rows]

    def _commit(self) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        self._conn.rollback()

    def _write_rows(self, table: ddl.TableKey, rows: list[tuple[Any, ...]]) -> None:
        """Insert one batch of already converted rows (``executemany``; subclasses may COPY)."""
        cur = self._conn.cursor()
        try:
            cur.executemany(ddl.insert_sql(self.dialect, table, self.schema), rows)
        finally:
            cur.close()

    def _convert(self, table: ddl.TableKey, record: Any) -> tuple[Any, ...]:
        to_db = self._dialect.to_db
        return tuple(
            to_db(kind, getattr(record, attr)) for attr, kind, *_ in ddl.TABLE_COLUMNS[table]
        )

    # -- Store API -----------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create Coder's three tables and their indexes (idempotent)."""
        with self._lock:
            try:
                for sql in ddl.create_schema(self.dialect, self.schema):
                    self._execute(sql)
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def drop_schema(self) -> None:
        """Drop the three tables (if they exist)."""
        with self._lock:
            try:
                for sql in ddl.drop_schema(self.dialect, self.schema):
                    self._execute(sql)
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def clear(self) -> None:
        """Delete every row, keeping the tables (logs first: they reference the others)."""
        q = self._dialect.quote
        s = self.schema
        with self._lock:
            try:
                for table in (s.connection_logs, s.users, s.organizations):
                    self._execute(f"DELETE FROM {q(table)}")
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def ingest(
        self,
        data: DataSet | None = None,
        *,
        organizations: Iterable[OrganizationRecord] = (),
        users: Iterable[UserRecord] = (),
        logs: Iterable[LogRecord] = (),
        batch_size: int = _BATCH,
        progress: Progress | None = None,
    ) -> None:
        """Insert rows in batches, in one transaction; see :class:`~connlog_query.store.Store`."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        tables = rows_of(data, organizations, users, logs)
        with self._lock:
            try:
                for table, records in tables:
                    for batch in _batches(records, batch_size):
                        self._write_rows(table, [self._convert(table, r) for r in batch])
                        if progress is not None and table == "connection_logs":
                            progress(len(batch))
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def resolve_organization(self, name: str) -> uuid.UUID | None:
        """The id of the non-deleted organization named ``name`` (case-insensitive)."""
        oc = self.schema.organization_columns
        return self._lookup(self.schema.organizations, oc.id, oc.name, oc.deleted, name)

    def resolve_user(self, username: str) -> uuid.UUID | None:
        """The id of the non-deleted user named ``username`` (case-insensitive)."""
        uc = self.schema.user_columns
        return self._lookup(self.schema.users, uc.id, uc.username, uc.deleted, username)

    def _lookup(
        self, table: str, id_col: str, name_col: str, deleted_col: str, name: str
    ) -> uuid.UUID | None:
        # Tables of organizations and users are small; comparing in Python with Go's
        # lower-casing gives the same answer on every database (SQLite's lower() is ASCII only).
        q = self._dialect.quote
        with self._lock:
            rows = self._execute(
                f"SELECT {q(id_col)}, {q(name_col)} FROM {q(table)} WHERE {q(deleted_col)} = "
                f"{self._dialect.placeholder}",
                (self._dialect.to_db("bool", False),),
            )
            self._end_read()
        return live_id(name, ((self._dialect.from_db("uuid", i), n) for i, n in rows))

    def _end_read(self) -> None:
        """End the implicit transaction a read may have opened (no idle transactions)."""
        self._rollback()

    def count(
        self,
        query: Query,
        *,
        context: CompileContext = CompileContext(),  # noqa: B008
        count_cap: int = COUNT_CAP,
    ) -> int:
        """Coder's capped count of the rows ``query`` matches (``count_cap`` 0: uncapped)."""
        context = store_context(context, self.resolve_organization)
        query = resolve(query, context)
        frag = count_logs(
            query, self._dialect, context=context, schema=self.schema, count_cap=count_cap
        )
        with self._lock:
            rows = self._execute(frag.sql, frag.params)  # type: ignore[arg-type]
            self._end_read()
        return int(rows[0][0])

    def list(
        self,
        query: Query,
        *,
        limit: int = 0,
        offset: int = 0,
        context: CompileContext = CompileContext(),  # noqa: B008
    ) -> ConnectionLogResponse:
        """One page of matching rows, exactly as Coder's endpoint answers; see ``Store.list``."""
        context = store_context(context, self.resolve_organization)
        query = resolve(query, context)
        count = self.count(query, context=context)
        if count == 0:
            return empty_response()
        frag = select_logs(
            query, self._dialect, context=context, schema=self.schema, limit=limit, offset=offset
        )
        with self._lock:
            rows = self._execute(frag.sql, frag.params)  # type: ignore[arg-type]
            self._end_read()
        logs = [self._to_log(row) for row in rows]
        return ConnectionLogResponse(connection_logs=logs, count=count, count_cap=COUNT_CAP)

    def _to_log(self, row: Sequence[Any]) -> Any:
        v = decode_row(self._dialect, row)
        log = LogRecord(
            id=v["id"],
            connect_time=v["connect_time"],
            organization_id=v["organization_id"],
            workspace_owner_id=v["workspace_owner_id"],
            workspace_id=v["workspace_id"],
            workspace_name=v["workspace_name"],
            agent_name=v["agent_name"],
            type=v["type"],
            code=v["code"],
            ip=v["ip"],
            user_agent=v["user_agent"],
            user_id=v["user_id"],
            slug_or_port=v["slug_or_port"],
            connection_id=v["connection_id"],
            disconnect_time=v["disconnect_time"],
            disconnect_reason=v["disconnect_reason"],
        )
        org = OrganizationRecord(
            id=v["organization_id"],
            name=v["organization_name"],
            display_name=v["organization_display_name"],
            icon=v["organization_icon"],
        )
        user = None
        if v["user_id"] is not None and v["user_username"] is not None:
            user = UserRecord(
                id=v["user_id"],
                username=v["user_username"],
                email=v["user_email"],
                name=v["user_name"],
                created_at=v["user_created_at"],
                updated_at=v["user_updated_at"],
                last_seen_at=v["user_last_seen_at"],
                status=v["user_status"],
                login_type=v["user_login_type"],
                avatar_url=v["user_avatar_url"],
            )
        return to_connection_log(log, org, v["workspace_owner_username"], user)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
