"""Extended mode, text -> expression: the Lark grammar ``extended.lark`` and value checking.

The grammar builds raw nodes (keys, value texts and their spans) during the LALR parse; this
module then checks every key and value, collecting all errors at once as Coder mode does,
and produces :mod:`~connlog_query.expr` nodes. Syntax errors (the grammar rejects the text)
stop at the first one, which is how LALR parsing works, and are reported with their position
and a plain-language description. Limits (length, nesting depth, number of terms, values per
list) are checked while parsing, so no input can make the parser work long or deep.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import QueryError, ValidationError
from .expr import (
    MICROSECOND,
    NAME_KEYS,
    And,
    Not,
    Or,
    RelativeTime,
    Text,
    Wildcard,
    build,
    build_filter,
    build_time_bound,
)
from .gocompat import go_lower, go_quote, parse_go_uuid
from .gotime import LAYOUT, GoTimeError, TimeRangeError, parse_rfc3339nano
from .hints import enum_hint, unknown_key_hint, uuid_hint
from .lalr import REJECTED, LeanParser
from .syntax import load_grammar, parser_cache
from .values import FILTER_KEYS, ME, ConnectionStatus, ConnectionType

__all__ = ["DEFAULT_LIMITS", "EXTENDED_KEYS", "Limits", "parse_expression"]

EXTENDED_KEYS = (*FILTER_KEYS, "connected")
"""Keys of the extended language: Coder's 11 plus ``connected`` (comparisons and ranges)."""

