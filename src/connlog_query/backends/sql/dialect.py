"""The dialect knobs of the SQL backend: placeholder, identifier quoting, value adapters and the
text operators of extended queries.

A :class:`Dialect` is everything that differs between databases in the generated SQL and in how
values are bound and read back. Each concrete dialect lives in its own small module
(``postgresql``, ``sqlite``, ``mysql``) and only overrides these hooks.

Extended queries need three text operations whose spelling and case rules differ per database
(see :meth:`Dialect.match`, :meth:`Dialect.ascii_lower` and :meth:`Dialect.contains`). Each
dialect spells them so that the answer is the same everywhere: wildcard matches compare
case-sensitively and literally (``*`` is the only wildcard), free text folds ASCII letters only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ASCII_LOWER", "ASCII_UPPER", "LIKE_ESCAPE", "ColumnKind", "Dialect", "like_pattern"]

ColumnKind = Literal["uuid", "timestamp", "text", "int", "bool", "ip"]
"""Logical kind of a stored value, which decides how it is bound and decoded."""

UTC = dt.timezone.utc

ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""The letters free-text matching folds (and nothing else)."""
ASCII_LOWER = ASCII_UPPER.lower()
"""Their lower-case forms, position for position."""

LIKE_ESCAPE = "!"
"""The ``LIKE ... ESCAPE`` character. Not the backslash: a backslash inside a SQL string literal
is itself an escape in MariaDB (unless ``NO_BACKSLASH_ESCAPES``) and in PostgreSQL without
``standard_conforming_strings``, so ``'!'`` is the one spelling that means the same everywhere."""


def like_pattern(pattern: str) -> str:
    """A wildcard pattern (``*`` = any run of characters) as a ``LIKE`` pattern escaped with
    :data:`LIKE_ESCAPE`: ``%``, ``_`` and the escape character itself match literally."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("%")
        elif ch in ("%", "_", LIKE_ESCAPE):
            out.append(LIKE_ESCAPE + ch)
        else:
            out.append(ch)
    return "".join(out)


def as_uuid(value: Any) -> uuid.UUID:
    """``value`` as a :class:`uuid.UUID` (accepts a UUID, its string form or 16 bytes)."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return uuid.UUID(bytes=bytes(value))
    return uuid.UUID(str(value))


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def ip_text(value: Any) -> str:
    """The text form Coder shows for an ``inet`` value: the address without a prefix length."""
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return str(value.ip)
    text = str(value)
    if "/" in text:
        try:
            return str(ipaddress.ip_interface(text).ip)
        except ValueError:
            return text
    return text


@dataclass(frozen=True)
class Dialect:
    """One SQL dialect: how to write identifiers and placeholders, and how to bind values.

    Attributes:
        name: Canonical dialect name (``postgresql``, ``sqlite``, ``mysql``).
        driver: The driver whose paramstyle the placeholders follow.
        placeholder: Positional placeholder (``%s`` for psycopg 3 and PyMySQL, ``?`` for
            sqlite3); parameters are always a tuple.
        quote_char: Identifier quote (``"`` or a backtick).
    """

    name: str
    driver: str
    placeholder: str
    quote_char: str

    def quote(self, identifier: str) -> str:
        """Quote a (validated) identifier, each part of ``schema.table`` separately."""
        q = self.quote_char
        return ".".join(f"{q}{part}{q}" for part in identifier.split("."))

    def to_db(self, kind: ColumnKind, value: Any) -> Any:
        """Bind form of ``value`` for a column of ``kind`` (``None`` stays ``None``)."""
        if value is None:
            return None
        if kind == "uuid":
            return self.bind_uuid(as_uuid(value))
        if kind == "timestamp":
            return self.bind_timestamp(as_utc(value))
        if kind == "bool":
            return self.bind_bool(bool(value))
        if kind == "ip":
            return ip_text(value)
        return value

    def from_db(self, kind: ColumnKind, value: Any) -> Any:
        """Python value of a fetched column of ``kind``: UUID, aware UTC datetime, bool, str."""
        if value is None:
            return None
        if kind == "uuid":
            return as_uuid(value)
        if kind == "timestamp":
            return self.load_timestamp(value)
        if kind == "bool":
            return bool(value)
        if kind == "ip":
            return ip_text(value)
        return value

    def bind_uuid(self, value: uuid.UUID) -> Any:
        """Bind form of a UUID (default: lower-case hyphenated text)."""
        return str(value)

    def bind_timestamp(self, value: dt.datetime) -> Any:
        """Bind form of an aware UTC datetime (default: the aware datetime)."""
        return value

    def bind_bool(self, value: bool) -> Any:
        """Bind form of a boolean (default: 0/1)."""
        return int(value)

    def in_list(self, expr: str, count: int, *, negate: bool = False) -> str:
        """SQL that is true when ``expr`` equals one of ``count`` (at least two) bound values, or
        with ``negate`` none of them; ``NULL`` when ``expr`` is ``NULL``. The values are bound
        as :meth:`list_params` gives them. Default: ``expr [NOT] IN (?, ...)``, one placeholder
        per value."""
        marks = ", ".join(self.placeholder for _ in range(count))
        return f"{expr} {'NOT IN' if negate else 'IN'} ({marks})"

    def list_params(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        """The parameters of :meth:`in_list` for ``values`` (already in bind form): one per
        value by default."""
        return values

    def match_pattern(self, pattern: str) -> str:
        """The bound form of a wildcard ``pattern`` for :meth:`match` (default: ``LIKE``)."""
        return like_pattern(pattern)

    def match(self, expr: str, pattern: str) -> str:
        """SQL that is true when the text ``expr`` matches the bound ``pattern`` (a placeholder
        holding :meth:`match_pattern`), case-sensitively and character by character.

        The default is standard ``LIKE`` with :data:`LIKE_ESCAPE`; it is case-sensitive only
        where the database's ``LIKE`` is (PostgreSQL). Dialects whose ``LIKE`` follows a
        case-insensitive collation override it.
        """
        return f"{expr} LIKE {pattern} ESCAPE '{LIKE_ESCAPE}'"

    def ascii_lower(self, expr: str) -> str:
        """SQL folding the ASCII letters of ``expr`` to lower case and nothing else (free text
        compares this way on every database). The default, ``lower()``, is exact only where
        ``lower()`` folds ASCII alone (SQLite)."""
        return f"lower({expr})"

    def contains(self, haystack: str, needle: str) -> str:
        """SQL that is true when ``needle`` occurs in ``haystack``, compared case-sensitively
        (no pattern characters, so nothing needs escaping). Default: SQL's ``POSITION``."""
        return f"POSITION({needle} IN {haystack}) > 0"

    def contains_folded(self, column: str, needle: str) -> str:
        """SQL that is true when the bound ``needle`` (a placeholder holding
        :meth:`contains_param` of lower-case text) occurs in ``column`` with its ASCII letters
        folded (free text). Default: :meth:`contains` of :meth:`ascii_lower`."""
        return self.contains(self.ascii_lower(column), needle)

    def contains_param(self, text: str) -> str:
        """The bound form of free ``text`` for :meth:`contains_folded` (default: as it is)."""
        return text

    def load_timestamp(self, value: Any) -> dt.datetime:
        """Decode a fetched timestamp (default: a datetime, naive meaning UTC)."""
        if isinstance(value, str):
            return as_utc(dt.datetime.fromisoformat(value))
        if not isinstance(value, dt.datetime):
            raise TypeError(f"cannot read a timestamp from {type(value).__name__}")
        return as_utc(value)
