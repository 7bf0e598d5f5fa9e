"""µs per parse and per compile for Coder-mode and extended queries, against hand-written code.

For three Coder-mode and six extended queries (wildcard, OR of two keys, negated list, free
text, relative range, a mix of them), each stage is timed against a baseline doing the same job
by hand for just that query, in the same run:

* ``parse(text, mode="extended")``, fresh (``now=`` given, which bypasses the parse cache) and
  repeated (served from the cache), against a ``str.split`` floor that validates nothing;
* ``backends.sql.compile`` (the WHERE condition and its parameter tuple) for ``postgresql``,
  ``sqlite`` and ``mysql``, against an f-string building the equivalent condition and tuple in
  that dialect's placeholder style;
* ``backends.sqlalchemy.compile`` (the Core expression, not rendered), against the same
  expression written by hand with SQLAlchemy;
* ``backends.memory.compile`` (users table built once), against building a hand-written
  lambda (looking the user ids up in a dict, as that code would).

Every baseline is first checked to select the same rows as the compiled query on demo data (the
SQL on SQLite, the SQLAlchemy expressions on SQLite, the lambdas in memory). Figures are medians
over repeats with the spread (max - min), and ``ours / baseline``.

Run: ``python benchmarks/compile.py [--quick] [--smoke]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa

from _timing import per_call_us
from connlog_query import parse
from connlog_query.backends import memory
from connlog_query.backends import sql as sql_backend
from connlog_query.backends import sqlalchemy as sa_backend
from connlog_query.backends.context import CompileContext
from connlog_query.backends.sql.sqlite import format_timestamp
from connlog_query.demo import ANCHOR, DemoData, generate
from connlog_query.store import SQLiteStore

NOW = ANCHOR
"""The clock relative times resolve against (inside the demo data)."""

SSH = ("ssh", "zed")
VSCODE = (
    "antigravity",
    "code_server",
    "codium",
    "cursor",
    "devin",
    "kiro",
    "positron",
    "trae",
    "vscode",
    "vscode_insiders",
    "vscode_web",
    "vscodium",
    "windsurf",
)
WEB = ("port_forwarding", "tunnel", "workspace_app")
AFTER = dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc)
DIALECTS = ("postgresql", "sqlite", "mysql")


# --- hand-written baselines -------------------------------------------------------------------


@dataclass(frozen=True)
class Spelling:
    """What hand-written SQL needs to know about a dialect: placeholder and bind forms."""

    placeholder: str
    uid: Callable[[uuid.UUID], Any]
    ts: Callable[[dt.datetime], Any]


SPELLINGS = {
    "postgresql": Spelling("%s", lambda u: u, lambda t: t),
    "sqlite": Spelling("?", str, format_timestamp),
    "mysql": Spelling("%s", str, lambda t: t.replace(tzinfo=None)),
}


@dataclass(frozen=True)
class Ids:
    """Ids the hand-written code looks up itself (in dicts built once, like its own caches)."""

    live: dict[str, uuid.UUID]
    orgs: dict[str, uuid.UUID]
    users: list[Any]
    me: uuid.UUID


def marks(ph: str, n: int) -> str:
    """``n`` placeholders for an ``IN`` list."""
    return ", ".join([ph] * n)


def live_id(ph: str) -> str:
    """Coder's look-up of a non-deleted user by name."""
    return f"(SELECT id FROM users WHERE lower(username) = {ph} AND NOT deleted)"


def user_of(r: Any) -> uuid.UUID | None:
    """The connecting user's id of a record (web events only)."""
    w = r.web_info
    if w is None or w.user is None:
        return None
    user_id: uuid.UUID = w.user.id
    return user_id


SqlHand = Callable[[Spelling, Ids], tuple[str, tuple[Any, ...]]]
SaHand = Callable[[sa_backend.CoderTables, Ids], Any]
MemHand = Callable[[Ids], Callable[[Any], bool]]


@dataclass(frozen=True)
class Spec:
    """One query and the code a person would write by hand for it, per backend."""

    text: str
    sql: SqlHand
    sa: SaHand
    mem: MemHand
    extended: bool = False


