"""Stage 1, text -> syntax tree: the Lark grammar, loaded once, and Coder's query elements.

Only this module knows where ``connlog.lark`` lives and which Lark options apply, and it is the
single place where Lark's exceptions are turned into :class:`~connlog_query.errors.QueryError`.
Nothing after this stage imports ``lark``.

The grammar (``grammar/connlog.lark``, shipped inside the wheel) accepts every string in Coder
mode; it splits the lower-cased text into :class:`Element` objects (Coder's "query elements")
made of :class:`Segment` objects (the pieces between runs of ``:`` outside quotes), each with
its character offsets.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import QueryError, ValidationError

__all__ = ["Element", "Segment", "grammar_text", "load_grammar", "parser_cache", "split_elements"]

_GRAMMAR_NAME = "connlog.lark"


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of an element between colons: raw text (quotes kept) and its offsets."""

    raw: str
    start: int
    end: int

    @property
    def unquoted(self) -> str:
        """The text with every leading and trailing ``"`` removed, as Coder strips it."""
        return self.raw.strip('"')


@dataclass(frozen=True, slots=True)
class Element:
    """One of Coder's query elements (text between spaces outside quotes).

    ``leading_colon`` / ``trailing_colon`` say whether the raw text starts or ends with ``:``;
    ``has_colon`` whether it contains one anywhere (quoted or not), which decides whether Coder
    keeps it as its own element or joins it with the other bare words.
    """

    raw: str
    start: int
    end: int
    segments: tuple[Segment, ...]
    leading_colon: bool
    trailing_colon: bool

    @property
    def has_colon(self) -> bool:
        """True if ``:`` occurs anywhere in the raw text, even inside quotes."""
        return ":" in self.raw


def load_grammar(name: str) -> str:
    """The text of grammar file ``name``: from the installed package, else from the repository."""
    packaged = resources.files("connlog_query").joinpath("grammar").joinpath(name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # Editable installs import from src/, where the wheel's forced copy does not exist.
    repo_copy = Path(__file__).resolve().parents[2] / "grammar" / name
    return repo_copy.read_text(encoding="utf-8")


def parser_cache(name: str) -> str | bool:
    """Where Lark may cache the analysed grammar ``name``: a file in the user's cache directory.

    Building the LALR tables is most of the cost of the first parse in a process; Lark checks
    the grammar's and options' hash before it uses a cached file. The directory is the user's
    own (``$XDG_CACHE_HOME`` or ``~/.cache``), never a shared temporary directory, because the
    cache is a pickle. When it cannot be created, no cache is used.
    """
    import lark

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "connlog_query")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    return os.path.join(folder, f"{name}-lark{lark.__version__}.cache")


def grammar_text() -> str:
    """The text of ``connlog.lark`` (Coder mode)."""
    return load_grammar(_GRAMMAR_NAME)


# Segments of an element: the pieces between runs of ':' outside double quotes.
_SEGMENT = re.compile(r'(?:[^:"]|"[^"]*")+(?:"[^"]*\Z)?|"[^"]*\Z')


def _element(token: Any) -> Element:
    raw = str(token)
    start = token.start_pos
    return Element(
        raw=raw,
        start=start,
        end=token.end_pos,
        segments=tuple(
            Segment(m.group(), start + m.start(), start + m.end()) for m in _SEGMENT.finditer(raw)
        ),
        # Coder tests the raw text, quotes included: `a:"b:` ends with ':'.
        leading_colon=raw.startswith(":"),
        trailing_colon=raw.endswith(":"),
    )


def _start(children: list[Any]) -> list[Element]:
    return [_element(token) for token in children]


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """The LALR parser, built once per process, with callbacks applied during the parse."""
    import lark

    class ToElements(lark.Transformer[Any, Any]):
        start = staticmethod(_start)

    return lark.Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        maybe_placeholders=True,
        transformer=ToElements(),
        cache=parser_cache(_GRAMMAR_NAME),
    )


def split_elements(lowered: str) -> list[Element]:
    """Split already lower-cased query text into Coder's elements, with offsets.

    Raises:
        QueryError: if the grammar rejects the text (in Coder mode it accepts every string, so
            this is a safety net that turns any Lark failure into a positioned error).
    """
    import lark

    try:
        elements: list[Element] = _parser().parse(lowered)
    except lark.exceptions.LarkError as exc:
        pos = getattr(exc, "pos_in_stream", None)
        pos = len(lowered) if pos is None or pos < 0 else pos
        raise QueryError(
            [ValidationError("q", "Query could not be parsed.", (pos, min(pos + 1, len(lowered))))],
            text=lowered,
        ) from None
    return elements
