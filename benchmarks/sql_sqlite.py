"""SQL backend on SQLite with 1,000,000 rows: ``SQLiteStore.list()`` and compiled SQL vs
hand-written and static SQL.

The same comparison as ``sql_postgres.py`` (the queries, baselines and printing are shared, in
``_sqlbench.py``): twelve Coder-mode queries and six extended ones (a wildcard, an OR of two
keys, two negations, free text, a relative time range), on one SQLite file, in one process:

* **ours**: ``select_logs`` + ``count_logs`` compiled once, then executed (list page and capped
  count, as Coder's endpoint runs them); **hand**: the same two statements written by hand for
  just that filter; **static**: Coder's sqlc-style statement where every filter is present as
  ``CASE WHEN <param unset> THEN true ELSE <predicate> END`` (value lists bound as one JSON
  array), for Coder-mode queries only. Ratios ``ours/hand`` (target <= 1.1) and
  ``ours/static``.
* **list()**: the whole ``SQLiteStore.list()`` call (resolving an organization name, compiling,
  the count, the page when the count is not 0, decoding the rows into Coder's JSON models);
  **hand list**: the hand-written statements run the same way (count, then the page) with the
  rows decoded into the same models by the same code. ``list/hand`` is what the store adds
  over code written by hand for one filter.

Figures are medians of ``--repeat`` interleaved samples or more: fast variants are timed more
often (about 0.5 s of samples per query in all). Every variant must find the same count and
page (else it stops with an error). Then it prints the indexes each list query's plan uses
(``EXPLAIN QUERY PLAN``; "sort" is a temporary B-tree for ORDER BY, "full scan" a scan of the
logs without an index), and the compile time of each query relative to the Coder-mode
``owner+type+completed`` query.

Data: generated inside SQLite with a recursive CTE (ids, types, owners, workspaces and times
spread by integer hashes of the row number, the shape of ``sql_postgres.py``'s data; Coder's
indexes; ``ANALYZE``), in a file under the system temporary directory named after the row
count, reused by later runs. The store runs with SQLite's defaults (2 MB page cache); the file
sits in the OS page cache after the first query. Run::

    .venv/bin/python benchmarks/sql_sqlite.py [--rows 1000000] [--repeat 7] [--path FILE]
        [--drop] [--quick] [--smoke]

``--quick``: 100,000 rows, 3 repeats. ``--smoke``: 2,000 rows in a throw-away file, once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _sqlbench as sb
from connlog_query.backends import ddl
from connlog_query.backends.context import CompileContext
from connlog_query.backends.schema import Schema
from connlog_query.models import ConnectionLogResponse
from connlog_query.store import SQLiteStore
from connlog_query.store.base import COUNT_CAP

FLAVOR = sb.Flavor(
    dialect="sqlite",
    placeholder="?",
    ilike="LIKE",  # SQLite's LIKE ignores ASCII case: the usual way to write ILIKE there
    distinct_from="IS NOT",
    explain=sb.explain_sqlite,
)
DATA_VERSION = 1
"""Bump when the generated data changes, so files of an older shape are not reused."""

_KINDS = {"org": 1, "user": 2, "ws": 3, "log": 4, "conn": 5}


def seq_uuid(kind: str, n: int) -> uuid.UUID:
    """The id of generated row ``n`` of ``kind``: ``printf('%08x-0000-0000-0000-%012x')``."""
    return uuid.UUID(int=(_KINDS[kind] << 96) | n)


def _id_sql(kind: str, expr: str) -> str:
    return f"printf('%08x-0000-0000-0000-%012x', {_KINDS[kind]}, {expr})"


def _hash(expr: str, multiplier: int, modulus: int) -> str:
    """A multiplicative hash of an integer expression into ``[0, modulus)`` (SQLite has no
    ``hashtext``); a different odd multiplier per column keeps the columns independent."""
    return f"((({expr}) * {multiplier}) % 4294967296 / 256 % {modulus})"


def _time_sql(seconds: str) -> str:
    # Fixed-width UTC text, as the SQLite dialect stores timestamps.
    epoch = int(sb.START.timestamp())
    return f"strftime('%Y-%m-%d %H:%M:%S', {epoch} + {seconds}, 'unixepoch') || '.000000'"


def fill_sql(rows: int) -> list[str]:
    """The generating statements; fixed text with integer sizes only."""
    block = "(g.n / 50)"  # 50 consecutive rows share an organization, owner and workspace
    types = " ".join(f"WHEN {i} THEN '{t}'" for i, t in enumerate(sb.TYPES))
    series = f"WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < {rows - 1})"
    return [
        f"""INSERT INTO organizations (id, name, display_name, icon, deleted)
        WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < {sb.ORGS - 1})
        SELECT {_id_sql("org", "g.n")}, 'org' || g.n, 'Org ' || g.n, '', 0 FROM g""",
        f"""INSERT INTO users (id, username, email, deleted, name, created_at, updated_at,
            status, login_type, avatar_url)
        WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < {sb.USERS - 1})
        SELECT {_id_sql("user", "g.n")}, 'user' || g.n, 'user' || g.n || '@example.com',
            g.n % 100 = 99, '', '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000',
            'active', 'password', '' FROM g""",
        f"""INSERT INTO connection_logs (id, connect_time, organization_id, workspace_owner_id,
            workspace_id, workspace_name, agent_name, type, code, ip, user_agent, user_id,
            slug_or_port, connection_id, disconnect_time, disconnect_reason)
        {series}
        SELECT {_id_sql("log", "g.n")},
            {_time_sql("g.n * 3")},
            {_id_sql("org", _hash(block, 2654435761, sb.ORGS))},
            {_id_sql("user", _hash(block, 2246822519, sb.USERS))},
            {_id_sql("ws", _hash(block, 3266489917, sb.WORKSPACES))},
            'ws', 'main',
            CASE {_hash("g.n", 668265263, len(sb.TYPES))} {types} END,
            0, '10.0.0.1', NULL,
            CASE WHEN g.n % 3 = 0 THEN {_id_sql("user", _hash("g.n", 374761393, sb.USERS))} END,
            NULL, {_id_sql("conn", "g.n")},
            CASE WHEN g.n % 17 <> 0 THEN {_time_sql("g.n * 3 + 1200")} END,
            NULL
        FROM g""",
    ]


def generate(path: Path, rows: int) -> None:
    """Write a database of ``rows`` log rows to ``path`` (atomically: built aside, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.partial")
    statements = ddl.create_schema("sqlite")
    tables = [s for s in statements if s.startswith("CREATE TABLE")]
    indexes = [s for s in statements if not s.startswith("CREATE TABLE")]
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        # A throw-away file being built: no journal, no fsync.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for sql in [*tables, *fill_sql(rows), *indexes]:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    os.replace(partial, path)


def log_rows(path: Path) -> int:
    """Rows in the file's ``connection_logs`` (-1 if it is not a usable database)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return int(conn.execute("SELECT count(*) FROM connection_logs").fetchone()[0])
    except sqlite3.Error:
        return -1


def ensure_data(path: Path, rows: int, drop: bool) -> None:
    """Generate the file unless it already holds ``rows`` rows."""
    if not drop and path.exists() and log_rows(path) == rows:
        print(f"reusing {rows:,} rows in {path}")
        return
    print(f"generating {rows:,} rows in {path} ...", flush=True)
    began = time.perf_counter()
    generate(path, rows)
    size = path.stat().st_size / 2**20
    print(f"generated in {time.perf_counter() - began:.1f} s ({size:.0f} MiB)")


def default_path(rows: int) -> Path:
    """The reused data file for ``rows`` rows, under the system temporary directory."""
    return Path(tempfile.gettempdir()) / "connlog_query_bench" / f"sqlite-v{DATA_VERSION}-{rows}.db"


# --- list() and its hand-written counterpart ---------------------------------------------------


class ListVariants:
    """``store.list()`` against the hand-written statements run and decoded the same way."""

    def __init__(self, store: SQLiteStore, context: CompileContext) -> None:
        self.store, self.context = store, context
        self.conn = store._conn  # the same connection (and page cache) as list() itself

    def ours(self, case: sb.Case) -> Callable[[], sb.Answer]:
        """``store.list(query)``."""

        def call() -> sb.Answer:
            page = self.store.list(case.query, context=self.context)
            return sb.Answer(page.count, tuple(str(log.id) for log in page.connection_logs))

        return call

    def hand(self, case: sb.Case) -> Callable[[], sb.Answer]:
        """Hand-written count, then page, decoded into Coder's models by the store's code."""
        page_sql, count_sql = sb.hand_statements(
            FLAVOR, Schema(), case.hand_where, case.hand_params
        )

        def call() -> sb.Answer:
            count = int(self.conn.execute(*count_sql).fetchone()[0])
            logs = []
            if count:
                logs = [self.store._to_log(row) for row in self.conn.execute(*page_sql)]
            self.conn.rollback()  # as the store ends each read
            page = ConnectionLogResponse(connection_logs=logs, count=count, count_cap=COUNT_CAP)
            return sb.Answer(page.count, tuple(str(log.id) for log in page.connection_logs))

        return call


@contextlib.contextmanager
def data_file(args: argparse.Namespace) -> Iterator[Path]:
    """The database file to use: a throw-away one for ``--smoke``, else the reused one."""
    if args.smoke:
        with tempfile.TemporaryDirectory(prefix="connlog_bench_") as tmp:
            path = Path(tmp) / "smoke.db"
            ensure_data(path, args.rows, drop=True)
            yield path
        return
    path = Path(args.path) if args.path else default_path(args.rows)
    ensure_data(path, args.rows, args.drop)
    yield path


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the file, then print the comparison, the plans and compile times."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--path", help="database file (default: under the temporary directory)")
    ap.add_argument("--drop", action="store_true", help="regenerate the data")
    ap.add_argument("--quick", action="store_true", help="100,000 rows, 3 repeats")
    ap.add_argument("--smoke", action="store_true", help="2,000 rows in a throw-away file, once")
    args = ap.parse_args(argv)
    budget_ms, number, repeat = 500.0, 300, 7
    if args.quick:
        args.rows, args.repeat, budget_ms, number = 100_000, 3, 150.0, 100
    if args.smoke:
        args.rows, args.repeat, budget_ms, number, repeat = 2_000, 1, 0.0, 1, 1

    with data_file(args) as path, contextlib.closing(SQLiteStore(path)) as store:
        schema = store.schema
        caller = seq_uuid("user", 42)
        context = CompileContext(user_id=caller, now=sb.clock(args.rows))
        org_ids = {f"org{i}": seq_uuid("org", i) for i in range(sb.ORGS)}
        conn = store._conn
        row = conn.execute(
            "SELECT workspace_id FROM connection_logs WHERE id = ?",
            (str(seq_uuid("log", args.rows // 3)),),
        ).fetchone()
        conn.rollback()
        assert row is not None
        all_cases = sb.coder_cases(
            FLAVOR, schema, seq_uuid, caller, args.rows, uuid.UUID(row[0])
        ) + sb.extended_cases(FLAVOR, schema, args.rows)
        lists = ListVariants(store, context)
        print(
            f"SQLite {sqlite3.sqlite_version}, {args.rows:,} rows; medians of {args.repeat} "
            f"samples or more (fast variants: about {budget_ms / 1000:g} s of samples a query)"
        )
        same = sb.compare(
            conn,
            FLAVOR,
            schema,
            all_cases,
            context=context,
            caller=caller,
            org_ids=org_ids,
            repeat=args.repeat,
            budget_ms=budget_ms,
            extra=sb.Extra(("list() ms", "hand list", "list/hand"), lists.ours, lists.hand),
        )
        conn.rollback()
        if not same:
            return 1
        sb.print_compile_times(all_cases, context, schema, "sqlite", number=number, repeat=repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
