"""Errors of the query language: one :class:`QueryError` carrying every :class:`ValidationError`.

Hierarchy::

    Exception
     └── QueryError            every problem found in one query, Coder's {field, detail} list
          (.errors: tuple[ValidationError, ...])

A :class:`ValidationError` is Coder's ``{field, detail}`` pair, byte for byte, plus what Coder
does not give: the span of the offending text and a hint. ``QueryError.to_response()`` is the
exact JSON body Coder answers with (HTTP 400), and ``QueryError.render(text)`` draws a caret
under each span.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["INVALID_QUERY_MESSAGE", "QueryError", "ValidationError", "render_errors"]

INVALID_QUERY_MESSAGE = "Invalid connection search query."
"""Coder's ``message`` for a 400 caused by the search query."""


@dataclass(frozen=True, slots=True)
class ValidationError:
    """One problem in a query: Coder's ``{field, detail}`` plus a position and a hint.

    Attributes:
        field: Coder's field name: the search key, ``q`` for whole-element problems, or
            ``search`` for bare words.
        detail: Coder's exact error text.
        span: ``(start, end)`` character offsets into the original query text, or ``None``
            when the problem has no place in the text (for example an organization that a
            resolver could not find when the query was built in code).
        hint: A suggestion for fixing it ("did you mean ..."), or ``None``.
    """

    field: str
    detail: str
    span: tuple[int, int] | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Coder's wire shape ``{"field": ..., "detail": ...}``."""
        return {"field": self.field, "detail": self.detail}


class QueryError(Exception):
    """A query could not be parsed or validated; ``errors`` lists every problem found.

    Args:
        errors: The problems, in Coder's order.
        text: The query text the spans point into, used by ``str(err)`` to draw carets.
        message: Coder's response ``message`` (``Invalid connection search query.``).
    """

    errors: tuple[ValidationError, ...]
    text: str | None
    message: str

    def __init__(
        self,
        errors: Iterable[ValidationError],
        text: str | None = None,
        message: str = INVALID_QUERY_MESSAGE,
    ) -> None:
        self.errors = tuple(errors)
        self.text = text
        self.message = message
        self._rendered: str | None = None
        super().__init__(self.message, self.errors)

    def to_response(self) -> dict[str, Any]:
        """Coder's HTTP 400 body: ``{"message": ..., "validations": [{field, detail}, ...]}``."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["validations"] = [e.to_dict() for e in self.errors]
        return body

    def render(self, text: str | None = None) -> str:
        """Every error with the query line, a caret under its span and its hint."""
        return render_errors(self.errors, self.text if text is None else text)

    def __str__(self) -> str:
        if self._rendered is None:
            self._rendered = self.render()
        return self._rendered

    def __repr__(self) -> str:
        return f"QueryError({list(self.errors)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.text, self.message))


def _width(text: str) -> int:
    """Terminal columns taken by ``text`` (wide East Asian characters take two)."""
    # Imported here: only rendering needs it, and loading the extension module is not free.
    import unicodedata

    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _printable_line(line: str) -> str:
    # Tabs and control characters would shift the caret; show them as single visible cells.
    # "\ufffd" rather than a \N{...} name: compiling a named escape imports unicodedata.
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in line)


def _caret_block(text: str, span: tuple[int, int]) -> list[str]:
    start, end = span
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    caret_end = min(end, line_end)
    pad = _width(_printable_line(text[line_start:start]))
    marks = max(1, _width(_printable_line(text[start:caret_end])))
    prefix = "  "
    out = [prefix + _printable_line(line), prefix + " " * pad + "^" * marks]
    if text.count("\n"):
        lineno = text.count("\n", 0, start) + 1
        out.insert(0, f"  line {lineno}, column {start - line_start + 1}:")
    return out


def render_errors(errors: Sequence[ValidationError], text: str | None) -> str:
    """Render ``errors`` against ``text`` as readable lines (used by ``QueryError.render``)."""
    if not errors:
        return INVALID_QUERY_MESSAGE
    blocks: list[str] = []
    for err in errors:
        lines = [f"error: {err.field}: {err.detail}"]
        if text is not None and err.span is not None:
            lines.extend(_caret_block(text, err.span))
        if err.hint:
            lines.append(f"  hint: {err.hint}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
