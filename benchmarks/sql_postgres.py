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
switch to a generic plan, exactly as it may for Coder). It prints the median milliseconds and
the ratios ``ours/hand`` (target <= 1.1) and ``ours/static``, then the indexes each compiled
plan uses (from ``EXPLAIN``), then the compile time of each query relative to the Coder-mode
``owner+type+completed`` query. Relative times resolve against a fixed clock inside the data.

Data: a dedicated schema (default ``connlog_bench``), generated server-side with
``generate_series`` on first run and reused afterwards. Run::

    .venv/bin/python benchmarks/sql_postgres.py [--dsn postgresql://...] [--rows 1000000]
        [--repeat 11] [--drop]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from _timing import per_call_us
from connlog_query import ME, Query, parse
from connlog_query.apps import matching_types
from connlog_query.backends import ddl
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema
from connlog_query.backends.sql import count_logs, select_logs

ORGS = 50
USERS = 2_000
WORKSPACES = 20_000
NIL = uuid.UUID(int=0)
ZERO_TIME = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
STEP = dt.timedelta(seconds=3)


def md5_uuid(prefix: str, n: int) -> uuid.UUID:
    """The UUID of ``md5(prefix || n)::uuid`` (how generated rows get their ids)."""
    return uuid.UUID(hashlib.md5(f"{prefix}{n}".encode()).hexdigest())


def fill_sql(schema: Schema, rows: int) -> list[str]:
    """Server-side generation; fixed text with integer sizes only."""
    o, u, c = schema.organizations, schema.users, schema.connection_logs
    types = "'ssh','vscode','cursor','zed','jetbrains','reconnecting_pty','workspace_app',"
    types += "'port_forwarding','tunnel','windsurf','code_server','sftp'"
    return [
        f"INSERT INTO {o} (id, name, display_name) SELECT md5('org' || g)::uuid, 'org' || g, "
        f"'Org ' || g FROM generate_series(0, {ORGS - 1}) g",
        f"INSERT INTO {u} (id, username, email, created_at, deleted) "
        f"SELECT md5('user' || g)::uuid, 'user' || g, 'user' || g || '@example.com', "
        f"timestamptz '2024-01-01', g % 100 = 99 FROM generate_series(0, {USERS - 1}) g",
        f"""INSERT INTO {c} (id, connect_time, organization_id, workspace_owner_id, workspace_id,
            workspace_name, agent_name, type, code, ip, user_agent, user_id, slug_or_port,
            connection_id, disconnect_time, disconnect_reason)
        SELECT md5('log' || g)::uuid,
            timestamptz '2025-01-01' + g * interval '3 seconds',
            md5('org' || (hashtext('o' || (g / 50)) & 1023) % {ORGS})::uuid,
            md5('user' || (hashtext('u' || (g / 50)) & 65535) % {USERS})::uuid,
            md5('ws' || (hashtext('w' || (g / 50)) & 1048575) % {WORKSPACES})::uuid,
            'ws', 'main',
            (ARRAY[{types}])[1 + (hashtext('t' || g) & 1023) % 12],
            0, '10.0.0.1'::inet, NULL,
            CASE WHEN g % 3 = 0 THEN md5('user' || (hashtext('c' || g) & 65535) % {USERS})::uuid END,
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


# --- hand-written and static statements -----------------------------------------------------

SELECT_COLUMNS = """cl.id, cl.connect_time, cl.organization_id, cl.workspace_owner_id,
  cl.workspace_id, cl.workspace_name, cl.agent_name, cl.type, cl.code, cl.ip, cl.user_agent,
  cl.user_id, cl.slug_or_port, cl.connection_id, cl.disconnect_time, cl.disconnect_reason,
  owner_user.username, org.name, org.display_name, org.icon, conn_user.username,
  conn_user.email, conn_user.name, conn_user.created_at, conn_user.updated_at,
  conn_user.last_seen_at, conn_user.status, conn_user.login_type, conn_user.avatar_url"""


def joins(s: Schema, *, user: bool = True) -> str:
    out = (
        f"FROM {s.connection_logs} cl\n"
        f"JOIN {s.users} owner_user ON owner_user.id = cl.workspace_owner_id\n"
    )
    if user:
        out += f"LEFT JOIN {s.users} conn_user ON conn_user.id = cl.user_id\n"
    return out + f"JOIN {s.organizations} org ON org.id = cl.organization_id\n"


def hand_statements(s: Schema, where: str, params: tuple[Any, ...]) -> list[tuple[str, Any]]:
    """List page + capped count, written by hand for one predicate."""
    page = (
        f"SELECT {SELECT_COLUMNS}\n{joins(s)}WHERE {where}\n"
        "ORDER BY cl.connect_time DESC, cl.id DESC LIMIT %s OFFSET %s"
    )
    count = f"SELECT count(*) FROM (SELECT 1 {joins(s, user=False)}WHERE {where} LIMIT %s) c"
    return [(page, (*params, 100, 0)), (count, (*params, 2001))]


def static_where(s: Schema) -> str:
    live_name = (
        f"(SELECT id FROM {s.users} WHERE lower(username) = lower(%(name)s) AND NOT deleted)"
    )
    return f"""
    CASE WHEN %(org)s::uuid = '{NIL}'::uuid THEN true ELSE cl.organization_id = %(org)s END
    AND CASE WHEN %(owner)s::text = '' THEN true ELSE cl.workspace_owner_id =
        {live_name.replace("%(name)s", "%(owner)s")} END
    AND CASE WHEN %(owner_id)s::uuid = '{NIL}'::uuid THEN true
        ELSE cl.workspace_owner_id = %(owner_id)s END
    AND CASE WHEN %(owner_email)s::text = '' THEN true ELSE cl.workspace_owner_id =
        (SELECT id FROM {s.users} WHERE email = %(owner_email)s AND NOT deleted) END
    AND CASE WHEN cardinality(%(types)s::text[]) = 0 THEN true
        ELSE cl.type = ANY(%(types)s::text[]) END
    AND CASE WHEN %(user_id)s::uuid = '{NIL}'::uuid THEN true ELSE cl.user_id = %(user_id)s END
    AND CASE WHEN %(username)s::text = '' THEN true ELSE cl.user_id =
        {live_name.replace("%(name)s", "%(username)s")} END
    AND CASE WHEN %(user_email)s::text = '' THEN true ELSE conn_user.email = %(user_email)s END
    AND CASE WHEN %(after)s::timestamptz = '{ZERO_TIME.isoformat()}'::timestamptz THEN true
        ELSE cl.connect_time >= %(after)s END
    AND CASE WHEN %(before)s::timestamptz = '{ZERO_TIME.isoformat()}'::timestamptz THEN true
        ELSE cl.connect_time <= %(before)s END
    AND CASE WHEN %(ws)s::uuid = '{NIL}'::uuid THEN true ELSE cl.workspace_id = %(ws)s END
    AND CASE WHEN %(conn)s::uuid = '{NIL}'::uuid THEN true ELSE cl.connection_id = %(conn)s END
    AND CASE WHEN %(status)s::text = '' THEN true
        ELSE ((%(status)s = 'ongoing' AND cl.disconnect_time IS NULL)
              OR (%(status)s = 'completed' AND cl.disconnect_time IS NOT NULL))
             AND cl.type NOT IN ('workspace_app', 'port_forwarding', 'tunnel') END"""


def static_params(q: Query, caller: uuid.UUID, org_ids: dict[str, uuid.UUID]) -> dict[str, Any]:
    """Coder's style: every parameter present, unset ones as empty/zero values."""
    org = q.organization
    if isinstance(org, str):
        org = org_ids[org]  # Coder resolves names in Go before the query
    return {
        "org": org or NIL,
        "owner": q.workspace_owner
        if isinstance(q.workspace_owner, str) and q.workspace_owner is not ME
        else "",
        "owner_id": caller if q.workspace_owner is ME else NIL,
        "owner_email": q.workspace_owner_email or "",
        "types": list(matching_types(q.type)) if q.type else [],
        "user_id": caller if q.username is ME else NIL,
        "username": q.username if isinstance(q.username, str) and q.username is not ME else "",
        "user_email": q.user_email or "",
        "after": q.connected_after or ZERO_TIME,
        "before": q.connected_before or ZERO_TIME,
        "ws": q.workspace_id or NIL,
        "conn": q.connection_id or NIL,
        "status": q.status.value if q.status else "",
    }


def static_statements(s: Schema, params: dict[str, Any]) -> list[tuple[str, Any]]:
    where = static_where(s)
    page = (
        f"SELECT {SELECT_COLUMNS}\n{joins(s)}WHERE {where}\n"
        "ORDER BY cl.connect_time DESC, cl.id DESC LIMIT %(limit)s OFFSET %(offset)s"
    )
    # The static count joins the connecting user too: its user_email filter reads that join.
    count = f"SELECT count(*) FROM (SELECT 1 {joins(s)}WHERE {where} LIMIT %(cap)s) c"
    return [(page, {**params, "limit": 100, "offset": 0}), (count, {**params, "cap": 2001})]


# --- the queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    query: Query
    hand_where: str
    hand_params: tuple[Any, ...]
    static: bool = True  # Coder's static statement can express it


def clock(rows: int) -> dt.datetime:
    """The injected "now" of the relative-time case: inside the generated data."""
    return START + (rows * 3 // 5) * STEP


def extended_cases(s: Schema, rows: int) -> list[Case]:
    """Extended queries with hand-written SQL a developer would write for the same meaning."""
    u = s.users
    owner = f"(SELECT id FROM {u} WHERE lower(username) = %s AND NOT deleted)"
    now = clock(rows)
    ssh_vscode = ["ssh", "zed", *matching_types(Query(type="vscode").type)]  # type: ignore[arg-type]

    def ext(text: str) -> Query:
        return parse(text, mode="extended")

    return [
        Case(
            "wildcard owner",
            ext("workspace_owner:user4*"),
            f"cl.workspace_owner_id IN (SELECT id FROM {u} WHERE lower(username) LIKE %s "
            "AND NOT deleted)",
            ("user4%",),
            static=False,
        ),
        Case(
            "owner OR username",
            ext("workspace_owner:user42 OR username:user7"),
            f"(cl.workspace_owner_id = {owner} OR cl.user_id = {owner})",
            ("user42", "user7"),
            static=False,
        ),
        Case(
            "owner -type",
            ext("workspace_owner:user42 -type:ssh,vscode"),
            f"cl.workspace_owner_id = {owner} AND cl.type <> ALL(%s)",
            ("user42", ssh_vscode),
            static=False,
        ),
        Case(
            "-username",
            ext("-username:user7"),
            f"cl.user_id IS DISTINCT FROM {owner}",
            ("user7",),
            static=False,
        ),
        Case(
            "free text",
            ext("user42"),
            f"(cl.workspace_name ILIKE %s OR cl.agent_name ILIKE %s OR cl.workspace_owner_id IN "
            f"(SELECT id FROM {u} WHERE username ILIKE %s))",
            ("%user42%", "%user42%", "%user42%"),
            static=False,
        ),
        Case(
            "relative range",
            ext("connected:-6h..now"),
            "cl.connect_time >= %s AND cl.connect_time <= %s",
            (now - dt.timedelta(hours=6), now),
            static=False,
        ),
    ]


def cases(s: Schema, caller: uuid.UUID, rows: int, workspace: uuid.UUID) -> list[Case]:
    u = s.users
    owner = f"(SELECT id FROM {u} WHERE lower(username) = %s AND NOT deleted)"
    mid = START + (rows * 2 // 5) * STEP
    vscode = list(matching_types(Query(type="vscode").type))  # type: ignore[arg-type]
    web = ["workspace_app", "port_forwarding", "tunnel"]
    return [
        Case("empty", Query(), "true", ()),
        Case(
            "workspace_id",
            Query(workspace_id=workspace),
            "cl.workspace_id = %s",
            (workspace,),
        ),
        Case(
            "organization id",
            Query(organization=md5_uuid("org", 7)),
            "cl.organization_id = %s",
            (md5_uuid("org", 7),),
        ),
        Case(
            "organization name",
            Query(organization="org7"),
            f"cl.organization_id = (SELECT id FROM {s.organizations} "
            "WHERE lower(name) = %s AND NOT deleted)",
            ("org7",),
        ),
        Case(
            "workspace_owner",
            Query(workspace_owner="user42"),
            f"cl.workspace_owner_id = {owner}",
            ("user42",),
        ),
        Case(
            "workspace_owner:me", Query(workspace_owner=ME), "cl.workspace_owner_id = %s", (caller,)
        ),
        Case("type:vscode", Query(type="vscode"), "cl.type = ANY(%s)", (vscode,)),
        Case("username", Query(username="user42"), f"cl.user_id = {owner}", ("user42",)),
        Case(
            "user_email",
            Query(user_email="user42@example.com"),
            f"cl.user_id IN (SELECT id FROM {u} WHERE email = %s)",
            ("user42@example.com",),
        ),
        Case(
            "ssh ongoing",
            Query(type="ssh", status="ongoing"),
            "cl.type = ANY(%s) AND cl.disconnect_time IS NULL AND cl.type <> ALL(%s)",
            (["ssh", "zed"], web),
        ),
        Case(
            "time window",
            Query(connected_after=mid, connected_before=mid + dt.timedelta(hours=6)),
            "cl.connect_time >= %s AND cl.connect_time <= %s",
            (mid, mid + dt.timedelta(hours=6)),
        ),
        Case(
            "owner+type+completed",
            Query(workspace_owner="user42", type="vscode", status="completed"),
            f"cl.workspace_owner_id = {owner} AND cl.type = ANY(%s) AND "
            "cl.disconnect_time IS NOT NULL AND cl.type <> ALL(%s)",
            ("user42", vscode, web),
        ),
    ]


# --- timing ---------------------------------------------------------------------------------


def run(conn: psycopg.Connection[Any], statements: list[tuple[str, Any]]) -> list[Any]:
    out = []
    for sql, params in statements:
        out.append(conn.execute(sql, params).fetchall())
    return out


def medians_ms(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Median wall time of each function, measured interleaved (and in rotating order) so
    drift in the machine's load hits every variant alike."""
    for fn in fns:
        fn()
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    for i in range(repeat):
        order = list(range(len(fns)))
        order = order[i % len(fns) :] + order[: i % len(fns)]
        for k in order:
            began = time.perf_counter()
            fns[k]()
            samples[k].append((time.perf_counter() - began) * 1000)
    return [statistics.median(s) for s in samples]


_INDEX = re.compile(r"(?:Index(?: Only)? Scan(?: Backward)?|Bitmap Index Scan) (?:using|on) (\w+)")


def plan_summary(conn: psycopg.Connection[Any], sql: str, params: Any) -> str:
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
    used = sorted(set(_INDEX.findall(plan)) - {"users_pkey", "organizations_pkey"})
    seq = " + Seq Scan on connection_logs" if "Seq Scan on connection_logs" in plan else ""
    return (", ".join(used) or "(no index)") + seq


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--dsn",
        default=os.environ.get("CONNLOG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    ap.add_argument("--schema", default="connlog_bench")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--drop", action="store_true", help="regenerate the data")
    args = ap.parse_args(argv)

    with psycopg.connect(args.dsn, autocommit=True) as conn:
        schema = ensure_data(conn, args.schema, args.rows, args.drop)
        caller = md5_uuid("user", 42)
        context = CompileContext(user_id=caller, now=clock(args.rows))
        org_ids = {f"org{i}": md5_uuid("org", i) for i in range(ORGS)}
        header = f"{'query':<22}{'rows':>6}{'ours ms':>9}{'hand ms':>9}{'static ms':>10}"
        print(f"\n{header}{'ours/hand':>11}{'ours/static':>12}")
        plans = []
        ratios_hand, ratios_static, ratios_extended = [], [], []
        row = conn.execute(
            f"SELECT workspace_id FROM {schema.connection_logs} WHERE id = %s",
            (md5_uuid("log", args.rows // 3),),
        ).fetchone()
        assert row is not None
        all_cases = cases(schema, caller, args.rows, row[0]) + extended_cases(schema, args.rows)
        for case in all_cases:
            ours = [
                (f.sql, f.params)
                for f in (
                    select_logs(case.query, "postgresql", context=context, schema=schema),
                    count_logs(case.query, "postgresql", context=context, schema=schema),
                )
            ]
            hand = hand_statements(schema, case.hand_where, case.hand_params)
            variants = [ours, hand]
            if case.static:
                variants.append(
                    static_statements(schema, static_params(case.query, caller, org_ids))
                )
            results = [run(conn, s) for s in variants]
            ids = [[r[0] for r in res[0]] for res in results]
            counts = [res[1][0][0] for res in results]
            if len({tuple(i) for i in ids}) != 1 or len(set(counts)) != 1:
                print(f"MISMATCH in {case.name}: counts {counts}", file=sys.stderr)
                return 1
            timings = medians_ms(
                [lambda statements=statements: run(conn, statements) for statements in variants],
                args.repeat,
            )
            t_ours, t_hand = timings[0], timings[1]
            ratios = ratios_hand if case.static else ratios_extended
            ratios.append(t_ours / t_hand)
            line = f"{case.name:<22}{counts[0]:>6}{t_ours:>9.2f}{t_hand:>9.2f}"
            if case.static:
                ratios_static.append(t_ours / timings[2])
                line += f"{timings[2]:>10.2f}{t_ours / t_hand:>11.2f}{t_ours / timings[2]:>12.3f}"
                plans.append(
                    (case.name, plan_summary(conn, *ours[0]), plan_summary(conn, *variants[2][0]))
                )
            else:
                line += f"{'-':>10}{t_ours / t_hand:>11.2f}{'-':>12}"
                plans.append(
                    (case.name, plan_summary(conn, *ours[0]), plan_summary(conn, *hand[0]))
                )
            print(line)
        gm = statistics.geometric_mean
        print(
            f"\ngeometric mean ours/hand {gm(ratios_hand):.2f} (Coder-mode), "
            f"{gm(ratios_extended):.2f} (extended); ours/static {gm(ratios_static):.3f}"
        )
        print("\nindexes used by the list query (ours | static, or hand for extended queries):")
        for name, mine, theirs in plans:
            print(f"  {name:<22}{mine}  |  {theirs}")
        print_compile_times(all_cases, context, schema)
    return 0


def print_compile_times(all_cases: list[Case], context: CompileContext, schema: Schema) -> None:
    """Compile time of each query (select + count), relative to a three-filter Coder query."""

    def compile_both(query: Query) -> None:
        select_logs(query, "postgresql", context=context, schema=schema)
        count_logs(query, "postgresql", context=context, schema=schema)

    base = next(c for c in all_cases if c.name == "owner+type+completed")
    base_us, _ = per_call_us(lambda: compile_both(base.query), number=300)
    print(f"\ncompile select + count, µs (ratio to {base.name!r} = {base_us:.0f} µs):")
    for case in all_cases:
        us, spread = per_call_us(lambda case=case: compile_both(case.query), number=300)
        print(f"  {case.name:<22}{us:>8.0f} ±{spread:<5.0f}{us / base_us:>6.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
