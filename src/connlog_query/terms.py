"""Stage 2, elements -> terms: Coder's grouping and colon rules (``coderd/searchquery``).

Elements containing a ``:`` anywhere are processed in order; all other elements (bare words)
are joined into one ``search`` element placed after them. The first element that starts or
ends with ``:``, or splits into more than two parts, produces Coder's single error and stops
everything else, exactly as Coder does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .errors import QueryError, ValidationError
from .gocompat import go_lower, go_quote
from .syntax import KEY_VALUE, Element

__all__ = ["Term", "group_terms"]

SEARCH_KEY = "search"

_key_value = KEY_VALUE.fullmatch


class Term(NamedTuple):
    """One ``key:value`` occurrence (or the joined bare words, key ``search``).

    ``value`` has Coder's quote stripping applied; spans are offsets into the query text.
    """

    key: str
    value: str
    span: tuple[int, int]
    key_span: tuple[int, int]
    value_span: tuple[int, int]


def group_terms(elements: Sequence[Element], text: str) -> dict[str, list[Term]]:
    """Coder's multi-map of key -> values, in first-appearance order of keys.

    Raises:
        QueryError: Coder's single colon-rule error (field ``q``).
    """
    terms: dict[str, list[Term]] = {}
    bare: list[Element] = []
    for element in elements:
        raw, start, end = element
        if ":" not in raw:
            bare.append(element)
            continue
        span = (start, end)
        # Coder tests the raw text, quotes included: `a:"b:` ends with ':'.
        if raw[0] == ":" or raw[-1] == ":":
            detail = f"Query element {go_quote(raw)} cannot start or end with ':'"
            raise QueryError([ValidationError("q", detail, span, _colon_hint(element))], text)
        pair = _key_value(raw)
        if pair is not None:
            key_start, key_end = pair.span(1)
            value_start, value_end = pair.span(2)
            term = Term(
                go_lower(pair.group(1).strip('"')),
                pair.group(2).strip('"'),
                span,
                (start + key_start, start + key_end),
                (start + value_start, start + value_end),
            )
            found = terms.get(term.key)
            if found is None:
                terms[term.key] = [term]
            else:
                found.append(term)
            continue
        parts = element.segments
        if len(parts) > 2:
            detail = f"Query element {go_quote(raw)} can only contain 1 ':'"
            raise QueryError([ValidationError("q", detail, span, _colon_hint(element))], text)
        # One segment: a colon only inside quotes. Coder keeps the raw text, quotes included.
        terms.setdefault(SEARCH_KEY, []).append(Term(SEARCH_KEY, raw, span, span, span))
    if bare:
        first = bare[0]
        joined = " ".join(element.raw for element in bare)
        span = (first.start, first.end)
        terms.setdefault(SEARCH_KEY, []).append(Term(SEARCH_KEY, joined, span, span, span))
    return terms


def _colon_hint(element: Element) -> str:
    raw = element.raw
    stripped = raw.strip(":")
    leading, trailing = raw.startswith(":"), raw.endswith(":")
    if leading and not trailing and stripped:
        return f"a key is missing before ':'; write key:{stripped}"
    if trailing and not leading and stripped:
        return f"a value is missing after ':'; write {stripped}:value, or remove the element"
    parts = element.segments
    if len(parts) > 2:
        key = parts[0].unquoted
        rest = raw[parts[1].start - element.start :]
        return f"a value containing ':' must be double-quoted: {key}:\"{rest}\""
    return "every element must have the form key:value"
