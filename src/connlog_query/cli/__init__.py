"""The ``connlog-query`` command line: a thin consumer of the public API.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module is
imported only when the command line is built, so optional extras (rich, httpx, uvicorn) are
loaded only by the commands that need them.

Exit codes: 0 success, 1 runtime failure (database, network), 2 invalid query or usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

_COMMAND_MODULES = ("check", "search", "fetch", "serve")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="connlog-query",
        description="Parse, check and run Coder connection-log search queries.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{__name__}."):
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
