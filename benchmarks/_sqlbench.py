"""What the SQL benchmarks share (``sql_postgres.py``, ``sql_sqlite.py``): the data's shape, the
fixed set of queries with their hand-written SQL per dialect, Coder's static CASE statement, and
the timing, checking and printing of the comparison.

Each script generates the same shape of data (organizations, users, workspaces and connection
logs spread by a hash of the row number) in its own database, then calls :func:`compare` with a
:class:`Flavor` describing how its dialect spells the few things hand-written SQL writes
differently (placeholders, value lists, ``ILIKE``, null-safe inequality, bind forms).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from _timing import per_call_us
from connlog_query import ME, Query, parse
from connlog_query.apps import matching_types
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema
from connlog_query.backends.sql import count_logs, get_dialect, select_logs
from connlog_query.backends.sql.dialect import ColumnKind
from connlog_query.values import ConnectionType

ORGS = 50
USERS = 2_000
WORKSPACES = 20_000
NIL = uuid.UUID(int=0)
ZERO_TIME = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
STEP = dt.timedelta(seconds=3)
TYPES = (
    "ssh",
    "vscode",
    "cursor",
    "zed",
    "jetbrains",
    "reconnecting_pty",
    "workspace_app",
    "port_forwarding",
    "tunnel",
    "windsurf",
    "code_server",
    "sftp",
)
"""Stored ``type`` values of the generated rows, picked uniformly by a hash of the row."""

COUNT_CAP = 2001
PAGE = 100
WEB = ["workspace_app", "port_forwarding", "tunnel"]

IdOf = Callable[[str, int], uuid.UUID]
"""The id a generated row gets: ``(kind, n)`` with kind ``org``, ``user``, ``ws`` or ``log``."""

Statements = list[tuple[str, Any]]
"""``[(sql, params), ...]``: the list page, then the capped count."""


# --- how a dialect spells hand-written SQL ----------------------------------------------------


@dataclass(frozen=True)
class Flavor:
    """How hand-written SQL and bound values look in one dialect."""

    dialect: str
    placeholder: str
    ilike: str
    distinct_from: str
    explain: Callable[[Any, str, Any], str]
    """``(connection, sql, params) -> summary`` of the indexes the plan uses."""

    def bind(self, kind: ColumnKind, value: Any) -> Any:
        """``value`` in the form this dialect binds a column of ``kind``."""
        return get_dialect(self.dialect).to_db(kind, value)

    def any_of(self, column: str, values: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        """``column`` equals one of ``values``: one array parameter, or an ``IN`` list."""
        if self.dialect == "postgresql":
            return f"{column} = ANY({self.placeholder})", (list(values),)
        return f"{column} IN ({', '.join(self.placeholder for _ in values)})", tuple(values)

    def none_of(self, column: str, values: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        """``column`` equals none of ``values``."""
        if self.dialect == "postgresql":
            return f"{column} <> ALL({self.placeholder})", (list(values),)
        return f"{column} NOT IN ({', '.join(self.placeholder for _ in values)})", tuple(values)

    def named(self, name: str, sql_type: str = "") -> str:
        """A named parameter (with a cast where the dialect needs one)."""
        if self.dialect == "postgresql":
            return f"%({name})s::{sql_type}" if sql_type else f"%({name})s"
        return f":{name}"


# --- hand-written and static statements -------------------------------------------------------

SELECT_COLUMNS = """cl.id, cl.connect_time, cl.organization_id, cl.workspace_owner_id,
  cl.workspace_id, cl.workspace_name, cl.agent_name, cl.type, cl.code, cl.ip, cl.user_agent,
  cl.user_id, cl.slug_or_port, cl.connection_id, cl.disconnect_time, cl.disconnect_reason,
  owner_user.username, org.name, org.display_name, org.icon, conn_user.username,
  conn_user.email, conn_user.name, conn_user.created_at, conn_user.updated_at,
  conn_user.last_seen_at, conn_user.status, conn_user.login_type, conn_user.avatar_url"""
"""The list page's columns, in the order of ``connlog_query.backends.sql.LOG_COLUMNS``."""


