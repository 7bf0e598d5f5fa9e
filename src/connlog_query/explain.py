"""``query.explain()``: one English sentence saying what a query selects.

Example: ``workspace_owner:me type:ssh connected:>=-24h status:ongoing`` reads
"SSH sessions in workspaces you own that started in the last 24 hours and are still open".
Parts the sentence has no words for (OR groups, negations) are quoted in query syntax.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .canonical import expression_to_string
from .expr import And, Filter, RelativeTime, Text, TimeBound, Wildcard
from .values import ConnectionStatus, ConnectionType, Me

if TYPE_CHECKING:
    from .query import Query

__all__ = ["explain"]

_TYPE_NOUNS = {
    ConnectionType.SSH: "SSH sessions",
    ConnectionType.VSCODE: "VS Code sessions",
    ConnectionType.JETBRAINS: "JetBrains sessions",
    ConnectionType.RECONNECTING_PTY: "web terminal sessions",
    ConnectionType.WORKSPACE_APP: "workspace app requests",
    ConnectionType.PORT_FORWARDING: "port forwards",
    ConnectionType.TUNNEL: "tunnel connections",
}
_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}


def _join(words: list[str], last: str = "or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _name(value: Any) -> str:
    if isinstance(value, Wildcard):
        return f"matching {value.pattern}"
    return str(value)


def _when(bound: TimeBound) -> str:
    at = bound.at
    if isinstance(at, RelativeTime):
        if at.amount == 0:
            return "now"
        n = -at.amount
        return f"{n} {_UNIT_WORDS[at.unit]}{'s' if n != 1 else ''} ago"
    assert isinstance(at, dt.datetime)
    text = at.strftime("%Y-%m-%d %H:%M")
    if at.second or at.microsecond:
        text = at.strftime("%Y-%m-%d %H:%M:%S")
    return text + " UTC"


def _time_phrase(lower: TimeBound | None, upper: TimeBound | None) -> str | None:
    if lower and upper:
        return f"that started between {_when(lower)} and {_when(upper)}"
    if lower:
        at = lower.at
        if isinstance(at, RelativeTime) and at.amount < 0:
            n = -at.amount
            span = f"{n} {_UNIT_WORDS[at.unit]}s" if n != 1 else _UNIT_WORDS[at.unit]
            return f"that started in the last {span}"
        return f"that started at or after {_when(lower)}"
    if upper:
        return f"that started at or before {_when(upper)}"
    return None


def explain(query: Query) -> str:
    """One sentence describing ``query``."""
    expression = query.expression()
    if expression is None:
        return "All connections."
    conjuncts = list(expression.items) if isinstance(expression, And) else [expression]
    noun = "connections"
    where: list[str] = []
    who: list[str] = []
    tail: list[str] = []
    lower = upper = None
    status: str | None = None
    for node in conjuncts:
        if isinstance(node, Filter):
            values = node.values
            if node.key == "type" and noun == "connections":
                noun = _join([_TYPE_NOUNS[v] for v in values if isinstance(v, ConnectionType)])
                continue
            if node.key == "status" and status is None and len(values) == 1:
                status = "are still open" if values[0] is ConnectionStatus.ONGOING else "have ended"
                continue
            names = _join([_name(v) for v in values])
            if node.key == "workspace_owner":
                owner = "you own" if values == (Me.ME,) else None
                where.append(
                    f"in workspaces {owner}" if owner else f"in workspaces owned by {names}"
                )
            elif node.key == "workspace_owner_email":
                where.append(f"in workspaces of the user with email {names}")
            elif node.key == "username":
                who.append("by you" if values == (Me.ME,) else f"by {names}")
            elif node.key == "user_email":
                who.append(f"by the user with email {names}")
            elif node.key == "organization":
                where.append(f"in organization {names}")
            elif node.key == "workspace_id":
                where.append(f"in workspace {names}")
            elif node.key == "connection_id":
                tail.append(f"with connection id {names}")
            else:
                tail.append(f"matching {expression_to_string(node)}")
        elif isinstance(node, TimeBound) and node.is_lower and lower is None:
            lower = node
        elif isinstance(node, TimeBound) and not node.is_lower and upper is None:
            upper = node
        elif isinstance(node, Text):
            tail.append(f'mentioning "{node.text}"')
        else:
            tail.append(f"matching {expression_to_string(node)}")
    parts = [noun[0].upper() + noun[1:], *who, *where]
    clauses = [c for c in (_time_phrase(lower, upper),) if c]
    if status:
        clauses.append(("and " if clauses else "that ") + status)
    sentence = " ".join(parts + clauses)
    if tail:
        sentence += ", " + _join(tail, "and")
    return sentence + "."
