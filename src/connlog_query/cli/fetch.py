"""``connlog-query fetch``: run a query against a Coder deployment's connection-log API.

The query is validated locally first, so a mistake prints with carets and exits 2 before any
request. Defaults come from ``CODER_URL`` and ``CODER_SESSION_TOKEN``, like Coder's own CLI.
``--all`` walks every page (with a progress bar on stderr when it is a terminal).

With ``--extended`` the query is read in the extended language and planned: the part Coder's
server can evaluate is sent as ``q``, the rest filtered locally (``--explain-plan`` prints the
split on stderr; a note says when a local filter ran and whether the count is exact).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..models import ConnectionLog, ConnectionLogResponse
from ..parser import Mode
from ..query import Query
from .arguments import add_now_argument, parse_query, query_mode, uuid_argument
from .check import add_extended_flag
from .output import add_format_argument, write_response

if TYPE_CHECKING:
    from ..client.plan import Plan

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
        epilog="examples: CODER_URL=https://coder.example.com CODER_SESSION_TOKEN=... "
        "connlog-query fetch 'workspace_owner:me type:ssh' --all --format jsonl; "
        "connlog-query fetch --extended --explain-plan 'type:ssh,vscode -status:ongoing'",
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
    add_extended_flag(fetch)
    fetch.add_argument(
        "--explain-plan",
        action="store_true",
        help="print on stderr what is sent to the server as q and what is filtered locally",
    )
    add_now_argument(fetch)
    fetch.add_argument(
        "--user-id",
        type=uuid_argument,
        metavar="UUID",
        help="your user id, needed when 'me' is in a part of an --extended query that is "
        "filtered locally",
    )
    fetch.set_defaults(handler=_fetch)


class _Usage(Exception):
    """A usage problem (exit 2)."""


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
    client: Any,
    query: str | Query,
    mode: Mode,
    page_size: int,
    update: Callable[[int, int | None], None],
) -> ConnectionLogResponse:
    from ..client import FilteredResponse

    logs: list[ConnectionLog] = []
    last = ConnectionLogResponse()
    for page in client.iter_pages(query, page_size=page_size, mode=mode):
        logs.extend(page.connection_logs)
        last = page
        if isinstance(page, FilteredResponse):
            # Progress of the scan: rows of the pushed query read, out of the server's count.
            unread = None if page.count_max is None else page.count_max - page.count
            update(page.scanned, None if unread is None else page.scanned + unread)
            continue
        capped = page.count_cap is not None and page.count > page.count_cap
        # A capped count only says "more than 2000": the bar then has no end.
        update(len(logs), None if capped else max(page.count, len(logs)))
    if isinstance(last, FilteredResponse):
        update(last.scanned, last.scanned)
        return FilteredResponse(
            connection_logs=logs, count=len(logs), count_exact=True, count_max=len(logs),
            scanned=last.scanned,
        )  # fmt: skip
    update(len(logs), len(logs))
    return ConnectionLogResponse(
        connection_logs=logs, count=max(last.count, len(logs)), count_cap=last.count_cap
    )


def _notes(plan: Plan, response: ConnectionLogResponse) -> list[str]:
    """Footer notes: that a local filter ran, and what the count means then."""
    from ..client import FilteredResponse

    if plan.residual is None:
        return []
    notes = [f"note: filtered locally with {plan.residual_text} (q sent: {plan.q or '(empty)'})"]
    if plan.pushes_nothing:
        notes.append(
            "note: no part of the query could be sent to the server; every connection log "
            "was fetched"
        )
    if isinstance(response, FilteredResponse) and not response.count_exact:
        most = "" if response.count_max is None else f", at most {response.count_max}"
        notes.append(
            f"note: the count is a lower bound: at least {response.count} rows match{most} "
            f"(reading stopped after {response.scanned} rows; --all reads every page)"
        )
    return notes


def _fetch(args: argparse.Namespace) -> int:
    query = parse_query(args)
    if query is None:
        return 2
    try:
        from ..backends.context import UnsupportedQueryError
        from ..client import Client, ClientError, InvalidQueryError
        from ..client.scan import residual_predicate
    except ImportError as exc:  # pragma: no cover - the client extra is missing
        print(f"error: `fetch` needs the client extra ({exc.name} is missing)", file=sys.stderr)
        return 2
    url = args.url or os.environ.get(_URL_ENV, "")
    token = args.token or os.environ.get(_TOKEN_ENV) or None
    mode = query_mode(args)
    when = args.now or dt.datetime.now(dt.timezone.utc)
    # The text, so that server errors point into what was typed; but relative times are
    # resolved once here, so that the plan printed is the plan run.
    sent: str | Query = query.resolve(when) if query.is_relative else args.query
    try:
        if not url:
            raise _Usage(f"no deployment URL: pass --url or set {_URL_ENV}")
        with Client(
            url, token, timeout=args.timeout, retries=args.retries, user_id=args.user_id
        ) as client:
            plan = client.plan(query, now=when)
            # Checked on the parsed query, whose spans point into the text, before sending.
            residual_predicate(plan, user_id=args.user_id)
            if args.explain_plan:
                print(plan.describe(), file=sys.stderr)
            if args.all:
                show = sys.stderr.isatty() if args.progress is None else args.progress
                with _progress_bar(show) as update:
                    response = _fetch_all(client, sent, mode, args.page_size, update)
                offset = 0
            else:
                response = client.connection_logs(
                    sent, limit=args.limit, offset=args.offset, mode=mode
                )
                offset = args.offset
    except UnsupportedQueryError as exc:
        print(exc.render(args.query), file=sys.stderr)
        return 2
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
    write_response(response, args.format, offset=offset, notes=_notes(plan, response))
    return 0
