"""HTTP benchmark: the reference server under a loopback load generator, and client export.

The server runs as ``connlog-query serve`` in its own process (one uvicorn worker) over an
SQLite file of demo data; the load generator is a pool of concurrent requests on one
``httpx.AsyncClient`` in this process, bounded by a request count and a duration per query.

Printed, each against a baseline measured in the same run:

* requests/s, p50 and p99 latency per query; the baseline is ``GET /healthz`` on the same
  server (the cost of HTTP + uvicorn + Starlette with no work), and the in-process
  ``store.list`` time of the same query (the work without HTTP);
* client export throughput (rows/s) of ``Client.iter_connection_logs`` over every row, against
  paging the same rows through ``store.list`` in-process;
* extended-query export: rows/s of an extended query the client splits into a pushed ``q`` and
  a residual filtered locally, against exporting the same rows with an equivalent Coder-only
  query (the server does all the filtering). The rows read say how much the residual drops.

Usage: ``python benchmarks/http_server.py [--quick | --smoke] [--logs 20000] [--requests 1000]
[--duration 5] [--concurrency 16] [--page-size 500] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from connlog_query import parse
from connlog_query.backends.context import CompileContext
from connlog_query.client import Client, FilteredResponse
from connlog_query.client.plan import plan
from connlog_query.demo import generate
from connlog_query.store.sqlite import SQLiteStore

TOKEN = "BeNcH12345-benchbenchbenchbenchbe"
QUERIES = (
    "",
    "type:ssh status:ongoing",
    "workspace_owner:me",
    "organization:acme type:vscode",
    'connected_after:"2025-07-20T00:00:00Z" status:completed',
)


@contextmanager
def server(db: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connlog_query", "serve", "--db", f"sqlite:///{db}",
         "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"CODER_URL=(\S+)", line)
            if found:
                url = found.group(1)
                break
        else:
            raise RuntimeError("the server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def load(url: str, params: dict[str, str], requests: int, duration: float, concurrency: int
               ) -> tuple[float, list[float]]:  # fmt: skip
    """Requests/s and the latencies (s) of up to ``requests`` GETs within ``duration``."""
    latencies: list[float] = []
    remaining = requests
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Coder-Session-Token": TOKEN}
    async with httpx.AsyncClient(base_url=url, limits=limits, headers=headers) as client:
        path = "/healthz" if params.get("healthz") else "/api/v2/connectionlog"
        query = {k: v for k, v in params.items() if k != "healthz"}

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                start = time.perf_counter()
                response = await client.get(path, params=query)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

        await client.get(path, params=query)  # warm the connection and the server's caches
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def store_ms(store: SQLiteStore, text: str, user: object, repeat: int = 30) -> float:
    query = parse(text)
    context = CompileContext(user_id=user)  # type: ignore[arg-type]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        store.list(query, limit=100, context=context)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


EXPORTS = (
    # (extended query, the Coder-only query selecting the same rows)
    ("type:ssh -status:ongoing", "type:ssh status:completed"),
    ("status:completed type:ssh,vscode -type:vscode", "type:ssh status:completed"),
)
"""Extended exports: the first residual keeps most pushed rows, the second few of them."""


def export(url: str, text: str, page_size: int, extended: bool) -> tuple[float, list[str], int]:
    """Seconds, row ids and rows read for ``iter_pages`` of ``text`` over every page."""
    rows: list[str] = []
    read = 0
    start = time.perf_counter()
    with Client(url, TOKEN, extended=extended) as client:
        for page in client.iter_pages(text, page_size=page_size):
            rows.extend(str(log.id) for log in page.connection_logs)
            read = page.scanned if isinstance(page, FilteredResponse) else len(rows)
    return time.perf_counter() - start, rows, read


def extended_exports(url: str, page_size: int, repeat: int) -> list[str]:
    """The extended-query export table (median seconds over ``repeat`` runs), as lines."""
    lines = [
        f"\nExtended-query export, page size {page_size}, median of {repeat} runs:\n",
        "| export | q sent | filtered locally | rows | rows read | rows/s | vs Coder-only |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for text, coder in EXPORTS:
        runs = [export(url, coder, page_size, False) for _ in range(repeat)]
        base_s = statistics.median(r[0] for r in runs)
        base_rows = runs[0][1]
        ext_runs = [export(url, text, page_size, True) for _ in range(repeat)]
        ext_s = statistics.median(r[0] for r in ext_runs)
        _, rows, read = ext_runs[0]
        assert rows == base_rows, f"{text!r} and {coder!r} export different rows"
        split = plan(parse(text, mode="extended"))
        base_rate, rate = len(base_rows) / base_s, len(rows) / ext_s
        lines.append(
            f"| Coder-only `{coder}` (baseline) | `{coder}` | | {len(base_rows)} | "
            f"{len(base_rows)} | {base_rate:.0f} | 1.000 |"
        )
        lines.append(
            f"| extended `{text}` | `{split.q}` | `{split.residual_text}` | {len(rows)} | "
            f"{read} | {rate:.0f} | {rate / base_rate:.3f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs per extended export")
    parser.add_argument("--quick", action="store_true", help="5000 rows, 300 requests, 2 s")
    parser.add_argument("--smoke", action="store_true", help="60 rows, a few requests, once")
    args = parser.parse_args(argv)
    if args.quick:
        args.logs, args.requests, args.duration = 5000, 300, 2.0
    if args.smoke:
        args.logs, args.requests, args.duration, args.concurrency = 60, 4, 0.5, 2
        args.page_size, args.repeat = 25, 1

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = SQLiteStore(db)
        store.create_schema()
        store.ingest(generate(seed=2025, n_logs=args.logs))
        alice = store.resolve_user("alice")
        print(
            f"SQLite demo store of {args.logs} rows served by `connlog-query serve` (one uvicorn "
            f"worker); at most {args.requests} requests or {args.duration} s per cell; latency "
            f"with one request at a time (c=1), throughput with c={args.concurrency}; "
            f"{os.cpu_count()} CPUs.\n"
        )
        print(
            "| query | c=1 p50 ms | c=1 p99 ms | store.list ms | p50 / store | "
            f"c={args.concurrency} req/s | c={args.concurrency} p99 ms | req/s vs healthz |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")

        with server(db) as url:

            def run(params: dict[str, str], concurrency: int) -> tuple[float, list[float]]:
                return asyncio.run(load(url, params, args.requests, args.duration, concurrency))

            base_rps = 0.0
            for text in (None, *QUERIES):
                params = {"healthz": "1"} if text is None else {"q": text}
                _, alone = run(params, 1)
                rps, loaded = run(params, args.concurrency)
                p50 = pct(alone, 0.5) * 1e3
                if text is None:
                    base_rps = rps
                    label, direct, vs_store = "`GET /healthz` (baseline)", "", ""
                else:
                    ms = store_ms(store, text, alice)
                    label = f"`{text}`" if text else "(empty)"
                    direct, vs_store = f"{ms:.2f}", f"{p50 / ms:.2f}"
                print(
                    f"| {label} | {p50:.2f} | {pct(alone, 0.99) * 1e3:.2f} | {direct} | "
                    f"{vs_store} | {rps:.0f} | {pct(loaded, 0.99) * 1e3:.1f} | "
                    f"{rps / base_rps:.3f} |"
                )

            # Export: every row, page by page, through the client vs store.list in-process.
            start = time.perf_counter()
            with Client(url, TOKEN) as client:
                exported = sum(1 for _ in client.iter_connection_logs("", page_size=args.page_size))
            http_s = time.perf_counter() - start
            start = time.perf_counter()
            direct_rows, offset = 0, 0
            while True:
                page = store.list(parse(""), limit=args.page_size, offset=offset)
                direct_rows += len(page.connection_logs)
                offset += len(page.connection_logs)
                if len(page.connection_logs) < args.page_size:
                    break
            direct_s = time.perf_counter() - start
            extended = extended_exports(url, args.page_size, args.repeat)
        store.close()
        assert exported == direct_rows == args.logs, (exported, direct_rows)
        http_rate, direct_rate = exported / http_s, direct_rows / direct_s
        print(f"\nExport of all {exported} rows, page size {args.page_size}:\n")
        print("| path | rows/s | vs baseline |")
        print("|---|---:|---:|")
        print(f"| `Client.iter_connection_logs` over HTTP | {http_rate:.0f} | "
              f"{http_rate / direct_rate:.3f} |")  # fmt: skip
        print(f"| `store.list` pages in-process (baseline) | {direct_rate:.0f} | 1.000 |")
        print("\n".join(extended))
    return 0


if __name__ == "__main__":
    sys.exit(main())
