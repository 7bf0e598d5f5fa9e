"""Backends turn a :class:`~connlog_query.query.Query` into something that selects rows.

Built in (imported lazily, on first use):

* ``sql``: parameterized SQL for PostgreSQL, SQLite and MariaDB/MySQL
  (:mod:`connlog_query.backends.sql`).
* ``sqlalchemy``: a SQLAlchemy Core boolean expression (:mod:`connlog_query.backends.sqlalchemy`,
  needs the ``sqlalchemy`` extra).
* ``memory``: a predicate over Python records (:mod:`connlog_query.backends.memory`).

Third parties add a backend with :func:`register_backend` or through the entry-point group
``connlog_query.backends``; an entry point's object is the backend itself (typically a module
with a ``compile`` function). Every backend follows the same shape: ``compile(query, ...)``.
"""

from __future__ import annotations

import difflib
import importlib
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any, Protocol, cast

from .context import (
    AsyncOrganizationResolver,
    CompileContext,
    OrganizationResolver,
    resolve,
    resolve_async,
)
from .schema import Schema

__all__ = [
    "ENTRY_POINT_GROUP",
    "AsyncOrganizationResolver",
    "Backend",
    "BackendFactory",
    "CompileContext",
    "OrganizationResolver",
    "Schema",
    "UnknownBackendError",
    "available_backends",
    "get_backend",
    "register_backend",
    "resolve",
    "resolve_async",
    "unregister_backend",
]

ENTRY_POINT_GROUP = "connlog_query.backends"
"""Entry-point group searched for backends not registered in code."""


class Backend(Protocol):
    """What every backend offers: ``compile(query, ...)`` (extra arguments differ per backend)."""

    def compile(self, query: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Compile ``query`` to this backend's form (SQL fragment, expression, predicate...)."""


BackendFactory = Callable[[], Any]
"""A zero-argument callable returning the backend (called once, on first use)."""


class UnknownBackendError(LookupError):
    """No backend is registered (or installed as an entry point) under the requested name."""


_lock = threading.Lock()
_factories: dict[str, BackendFactory] = {}
_loaded: dict[str, Any] = {}


def _module_factory(module: str) -> BackendFactory:
    return lambda: importlib.import_module(module)


def register_backend(name: str, factory: BackendFactory) -> None:
    """Register ``factory`` under ``name``; registering a name again replaces it.

    ``factory`` is called the first time :func:`get_backend` asks for ``name``, so registering
    costs no import.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("backend name must be a non-empty string")
    with _lock:
        _factories[name] = factory
        _loaded.pop(name, None)


def unregister_backend(name: str) -> None:
    """Forget the backend registered as ``name`` (an installed entry point stays available)."""
    with _lock:
        _factories.pop(name, None)
        _loaded.pop(name, None)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> list[str]:
    """Names of every registered or installed backend, sorted (nothing is imported)."""
    with _lock:
        names = set(_factories)
    return sorted(names | set(_entry_points()))


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``, loading it on first use.

    Raises:
        UnknownBackendError: nothing is registered under ``name``; the message lists the known
            names and suggests the closest one.
    """
    with _lock:
        if name in _loaded:
            return cast(Backend, _loaded[name])
        factory = _factories.get(name)
    if factory is None:
        ep = _entry_points().get(name)
        if ep is None:
            known = available_backends()
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownBackendError(
                f"unknown backend {name!r} (available: {', '.join(known)}){hint}"
            )
        factory = ep.load
    backend = factory()
    with _lock:
        _loaded[name] = backend
    return cast(Backend, backend)


for _name in ("sql", "sqlalchemy", "memory"):
    register_backend(_name, _module_factory(f"{__name__}.{_name}"))
