"""Warnings for queries that are valid but can never match, or do not mean what they seem to.

Coder accepts all of these silently and returns nothing; ``query.warnings`` says why. Only the
top-level conjunction is examined (what every matching row must satisfy).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .expr import And, Filter, Not, TimeBound
from .values import ConnectionType

if TYPE_CHECKING:
    from .query import Query

__all__ = ["AGENT_REPORTED_TYPES", "QueryWarning", "warnings_for"]

AGENT_REPORTED_TYPES = frozenset(
    {
        ConnectionType.SSH,
        ConnectionType.VSCODE,
        ConnectionType.JETBRAINS,
        ConnectionType.RECONNECTING_PTY,
    }
)
"""Sessions reported by the workspace agent: they carry no connecting user."""

_EXACT_KEYS = ("organization", "type", "status", "workspace_id", "connection_id")


@dataclass(frozen=True, slots=True)
class QueryWarning:
    """A reason the query may not do what its author wants.

    Attributes:
        code: A stable identifier (``empty-time-range``, ``no-connecting-user``,
            ``status-of-point-in-time``, ``contradiction``).
        message: One sentence for people.
        span: Where in the query text, when known.
    """

    code: str
    message: str
    span: tuple[int, int] | None = None


def _conjuncts(query: Query) -> list[Any]:
    expression = query.expression()
    if expression is None:
        return []
    return list(expression.items) if isinstance(expression, And) else [expression]


def _positive_values(conjuncts: list[Any], key: str) -> list[frozenset[Any]]:
    return [frozenset(n.values) for n in conjuncts if isinstance(n, Filter) and n.key == key]


def warnings_for(query: Query, now: dt.datetime | None = None) -> tuple[QueryWarning, ...]:
    """Every warning for ``query`` (relative times are judged at ``now``)."""
    conjuncts = _conjuncts(query)
    found: list[QueryWarning] = []
    when = now or dt.datetime.now(dt.timezone.utc)

    bounds = [n.resolve(when) for n in conjuncts if isinstance(n, TimeBound)]
    lowers = [b.at for b in bounds if b.is_lower and isinstance(b.at, dt.datetime)]
    uppers = [b.at for b in bounds if not b.is_lower and isinstance(b.at, dt.datetime)]
    if lowers and uppers and max(lowers) > min(uppers):
        found.append(
            QueryWarning(
                "empty-time-range",
                "the connect-time range is empty: its start is later than its end, "
                "so nothing can match",
                query.span("connected_after") or query.span("connected_before"),
            )
        )

    types = _positive_values(conjuncts, "type")
    type_set = frozenset.intersection(*types) if types else None
    asks_user = any(
        isinstance(n, Filter) and n.key in ("username", "user_email") for n in conjuncts
    )
    if asks_user and type_set and type_set <= AGENT_REPORTED_TYPES:
        found.append(
            QueryWarning(
                "no-connecting-user",
                "sessions of type "
                + ", ".join(sorted(t.value for t in type_set))
                + " are reported by the workspace agent and have no connecting user, "
                "so username:/user_email: never match them",
                query.span("username") or query.span("user_email"),
            )
        )

    if (
        _positive_values(conjuncts, "status")
        and type_set
        and all(t.is_point_in_time for t in type_set)
    ):
        found.append(
            QueryWarning(
                "status-of-point-in-time",
                "workspace apps, port forwards and tunnels are point-in-time events without a "
                "status, so status: never matches them",
                query.span("status"),
            )
        )

    for key in _EXACT_KEYS:
        sets = _positive_values(conjuncts, key)
        if len(sets) > 1 and not frozenset.intersection(*sets):
            found.append(
                QueryWarning(
                    "contradiction",
                    f"{key} must equal values that exclude each other, so nothing can match",
                    query.span(key),
                )
            )
    negated = {n.item for n in conjuncts if isinstance(n, Not)}
    for node in conjuncts:
        if node in negated:
            found.append(
                QueryWarning(
                    "contradiction",
                    "the query both requires and excludes the same term, so nothing can match",
                    None,
                )
            )
            break
    return tuple(found)
