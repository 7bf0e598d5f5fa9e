"""``connlog-query fetch``: run a query against a Coder deployment's connection-log API.

The query is validated locally first (Coder mode), so a mistake prints with carets and exits 2
before any request. Defaults come from ``CODER_URL`` and ``CODER_SESSION_TOKEN``, like Coder's
own CLI. ``--all`` walks every page (with a progress bar on stderr when it is a terminal).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import QueryError
from ..models import ConnectionLog, ConnectionLogResponse
from ..parser import parse
from ..query import Query
from .output import add_format_argument, write_response

__all__ = ["register"]

_URL_ENV = "CODER_URL"
_TOKEN_ENV = "CODER_SESSION_TOKEN"


def _count(text: str, *, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not minimum <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"must be between {minimum} and {2**31 - 1}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def register(subparsers: Any) -> None:
    """Add the ``fetch`` sub-command."""
    fetch = subparsers.add_parser(
        "fetch",
        help="run a query against a Coder deployment's connection-log API",
        description="Validate QUERY locally, then fetch matching connection logs from "
        "GET /api/v2/connectionlog of a Coder deployment (or of `connlog-query serve`).",
        epilog="example: CODER_URL=https://coder.example.com CODER_SESSION_TOKEN=... "
        "connlog-query fetch 'workspace_owner:me type:ssh' --all --format jsonl",
    )
    fetch.add_argument("query", metavar="QUERY", help="the search query, e.g. 'type:ssh'")
    fetch.add_argument(
        "--url", metavar="URL", help=f"deployment URL (default: ${_URL_ENV})", default=None
    )
    fetch.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"session token (default: ${_TOKEN_ENV})",
        default=None,
    )
    fetch.add_argument(
        "--all",
        action="store_true",
        help="fetch every page, not just one (ignores --limit and --offset)",
    )
    fetch.add_argument(
        "--limit",
        type=lambda t: _count(t, minimum=0),
        default=0,
        help="rows in the page (default 0: the server's 100)",
    )
    fetch.add_argument(
        "--offset", type=lambda t: _count(t, minimum=0), default=0, help="rows to skip"
    )
    fetch.add_argument(
        "--page-size",
        type=lambda t: _count(t, minimum=1),
        default=100,
        help="rows per request with --all (default 100)",
    )
    fetch.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=30.0,
        help="seconds to wait for each request (default 30)",
    )
    fetch.add_argument(
        "--retries",
        type=lambda t: _count(t, minimum=0),
        default=3,
        help="retries of transient failures (default 3)",
    )
    fetch.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr with --all (default: when stderr is a terminal)",
    )
    add_format_argument(fetch)
    fetch.set_defaults(handler=_fetch)


class _Usage(Exception):
    """A usage problem (exit 2)."""


def _validate(text: str) -> Query | None:
    try:
        return parse(text)
    except QueryError as exc:
        print(str(exc), file=sys.stderr)
        return None


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """Yields ``update(rows_so_far, total_or_None)``; draws on stderr when enabled."""
    if not enabled:
        yield lambda done, total: None
        return
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    except ImportError:
        yield lambda done, total: None
        return
    console = Console(file=sys.stderr, force_terminal=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("Fetching connection logs", total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _fetch_all(
    client: Any, query: str, page_size: int, update: Callable[[int, int | None], None]
) -> ConnectionLogResponse:
    logs: list[ConnectionLog] = []
    last = ConnectionLogResponse()
    for page in client.iter_pages(query, page_size=page_size):
        logs.extend(page.connection_logs)
        last = page
        capped = page.count_cap is not None and page.count > page.count_cap
        # A capped count only says "more than 2000": the bar then has no end.
        update(len(logs), None if capped else max(page.count, len(logs)))
    update(len(logs), len(logs))
    return ConnectionLogResponse(
        connection_logs=logs, count=max(last.count, len(logs)), count_cap=last.count_cap
    )


def _fetch(args: argparse.Namespace) -> int:
    if _validate(args.query) is None:
        return 2
    try:
        from ..client import Client, ClientError, InvalidQueryError
    except ImportError as exc:  # pragma: no cover - the client extra is missing
        print(f"error: `fetch` needs the client extra ({exc.name} is missing)", file=sys.stderr)
        return 2
    url = args.url or os.environ.get(_URL_ENV, "")
    token = args.token or os.environ.get(_TOKEN_ENV) or None
    try:
        if not url:
            raise _Usage(f"no deployment URL: pass --url or set {_URL_ENV}")
        with Client(url, token, timeout=args.timeout, retries=args.retries) as client:
            if args.all:
                show = sys.stderr.isatty() if args.progress is None else args.progress
                with _progress_bar(show) as update:
                    response = _fetch_all(client, args.query, args.page_size, update)
                offset = 0
            else:
                # The text, not the parsed query: server errors then point into what was typed.
                response = client.connection_logs(args.query, limit=args.limit, offset=args.offset)
                offset = args.offset
    except InvalidQueryError as exc:
        # The server knows things the local check cannot (organization names).
        print(str(exc), file=sys.stderr)
        return 2
    except (_Usage, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_response(response, args.format, offset=offset)
    return 0
