"""The validated filter AST: :class:`Query`, a frozen pydantic model with one field per filter.

A ``Query`` holds values the way Coder's server sees them after parsing: strings lower-cased,
``me`` as the :data:`~connlog_query.values.ME` marker, UUIDs as :class:`uuid.UUID`, times as
timezone-aware UTC datetimes truncated to microseconds, ``type``/``status`` as enums. Values
Coder treats as "no filter" (empty string, the all-zero UUID, the zero time) are ``None``.

The same normalization runs whether the query came from text, from JSON or from code, so two
spellings of one query are equal. Source positions are kept off the fields (in a private
attribute) and take no part in equality or hashing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator

from ._trusted import trusted_model
from .canonical import expressible
from .gocompat import go_lower, parse_go_uuid
from .values import FILTER_KEYS, ME, ConnectionStatus, ConnectionType, Me

if TYPE_CHECKING:
    from . import expr as _expr
    from .expr import FilterKey

__all__ = ["GO_ZERO_TIME", "Query"]

GO_ZERO_TIME = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
"""Go's zero ``time.Time`` in UTC; as a bound it means "no filter"."""

_NIL_UUID = uuid.UUID(int=0)


def _text_value(value: str) -> str | None:
    """Lower-case like Coder; empty means no filter; reject what Coder's syntax cannot hold."""
    value = go_lower(value)
    if not value:
        return None
    reason = expressible(value)
    if reason is not None:
        raise ValueError(f"value {value!r} {reason}")
    return value