_TIME_FORMS = (
    'an RFC 3339 time ("2025-07-01T10:00:00Z"), a date (2025-07-01), '
    "a relative time (-30m, -24h, -7d, -2w) or now"
)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one extended query may hold; exceeding one is a :class:`QueryError`."""

    max_length: int = 4096
    """Characters in the query text."""
    max_depth: int = 32
    """Nesting of parentheses and NOT."""
    max_terms: int = 128
    """Filters and free-text terms."""
    max_values: int = 64
    """Values in one ``key:a,b,c`` list."""


DEFAULT_LIMITS = Limits()
"""The limits ``parse`` applies when none are given."""


# --- raw nodes built by the grammar callbacks ---------------------------------------------------
# Named tuples: several are built per term on every parse, and a tuple is the cheapest object.


class _RawValue(NamedTuple):
    text: str
    quoted: bool
    span: tuple[int, int]


class _RawFilter(NamedTuple):
    key: str
    key_span: tuple[int, int]
    values: tuple[_RawValue, ...]
    span: tuple[int, int]
    depth: int = 1


class _RawText(NamedTuple):
    value: _RawValue
    span: tuple[int, int]
    depth: int = 1


class _RawBool(NamedTuple):
    op: str  # "and", "or", "not"
    items: tuple[Any, ...]
    span: tuple[int, int]
    depth: int = 1


class _LimitExceeded(Exception):
    def __init__(self, error: ValidationError) -> None:
        super().__init__(error.detail)
        self.error = error


def _unescape(token: Any) -> tuple[str, tuple[int, int] | None]:
    """The content of a STRING token; the span of an invalid escape, if any."""
    body = str(token)[1:-1]
    if "\\" not in body:
        return body, None
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in '"\\':
                start = token.start_pos + 1 + i
                return body, (start, start + 2)
            out.append(nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out), None


class _Builder:
    """Grammar callbacks: raw nodes with spans, counting terms and nesting as they are built."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.terms = 0
        self.bad_escape: tuple[int, int] | None = None

    def _count_term(self, span: tuple[int, int]) -> None:
        self.terms += 1
        if self.terms > self.limits.max_terms:
            self._too_many_terms(span)

    def _too_many_terms(self, span: tuple[int, int]) -> None:
        raise _LimitExceeded(
            ValidationError(
                "q",
                f"Query has more than {self.limits.max_terms} terms.",
                span,
                "split the query, or raise Limits.max_terms",
            )
        )

    def _depth(self, items: tuple[Any, ...], span: tuple[int, int]) -> int:
        depth = 1 + max(getattr(i, "depth", 1) for i in items)
        if depth > self.limits.max_depth:
            raise _LimitExceeded(
                ValidationError(
                    "q",
                    f"Query nests parentheses and NOT deeper than {self.limits.max_depth} levels.",
                    span,
                    "flatten the query, or raise Limits.max_depth",
                )
            )
        return depth

    def value(self, children: list[Any]) -> _RawValue:
        (token,) = children
        if token.type == "STRING":
            text, bad = _unescape(token)
            if bad is not None and self.bad_escape is None:
                self.bad_escape = bad
            return _RawValue(text, True, (token.start_pos, token.end_pos))
        return _RawValue(token.value, False, (token.start_pos, token.end_pos))

    def filter(self, children: list[Any]) -> _RawFilter:
        key_token, *values = children
        start = key_token.start_pos
        key_span = (start, key_token.end_pos - 1)
        span = (start, values[-1].span[1])
        self.terms += 1
        if self.terms > self.limits.max_terms:
            self._too_many_terms(span)
        if len(values) > self.limits.max_values:
            raise _LimitExceeded(
                ValidationError(
                    go_lower(str(key_token)[:-1]),
                    f"Query param {go_quote(go_lower(str(key_token)[:-1]))} has more than "
                    f"{self.limits.max_values} values.",
                    span,
                    "raise Limits.max_values",
                )
            )
        return _RawFilter(go_lower(key_token.value[:-1]), key_span, tuple(values), span)

    def text(self, children: list[Any]) -> _RawText:
        value = self.value(children)
        self._count_term(value.span)
        return _RawText(value, value.span)

    def _bool(self, op: str, items: tuple[Any, ...], span: tuple[int, int]) -> _RawBool:
        return _RawBool(op, items, span, self._depth(items, span))

    def and_expr(self, children: list[Any]) -> _RawBool:
        items = tuple(children)
        return self._bool("and", items, (items[0].span[0], items[-1].span[1]))

    def or_expr(self, children: list[Any]) -> _RawBool:
        items = tuple(children)
        return self._bool("or", items, (items[0].span[0], items[-1].span[1]))

    def not_(self, children: list[Any]) -> _RawBool:
        (item,) = children
        return self._bool("not", (item,), (max(0, item.span[0] - 4), item.span[1]))

    def neg(self, children: list[Any]) -> _RawBool:
        minus, item = children
        return self._bool("not", (item,), (minus.start_pos, item.span[1]))

    def group(self, children: list[Any]) -> Any:
        (item,) = children
        return item._replace(depth=self._depth((item,), item.span))

    def start(self, children: list[Any]) -> Any:
        return children[0] if children else None


_CURRENT: ContextVar[_Builder] = ContextVar("connlog_query_extended_builder")

_CALLBACKS = ("value", "filter", "text", "and_expr", "or_expr", "not_", "neg", "group", "start")


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """The LALR parser, built once; its callbacks use the builder of the current parse."""
    import lark

    def forward(name: str) -> Any:
        return staticmethod(lambda children: getattr(_CURRENT.get(), name)(children))

    callbacks = type("ExtendedCallbacks", (lark.Transformer,), {n: forward(n) for n in _CALLBACKS})
    return lark.Lark(
        load_grammar("extended.lark"),
        parser="lalr",
        lexer="contextual",
        transformer=callbacks(),
        cache=parser_cache("extended.lark"),
    )


@functools.lru_cache(maxsize=1)
def _lean_parser() -> LeanParser | None:
    return LeanParser.from_lark(_parser())


def _run(text: str, builder: _Builder) -> Any:
    """Parse ``text`` bottom-up with ``builder``'s callbacks (no intermediate tree).

    The lean driver runs Lark's tables first; text it rejects is parsed again by Lark, with a
    fresh builder, for Lark's exact syntax error.
    """
    import lark

    lean = _lean_parser()
    token = _CURRENT.set(builder)
    try:
        if lean is not None:
            result = lean.run(text)
            if result is not REJECTED:
                return result
            _CURRENT.set(_Builder(builder.limits))
        return _parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise QueryError([_syntax_error(text, exc)], text) from None
    finally:
        _CURRENT.reset(token)


