"""Soak test of the reference server on PostgreSQL: load for a while, then check it held up.

A loopback load generator (asyncio + httpx, bounded concurrency, bounded duration) sends a mix
of valid queries, invalid queries and malformed requests (bad and repeated pagination
parameters, repeated ``q``, invalid UTF-8, a 60 KB ``q``, a missing token) to the reference
server serving a PostgreSQL store. It reports requests/s and latency percentiles, and checks:

* no 5xx answer, and every 4xx answer has Coder's JSON shape (``message`` + optional
  ``validations``/``detail``);
* no leaked database connections (the server's PostgreSQL sessions, counted by
  ``application_name``, are the same before and after);
* no leaked sockets (open file descriptors return to the level before the load);
* bounded memory (resident set growth after a warm-up phase).

Run: ``python benchmarks/soak_server.py [--seconds 60] [--concurrency 16]``. The test suite
runs :func:`run_soak` for a short time (``CONNLOG_SOAK_SECONDS`` sets it; CI uses 60).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PG_DSN = os.environ.get("CONNLOG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "soak-token"

_VALID = [
    "type:ssh status:ongoing",
    "workspace_owner:me",
    "workspace_owner:bob type:vscode",
    'connected_after:"2025-07-20T00:00:00Z" status:completed',
    "username:alice",
    "organization:acme type:workspace_app",
    "",
]
_INVALID = ["status:connected", "typ:ssh", "connected_after:2025-07-01T00:00:00Z", "hello world"]
_MALFORMED = [
    "limit=abc",
    "limit=-1",
    "offset=99999999999",
    "limit=1&limit=2",
    "q=type:ssh&q=status:bogus",
    "q=%ff%fe",
    "q=" + "x" * 60_000,
]


@dataclass
class SoakReport:
    """What a soak run saw."""

    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    bad_bodies: list[str] = field(default_factory=list)
    db_sessions_before: int = 0
    db_sessions_after: int = 0
    fds_before: int = 0
    fds_after: int = 0
    rss_after_warmup_kib: int = 0
    rss_after_kib: int = 0
    rss_samples_kib: list[int] = field(default_factory=list)
    """Resident set size sampled every second during the measured load."""

    @property
    def rss_late_growth_kib(self) -> int:
        """RSS growth over the second half of the measured load (a leak keeps growing)."""
        if len(self.rss_samples_kib) < 4:
            return self.rss_after_kib - self.rss_after_warmup_kib
        half = len(self.rss_samples_kib) // 2
        return max(self.rss_samples_kib[half:]) - max(self.rss_samples_kib[:half])

    @property
    def server_errors(self) -> int:
        """Number of 5xx answers."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        """A few readable lines."""
        lat = sorted(self.latencies_ms) or [0.0]
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return "\n".join(
            [
                f"| requests | {self.requests} in {self.seconds:.1f} s "
                f"({self.requests / max(self.seconds, 1e-9):.0f} req/s) |",
                f"| latency | p50 {p50:.1f} ms, p99 {p99:.1f} ms |",
                f"| statuses | {dict(sorted(self.statuses.items()))} |",
                f"| 5xx / non-Coder bodies | {self.server_errors} / {len(self.bad_bodies)} |",
                f"| db sessions before / after | {self.db_sessions_before} / "
                f"{self.db_sessions_after} |",
                f"| open fds before / after | {self.fds_before} / {self.fds_after} |",
                f"| RSS after warm-up / end | {self.rss_after_warmup_kib // 1024} MiB / "
                f"{self.rss_after_kib // 1024} MiB |",
                f"| RSS growth over the second half | {self.rss_late_growth_kib // 1024} MiB |",
            ]
        )


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _coder_shaped(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return False
    allowed = {"message", "detail", "validations"}
    if set(body) - allowed:
        return False
    return all(set(item) == {"field", "detail"} for item in body.get("validations", []))


def _targets(rounds: int) -> list[str]:
    from urllib.parse import quote

    paths = []
    for i in range(rounds):
        paths.append("q=" + quote(_VALID[i % len(_VALID)]) + "&limit=25")
        if i % 3 == 0:
            paths.append("q=" + quote(_INVALID[i % len(_INVALID)]))
        if i % 5 == 0:
            paths.append(_MALFORMED[i % len(_MALFORMED)])
    return paths


async def _load(url: str, seconds: float, concurrency: int, report: SoakReport) -> None:
    import httpx

    targets = _targets(200)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                target = targets[i % len(targets)]
                i += concurrency
                headers = {} if i % 97 == 0 else {"Coder-Session-Token": TOKEN}
                start = time.perf_counter()
                response = await client.get(f"/api/v2/connectionlog?{target}", headers=headers)
                report.latencies_ms.append((time.perf_counter() - start) * 1000)
                report.requests += 1
                report.statuses[response.status_code] += 1
                if response.status_code >= 400 and not _coder_shaped(response.json()):
                    report.bad_bodies.append(response.text[:200])

        async def sample() -> None:
            while time.perf_counter() < deadline:
                report.rss_samples_kib.append(_rss_kib())
                await asyncio.sleep(1.0)

        await asyncio.gather(sample(), *(worker(k) for k in range(concurrency)))


def _db_sessions(dsn: str, application_name: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    return int(row[0]) if row else 0


def run_soak(
    seconds: float = 60.0, *, concurrency: int = 16, n_logs: int = 5000, dsn: str = PG_DSN
) -> SoakReport:
    """Serve a PostgreSQL demo store and load it for ``seconds``; see the module docstring."""
    from connlog_query.demo import generate
    from connlog_query.server.app import create_app
    from connlog_query.server.testing import serve_in_thread
    from connlog_query.store.postgres import PostgresStore

    app_name = f"connlog-soak-{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in dsn else "?"
    server_dsn = f"{dsn}{separator}application_name={app_name}"
    db_schema = f"soak_{uuid.uuid4().hex[:8]}"
    report = SoakReport()
    store = PostgresStore(server_dsn, db_schema=db_schema)
    try:
        store.create_schema()
        store.ingest(generate(seed=3, n_logs=n_logs))
        alice = store.resolve_user("alice")
        app = create_app(store, authenticate=lambda token: alice if token == TOKEN else None)
        with serve_in_thread(app) as url:
            report.db_sessions_before = _db_sessions(dsn, app_name)
            report.fds_before = _fds()
            warmup = min(5.0, seconds / 4)
            asyncio.run(_load(url, warmup, concurrency, report))
            report.rss_samples_kib.clear()
            report.rss_after_warmup_kib = _rss_kib()
            start = time.perf_counter()
            asyncio.run(_load(url, seconds - warmup, concurrency, report))
            report.seconds = time.perf_counter() - start + warmup
            report.rss_after_kib = _rss_kib()
            # The server closes its side of each keep-alive socket once it reads the client's
            # close; give it a moment before counting.
            for _ in range(50):
                report.fds_after = _fds()
                if report.fds_after <= report.fds_before:
                    break
                time.sleep(0.1)
            report.db_sessions_after = _db_sessions(dsn, app_name)
    finally:
        store.drop_db_schema()
        store.close()
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: run a soak and print the report as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="10 seconds")
    parser.add_argument("--smoke", action="store_true", help="2 seconds, tiny data")
    args = parser.parse_args(argv)
    seconds = 2.0 if args.smoke else 10.0 if args.quick else args.seconds
    report = run_soak(seconds, concurrency=args.concurrency, n_logs=300 if args.smoke else 5000)
    print("| soak (reference server on PostgreSQL) | |")
    print("|---|---|")
    print(report.summary())
    return 1 if report.server_errors or report.bad_bodies else 0


if __name__ == "__main__":
    sys.exit(main())
