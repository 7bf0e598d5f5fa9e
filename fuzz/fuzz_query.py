"""Coverage-guided fuzz target (atheris/libFuzzer) for parse() in both modes and SQL compile.

Properties checked on every input:

* ``parse`` raises nothing but ``QueryError`` (Coder and extended mode);
* an accepted query re-parses from its canonical text to an equal query;
* every accepted query compiles for PostgreSQL, SQLite and MySQL without raising anything but
  ``QueryError``; the SQL text holds no string literal longer than three characters other than
  the backends' ASCII case-folding alphabets, and
  no filter value of four or more characters containing a quote, semicolon or backslash (values
  are bound parameters, never SQL text).

Run (``pip install atheris``; stop with Ctrl-C or a time limit)::

    python fuzz/fuzz_query.py -max_total_time=60 fuzz/corpus

New interesting inputs are written to ``fuzz/corpus``. ``tests/test_fuzz_corpus.py`` replays the
corpus through :func:`check` in the normal test run, without atheris.
"""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
_LITERAL = re.compile(r"'(?:[^']|'')*'")
# The backends' ASCII case-folding constants (PostgreSQL translate()).
_FOLDING = {"'ABCDEFGHIJKLMNOPQRSTUVWXYZ'", "'abcdefghijklmnopqrstuvwxyz'"}
_USER = uuid.UUID(int=7)


def _values(node: object) -> list[str]:
    """Every text value held anywhere in an expression."""
    from connlog_query.expr import And, Filter, Not, Or, Text

    if isinstance(node, Filter):
        return [str(v) for v in node.values]
    if isinstance(node, Text):
        return [node.text]
    if isinstance(node, Not):
        return _values(node.item)
    if isinstance(node, (And, Or)):
        return [v for item in node.items for v in _values(item)]
    return []


def check(text: str) -> None:
    """Run every property on ``text``; raise AssertionError (or the escaping error) if one fails."""
    from connlog_query import QueryError, parse
    from connlog_query.backends import CompileContext, sql

    context = CompileContext(user_id=_USER, organization_resolver=lambda name: uuid.UUID(int=9))
    for mode in ("coder", "extended"):
        try:
            query = parse(text, mode=mode)  # type: ignore[arg-type]
        except QueryError:
            continue
        again = parse(query.to_string(mode="extended" if mode == "extended" else None), mode=mode)  # type: ignore[arg-type]
        assert again == query, (text, mode, query.to_string())
        values = _values(query.expression())
        risky = [v for v in values if len(v) >= 4 and any(c in v for c in "';\\")]
        for dialect in ("postgresql", "sqlite", "mysql"):
            try:
                fragment = sql.compile(query, dialect, context=context)
            except QueryError:
                continue
            for literal in _LITERAL.findall(fragment.sql):
                assert len(literal) <= 5 or literal in _FOLDING, (text, dialect, literal)
            for value in risky:
                assert value not in fragment.sql, (text, dialect, value)


def _test_one_input(data: bytes) -> None:
    import atheris

    provider = atheris.FuzzedDataProvider(data)
    check(provider.ConsumeUnicode(provider.remaining_bytes()))


def main() -> None:
    """libFuzzer entry point: instrument the package, then fuzz ``check``."""
    import atheris

    with atheris.instrument_imports():
        import connlog_query
        import connlog_query.backends.sql  # noqa: F401
    atheris.Setup(sys.argv, _test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