_EXPECT_NAMES = {
    "KEY": "a key:value term",
    "WORD": "a word",
    "STRING": 'a "quoted string"',
    "BARE": "a value",
    "_LPAR": "'('",
    "LPAR": "'('",
    "_RPAR": "')'",
    "RPAR": "')'",
    "MINUS": "'-'",
    "_NOT": "NOT",
    "_AND": "AND",
    "_OR": "OR",
    "COMMA": "','",
    "$END": "the end of the query",
}


def _syntax_error(text: str, exc: Any) -> ValidationError:
    import lark

    pos = getattr(exc, "pos_in_stream", None)
    if pos is None or pos < 0:
        pos = len(text)
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        ch = text[pos] if pos < len(text) else ""
        if ch == '"':
            return ValidationError(
                "q",
                f"Unterminated quoted string starting at position {pos}.",
                (pos, len(text)),
                'close it with ", or write \\" for a quote inside the string',
            )
        if ch == ":":
            return ValidationError(
                "q",
                f"Unexpected ':' at position {pos}: a value cannot start with ':'.",
                (pos, pos + 1),
                'quote a value that starts with a colon: key:":value"',
            )
        if ch == '"' or (pos > 0 and not text[pos - 1].isspace() and ch not in "(),"):
            return ValidationError(
                "q",
                f"Unexpected {go_quote(ch)} at position {pos}.",
                (pos, pos + 1),
                'quote values that contain quotes: "a\\"b"',
            )
        return ValidationError("q", f"Unexpected {go_quote(ch)} at position {pos}.", (pos, pos + 1))
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        token = exc.token
        expected = sorted({_EXPECT_NAMES.get(t, t) for t in exc.expected if not t.startswith("__")})
        if token.type == "$END":
            span = (len(text), len(text))
            words = text.split()
            last = words[-1] if words else ""
            if last in ("AND", "OR", "NOT"):
                return ValidationError(
                    "q",
                    f"Missing a term after {last} at the end of the query.",
                    (len(text.rstrip()) - len(last), len(text.rstrip())),
                    "add a term, or quote the word to search for it",
                )
            what = "end of the query"
            pos = len(text)
        else:
            what = go_quote(str(token))
            span = (token.start_pos, token.end_pos)
            pos = token.start_pos
        hint = "expected " + " or ".join(expected) if expected else None
        if token.type == "$END" and "')'" in expected:
            return ValidationError(
                "q", "Missing ')' at the end of the query.", span, "close every '(' with ')'"
            )
        if token.type in ("_RPAR", "RPAR"):
            return ValidationError(
                "q", f"Unbalanced ')' at position {pos}.", span, "remove it or add the matching '('"
            )
        if token.type in ("_OR", "_AND"):
            return ValidationError(
                "q",
                f"{token} at position {pos} needs a term on each side.",
                span,
                "write AND/OR between two terms, or quote the word",
            )
        if token.type == "$END" and "a value" in expected:
            return ValidationError(
                "q",
                "Missing value after the last key.",
                span,
                'write key:value, or key:"" for no filter',
            )
        return ValidationError("q", f"Unexpected {what} at position {pos}.", span, hint)
    return ValidationError("q", "Query could not be parsed.", (pos, min(pos + 1, len(text))))


# --- checking raw nodes -------------------------------------------------------------------------


