"""Replay the fuzz corpus through the fuzz target's checks (no atheris needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
_spec = importlib.util.spec_from_file_location("fuzz_query", FUZZ / "fuzz_query.py")
assert _spec is not None
assert _spec.loader is not None
fuzz_query = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_query)

CASES = sorted((FUZZ / "corpus").iterdir())


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_corpus_input_passes_every_check(path: Path) -> None:
    fuzz_query.check(path.read_bytes().decode("utf-8", "replace"))


def test_check_catches_a_broken_property(monkeypatch: pytest.MonkeyPatch) -> None:
    # The target must be able to fail: a compiler that inlines values is caught.
    from connlog_query.backends import sql
    from connlog_query.backends.sql import SqlFragment

    def leaky(query: object, dialect: str, **kwargs: object) -> SqlFragment:
        return SqlFragment(f"x = '{query.username}'", ())  # type: ignore[attr-defined]

    monkeypatch.setattr(sql, "compile", leaky)
    with pytest.raises(AssertionError):
        fuzz_query.check('username:"o\'brien"')
