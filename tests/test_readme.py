"""The README's promises: exactly two set-up commands, CI runs the same test command, and the
Python example prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return [b.strip() for b in re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)]


def test_exactly_two_setup_commands() -> None:
    commands = _blocks("sh")
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "connlog-query search" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _blocks("sh")[1] in ci.splitlines()


def test_python_example_runs_and_prints_what_it_claims() -> None:
    (code,) = _blocks("python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    claims = re.findall(r"^print\(.*\)\s+# (.+)$", code, flags=re.M)
    assert len(claims) == 2
    assert lines[:2] == claims
    assert "hint: did you mean" in out.getvalue()
