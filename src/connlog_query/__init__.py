"""connlog_query: Coder's connection-log search language for Python.

Parse and validate a query exactly as Coder's server does, get a typed, frozen AST, and compile
it to SQL, in-memory predicates or Coder's wire format.

Example:
    >>> import connlog_query
    >>> q = connlog_query.parse('workspace_owner:me type:ssh status:ongoing')
    >>> str(q)
    'workspace_owner:me type:ssh status:ongoing'
"""

from __future__ import annotations

from .complete import Completion, complete
from .errors import QueryError, ValidationError
from .extended import Limits
from .parser import parse
from .query import Query
from .values import ME, ConnectionStatus, ConnectionType, Me

__all__ = [
    "ME",
    "Completion",
    "ConnectionStatus",
    "ConnectionType",
    "Limits",
    "Me",
    "Query",
    "QueryError",
    "ValidationError",
    "complete",
    "parse",
]

__version__ = "0.1.0"
