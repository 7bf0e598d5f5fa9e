"""The extended filter AST: boolean expressions over filters, free text and time bounds.

Coder's language can only AND single values; the extended language (``mode="extended"``) adds
negation, OR, groups, value lists, free text, wildcards and relative times. Its expressions are
made of these frozen pydantic nodes, told apart by ``kind``:

* :class:`Filter` – ``key`` is any of ``values`` (``type:ssh,vscode``); ``Wildcard`` values for
  names and emails.
* :class:`TimeBound` – ``connect_time`` compared with an absolute UTC time or a
  :class:`RelativeTime` (``-24h``, ``now``). Absolute bounds are always inclusive (an exclusive
  bound is moved by one microsecond, the precision of every store).
* :class:`Text` – free text: a case-insensitive substring of the workspace name, agent name or
  workspace owner's username.
* :class:`Not`, :class:`And`, :class:`Or`.

:func:`normalize` puts an expression in normal form (flattened, sorted, de-duplicated, OR of
one key merged into a value list), so two spellings of one query compare equal. Backends
compile these nodes; the typed fields of :class:`~connlog_query.query.Query` are a view of the
top-level filters that Coder's own syntax can express.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._trusted import trusted_model
from .gocompat import go_lower, parse_go_uuid
from .values import FILTER_KEYS, ME, ConnectionStatus, ConnectionType, Me

__all__ = [
    "MICROSECOND",
    "NAME_KEYS",
    "And",
    "Expr",
    "Filter",
    "FilterKey",
    "FilterValue",
    "Not",
    "Or",
    "RelativeTime",
    "Text",
    "TimeBound",
    "Wildcard",
    "build",
    "build_filter",
    "build_time_bound",
    "filters_in",
    "has_relative_time",
    "iter_nodes",
    "normalize",
    "resolve_times",
    "sort_key",
]

MICROSECOND = dt.timedelta(microseconds=1)

FilterKey = Literal[
    "organization",
    "workspace_owner",
    "workspace_owner_email",
    "type",
    "username",
    "user_email",
    "workspace_id",
    "connection_id",
    "status",
]
"""Keys a :class:`Filter` can test (every key but the two time bounds)."""

NAME_KEYS = frozenset({"workspace_owner", "workspace_owner_email", "username", "user_email"})
"""Keys whose values may be wildcards."""

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class _Node(BaseModel):
    # Schemas are built on first use: Coder-mode parsing never validates these nodes.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Wildcard(_Node):
    """A name or email pattern where ``*`` matches any run of characters (even empty).

    Every other character is literal. Compared like the exact filter it extends: names
    case-insensitively, emails exactly (the pattern is lower-case, as all query text is).
    """

    pattern: str

    @field_validator("pattern")
    @classmethod
    def _has_star(cls, value: str) -> str:
        value = go_lower(value)
        if "*" not in value:
            raise ValueError("a wildcard pattern contains at least one '*'")
        if value.startswith(":") or any(ch.isspace() or ch in '(),"' for ch in value):
            raise ValueError(
                "a wildcard pattern cannot hold white space, quotes, commas or parentheses"
            )
        return value

    def parts(self) -> list[str]:
        """The literal pieces between the stars."""
        return self.pattern.split("*")

    def matches(self, text: str) -> bool:
        """Whether ``text`` matches the pattern (``*`` = any run of characters)."""
        parts = self.parts()
        if len(parts) == 1:
            return text == parts[0]
        first, *middle, last = parts
        if not text.startswith(first) or len(text) < len(first) + len(last):
            return False
        pos = len(first)
        end = len(text) - len(last)
        for piece in middle:
            found = text.find(piece, pos, end)
            if found < 0:
                return False
            pos = found + len(piece)
        return text.endswith(last) and pos <= end

    def __str__(self) -> str:
        return self.pattern


FilterValue = uuid.UUID | ConnectionType | ConnectionStatus | Me | Wildcard | str


def _value_text(value: Any) -> str:
    if isinstance(value, (ConnectionType, ConnectionStatus, Me)):
        return str(value.value)
    return str(value)


def _convert_value(key: str, value: Any) -> Any:
    """Coerce one raw value (from JSON or code) to the type ``key`` holds."""
    if isinstance(value, dict) and "pattern" in value:
        value = Wildcard.model_validate(value)
    if key in ("workspace_id", "connection_id"):
        if isinstance(value, str):
            parsed = parse_go_uuid(value)
            if parsed is None:
                raise ValueError(f"{key} values must be UUIDs, got {value!r}")
            return parsed
        return value
    if key == "organization":
        if isinstance(value, str) and not isinstance(value, Me):
            value = go_lower(value)
            parsed = parse_go_uuid(value)
            return parsed if parsed is not None else value
        return value
    if key == "type":
        return ConnectionType(go_lower(value)) if isinstance(value, str) else value
    if key == "status":
        return ConnectionStatus(go_lower(value)) if isinstance(value, str) else value
    if isinstance(value, Wildcard):
        if key not in NAME_KEYS:
            raise ValueError(f"{key} does not take wildcards")
        return value
    if isinstance(value, str):
        value = go_lower(value)
        if key in ("workspace_owner", "username") and value == ME.value:
            return ME
        return value
    return value


class Filter(_Node):
    """``key`` equals any of ``values`` (sorted, de-duplicated, at least one)."""

    kind: Literal["filter"] = "filter"
    key: FilterKey
    values: tuple[FilterValue, ...]

    @model_validator(mode="before")
    @classmethod
    def _typed_values(cls, data: Any) -> Any:
        if isinstance(data, dict) and "key" in data and "values" in data:
            key = data["key"]
            raw = data["values"]
            if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
                raw = (raw,)
            converted = {(_value_text(v), v) for v in (_convert_value(key, item) for item in raw)}
            if not converted:
                raise ValueError("a filter needs at least one value")
            if any(text == "" for text, _ in converted):
                raise ValueError("filter values cannot be empty")
            data = {**data, "values": tuple(v for _, v in sorted(converted, key=_pair_key))}
        return data

    @property
    def is_coder_simple(self) -> bool:
        """One value, not a wildcard: expressible as a plain Coder ``key:value``."""
        return len(self.values) == 1 and not isinstance(self.values[0], Wildcard)


def _pair_key(pair: tuple[str, Any]) -> tuple[str, str]:
    return (pair[0], type(pair[1]).__name__)


def build(cls: type[Any], **fields: Any) -> Any:
    """A node of class ``cls`` from field values that are already valid, without validation.

    For code that has checked and converted every value itself (the extended-mode checker, the
    normal form): each value must already have its field's type and the form the node's
    validators would give it (``build_filter`` and ``build_time_bound`` apply those). Validation
    is most of the cost of building a node otherwise.
    """
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {
            name: info.default for name, info in cls.model_fields.items() if not info.is_required()
        }
    return trusted_model(cls, {**defaults, **fields}, set(fields), None)


_DEFAULTS: dict[type[Any], dict[str, Any]] = {}


def build_filter(key: str, values: Sequence[Any]) -> Filter:
    """A :class:`Filter` of already-converted values: de-duplicated and sorted, as validated."""
    if len(values) == 1:
        return build(Filter, key=key, values=(values[0],))  # type: ignore[no-any-return]
    unique = {(_value_text(value), value) for value in values}
    ordered = tuple(value for _, value in sorted(unique, key=_pair_key))
    return build(Filter, key=key, values=ordered)  # type: ignore[no-any-return]


class RelativeTime(_Node):
    """A time relative to "now": ``amount`` units before it (``amount`` <= 0); 0 is ``now``."""

    amount: int = Field(le=0)
    unit: Literal["s", "m", "h", "d", "w"] = "s"

    @property
    def offset(self) -> dt.timedelta:
        """The signed offset from now."""
        return dt.timedelta(seconds=self.amount * _UNIT_SECONDS[self.unit])

    def resolve(self, now: dt.datetime) -> dt.datetime:
        """The absolute UTC time this stands for at ``now``."""
        return now.astimezone(dt.timezone.utc) + self.offset

    def __str__(self) -> str:
        return "now" if self.amount == 0 else f"{self.amount}{self.unit}"


class TimeBound(_Node):
    """``connect_time <op> at``. Absolute bounds are normalized to ``>=`` / ``<=`` in UTC."""

    kind: Literal["time"] = "time"
    op: Literal[">=", ">", "<=", "<"]
    at: dt.datetime | RelativeTime

    @model_validator(mode="after")
    def _normalize(self) -> TimeBound:
        if isinstance(self.at, dt.datetime):
            if self.at.tzinfo is None or self.at.utcoffset() is None:
                raise ValueError("absolute times must be timezone-aware")
            at = self.at.astimezone(dt.timezone.utc)
            op = self.op
            if op == ">":
                op, at = ">=", at + MICROSECOND
            elif op == "<":
                op, at = "<=", at - MICROSECOND
            object.__setattr__(self, "at", at)
            object.__setattr__(self, "op", op)
        return self

    @property
    def is_lower(self) -> bool:
        """True for ``>=`` / ``>`` (a start), False for an end."""
        return self.op in (">=", ">")

    @property
    def is_relative(self) -> bool:
        """True when ``at`` is relative to now."""
        return isinstance(self.at, RelativeTime)

    def resolve(self, now: dt.datetime) -> TimeBound:
        """The same bound with a relative time made absolute at ``now``."""
        if isinstance(self.at, RelativeTime):
            return TimeBound(op=self.op, at=self.at.resolve(now))
        return self

    def test(self, when: dt.datetime, now: dt.datetime | None = None) -> bool:
        """Evaluate the bound for a connect time (``now`` needed for relative bounds)."""
        at = self.at
        if isinstance(at, RelativeTime):
            if now is None:
                raise ValueError("a relative time bound needs 'now'")
            at = at.resolve(now)
        if self.op == ">=":
            return when >= at
        if self.op == ">":
            return when > at
        if self.op == "<=":
            return when <= at
        return when < at


def build_time_bound(op: str, at: dt.datetime | RelativeTime) -> TimeBound:
    """A :class:`TimeBound` without validation: aware times moved to UTC, ``>``/``<`` made
    inclusive, as validation does."""
    if isinstance(at, dt.datetime):
        at = at.astimezone(dt.timezone.utc)
        if op == ">":
            op, at = ">=", at + MICROSECOND
        elif op == "<":
            op, at = "<=", at - MICROSECOND
    return build(TimeBound, op=op, at=at)  # type: ignore[no-any-return]


class Text(_Node):
    """Free text: a case-insensitive substring of workspace name, agent name or owner name."""

    kind: Literal["text"] = "text"
    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _lower(cls, value: str) -> str:
        return go_lower(value)


class Not(_Node):
    """Negation: rows for which ``item`` does not hold."""

    kind: Literal["not"] = "not"
    item: Expr


class And(_Node):
    """Conjunction of at least two expressions."""

    kind: Literal["and"] = "and"
    items: tuple[Expr, ...] = Field(min_length=2)


class Or(_Node):
    """Disjunction of at least two expressions."""

    kind: Literal["or"] = "or"
    items: tuple[Expr, ...] = Field(min_length=2)


Expr = Annotated[Filter | TimeBound | Text | Not | And | Or, Field(discriminator="kind")]
"""Any node of the extended AST."""


_TEXT_ORDER = len(FILTER_KEYS)


def sort_key(node: Any) -> tuple[int, str]:
    """Order of terms in the normal form: Coder's key order, then the canonical text."""
    from .canonical import expression_to_string

    return (_order(node), expression_to_string(node))


