"""Helpers for the HTTP client tests: a scripted fault server and sync/async drivers."""

from __future__ import annotations

import asyncio
import contextlib
import http
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from connlog_query.client import AsyncClient, Client, RetryPolicy
from connlog_query.models import ConnectionLog, ConnectionLogResponse
from connlog_query.query import Query
from connlog_query.store.sqlite import SQLiteStore

TOKEN = "AbCdEf1234-s3cr3tS3cr3tS3cr3tS3cr3t"
"""The reference server's valid token; distinctive, so a leak is easy to grep for."""

FAST_RETRY = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.04, jitter=0.0)
"""Deterministic waits: 0.01, 0.02, 0.04."""


@dataclass
class Reference:
    """The running reference server and the store behind it."""

    url: str
    store: SQLiteStore
    alice: uuid.UUID
    seen: list[Query]


class RecordingStore:
    """A real store that also remembers the queries the server handed it."""

    def __init__(self, store: SQLiteStore, seen: list[Query]) -> None:
        self._store = store
        self._seen = seen

    def list(self, query: Query, **kwargs: Any) -> ConnectionLogResponse:
        self._seen.append(query)
        return self._store.list(query, **kwargs)


@dataclass
class Respond:
    """Answer with this status, body and headers, after ``delay`` seconds."""

    status: int = 200
    body: bytes = b'{"connection_logs":[],"count":0,"count_cap":2000}\n'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Drop:
    """Read the request, then close the connection without answering."""


@dataclass
class Seen:
    """One request as the fault server received it."""

    target: str
    headers: dict[str, str]


class FaultServer:
    """A scripted HTTP/1.1 server on loopback (one action per request, ``Connection: close``)."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._script: deque[Respond | Drop] = deque()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.url = ""

    def script(self, *actions: Respond | Drop) -> None:
        self._script.extend(actions)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "fault server did not start"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            self.requests.append(Seen(target, headers))
            action = self._script.popleft() if self._script else None
            if isinstance(action, Drop):
                return
            if action is None:
                action = Respond(599, b'{"message":"fault server: script exhausted"}')
            await asyncio.sleep(action.delay)
            extra = "".join(f"{k}: {v}\r\n" for k, v in action.headers.items())
            try:
                reason = http.HTTPStatus(action.status).phrase
            except ValueError:
                reason = "Unknown"
            writer.write(
                f"HTTP/1.1 {action.status} {reason}\r\nContent-Type: {action.content_type}\r\n"
                f"Content-Length: {len(action.body)}\r\nConnection: close\r\n{extra}\r\n".encode()
                + action.body
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()


class Api:
    """One client mode (``sync`` or ``async``) behind a blocking interface, sleeps recorded."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sleeps: list[float] = []

    def __repr__(self) -> str:
        return f"Api({self.mode})"

    def _kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("retries", FAST_RETRY)
        if self.mode == "sync":
            kwargs.setdefault("sleep", self.sleeps.append)
        else:

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            kwargs.setdefault("sleep", sleep)
        return kwargs

    def page(
        self, url: str, token: str | None, query: str | Query = "", **kwargs: Any
    ) -> ConnectionLogResponse:
        """``connection_logs(query, limit=, offset=, mode=, page_size=)``; other kwargs go to
        the constructor."""
        paging = {k: kwargs.pop(k) for k in ("limit", "offset", "mode", "page_size") if k in kwargs}
        options = self._kwargs(kwargs)
        if self.mode == "sync":
            with Client(url, token, **options) as client:
                return client.connection_logs(query, **paging)

        async def run() -> ConnectionLogResponse:
            async with AsyncClient(url, token, **options) as client:
                return await client.connection_logs(query, **paging)

        return asyncio.run(run())

    def logs(
        self, url: str, token: str | None, query: str | Query = "", **kwargs: Any
    ) -> list[ConnectionLog]:
        """``list(iter_connection_logs(query, page_size=, mode=))``."""
        paging = {k: kwargs.pop(k) for k in ("page_size", "mode") if k in kwargs}
        options = self._kwargs(kwargs)
        if self.mode == "sync":
            with Client(url, token, **options) as client:
                return list(client.iter_connection_logs(query, **paging))

        async def run() -> list[ConnectionLog]:
            async with AsyncClient(url, token, **options) as client:
                return [log async for log in client.iter_connection_logs(query, **paging)]

        return asyncio.run(run())
