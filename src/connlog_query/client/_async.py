"""The asyncio/trio client: :class:`AsyncClient`, the mirror image of ``Client``."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType

import httpx
import tenacity

from ..models import ConnectionLog, ConnectionLogResponse
from ..parser import Mode
from ..query import Query
from ._base import (
    DEFAULT_TIMEOUT,
    Attempt,
    BaseClient,
    Pager,
    PreparedQuery,
    RetryPolicy,
    page_from_outcome,
)
from .scan import ResidualScan

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient):
    """The ``async`` client for ``GET /api/v2/connectionlog``; same arguments as ``Client``.

    ``sleep`` is an ``async`` function (default: the running event loop's sleep, asyncio or
    trio).

    Example:
        >>> async with AsyncClient.from_env() as client:  # doctest: +SKIP
        ...     async for log in client.iter_connection_logs("type:ssh"):
        ...         print(log.id)
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int | RetryPolicy = 3,
        headers: Mapping[str, str] | None = None,
        extended: bool = False,
        user_id: uuid.UUID | str | None = None,
        verify: bool | ssl.SSLContext = True,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            url, token, retries=retries, headers=headers, extended=extended, user_id=user_id
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=timeout, transport=transport, verify=verify, follow_redirects=False
        )

    async def connection_logs(
        self,
        query: str | Query = "",
        *,
        limit: int = 0,
        offset: int = 0,
        mode: Mode | None = None,
        page_size: int = 100,
    ) -> ConnectionLogResponse:
        """One page of logs matching ``query``; see ``Client.connection_logs``."""
        prepared, predicate = self._prepare(query, mode)
        if predicate is None:
            return await self._get(prepared, limit, offset)
        scan = self._page_scan(predicate, limit, offset, page_size)
        while not scan.done:
            scan.feed(await self._get(prepared, *scan.next_request()))
        return scan.result(limit, offset)

    async def iter_pages(
        self, query: str | Query = "", *, page_size: int = 100, mode: Mode | None = None
    ) -> AsyncIterator[ConnectionLogResponse]:
        """Every page of ``query`` with only fresh rows; see ``Client.iter_pages``."""
        prepared, predicate = self._prepare(query, mode)
        if predicate is None:
            pager = Pager(page_size)
            while not pager.done:
                page = await self._get(prepared, pager.page_size, pager.offset)
                fresh = pager.feed(page)
                yield page.model_copy(update={"connection_logs": fresh})
            return
        scan = ResidualScan(predicate, page_size=page_size, keep=False)
        while not scan.done:
            yield scan.feed(await self._get(prepared, *scan.next_request()))

    async def iter_connection_logs(
        self, query: str | Query = "", *, page_size: int = 100, mode: Mode | None = None
    ) -> AsyncIterator[ConnectionLog]:
        """Every log matching ``query`` across all pages, each once; an async iterator."""
        async for page in self.iter_pages(query, page_size=page_size, mode=mode):
            for log in page.connection_logs:
                yield log

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _get(self, prepared: PreparedQuery, limit: int, offset: int) -> ConnectionLogResponse:
        url, params, headers = self._request_args(prepared, limit, offset)
        request = self._http.build_request("GET", url, params=params, headers=headers)
        options = self._retry.tenacity_options()
        if self._sleep is not None:
            options["sleep"] = self._sleep
        retrying = tenacity.AsyncRetrying(**options)
        outcome: Attempt = await retrying(self._send_once, request)
        attempts = retrying.statistics.get("attempt_number", 1)
        return page_from_outcome(outcome, str(request.url), attempts, prepared)

    async def _send_once(self, request: httpx.Request) -> Attempt:
        try:
            return await self._http.send(request)
        except httpx.RequestError as exc:
            return exc
