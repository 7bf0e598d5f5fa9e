"""``connlog-query fetch`` against the reference server on 127.0.0.1 (real HTTP, in-process CLI)."""

from __future__ import annotations

import csv
import io
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from connlog_query import parse
from connlog_query.backends.context import CompileContext
from connlog_query.cli import main
from connlog_query.cli.output import CSV_COLUMNS
from connlog_query.demo import ANCHOR, generate
from connlog_query.server._json import dump_model
from connlog_query.server.app import create_app
from connlog_query.server.testing import serve_in_thread
from connlog_query.store.sqlite import SQLiteStore

TOKEN = "FeTcH12345-fetchfetchfetchfetchfe"


@dataclass
class Deployment:
    url: str
    store: SQLiteStore
    alice: uuid.UUID

    def ids(self, text: str, limit: int = 2000) -> list[str]:
        page = self.store.list(parse(text), limit=limit, context=CompileContext(user_id=self.alice))
        return [str(log.id) for log in page.connection_logs]


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    store = SQLiteStore(":memory:")
    store.create_schema()
    store.ingest(generate(seed=8, n_logs=300))
    alice = store.resolve_user("alice")
    assert alice is not None
    app = create_app(store, authenticate=lambda t: alice if t == TOKEN else None)
    with serve_in_thread(app) as url:
        yield Deployment(url, store, alice)
    store.close()


