"""A typed sync/async client for Coder's connection-log API (``GET /api/v2/connectionlog``).

Queries are validated locally in Coder mode before anything is sent, and the canonical form
goes on the wire. Needs the ``client`` extra (httpx, tenacity).

Example:
    >>> from connlog_query.client import Client
    >>> with Client.from_env() as client:  # doctest: +SKIP
    ...     for log in client.iter_connection_logs("workspace_owner:me type:ssh"):
    ...         print(log.connect_time, log.workspace_name)
"""

from __future__ import annotations

from ..models import ConnectionLog, ConnectionLogResponse
from ._async import AsyncClient
from ._base import API_PATH, ENV_TOKEN, ENV_URL, SESSION_TOKEN_HEADER, RetryPolicy
from ._sync import Client
from .errors import (
    APIError,
    BadRequestError,
    ClientError,
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

__all__ = [
    "API_PATH",
    "ENV_TOKEN",
    "ENV_URL",
    "SESSION_TOKEN_HEADER",
    "APIError",
    "AsyncClient",
    "BadRequestError",
    "Client",
    "ClientError",
    "ConnectionLog",
    "ConnectionLogResponse",
    "ForbiddenError",
    "InvalidPaginationError",
    "InvalidQueryError",
    "MalformedResponseError",
    "NotFoundError",
    "PremiumFeatureRequired",
    "RateLimitedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
]
