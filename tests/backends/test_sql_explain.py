"""PostgreSQL plans: the compiled predicates are ones the planner answers from Coder's indexes.

Enough generated rows (server-side ``generate_series``) in a throw-away schema that a sequential
scan would be the worse plan; ``enable_seqscan`` stays on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from connlog_query import Query
from connlog_query.backends import ddl
from connlog_query.backends.schema import Schema
from connlog_query.backends.sql import count_logs, select_logs

ROWS = 40_000
ORGS = 200
USERS = 400
WORKSPACES = 4_000


def md5_uuid(prefix: str, n: int) -> uuid.UUID:
    """The UUID PostgreSQL's ``md5(prefix || n)::uuid`` gives (used to find generated rows)."""
    import hashlib

    return uuid.UUID(hashlib.md5(f"{prefix}{n}".encode()).hexdigest())


def fill_sql(schema: Schema, rows: int, orgs: int, users: int, workspaces: int) -> list[str]:
    """Server-side generation of a synthetic connection log (fixed text; sizes are integers)."""
    o, u, c = schema.organizations, schema.users, schema.connection_logs
    return [
        f"INSERT INTO {o} (id, name, display_name) "
        f"SELECT md5('org' || g)::uuid, 'org' || g, 'Org ' || g FROM generate_series(0, {orgs - 1}) g",
        f"INSERT INTO {u} (id, username, email, created_at, deleted) "
        f"SELECT md5('user' || g)::uuid, 'user' || g, 'user' || g || '@example.com', "
        f"timestamptz '2024-01-01', g % 50 = 49 FROM generate_series(0, {users - 1}) g",
        f"""INSERT INTO {c} (id, connect_time, organization_id, workspace_owner_id, workspace_id,
            workspace_name, agent_name, type, code, ip, user_agent, user_id, slug_or_port,
            connection_id, disconnect_time, disconnect_reason)
        SELECT md5('log' || g)::uuid,
            timestamptz '2025-01-01' + g * interval '7 seconds',
            md5('org' || ((g / 7) % {orgs}))::uuid,
            md5('user' || ((g / 3) % {users}))::uuid,
            md5('ws' || ((g / 11) % {workspaces}))::uuid,
            'ws' || ((g / 11) % {workspaces}), 'main',
            (ARRAY['ssh','vscode','cursor','zed','jetbrains','reconnecting_pty',
                   'workspace_app','port_forwarding','tunnel','windsurf'])[1 + g % 10],
            CASE WHEN g % 10 >= 6 THEN 200 ELSE 0 END,
            ('10.0.' || (g % 250) || '.' || (g % 200))::inet,
            CASE WHEN g % 10 >= 6 THEN 'Mozilla/5.0' END,
            CASE WHEN g % 10 >= 5 THEN md5('user' || (g % {users}))::uuid END,
            CASE WHEN g % 10 >= 6 THEN '8080' END,
            CASE WHEN g % 10 < 6 THEN md5('conn' || g)::uuid END,
            CASE WHEN g % 10 < 6 AND g % 13 <> 0
                 THEN timestamptz '2025-01-01' + g * interval '7 seconds' + interval '1 hour' END,
            CASE WHEN g % 10 < 6 AND g % 13 <> 0 THEN 'closed' END
        FROM generate_series(0, {rows - 1}) g""",
    ]


@pytest.fixture(scope="module")
def pg(pg_dsn: str) -> Iterator[tuple[Any, Schema]]:
    import psycopg

    ns = f"clq_explain_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(pg_dsn, autocommit=True)
    conn.execute(f'CREATE SCHEMA "{ns}"')
    schema = Schema(f"{ns}.connection_logs", f"{ns}.users", f"{ns}.organizations")
    try:
        for sql in ddl.create_schema("postgresql", schema):
            conn.execute(sql)
        for sql in fill_sql(schema, ROWS, ORGS, USERS, WORKSPACES):
            conn.execute(sql)
        for table in (schema.organizations, schema.users, schema.connection_logs):
            conn.execute(f"ANALYZE {table}")
        yield conn, schema
    finally:
        conn.execute(f'DROP SCHEMA "{ns}" CASCADE')
        conn.close()


def plan(conn: Any, sql: str, params: Any) -> str:
    rows = conn.execute(f"EXPLAIN {sql}", params).fetchall()
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (Query(workspace_id=md5_uuid("ws", 17)), "idx_connection_logs_workspace_id"),
        (Query(organization=md5_uuid("org", 3)), "idx_connection_logs_organization_id"),
        (Query(workspace_owner="user7"), "idx_connection_logs_workspace_owner_id"),
        (Query(workspace_owner="user7"), "users_username_lower_idx"),
        (Query(connection_id=md5_uuid("conn", 42)), "connection_id_workspace_id_agent_name"),
        (Query(), "idx_connection_logs_connect_time_desc"),
        (Query(type="ssh"), "idx_connection_logs_connect_time_desc"),
    ],
    ids=["workspace_id", "organization", "owner", "owner_lookup", "connection_id", "all", "type"],
)
def test_list_plan_uses_index(pg: tuple[Any, Schema], query: Query, index: str) -> None:
    conn, schema = pg
    frag = select_logs(query, "postgresql", schema=schema)
    text = plan(conn, frag.sql, frag.params)
    assert index in text, text
    assert "Seq Scan on connection_logs" not in text, text


def test_count_plan_uses_index(pg: tuple[Any, Schema]) -> None:
    conn, schema = pg
    frag = count_logs(Query(workspace_id=md5_uuid("ws", 17)), "postgresql", schema=schema)
    text = plan(conn, frag.sql, frag.params)
    assert "idx_connection_logs_workspace_id" in text, text


def test_generated_rows_are_found(pg: tuple[Any, Schema]) -> None:
    conn, schema = pg
    frag = count_logs(Query(workspace_id=md5_uuid("ws", 17)), "postgresql", schema=schema)
    assert conn.execute(frag.sql, frag.params).fetchone()[0] == 11


def _ext(text: str) -> Query:
    from connlog_query import parse

    return parse(text, mode="extended")


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("workspace_owner:user7*", "idx_connection_logs_workspace_owner_id"),
        ("workspace_owner:user7 -type:ssh", "idx_connection_logs_workspace_owner_id"),
        ("workspace_owner:user7,user8", "idx_connection_logs_workspace_owner_id"),
        (
            f"workspace_id:{md5_uuid('ws', 17)},{md5_uuid('ws', 18)}",
            "idx_connection_logs_workspace_id",
        ),
        ("connected:-1h..now", "idx_connection_logs_connect_time_desc"),
        ("NOT connected:<=-1h", "idx_connection_logs_connect_time_desc"),
        ("dev", "idx_connection_logs_connect_time_desc"),
    ],
    ids=[
        "wildcard",
        "owner_not_type",
        "owner_list",
        "workspace_list",
        "relative",
        "not_time",
        "text",
    ],
)
def test_extended_plans_use_indexes(pg: tuple[Any, Schema], text: str, index: str) -> None:
    import datetime as dt

    from connlog_query.backends.context import CompileContext

    conn, schema = pg
    # Inside the generated rows (7 s apart from 2025-01-01), so the time window is narrow.
    now = dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)
    frag = select_logs(_ext(text), "postgresql", schema=schema, context=CompileContext(now=now))
    text_plan = plan(conn, frag.sql, frag.params)
    assert index in text_plan, text_plan
    assert "Seq Scan on connection_logs" not in text_plan, text_plan