class _Checker:
    __slots__ = ("errors", "spans", "tz")

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self.errors: list[ValidationError] = []
        self.spans: dict[str, tuple[int, int]] = {}

    def fail(self, key: str, detail: str, span: tuple[int, int], hint: str | None = None) -> None:
        self.errors.append(ValidationError(key, detail, span, hint))

    def node(self, raw: Any) -> Any:
        """The expression for a raw node; ``None`` stands for "no filter" (always true)."""
        if isinstance(raw, _RawFilter):
            return self.filter(raw)
        if isinstance(raw, _RawText):
            if not raw.value.text:
                return None
            return build(Text, text=go_lower(raw.value.text))
        op = raw.op
        items = [self.node(item) for item in raw.items]
        if op == "not":
            (item,) = items
            return None if item is None else build(Not, item=item)
        kept = [i for i in items if i is not None]
        if op == "or" and len(kept) < len(items):
            return None  # one side is "no filter": the OR always holds
        if not kept:
            return None
        if len(kept) == 1:
            return kept[0]
        return build(And if op == "and" else Or, items=tuple(kept))

    def filter(self, raw: _RawFilter) -> Any:
        key = raw.key
        self.spans.setdefault(key, raw.values[0].span if raw.values else raw.span)
        if key not in _EXTENDED_KEY_SET:
            self.fail(
                key,
                f"{go_quote(key)} is not a valid query param",
                raw.key_span,
                unknown_key_hint(key),
            )
            return None
        values = raw.values
        if len(values) == 1:
            if values[0].text == "":
                return None  # Coder: an empty value applies no filter (only "" can be empty)
        elif any(v.text == "" for v in values):
            empty = next(v for v in values if v.text == "")
            self.fail(
                key,
                f"Query param {go_quote(key)} has an empty value in its list.",
                empty.span,
                "remove the empty value",
            )
            return None
        if key in ("connected_after", "connected_before", "connected"):
            if len(values) > 1:
                self.fail(
                    key,
                    f"Query param {go_quote(key)} takes one value, not a list.",
                    values[1].span,
                    "use OR between separate terms, or a range: connected:2025-07-01..2025-07-07",
                )
                return None
            return self.time(key, values[0])
        converted = []
        for value in values:
            item = self.convert(key, value)
            if item is not None:
                converted.append(item)
        if len(converted) != len(values):
            return None
        if key in _UUID_KEYS and len(converted) == 1 and converted[0] == _NIL_UUID:
            return None  # Coder: the all-zero UUID applies no filter
        return build_filter(key, converted)

    def convert(self, key: str, raw: _RawValue) -> Any:
        text = go_lower(raw.text)
        if key in NAME_KEYS and not raw.quoted and "*" in text:
            return build(Wildcard, pattern=text)
        if key in ("type", "status"):
            members = _ENUM_MEMBERS[key]
            member = members.get(text)
            if member is None:
                valid = list(members)
                inner = f"{go_quote(text)} is not a valid value"
                self.fail(
                    key,
                    f"Query param {go_quote(key)} has invalid value: {inner}",
                    raw.span,
                    enum_hint(text, valid),
                )
                return None
            return member
        if key in ("workspace_id", "connection_id"):
            parsed = parse_go_uuid(text)
            if parsed is None:
                self.fail(
                    key, f"Query param {go_quote(key)} must be a valid uuid", raw.span, uuid_hint()
                )
            return parsed
        if key == "organization":
            parsed = parse_go_uuid(text)
            return parsed if parsed is not None else text
        if key in ("workspace_owner", "username") and text == ME.value:
            return ME
        return text

    # --- times ---

    def time(self, key: str, raw: _RawValue) -> Any:
        text = raw.text.strip()
        if key == "connected":
            bounds = self.comparison(key, text, raw)
        else:
            op = ">=" if key == "connected_after" else "<="
            bounds = self.point(key, op, text, raw)
        if bounds is None:
            return None
        bounds = [b for b in bounds if b is not None]
        if not bounds:
            return None
        return bounds[0] if len(bounds) == 1 else build(And, items=tuple(bounds))

    def comparison(self, key: str, text: str, raw: _RawValue) -> list[Any] | None:
        for op in (">=", "<=", ">", "<"):
            if text.startswith(op):
                return self.point(key, op, text[len(op) :].strip(), raw)
        if ".." in text:
            low, _, high = text.partition("..")
            out: list[Any] = []
            if low.strip() not in ("", "*"):
                got = self.point(key, ">=", low.strip(), raw)
                if got is None:
                    return None
                out.extend(got)
            if high.strip() not in ("", "*"):
                got = self.point(key, "<=", high.strip(), raw)
                if got is None:
                    return None
                out.extend(got)
            return out
        if text == "*":
            return []
        # A plain value: the instant itself, or the whole day for a date.
        start = self.point(key, ">=", text, raw)
        end = self.point(key, "<=", text, raw) if start is not None else None
        return None if start is None or end is None else [*start, *end]

    def point(self, key: str, op: str, text: str, raw: _RawValue) -> list[Any] | None:
        """One bound ``connect_time <op> text``; a date means its whole day."""
        lowered = go_lower(text)
        relative = _relative(lowered)
        if relative is not None:
            return [build_time_bound(op, relative)]
        day = _date(lowered)
        if day is not None:
            start = dt.datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(
                dt.timezone.utc
            )
            end = start + dt.timedelta(days=1) - MICROSECOND
            at = {">=": start, ">": end, "<=": end, "<": start}[op]
            return [build_time_bound(op, at)]
        try:
            when = parse_rfc3339nano(lowered)
        except GoTimeError as exc:
            prefix = f"Query param {go_quote(key)} must be a valid date format ({LAYOUT}): "
            self.fail(key, prefix + exc.go_message, raw.span, f"use {_TIME_FORMS}")
            return None
        except TimeRangeError as exc:
            prefix = f"Query param {go_quote(key)} must be a valid date format ({LAYOUT}): "
            self.fail(
                key, prefix + str(exc), raw.span, "times must fall between years 1 and 9999 in UTC"
            )
            return None
        if when is None:
            return [None]  # Coder's zero time: no filter
        return [build_time_bound(op, when)]


