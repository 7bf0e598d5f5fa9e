"""The blocking client: :class:`Client`. Only sending, sleeping and looping live here."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType

import httpx
import tenacity

from ..models import ConnectionLog, ConnectionLogResponse
from ..query import Query
from ._base import (
    DEFAULT_TIMEOUT,
    Attempt,
    BaseClient,
    Pager,
    PreparedQuery,
    RetryPolicy,
    decode_response,
    prepare_query,
    transport_error,
)

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
        verify: TLS verification, as for httpx (``False`` or an ``ssl.SSLContext``).
        sleep: How to wait between retries (tests pass a recorder).

    Example:
        >>> with Client("https://coder.example.com", token="...") as client:  # doctest: +SKIP
        ...     page = client.connection_logs("type:ssh status:ongoing", limit=50)
        ...     for log in client.iter_connection_logs("workspace_owner:me"):
        ...         print(log.connect_time, log.workspace_name)
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
        verify: bool | ssl.SSLContext = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(url, token, retries=retries, headers=headers)
        self._sleep = sleep
        # Redirects are not followed: the token header would go along to another origin.
        self._http = httpx.Client(
            timeout=timeout, transport=transport, verify=verify, follow_redirects=False
        )

    def connection_logs(
        self, query: str | Query = "", *, limit: int = 0, offset: int = 0
    ) -> ConnectionLogResponse:
        """One page of logs matching ``query``, newest first.

        Args:
            query: Query text (validated locally first, in Coder mode) or a ``Query``.
            limit: Rows per page; ``0`` lets the server choose (100).
            offset: Rows to skip.

        Raises:
            QueryError: the query text is invalid; nothing was sent.
            InvalidQueryError: the server rejected the query (also a ``QueryError``).
            APIError: any other non-200 answer (subclasses per status).
            TransportError: no answer, after the retries.
            MalformedResponseError: the answer is not Coder's JSON.
        """
        return self._get(prepare_query(query), limit, offset)

    def iter_pages(
        self, query: str | Query = "", *, page_size: int = 100
    ) -> Iterator[ConnectionLogResponse]:
        """Every page of ``query`` in turn, each holding only rows not seen on earlier pages.

        ``count`` and ``count_cap`` of each page are the server's; use them for progress.
        """
        prepared = prepare_query(query)
        pager = Pager(page_size)
        while not pager.done:
            page = self._get(prepared, pager.page_size, pager.offset)
            fresh = pager.feed(page)
            yield page.model_copy(update={"connection_logs": fresh})

    def iter_connection_logs(
        self, query: str | Query = "", *, page_size: int = 100
    ) -> Iterator[ConnectionLog]:
        """Every log matching ``query`` across all pages, each once, newest first.

        The query is validated before the first request, when iteration starts.
        """
        for page in self.iter_pages(query, page_size=page_size):
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
        if isinstance(outcome, httpx.RequestError):
            attempts = retrying.statistics.get("attempt_number", 1)
            raise transport_error(outcome, str(request.url), attempts) from None
        return decode_response(outcome, prepared)

    def _send_once(self, request: httpx.Request) -> Attempt:
        try:
            return self._http.send(request)
        except httpx.RequestError as exc:
            return exc
