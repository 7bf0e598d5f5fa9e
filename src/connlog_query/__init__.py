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

from typing import TYPE_CHECKING, Any

from .errors import QueryError, ValidationError
from .parser import parse
from .query import Query
from .values import ME, ConnectionStatus, ConnectionType, Me

if TYPE_CHECKING:
    from .complete import Completion, complete
    from .extended import Limits

# Loaded on first use, so that `import connlog_query` plus a Coder-mode parse stays cheap.
_LAZY = {"Completion": "complete", "complete": "complete", "Limits": "extended"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
