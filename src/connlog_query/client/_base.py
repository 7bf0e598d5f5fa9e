"""Everything the sync and async clients share; nothing here does I/O.

:class:`BaseClient` holds the configuration and turns a call into request arguments;
:func:`decode_response` turns an answer into a model or a typed error; :class:`RetryPolicy`
decides which outcomes are retried and how long to wait; :class:`Pager` walks offset pages and
drops repeated rows. ``_sync.py`` and ``_async.py`` only send, sleep and loop, so the two
clients cannot drift apart in behaviour.

Retries use tenacity rather than a hand-written loop or httpx's transport retries: httpx
retries only connection failures, immediately and without backoff, and knows nothing about
status codes or ``Retry-After``; tenacity gives one declarative policy (stop, wait, retry
predicate, injectable sleep) that drives both the sync and the async client unchanged.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pydantic
import tenacity

from ..errors import INVALID_QUERY_MESSAGE, QueryError, ValidationError
from ..models import ConnectionLog, ConnectionLogResponse
from ..parser import Mode, parse
from ..query import Query
from .errors import (
    INVALID_PAGINATION_MESSAGE,
    APIError,
    BadRequestError,
    ForbiddenError,
    InvalidPaginationError,
    InvalidQueryError,
    MalformedResponseError,
    NotFoundError,
    PremiumFeatureRequired,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnauthorizedError,
)
from .plan import Plan, plan

if TYPE_CHECKING:  # scan imports this module, so it is imported lazily at run time
    from .scan import ResidualScan

__all__ = [
    "API_PATH",
    "DEFAULT_TIMEOUT",
    "ENV_TOKEN",
    "ENV_URL",
    "MAX_INT32",
    "SESSION_TOKEN_HEADER",
    "Attempt",
    "BaseClient",
    "Pager",
    "PreparedQuery",
    "RetryPolicy",
    "api_error",
    "check_pagination",
    "decode_response",
    "page_from_outcome",
    "parse_text",
    "prepare_query",
    "retry_after_seconds",
    "transport_error",
]

logger = logging.getLogger("connlog_query.client")

API_PATH = "/api/v2/connectionlog"
"""Path of Coder's connection-log endpoint, below the deployment URL."""
SESSION_TOKEN_HEADER = "Coder-Session-Token"
"""The header Coder's Go SDK sends the session token in."""
ENV_URL = "CODER_URL"
"""Environment variable with the deployment URL (as for Coder's own CLI)."""
ENV_TOKEN = "CODER_SESSION_TOKEN"
"""Environment variable with the session token (as for Coder's own CLI)."""
DEFAULT_TIMEOUT = 30.0
"""Seconds allowed for each of connect, read, write and pool acquisition."""
MAX_INT32 = 2**31 - 1
"""Coder parses ``limit`` and ``offset`` as positive 32-bit integers."""

_SNIPPET = 200

Attempt = httpx.Response | httpx.RequestError
"""The outcome of sending a request once: an answer, or the httpx error instead of one."""

