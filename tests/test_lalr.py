"""The lean LALR driver against Lark's own driver, on Lark's tables for ``extended.lark``."""

from __future__ import annotations

from typing import Any

import lark
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query import extended
from connlog_query.lalr import REJECTED, LeanParser, LeanToken

# Fragments that exercise every terminal of the extended grammar and its contextual lexer.
_FRAGMENTS = st.sampled_from(
    [
        "type:",
        "username:",
        "connected:",
        "ssh",
        "a*b",
        '"x y"',
        '"a\\"b"',
        '"bad\\q"',
        '"',
        ",",
        "(",
        ")",
        "-",
        "NOT",
        "AND",
        "OR",
        "or",
        " ",
        "\t",
        "\u3000",
        ":",
        "-24h",
        ">=2025-07-01",
        "2025-07-01T10:00:00Z",
        "é",
        "\\",
    ]
)


def _both(text: str) -> tuple[Any, Any]:
    """(lean result or REJECTED, Lark result or the Lark exception type), with fresh builders."""
    lean = extended._lean_parser()
    assert lean is not None
    outcomes = []
    for run in (lean.run, extended._parser().parse):
        builder = extended._Builder(extended.Limits(max_terms=10**6, max_depth=10**6))
        token = extended._CURRENT.set(builder)
        try:
            result: Any = run(text)
        except lark.exceptions.UnexpectedInput as exc:
            result = type(exc)
        finally:
            extended._CURRENT.reset(token)
        outcomes.append((result, builder.terms, builder.bad_escape))
    return outcomes[0], outcomes[1]


@settings(max_examples=1500, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=12).map("".join))
def test_lean_driver_builds_what_lark_builds(text: str) -> None:
    (lean, lean_terms, lean_escape), (lark_result, lark_terms, lark_escape) = _both(text)
    if lean is REJECTED:
        assert isinstance(lark_result, type)
        assert issubclass(lark_result, lark.exceptions.UnexpectedInput)
    else:
        assert lean == lark_result
        assert (lean_terms, lean_escape) == (lark_terms, lark_escape)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "type:ssh",
        'workspace_owner:me type:ssh,vscode connected_after:"2025-07-01T00:00:00Z"',
        "-type:ssh,vscode (dev OR username:b*) connected:>=-7d",
        "NOT (a OR b) AND c",
        '"quoted \\" phrase" word',
    ],
)
def test_lean_driver_accepts_what_lark_accepts(text: str) -> None:
    (lean, *_), (lark_result, *_) = _both(text)
    assert lean is not REJECTED
    assert lean == lark_result


@pytest.mark.parametrize("text", ["(", "a)", "type:", '"open', "a OR", "type:ssh,", ":x"])
def test_lean_driver_rejects_what_lark_rejects(text: str) -> None:
    (lean, *_), (lark_result, *_) = _both(text)
    assert lean is REJECTED
    assert issubclass(lark_result, lark.exceptions.UnexpectedInput)


def test_parsers_with_features_it_does_not_reproduce_are_declined() -> None:
    grammar = 'start: WORD+\nWORD: /[a-z]+/\n%ignore " "\n'
    assert LeanParser.from_lark(lark.Lark(grammar, parser="lalr")) is not None
    assert LeanParser.from_lark(lark.Lark(grammar, parser="lalr", lexer="basic")) is not None
    assert LeanParser.from_lark(lark.Lark(grammar, parser="earley")) is None
    assert LeanParser.from_lark(lark.Lark(grammar, parser="lalr", propagate_positions=True)) is None
    callbacks = {"WORD": lambda t: t}
    assert (
        LeanParser.from_lark(lark.Lark(grammar, parser="lalr", lexer_callbacks=callbacks)) is None
    )
    # A string terminal that a regexp also matches makes Lark retype tokens in a callback.
    unless = 'start: (WORD | "if")+\nWORD: /[a-z]+/\n%ignore " "\n'
    assert LeanParser.from_lark(lark.Lark(unless, parser="lalr", lexer="basic")) is None


def test_tree_building_parser_gives_lark_trees() -> None:
    parser = lark.Lark(
        'start: pair+\npair: WORD "=" WORD\nWORD: /[a-z]+/\n%ignore " "\n', parser="lalr"
    )
    lean = LeanParser.from_lark(parser)
    assert lean is not None
    tree = lean.run("a = b c=d")
    expected = parser.parse("a = b c=d")
    assert [[str(t) for t in pair.children] for pair in tree.children] == [
        [str(t) for t in pair.children] for pair in expected.children
    ]
    assert lean.run("a = ") is REJECTED
    assert lean.run("a ! b") is REJECTED


def test_token_reads_like_larks() -> None:
    token = LeanToken("WORD", "abc", 3, 6)
    assert (str(token), token.type, token.start_pos, token.end_pos) == ("abc", "WORD", 3, 6)
    assert repr(token) == "LeanToken('WORD', 'abc', 3, 6)"
    assert repr(REJECTED) == "REJECTED"
