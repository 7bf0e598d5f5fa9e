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
from connlog_query.demo import generate
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
