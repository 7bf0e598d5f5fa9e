"""An ASGI application serving ``GET /api/v2/connectionlog`` over any store, like Coder.

Starlette is the framework: it is a small ASGI toolkit (routing, requests, responses) with no
opinions about validation or serialization, so the handler can write Coder's exact bytes and
status codes itself, and it is the well-known base that FastAPI builds on. uvicorn runs it.

The handler follows Coder's order (reference section 2): authentication (401), licence (403),
pagination then search query (400, via :mod:`connlog_query.server.request`), authorization
(403), then the store's count and list (500 on failure). Bodies are byte-identical to
Coder's: compact JSON with Go's HTML escaping and a trailing newline. With
``mode="extended"`` the ``q`` parameter is read in the extended language; errors keep Coder's
400 body.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..backends.context import CompileContext
from ..errors import QueryError
from ..models import ConnectionLogResponse
from ..parser import Mode
from ..query import Query
from ._json import dump_model, dumps
from .openapi import API_PATH, openapi_document
from .request import (
    FORBIDDEN_DETAIL,
    FORBIDDEN_MESSAGE,
    INTERNAL_ERROR_MESSAGE,
    INVALID_TOKEN_DETAIL,
    MISSING_TOKEN_DETAIL,
    PREMIUM_MESSAGE,
    ROUTE_NOT_FOUND_MESSAGE,
    SIGNED_OUT_MESSAGE,
    ConnectionLogRequest,
    RequestError,
    error_body,
    parse_go_query,
    parse_query_string,
)

__all__ = [
    "SESSION_TOKEN_COOKIE",
    "SESSION_TOKEN_HEADER",
    "Authenticate",
    "Authorize",
    "ConnectionLogStore",
    "create_app",
    "session_token",
]

logger = logging.getLogger("connlog_query.server")

SESSION_TOKEN_COOKIE = "coder_session_token"
"""Cookie and query parameter that may carry the token."""
SESSION_TOKEN_HEADER = "Coder-Session-Token"
"""Header that carries the token (what Coder's SDK and this project's client send)."""

_CONTENT_TYPE = "application/json; charset=utf-8"

Authenticate = Callable[[str], "uuid.UUID | Awaitable[uuid.UUID | None] | None"]
"""Maps a session token to the caller's user id, or ``None`` when the token is invalid. May be
``async``; a plain function runs on the event loop, so it must not block."""

Authorize = Callable[["uuid.UUID | None"], bool]
"""Whether the caller may read the connection log (``False`` gives Coder's 403 ``Forbidden.``).
Runs in a worker thread next to the store call."""


class ConnectionLogStore(Protocol):
    """What the app needs from a store (every store of :mod:`connlog_query.store` fits)."""

    def list(
        self,
        query: Query,
        *,
        limit: int = 0,
        offset: int = 0,
        context: CompileContext = ...,
    ) -> ConnectionLogResponse:
        """One page of ``query`` with Coder's semantics (count, cap, order, limit 0 = 100)."""
        ...


def _coder_json(status: int, body: dict[str, Any]) -> Response:
    return Response(dumps(body), status_code=status, media_type=_CONTENT_TYPE)


def _error_response(exc: RequestError) -> Response:
    return _coder_json(exc.status, exc.to_response())


def session_token(request: Request, params: Mapping[str, Sequence[str]] | None = None) -> str:
    """The token as Coder finds it: cookie, then query parameter, then header (first non-empty).

    Args:
        request: The request.
        params: Its URL parameters as Go parses them, if already at hand.
    """
    cookie = request.cookies.get(SESSION_TOKEN_COOKIE, "")
    if cookie:
        return cookie
    if params is None:
        params = parse_go_query(request.scope.get("query_string", b""))
    values = params.get(SESSION_TOKEN_COOKIE)
    if values and values[0]:
        return values[0]
    return request.headers.get(SESSION_TOKEN_HEADER, "")


class _ConnectionLogEndpoint:
    """The request handler; one instance per app holds its configuration."""

    def __init__(
        self,
        store: ConnectionLogStore,
        authenticate: Authenticate | None,
        authorize: Authorize | None,
        licensed: bool,
        mode: Mode,
    ) -> None:
        self.store = store
        self.authenticate = authenticate
        self.authorize = authorize
        self.licensed = licensed
        self.mode: Mode = mode

    async def handle(self, request: Request) -> Response:
        try:
            params = parse_go_query(request.scope.get("query_string", b""))
            user_id = await self._caller(request, params)
            if not self.licensed:
                raise RequestError(403, PREMIUM_MESSAGE)
            # Parsing and the store call run together in one worker thread: both are CPU or
            # blocking work, and one hop is cheaper than two.
            page = await run_in_threadpool(self._answer, params, user_id)
        except RequestError as exc:
            return _error_response(exc)
        except Exception as exc:
            logger.exception("GET %s failed", API_PATH)
            return _coder_json(500, error_body(INTERNAL_ERROR_MESSAGE, str(exc)))
        return Response(dump_model(page), media_type=_CONTENT_TYPE)

    async def _caller(
        self, request: Request, params: Mapping[str, Sequence[str]]
    ) -> uuid.UUID | None:
        if self.authenticate is None:
            return None
        token = session_token(request, params)
        if not token:
            raise RequestError(401, SIGNED_OUT_MESSAGE, MISSING_TOKEN_DETAIL)
        user_id = self.authenticate(token)
        if inspect.isawaitable(user_id):
            user_id = await user_id
        if user_id is None:
            raise RequestError(401, SIGNED_OUT_MESSAGE, INVALID_TOKEN_DETAIL)
        return user_id

    def _answer(
        self, params: Mapping[str, Sequence[str]], user_id: uuid.UUID | None
    ) -> ConnectionLogResponse:
        parsed: ConnectionLogRequest = parse_query_string(params, mode=self.mode)
        if self.authorize is not None and not self.authorize(user_id):
            raise RequestError(403, FORBIDDEN_MESSAGE, FORBIDDEN_DETAIL)
        try:
            return self.store.list(
                parsed.query,
                limit=parsed.limit,
                offset=parsed.offset,
                context=CompileContext(user_id=user_id),
            )
        except QueryError as exc:
            # The store resolves organization names and `me`; Coder reports both as 400s.
            raise RequestError.from_query_error(exc) from exc


async def _not_found(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code != 404:
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    return _coder_json(404, error_body(ROUTE_NOT_FOUND_MESSAGE))


def create_app(
    store: ConnectionLogStore,
    *,
    authenticate: Authenticate | None = None,
    authorize: Authorize | None = None,
    licensed: bool = True,
    openapi_url: str | None = "/openapi.json",
    debug: bool = False,
    mode: Mode = "coder",
) -> Starlette:
    """An ASGI app answering ``GET /api/v2/connectionlog`` from ``store`` like Coder.

    Args:
        store: Any store with Coder's ``list`` semantics (see :mod:`connlog_query.store`).
            It is called from worker threads.
        authenticate: Token to user id (``me`` becomes that id). The token is read like
            Coder: cookie ``coder_session_token``, query parameter ``coder_session_token``,
            header ``Coder-Session-Token``. Missing or unknown tokens get Coder's 401 bodies.
            ``None`` serves without authentication (and ``me`` is then a 400).
        authorize: Optional check of the caller; ``False`` gives Coder's 403 ``Forbidden.``.
        licensed: ``False`` answers every request with Coder's 403 "Premium feature" body.
        openapi_url: Where the OpenAPI document is served (``None``: not served).
        debug: Starlette's debug mode.
        mode: The language of ``q``: ``"coder"`` (default, Coder's exactly) or
            ``"extended"`` (the extended language, a superset; the store must evaluate
            extended queries, as every store of :mod:`connlog_query.store` does). Invalid
            queries get Coder's 400 body either way. Relative times resolve at the time of
            each request.

    Also served: ``GET /healthz`` (``OK``, as Coder) and Coder's JSON 404 for unknown paths.
    """
    if mode not in ("coder", "extended"):
        raise ValueError(f"mode must be 'coder' or 'extended', got {mode!r}")
    endpoint = _ConnectionLogEndpoint(store, authenticate, authorize, licensed, mode)
    routes = [
        Route(API_PATH, endpoint.handle, methods=["GET"]),
        Route("/healthz", _healthz, methods=["GET"]),
    ]
    if openapi_url is not None:
        document = openapi_document()

        async def openapi(request: Request) -> Response:
            return JSONResponse(document)

        routes.append(Route(openapi_url, openapi, methods=["GET"]))
    return Starlette(debug=debug, routes=routes, exception_handlers={404: _not_found})


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("OK")
