"""Stage 3, terms -> validated :class:`~connlog_query.query.Query`: Coder's query-param parser.

Reproduces ``coderd/httpapi/queryparams.go`` as used by the connection-log search: every known
key is parsed in Coder's order and each failure appends one error (nothing short-circuits);
then every key that was not parsed is reported as unknown. An absent key or an empty first
value means "no filter"; a key given more than once is an error and is not converted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from .errors import QueryError, ValidationError
from .gocompat import go_quote, parse_go_uuid
from .gotime import LAYOUT, GoTimeError, TimeRangeError, parse_rfc3339nano
from .hints import enum_hint, time_hint, unknown_key_hint, uuid_hint
from .query import Query
from .terms import Term
from .values import ME, ConnectionStatus, ConnectionType

__all__ = ["build_query"]

_NIL_UUID = uuid.UUID(int=0)


class _Invalid(Exception):
    """A value failed conversion; carries Coder's detail and our hint."""

    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


def _string(key: str, value: str) -> Any:
    return value


def _person(key: str, value: str) -> Any:
    return ME if value == ME.value else value


def _organization(key: str, value: str) -> Any:
    parsed = parse_go_uuid(value)
    if parsed is None:
        return value
    return None if parsed == _NIL_UUID else parsed


def _enum(enum_cls: type[ConnectionType] | type[ConnectionStatus]) -> Callable[[str, str], Any]:
    valid = {member.value: member for member in enum_cls}

    def convert(key: str, value: str) -> Any:
        member = valid.get(value)
        if member is None:
            inner = f"{go_quote(value)} is not a valid value"
            raise _Invalid(
                f"Query param {go_quote(key)} has invalid value: {inner}",
                enum_hint(value, valid),
            )
        return member

    return convert


def _uuid(key: str, value: str) -> Any:
    parsed = parse_go_uuid(value)
    if parsed is None:
        raise _Invalid(f"Query param {go_quote(key)} must be a valid uuid", uuid_hint())
    return None if parsed == _NIL_UUID else parsed


def _time(key: str, value: str) -> Any:
    prefix = f"Query param {go_quote(key)} must be a valid date format ({LAYOUT}): "
    try:
        parsed: dt.datetime | None = parse_rfc3339nano(value)
    except GoTimeError as exc:
        raise _Invalid(prefix + exc.go_message, time_hint(key, value)) from None
    except TimeRangeError as exc:
        raise _Invalid(
            prefix + str(exc), "times must fall between years 1 and 9999 in UTC"
        ) from None
    return parsed


_CONVERTERS: dict[str, Callable[[str, str], Any]] = {
    "organization": _organization,
    "workspace_owner": _person,
    "workspace_owner_email": _string,
    "type": _enum(ConnectionType),
    "username": _person,
    "user_email": _string,
    "connected_after": _time,
    "connected_before": _time,
    "workspace_id": _uuid,
    "connection_id": _uuid,
    "status": _enum(ConnectionStatus),
}


def build_query(terms: dict[str, list[Term]], text: str) -> Query:
    """Convert Coder's key -> values multi-map into a :class:`Query`, collecting every error.

    Raises:
        QueryError: every problem, known keys first (in Coder's order), then unknown keys.
    """
    errors: list[ValidationError] = []
    values: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    for key, convert in _CONVERTERS.items():
        found = terms.get(key)
        if not found or found[0].value == "":
            continue
        if len(found) > 1:
            detail = (
                f"Query param {go_quote(key)} provided more than once, found {len(found)} times."
                " Only provide 1 instance of this query param."
            )
            errors.append(
                ValidationError(
                    key, detail, found[1].span, f"keep one {key}: term and remove the rest"
                )
            )
            continue
        term = found[0]
        try:
            converted = convert(key, term.value)
        except _Invalid as exc:
            errors.append(ValidationError(key, exc.detail, term.value_span, exc.hint))
            continue
        if converted is not None:
            values[key] = converted
            spans[key] = term.value_span
    for key, found in terms.items():
        if key not in _CONVERTERS:
            detail = f"{go_quote(key)} is not a valid query param"
            errors.append(ValidationError(key, detail, found[0].key_span, unknown_key_hint(key)))
    if errors:
        raise QueryError(errors, text)
    return Query._from_parsed(values, spans)