_KEY_ORDER = {key: index for index, key in enumerate(FILTER_KEYS)}


def _order(node: Any) -> int:
    if isinstance(node, Filter):
        return _KEY_ORDER[node.key]
    if isinstance(node, TimeBound):
        return _KEY_ORDER["connected_after" if node.op[0] == ">" else "connected_before"]
    if isinstance(node, Text):
        return _TEXT_ORDER
    if isinstance(node, Not):
        return _order(node.item)
    if isinstance(node, (And, Or)):
        return min(_order(item) for item in node.items)
    return _TEXT_ORDER + 1


def normalize(node: Any) -> Any:
    """The normal form of an expression (equal meaning, one spelling)."""
    if isinstance(node, Not):
        inner = normalize(node.item)
        return inner.item if isinstance(inner, Not) else build(Not, item=inner)
    if isinstance(node, And):
        return _normalize_and([normalize(item) for item in node.items])
    if isinstance(node, Or):
        return _normalize_or([normalize(item) for item in node.items])
    return node


def _flatten(items: list[Any], cls: type[And] | type[Or]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        if isinstance(item, cls):
            flat.extend(item.items)
        else:
            flat.append(item)
    return flat


def _unique_sorted(items: list[Any]) -> list[Any]:
    """``items`` de-duplicated and sorted by :func:`sort_key`.

    The canonical text (the costly part of the key) only decides between items of the same
    key order, so it is computed for those alone.
    """
    from .canonical import expression_to_string

    groups: dict[int, list[Any]] = {}
    for item in items:
        groups.setdefault(_order(item), []).append(item)
    ordered: list[Any] = []
    for order in sorted(groups):
        group = groups[order]
        if len(group) == 1:
            ordered.append(group[0])
        else:
            keyed = {expression_to_string(item): item for item in group}
            ordered.extend(keyed[text] for text in sorted(keyed))
    return ordered


def _absolute_at(bound: TimeBound) -> dt.datetime:
    assert isinstance(bound.at, dt.datetime)
    return bound.at


def _normalize_and(items: list[Any]) -> Any:
    flat = _flatten(items, And)
    # Several absolute bounds on one side mean the tightest of them.
    lowers: list[TimeBound] = []
    uppers: list[TimeBound] = []
    rest: list[Any] = []
    for item in flat:
        if isinstance(item, TimeBound) and not item.is_relative:
            (lowers if item.is_lower else uppers).append(item)
        else:
            rest.append(item)
    if lowers:
        rest.append(max(lowers, key=_absolute_at))
    if uppers:
        rest.append(min(uppers, key=_absolute_at))
    unique = _unique_sorted(rest)
    return unique[0] if len(unique) == 1 else build(And, items=tuple(unique))


def _normalize_or(items: list[Any]) -> Any:
    flat = _flatten(items, Or)
    merged: dict[str, list[Any]] = {}
    rest: list[Any] = []
    for item in flat:
        if isinstance(item, Filter):
            merged.setdefault(item.key, []).extend(item.values)
        else:
            rest.append(item)
    for key, values in merged.items():
        rest.append(build_filter(key, values))
    unique = _unique_sorted(rest)
    return unique[0] if len(unique) == 1 else build(Or, items=tuple(unique))


def resolve_times(node: Any, now: dt.datetime) -> Any:
    """``node`` with every relative time made absolute at ``now``."""
    if isinstance(node, TimeBound):
        return node.resolve(now)
    if isinstance(node, Not):
        return Not(item=resolve_times(node.item, now))
    if isinstance(node, (And, Or)):
        return type(node)(items=tuple(resolve_times(item, now) for item in node.items))
    return node


def iter_nodes(node: Any) -> Iterator[Any]:
    """Every node of an expression, depth first, left to right (nothing for ``None``)."""
    if node is None:
        return
    yield node
    if isinstance(node, Not):
        yield from iter_nodes(node.item)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from iter_nodes(item)


def filters_in(node: Any) -> Iterator[Filter]:
    """Every :class:`Filter` in an expression, depth first, left to right."""
    return (item for item in iter_nodes(node) if isinstance(item, Filter))


def has_relative_time(node: Any) -> bool:
    """Whether ``node`` holds a time relative to now anywhere."""
    return any(isinstance(item, TimeBound) and item.is_relative for item in iter_nodes(node))
