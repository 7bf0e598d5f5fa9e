"""Run an ASGI app on loopback in a background thread, for tests and benchmarks.

Example:
    >>> from connlog_query.server.testing import serve_in_thread
    >>> with serve_in_thread(app) as base_url:  # doctest: +SKIP
    ...     Client(base_url, token="...").connection_logs("type:ssh")
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["serve_in_thread"]


@contextmanager
def serve_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yield its base URL, stop on exit.

    Args:
        app: An ASGI application.
        host: Interface to bind (loopback by default).
        port: Port to bind; ``0`` picks a free one.
        startup_timeout: Seconds to wait for the server to listen.

    Raises:
        RuntimeError: the server did not start in time.
    """
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="connlog-query-server", daemon=True)
    thread.start()
    waited = threading.Event()
    # server.started flips once the sockets listen; poll it without a busy loop.
    for _ in range(int(startup_timeout / 0.01)):
        if server.started or not thread.is_alive():
            break
        waited.wait(0.01)
    if not server.started:
        server.should_exit = True
        thread.join(startup_timeout)
        raise RuntimeError(f"uvicorn did not start on {host}:{port}")
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(startup_timeout)
