"""Median ms of ``SQLiteStore.list()`` on demo data, against the same two SQL statements run raw.

The baseline executes the count and list statements the store would run (compiled once, before
timing; median and spread over repeats) and fetches the raw tuples: the database's share of the work. The ratio shows what the
store adds on top (compiling the query, resolving names, decoding rows, building Coder's JSON
models). Both run in the same process on the same connection.

Run: ``python benchmarks/store_list.py [--logs N] [--repeat R] [--quick] [--smoke]`` (default
200,000 rows, in memory).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from connlog_query import parse
from connlog_query.backends.context import CompileContext
from connlog_query.backends.sql import count_logs, select_logs
from connlog_query.demo import generate
from connlog_query.store import SQLiteStore

QUERIES = [
    "",
    "type:ssh status:ongoing",
    "workspace_owner:bob",
    "username:alice type:workspace_app",
    "organization:coder type:vscode status:completed",
    'connected_after:"2025-07-20T00:00:00Z" connected_before:"2025-07-21T00:00:00Z"',
    "user_email:mallory@example.com",
    "workspace_owner:nobody",
]


def timings_ms(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and spread (max - min) of ``func()`` wall time in milliseconds."""
    func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples), max(samples) - min(samples)


def main(argv: list[str] | None = None) -> int:
    """Fill an in-memory SQLite store and print one table row per query."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--logs", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="20,000 rows, 5 repeats")
    ap.add_argument("--smoke", action="store_true", help="200 rows, once")
    args = ap.parse_args(argv)
    if args.quick:
        args.logs, args.repeat = 20_000, 5
    if args.smoke:
        args.logs, args.repeat = 200, 1

    data = generate(seed=1, n_logs=args.logs)
    store = SQLiteStore()
    store.create_schema()
    start = time.perf_counter()
    store.ingest(data)
    print(f"ingest: {args.logs:,} rows in {time.perf_counter() - start:.2f} s (in-memory SQLite)")
    print()
    conn = store._conn  # the baseline runs on the store's own connection
    context = CompileContext(organization_resolver=store.resolve_organization)

    print("| query | list() ms | spread | raw SQL ms | spread | ratio | rows / count |")
    print("|---|---|---|---|---|---|---|")
    for text in QUERIES:
        query = parse(text)
        count_sql = count_logs(query, "sqlite", context=context)
        list_sql = select_logs(query, "sqlite", context=context)

        def raw(c: Any = count_sql, s: Any = list_sql) -> object:
            (n,) = conn.execute(c.sql, c.params).fetchone()
            return conn.execute(s.sql, s.params).fetchall() if n else []

        page = store.list(query)
        ours, ours_spread = timings_ms(lambda q=query: store.list(q), args.repeat)
        base, base_spread = timings_ms(raw, args.repeat)
        label = f"`{text}`" if text else "(empty)"
        print(
            f"| {label} | {ours:.2f} | {ours_spread:.2f} | {base:.2f} | {base_spread:.2f} "
            f"| {ours / base if base else float('inf'):.2f} "
            f"| {len(page.connection_logs)} / {page.count} |"
        )
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
