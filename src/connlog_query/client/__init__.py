"""A typed sync/async client for Coder's connection-log API (``GET /api/v2/connectionlog``).

Queries are validated locally before anything is sent, and the canonical form goes on the
wire. Extended queries are planned (:mod:`~connlog_query.client.plan`): the part Coder's server
can evaluate is sent, the rest filtered locally. Needs the ``client`` extra (httpx, tenacity).

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
from .plan import Plan
from .scan import FilteredResponse

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
    "FilteredResponse",
    "ForbiddenError",
    "InvalidPaginationError",
    "InvalidQueryError",
    "MalformedResponseError",
    "NotFoundError",
    "Plan",
    "PremiumFeatureRequired",
    "RateLimitedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
]
