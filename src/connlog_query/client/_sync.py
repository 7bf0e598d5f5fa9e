"""The blocking client: :class:`Client`. Only sending, sleeping and looping live here."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
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

__all__ = ["Client"]


class Client(BaseClient):
    """A blocking client for ``GET /api/v2/connectionlog`` of a Coder deployment.

    Args:
        url: The deployment URL, e.g. ``https://coder.example.com``.
        token: The session token, sent as the ``Coder-Session-Token`` header. It never
            appears in ``repr``, logs or error messages.
        timeout: Seconds allowed for each of connect, read, write and pool acquisition (or an
            ``httpx.Timeout``; ``None`` waits forever).
        transport: An httpx transport to send through (tests, proxies, ASGI apps).
        retries: Retries of transient failures, or a full :class:`RetryPolicy`.
        headers: Extra headers sent with every request.
        extended: Read query text in the extended language instead of Coder's (per call:
            ``mode=``). ``Query`` objects with extended parts are accepted either way and
            planned (see :meth:`plan`).
        user_id: Your user id, needed only when ``me`` is in a part of an extended query
            that is filtered locally (the server knows who ``me`` is; the client does not).
        verify: TLS verification, as for httpx (``False`` or an ``ssl.SSLContext``).
        sleep: How to wait between retries (tests pass a recorder).

    Example:
        >>> with Client("https://coder.example.com", token="...") as client:  # doctest: +SKIP
        ...     page = client.connection_logs("type:ssh status:ongoing", limit=50)
        ...     for log in client.iter_connection_logs("workspace_owner:me"):
        ...         print(log.connect_time, log.workspace_name)
        >>> with Client.from_env(extended=True) as client:  # doctest: +SKIP
        ...     print(client.plan("type:ssh (dev OR -status:ongoing)"))
        ...     page = client.connection_logs("type:ssh,vscode connected:>=-24h", limit=20)
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        retries: int | RetryPolicy = 3,
        headers: Mapping[str, str] | None = None,
        extended: bool = False,
        user_id: uuid.UUID | str | None = None,
        verify: bool | ssl.SSLContext = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            url, token, retries=retries, headers=headers, extended=extended, user_id=user_id
        )
        self._sleep = sleep
        # Redirects are not followed: the token header would go along to another origin.
        self._http = httpx.Client(
            timeout=timeout, transport=transport, verify=verify, follow_redirects=False
        )

    def connection_logs(
        self,
        query: str | Query = "",
        *,
        limit: int = 0,
        offset: int = 0,
        mode: Mode | None = None,
        page_size: int = 100,
    ) -> ConnectionLogResponse:
        """One page of logs matching ``query``, newest first.

        A query the server cannot evaluate whole (extended parts) is planned: the pushed part
        is sent as ``q`` and its pages are read, ``page_size`` rows (at least
        ``offset + limit``) at a time, until ``offset + limit`` rows pass the residual filter
        or the rows run out. The answer is then a :class:`FilteredResponse` whose ``count`` is
        exact only when ``count_exact`` is true (see :meth:`plan`).

        Args:
            query: Query text (validated locally first) or a ``Query``.
            limit: Rows per page; ``0`` means 100, as Coder's server does.
            offset: Rows to skip.
            mode: The language of text: ``"coder"`` (Coder's, exactly) or ``"extended"``
                (default: ``"extended"`` if the client was created with ``extended=True``).
            page_size: Rows per request of the pushed query, when there is a residual.

        Raises:
            QueryError: the query text is invalid, or its local part needs something Coder's
                answers lack (``UnsupportedQueryError``); nothing was sent.
            InvalidQueryError: the server rejected the query (also a ``QueryError``).
            APIError: any other non-200 answer (subclasses per status).
            TransportError: no answer, after the retries.
            MalformedResponseError: the answer is not Coder's JSON.
        """
        prepared, predicate = self._prepare(query, mode)
        if predicate is None:
            return self._get(prepared, limit, offset)
        scan = self._page_scan(predicate, limit, offset, page_size)
        while not scan.done:
            scan.feed(self._get(prepared, *scan.next_request()))
        return scan.result(limit, offset)

    def iter_pages(
        self, query: str | Query = "", *, page_size: int = 100, mode: Mode | None = None
    ) -> Iterator[ConnectionLogResponse]:
        """Every page of ``query`` in turn, each holding only rows not seen on earlier pages.

        Without a residual, ``count`` and ``count_cap`` of each page are the server's; use
        them for progress. With one, each page is a :class:`FilteredResponse` of one pushed
        page's matching rows, with the counts so far (``scanned``, ``count_max``).
        """
        prepared, predicate = self._prepare(query, mode)
        if predicate is None:
            pager = Pager(page_size)
            while not pager.done:
                page = self._get(prepared, pager.page_size, pager.offset)
                fresh = pager.feed(page)
                yield page.model_copy(update={"connection_logs": fresh})
            return
        scan = ResidualScan(predicate, page_size=page_size, keep=False)
        while not scan.done:
            yield scan.feed(self._get(prepared, *scan.next_request()))

    def iter_connection_logs(
        self, query: str | Query = "", *, page_size: int = 100, mode: Mode | None = None
    ) -> Iterator[ConnectionLog]:
        """Every log matching ``query`` across all pages, each once, newest first.

        The query is validated before the first request, when iteration starts. Extended
        parts are filtered locally (see :meth:`connection_logs`).
        """
        for page in self.iter_pages(query, page_size=page_size, mode=mode):
            yield from page.connection_logs

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _get(self, prepared: PreparedQuery, limit: int, offset: int) -> ConnectionLogResponse:
        url, params, headers = self._request_args(prepared, limit, offset)
        request = self._http.build_request("GET", url, params=params, headers=headers)
        retrying = tenacity.Retrying(sleep=self._sleep, **self._retry.tenacity_options())
        outcome: Attempt = retrying(self._send_once, request)
        attempts = retrying.statistics.get("attempt_number", 1)
        return page_from_outcome(outcome, str(request.url), attempts, prepared)

    def _send_once(self, request: httpx.Request) -> Attempt:
        try:
            return self._http.send(request)
        except httpx.RequestError as exc:
            return exc