class Query(BaseModel):
    """A validated connection-log filter: every field is one of Coder's 11 search keys.

    ``None`` means the filter is not applied. ``str(query)`` is the canonical query text, which
    parses back to an equal ``Query``.

    Example:
        >>> from connlog_query import parse
        >>> q = parse('type:SSH  workspace_owner:me status:ongoing')
        >>> q.type, q.workspace_owner, q.status
        (<ConnectionType.SSH: 'ssh'>, ME, <ConnectionStatus.ONGOING: 'ongoing'>)
        >>> str(q)
        'workspace_owner:me type:ssh status:ongoing'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    organization: uuid.UUID | str | None = None
    """Organization id, or an organization name still to be resolved by a backend."""
    workspace_owner: Me | str | None = None
    """Username of the workspace owner (case-insensitive), or ``ME`` for the caller."""
    workspace_owner_email: str | None = None
    """Email of the workspace owner (compared exactly)."""
    type: ConnectionType | None = None
    """Connection type (family name or web type)."""
    username: Me | str | None = None
    """Username of the connecting user (case-insensitive), or ``ME`` for the caller."""
    user_email: str | None = None
    """Email of the connecting user (compared exactly)."""
    connected_after: dt.datetime | None = None
    """Inclusive lower bound on ``connect_time`` (UTC)."""
    connected_before: dt.datetime | None = None
    """Inclusive upper bound on ``connect_time`` (UTC)."""
    workspace_id: uuid.UUID | None = None
    """Workspace id."""
    connection_id: uuid.UUID | None = None
    """Connection id."""
    status: ConnectionStatus | None = None
    """``ongoing`` (not disconnected) or ``completed`` (disconnected)."""
    # `_expr` is bound only below this class, so pydantic leaves the annotation unresolved here
    # and resolves it when the schema is first built: the extended AST's pydantic models are
    # not created by `import connlog_query` (Coder-mode parsing never validates them).
    where: _expr.Expr | None = None
    """Extended-mode conditions that Coder's syntax cannot express, AND-ed with the fields
    above (always ``None`` for a query parsed in Coder mode)."""

    _spans: dict[str, tuple[int, int]] = PrivateAttr(default_factory=dict)
    _now: dt.datetime | None = PrivateAttr(default=None)
    # (expression,) once computed: every backend compiles the expression, often repeatedly.
    _expression: tuple[Any] | None = PrivateAttr(default=None)

    @classmethod
    def _from_parsed(
        cls,
        values: dict[str, Any],
        spans: dict[str, tuple[int, int]],
        now: dt.datetime | None = None,
    ) -> Query:
        """A query from values the parser has already converted and normalized.

        The parser produces exactly the field values validation would, and this is a hot path.
        """
        private = {"_spans": spans, "_now": now, "_expression": None}
        query: Query = trusted_model(cls, {**_NO_FILTERS, **values}, set(values), private)
        return query

    @field_validator("where", mode="after")
    @classmethod
    def _where(cls, value: Any) -> Any:
        from .expr import normalize

        return None if value is None else normalize(value)

    @field_validator("organization", mode="before")
    @classmethod
    def _organization(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = _text_value(value)
            if value is None:
                return None
            parsed = parse_go_uuid(value)
            value = parsed if parsed is not None else value
        if isinstance(value, uuid.UUID) and value == _NIL_UUID:
            return None
        return value

    @field_validator("workspace_owner", "username", mode="before")
    @classmethod
    def _person(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, Me):
            value = _text_value(value)
            if value == ME.value:
                return ME
        return value

    @field_validator("workspace_owner_email", "user_email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _text_value(value)
        return value

    @field_validator("type", "status", mode="before")
    @classmethod
    def _enum(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, (ConnectionType, ConnectionStatus)):
            return go_lower(value) or None
        return value

    @field_validator("workspace_id", "connection_id", mode="before")
    @classmethod
    def _uuid(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value:
                return None
            parsed = parse_go_uuid(value)
            if parsed is None:
                raise ValueError("must be a valid uuid")
            value = parsed
        if isinstance(value, uuid.UUID) and value == _NIL_UUID:
            return None
        return value

    @field_validator("connected_after", "connected_before", mode="after")
    @classmethod
    def _time(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware (give an offset or use UTC)")
        value = value.astimezone(dt.timezone.utc)
        if value == GO_ZERO_TIME:
            return None
        return value

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Query:
        """A copy (see pydantic); a copy with ``update`` recomputes its :meth:`expression`."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied._expression = None
        return copied

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Query):
            return self.__dict__ == other.__dict__
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __str__(self) -> str:
        return self.to_string()

    def to_string(self, mode: Literal["coder", "extended"] | None = None) -> str:
        """The canonical query text.

        ``mode=None`` gives Coder's canonical form when the query has no ``where`` part, else
        the extended normal form; ``"coder"`` insists on Coder's syntax (``ValueError`` if the
        query needs more); ``"extended"`` always gives the extended normal form.
        """
        from .canonical import expression_to_string, to_string

        if mode == "coder" or (mode is None and self.where is None):
            if self.where is not None:
                raise ValueError("this query needs the extended language; it has no Coder form")
            return to_string(self)
        expression = self.expression()
        return "" if expression is None else expression_to_string(expression)

    @classmethod
    def from_expression(cls, expression: Any) -> Query:
        """The query for an extended expression: its top-level conjuncts that Coder's syntax
        can express become the typed fields, everything else goes to ``where``."""
        return cls._from_expression(expression, validate=True)

    @classmethod
    def _from_expression(
        cls,
        expression: Any,
        *,
        validate: bool,
        spans: dict[str, tuple[int, int]] | None = None,
        now: dt.datetime | None = None,
    ) -> Query:
        """:meth:`from_expression`; ``validate=False`` for the extended parser's expressions.

        The parser's nodes hold values in exactly the form the fields validate to (no all-zero
        UUID, no zero time, no empty text), and the parts of a normal form are in normal form,
        so the query is built without validating them again (``tests/test_extended.py``
        checks that validation would change nothing). ``spans`` and ``now`` are the parser's,
        kept in the query's private state.
        """
        from .expr import And, Filter, TimeBound, build, normalize

        expression = None if expression is None else normalize(expression)
        if expression is None:
            return cls._from_parsed({}, spans or {}, now)
        conjuncts = list(expression.items) if isinstance(expression, And) else [expression]
        fields: dict[str, Any] = {}
        rest: list[Any] = []
        for node in conjuncts:
            if isinstance(node, Filter) and node.is_coder_simple and node.key not in fields:
                value = node.values[0]
                if not isinstance(value, str) or isinstance(value, Me) or not expressible(value):
                    fields[node.key] = value
                    continue
            elif isinstance(node, TimeBound) and isinstance(node.at, dt.datetime):
                key = "connected_after" if node.is_lower else "connected_before"
                if key not in fields and node.at != GO_ZERO_TIME:
                    fields[key] = node.at
                    continue
            rest.append(node)
        if not validate:
            fields["where"] = (
                None if not rest else rest[0] if len(rest) == 1 else build(And, items=tuple(rest))
            )
            return cls._from_parsed(fields, spans or {}, now)
        where = None if not rest else rest[0] if len(rest) == 1 else And(items=tuple(rest))
        return cls(**fields, where=where)

    def expression(self) -> Any:
        """The whole query as one extended expression (``None`` when it filters nothing)."""
        if self._expression is None:
            self._expression = (self._build_expression(),)
        return self._expression[0]

    def _build_expression(self) -> Any:
        from .expr import And, Filter, TimeBound, normalize

        # The typed fields hold validated, normalized values with one node per key, already in
        # the normal form's order; only a `where` part needs the general normalization.
        nodes: list[Any] = []
        for key, value in self.filters().items():
            if key == "connected_after":
                nodes.append(TimeBound.model_construct(op=">=", at=value))
            elif key == "connected_before":
                nodes.append(TimeBound.model_construct(op="<=", at=value))
            else:
                nodes.append(Filter.model_construct(key=cast("FilterKey", key), values=(value,)))
        if self.where is not None:
            nodes.append(self.where)
            return normalize(nodes[0] if len(nodes) == 1 else And(items=tuple(nodes)))
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else And.model_construct(items=tuple(nodes))

    @property
    def is_coder(self) -> bool:
        """True when Coder's own syntax can express the query (no ``where`` part)."""
        return self.where is None

    @property
    def is_relative(self) -> bool:
        """True when the query holds times relative to now (see :meth:`resolve`)."""
        from .expr import has_relative_time

        return self.where is not None and has_relative_time(self.where)

    def resolve(self, now: dt.datetime | None = None) -> Query:
        """The absolute query: relative times made absolute at ``now`` (default: the ``now``
        given to :func:`~connlog_query.parse`, else the current time)."""
        from .expr import resolve_times

        if self.where is None:
            return self
        when = now or self._now or dt.datetime.now(dt.timezone.utc)
        return Query.from_expression(resolve_times(self.expression(), when))

    def filters(self) -> dict[str, Any]:
        """The active typed filters as ``{key: value}``, in Coder's key order (``where`` aside)."""
        return {key: value for key in FILTER_KEYS if (value := getattr(self, key)) is not None}

    def span(self, key: str) -> tuple[int, int] | None:
        """Where the value of ``key`` stood in the parsed text, if the query came from text."""
        return self._spans.get(key)

    @property
    def warnings(self) -> tuple[Any, ...]:
        """:class:`~connlog_query.lint.QueryWarning` s for parts that can never match or
        mislead (relative times judged at the parse-time ``now``, else the current time)."""
        from .lint import warnings_for

        return warnings_for(self, self._now)

    def explain(self) -> str:
        """One English sentence saying what the query selects."""
        from .explain import explain

        return explain(self)

    @property
    def is_empty(self) -> bool:
        """True when no filter is applied (the query matches every row)."""
        return not self.filters() and self.where is None


_NO_FILTERS: dict[str, Any] = dict.fromkeys(Query.model_fields)


class _LazyExprModule:
    """:mod:`connlog_query.expr`, imported on first attribute access (see ``Query.where``)."""

    def __getattr__(self, name: str) -> Any:
        from . import expr

        return getattr(expr, name)


if not TYPE_CHECKING:
    _expr = _LazyExprModule()
