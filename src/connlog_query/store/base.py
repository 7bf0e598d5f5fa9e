"""The :class:`Store` protocol and the pieces every store shares (count cap, empty answer)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from ..backends.context import CompileContext, OrganizationResolver
from ..gocompat import go_lower
from ..models import ConnectionLogResponse
from ..query import Query
from .records import LogRecord, OrganizationRecord, UserRecord

__all__ = [
    "COUNT_CAP",
    "DEFAULT_LIMIT",
    "DataSet",
    "Progress",
    "Store",
    "empty_response",
    "live_id",
    "rows_of",
    "store_context",
    "with_store_resolver",
]

COUNT_CAP = 2000
"""Coder's count cap: ``count`` stops at ``COUNT_CAP + 1`` and ``count_cap`` reports it."""

DEFAULT_LIMIT = 100
"""Rows per page when the limit is 0, as in Coder."""

Progress = Callable[[int], None]
"""Called during ingest with the number of log rows just written."""


class DataSet(Protocol):
    """Rows of the three tables, like :class:`~connlog_query.demo.DemoData`."""

    @property
    def organizations(self) -> Sequence[OrganizationRecord]:
        """Rows of ``organizations``."""

    @property
    def users(self) -> Sequence[UserRecord]:
        """Rows of ``users``."""

    @property
    def logs(self) -> Sequence[LogRecord]:
        """Rows of ``connection_logs``."""


@runtime_checkable
class Store(Protocol):
    """A connection-log database that answers like Coder's ``GET /api/v2/connectionlog``.

    Implementations: :class:`~connlog_query.store.memory.MemoryStore`,
    :class:`~connlog_query.store.sqlite.SQLiteStore`,
    :class:`~connlog_query.store.postgres.PostgresStore`,
    :class:`~connlog_query.store.mysql.MySQLStore`; :func:`~connlog_query.store.open_store`
    picks one from a URL.
    """

    def create_schema(self) -> None:
        """Create Coder's tables and indexes (idempotent)."""

    def drop_schema(self) -> None:
        """Remove the tables and every row."""

    def clear(self) -> None:
        """Delete every row, keeping the tables."""

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
        """Add rows: those of ``data`` (e.g. :class:`~connlog_query.demo.DemoData`) and the
        ones given by keyword, organizations and users before logs, in one transaction."""

    def resolve_organization(self, name: str) -> uuid.UUID | None:
        """Id of the non-deleted organization named ``name`` (case-insensitive), else None."""

    def resolve_user(self, username: str) -> uuid.UUID | None:
        """Id of the non-deleted user named ``username`` (case-insensitive), else None."""

    def count(self, query: Query, *, context: CompileContext = ..., count_cap: int = ...) -> int:
        """Coder's capped count: ``min(matching rows, count_cap + 1)`` (cap 0: no cap)."""

    def list(
        self,
        query: Query,
        *,
        limit: int = 0,
        offset: int = 0,
        context: CompileContext = ...,
    ) -> ConnectionLogResponse:
        """One page of matching rows exactly as Coder's endpoint answers.

        The count runs first (capped at ``COUNT_CAP + 1``); a count of 0 answers at once with
        no rows. Rows are ordered by ``connect_time`` descending, then ``id`` descending (a
        deterministic tie-breaker Coder lacks). ``limit`` 0 means 100. An organization name
        resolves through this store's organizations table unless ``context`` brings its own
        resolver. ``query`` may be an extended query; its relative times resolve against
        ``context.now``, else the time of the call (read once for the count and the page).

        Raises:
            QueryError: unknown organization name (Coder's text), or ``me`` without
                ``context.user_id``.
            ValueError: negative ``limit`` or ``offset``.
        """

    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Any:
        """Use the store as a context manager (closes it on exit)."""

    def __exit__(self, *exc: object) -> None:
        """Close the store."""


def empty_response() -> ConnectionLogResponse:
    """Coder's answer when nothing matches: no rows, count 0, count_cap 2000."""
    return ConnectionLogResponse(connection_logs=[], count=0, count_cap=COUNT_CAP)


def live_id(name: str, live: Iterable[tuple[uuid.UUID, str]]) -> uuid.UUID | None:
    """The id among ``live`` ``(id, name)`` pairs of non-deleted rows whose name is ``name``
    under Go's case folding, else None.

    Coder's unique indexes allow one live match; should there be more, the smallest id is
    taken, as the SQL backend's look-ups do.
    """
    wanted = go_lower(name)
    found = [row_id for row_id, row_name in live if go_lower(row_name) == wanted]
    return min(found) if found else None


def with_store_resolver(context: CompileContext, resolver: OrganizationResolver) -> CompileContext:
    """``context`` with ``resolver`` for organization names unless it brings its own."""
    if context.organization_resolver is not None:
        return context
    return dataclasses.replace(context, organization_resolver=resolver)


def store_context(context: CompileContext, resolver: OrganizationResolver) -> CompileContext:
    """The context one ``list``/``count`` call compiles with: the store's organization
    ``resolver`` unless ``context`` brings its own, and the clock read once.

    ``list`` runs a count and a select; fixing ``now`` before either is compiled makes both
    see the same instant, so a relative time (``connected:>=-24h``) cannot select a different
    set of rows for the count than for the page.
    """
    context = with_store_resolver(context, resolver)
    if context.now is None:
        context = dataclasses.replace(context, now=context.current_time())
    return context


def rows_of(
    data: DataSet | None,
    organizations: Iterable[OrganizationRecord],
    users: Iterable[UserRecord],
    logs: Iterable[LogRecord],
) -> list[tuple[Any, Iterable[Any]]]:
    """``[(table, rows), ...]`` in foreign-key order: organizations, users, then logs."""
    orgs: list[Iterable[Any]] = [organizations]
    people: list[Iterable[Any]] = [users]
    entries: list[Iterable[Any]] = [logs]
    if data is not None:
        orgs.insert(0, data.organizations)
        people.insert(0, data.users)
        entries.insert(0, data.logs)

    def chain(parts: list[Iterable[Any]]) -> Iterable[Any]:
        for part in parts:
            yield from part

    return [
        ("organizations", chain(orgs)),
        ("users", chain(people)),
        ("connection_logs", chain(entries)),
    ]


def check_page(limit: int, offset: int) -> None:
    """Reject a negative (or non-integer) ``limit`` or ``offset`` as the SQL stores do."""
    for name, value in (("limit", limit), ("offset", offset)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
