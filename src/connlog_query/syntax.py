"""Stage 1, text -> syntax tree: the Lark grammar and Coder's query elements.

Only this module knows where ``connlog.lark`` lives and which Lark options apply, and it is the
single place where Lark's exceptions are turned into :class:`~connlog_query.errors.QueryError`.
Nothing after this stage imports ``lark``.

The grammar (``grammar/connlog.lark``, shipped inside the wheel) accepts every string in Coder
mode; it splits the lower-cased text into :class:`Element` objects (Coder's "query elements")
made of :class:`Segment` objects (the pieces between runs of ``:`` outside quotes), each with
its character offsets.

How the grammar runs. ``connlog.lark`` is a flat sequence of one terminal (``start: ELEMENT*``
with ``%ignore``d spaces): its LALR table has no decision to make, so Lark's per-call parser
driver (about 15 µs for a one-term query, two thirds of a whole parse; see
``benchmarks/peers.py``) buys nothing. :func:`derive_scanner` has Lark analyse the grammar,
checks that it has that flat shape, and takes the scanner Lark builds from its terminals (one
alternation of named groups, in Lark's terminal order). That table is generated into
``_coder_scanner.py`` by ``python grammar/build_scanner.py``, so a process that only parses
Coder-mode text never imports ``lark``. The table records a checksum of the grammar text; if the
shipped grammar no longer matches it (someone edited ``connlog.lark``), the table is derived
from the grammar with Lark at run time instead, and if the grammar stops being flat, Lark's
LALR parser runs every call (:func:`split_elements_lalr`). The test suite checks the table is
current and that the scanner and the LALR parse agree on every string.
"""

from __future__ import annotations

import functools
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .errors import QueryError, ValidationError

__all__ = [
    "KEY_VALUE",
    "Element",
    "ScannerTable",
    "Segment",
    "derive_scanner",
    "grammar_checksum",
    "grammar_text",
    "load_grammar",
    "parser_cache",
    "split_elements",
    "split_elements_lalr",
]

_GRAMMAR_NAME = "connlog.lark"
_LARK_OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "basic", "maybe_placeholders": True}


class Segment(NamedTuple):
    """A run of an element between colons: raw text (quotes kept) and its offsets."""

    raw: str
    start: int
    end: int

    @property
    def unquoted(self) -> str:
        """The text with every leading and trailing ``"`` removed, as Coder strips it."""
        return self.raw.strip('"')


class Element(NamedTuple):
    """One of Coder's query elements (text between spaces outside quotes).

    ``segments`` are the pieces between runs of ``:`` outside quotes. Only elements that
    contain a ``:`` need them (the others are bare words), so they are split when asked for,
    on each access.
    """

    raw: str
    start: int
    end: int

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The pieces of the raw text between runs of ``:`` outside double quotes."""
        start = self.start
        return tuple(
            Segment(m.group(), start + m.start(), start + m.end())
            for m in _SEGMENT.finditer(self.raw)
        )


# Segments of an element: the pieces between runs of ':' outside double quotes. The nested
# quantifier is safe here because nothing after the group can fail, so a match never backtracks.
_SEGMENT = re.compile(r'(?:[^:"]+|"[^"]*")+(?:"[^"]*\Z)?|"[^"]*\Z')
# An element of exactly two segments (the usual key:value), in one match: a segment cannot
# contain ':' outside quotes, so the first group ends at the first run of ':' and the second
# must be the whole rest, which is exactly when the general split finds two segments. This
# match does fail (three segments), so each segment is written "unrolled": every character
# can be matched one way only, and failing takes linear time, not exponential.
_UNROLLED_SEGMENT = r'(?:[^:"]+(?:"[^"]*"[^:"]*)*|(?:"[^"]*"[^:"]*)+)(?:"[^"]*\Z)?|"[^"]*\Z'
KEY_VALUE = re.compile(f"({_UNROLLED_SEGMENT}):+({_UNROLLED_SEGMENT})")


def load_grammar(name: str) -> str:
    """The text of grammar file ``name``: from the installed package, else from the repository."""
    packaged = Path(__file__).resolve().parent / "grammar" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # Editable installs import from src/, where the wheel's forced copy does not exist.
    repo_copy = Path(__file__).resolve().parents[2] / "grammar" / name
    if repo_copy.is_file():
        return repo_copy.read_text(encoding="utf-8")
    # Only a package imported from a zip archive gets here; importlib.resources reads it.
    from importlib import resources

    packaged_file = resources.files("connlog_query").joinpath("grammar").joinpath(name)
    return packaged_file.read_text(encoding="utf-8")


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


def grammar_checksum(text: str) -> int:
    """CRC-32 of a grammar's text: detects an edited grammar (the table ships beside it)."""
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class ScannerTable:
    """What Lark derives from a flat grammar to scan it: one regular expression.

    ``pattern`` is the alternation of the grammar's terminals as named groups, in the order
    Lark's basic lexer tries them; a match whose group is ``element`` is an element, one whose
    group is among ``ignore`` is skipped, exactly as Lark's ``%ignore`` does.
    """

    grammar_checksum: int
    lark_version: str
    pattern: str
    flags: int
    element: str
    ignore: tuple[str, ...]


class GrammarShapeError(ValueError):
    """The grammar is not a flat sequence of one terminal, so it cannot run as a scanner."""


