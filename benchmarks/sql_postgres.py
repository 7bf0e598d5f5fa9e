"""SQL backend on PostgreSQL with 1,000,000 rows: compiled queries vs hand-written and static SQL.

For twelve representative Coder-mode queries and six extended ones (a wildcard, an OR of two
keys, two negations, free text, a relative time range) it times ``select_logs`` +
``count_logs`` (list page and capped count, as Coder's endpoint runs them) against, in the same
process and on the same data:

* **hand**: the same statement written by hand for just that filter (Coder's own predicate
  forms, e.g. ``workspace_owner_id = (SELECT id FROM users ...)``);
* **static**: one statement in Coder's sqlc style, where every filter is present as
  ``CASE WHEN <param unset> THEN true ELSE <predicate> END`` and unset ones get empty values
  (Coder-mode queries only: Coder's statement cannot express the extended ones).

All three bind LIMIT/OFFSET as parameters, as Coder's sqlc query does, and run on a default
psycopg connection (statements are prepared server-side after five executions, so PostgreSQL may
switch to a generic plan, exactly as it may for Coder: the static statement's text is the same
for every query, so whether it does depends on the plans of the queries before it). It prints
the median milliseconds and the ratios ``ours/hand`` (target <= 1.1) and ``ours/static``
(medians of ``--repeat`` samples or more: fast variants are timed more often, about 0.5 s of
samples per query), then the indexes each compiled plan uses (from ``EXPLAIN``), then the
compile time of each query relative to the Coder-mode ``owner+type+completed`` query. Relative
times resolve against a fixed clock inside the data.
The queries, baselines and printing are shared with ``sql_sqlite.py`` (``_sqlbench.py``).

Data: a dedicated schema (default ``connlog_bench``), generated server-side with
``generate_series`` on first run and reused afterwards. Run::

    .venv/bin/python benchmarks/sql_postgres.py [--dsn postgresql://...] [--rows 1000000]
        [--repeat 11] [--drop] [--quick] [--smoke]

``--quick`` times 3 repeats on the same data; ``--smoke`` runs 3,000 rows once in a schema of
its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg

import _sqlbench as sb
from connlog_query.backends import ddl
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema

SKIP = 77
FLAVOR = sb.Flavor(
    dialect="postgresql",
    placeholder="%s",
    ilike="ILIKE",
    distinct_from="IS DISTINCT FROM",
    explain=sb.explain_postgresql,
)


def md5_uuid(prefix: str, n: int) -> uuid.UUID:
    """The UUID of ``md5(prefix || n)::uuid`` (how generated rows get their ids)."""
    return uuid.UUID(hashlib.md5(f"{prefix}{n}".encode()).hexdigest())


def fill_sql(schema: Schema, rows: int) -> list[str]:
    """Server-side generation; fixed text with integer sizes only."""
    o, u, c = schema.organizations, schema.users, schema.connection_logs
    types = ",".join(f"'{t}'" for t in sb.TYPES)
    return [
        f"INSERT INTO {o} (id, name, display_name) SELECT md5('org' || g)::uuid, 'org' || g, "
        f"'Org ' || g FROM generate_series(0, {sb.ORGS - 1}) g",
        f"INSERT INTO {u} (id, username, email, created_at, deleted) "
        f"SELECT md5('user' || g)::uuid, 'user' || g, 'user' || g || '@example.com', "
        f"timestamptz '2024-01-01', g % 100 = 99 FROM generate_series(0, {sb.USERS - 1}) g",
        f"""INSERT INTO {c} (id, connect_time, organization_id, workspace_owner_id, workspace_id,
            workspace_name, agent_name, type, code, ip, user_agent, user_id, slug_or_port,
            connection_id, disconnect_time, disconnect_reason)
        SELECT md5('log' || g)::uuid,
            timestamptz '2025-01-01' + g * interval '3 seconds',
            md5('org' || (hashtext('o' || (g / 50)) & 1023) % {sb.ORGS})::uuid,
            md5('user' || (hashtext('u' || (g / 50)) & 65535) % {sb.USERS})::uuid,
            md5('ws' || (hashtext('w' || (g / 50)) & 1048575) % {sb.WORKSPACES})::uuid,
            'ws', 'main',
            (ARRAY[{types}])[1 + (hashtext('t' || g) & 1023) % {len(sb.TYPES)}],
            0, '10.0.0.1'::inet, NULL,
            CASE WHEN g % 3 = 0
                THEN md5('user' || (hashtext('c' || g) & 65535) % {sb.USERS})::uuid END,
            NULL, md5('conn' || g)::uuid,
            CASE WHEN g % 17 <> 0 THEN timestamptz '2025-01-01' + g * interval '3 seconds'
                 + interval '20 minutes' END,
            NULL
        FROM generate_series(0, {rows - 1}) g""",
    ]


def ensure_data(conn: psycopg.Connection[Any], ns: str, rows: int, drop: bool) -> Schema:
    """Create and fill the benchmark schema unless it already holds ``rows`` rows."""
    schema = Schema(f"{ns}.connection_logs", f"{ns}.users", f"{ns}.organizations")
    if drop:
        conn.execute(f'DROP SCHEMA IF EXISTS "{ns}" CASCADE')
    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{ns}"')
    statements = ddl.create_schema("postgresql", schema)
    tables = [s for s in statements if s.startswith("CREATE TABLE")]
    indexes = [s for s in statements if not s.startswith("CREATE TABLE")]
    for sql in tables:
        conn.execute(sql)
    have = conn.execute(f"SELECT count(*) FROM {schema.connection_logs}").fetchone()
    if have is not None and have[0] == rows:
        print(f"reusing {rows:,} rows in schema {ns}")
        return schema
    print(f"generating {rows:,} rows in schema {ns} ...", flush=True)
    began = time.perf_counter()
    for table in (schema.connection_logs, schema.users, schema.organizations):
        conn.execute(f"TRUNCATE {table} CASCADE")
    for sql in fill_sql(schema, rows):
        conn.execute(sql)
    for sql in indexes:
        conn.execute(sql)
    conn.execute("VACUUM ANALYZE " + schema.connection_logs)
    conn.execute("ANALYZE " + schema.users)
    conn.execute("ANALYZE " + schema.organizations)
    print(f"generated in {time.perf_counter() - began:.1f} s")
    return schema


def main(argv: list[str] | None = None) -> int:
    """Fill (or reuse) the schema, then print the comparison, the plans and compile times."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--dsn",
        default=os.environ.get("CONNLOG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    ap.add_argument("--schema", default="connlog_bench")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--drop", action="store_true", help="regenerate the data")
    ap.add_argument("--quick", action="store_true", help="3 repeats on the same data")
    ap.add_argument("--smoke", action="store_true", help="3,000 rows once, in a temporary schema")
    args = ap.parse_args(argv)
    args.budget_ms, compile_number, compile_repeat = 500.0, 300, 7
    if args.quick:
        args.repeat, args.budget_ms, compile_number = 3, 150.0, 100
    if args.smoke:
        args.schema = f"connlog_bench_smoke_{uuid.uuid4().hex[:10]}"
        args.rows, args.repeat, args.budget_ms = 3_000, 1, 0.0
        compile_number, compile_repeat = 1, 1

    try:
        conn = psycopg.connect(args.dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        print(f"skipped: no PostgreSQL at {args.dsn}: {str(exc).strip().splitlines()[0]}")
        return SKIP
    with conn:
        try:
            return compare(conn, args, compile_number, compile_repeat)
        finally:
            if args.smoke:
                conn.execute(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE')


def compare(
    conn: psycopg.Connection[Any], args: argparse.Namespace, number: int, repeat: int
) -> int:
    """The comparison proper, on an open connection."""
    schema = ensure_data(conn, args.schema, args.rows, args.drop)
    caller = md5_uuid("user", 42)
    context = CompileContext(user_id=caller, now=sb.clock(args.rows))
    org_ids = {f"org{i}": md5_uuid("org", i) for i in range(sb.ORGS)}
    row = conn.execute(
        f"SELECT workspace_id FROM {schema.connection_logs} WHERE id = %s",
        (md5_uuid("log", args.rows // 3),),
    ).fetchone()
    assert row is not None
    all_cases = sb.coder_cases(
        FLAVOR, schema, md5_uuid, caller, args.rows, row[0]
    ) + sb.extended_cases(FLAVOR, schema, args.rows)
    same = sb.compare(
        conn,
        FLAVOR,
        schema,
        all_cases,
        context=context,
        caller=caller,
        org_ids=org_ids,
        repeat=args.repeat,
        budget_ms=args.budget_ms,
    )
    if not same:
        return 1
    sb.print_compile_times(all_cases, context, schema, "postgresql", number=number, repeat=repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
