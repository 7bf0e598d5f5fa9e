"""Serve Coder's connection-log endpoint from your own data, with Coder's exact wire behaviour.

Two layers, use either:

* :mod:`~connlog_query.server.request` (no web framework): :func:`parse_request` /
  :func:`parse_query_string` validate the URL parameters in Coder's order and raise
  :class:`RequestError` carrying Coder's status and JSON body.
* :mod:`~connlog_query.server.app` (extra ``server``: Starlette + uvicorn):
  :func:`create_app` builds an ASGI app for ``GET /api/v2/connectionlog`` over any store.

Example:
    >>> from connlog_query.server import RequestError, parse_request
    >>> parse_request("type:ssh", limit="50").limit
    50
    >>> try:
    ...     parse_request("type:ssh", limit="abc")
    ... except RequestError as exc:
    ...     print(exc.status, exc.to_response()["validations"][0]["detail"])
    400 Query param "limit" must be a valid 32-bit positive integer: strconv.ParseInt: parsing "abc": invalid syntax
"""  # noqa: E501

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .openapi import openapi_document
from .request import ConnectionLogRequest, RequestError, parse_query_string, parse_request

if TYPE_CHECKING:
    from .app import create_app

__all__ = [
    "ConnectionLogRequest",
    "RequestError",
    "create_app",
    "openapi_document",
    "parse_query_string",
    "parse_request",
]


def __getattr__(name: str) -> Any:
    # The app needs Starlette (extra "server"); the request helpers must not.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
