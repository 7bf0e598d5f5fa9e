"""Help for people typing queries: warnings, explain(), complete(), and the CLI commands."""

from __future__ import annotations

import datetime as dt

import pytest

from connlog_query import complete, parse
from connlog_query.cli import main

NOW = dt.datetime(2025, 7, 10, 12, 0, tzinfo=dt.timezone.utc)

WARNINGS: list[tuple[str, list[str]]] = [
    ("type:ssh status:ongoing", []),
    (
        'connected_after:"2025-07-02T00:00:00Z" connected_before:"2025-07-01T00:00:00Z"',
        ["empty-time-range"],
    ),
    ("connected:>=-1h connected:<=-2h", ["empty-time-range"]),
    ("username:bob type:ssh", ["no-connecting-user"]),
    ("user_email:a@b.c type:vscode,jetbrains", ["no-connecting-user"]),
    ("username:bob type:ssh,workspace_app", []),
    ("status:ongoing type:workspace_app,tunnel", ["status-of-point-in-time"]),
    ("status:completed type:tunnel,ssh", []),
    ("type:ssh type:vscode", ["contradiction"]),
    ("type:ssh,vscode type:vscode", []),
    ("hello -hello", ["contradiction"]),
    ("-type:ssh type:ssh", ["contradiction"]),
]


@pytest.mark.parametrize(("text", "codes"), WARNINGS)
def test_warnings(text: str, codes: list[str]) -> None:
    query = parse(text, mode="extended", now=NOW)
    assert [w.code for w in query.warnings] == codes
    for warning in query.warnings:
        assert warning.message


def test_warning_points_at_the_term() -> None:
    text = "type:workspace_app status:ongoing"
    (warning,) = parse(text, mode="extended").warnings
    assert warning.span == (26, 33)


EXPLAIN: list[tuple[str, str]] = [
    ("", "All connections."),
    (
        "workspace_owner:me type:ssh connected:>=-24h status:ongoing",
        "SSH sessions in workspaces you own that started in the last 24 hours and are still open.",
    ),
    (
        "type:vscode,jetbrains username:alice status:completed",
        "JetBrains sessions or VS Code sessions by alice that have ended.",
    ),
    (
        "connected:2025-07-01..2025-07-07 organization:acme",
        "Connections in organization acme that started between 2025-07-01 00:00 UTC and 2025-07-07 23:59:59 UTC.",
    ),
    (
        "workspace_owner:ali* hello",
        'Connections in workspaces owned by matching ali*, mentioning "hello".',
    ),
    ("type:ssh OR status:ongoing", "Connections, matching type:ssh OR status:ongoing."),
    ("connected_after:-1h", "Connections that started in the last hour."),
]


@pytest.mark.parametrize(("text", "sentence"), EXPLAIN)
def test_explain(text: str, sentence: str) -> None:
    assert parse(text, mode="extended").explain() == sentence


COMPLETIONS: list[tuple[str, str, list[tuple[str, tuple[int, int], str]]]] = [
    ("ty", "extended", [("type:", (0, 2), "key")]),
    ("type:s", "extended", [("ssh", (5, 6), "value")]),
    ("type:ssh,vs", "extended", [("vscode", (9, 11), "value")]),
    ("status:", "coder", [("ongoing", (7, 7), "value"), ("completed", (7, 7), "value")]),
    ("username:m", "coder", [("me", (9, 10), "value")]),
    ("type:ssh O", "extended", [("organization:", (9, 10), "key"), ("OR", (9, 10), "keyword")]),
    ("-sta", "extended", [("status:", (1, 4), "key")]),
    ("type:ssh AND", "extended", [("AND", (9, 12), "keyword")]),
    ("us", "coder", [("username:", (0, 2), "key"), ("user_email:", (0, 2), "key")]),
    ("connected_after:", "coder", [('"2025-07-01T00:00:00Z"', (16, 16), "value")]),
    ("(type:ssh", "extended", [("ssh", (6, 9), "value")]),
    ('x:"unclosed ', "extended", []),
]


@pytest.mark.parametrize(("text", "mode", "expected"), COMPLETIONS)
def test_complete(text: str, mode: str, expected: list[tuple[str, tuple[int, int], str]]) -> None:
    got = [(c.text, c.span, c.kind) for c in complete(text, mode=mode)]  # type: ignore[arg-type]
    assert got == expected


def test_complete_at_cursor_in_the_middle() -> None:
    text = "type:ssh stat workspace_owner:me"
    got = complete(text, 13, mode="extended")
    assert [(c.text, c.span) for c in got] == [("status:", (9, 13))]
    assert complete("", mode="extended")[0].kind == "key"
    assert {c.text for c in complete("", mode="extended") if c.kind == "keyword"} == {"NOT"}


def test_cli_check_prints_warnings_and_extended(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--extended", "type:workspace_app status:ongoing"]) == 0
    out, err = capsys.readouterr()
    assert out == "type:workspace_app status:ongoing\n"
    assert err.startswith("warning: workspace apps")
    assert main(["check", "type:ssh OR status:ongoing"]) == 2
    _, err = capsys.readouterr()
    assert '"search" is not a valid query param' in err
    assert main(["check", "--extended", "type:ssh OR type:vscode"]) == 0
    assert capsys.readouterr().out == "type:ssh,vscode\n"


def test_cli_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--extended", "type:ssh workspace_owner:me -status:completed"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "SSH sessions in workspaces you own, matching -status:completed."
    assert out[1] == "extended form: workspace_owner:me type:ssh -status:completed"
    assert main(["explain", "--json", "type:ssh"]) == 0
    assert capsys.readouterr().out.strip() == '{\n  "type": "ssh"\n}'
    assert main(["check", "--json", "type:bogus"]) == 2
    assert '"validations"' in capsys.readouterr().err