def joins(s: Schema, *, user: bool = True) -> str:
    """The list statement's joins (the count leaves out the connecting user)."""
    out = (
        f"FROM {s.connection_logs} cl\n"
        f"JOIN {s.users} owner_user ON owner_user.id = cl.workspace_owner_id\n"
    )
    if user:
        out += f"LEFT JOIN {s.users} conn_user ON conn_user.id = cl.user_id\n"
    return out + f"JOIN {s.organizations} org ON org.id = cl.organization_id\n"


def hand_statements(
    f: Flavor, s: Schema, where: str, params: tuple[Any, ...]
) -> list[tuple[str, Any]]:
    """List page + capped count, written by hand for one predicate."""
    ph = f.placeholder
    page = (
        f"SELECT {SELECT_COLUMNS}\n{joins(s)}WHERE {where}\n"
        f"ORDER BY cl.connect_time DESC, cl.id DESC LIMIT {ph} OFFSET {ph}"
    )
    count = f"SELECT count(*) FROM (SELECT 1 {joins(s, user=False)}WHERE {where} LIMIT {ph}) c"
    return [(page, (*params, PAGE, 0)), (count, (*params, COUNT_CAP))]


def static_where(f: Flavor, s: Schema) -> str:
    """Coder's sqlc-style condition: every filter present, ``CASE WHEN <unset> THEN true``."""
    p = f.named
    nil = f"'{NIL}'::uuid" if f.dialect == "postgresql" else f"'{NIL}'"
    zero = f.bind("timestamp", ZERO_TIME)
    zero = f"'{zero.isoformat()}'::timestamptz" if f.dialect == "postgresql" else f"'{zero}'"
    if f.dialect == "postgresql":
        no_types = f"cardinality({p('types', 'text[]')}) = 0"
        in_types = f"cl.type = ANY({p('types', 'text[]')})"
    else:  # a JSON array parameter is SQLite's nearest thing to a bound array
        no_types = f"json_array_length({p('types')}) = 0"
        in_types = f"cl.type IN (SELECT value FROM json_each({p('types')}))"

    def live_name(param: str) -> str:
        name = f"lower({p(param)})"
        return f"(SELECT id FROM {s.users} WHERE lower(username) = {name} AND NOT deleted)"

    return f"""
    CASE WHEN {p("org", "uuid")} = {nil} THEN true ELSE cl.organization_id = {p("org")} END
    AND CASE WHEN {p("owner", "text")} = '' THEN true ELSE cl.workspace_owner_id =
        {live_name("owner")} END
    AND CASE WHEN {p("owner_id", "uuid")} = {nil} THEN true
        ELSE cl.workspace_owner_id = {p("owner_id")} END
    AND CASE WHEN {p("owner_email", "text")} = '' THEN true ELSE cl.workspace_owner_id =
        (SELECT id FROM {s.users} WHERE email = {p("owner_email")} AND NOT deleted) END
    AND CASE WHEN {no_types} THEN true ELSE {in_types} END
    AND CASE WHEN {p("user_id", "uuid")} = {nil} THEN true ELSE cl.user_id = {p("user_id")} END
    AND CASE WHEN {p("username", "text")} = '' THEN true ELSE cl.user_id =
        {live_name("username")} END
    AND CASE WHEN {p("user_email", "text")} = '' THEN true
        ELSE conn_user.email = {p("user_email")} END
    AND CASE WHEN {p("after", "timestamptz")} = {zero} THEN true
        ELSE cl.connect_time >= {p("after")} END
    AND CASE WHEN {p("before", "timestamptz")} = {zero} THEN true
        ELSE cl.connect_time <= {p("before")} END
    AND CASE WHEN {p("ws", "uuid")} = {nil} THEN true ELSE cl.workspace_id = {p("ws")} END
    AND CASE WHEN {p("conn", "uuid")} = {nil} THEN true ELSE cl.connection_id = {p("conn")} END
    AND CASE WHEN {p("status", "text")} = '' THEN true
        ELSE (({p("status")} = 'ongoing' AND cl.disconnect_time IS NULL)
              OR ({p("status")} = 'completed' AND cl.disconnect_time IS NOT NULL))
             AND cl.type NOT IN ('workspace_app', 'port_forwarding', 'tunnel') END"""


