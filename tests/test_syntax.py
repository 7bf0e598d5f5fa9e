"""Stage 1: the grammar's scanner, the Lark LALR parse it stands in for, and Coder's splitter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query import syntax
from connlog_query.errors import QueryError
from connlog_query.syntax import (
    KEY_VALUE,
    GrammarShapeError,
    derive_scanner,
    grammar_text,
    split_elements,
    split_elements_lalr,
)

ROOT = Path(__file__).resolve().parents[1]

# Characters that matter to the splitter, plus ordinary and non-ASCII ones.
_ALPHABET = st.sampled_from(list(' "::ab\t\nZ1-_é\u00a0\u2028'))


def coder_split(text: str, separator: str) -> list[tuple[str, int]]:
    """coderd/searchquery/split.go, with offsets: split on ``separator`` outside quotes.

    Every '"' flips the in-quotes flag; separators outside quotes end a piece; empty pieces
    are dropped; quotes stay in the pieces.
    """
    pieces: list[tuple[str, int]] = []
    quoted = False
    start = 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == separator and not quoted:
            if i > start:
                pieces.append((text[start:i], start))
            start = i + 1
    if len(text) > start:
        pieces.append((text[start:], start))
    return pieces


def test_generated_table_is_current() -> None:
    from connlog_query import _coder_scanner as generated

    derived = derive_scanner(grammar_text())
    assert (
        derived.grammar_checksum,
        derived.pattern,
        derived.flags,
    ) == (generated.GRAMMAR_CHECKSUM, generated.PATTERN, generated.FLAGS), (
        "grammar/connlog.lark changed: run `python grammar/build_scanner.py`"
    )
    assert (derived.element, derived.ignore) == (generated.ELEMENT, generated.IGNORE)


def test_generated_module_is_what_the_script_writes() -> None:
    sys.path.insert(0, str(ROOT / "grammar"))
    try:
        import build_scanner
    finally:
        sys.path.remove(str(ROOT / "grammar"))
    text = build_scanner.render(derive_scanner(grammar_text()))
    assert (ROOT / "src" / "connlog_query" / "_coder_scanner.py").read_text() == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "type:ssh",
        '  a:"b c"  d  ',
        'username:"bob status:ongoing',
        '"',
        '""',
        'a"b c"d e',
        "tab\there new\nline",
        ":a b: ::",
        'x:"a:b":c',
    ],
)
def test_scanner_matches_lalr_parse_and_coder(text: str) -> None:
    scanned = split_elements(text)
    assert scanned == split_elements_lalr(text)
    assert [(e.raw, e.start) for e in scanned] == coder_split(text, " ")


@settings(max_examples=600, deadline=None)
@given(st.text(_ALPHABET, max_size=24))
def test_scanner_equals_lalr_parse_and_coder_split(text: str) -> None:
    scanned = split_elements(text)
    assert scanned == split_elements_lalr(text)
    assert [(e.raw, e.start) for e in scanned] == coder_split(text, " ")
    for element in scanned:
        assert element.end == element.start + len(element.raw)
        assert [(s.raw, s.start) for s in element.segments] == [
            (raw, element.start + offset) for raw, offset in coder_split(element.raw, ":")
        ]


@settings(max_examples=600, deadline=None)
@given(st.text(_ALPHABET, min_size=1, max_size=16).filter(lambda t: " " not in t))
def test_key_value_match_is_the_two_segment_case(raw: str) -> None:
    segments = [(s, s.start, s.end) for s in (syntax.Element(raw, 0, len(raw)).segments)]
    pair = KEY_VALUE.fullmatch(raw)
    if len(segments) == 2 and not raw.startswith(":") and not raw.endswith(":"):
        assert pair is not None
        assert [pair.span(1), pair.span(2)] == [(s.start, s.end) for s, _, _ in segments]
    elif not raw.startswith(":") and not raw.endswith(":"):
        assert pair is None


def test_parse_of_coder_mode_does_not_import_lark() -> None:
    code = (
        "import sys, connlog_query; connlog_query.parse('type:ssh username:\"a b\"');"
        "print('lark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_edited_grammar_is_derived_with_lark(monkeypatch: pytest.MonkeyPatch) -> None:
    # A grammar that differs from the generated table's: the table is derived at run time.
    edited = grammar_text().replace("%ignore / +/", "%ignore /[ ]+/")
    monkeypatch.setattr(syntax, "grammar_text", lambda: edited)
    syntax._split.cache_clear()
    try:
        assert syntax._packaged_table(edited) is None
        assert [e.raw for e in split_elements('a:"b c" d')] == ['a:"b c"', "d"]
        assert syntax._split() is not split_elements_lalr
    finally:
        syntax._split.cache_clear()


def test_grammar_that_is_not_flat_runs_lalr(monkeypatch: pytest.MonkeyPatch) -> None:
    nested = 'start: pair*\npair: WORD ":" WORD\nWORD: /[a-z]+/\n%ignore " "\n'
    with pytest.raises(GrammarShapeError):
        derive_scanner(nested)
    edited = grammar_text() + "\n// edited\n"
    monkeypatch.setattr(syntax, "grammar_text", lambda: edited)
    monkeypatch.setattr(syntax, "derive_scanner", _raise_shape_error)
    syntax._split.cache_clear()
    try:
        assert syntax._split() is split_elements_lalr
        assert [e.raw for e in split_elements("a b")] == ["a", "b"]
    finally:
        syntax._split.cache_clear()


def _raise_shape_error(text: str) -> syntax.ScannerTable:
    raise GrammarShapeError("not flat")


@pytest.mark.parametrize(
    "grammar",
    [
        'start: WORD* NUM\nWORD: /[a-z]+/\nNUM: /[0-9]+/\n%ignore " "\n',
        'start: w*\nw: WORD\nWORD: /[a-z]+/\n%ignore " "\n',
        'start: WORD WORD*\nWORD: /[a-z]+/\n%ignore " "\n',
        'start: (WORD | NUM)*\nWORD: /[a-z]+/\nNUM: /[0-9]+/\n%ignore " "\n',
    ],
)
def test_shapes_other_than_a_flat_repetition_are_refused(grammar: str) -> None:
    with pytest.raises(GrammarShapeError):
        derive_scanner(grammar)


def test_unscannable_text_is_a_positioned_error() -> None:
    table = derive_scanner('start: WORD*\nWORD: /[a-z]+/\n%ignore " "\n')
    scan = syntax._scanner(table)
    assert [e.raw for e in scan("ab cd")] == ["ab", "cd"]
    with pytest.raises(QueryError) as info:
        scan("ab 1")
    assert info.value.errors[0].span == (3, 4)
    assert info.value.errors[0].detail == "Query could not be parsed."


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # A three-segment element makes the key:value match fail; its segments must fail in
        # linear time (a nested repetition here once took 18 s on a 36-character element).
        ("connected_after:2023-01-01T00:00:00Z", "can only contain 1 ':'"),
        ("a" * 100_000 + ":b:c", "can only contain 1 ':'"),
        (("x" * 50 + ":") * 2_000 + "y", "can only contain 1 ':'"),
        ("k:" + '"a:b"' * 20_000 + ":z", "can only contain 1 ':'"),
        ('username:"' + "a:" * 50_000 + "b", None),
        ('"' * 100_000, "is not a valid query param"),
        ("a: " * 30_000, "cannot start or end with ':'"),
    ],
)
def test_pathological_coder_inputs_finish(text: str, detail: str | None) -> None:
    from connlog_query import parse

    if detail is None:
        assert parse(text).username == text[10:]
        return
    with pytest.raises(QueryError) as info:
        parse(text)
    assert detail in info.value.errors[0].detail