_NIL_UUID = uuid.UUID(int=0)
_UUID_KEYS = frozenset({"workspace_id", "connection_id", "organization"})
_EXTENDED_KEY_SET = frozenset(EXTENDED_KEYS)
_ENUM_MEMBERS: dict[str, dict[str, Any]] = {
    "type": {member.value: member for member in ConnectionType},
    "status": {member.value: member for member in ConnectionStatus},
}
_RELATIVE = re.compile(r"-(\d{1,6})([smhdw])")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _relative(text: str) -> RelativeTime | None:
    if text == "now":
        return build(RelativeTime, amount=0, unit="s")  # type: ignore[no-any-return]
    match = _RELATIVE.fullmatch(text)
    if match is None:
        return None
    return build(RelativeTime, amount=-int(match.group(1)), unit=match.group(2))  # type: ignore[no-any-return]


def _date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _coder_error_order(error: ValidationError) -> int:
    # Known keys in Coder's parse order, then unknown keys; sorted() keeps text order within.
    try:
        return EXTENDED_KEYS.index(error.field)
    except ValueError:
        return len(EXTENDED_KEYS)


def parse_expression(
    text: str, *, limits: Limits, tz: dt.tzinfo = dt.timezone.utc
) -> tuple[Any, dict[str, tuple[int, int]]]:
    """Parse extended-mode text into a (not yet normalized) expression and value spans.

    Returns ``(None, spans)`` for a query that filters nothing.

    Raises:
        QueryError: limits, syntax (first error) or every key/value error.
    """
    if len(text) > limits.max_length:
        raise QueryError(
            [
                ValidationError(
                    "q",
                    f"Query is {len(text)} characters long; the limit is {limits.max_length}.",
                    (limits.max_length, len(text)),
                    "shorten the query, or raise Limits.max_length",
                )
            ],
            text,
        )
    builder = _Builder(limits)
    try:
        raw = _run(text, builder)
    except _LimitExceeded as exc:
        raise QueryError([exc.error], text) from None
    if builder.bad_escape is not None:
        start, end = builder.bad_escape
        raise QueryError(
            [
                ValidationError(
                    "q",
                    f"Invalid escape {go_quote(text[start:end])} at position {start}: "
                    'only \\" and \\\\ are escapes.',
                    builder.bad_escape,
                    "write \\\\ for a backslash",
                )
            ],
            text,
        )
    if raw is None:
        return None, {}
    checker = _Checker(tz=tz)
    expression = checker.node(raw)
    if checker.errors:
        raise QueryError(sorted(checker.errors, key=_coder_error_order), text)
    return expression, checker.spans