def _sa_live(t: sa_backend.CoderTables, name: str) -> Any:
    u = t.users.c
    return (
        sa.select(u.id)
        .where(sa.func.lower(u.username) == name, sa.not_(u.deleted))
        .scalar_subquery()
    )


def _sa_like_ids(t: sa_backend.CoderTables, pattern: str, *, live: bool) -> Any:
    u = t.users.c
    cond = sa.func.lower(u.username).like(pattern)
    return sa.select(u.id).where(sa.and_(cond, sa.not_(u.deleted)) if live else cond)


def _sql_free_text(ph: str) -> str:
    return (
        f"(lower(workspace_name) LIKE {ph} OR lower(agent_name) LIKE {ph} OR "
        f"workspace_owner_id IN (SELECT id FROM users WHERE lower(username) LIKE {ph}))"
    )


def _sa_free_text(t: sa_backend.CoderTables, word: str) -> Any:
    c = t.connection_logs.c
    pattern = f"%{word}%"
    return sa.or_(
        sa.func.lower(c.workspace_name).like(pattern),
        sa.func.lower(c.agent_name).like(pattern),
        c.workspace_owner_id.in_(_sa_like_ids(t, pattern, live=False)),
    )


def _mem_free_text(ids: Ids, word: str) -> Callable[[Any], bool]:
    owners = {u.id for u in ids.users if word in u.username.lower()}
    return lambda r: (
        word in r.workspace_name.lower()
        or word in r.agent_name.lower()
        or r.workspace_owner_id in owners
    )


def _mem_like(ids: Ids, prefix: str) -> frozenset[uuid.UUID]:
    return frozenset(
        u.id for u in ids.users if not u.deleted and u.username.lower().startswith(prefix)
    )


