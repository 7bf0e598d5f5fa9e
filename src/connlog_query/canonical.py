"""Stage 4a, Query -> canonical text: total, and parses back to an equal :class:`Query`.

Terms come in Coder's key order, one space apart. Values are written so that Coder's own
splitter reads them back unchanged, although Coder's language has no escapes: a value holding a
space or a colon is wrapped in double quotes, unless its inner quotes already put those
characters inside a quoted run; a value whose quotes are unbalanced gets one closing quote
(Coder strips trailing quotes). :func:`quote_value` explains the rule; :func:`expressible`
says whether a value can be written at all.
"""

from __future__ import annotations

import datetime as dt
import uuid

from .values import FILTER_KEYS, Me

__all__ = ["expressible", "format_time", "quote_value", "to_string"]


def _quote_parity_at_separators(value: str) -> set[int]:
    """Parities of the quote count before each space or colon in ``value``."""
    parities: set[int] = set()
    quotes = 0
    for ch in value:
        if ch == '"':
            quotes += 1
        elif ch in " :":
            parities.add(quotes % 2)
    return parities


def expressible(value: str) -> str | None:
    """``None`` if ``value`` can be written in Coder's language, else the reason it cannot."""
    if '"' not in value:
        return None  # only quotes can make a value inexpressible
    if value.startswith('"') or value.endswith('"'):
        return "cannot start or end with a double quote (Coder strips them)"
    if len(_quote_parity_at_separators(value)) > 1:
        return (
            "has spaces or colons on both sides of an inner double quote, which Coder's "
            "splitter cannot keep in one value"
        )
    return None


def quote_value(value: str) -> str:
    """Spell ``value`` (lower-case, non-empty, expressible) so Coder reads it back unchanged.

    Spaces and colons must sit inside a quoted run. If the inner quotes before them are even in
    number, one opening quote is added; otherwise the value's own quote already opened a run.
    If the quotes end up unbalanced, one closing quote is added, which Coder strips again.
    """
    parities = _quote_parity_at_separators(value)
    opening = '"' if parities == {0} else ""
    open_after = (len(opening) + value.count('"')) % 2
    return opening + value + ('"' if open_after else "")


def format_time(value: dt.datetime) -> str:
    """A UTC time as ``"YYYY-MM-DDTHH:MM:SS[.ffffff]Z"`` (quoted, trailing zeros trimmed)."""
    value = value.astimezone(dt.timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if len(text) < 19:
        # strftime does not zero-pad years below 1000 on every platform.
        text = f"{value.year:04d}" + text[text.index("-") :]
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return f'"{text}Z"'


def _format(value: object) -> str:
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Me):
        return value.value
    if hasattr(value, "value") and isinstance(value.value, str):  # ConnectionType / Status
        return value.value
    return quote_value(str(value))


def to_string(query: object) -> str:
    """The canonical text of ``query`` (a :class:`~connlog_query.query.Query`)."""
    parts = []
    for key in FILTER_KEYS:
        value = getattr(query, key)
        if value is not None:
            parts.append(f"{key}:{_format(value)}")
    return " ".join(parts)


# --- extended language -------------------------------------------------------------------------

_BARE_FORBIDDEN = frozenset('(),"')


def _bare_ok(value: str) -> bool:
    return (
        bool(value)
        and not value.startswith(":")
        and not any(ch.isspace() or ch in _BARE_FORBIDDEN for ch in value)
    )


def quote_extended(value: str) -> str:
    """A double-quoted extended-mode string with ``\\"`` and ``\\\\`` escapes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def extended_value(value: object) -> str:
    """One filter value in extended syntax: bare when unambiguous, else quoted."""
    from .expr import Wildcard

    if isinstance(value, Wildcard):
        return value.pattern
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, (uuid.UUID, Me)) or hasattr(value, "value"):
        return _format(value)
    text = str(value)
    # A bare '*' would be a wildcard and a bare value is not unescaped: quote those too.
    if _bare_ok(text) and "*" not in text and "\\" not in text:
        return text
    return quote_extended(text)


def _extended_text(text: str) -> str:
    plain = _bare_ok(text) and not any(ch in text for ch in ":,\\")
    if plain and not text.startswith("-") and text not in ("AND", "OR", "NOT"):
        return text
    return quote_extended(text)


def expression_to_string(node: object) -> str:
    """Extended-syntax text of one AST node (see :mod:`connlog_query.expr`)."""
    from .expr import And, Filter, Not, Or, RelativeTime, Text, TimeBound

    if isinstance(node, Filter):
        return f"{node.key}:" + ",".join(extended_value(v) for v in node.values)
    if isinstance(node, TimeBound):
        at = str(node.at) if isinstance(node.at, RelativeTime) else format_time(node.at)
        if node.op == ">=":
            return f"connected_after:{at}"
        if node.op == "<=":
            return f"connected_before:{at}"
        return f"connected:{node.op}{at}"
    if isinstance(node, Text):
        return _extended_text(node.text)
    if isinstance(node, Not):
        inner = node.item
        if isinstance(inner, (And, Or)):
            return f"NOT ({expression_to_string(inner)})"
        return "-" + expression_to_string(inner)
    if isinstance(node, And):
        return " ".join(
            f"({expression_to_string(i)})" if isinstance(i, Or) else expression_to_string(i)
            for i in node.items
        )
    if isinstance(node, Or):
        return " OR ".join(
            f"({expression_to_string(i)})" if isinstance(i, And) else expression_to_string(i)
            for i in node.items
        )
    raise TypeError(f"not an expression node: {node!r}")
