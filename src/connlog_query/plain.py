"""Extended mode's shortcut for plain ``key:value`` texts, which mean the same in both modes.

Most extended-mode queries are Coder queries: space-separated ``key:value`` terms, distinct
keys, no operators, lists, wildcards or escapes. For such a text the extended language and
Coder's agree term by term (keys and values lower-cased, the same enum, UUID, ``me`` and
RFC 3339 conversions, an empty value or the zero UUID or time meaning "no filter"), so
:func:`parse_plain` runs the Coder-mode stages, about three times faster than the LALR parse and
the extended checker. Anything else, and any text Coder mode rejects, returns ``None`` and goes
through the full extended parser, so errors are always extended mode's own.

The subset is deliberately narrow: ASCII only; keys as the extended grammar spells them;
values made of ``[A-Za-z0-9_@.+-]`` or double-quoted runs of those plus space and colon;
terms separated by spaces; every key once (Coder skips an empty first value of a repeated key,
extended mode does not). ``tests/test_plain.py`` checks with hypothesis that the shortcut and
the extended parser give the same query, fields set and value positions.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from .errors import QueryError
from .query import Query
from .syntax import split_elements
from .terms import group_terms
from .validate import build_query
from .values import FILTER_KEYS

if TYPE_CHECKING:
    from .extended import Limits

__all__ = ["PLAIN", "parse_plain"]

_TERM = r'[A-Za-z_][A-Za-z0-9_]*:(?:[A-Za-z0-9_@.+\-]+|"[A-Za-z0-9_@.+\-: ]*")'
PLAIN = re.compile(f" *(?:{_TERM}(?: +{_TERM})*)? *", re.ASCII)
"""Texts :func:`parse_plain` may answer (a full match is required)."""

_CODER_KEYS = frozenset(FILTER_KEYS)


def parse_plain(text: str, limits: Limits, now: dt.datetime | None) -> Query | None:
    """The extended-mode query of a plain text, or ``None`` to use the extended parser."""
    if len(text) > limits.max_length or PLAIN.fullmatch(text) is None:
        return None
    try:
        terms = group_terms(split_elements(text.lower()), text)
        if any(len(found) != 1 or key not in _CODER_KEYS for key, found in terms.items()):
            return None  # repeated or not Coder's (`connected:`): no Coder error to build
        if len(terms) > limits.max_terms or (len(terms) > 1 and limits.max_depth < 2):
            return None  # the extended parser reports the limit
        coder = build_query(terms, text)
    except QueryError:
        return None
    values: dict[str, Any] = coder.filters()
    if values:
        values["where"] = None  # as from_expression sets it (nothing filters: nothing is set)
    # Extended mode records where every key's value stood, even one that filters nothing.
    spans = {key: found[0].value_span for key, found in terms.items()}
    return Query._from_parsed(values, spans, now)