SPECS: list[Spec] = [
    Spec(
        "type:ssh",
        lambda s, i: (f"type IN ({marks(s.placeholder, 2)})", SSH),
        lambda t, i: t.connection_logs.c.type.in_(SSH),
        lambda i: lambda r: r.type in SSH,
    ),
    Spec(
        "workspace_owner:bob type:vscode status:completed",
        lambda s, i: (
            f"workspace_owner_id = {live_id(s.placeholder)} AND type IN "
            f"({marks(s.placeholder, len(VSCODE))}) AND disconnect_time IS NOT NULL "
            f"AND type NOT IN ({marks(s.placeholder, 3)})",
            ("bob", *VSCODE, *WEB),
        ),
        lambda t, i: sa.and_(
            t.connection_logs.c.workspace_owner_id == _sa_live(t, "bob"),
            t.connection_logs.c.type.in_(VSCODE),
            t.connection_logs.c.disconnect_time.is_not(None),
            t.connection_logs.c.type.not_in(WEB),
        ),
        lambda i: (
            lambda bob: (
                lambda r: (
                    r.workspace_owner_id == bob
                    and r.type in VSCODE
                    and r.ssh_info is not None
                    and r.ssh_info.disconnect_time is not None
                )
            )
        )(i.live["bob"]),
    ),
    Spec(
        'organization:coder workspace_owner:me type:ssh status:ongoing connected_after:"'
        f'{AFTER:%Y-%m-%dT%H:%M:%SZ}"',
        lambda s, i: (
            f"organization_id = {s.placeholder} AND workspace_owner_id = {s.placeholder} AND "
            f"type IN ({marks(s.placeholder, 2)}) AND disconnect_time IS NULL AND "
            f"type NOT IN ({marks(s.placeholder, 3)}) AND connect_time >= {s.placeholder}",
            (s.uid(i.orgs["coder"]), s.uid(i.me), *SSH, *WEB, s.ts(AFTER)),
        ),
        lambda t, i: sa.and_(
            t.connection_logs.c.organization_id == i.orgs["coder"],
            t.connection_logs.c.workspace_owner_id == i.me,
            t.connection_logs.c.type.in_(SSH),
            t.connection_logs.c.disconnect_time.is_(None),
            t.connection_logs.c.type.not_in(WEB),
            t.connection_logs.c.connect_time >= AFTER,
        ),
        lambda i: (
            lambda org, me: (
                lambda r: (
                    r.organization.id == org
                    and r.workspace_owner_id == me
                    and r.type in SSH
                    and r.ssh_info is not None
                    and r.ssh_info.disconnect_time is None
                    and r.connect_time >= AFTER
                )
            )
        )(i.orgs["coder"], i.me),
    ),
    Spec(
        "workspace_owner:b*",
        lambda s, i: (
            "workspace_owner_id IN (SELECT id FROM users WHERE lower(username) LIKE "
            f"{s.placeholder} AND NOT deleted)",
            ("b%",),
        ),
        lambda t, i: t.connection_logs.c.workspace_owner_id.in_(_sa_like_ids(t, "b%", live=True)),
        lambda i: (lambda ids: lambda r: r.workspace_owner_id in ids)(_mem_like(i, "b")),
        extended=True,
    ),
    Spec(
        "workspace_owner:bob OR username:alice",
        lambda s, i: (
            f"(workspace_owner_id = {live_id(s.placeholder)} OR "
            f"user_id = {live_id(s.placeholder)})",
            ("bob", "alice"),
        ),
        lambda t, i: sa.or_(
            t.connection_logs.c.workspace_owner_id == _sa_live(t, "bob"),
            t.connection_logs.c.user_id == _sa_live(t, "alice"),
        ),
        lambda i: (lambda bob, alice: lambda r: r.workspace_owner_id == bob or user_of(r) == alice)(
            i.live["bob"], i.live["alice"]
        ),
        extended=True,
    ),
    Spec(
        "workspace_owner:alice -type:ssh,vscode",
        lambda s, i: (
            f"workspace_owner_id = {live_id(s.placeholder)} AND type NOT IN "
            f"({marks(s.placeholder, len(SSH) + len(VSCODE))})",
            ("alice", *SSH, *VSCODE),
        ),
        lambda t, i: sa.and_(
            t.connection_logs.c.workspace_owner_id == _sa_live(t, "alice"),
            t.connection_logs.c.type.not_in((*SSH, *VSCODE)),
        ),
        lambda i: (
            lambda alice, types: lambda r: r.workspace_owner_id == alice and r.type not in types
        )(i.live["alice"], frozenset((*SSH, *VSCODE))),
        extended=True,
    ),
    Spec(
        "dev",
        lambda s, i: (_sql_free_text(s.placeholder), ("%dev%",) * 3),
        lambda t, i: _sa_free_text(t, "dev"),
        lambda i: _mem_free_text(i, "dev"),
        extended=True,
    ),
    Spec(
        "connected:-24h..now",
        lambda s, i: (
            f"connect_time >= {s.placeholder} AND connect_time <= {s.placeholder}",
            (s.ts(NOW - dt.timedelta(hours=24)), s.ts(NOW)),
        ),
        lambda t, i: t.connection_logs.c.connect_time.between(NOW - dt.timedelta(hours=24), NOW),
        lambda i: (lambda lo: lambda r: lo <= r.connect_time <= NOW)(NOW - dt.timedelta(hours=24)),
        extended=True,
    ),
    Spec(
        "-type:ssh,vscode (dev OR username:b*) connected:>=-7d",
        lambda s, i: (
            f"type NOT IN ({marks(s.placeholder, len(SSH) + len(VSCODE))}) AND "
            f"({_sql_free_text(s.placeholder)} OR user_id IN (SELECT id FROM users WHERE "
            f"lower(username) LIKE {s.placeholder} AND NOT deleted)) AND "
            f"connect_time >= {s.placeholder}",
            (*SSH, *VSCODE, *("%dev%",) * 3, "b%", s.ts(NOW - dt.timedelta(days=7))),
        ),
        lambda t, i: sa.and_(
            t.connection_logs.c.type.not_in((*SSH, *VSCODE)),
            sa.or_(
                _sa_free_text(t, "dev"),
                t.connection_logs.c.user_id.in_(_sa_like_ids(t, "b%", live=True)),
            ),
            t.connection_logs.c.connect_time >= NOW - dt.timedelta(days=7),
        ),
        lambda i: (
            lambda types, text, bs, lo: (
                lambda r: (
                    r.type not in types and (text(r) or user_of(r) in bs) and r.connect_time >= lo
                )
            )
        )(
            frozenset((*SSH, *VSCODE)),
            _mem_free_text(i, "dev"),
            _mem_like(i, "b"),
            NOW - dt.timedelta(days=7),
        ),
        extended=True,
    ),
]
"""The queries, Coder-mode first; hand-written code for each."""


