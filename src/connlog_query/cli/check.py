"""``connlog-query check`` and ``connlog-query explain``: validate a query, show its AST."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from typing import Any

from ..apps import matching_types
from ..errors import QueryError
from ..parser import parse
from ..query import Query
from ..values import ConnectionStatus, ConnectionType, Me

__all__ = ["add_extended_flag", "describe", "parse_or_report", "register"]


def register(subparsers: Any) -> None:
    """Add the ``check`` and ``explain`` sub-commands."""
    check = subparsers.add_parser(
        "check",
        help="validate a query; print its canonical form or the errors",
        description="Validate QUERY exactly as Coder would. Exit 0 and print the canonical "
        "form, or exit 2 and print every error with a caret and a hint.",
    )
    check.add_argument("query", metavar="QUERY")
    check.add_argument(
        "--json", action="store_true", help="print errors as Coder's JSON 400 body instead"
    )
    add_extended_flag(check)
    check.set_defaults(handler=_check)

    explain = subparsers.add_parser(
        "explain",
        help="show the parsed filters of a query",
        description="Parse QUERY and show each active filter with its typed value and meaning.",
    )
    explain.add_argument("query", metavar="QUERY")
    explain.add_argument("--json", action="store_true", help="print the AST as JSON")
    add_extended_flag(explain)
    explain.set_defaults(handler=_explain)


def add_extended_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--extended`` (parse with the extended language) to a sub-command."""
    parser.add_argument(
        "--extended",
        action="store_true",
        help="use the extended language (OR, NOT, groups, lists, free text, wildcards, "
        "relative times)",
    )


def parse_or_report(text: str, args: argparse.Namespace, as_json: bool = False) -> Query | None:
    """Parse ``text`` in the mode ``args`` selects; print the errors and return None if invalid."""
    return _parse_or_report(text, as_json, getattr(args, "extended", False))


def _parse_or_report(text: str, as_json: bool, extended: bool = False) -> Query | None:
    try:
        return parse(text, mode="extended" if extended else "coder")
    except QueryError as exc:
        if as_json:
            print(json.dumps(exc.to_response(), indent=2), file=sys.stderr)
        else:
            print(exc.render(text), file=sys.stderr)
        return None


def _check(args: argparse.Namespace) -> int:
    query = _parse_or_report(args.query, args.json, args.extended)
    if query is None:
        return 2
    print(query.to_string())
    for warning in query.warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    return 0


def _explain(args: argparse.Namespace) -> int:
    query = _parse_or_report(args.query, args.json, args.extended)
    if query is None:
        return 2
    if args.json:
        print(json.dumps(query.model_dump(mode="json", exclude_none=True), indent=2))
        return 0
    print(query.explain())
    if query.where is not None:
        print(f"extended form: {query.to_string('extended')}")
    filters = query.filters()
    if query.is_empty:
        print("(no filters: every connection log matches)")
        return 0
    width = max(len(key) for key in filters)
    for key, value in filters.items():
        print(f"{key.ljust(width)}  {describe(key, value)}")
    return 0


def describe(key: str, value: Any) -> str:
    """One line saying what the filter ``key`` with ``value`` selects."""
    if isinstance(value, Me):
        who = "the workspace owner" if key == "workspace_owner" else "the connecting user"
        return f"me: {who} is the caller"
    if isinstance(value, ConnectionType):
        family = ", ".join(matching_types(value))
        return f"{value.value}: type is {value.value} (newest Coder also matches: {family})"
    if isinstance(value, ConnectionStatus):
        state = "still open" if value is ConnectionStatus.ONGOING else "disconnected"
        return f"{value.value}: session {state}; web events (apps, ports, tunnels) excluded"
    if isinstance(value, dt.datetime):
        bound = "at or after" if key == "connected_after" else "at or before"
        return f"connected {bound} {value.isoformat()} (UTC)"
    if isinstance(value, uuid.UUID):
        return f"{value} (UUID)"
    meanings = {
        "organization": "organization named {!r} (resolved to its id when run)",
        "workspace_owner": "workspace owned by user {!r} (case-insensitive, not deleted)",
        "workspace_owner_email": "workspace owner's email is exactly {!r}",
        "username": "connecting user {!r} (case-insensitive, not deleted)",
        "user_email": "connecting user's email is exactly {!r}",
    }
    return meanings.get(key, "{!r}").format(value)