def derive_scanner(text: str) -> ScannerTable:
    """Have Lark analyse grammar ``text`` and return the scanner of its single terminal.

    Raises:
        GrammarShapeError: the grammar is not ``start: TERMINAL*`` plus ``%ignore`` terminals.
    """
    import lark

    analysed = lark.Lark(text, **_LARK_OPTIONS, cache=parser_cache(_GRAMMAR_NAME))
    ignore = tuple(analysed.lexer_conf.ignore)
    element = _flat_terminal(analysed)
    if {t.name for t in analysed.terminals} != {element, *ignore}:
        raise GrammarShapeError("the grammar has terminals other than the element and %ignore")
    # The order of Lark's BasicLexer, which tries the first alternative that matches.
    terminals = sorted(
        analysed.terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
    return ScannerTable(
        grammar_checksum=grammar_checksum(text),
        lark_version=lark.__version__,
        pattern=pattern,
        flags=int(analysed.options.g_regex_flags),
        element=element,
        ignore=ignore,
    )


def _flat_terminal(analysed: Any) -> str:
    """The terminal T of a grammar whose rules are exactly Lark's expansion of ``start: T*``."""
    rules: dict[str, list[list[Any]]] = {}
    for rule in analysed.rules:
        if rule.alias or rule.options.keep_all_tokens or rule.options.expand1:
            raise GrammarShapeError(f"rule {rule.origin.name} has options that shape the tree")
        rules.setdefault(rule.origin.name, []).append(list(rule.expansion))
    start = sorted(rules.get("start", []), key=len)
    if len(rules) != 2 or len(start) != 2 or start[0] or len(start[1]) != 1:
        raise GrammarShapeError("the start rule is not a repetition of one terminal")
    star = start[1][0]
    expansions = sorted(rules.get(star.name, []), key=len)
    if (
        star.is_term
        or len(expansions) != 2
        or len(expansions[0]) != 1
        or not expansions[0][0].is_term
        or expansions[1] != [star, expansions[0][0]]
    ):
        raise GrammarShapeError("the start rule is not a repetition of one terminal")
    return str(expansions[0][0].name)


def _packaged_table(text: str) -> ScannerTable | None:
    """The generated table, if it was generated from this very grammar text."""
    from . import _coder_scanner as generated

    if grammar_checksum(text) != generated.GRAMMAR_CHECKSUM:
        return None
    return ScannerTable(
        grammar_checksum=generated.GRAMMAR_CHECKSUM,
        lark_version=generated.LARK_VERSION,
        pattern=generated.PATTERN,
        flags=generated.FLAGS,
        element=generated.ELEMENT,
        ignore=generated.IGNORE,
    )


def _unparsable(lowered: str, pos: int) -> QueryError:
    # Coder mode's grammar accepts every string: this is a safety net that still positions
    # the error if an edited grammar stops doing so.
    return QueryError(
        [ValidationError("q", "Query could not be parsed.", (pos, min(pos + 1, len(lowered))))],
        text=lowered,
    )


def _scanner(table: ScannerTable) -> Callable[[str], list[Element]]:
    finditer = re.compile(table.pattern, table.flags).finditer
    element = table.element

    def scan(lowered: str) -> list[Element]:
        elements: list[Element] = []
        append = elements.append
        pos = 0
        for match in finditer(lowered):
            start = match.start()
            if start != pos:
                raise _unparsable(lowered, pos)
            pos = match.end()
            if match.lastgroup == element:
                append(Element(match.group(), start, pos))
        if pos != len(lowered):
            raise _unparsable(lowered, pos)
        return elements

    return scan


@functools.lru_cache(maxsize=1)
def _split() -> Callable[[str], list[Element]]:
    """How this process splits text: the generated scanner, else one derived now, else LALR."""
    text = grammar_text()
    table = _packaged_table(text)
    if table is None:
        try:
            table = derive_scanner(text)
        except GrammarShapeError:
            return split_elements_lalr
    return _scanner(table)


@functools.lru_cache(maxsize=1)
def _lalr_parser() -> Any:
    """Lark's LALR parser of the grammar, with a transformer that yields elements."""
    import lark

    class ToElements(lark.Transformer[Any, Any]):
        @staticmethod
        def start(children: list[Any]) -> list[Element]:
            return [Element(str(t), t.start_pos, t.end_pos) for t in children]

    return lark.Lark(
        grammar_text(),
        **_LARK_OPTIONS,
        transformer=ToElements(),
        cache=parser_cache(_GRAMMAR_NAME),
    )


def split_elements_lalr(lowered: str) -> list[Element]:
    """Split text with Lark's full LALR parser: the reference the fast scanner is tested against.

    Raises:
        QueryError: if the grammar rejects the text.
    """
    import lark

    try:
        elements: list[Element] = _lalr_parser().parse(lowered)
    except lark.exceptions.LarkError as exc:
        pos = getattr(exc, "pos_in_stream", None)
        raise _unparsable(lowered, len(lowered) if pos is None or pos < 0 else pos) from None
    return elements


def split_elements(lowered: str) -> list[Element]:
    """Split already lower-cased query text into Coder's elements, with offsets.

    Raises:
        QueryError: if the grammar rejects the text (in Coder mode it accepts every string, so
            this is a safety net that turns any failure into a positioned error).
    """
    return _split()(lowered)