def floor(text: str) -> dict[str, str]:
    """The parse floor: split on spaces, then on the first colon; no quotes, no validation."""
    out = {}
    for part in text.lower().split():
        key, _, value = part.partition(":")
        out[key] = value.strip('"')
    return out


# --- checking the baselines -------------------------------------------------------------------


class Fixture:
    """Demo data in an in-memory SQLite store, the compile contexts and the hand-side ids."""

    def __init__(self, data: DemoData) -> None:
        self.data = data
        self.store = SQLiteStore()
        self.store.create_schema()
        self.store.ingest(data)
        orgs = {o.name.lower(): o.id for o in data.organizations if not o.deleted}
        self.ids = Ids(
            live={u.username.lower(): u.id for u in data.users if not u.deleted},
            orgs=orgs,
            users=list(data.users),
            me=data.user("alice").id,
        )
        self.context = CompileContext(user_id=self.ids.me, organization_resolver=orgs.get, now=NOW)
        self.users = memory.UserTable.of(data.users)
        self.tables = sa_backend.tables(sa.MetaData())
        conn = self.store._conn  # SQLAlchemy reads the same in-memory database
        self.engine = sa.create_engine(
            "sqlite://", creator=lambda: conn, poolclass=sa.pool.StaticPool
        )

    def sql_ids(self, where: str, params: Any) -> set[str]:
        """Ids of the log rows a WHERE condition selects."""
        conn: sqlite3.Connection = self.store._conn
        rows = conn.execute(f"SELECT id FROM connection_logs WHERE {where}", params).fetchall()
        return {str(r[0]) for r in rows}

    def sa_ids(self, expr: Any) -> set[str]:
        """Ids of the log rows a SQLAlchemy expression selects."""
        logs = self.tables.connection_logs
        with self.engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(sa.select(logs.c.id).where(expr))}

    def mem_ids(self, predicate: Callable[[Any], bool]) -> set[str]:
        """Ids of the demo records a predicate accepts."""
        return {str(r.id) for r in self.data.connection_logs if predicate(r)}


def check(fx: Fixture) -> None:
    """Stop if a baseline selects different rows from the compiled query it stands for."""
    for spec in SPECS:
        q = parse(spec.text, mode="extended")
        frag = sql_backend.compile(q, "sqlite", context=fx.context)
        want = fx.sql_ids(frag.sql, frag.params)
        got = {
            "sql": fx.sql_ids(*spec.sql(SPELLINGS["sqlite"], fx.ids)),
            "sqlalchemy": fx.sa_ids(spec.sa(fx.tables, fx.ids)),
            "sqlalchemy (ours)": fx.sa_ids(
                sa_backend.compile(q, tables=fx.tables, context=fx.context)
            ),
            "lambda": fx.mem_ids(spec.mem(fx.ids)),
            "memory (ours)": fx.mem_ids(memory.compile(q, context=fx.context, users=fx.users)),
        }
        for name, ids in got.items():
            if ids != want:
                raise SystemExit(
                    f"{name} for {spec.text!r} selects {len(ids)} rows, compiled SQL {len(want)}"
                )


# --- timing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """How long to time each function: calls per sample (about ``sample_s``) and samples."""

    sample_s: float
    repeat: int
    max_number: int = 20_000

    def us(self, func: Callable[[], object]) -> tuple[float, float]:
        """Median and spread of µs per call of ``func``."""
        began = time.perf_counter()
        func()
        once = max(time.perf_counter() - began, 1e-7)
        number = max(1, min(self.max_number, int(self.sample_s / once)))
        return per_call_us(func, number=number, repeat=self.repeat)