def static_params(
    f: Flavor, q: Query, caller: uuid.UUID, org_ids: dict[str, uuid.UUID]
) -> dict[str, Any]:
    """Coder's style: every parameter present, unset ones as empty/zero values."""
    org = q.organization
    if isinstance(org, str):
        org = org_ids[org]  # Coder resolves names in Go before the query
    types = list(matching_types(q.type)) if q.type else []
    return {
        "org": f.bind("uuid", org or NIL),
        "owner": q.workspace_owner
        if isinstance(q.workspace_owner, str) and q.workspace_owner is not ME
        else "",
        "owner_id": f.bind("uuid", caller if q.workspace_owner is ME else NIL),
        "owner_email": q.workspace_owner_email or "",
        "types": types if f.dialect == "postgresql" else json.dumps(types),
        "user_id": f.bind("uuid", caller if q.username is ME else NIL),
        "username": q.username if isinstance(q.username, str) and q.username is not ME else "",
        "user_email": q.user_email or "",
        "after": f.bind("timestamp", q.connected_after or ZERO_TIME),
        "before": f.bind("timestamp", q.connected_before or ZERO_TIME),
        "ws": f.bind("uuid", q.workspace_id or NIL),
        "conn": f.bind("uuid", q.connection_id or NIL),
        "status": q.status.value if q.status else "",
    }


