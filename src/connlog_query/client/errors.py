"""Errors raised by :class:`~connlog_query.client.Client` and ``AsyncClient``.

Hierarchy::

    Exception
     ├── connlog_query.QueryError          the query text is invalid (raised locally, nothing sent)
     └── ClientError                       anything else the client raises
          ├── APIError                     the server answered with a non-2xx status
          │    │                           (.status, .message, .detail, .validations, .url)
          │    ├── BadRequestError         400
          │    │    ├── InvalidQueryError  400 "Invalid connection search query."
          │    │    │                      (also a connlog_query.QueryError)
          │    │    └── InvalidPaginationError  400 "Query parameters have invalid values."
          │    ├── UnauthorizedError       401: token missing, invalid or expired
          │    ├── ForbiddenError          403
          │    │    └── PremiumFeatureRequired  403 "... is a Premium feature. Contact sales!"
          │    ├── NotFoundError           404: wrong URL, or a Coder build without the endpoint
          │    ├── RateLimitedError        429 (after the retries ran out)
          │    └── ServerError             5xx (after the retries ran out for 502/503/504)
          ├── TransportError               no answer: connection refused or dropped, TLS, protocol
          │    └── RequestTimeoutError     no answer within the configured timeout
          └── MalformedResponseError       an answer that is not the JSON Coder sends

Catching :class:`ClientError` catches every failure of a request; catching
:class:`connlog_query.QueryError` catches every invalid query, whether the client found the
problem before sending it or the server did (for example an organization name that does not
exist). The session token never appears in any message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import QueryError, ValidationError, render_errors

__all__ = [
    "INVALID_PAGINATION_MESSAGE",
    "APIError",
    "BadRequestError",
    "ClientError",
    "ForbiddenError",
    "InvalidPaginationError",
    "InvalidQueryError",
    "MalformedResponseError",
    "NotFoundError",
    "PremiumFeatureRequired",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
]

INVALID_PAGINATION_MESSAGE = "Query parameters have invalid values."
"""Coder's ``message`` for a 400 caused by ``limit``/``offset``/``after_id``."""


class ClientError(Exception):
    """Base of every error the HTTP client raises (apart from a locally invalid query)."""


class APIError(ClientError):
    """The server answered with a status other than 200.

    Attributes:
        status: The HTTP status code.
        message: Coder's ``message`` (or the reason phrase when the body was not Coder's JSON).
        detail: Coder's ``detail``, ``""`` when absent.
        validations: Coder's ``validations`` as :class:`~connlog_query.ValidationError`s.
        url: The request URL (the token is sent in a header, never in the URL).
        retry_after: Seconds the server asked to wait (``Retry-After``), if it said so.
    """

    status: int
    message: str
    detail: str
    validations: tuple[ValidationError, ...]
    url: str
    retry_after: float | None

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        validations: Iterable[ValidationError] = (),
        *,
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = tuple(validations)
        self.url = url
        self.retry_after = retry_after
        Exception.__init__(self, status, message)

    def to_response(self) -> dict[str, Any]:
        """The error body in Coder's shape ``{message, detail?, validations?}``."""
        body: dict[str, Any] = {"message": self.message}
        if self.detail:
            body["detail"] = self.detail
        if self.validations:
            body["validations"] = [v.to_dict() for v in self.validations]
        return body

    def __str__(self) -> str:
        head = f"HTTP {self.status}: {self.message}"
        if self.detail:
            head += f" ({self.detail})"
        lines = [head]
        lines.extend(f"  {v.field}: {v.detail}" for v in self.validations)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[APIError], state: dict[str, Any]) -> APIError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err.status, err.message)
    return err


class BadRequestError(APIError):
    """HTTP 400."""


class InvalidQueryError(BadRequestError, QueryError):
    """The server rejected the search query (400 ``Invalid connection search query.``).

    It is also a :class:`connlog_query.QueryError`, so code that handles local validation
    errors handles this one too: ``errors`` are the server's validations. When the client
    knows where a field stood in the query text, each error carries that span, and
    ``str(err)`` draws carets under it.

    The usual cause, when the query passed local validation, is a fact only the server knows:
    an ``organization`` name that does not exist or that the caller may not see.
    """

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        validations: Iterable[ValidationError] = (),
        *,
        url: str = "",
        retry_after: float | None = None,
        text: str | None = None,
    ) -> None:
        super().__init__(status, message, detail, validations, url=url, retry_after=retry_after)
        # QueryError's own state, set by hand: its __init__ would reset Exception.args.
        self.errors = self.validations
        self.text = text
        self._rendered = None

    def __str__(self) -> str:
        body = render_errors(self.errors, self.text) if self.errors else self.message
        return f"HTTP {self.status}: {self.message}\n{body}"


class InvalidPaginationError(BadRequestError):
    """The server rejected ``limit``/``offset`` (400 ``Query parameters have invalid values.``)."""


class UnauthorizedError(APIError):
    """HTTP 401: the session token is missing, invalid or expired."""


class ForbiddenError(APIError):
    """HTTP 403: the caller may not read the connection log."""


class PremiumFeatureRequired(ForbiddenError):
    """HTTP 403 ``Connection Log is a Premium feature. Contact sales!``: the deployment has no
    licence for the connection log."""


class NotFoundError(APIError):
    """HTTP 404: wrong deployment URL, or a Coder build without the connection-log endpoint."""


class RateLimitedError(APIError):
    """HTTP 429, still returned after the retries (see ``retry_after``)."""


class ServerError(APIError):
    """HTTP 5xx, still returned after the retries."""


class TransportError(ClientError):
    """No HTTP answer: the connection was refused, dropped or broken.

    Attributes:
        url: The request URL.
        attempts: How many times the request was tried.
    """

    url: str
    attempts: int

    def __init__(self, message: str, *, url: str = "", attempts: int = 1) -> None:
        self.url = url
        self.attempts = attempts
        super().__init__(message)


class RequestTimeoutError(TransportError):
    """No complete answer within the client's ``timeout``."""


class MalformedResponseError(ClientError):
    """The server answered, but not with the JSON Coder sends (not JSON, or the wrong shape).

    Attributes:
        status: The HTTP status code of the answer.
        url: The request URL.
        content_type: The answer's ``Content-Type`` header.
        snippet: The first characters of the body, for diagnosis.
    """

    status: int
    url: str
    content_type: str
    snippet: str

    def __init__(
        self, message: str, *, status: int, url: str, content_type: str, snippet: str
    ) -> None:
        self.status = status
        self.url = url
        self.content_type = content_type
        self.snippet = snippet
        super().__init__(message)