@pytest.fixture
def nowhere() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["fetch", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_the_servers_page(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "type:ssh", "--url", deployment.url, "--token", TOKEN, "--limit", "5",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    expected = deployment.store.list(parse("type:ssh"), limit=5)
    assert json.loads(out) == json.loads(dump_model(expected))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_formats(deployment: Deployment, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    text = "workspace_owner:me"
    code, out, _ = run(
        capsys, text, "--url", deployment.url, "--token", TOKEN, "--offset", "2", "--format", fmt
    )
    assert code == 0
    expected = deployment.ids(text)[2:102]
    assert expected
    if fmt == "jsonl":
        assert [json.loads(line)["id"] for line in out.splitlines()] == expected
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert [row["id"] for row in rows] == expected
        assert {row["workspace_owner"] for row in rows} == {"alice"}
    else:
        total = len(deployment.ids(text))
        assert f"Rows 3-{2 + len(expected)} of {total} matching connection logs." in out
        assert out.count("alice") >= len(expected)


@pytest.mark.parametrize("page_size", ["1", "7", "1000"])
def test_all_pages(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], page_size: str
) -> None:
    text = "status:completed" if page_size != "1" else "type:tunnel"
    code, out, err = run(
        capsys, text, "--url", deployment.url, "--token", TOKEN, "--all",
        "--page-size", page_size, "--format", "jsonl", "--no-progress",
    )  # fmt: skip
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == deployment.ids(text)
    assert err == ""


def test_progress_bar_goes_to_stderr(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "", "--url", deployment.url, "--token", TOKEN, "--all", "--page-size", "50",
        "--format", "jsonl", "--progress",
    )  # fmt: skip
    assert code == 0
    assert len(out.splitlines()) == 300
    assert "Fetching connection logs" in err
    assert "300/300" in err


def test_environment_defaults(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODER_URL", deployment.url)
    monkeypatch.setenv("CODER_SESSION_TOKEN", TOKEN)
    code, out, _ = run(capsys, "username:me", "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == deployment.ids(
        "username:me", 100
    )


def test_invalid_query_exits_2_with_carets_before_any_request(
    capsys: pytest.CaptureFixture[str], nowhere: str
) -> None:
    code, out, err = run(capsys, "type:ssh status:conected", "--url", nowhere, "--token", TOKEN)
    assert code == 2
    assert out == ""
    assert err.splitlines()[:3] == [
        'error: status: Query param "status" has invalid value: "conected" is not a valid value',
        "  type:ssh status:conected",
        "                  ^^^^^^^^",
    ]
    assert "GET" not in err


def test_server_side_query_error_points_into_the_text(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "organization:atlantis", "--url", deployment.url, "--token", TOKEN)
    assert code == 2
    assert out == ""
    assert "HTTP 400: Invalid connection search query." in err
    assert "  organization:atlantis\n" + " " * 15 + "^" * 8 + "\n" in err


@pytest.mark.parametrize(
    ("token", "needle"),
    [(None, "or query parameter must be provided"), ("wrong-token-value", "API key is invalid")],
)
def test_http_errors_exit_1_without_the_token(
    deployment: Deployment,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    token: str | None,
    needle: str,
) -> None:
    monkeypatch.delenv("CODER_SESSION_TOKEN", raising=False)
    args = ["type:ssh", "--url", deployment.url] + (["--token", token] if token else [])
    code, out, err = run(capsys, *args)
    assert code == 1
    assert out == ""
    assert err.startswith("error: HTTP 401: You are signed out")
    assert needle in err
    assert token is None or token not in err


def test_unreachable_deployment(capsys: pytest.CaptureFixture[str], nowhere: str) -> None:
    code, out, err = run(capsys, "", "--url", nowhere, "--token", TOKEN, "--retries", "0")
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: GET {nowhere}/api/v2/connectionlog?q=: ")
    assert TOKEN not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["type:ssh"], "no deployment URL"),
        (["type:ssh", "--url", "coder.example.com"], "http(s) URL"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("CODER_URL", raising=False)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    "argv", [["--limit", "-1"], ["--page-size", "0"], ["--timeout", "0"], ["--offset", "x"]]
)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["fetch", "type:ssh", "--url", "http://127.0.0.1:1", *argv])
    assert info.value.code == 2


# --- --extended: planned queries --------------------------------------------------------------

NOW = "2025-07-28T18:00:00Z"


def extended_ids(deployment: Deployment, text: str) -> list[str]:
    """Row ids the store itself gives for the whole extended query (the oracle)."""
    context = CompileContext(user_id=deployment.alice, now=ANCHOR)
    page = deployment.store.list(parse(text, mode="extended"), limit=2000, context=context)
    return [str(log.id) for log in page.connection_logs]


@pytest.mark.parametrize(
    "text",
    [
        "type:ssh,vscode -status:ongoing",
        "(dev OR gpu) workspace_owner:me",
        "connected:>=-7d -type:workspace_app",
        "dev OR main",
    ],
)
def test_extended_all_pages_match_the_store(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code, out, err = run(
        capsys, "--extended", text, "--url", deployment.url, "--token", TOKEN, "--all",
        "--page-size", "40", "--format", "jsonl", "--no-progress", "--now", NOW,
    )  # fmt: skip
    assert code == 0, err
    expected = extended_ids(deployment, text)
    assert expected
    assert [json.loads(line)["id"] for line in out.splitlines()] == expected
    assert err.startswith("note: filtered locally with ")


def test_explain_plan_goes_to_stderr(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--extended", "--explain-plan", "type:ssh connected:>=-7d (dev OR gpu)",
        "--url", deployment.url, "--token", TOKEN, "--format", "jsonl", "--limit", "500",
        "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert err.splitlines()[:4] == [
        'Sent to the server as q: type:ssh connected_after:"2025-07-21T18:00:00Z"',
        "Filtered locally: dev OR gpu",
        "Only rows matching q are fetched; those failing the local filter are dropped, so "
        "counts are exact only once every page has been read.",
        "Relative times resolved at 2025-07-28T18:00:00Z.",
    ]
    expected = extended_ids(deployment, "type:ssh connected:>=-7d (dev OR gpu)")
    assert [json.loads(line)["id"] for line in out.splitlines()] == expected


def test_explain_plan_of_a_coder_query(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "--explain-plan", "type:ssh", "--url", deployment.url, "--token", TOKEN,
        "--format", "jsonl",
    )  # fmt: skip
    assert code == 0
    assert err.splitlines() == [
        "Sent to the server as q: type:ssh",
        "Filtered locally: nothing (the server evaluates the whole query).",
    ]


def test_lower_bound_count_is_flagged(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--extended", "--url", deployment.url, "--token", TOKEN, "--limit", "5",
        "--format", "json", "--", "-type:ssh",
    )  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert set(body) == {"connection_logs", "count"}  # no count_cap: counted locally
    assert [log["id"] for log in body["connection_logs"]] == extended_ids(deployment, "-type:ssh")[
        :5
    ]
    assert "note: no part of the query could be sent to the server" in err
    assert f"note: the count is a lower bound: at least {body['count']} rows match" in err


def test_table_footer_carries_the_notes(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "--extended", "type:ssh -status:ongoing", "--url", deployment.url,
        "--token", TOKEN, "--limit", "500",
    )  # fmt: skip
    assert code == 0
    total = len(extended_ids(deployment, "type:ssh -status:ongoing"))
    assert f"Rows 1-{total} of {total} matching connection logs." in out
    assert "note: filtered locally with -status:ongoing (q sent: type:ssh)" in out
    assert "lower bound" not in out  # the whole pushed query was read: the count is exact


def test_extended_syntax_needs_the_flag(capsys: pytest.CaptureFixture[str], nowhere: str) -> None:
    code, out, err = run(capsys, "type:ssh,vscode dev", "--url", nowhere, "--token", TOKEN)
    assert (code, out) == (2, "")
    assert '"search" is not a valid query param' in err


def test_me_in_the_local_filter_needs_user_id(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], nowhere: str
) -> None:
    text = "type:ssh OR workspace_owner:me"
    code, out, err = run(capsys, "--extended", text, "--url", nowhere, "--token", TOKEN)
    assert (code, out) == (2, "")
    assert "needs your user id" in err
    assert "  type:ssh OR workspace_owner:me\n" + " " * 30 + "^^" in err
    assert "fetch --user-id" in err
    code, out, err = run(
        capsys, "--extended", text, "--url", deployment.url, "--token", TOKEN, "--all",
        "--format", "jsonl", "--no-progress", "--user-id", str(deployment.alice),
    )  # fmt: skip
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == extended_ids(deployment, text)


def test_extended_progress_counts_rows_read(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--extended", "type:ssh,vscode", "--url", deployment.url, "--token", TOKEN,
        "--all", "--page-size", "50", "--format", "jsonl", "--progress",
    )  # fmt: skip
    assert code == 0
    assert len(out.splitlines()) == len(extended_ids(deployment, "type:ssh,vscode"))
    assert "300/300" in err  # every row of the pushed (empty) query was read


def test_bad_now_and_user_id(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--now", "yesterday"], ["--now", "2025-07-01T00:00:00"], ["--user-id", "x"]):
        with pytest.raises(SystemExit) as info:
            main(["fetch", "type:ssh", "--url", "http://127.0.0.1:1", *argv])
        assert info.value.code == 2