def table(
    title: str,
    baseline: str,
    rows: list[tuple[str, tuple[float, float], tuple[float, float]]],
) -> None:
    """One Markdown table: ours and baseline per query, the ratio, and geometric means."""
    print(f"\n# {title}\n")
    print(f"| query | ours µs | spread | {baseline} µs | spread | ratio |")
    print("|---|---|---|---|---|---|")
    coder: list[float] = []
    extended: list[float] = []
    for i, (text, (ours, s_ours), (base, s_base)) in enumerate(rows):
        ratio = ours / base
        (extended if SPECS[i].extended else coder).append(ratio)
        print(f"| `{text}` | {ours:.1f} | {s_ours:.1f} | {base:.2f} | {s_base:.2f} | {ratio:.1f} |")
    gm = statistics.geometric_mean
    print(
        f"\nGeometric mean ratio: {gm(coder):.1f} (Coder-mode queries), "
        f"{gm(extended):.1f} (extended queries)."
    )


def main(argv: list[str] | None = None) -> int:
    """Check the baselines on demo data, then print one table per stage."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter samples, 3 repeats")
    ap.add_argument("--smoke", action="store_true", help="one call per figure, 200 demo rows")
    args = ap.parse_args(argv)
    timing, n_logs = Timing(0.02, 7), 2000
    if args.quick:
        timing = Timing(0.005, 3)
    if args.smoke:
        timing, n_logs = Timing(0.0, 1, max_number=1), 200

    fx = Fixture(generate(seed=1, n_logs=n_logs))
    check(fx)
    print(
        f"Baselines checked: each selects the same rows as the compiled query on {n_logs:,} "
        "demo rows (SQL and SQLAlchemy on SQLite, lambdas in memory). Relative times resolve "
        f"against {NOW:%Y-%m-%d %H:%M}Z; `me` is a user id; organization names resolve through "
        "a dict."
    )
    ctx = fx.context
    queries = [(spec, parse(spec.text, mode="extended")) for spec in SPECS]

    parse_rows, cached_rows = [], []
    for spec, _ in queries:
        text = spec.text
        base = timing.us(lambda text=text: floor(text))
        fresh = timing.us(lambda text=text: parse(text, mode="extended", now=NOW))
        cached = timing.us(lambda text=text: parse(text, mode="extended"))
        parse_rows.append((text, fresh, base))
        cached_rows.append((text, cached, base))
    table("parse (extended mode), fresh text, against a str.split floor", "floor", parse_rows)
    table("parse (extended mode), repeated text (cached), against the floor", "floor", cached_rows)

    for dialect in DIALECTS:
        spelling = SPELLINGS[dialect]
        rows = []
        for spec, q in queries:
            ours = timing.us(lambda q=q, d=dialect: sql_backend.compile(q, d, context=ctx))
            hand = timing.us(lambda spec=spec, s=spelling: spec.sql(s, fx.ids))
            rows.append((spec.text, ours, hand))
        table(
            f"backends.sql.compile, {dialect}, against an f-string and a params tuple",
            "f-string",
            rows,
        )

    rows = []
    for spec, q in queries:
        ours = timing.us(lambda q=q: sa_backend.compile(q, tables=fx.tables, context=ctx))
        hand = timing.us(lambda spec=spec: spec.sa(fx.tables, fx.ids))
        rows.append((spec.text, ours, hand))
    table(
        "backends.sqlalchemy.compile (expression only), against the same expression by hand",
        "by hand",
        rows,
    )

    rows = []
    for spec, q in queries:
        ours = timing.us(lambda q=q: memory.compile(q, context=ctx, users=fx.users))
        hand = timing.us(lambda spec=spec: spec.mem(fx.ids))
        rows.append((spec.text, ours, hand))
    table("backends.memory.compile, against building a hand-written lambda", "lambda", rows)
    fx.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
