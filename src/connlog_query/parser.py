"""The front door: ``parse(text)`` runs the stages text -> elements -> terms -> Query.

Each stage lives in its own module (``syntax``, ``terms``, ``validate``); this module only
chains them, lower-cases the text the way Coder does, and guarantees that nothing but
:class:`~connlog_query.errors.QueryError` escapes for any input string.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Literal

from .errors import QueryError, ValidationError
from .gocompat import go_lower
from .query import Query
from .syntax import split_elements
from .terms import group_terms
from .validate import build_query

if TYPE_CHECKING:
    from .extended import Limits

__all__ = ["Mode", "parse"]

Mode = Literal["coder", "extended"]
"""Query dialects: ``"coder"`` is exactly Coder's language; ``"extended"`` adds boolean logic,
value lists, free text, wildcards and relative times."""


def parse(
    text: str,
    *,
    mode: Mode = "coder",
    now: dt.datetime | None = None,
    tz: dt.tzinfo | None = None,
    limits: Limits | None = None,
) -> Query:
    """Parse and validate a connection-log search query as Coder's server does.

    Args:
        text: The search string (the ``q`` URL parameter, already URL-decoded).
        mode: ``"coder"``: Coder's language, byte-compatible errors. ``"extended"``: the
            superset described in the docs (negation, OR, groups, lists, free text,
            wildcards, dates and relative times).
        now: The clock for relative times (extended mode): used by ``query.resolve()`` and
            ``query.warnings``; relative times stay relative in the query itself.
        tz: Time zone of date-only values (extended mode); UTC when not given.
        limits: Bounds on length, nesting, terms and list sizes (extended mode).

    Returns:
        The validated, frozen :class:`Query`.

    Raises:
        QueryError: every problem found, with Coder's ``{field, detail}``, positions into
            ``text`` and hints. ``str(err)`` draws carets under them.
        TypeError: ``text`` is not a string.
        ValueError: ``mode`` is not a known mode.

    Example:
        >>> parse('USERNAME:Alice status:ongoing').username
        'alice'
    """
    if not isinstance(text, str):
        raise TypeError(f"query text must be str, not {type(text).__name__}")
    if mode not in ("coder", "extended"):
        raise ValueError(f"unknown mode {mode!r}; expected 'coder' or 'extended'")
    if now is not None or len(text) > _CACHE_MAX_TEXT:
        outcome = _parse_uncached(text, mode, now, tz, limits)
    else:
        # Servers see the same query text again and again; the result is immutable.
        outcome = _parse_cached(text, mode, tz, limits)
    if isinstance(outcome, QueryError):
        raise QueryError(outcome.errors, outcome.text, outcome.message)
    return outcome


_CACHE_MAX_TEXT = 4096


@functools.lru_cache(maxsize=1024)
def _parse_cached(
    text: str, mode: Mode, tz: dt.tzinfo | None, limits: Limits | None
) -> Query | QueryError:
    return _parse_uncached(text, mode, None, tz, limits)


def _parse_uncached(
    text: str, mode: Mode, now: dt.datetime | None, tz: dt.tzinfo | None, limits: Limits | None
) -> Query | QueryError:
    try:
        _check_unicode(text)
        if mode == "extended":
            return _parse_extended(text, now=now, tz=tz, limits=limits)
        return _parse_coder(text)
    except QueryError as exc:
        return exc


def _parse_coder(text: str) -> Query:
    lowered = go_lower(text)
    try:
        elements = split_elements(lowered)
        return build_query(group_terms(elements, text), text)
    except QueryError as exc:
        if exc.text != text:
            raise QueryError(exc.errors, text, exc.message) from None
        raise
    except RecursionError:
        raise QueryError(
            [ValidationError("q", "Query is too deeply nested to parse.", (0, len(text)))], text
        ) from None


def _parse_extended(
    text: str, *, now: dt.datetime | None, tz: dt.tzinfo | None, limits: Limits | None
) -> Query:
    from .extended import DEFAULT_LIMITS, parse_expression
    from .plain import parse_plain

    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be timezone-aware")
    plain = parse_plain(text, limits or DEFAULT_LIMITS, now)
    if plain is not None:
        return plain
    try:
        expression, spans = parse_expression(
            text, limits=limits or DEFAULT_LIMITS, tz=tz or dt.timezone.utc
        )
    except RecursionError:
        raise QueryError(
            [ValidationError("q", "Query is too deeply nested to parse.", (0, len(text)))], text
        ) from None
    return Query._from_expression(expression, validate=False, spans=spans, now=now)


def _check_unicode(text: str) -> None:
    """Reject lone surrogates: no HTTP request can carry them and no model can hold them."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QueryError(
            [
                ValidationError(
                    "q",
                    f"Query text is not valid Unicode: lone surrogate at position {exc.start}.",
                    (exc.start, exc.end),
                )
            ],
            text,
        ) from None