def static_statements(f: Flavor, s: Schema, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """Coder's static list page + capped count for one set of parameters."""
    where = static_where(f, s)
    page = (
        f"SELECT {SELECT_COLUMNS}\n{joins(s)}WHERE {where}\n"
        f"ORDER BY cl.connect_time DESC, cl.id DESC "
        f"LIMIT {f.named('limit')} OFFSET {f.named('offset')}"
    )
    # The static count joins the connecting user too: its user_email filter reads that join.
    count = f"SELECT count(*) FROM (SELECT 1 {joins(s)}WHERE {where} LIMIT {f.named('cap')}) c"
    return [
        (page, {**params, "limit": PAGE, "offset": 0}),
        (count, {**params, "cap": COUNT_CAP}),
    ]


# --- the queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One query with the SQL a developer would write by hand for the same meaning."""

    name: str
    query: Query
    hand_where: str
    hand_params: tuple[Any, ...]
    static: bool = True  # Coder's static statement can express it


def clock(rows: int) -> dt.datetime:
    """The injected "now" of the relative-time case: inside the generated data."""
    return START + (rows * 3 // 5) * STEP


def _vscode() -> list[str]:
    return list(matching_types(ConnectionType.VSCODE))


def coder_cases(
    f: Flavor, s: Schema, ids: IdOf, caller: uuid.UUID, rows: int, workspace: uuid.UUID
) -> list[Case]:
    """Twelve Coder-mode queries."""
    u, ph = s.users, f.placeholder
    owner = f"(SELECT id FROM {u} WHERE lower(username) = {ph} AND NOT deleted)"
    mid = START + (rows * 2 // 5) * STEP
    vscode_in, vscode_p = f.any_of("cl.type", _vscode())
    ssh_in, ssh_p = f.any_of("cl.type", ["ssh", "zed"])
    not_web, web_p = f.none_of("cl.type", WEB)
    org7 = ids("org", 7)
    return [
        Case("empty", Query(), "true", ()),
        Case(
            "workspace_id",
            Query(workspace_id=workspace),
            f"cl.workspace_id = {ph}",
            (f.bind("uuid", workspace),),
        ),
        Case(
            "organization id",
            Query(organization=org7),
            f"cl.organization_id = {ph}",
            (f.bind("uuid", org7),),
        ),
        Case(
            "organization name",
            Query(organization="org7"),
            f"cl.organization_id = (SELECT id FROM {s.organizations} "
            f"WHERE lower(name) = {ph} AND NOT deleted)",
            ("org7",),
        ),
        Case(
            "workspace_owner",
            Query(workspace_owner="user42"),
            f"cl.workspace_owner_id = {owner}",
            ("user42",),
        ),
        Case(
            "workspace_owner:me",
            Query(workspace_owner=ME),
            f"cl.workspace_owner_id = {ph}",
            (f.bind("uuid", caller),),
        ),
        Case("type:vscode", Query(type="vscode"), vscode_in, vscode_p),
        Case("username", Query(username="user42"), f"cl.user_id = {owner}", ("user42",)),
        Case(
            "user_email",
            Query(user_email="user42@example.com"),
            f"cl.user_id IN (SELECT id FROM {u} WHERE email = {ph})",
            ("user42@example.com",),
        ),
        Case(
            "ssh ongoing",
            Query(type="ssh", status="ongoing"),
            f"{ssh_in} AND cl.disconnect_time IS NULL AND {not_web}",
            (*ssh_p, *web_p),
        ),
        Case(
            "time window",
            Query(connected_after=mid, connected_before=mid + dt.timedelta(hours=6)),
            f"cl.connect_time >= {ph} AND cl.connect_time <= {ph}",
            (f.bind("timestamp", mid), f.bind("timestamp", mid + dt.timedelta(hours=6))),
        ),
        Case(
            "owner+type+completed",
            Query(workspace_owner="user42", type="vscode", status="completed"),
            f"cl.workspace_owner_id = {owner} AND {vscode_in} AND "
            f"cl.disconnect_time IS NOT NULL AND {not_web}",
            ("user42", *vscode_p, *web_p),
        ),
    ]


def extended_cases(f: Flavor, s: Schema, rows: int) -> list[Case]:
    """Extended queries (wildcard, OR of keys, negations, free text, relative range)."""
    u, ph = s.users, f.placeholder
    owner = f"(SELECT id FROM {u} WHERE lower(username) = {ph} AND NOT deleted)"
    now = clock(rows)
    not_ssh_vscode, not_p = f.none_of("cl.type", ["ssh", "zed", *_vscode()])
    like = f.ilike

    def ext(text: str) -> Query:
        return parse(text, mode="extended")

    return [
        Case(
            "wildcard owner",
            ext("workspace_owner:user4*"),
            f"cl.workspace_owner_id IN (SELECT id FROM {u} WHERE lower(username) LIKE {ph} "
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
            f"cl.workspace_owner_id = {owner} AND {not_ssh_vscode}",
            ("user42", *not_p),
            static=False,
        ),
        Case(
            "-username",
            ext("-username:user7"),
            f"cl.user_id {f.distinct_from} {owner}",
            ("user7",),
            static=False,
        ),
        Case(
            "free text",
            ext("user42"),
            f"(cl.workspace_name {like} {ph} OR cl.agent_name {like} {ph} OR "
            f"cl.workspace_owner_id IN (SELECT id FROM {u} WHERE username {like} {ph}))",
            ("%user42%", "%user42%", "%user42%"),
            static=False,
        ),
        Case(
            "relative range",
            ext("connected:-6h..now"),
            f"cl.connect_time >= {ph} AND cl.connect_time <= {ph}",
            (f.bind("timestamp", now - dt.timedelta(hours=6)), f.bind("timestamp", now)),
            static=False,
        ),
    ]


# --- timing -----------------------------------------------------------------------------------


def run(conn: Any, statements: Statements) -> list[Any]:
    """Execute each statement on a DB-API connection with ``execute`` and fetch every row."""
    return [conn.execute(sql, params).fetchall() for sql, params in statements]


def medians_ms(fns: list[Callable[[], Any]], repeat: int, budget_ms: float = 0) -> list[float]:
    """Median wall time of each function, measured interleaved (and in rotating order) so
    drift in the machine's load hits every variant alike.

    Each function is timed ``repeat`` times at least. With a ``budget_ms``, a fast one is timed
    more often, about ``budget_ms / len(fns)`` ms of calls (at most 30 x ``repeat``), in rounds
    that leave out the functions already done: a median of seven sub-millisecond samples on a
    shared machine moves by tens of percent from run to run, even when the slow variant of the
    same query (a full scan) leaves no room for more rounds of everything.
    """
    first_ms = []
    for fn in fns:
        fn()
        began = time.perf_counter()
        fn()
        first_ms.append((time.perf_counter() - began) * 1000)
    wanted = [repeat] * len(fns)
    if budget_ms > 0:
        share = budget_ms / len(fns)
        wanted = [max(repeat, min(30 * repeat, int(share / max(ms, 1e-3)))) for ms in first_ms]
    samples: list[list[float]] = [[] for _ in fns]
    for i in range(max(wanted)):
        order = list(range(len(fns)))
        order = order[i % len(fns) :] + order[: i % len(fns)]
        for k in order:
            if len(samples[k]) < wanted[k]:
                began = time.perf_counter()
                fns[k]()
                samples[k].append((time.perf_counter() - began) * 1000)
    return [statistics.median(s) for s in samples]


_PG_INDEX = re.compile(
    r"(?:Index(?: Only)? Scan(?: Backward)?|Bitmap Index Scan) (?:using|on) (\w+)"
)


def explain_postgresql(conn: Any, sql: str, params: Any) -> str:
    """Indexes of a PostgreSQL ``EXPLAIN`` (lookup-table keys left out), and any Seq Scan."""
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
    used = sorted(set(_PG_INDEX.findall(plan)) - {"users_pkey", "organizations_pkey"})
    seq = " + Seq Scan on connection_logs" if "Seq Scan on connection_logs" in plan else ""
    return (", ".join(used) or "(no index)") + seq


_SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\w+)")
_SQLITE_LOG_SCAN = re.compile(r"^SCAN (?:cl|connection_logs)$")


def explain_sqlite(conn: Any, sql: str, params: Any) -> str:
    """Indexes of an SQLite ``EXPLAIN QUERY PLAN`` (primary-key look-ups of the joined users
    and organizations left out), a full scan of the logs, and a sort in a temporary B-tree."""
    details = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    used = sorted(
        {name for d in details for name in _SQLITE_INDEX.findall(d)}
        - {"sqlite_autoindex_users_1", "sqlite_autoindex_organizations_1"}
    )
    out = ", ".join(used) or "(no index)"
    if any(_SQLITE_LOG_SCAN.match(d) for d in details):
        out += " + full scan of connection_logs"
    if any("TEMP B-TREE FOR ORDER BY" in d for d in details):
        out += " + sort"
    return out


@dataclass(frozen=True)
class Answer:
    """What a variant found: the capped count and the ids of the page, as text."""

    count: int
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Extra:
    """Two more ways to answer each case (e.g. a store's ``list()`` and hand-written code doing
    the same), timed beside the statements; the table shows both and ``ours / base``."""

    headers: tuple[str, str, str]
    ours: Callable[[Case], Callable[[], Answer]]
    base: Callable[[Case], Callable[[], Answer]]


def _answer(results: list[Any]) -> Answer:
    return Answer(int(results[1][0][0]), tuple(str(r[0]) for r in results[0]))


def compare(
    conn: Any,
    f: Flavor,
    schema: Schema,
    all_cases: list[Case],
    *,
    context: CompileContext,
    caller: uuid.UUID,
    org_ids: dict[str, uuid.UUID],
    repeat: int,
    budget_ms: float = 0,
    extra: Extra | None = None,
) -> bool:
    """Time every case (ours, hand, static, and ``extra``), print the table, the geometric means
    and the indexes each plan uses. False (after saying why) if any variant answers differently.

    ``repeat`` rounds at least, more for fast cases up to ``budget_ms`` (see :func:`medians_ms`).
    """
    header = f"{'query':<22}{'rows':>6}{'ours ms':>9}{'hand ms':>9}{'static ms':>10}"
    header += f"{'ours/hand':>11}{'ours/static':>12}"
    if extra is not None:
        header += "".join(f"{h:>12}" for h in extra.headers)
    print(f"\n{header}")
    plans = []
    ratios_hand: list[float] = []
    ratios_static: list[float] = []
    ratios_extended: list[float] = []
    extra_coder: list[float] = []
    extra_extended: list[float] = []
    for case in all_cases:
        ours = [
            (frag.sql, frag.params)
            for frag in (
                select_logs(case.query, f.dialect, context=context, schema=schema),
                count_logs(case.query, f.dialect, context=context, schema=schema),
            )
        ]
        hand = hand_statements(f, schema, case.hand_where, case.hand_params)
        variants = [ours, hand]
        if case.static:
            variants.append(
                static_statements(f, schema, static_params(f, case.query, caller, org_ids))
            )
        fns: list[Callable[[], Any]] = [
            lambda statements=statements: run(conn, statements) for statements in variants
        ]
        answers = [_answer(run(conn, s)) for s in variants]
        if extra is not None:
            fns += [extra.ours(case), extra.base(case)]
            answers += [fns[-2](), fns[-1]()]
        if len(set(answers)) != 1:
            print(f"MISMATCH in {case.name}: counts {[a.count for a in answers]}", file=sys.stderr)
            return False
        timings = medians_ms(fns, repeat, budget_ms)
        t_ours, t_hand = timings[0], timings[1]
        ratios = ratios_hand if case.static else ratios_extended
        ratios.append(t_ours / t_hand)
        line = f"{case.name:<22}{answers[0].count:>6}{t_ours:>9.2f}{t_hand:>9.2f}"
        if case.static:
            t_static = timings[2]
            ratios_static.append(t_ours / t_static)
            line += f"{t_static:>10.2f}{t_ours / t_hand:>11.2f}{t_ours / t_static:>12.3f}"
            plans.append((case.name, f.explain(conn, *ours[0]), f.explain(conn, *variants[2][0])))
        else:
            line += f"{'-':>10}{t_ours / t_hand:>11.2f}{'-':>12}"
            plans.append((case.name, f.explain(conn, *ours[0]), f.explain(conn, *hand[0])))
        if extra is not None:
            t_mine, t_base = timings[-2], timings[-1]
            (extra_coder if case.static else extra_extended).append(t_mine / t_base)
            line += f"{t_mine:>12.2f}{t_base:>12.2f}{t_mine / t_base:>12.2f}"
        print(line)
    gm = statistics.geometric_mean
    print(
        f"\ngeometric mean ours/hand {gm(ratios_hand):.2f} (Coder-mode), "
        f"{gm(ratios_extended):.2f} (extended); ours/static {gm(ratios_static):.3f}"
    )
    if extra is not None:
        print(
            f"geometric mean {extra.headers[2]} {gm(extra_coder):.2f} (Coder-mode), "
            f"{gm(extra_extended):.2f} (extended)"
        )
    print("\nindexes used by the list query (ours | static, or hand for extended queries):")
    for name, mine, theirs in plans:
        print(f"  {name:<22}{mine}  |  {theirs}")
    return True


def print_compile_times(
    all_cases: list[Case],
    context: CompileContext,
    schema: Schema,
    dialect: str,
    *,
    number: int = 300,
    repeat: int = 7,
) -> None:
    """Compile time of each query (select + count), relative to a three-filter Coder query."""

    def compile_both(query: Query) -> None:
        select_logs(query, dialect, context=context, schema=schema)
        count_logs(query, dialect, context=context, schema=schema)

    base = next(c for c in all_cases if c.name == "owner+type+completed")
    base_us, _ = per_call_us(lambda: compile_both(base.query), number=number, repeat=repeat)
    print(f"\ncompile select + count, µs (ratio to {base.name!r} = {base_us:.0f} µs):")
    for case in all_cases:
        us, spread = per_call_us(
            lambda case=case: compile_both(case.query), number=number, repeat=repeat
        )
        print(f"  {case.name:<22}{us:>8.0f} ±{spread:<5.0f}{us / base_us:>6.2f}")
