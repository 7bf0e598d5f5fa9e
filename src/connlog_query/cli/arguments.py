"""Argument types and flags shared by the sub-commands that run a query (``search``, ``sql``,
``fetch``): ``--now``, ``--user-id`` and reading ``QUERY`` in the language ``--extended`` picks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid

from ..errors import QueryError
from ..parser import Mode, parse
from ..query import Query

__all__ = ["add_now_argument", "parse_query", "query_mode", "rfc3339_time", "uuid_argument"]


def rfc3339_time(text: str) -> dt.datetime:
    """An argparse type: an RFC 3339 time with a zone, as an aware UTC datetime."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time such as 2025-07-28T18:00:00Z, got {text!r}"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (Z or an offset), got {text!r}")
    return value.astimezone(dt.timezone.utc)


def uuid_argument(text: str) -> uuid.UUID:
    """An argparse type: a UUID."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a UUID, got {text!r}") from None


def add_now_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--now TIME``, the clock relative times resolve at (``args.now``, default None)."""
    parser.add_argument(
        "--now",
        type=rfc3339_time,
        metavar="TIME",
        help="the clock for relative times such as connected:>=-24h (RFC 3339; default: now)",
    )


def query_mode(args: argparse.Namespace) -> Mode:
    """The language ``args.query`` is read in: ``"extended"`` with ``--extended``."""
    return "extended" if args.extended else "coder"


def parse_query(args: argparse.Namespace) -> Query | None:
    """Parse ``args.query`` (mode and clock from ``args``); print the errors and return None."""
    try:
        return parse(args.query, mode=query_mode(args), now=args.now)
    except QueryError as exc:
        print(str(exc), file=sys.stderr)
        return None
