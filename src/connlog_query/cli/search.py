"""``connlog-query search`` (run a query against a store) and ``connlog-query sql`` (show its SQL).

Both take ``--extended`` (the extended language: OR, NOT, groups, lists, free text, wildcards,
relative times) and ``--now TIME`` (the clock for relative times; default: the current time).

Without ``--db``, ``search`` uses an embedded SQLite store in the user's data directory
(``platformdirs.user_data_dir("connlog-query")``, or ``$CONNLOG_QUERY_DATA_DIR``), built from
demo data the first time, with a progress bar on stderr. The file is written under a temporary
name and renamed when complete, so an interrupted first run leaves nothing half-filled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..backends.context import CompileContext
from ..backends.schema import Schema
from ..errors import QueryError
from ..expr import filters_in
from ..models import format_go_time
from ..query import Query
from ..values import ME
from .arguments import add_now_argument, parse_query, uuid_argument
from .check import add_extended_flag
from .output import add_format_argument, write_response

__all__ = [
    "DATA_DIR_ENV",
    "DEMO_FILE",
    "DEMO_LOGS",
    "DEMO_SEED",
    "data_dir",
    "ensure_demo_database",
    "register",
]

DATA_DIR_ENV = "CONNLOG_QUERY_DATA_DIR"
"""Environment variable that overrides the data directory (tests point it at a temp dir)."""

DEMO_FILE = "demo.sqlite3"
"""File name of the embedded demo store inside the data directory."""

DEMO_SEED = 2025
"""Seed of the embedded demo data (the same rows on every machine)."""

DEMO_LOGS = 20_000
"""Connection logs in the embedded demo store (enough to reach Coder's count cap)."""


def data_dir() -> Path:
    """Where the embedded store lives: ``$CONNLOG_QUERY_DATA_DIR`` or the platform data dir."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    try:
        from platformdirs import user_data_dir
    except ImportError:  # the cli extra is missing: fall back to a dot directory
        return Path.home() / ".connlog-query"
    return Path(user_data_dir("connlog-query", appauthor=False))


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    except ImportError:
        print(f"Filling the demo database ({total} connection logs)...", file=sys.stderr)
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Creating demo connection logs", total=total)
        yield lambda n: bar.advance(task, n)


def ensure_demo_database(directory: Path | None = None) -> Path:
    """The embedded demo store's file, created and filled on first use."""
    from ..demo import generate
    from ..store.sqlite import SQLiteStore

    directory = data_dir() if directory is None else directory
    path = directory / DEMO_FILE
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{DEMO_FILE}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    try:
        with _progress(DEMO_LOGS) as advance, SQLiteStore(partial) as store:
            store.create_schema()
            store.ingest(generate(seed=DEMO_SEED, n_logs=DEMO_LOGS), progress=advance)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    print(f"Created the demo database {path}", file=sys.stderr)
    return path


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _add_clock_flags(parser: argparse.ArgumentParser) -> None:
    add_extended_flag(parser)
    add_now_argument(parser)


def register(subparsers: Any) -> None:
    """Add the ``search`` and ``sql`` sub-commands."""
    search = subparsers.add_parser(
        "search",
        help="run a query against a connection-log store",
        description="Run QUERY (Coder's connection-log search language, or the extended one "
        "with --extended) against a store and print the page Coder's endpoint would return. "
        "Without --db, an embedded SQLite store filled with demo data is used (created on "
        "first use).",
        epilog="examples: connlog-query search 'type:ssh status:ongoing'; "
        "connlog-query search --extended 'type:ssh,vscode -status:completed connected:>=-24h'",
    )
    search.add_argument("query", metavar="QUERY", help="the search query, e.g. 'type:ssh'")
    search.add_argument(
        "--db",
        metavar="URL",
        help="store URL: sqlite:///file.db, sqlite:////abs/path.db, postgresql://..., "
        "mysql://..., memory:// (default: the embedded demo store)",
    )
    search.add_argument(
        "--limit", type=_non_negative, default=0, metavar="N", help="rows per page (0: 100)"
    )
    search.add_argument(
        "--offset", type=_non_negative, default=0, metavar="N", help="rows to skip (default 0)"
    )
    add_format_argument(search)
    search.add_argument(
        "--as-user",
        metavar="USERNAME",
        help="the user 'me' stands for (default for the demo data: alice)",
    )
    _add_clock_flags(search)
    search.set_defaults(handler=_search)

    sql = subparsers.add_parser(
        "sql",
        help="print the SQL WHERE clause of a query and its parameters",
        description="Compile QUERY to the parameterized WHERE condition the SQL backend runs "
        "(relative times become bound absolute times).",
    )
    sql.add_argument("query", metavar="QUERY")
    sql.add_argument(
        "--dialect",
        choices=("postgresql", "sqlite", "mysql"),
        default="postgresql",
        help="SQL dialect (default: postgresql)",
    )
    sql.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    sql.add_argument(
        "--user-id", type=uuid_argument, metavar="UUID", help="the caller's user id, for 'me'"
    )
    sql.add_argument(
        "--type-mode",
        choices=("family", "exact"),
        default="family",
        help="type filters: family expansion (Coder V2, default) or exact (V1)",
    )
    _add_clock_flags(sql)
    sql.set_defaults(handler=_sql)


def _uses_me(query: Query) -> bool:
    return any(
        node.key in ("workspace_owner", "username") and any(v is ME for v in node.values)
        for node in filters_in(query.expression())
    )


def _clock(query: Query, now: dt.datetime | None) -> tuple[dt.datetime | None, list[str]]:
    """The instant relative times resolve at, read once, and the footer note saying so."""
    if not query.is_relative:
        return now, []
    now = now or dt.datetime.now(dt.timezone.utc)
    return now, [f"now = {format_go_time(now)} (relative times are resolved at this instant)"]


def _caller(store: Any, query: Query, as_user: str | None) -> tuple[uuid.UUID | None, list[str]]:
    """The user id for ``me`` and the footer note saying who that is."""
    from ..demo import DEFAULT_USERNAME

    if as_user is not None:
        user_id = store.resolve_user(as_user)
        if user_id is None:
            raise _UsageError(f"--as-user: no user named {as_user!r} in this store")
        return user_id, ([f"me = {as_user}"] if _uses_me(query) else [])
    if not _uses_me(query):
        return None, []
    user_id = store.resolve_user(DEFAULT_USERNAME)
    if user_id is None:
        raise _UsageError("the query uses 'me': say who you are with --as-user USERNAME")
    return user_id, [f"me = {DEFAULT_USERNAME} (the default demo user; change with --as-user)"]


class _UsageError(Exception):
    """A problem with the command-line arguments (exit 2)."""


def _search(args: argparse.Namespace) -> int:
    from ..store import open_store, sqlite_path

    query = parse_query(args)
    if query is None:
        return 2
    now, clock_notes = _clock(query, args.now)
    try:
        url = args.db or f"sqlite:///{ensure_demo_database()}"
        path = sqlite_path(url)
        if path is not None and path != ":memory:" and not Path(path).is_file():
            # sqlite3 would create an empty file and then fail on the missing tables.
            raise _UsageError(f"--db: no SQLite database at {path}")
        with open_store(url) as store:
            user_id, notes = _caller(store, query, args.as_user)
            response = store.list(
                query,
                limit=args.limit,
                offset=args.offset,
                context=CompileContext(user_id=user_id, now=now),
            )
    except QueryError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # database or driver failure: report it, no traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    write_response(response, args.format, notes=[*notes, *clock_notes], offset=args.offset)
    return 0


def _param_text(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _sql(args: argparse.Namespace) -> int:
    from ..backends.sql import compile as compile_sql

    query = parse_query(args)
    if query is None:
        return 2
    now, clock_notes = _clock(query, args.now)
    try:
        fragment = compile_sql(
            query,
            args.dialect,
            context=CompileContext(user_id=args.user_id, now=now),
            schema=Schema(type_mode=args.type_mode),
        )
    except QueryError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    params = list(fragment.params) if isinstance(fragment.params, tuple) else fragment.params
    if args.format == "json":
        body: dict[str, Any] = {
            "dialect": args.dialect,
            "where": fragment.sql,
            "params": [_param_text(p) for p in params]
            if isinstance(params, list)
            else {k: _param_text(v) for k, v in params.items()},
        }
        if clock_notes:
            assert now is not None
            body["now"] = format_go_time(now)
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    print(fragment.sql)
    if params:
        print("-- parameters:")
        items = enumerate(params, 1) if isinstance(params, list) else params.items()
        for key, value in items:
            print(f"--   {key}: {value!r}")
    for note in clock_notes:
        print(f"-- {note}")
    return 0
