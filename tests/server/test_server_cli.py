"""``connlog-query serve``: a real server process on 127.0.0.1, queried with the client."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from connlog_query import parse
from connlog_query.cli import main
from connlog_query.cli.search import DATA_DIR_ENV, DEMO_FILE
from connlog_query.cli.serve import generate_token, listening_socket
from connlog_query.client import Client, UnauthorizedError
from connlog_query.demo import generate
from connlog_query.store.sqlite import SQLiteStore


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("serve-data")
    with SQLiteStore(directory / DEMO_FILE) as store:
        store.create_schema()
        store.ingest(generate(seed=11, n_logs=120))
    return directory / DEMO_FILE


@contextmanager
def serving(*argv: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, str, str]]:
    """Start ``connlog-query serve --port 0 ...``; yield (base URL, token, banner)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connlog_query", "serve", "--port", "0", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        text = "".join(banner)
        found = re.search(r"CODER_URL=(\S+) CODER_SESSION_TOKEN=(\S+)", text)
        assert found, text + (proc.stderr.read() if proc.stderr else "")
        yield found.group(1), found.group(2), text
    finally:
        proc.terminate()
        proc.wait(10)


def test_serves_a_store_with_the_given_token(demo_db: Path) -> None:
    token = "GiVeN12345-giventokengiventokengi"
    with serving("--db", f"sqlite:///{demo_db}", "--token", token) as (url, shown, banner):
        assert shown == token
        assert f"Serving Coder's connection-log API at {url}/api/v2/connectionlog" in banner
        assert "(user alice)" in banner
        with Client(url, token) as client:
            mine = client.connection_logs("workspace_owner:me", limit=500)
            assert mine.connection_logs
            assert {log.workspace_owner_username for log in mine.connection_logs} == {"alice"}
        with Client(url, "other-token") as client, pytest.raises(UnauthorizedError):
            client.connection_logs("")


def test_default_store_and_generated_token(demo_db: Path) -> None:
    env = {DATA_DIR_ENV: str(demo_db.parent)}
    with serving("--as-user", "bob", env=env) as (url, token, banner):
        assert re.fullmatch(r"[A-Za-z0-9]{10}-[A-Za-z0-9]{22}", token)
        assert "(user bob)" in banner
        with Client(url, token) as client:
            page = client.connection_logs("workspace_owner:me", limit=500)
        with SQLiteStore(demo_db) as store:
            assert page.count == store.list(parse("workspace_owner:bob")).count > 0


def test_serve_extended(demo_db: Path) -> None:
    with serving("--db", f"sqlite:///{demo_db}", "--extended") as (url, token, banner):
        assert "Query language: extended" in banner
        with httpx.Client(timeout=10) as http:
            headers = {"Coder-Session-Token": token}
            ok = http.get(
                f"{url}/api/v2/connectionlog", params={"q": "dev OR gpu"}, headers=headers
            )
            bad = http.get(f"{url}/api/v2/connectionlog", params={"q": "(dev"}, headers=headers)
    with SQLiteStore(demo_db) as store:
        expected = store.list(parse("dev OR gpu", mode="extended"))
    assert ok.status_code == 200
    assert ok.json()["count"] == expected.count > 0
    assert (bad.status_code, bad.json()["validations"][0]["field"]) == (400, "q")


def test_serve_without_extended_reads_coder_syntax(demo_db: Path) -> None:
    with serving("--db", f"sqlite:///{demo_db}") as (url, token, banner):
        assert "Query language" not in banner
        with httpx.Client(timeout=10) as http:
            headers = {"Coder-Session-Token": token}
            answer = http.get(f"{url}/api/v2/connectionlog", params={"q": "dev"}, headers=headers)
    assert answer.status_code == 400


def test_generated_tokens_differ() -> None:
    tokens = {generate_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9]{10}-[A-Za-z0-9]{22}", t) for t in tokens)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-user", "nobody"], "no user named 'nobody'"),
        (["--db", "sqlite:///does/not/exist.db"], "no SQLite database"),
        (["--db", "gopher://x"], "unknown store URL scheme"),
    ],
)
def test_serve_usage_errors(
    demo_db: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(demo_db.parent))
    assert main(["serve", "--port", "0", *argv]) == 2
    assert message in capsys.readouterr().err


def test_accepted_connections_get_tcp_nodelay() -> None:
    # Without TCP_NODELAY every small answer waits for the client's delayed ACK (~40 ms).
    async def check() -> int:
        seen: list[int] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        sock = listening_socket("127.0.0.1", 0)
        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            while not seen:
                await asyncio.sleep(0.001)
            writer.close()
        return seen[0]

    assert asyncio.run(check()) != 0
