"""A store held in Python lists, answering through the in-memory backend's predicates.

Rows are joined into :class:`~connlog_query.models.ConnectionLog` objects once, at ingest, and
kept sorted newest first (``connect_time`` then ``id``, both descending), so a query is one pass
of the compiled predicate over that list (reference 7.6).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from typing import Any

from ..backends import memory
from ..backends.context import CompileContext, resolve
from ..backends.schema import TypeMode
from ..models import ConnectionLog, ConnectionLogResponse
from ..query import Query
from .base import (
    COUNT_CAP,
    DEFAULT_LIMIT,
    DataSet,
    Progress,
    check_page,
    empty_response,
    live_id,
    rows_of,
    store_context,
)
from .records import LogRecord, OrganizationRecord, UserRecord, to_connection_log

__all__ = ["MemoryStore"]


class MemoryStore:
    """Coder's endpoint over rows in memory (no database).

    Args:
        type_mode: ``"family"`` (Coder V2, default) or ``"exact"`` (Coder V1) ``type`` filters.
    """

    def __init__(self, *, type_mode: TypeMode = "family") -> None:
        self.type_mode: TypeMode = type_mode
        self._orgs: dict[uuid.UUID, OrganizationRecord] = {}
        self._users: dict[uuid.UUID, UserRecord] = {}
        self._logs: list[LogRecord] = []
        self._joined: list[ConnectionLog] | None = []
        self._table: memory.UserTable | None = None
        self._lock = threading.RLock()

    def create_schema(self) -> None:
        """Nothing to create; present for the :class:`~connlog_query.store.Store` protocol."""

    def clear(self) -> None:
        """Forget every row."""
        self.drop_schema()

    def drop_schema(self) -> None:
        """Forget every row."""
        with self._lock:
            self._orgs.clear()
            self._users.clear()
            self._logs.clear()
            self._joined, self._table = [], None

    def ingest(
        self,
        data: DataSet | None = None,
        *,
        organizations: Iterable[OrganizationRecord] = (),
        users: Iterable[UserRecord] = (),
        logs: Iterable[LogRecord] = (),
        batch_size: int = 5000,
        progress: Progress | None = None,
    ) -> None:
        """Add rows (organizations and users are keyed by id; logs are appended)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        with self._lock:
            for table, rows in rows_of(data, organizations, users, logs):
                if table == "organizations":
                    self._orgs.update((o.id, o) for o in rows)
                elif table == "users":
                    self._users.update((u.id, u) for u in rows)
                else:
                    added = list(rows)
                    self._logs.extend(added)
                    if progress is not None and added:
                        progress(len(added))
            self._joined, self._table = None, None

    def _view(self) -> tuple[list[ConnectionLog], memory.UserTable]:
        with self._lock:
            if self._joined is None or self._table is None:
                ordered = sorted(self._logs, key=lambda r: (r.connect_time, r.id), reverse=True)
                self._joined = [self._join(r) for r in ordered]
                self._table = memory.UserTable.of(self._users.values())
            return self._joined, self._table

    def _join(self, log: LogRecord) -> ConnectionLog:
        user = self._users.get(log.user_id) if log.user_id is not None else None
        return to_connection_log(
            log,
            self._orgs[log.organization_id],
            self._users[log.workspace_owner_id].username,
            user,
        )

    def resolve_organization(self, name: str) -> uuid.UUID | None:
        """The id of the non-deleted organization named ``name`` (case-insensitive)."""
        return live_id(name, ((o.id, o.name) for o in self._orgs.values() if not o.deleted))

    def resolve_user(self, username: str) -> uuid.UUID | None:
        """The id of the non-deleted user named ``username`` (case-insensitive)."""
        return live_id(
            username, ((u.id, u.username) for u in self._users.values() if not u.deleted)
        )

    def _matching(self, query: Query, context: CompileContext) -> list[ConnectionLog]:
        rows, table = self._view()
        predicate = memory.compile(query, context=context, users=table, type_mode=self.type_mode)
        return [row for row in rows if predicate(row)]

    def count(
        self,
        query: Query,
        *,
        context: CompileContext = CompileContext(),  # noqa: B008
        count_cap: int = COUNT_CAP,
    ) -> int:
        """Coder's capped count of the rows ``query`` matches (``count_cap`` 0: uncapped)."""
        context = store_context(context, self.resolve_organization)
        matched = len(self._matching(resolve(query, context), context))
        return min(matched, count_cap + 1) if count_cap else matched

    def list(
        self,
        query: Query,
        *,
        limit: int = 0,
        offset: int = 0,
        context: CompileContext = CompileContext(),  # noqa: B008
    ) -> ConnectionLogResponse:
        """One page of matching rows, exactly as Coder's endpoint answers (see ``Store.list``)."""
        check_page(limit, offset)
        context = store_context(context, self.resolve_organization)
        matched = self._matching(resolve(query, context), context)
        if not matched:
            return empty_response()
        # Copies, so a caller editing a returned row cannot change the store.
        window = matched[offset : offset + (limit or DEFAULT_LIMIT)]
        page = [row.model_copy(deep=True) for row in window]
        return ConnectionLogResponse(
            connection_logs=page, count=min(len(matched), COUNT_CAP + 1), count_cap=COUNT_CAP
        )

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