# Failures where the request may or may not have reached the server; a GET is idempotent, so
# trying again is safe.
_RETRYABLE_ERRORS = (httpx.NetworkError, httpx.RemoteProtocolError)
# Timeouts where nothing was sent yet.
_RETRYABLE_TIMEOUTS = (httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_after_seconds(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait according to the ``Retry-After`` header (delta seconds or HTTP date)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Which failures are retried, how often, and how long to wait in between.

    Retried: connection failures (refused, reset, dropped before the answer), connect and
    pool timeouts, and the statuses in ``statuses``. A read timeout is not retried unless
    ``retry_timeouts`` is set, because a query that was too slow once is likely to be slow
    again and retrying multiplies the load on the server.

    The wait before retry ``n`` (1-based) is ``Retry-After`` when the answer has one,
    otherwise ``min(max_backoff, backoff * 2 ** (n - 1))`` plus up to ``jitter`` of it at
    random. An answer asking to wait longer than ``max_retry_after`` is not retried but
    raised at once (its ``retry_after`` says how long the server asked for).

    Attributes:
        retries: Retries after the first attempt (``0`` disables retrying).
        backoff: The first wait, in seconds.
        max_backoff: The longest wait computed from ``backoff``.
        jitter: Fraction of the wait added at random, so that many clients spread out.
        max_retry_after: The longest ``Retry-After`` honoured, in seconds.
        statuses: HTTP statuses that are retried.
        retry_timeouts: Also retry read and write timeouts.
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.1
    max_retry_after: float = 60.0
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 502, 503, 504}))
    retry_timeouts: bool = False

    def __post_init__(self) -> None:
        for name in ("retries", "backoff", "max_backoff", "jitter", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")

    def should_retry(self, outcome: Attempt) -> bool:
        """Whether ``outcome`` is a transient failure worth another attempt."""
        if isinstance(outcome, httpx.Response):
            if outcome.status_code not in self.statuses:
                return False
            wait = retry_after_seconds(outcome)
            return wait is None or wait <= self.max_retry_after
        if isinstance(outcome, _RETRYABLE_TIMEOUTS):
            return True
        if isinstance(outcome, httpx.TimeoutException):
            return self.retry_timeouts
        return isinstance(outcome, _RETRYABLE_ERRORS)

    def delay(self, retry: int, outcome: Attempt) -> float:
        """Seconds to wait before retry number ``retry`` (1-based) after ``outcome``."""
        if isinstance(outcome, httpx.Response):
            wait = retry_after_seconds(outcome)
            if wait is not None:
                return wait
        base = min(self.max_backoff, self.backoff * 2.0 ** (retry - 1))
        return base + base * self.jitter * random.random()

    def tenacity_options(self) -> dict[str, Any]:
        """Keyword arguments for ``tenacity.Retrying``/``AsyncRetrying`` (add ``sleep``).

        The attempt function returns :data:`Attempt` values instead of raising, so the policy
        sees answers and exceptions alike, and the last outcome is returned, not wrapped in
        ``tenacity.RetryError``, when the retries run out.
        """
        return {
            "stop": tenacity.stop_after_attempt(self.retries + 1),
            "wait": self._wait,
            "retry": tenacity.retry_if_result(self.should_retry),
            "before_sleep": _log_retry,
            "retry_error_callback": _outcome,
        }

    def _wait(self, state: tenacity.RetryCallState) -> float:
        return self.delay(state.attempt_number, _outcome(state))


def _outcome(state: tenacity.RetryCallState) -> Attempt:
    assert state.outcome is not None  # tenacity sets it before calling wait/stop/callbacks
    result: Attempt = state.outcome.result()
    return result


def _describe(outcome: Attempt) -> str:
    if isinstance(outcome, httpx.Response):
        return f"HTTP {outcome.status_code}"
    return type(outcome).__name__


def _log_retry(state: tenacity.RetryCallState) -> None:
    outcome = _outcome(state)
    wait = state.next_action.sleep if state.next_action else 0.0
    try:
        url = str(outcome.request.url)
    except RuntimeError:  # httpx raises when no request is attached
        url = "(unknown URL)"
    logger.warning(
        "GET %s: %s; retry %d in %.2fs", url, _describe(outcome), state.attempt_number, wait
    )


def check_pagination(name: str, value: int) -> int:
    """Reject a ``limit``/``offset``/``page_size`` Coder would refuse, before sending anything."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= MAX_INT32:
        raise ValueError(f"{name} must be between 0 and {MAX_INT32}, got {value}")
    return value


@dataclass(frozen=True)
class PreparedQuery:
    """A validated query, its push-down plan and the text sent for it.

    Attributes:
        query: The validated query.
        q: The canonical Coder-mode text of the part the server evaluates, sent as ``q``.
        plan: What the server evaluates and what is filtered locally (for a Coder-mode
            query: everything is pushed and nothing is left).
        text: The text the caller wrote, when the query came as a string.
    """

    query: Query
    q: str
    plan: Plan
    text: str | None = None

    def located(self) -> tuple[str, Query]:
        """A text and a query whose spans point into it (for carets under server errors)."""
        if self.text is not None:
            return self.text, self.query
        try:
            return self.q, parse(self.q)
        except QueryError:  # pragma: no cover - canonical text always re-parses
            return self.q, self.query


def parse_text(text: str, mode: Mode) -> Query:
    """Parse ``text`` in one language: Coder's exactly, or the extended one.

    There is no fallback from one to the other on purpose: ``username:b*`` is a literal star
    in Coder's language and a wildcard in the extended one, so trying Coder's first would make
    a wildcard mean something else depending on what else the query holds.
    """
    if mode not in ("coder", "extended"):
        raise ValueError(f"unknown mode {mode!r}; expected 'coder' or 'extended'")
    return parse(text, mode=mode)


def prepare_query(
    query: str | Query, *, mode: Mode = "coder", now: dt.datetime | None = None
) -> PreparedQuery:
    """Validate ``query`` locally, plan it and compute the ``q`` sent for it.

    Args:
        query: Text, parsed in the language ``mode`` names, or a
            :class:`~connlog_query.Query` (extended parts are planned whatever ``mode`` says:
            the object is unambiguous).
        mode: The language of text: ``"coder"`` (Coder's, exactly) or ``"extended"``.
        now: The instant relative times resolve at (default: the query's parse-time ``now``,
            else the current time).

    Raises:
        QueryError: ``query`` is invalid text; nothing is sent.
        TypeError: ``query`` is neither ``str`` nor :class:`~connlog_query.Query`.
    """
    text: str | None = None
    if isinstance(query, str):
        text = query
        query = parse_text(query, mode)
    elif not isinstance(query, Query):
        raise TypeError(f"query must be str or connlog_query.Query, not {type(query).__name__}")
    split = plan(query, now=now)
    return PreparedQuery(query, split.q, split, text)


def _snippet(response: httpx.Response) -> str:
    text = response.content[:_SNIPPET].decode("utf-8", "replace")
    return text + ("..." if len(response.content) > _SNIPPET else "")


def _malformed(response: httpx.Response, problem: str) -> MalformedResponseError:
    content_type = response.headers.get("content-type", "")
    snippet = _snippet(response)
    message = (
        f"GET {response.request.url} answered HTTP {response.status_code} with {problem} "
        f"(Content-Type {content_type or 'missing'!r}; body starts with {snippet!r})"
    )
    return MalformedResponseError(
        message,
        status=response.status_code,
        url=str(response.request.url),
        content_type=content_type,
        snippet=snippet,
    )


def _summarize(exc: pydantic.ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return f"a body that is not valid JSON ({errors[0]['msg']})"
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in errors[:3]
    ]
    more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
    return "JSON that is not a ConnectionLogResponse (" + "; ".join(parts) + more + ")"


def _error_body(response: httpx.Response) -> tuple[str, str, list[dict[str, Any]]] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    detail = body.get("detail")
    raw = body.get("validations")
    validations = [
        v
        for v in (raw if isinstance(raw, list) else [])
        if isinstance(v, dict) and isinstance(v.get("field"), str)
    ]
    return body["message"], detail if isinstance(detail, str) else "", validations


def _error_class(status: int, message: str) -> type[APIError]:
    if status == 400:
        if message == INVALID_QUERY_MESSAGE:
            return InvalidQueryError
        if message == INVALID_PAGINATION_MESSAGE:
            return InvalidPaginationError
        return BadRequestError
    if status == 403:
        return PremiumFeatureRequired if "is a Premium feature" in message else ForbiddenError
    fixed: dict[int, type[APIError]] = {
        401: UnauthorizedError,
        404: NotFoundError,
        429: RateLimitedError,
    }
    if status in fixed:
        return fixed[status]
    return ServerError if status >= 500 else APIError


def api_error(response: httpx.Response, prepared: PreparedQuery | None = None) -> APIError:
    """The typed error for a non-2xx ``response`` (Coder's body, or a summary of another one)."""
    status = response.status_code
    parsed = _error_body(response)
    if parsed is None:
        message = response.reason_phrase or f"HTTP {status}"
        detail = _snippet(response).strip()
        if 300 <= status < 400 and "location" in response.headers:
            # Redirects are not followed: the token header would travel to the new origin.
            detail = f"redirected to {response.headers['location']}; use that URL instead"
        raw: list[dict[str, Any]] = []
    else:
        message, detail, raw = parsed
    cls = _error_class(status, message)
    url = str(response.request.url)
    retry_after = retry_after_seconds(response)
    if cls is InvalidQueryError and prepared is not None:
        text, located = prepared.located()
        validations = [
            ValidationError(str(v["field"]), str(v.get("detail", "")), located.span(v["field"]))
            for v in raw
        ]
        return InvalidQueryError(
            status, message, detail, validations, url=url, retry_after=retry_after, text=text
        )
    validations = [ValidationError(str(v["field"]), str(v.get("detail", ""))) for v in raw]
    return cls(status, message, detail, validations, url=url, retry_after=retry_after)


def decode_response(
    response: httpx.Response, prepared: PreparedQuery | None = None
) -> ConnectionLogResponse:
    """The page in a 2xx ``response``, or the typed error for any other answer.

    Raises:
        APIError: a non-2xx status (the subclass says which).
        MalformedResponseError: a 2xx answer that is not a ``ConnectionLogResponse``.
    """
    if not response.is_success:
        raise api_error(response, prepared)
    try:
        return ConnectionLogResponse.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        raise _malformed(response, _summarize(exc)) from None


def page_from_outcome(
    outcome: Attempt, url: str, attempts: int, prepared: PreparedQuery
) -> ConnectionLogResponse:
    """The page in the last outcome of a request, or the error it stands for.

    Raises:
        TransportError: ``outcome`` is an httpx failure (after ``attempts`` tries).
        APIError: a non-2xx answer (see :func:`decode_response`).
        MalformedResponseError: a 2xx answer that is not a ``ConnectionLogResponse``.
    """
    if isinstance(outcome, httpx.RequestError):
        raise transport_error(outcome, url, attempts) from None
    return decode_response(outcome, prepared)


def transport_error(exc: httpx.RequestError, url: str, attempts: int) -> TransportError:
    """Our error for an httpx request failure, after ``attempts`` tries."""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return RequestTimeoutError(
            f"GET {url}: no answer within the timeout ({kind}){tries}", url=url, attempts=attempts
        )
    reason = str(exc) or type(exc).__name__
    return TransportError(f"GET {url}: {reason}{tries}", url=url, attempts=attempts)


class Pager:
    """Walks offset pages of one query and drops rows already seen.

    New rows are inserted at the top of Coder's ordering (newest first), so offset paging over
    a growing table shows some rows twice; they are dropped by id. The walk ends on a short
    page, or once the offset reaches an exact (uncapped) ``count``.

    Args:
        page_size: Rows asked for per request (1 to 2**31-1).
    """

    def __init__(self, page_size: int) -> None:
        check_pagination("page_size", page_size)
        if page_size == 0:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.offset = 0
        self.count: int | None = None
        self.count_cap: int | None = None
        self.done = False
        self._seen: set[Any] = set()

    def feed(self, page: ConnectionLogResponse) -> list[ConnectionLog]:
        """Take the next page; return its rows not seen before."""
        rows = page.connection_logs
        fresh = []
        for log in rows:
            if log.id not in self._seen:
                self._seen.add(log.id)
                fresh.append(log)
        self.offset += len(rows)
        self.count, self.count_cap = page.count, page.count_cap
        exact = page.count_cap is None or page.count <= page.count_cap
        if (
            len(rows) < self.page_size
            or (exact and self.offset >= page.count)
            or self.offset > MAX_INT32
        ):
            self.done = True
        return fresh


_C = TypeVar("_C", bound="BaseClient")


class BaseClient:
    """Configuration and request building shared by ``Client`` and ``AsyncClient``."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        retries: int | RetryPolicy = 3,
        headers: Mapping[str, str] | None = None,
        extended: bool = False,
        user_id: uuid.UUID | str | None = None,
    ) -> None:
        self._base_url = _normalize_url(url)
        self._endpoint = self._base_url + API_PATH
        self._token = _check_token(token)
        self._retry = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries)
        self._headers = {"Accept": "application/json", **(headers or {})}
        if not isinstance(extended, bool):
            raise TypeError("extended must be True or False")
        self._extended = extended
        self._user_id = _check_user_id(user_id)

    @property
    def url(self) -> str:
        """The deployment URL (without the API path)."""
        return self._base_url

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._retry

    @property
    def extended(self) -> bool:
        """Whether query text is read in the extended language by default (else Coder's)."""
        return self._extended

    @property
    def user_id(self) -> uuid.UUID | None:
        """The caller's user id, for ``me`` in a part of a query filtered locally."""
        return self._user_id

    def plan(
        self, query: str | Query, *, mode: Mode | None = None, now: dt.datetime | None = None
    ) -> Plan:
        """How ``query`` would run: the ``q`` sent and the residual filtered locally. No I/O.

        Args:
            query: Text or a ``Query``, as for ``connection_logs``.
            mode: The language of text (default: ``"extended"`` if the client was created
                with ``extended=True``, else ``"coder"``).
            now: The instant relative times resolve at (default: the query's parse-time
                ``now``, else the current time).

        Raises:
            QueryError: the query text is invalid.
        """
        return prepare_query(query, mode=self._mode(mode), now=now).plan

    def _mode(self, mode: Mode | None) -> Mode:
        if mode is None:
            return "extended" if self._extended else "coder"
        return mode

    def _prepare(
        self, query: str | Query, mode: Mode | None
    ) -> tuple[PreparedQuery, Callable[[ConnectionLog], bool] | None]:
        """The prepared query and its compiled residual (``None``: the server does it all).

        Everything that can fail locally fails here, before the first request.
        """
        from .scan import residual_predicate

        prepared = prepare_query(query, mode=self._mode(mode))
        return prepared, residual_predicate(prepared.plan, user_id=self._user_id)

    def _page_scan(
        self,
        predicate: Callable[[ConnectionLog], bool],
        limit: int,
        offset: int,
        page_size: int,
    ) -> ResidualScan:
        """The scan that reads pushed pages until one page of the whole query is filled."""
        from .scan import DEFAULT_LIMIT, ResidualScan, scan_page_size

        check_pagination("limit", limit)
        check_pagination("offset", offset)
        return ResidualScan(
            predicate,
            page_size=scan_page_size(page_size, limit, offset),
            want=offset + (limit or DEFAULT_LIMIT),
        )

    @classmethod
    def from_env(cls: type[_C], *, environ: Mapping[str, str] | None = None, **kwargs: Any) -> _C:
        """A client configured like Coder's CLI: ``CODER_URL`` and ``CODER_SESSION_TOKEN``.

        Args:
            environ: Where to read the variables (default ``os.environ``).
            **kwargs: Other constructor arguments (``timeout``, ``retries``, ...).

        Raises:
            ValueError: ``CODER_URL`` is not set.
        """
        env = os.environ if environ is None else environ
        url = env.get(ENV_URL, "").strip()
        if not url:
            raise ValueError(
                f"{ENV_URL} is not set; set it to your deployment's URL, "
                "e.g. https://coder.example.com"
            )
        return cls(url, env.get(ENV_TOKEN) or None, **kwargs)

    def _request_args(
        self, prepared: PreparedQuery, limit: int, offset: int
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        # Like Coder's Go SDK: q always (possibly empty), limit/offset only when positive.
        params = {"q": prepared.q}
        if check_pagination("limit", limit) > 0:
            params["limit"] = str(limit)
        if check_pagination("offset", offset) > 0:
            params["offset"] = str(offset)
        headers = dict(self._headers)
        if self._token is not None:
            headers[SESSION_TOKEN_HEADER] = self._token
        return self._endpoint, params, headers

    def __repr__(self) -> str:
        token = "'***'" if self._token is not None else "None"
        return f"{type(self).__name__}(url={self._base_url!r}, token={token})"


def _normalize_url(url: str) -> str:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"url must be an http(s) URL with a host, got {url!r}")
    base = str(parsed.copy_with(query=None, fragment=None)).rstrip("/")
    if base.endswith(API_PATH):
        base = base[: -len(API_PATH)]
    return base


def _check_user_id(user_id: uuid.UUID | str | None) -> uuid.UUID | None:
    if user_id is None or isinstance(user_id, uuid.UUID):
        return user_id
    if isinstance(user_id, str):
        try:
            return uuid.UUID(user_id)
        except ValueError:
            raise ValueError(f"user_id must be a UUID, got {user_id!r}") from None
    raise TypeError(f"user_id must be a UUID or str, not {type(user_id).__name__}")


def _check_token(token: str | None) -> str | None:
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise TypeError("token must be a str")
    # Checked here so that httpx never builds an error message around the token.
    if not all(" " < ch < "\x7f" for ch in token):
        raise ValueError("token must be printable ASCII without spaces")
    return token
