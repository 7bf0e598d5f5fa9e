"""Push-down planning: split a query into what Coder's server evaluates and what is left.

Coder's endpoint understands only its own language: single values AND-ed, absolute times. An
extended query (:mod:`connlog_query.expr`) is split into

* :attr:`Plan.pushed`: the largest Coder-mode :class:`~connlog_query.query.Query` implied by
  it — every top-level conjunct that is one exact value of a key not already used, and the
  tightest lower and upper time bound once relative times are resolved — sent as ``q``;
* :attr:`Plan.residual`: everything else, AND-ed, evaluated locally on the returned rows.

``pushed AND residual`` means exactly the original query at the plan's ``now``. Pure: no I/O.

Example:
    >>> import datetime as dt
    >>> from connlog_query import parse
    >>> q = parse("type:ssh connected:>=-24h (username:bob OR dev)", mode="extended")
    >>> p = plan(q, now=dt.datetime(2025, 7, 2, tzinfo=dt.timezone.utc))
    >>> p.q
    'type:ssh connected_after:"2025-07-01T00:00:00Z"'
    >>> p.residual_text
    'username:bob OR dev'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..canonical import expression_to_string, format_time
from ..expr import Expr, normalize, resolve_times
from ..query import Query

__all__ = ["Plan", "plan", "portable_text"]


@dataclass(frozen=True)
class Plan:
    """A query split into a Coder-mode part for the server and a residual filter.

    Attributes:
        query: The query as given (relative times still relative).
        pushed: What the server evaluates: a Coder-mode query (``where is None``) with
            absolute times. Empty when nothing can be pushed down.
        residual: What is filtered locally, one expression with absolute times, or ``None``
            when the server answers the whole query.
        now: The instant relative times were resolved at.
    """

    query: Query
    pushed: Query
    residual: Expr | None
    now: dt.datetime

    @property
    def q(self) -> str:
        """The ``q`` parameter sent to the server: :func:`portable_text` of :attr:`pushed`."""
        return portable_text(self.pushed)

    @property
    def residual_text(self) -> str | None:
        """The residual in extended syntax, or ``None`` when there is none."""
        return None if self.residual is None else expression_to_string(self.residual)

    @property
    def residual_query(self) -> Query | None:
        """The residual as a :class:`Query` (for a backend to compile), or ``None``."""
        return None if self.residual is None else Query.from_expression(self.residual)

    @property
    def pushes_nothing(self) -> bool:
        """True when the query filters but no part of it reaches the server: every row of
        the deployment is fetched and filtered locally. (An empty query is not such a case:
        it asks for every row itself.)"""
        return self.residual is not None and self.pushed.is_empty

    @property
    def has_relative_times(self) -> bool:
        """True when the query held times relative to now, resolved at :attr:`now`."""
        expression = self.query.expression()
        return expression is not None and resolve_times(expression, self.now) != expression

    @property
    def is_exact(self) -> bool:
        """True when the server answers the whole query (no residual): its count is ours."""
        return self.residual is None

    def describe(self) -> str:
        """A few lines saying what is sent as ``q`` and what is filtered locally."""
        q = self.q
        lines = [f"Sent to the server as q: {q if q else '(empty: every row)'}"]
        if self.residual is None:
            lines.append("Filtered locally: nothing (the server evaluates the whole query).")
        else:
            lines.append(f"Filtered locally: {self.residual_text}")
            if self.pushes_nothing:
                lines.append(
                    "Warning: no part of this query can be pushed down to Coder's server; "
                    "every connection log is fetched and filtered locally, which may be slow."
                )
            else:
                lines.append(
                    "Only rows matching q are fetched; those failing the local filter are "
                    "dropped, so counts are exact only once every page has been read."
                )
        if self.has_relative_times:
            when = format_time(self.now).strip('"')  # format_time quotes for Coder's syntax
            lines.append(f"Relative times resolved at {when}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


_EXTENDED_MARKS = frozenset("*,()")


def _portable_term(key: str, value: object) -> str:
    term = Query.model_validate({key: value}).to_string(mode="coder")
    plain = type(value) is str and '"' not in value and "\\" not in value
    if plain and any(ch in _EXTENDED_MARKS for ch in str(value)) and not term.endswith('"'):
        return f'{key}:"{value}"'
    return term


def portable_text(query: Query) -> str:
    """Coder's canonical text of a Coder-mode ``query``, with values holding ``*``, ``,``,
    ``(`` or ``)`` double-quoted.

    Coder strips the quotes, so it reads the same query; the reference server in extended
    mode reads a quoted value literally, where a bare one would be a wildcard or a list. A
    value that also holds ``"`` or ``\\`` has no spelling both read alike and stays
    canonical.
    """
    return " ".join(_portable_term(key, value) for key, value in query.filters().items())


def _current_time(query: Query, now: dt.datetime | None) -> dt.datetime:
    if now is not None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware (e.g. tzinfo=datetime.timezone.utc)")
        return now.astimezone(dt.timezone.utc)
    parse_time = query._now  # the clock given to parse(), if any
    if parse_time is not None:
        return parse_time.astimezone(dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def plan(query: Query, *, now: dt.datetime | None = None) -> Plan:
    """Split ``query`` into the part Coder's server can evaluate and a local residual.

    Args:
        query: Any query, Coder-mode or extended.
        now: The instant relative times resolve at (default: the ``now`` given to
            :func:`~connlog_query.parse`, else the current UTC time).

    Returns:
        The :class:`Plan`. A Coder-mode query is pushed whole, unchanged.

    Raises:
        TypeError: ``query`` is not a :class:`~connlog_query.query.Query`.
        ValueError: ``now`` is naive.
    """
    if not isinstance(query, Query):
        raise TypeError(f"query must be a connlog_query.Query, not {type(query).__name__}")
    when = _current_time(query, now)
    if query.where is None:
        return Plan(query, query, None, when)
    expression = normalize(resolve_times(query.expression(), when))
    # from_expression already moves exactly the conjuncts Coder can express into the typed
    # fields (one exact value per key, the first in normal order; the tightest absolute
    # bounds, since the normal form of an AND keeps only those); the rest stays in `where`.
    split = Query.from_expression(expression)
    pushed = split.model_copy(update={"where": None})
    return Plan(query, pushed, split.where, when)
