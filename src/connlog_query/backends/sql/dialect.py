"""The dialect knobs of the SQL backend: placeholder, identifier quoting and value adapters.

A :class:`Dialect` is everything that differs between databases in the generated SQL and in how
values are bound and read back. Each concrete dialect lives in its own small module
(``postgresql``, ``sqlite``, ``mysql``) and only overrides these hooks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ColumnKind", "Dialect"]

ColumnKind = Literal["uuid", "timestamp", "text", "int", "bool", "ip"]
"""Logical kind of a stored value, which decides how it is bound and decoded."""

UTC = dt.timezone.utc


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

    def load_timestamp(self, value: Any) -> dt.datetime:
        """Decode a fetched timestamp (default: a datetime, naive meaning UTC)."""
        if isinstance(value, str):
            return as_utc(dt.datetime.fromisoformat(value))
        if not isinstance(value, dt.datetime):
            raise TypeError(f"cannot read a timestamp from {type(value).__name__}")
        return as_utc(value)
