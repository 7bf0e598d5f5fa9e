"""The front door: ``parse(text)`` runs the stages text -> elements -> terms -> Query.

Each stage lives in its own module (``syntax``, ``terms``, ``validate``); this module only
chains them, lower-cases the text the way Coder does, and guarantees that nothing but
:class:`~connlog_query.errors.QueryError` escapes for any input string.
"""

from __future__ import annotations

from typing import Literal

from .errors import QueryError, ValidationError
from .gocompat import go_lower
from .query import Query
from .syntax import split_elements
from .terms import group_terms
from .validate import build_query

__all__ = ["Mode", "parse"]

Mode = Literal["coder"]
"""Query dialects: ``"coder"`` is exactly Coder's language."""


def parse(text: str, *, mode: Mode = "coder") -> Query:
    """Parse and validate a connection-log search query as Coder's server does.

    Args:
        text: The search string (the ``q`` URL parameter, already URL-decoded).
        mode: ``"coder"``: Coder's language, byte-compatible errors.

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
    if mode != "coder":
        raise ValueError(f"unknown mode {mode!r}; expected 'coder'")
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
