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
