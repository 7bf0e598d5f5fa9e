"""``connlog-query serve``: run the reference server (Coder's ``GET /api/v2/connectionlog``).

Without ``--db`` it serves the same embedded SQLite demo store that ``search`` uses (created on
first use). One session token is accepted: ``--token`` or a random one in Coder's format
(``<10 chars>-<22 chars>``), printed at start-up and mapped to a demo user, so ``me`` works.
``--extended`` makes it read ``q`` in the extended language.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import string
import sys
import uuid
from pathlib import Path
from typing import Any

__all__ = ["generate_token", "listening_socket", "register"]

_ALPHABET = string.ascii_letters + string.digits


def generate_token() -> str:
    """A random session token shaped like Coder's API keys (``<id 10>-<secret 22>``)."""
    key_id = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(22))
    return f"{key_id}-{secret}"


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``0``: any free port) for uvicorn to serve on.

    Bound here rather than by uvicorn so that the real port is known before serving starts.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on accepted sockets whose proto is
    # IPPROTO_TCP, and without it every small answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535 (0: any free port)")
    return value


def register(subparsers: Any) -> None:
    """Add the ``serve`` sub-command."""
    serve = subparsers.add_parser(
        "serve",
        help="serve Coder's connection-log API from a store (the reference server)",
        description="Serve GET /api/v2/connectionlog with Coder's exact wire behaviour over a "
        "store. Without --db, the embedded SQLite demo store is used (created on first use).",
        epilog="then: CODER_URL=<printed URL> CODER_SESSION_TOKEN=<printed token> "
        "connlog-query fetch 'workspace_owner:me'",
    )
    serve.add_argument(
        "--db",
        metavar="URL",
        help="store URL: sqlite:///file.db, postgresql://..., mysql://..., memory:// "
        "(default: the embedded demo store)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=3000, help="port (default 3000, Coder's; 0: any free port)"
    )
    serve.add_argument(
        "--token", metavar="TOKEN", help="the accepted session token (default: a random one)"
    )
    serve.add_argument(
        "--as-user",
        metavar="USERNAME",
        help="the user the token belongs to, i.e. who 'me' is (default: alice)",
    )
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (uvicorn access log)"
    )
    serve.add_argument(
        "--extended",
        action="store_true",
        help="read the q parameter in the extended language (negation, OR, lists, free text, "
        "wildcards, relative times) instead of Coder's",
    )
    serve.set_defaults(handler=_serve)


def _open(url: str | None) -> Any:
    from ..store import open_store, sqlite_path
    from .search import ensure_demo_database

    url = url or f"sqlite:///{ensure_demo_database()}"
    path = sqlite_path(url)
    if path is not None and path != ":memory:" and not Path(path).is_file():
        raise ValueError(f"--db: no SQLite database at {path}")
    return open_store(url)


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..demo import DEFAULT_USERNAME
        from ..server.app import create_app
    except ImportError as exc:  # pragma: no cover - the server extra is missing
        print(f"error: `serve` needs the server extra ({exc.name} is missing)", file=sys.stderr)
        return 2
    token = args.token or generate_token()
    username = args.as_user or DEFAULT_USERNAME
    try:
        store = _open(args.db)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    notes = []
    user_id = store.resolve_user(username)
    if user_id is None:
        if args.as_user:
            print(f"error: --as-user: no user named {username!r} in this store", file=sys.stderr)
            store.close()
            return 2
        user_id = uuid.uuid4()
        notes.append(f"note: no user {username!r} in this store, so 'me' matches nothing")

    def authenticate(candidate: str) -> uuid.UUID | None:
        return user_id if secrets.compare_digest(candidate, token) else None

    app = create_app(
        store, authenticate=authenticate, mode="extended" if args.extended else "coder"
    )
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        store.close()
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    print(f"Serving Coder's connection-log API at {url}/api/v2/connectionlog")
    print(f"Session token: {token}  (user {username})")
    if args.extended:
        print("Query language: extended (q may use NOT, OR, lists, free text, wildcards)")
    for note in notes:
        print(note)
    print(f"Try: CODER_URL={url} CODER_SESSION_TOKEN={token} connlog-query fetch 'type:ssh'")
    print("Press Ctrl+C to stop.", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=args.access_log, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        store.close()
    return 0
