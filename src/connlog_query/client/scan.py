"""Filtering pages of the pushed query with a plan's residual, and honest counts (no I/O).

When a :class:`~connlog_query.client.plan.Plan` has a residual, the client asks the server
for the pushed query's pages and keeps the rows the residual accepts. :class:`ResidualScan`
holds that walk's state; the sync and async clients only fetch what it asks for.
:func:`residual_predicate` compiles the residual with the in-memory backend, which reads
names and emails from each record (Coder's JSON), not from a users table.

Counts: the server's ``count`` is the pushed query's, not ours, so it is never passed off as
the answer. A :class:`FilteredResponse` says how many matching rows were seen, whether that is
all of them (``count_exact``), and the most there can be (``count_max``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from pydantic import Field

from ..backends.context import CompileContext, UnsupportedQueryError
from ..errors import ValidationError
from ..expr import filters_in
from ..models import ConnectionLog, ConnectionLogResponse
from ..values import ME
from ._base import MAX_INT32, Pager
from .plan import Plan

__all__ = [
    "DEFAULT_LIMIT",
    "FilteredResponse",
    "ResidualScan",
    "residual_predicate",
    "scan_page_size",
]

DEFAULT_LIMIT = 100
"""Rows a page holds when ``limit`` is 0, as Coder's server does."""


class FilteredResponse(ConnectionLogResponse):
    """A page of an extended query whose residual filter ran locally.

    Serializes exactly like :class:`~connlog_query.models.ConnectionLogResponse` (the extra
    attributes are left out of JSON).

    Attributes:
        connection_logs: The matching rows of this page.
        count: Matching rows seen so far: the exact total when ``count_exact``, else a lower
            bound (the scan stopped once it had enough rows for the page).
        count_cap: Always ``None``: the count is counted here, not capped by the server.
        count_exact: True when every row of the pushed query was read, so ``count`` is the
            number of rows matching the whole query.
        count_max: The most rows that can match: ``count`` plus the rows of the pushed query
            not read yet, by the server's count (equal to ``count`` when ``count_exact``).
            ``None`` when the server's count was capped ("more than 2000").
        scanned: Rows of the pushed query read and tested so far.
    """

    count_exact: bool = Field(default=False, exclude=True)
    count_max: int | None = Field(default=None, exclude=True)
    scanned: int = Field(default=0, exclude=True)


def _check_evaluable(plan: Plan, user_id: uuid.UUID | None) -> None:
    """Reject residuals the records returned by Coder cannot decide, before any request."""
    errors: list[ValidationError] = []
    keys = {f.key: f for f in filters_in(plan.residual)}
    if "workspace_owner_email" in keys:
        errors.append(
            ValidationError(
                "workspace_owner_email",
                "workspace_owner_email can only be sent to the server as one exact value "
                "AND-ed with the rest of the query: Coder's answers do not carry the owner's "
                "email, so a list, wildcard, negation or OR of it cannot be filtered locally.",
                span=plan.query.span("workspace_owner_email"),
            )
        )
    if user_id is None:
        for key in ("workspace_owner", "username"):
            if any(f.key == key and ME in f.values for f in filters_in(plan.residual)):
                errors.append(
                    ValidationError(
                        key,
                        f'"me" in a part of the query filtered locally ({key}) needs your '
                        "user id, which the client does not know.",
                        span=plan.query.span(key),
                        hint="give your user id (Client(user_id=...), or fetch --user-id), "
                        "or use your username",
                    )
                )
    if errors:
        raise UnsupportedQueryError(errors)


def residual_predicate(
    plan: Plan, *, user_id: uuid.UUID | None = None
) -> Callable[[ConnectionLog], bool] | None:
    """Compile the plan's residual into ``predicate(log) -> bool`` (``None``: no residual).

    Evaluated by :func:`connlog_query.backends.memory.compile` without a users table: name
    and email filters compare the names in each record (deleted users are not told apart),
    organization names compare ``organization.name``, types use Coder V2's families.

    Raises:
        UnsupportedQueryError: the residual needs what Coder's answers do not carry (the
            workspace owner's email), or ``me`` without ``user_id``.
    """
    residual = plan.residual_query
    if residual is None:
        return None
    _check_evaluable(plan, user_id)
    from ..backends import memory

    try:
        predicate: Callable[[ConnectionLog], bool] = memory.compile(
            residual, context=CompileContext(user_id=user_id, now=plan.now)
        )
    except ValueError as exc:  # pragma: no cover - _check_evaluable catches the known cases
        raise UnsupportedQueryError([ValidationError("q", str(exc))]) from None
    return predicate


class ResidualScan:
    """Walks the pushed query's pages and keeps the rows the residual accepts.

    Args:
        predicate: The compiled residual.
        page_size: Rows asked for per request.
        want: Stop once this many matching rows were found (``None``: read every page).
        keep: Keep the matching rows for :meth:`result` (``False`` when the caller consumes
            each page as it comes).
    """

    def __init__(
        self,
        predicate: Callable[[ConnectionLog], bool],
        *,
        page_size: int,
        want: int | None = None,
        keep: bool = True,
    ) -> None:
        self._predicate = predicate
        self._pager = Pager(page_size)
        self._want = want
        self._keep = keep
        self.matched: list[ConnectionLog] = []
        self.count = 0
        self.scanned = 0
        self.count_max: int | None = None

    @property
    def exhausted(self) -> bool:
        """True once the last page of the pushed query was read."""
        return self._pager.done

    @property
    def done(self) -> bool:
        """True when no further request is needed."""
        return self._pager.done or (self._want is not None and self.count >= self._want)

    def next_request(self) -> tuple[int, int]:
        """``(limit, offset)`` of the next pushed page to fetch."""
        return self._pager.page_size, self._pager.offset

    def feed(self, page: ConnectionLogResponse) -> FilteredResponse:
        """Take the next pushed page; return its matching fresh rows with the counts so far."""
        fresh = self._pager.feed(page)
        self.scanned += len(fresh)
        hits = [log for log in fresh if self._predicate(log)]
        self.count += len(hits)
        if self._keep:
            self.matched.extend(hits)
        capped = page.count_cap is not None and page.count > page.count_cap
        # Rows not read yet number at most the server's count minus the rows read so far.
        unread = max(0, page.count - self._pager.offset)
        self.count_max = None if capped else self.count + unread
        return self._response(hits)

    def result(self, limit: int, offset: int) -> FilteredResponse:
        """The page ``[offset, offset + limit)`` of the matching rows (``limit`` 0 = 100)."""
        limit = limit or DEFAULT_LIMIT
        return self._response(self.matched[offset : offset + limit])

    def _response(self, logs: list[ConnectionLog]) -> FilteredResponse:
        exact = self._pager.done
        count_max = self.count if exact else self.count_max
        return FilteredResponse(
            connection_logs=logs,
            count=self.count,
            count_cap=None,
            count_exact=exact,
            count_max=count_max,
            scanned=self.scanned,
        )


def scan_page_size(page_size: int, limit: int, offset: int) -> int:
    """Rows per pushed request for one filtered page: at least ``offset + limit``."""
    want = offset + (limit or DEFAULT_LIMIT)
    return min(MAX_INT32, max(page_size, want))
