"""Coder's three tables as DDL for each dialect, and how values are stored in them.

:func:`create_schema` gives idempotent ``CREATE TABLE`` / ``CREATE INDEX`` statements for
``organizations``, ``users`` and ``connection_logs`` with Coder's indexes (reference section 11);
:func:`insert_sql` / :func:`insert_params` write rows in the same storage forms the compiled
queries bind (:func:`to_db`) and :func:`from_db` reads them back.

Storage per dialect:

=============  ==================  ===================================  ===============
kind           PostgreSQL          SQLite                               MariaDB/MySQL
=============  ==================  ===================================  ===============
uuid           ``uuid``            TEXT, lower-case hyphenated          CHAR(36) ascii_bin
timestamp      ``timestamptz``     TEXT ``YYYY-MM-DD HH:MM:SS.ffffff``  DATETIME(6), UTC
                                   (UTC, fixed width)
text           ``text``            TEXT (BINARY collation)              VARCHAR/TEXT, utf8mb4,
                                                                        ``utf8mb4_nopad_bin``
bool           ``boolean``         INTEGER 0/1                          BOOLEAN (TINYINT 0/1)
ip             ``inet``            TEXT                                 VARCHAR(64)
=============  ==================  ===================================  ===============
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Literal

from .schema import DEFAULT_SCHEMA, Schema, base_name
from .sql import get_dialect
from .sql.dialect import ColumnKind, Dialect

__all__ = [
    "DEFAULT_MYSQL_COLLATION",
    "TABLE_COLUMNS",
    "TableKey",
    "create_schema",
    "drop_schema",
    "from_db",
    "insert_params",
    "insert_sql",
    "to_db",
]

TableKey = Literal["organizations", "users", "connection_logs"]
"""Which of the three tables (the logical name; the real name comes from the Schema)."""

DEFAULT_MYSQL_COLLATION = "utf8mb4_nopad_bin"
"""MariaDB collation for text: exact (binary) comparison without trailing-space padding, so
``email = value`` is as strict as in PostgreSQL. On MySQL 8 use ``utf8mb4_0900_bin``."""

# Column attribute -> (kind, nullable, MariaDB type of text columns). In insert order.
_TEXT = "VARCHAR(255)"
TABLE_COLUMNS: Mapping[TableKey, tuple[tuple[str, ColumnKind, bool, str], ...]] = {
    "organizations": (
        ("id", "uuid", False, ""),
        ("name", "text", False, _TEXT),
        ("display_name", "text", False, _TEXT),
        ("icon", "text", False, "VARCHAR(2048)"),
        ("deleted", "bool", False, ""),
    ),
    "users": (
        ("id", "uuid", False, ""),
        ("username", "text", False, _TEXT),
        ("email", "text", False, "VARCHAR(320)"),
        ("deleted", "bool", False, ""),
        ("name", "text", False, _TEXT),
        ("created_at", "timestamp", False, ""),
        ("updated_at", "timestamp", True, ""),
        ("last_seen_at", "timestamp", True, ""),
        ("status", "text", False, "VARCHAR(32)"),
        ("login_type", "text", False, "VARCHAR(32)"),
        ("avatar_url", "text", False, "VARCHAR(2048)"),
    ),
    "connection_logs": (
        ("id", "uuid", False, ""),
        ("connect_time", "timestamp", False, ""),
        ("organization_id", "uuid", False, ""),
        ("workspace_owner_id", "uuid", False, ""),
        ("workspace_id", "uuid", False, ""),
        ("workspace_name", "text", False, _TEXT),
        ("agent_name", "text", False, _TEXT),
        ("type", "text", False, "VARCHAR(64)"),
        ("code", "int", True, ""),
        ("ip", "ip", True, ""),
        ("user_agent", "text", True, "TEXT"),
        ("user_id", "uuid", True, ""),
        ("slug_or_port", "text", True, _TEXT),
        ("connection_id", "uuid", True, ""),
        ("disconnect_time", "timestamp", True, ""),
        ("disconnect_reason", "text", True, "TEXT"),
    ),
}
"""Per table: ``(column attribute, kind, nullable, MariaDB text type)`` in insert order. The
attribute names are those of the Schema's column dataclasses."""

# (table, column attribute) -> SQL default of a non-nullable column that callers may omit.
_DEFAULTS: dict[tuple[TableKey, str], str] = {
    ("organizations", "display_name"): "''",
    ("organizations", "icon"): "''",
    ("organizations", "deleted"): "FALSE",
    ("users", "deleted"): "FALSE",
    ("users", "name"): "''",
    ("users", "status"): "'active'",
    ("users", "login_type"): "'password'",
    ("users", "avatar_url"): "''",
}

_TYPES: dict[str, dict[str, str]] = {
    "postgresql": {
        "uuid": "uuid",
        "timestamp": "timestamptz",
        "text": "text",
        "int": "integer",
        "bool": "boolean",
        "ip": "inet",
    },
    "sqlite": {
        "uuid": "TEXT",
        "timestamp": "TEXT",
        "text": "TEXT",
        "int": "INTEGER",
        "bool": "INTEGER",
        "ip": "TEXT",
    },
    "mysql": {
        "uuid": "CHAR(36) CHARACTER SET ascii COLLATE ascii_bin",
        "timestamp": "DATETIME(6)",
        "int": "INTEGER",
        "bool": "BOOLEAN",
        "ip": "VARCHAR(64)",
    },
}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_NAME = 60


def _index_name(name: str) -> str:
    # MariaDB allows 64 characters and PostgreSQL silently truncates at 63; shorten long names
    # (from table prefixes) deterministically so re-running create_schema finds them again.
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9]}_{digest}"


def _columns(schema: Schema, table: TableKey) -> Any:
    return {
        "organizations": schema.organization_columns,
        "users": schema.user_columns,
        "connection_logs": schema.log_columns,
    }[table]


def _table_name(schema: Schema, table: TableKey) -> str:
    return str(getattr(schema, table))


class _Ddl:
    def __init__(self, d: Dialect, schema: Schema, collation: str) -> None:
        self.d, self.s, self.collation = d, schema, collation

    def col(self, table: TableKey, attr: str) -> str:
        return self.d.quote(getattr(_columns(self.s, table), attr))

    def column_defs(self, table: TableKey) -> list[str]:
        out = []
        for attr, kind, nullable, mysql_text in TABLE_COLUMNS[table]:
            sql_type = mysql_text if kind == "text" and self.d.name == "mysql" else None
            sql_type = sql_type or _TYPES[self.d.name][kind]
            line = f"{self.col(table, attr)} {sql_type}"
            if attr == "id":
                line += " NOT NULL PRIMARY KEY"
            elif not nullable:
                line += " NOT NULL"
            default = _DEFAULTS.get((table, attr))
            if default is not None:
                if self.d.name == "sqlite" and default == "FALSE":
                    default = "0"
                line += f" DEFAULT {default}"
            out.append(line)
        return out

    def foreign_keys(self) -> list[str]:
        q, s = self.d.quote, self.s
        oc, uc = s.organization_columns, s.user_columns
        return [
            f"FOREIGN KEY ({self.col('connection_logs', 'organization_id')}) "
            f"REFERENCES {q(s.organizations)} ({q(oc.id)}) ON DELETE CASCADE",
            f"FOREIGN KEY ({self.col('connection_logs', 'workspace_owner_id')}) "
            f"REFERENCES {q(s.users)} ({q(uc.id)}) ON DELETE CASCADE",
        ]

    def indexes(self, table: TableKey) -> list[tuple[str, bool, str, str]]:
        """``(name, unique, column expression list, partial WHERE or "")``."""
        base = base_name(_table_name(self.s, table))

        def c(attr: str) -> str:
            return self.col(table, attr)

        if table == "connection_logs":
            return [
                (
                    f"idx_{base}_connection_id_workspace_id_agent_name",
                    True,
                    f"{c('connection_id')}, {c('workspace_id')}, {c('agent_name')}",
                    "",
                ),
                (f"idx_{base}_connect_time_desc", False, f"{c('connect_time')} DESC", ""),
                (f"idx_{base}_organization_id", False, c("organization_id"), ""),
                (f"idx_{base}_workspace_owner_id", False, c("workspace_owner_id"), ""),
                (f"idx_{base}_workspace_id", False, c("workspace_id"), ""),
            ]
        live = f"NOT {c('deleted')}"
        if table == "users":
            return [
                (f"{base}_username_lower_idx", True, f"lower({c('username')})", live),
                (f"idx_{base}_email", True, c("email"), f"{live} AND {c('email')} <> ''"),
                (f"{base}_email_lower_idx", True, f"lower({c('email')})", live),
            ]
        return [(f"idx_{base}_name_lower", True, f"lower({c('name')})", live)]

    def mysql_indexes(self, table: TableKey) -> list[str]:
        # MariaDB has neither partial nor expression indexes: keep plain, non-unique indexes on
        # the looked-up columns (uniqueness among live users is then not enforced).

        def c(attr: str) -> str:
            return self.col(table, attr)

        base = base_name(_table_name(self.s, table))
        if table == "connection_logs":
            return [
                f"{'UNIQUE ' if unique else ''}INDEX {self.d.quote(_index_name(name))} ({cols})"
                for name, unique, cols, _ in self.indexes(table)
            ]
        if table == "users":
            return [
                f"INDEX {self.d.quote(_index_name(f'{base}_username_idx'))} ({c('username')})",
                f"INDEX {self.d.quote(_index_name(f'idx_{base}_email'))} ({c('email')})",
            ]
        return [f"INDEX {self.d.quote(_index_name(f'idx_{base}_name'))} ({c('name')})"]

    def create_table(self, table: TableKey) -> list[str]:
        q = self.d.quote
        parts = self.column_defs(table)
        if table == "connection_logs":
            parts += self.foreign_keys()
        if self.d.name == "mysql":
            parts += self.mysql_indexes(table)
        body = ",\n  ".join(parts)
        sql = f"CREATE TABLE IF NOT EXISTS {q(_table_name(self.s, table))} (\n  {body}\n)"
        if self.d.name == "mysql":
            sql += f" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={self.collation}"
            return [sql]
        return [sql, *self.create_indexes(table)]

    def create_indexes(self, table: TableKey) -> list[str]:
        q = self.d.quote
        full = _table_name(self.s, table)
        schema_part, _, base = full.rpartition(".")
        out = []
        for name, unique, cols, where in self.indexes(table):
            index = q(_index_name(name))
            if self.d.name == "sqlite":
                # SQLite puts the schema on the index name and wants the table unqualified.
                index = f"{q(schema_part)}.{index}" if schema_part else index
                target = q(base)
            else:
                target = q(full)
            kind = "UNIQUE INDEX" if unique else "INDEX"
            sql = f"CREATE {kind} IF NOT EXISTS {index} ON {target} ({cols})"
            if where:
                sql += f" WHERE {where}"
            out.append(sql)
        return out


_ORDER: tuple[TableKey, ...] = ("organizations", "users", "connection_logs")


def create_schema(
    dialect: str,
    schema: Schema = DEFAULT_SCHEMA,
    *,
    mysql_collation: str = DEFAULT_MYSQL_COLLATION,
) -> list[str]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for the three tables (idempotent).

    Run them in order, one statement per ``execute``. Indexes are Coder's: on
    ``connection_logs`` the unique (connection_id, workspace_id, agent_name), connect_time
    descending, organization_id, workspace_owner_id and workspace_id; on ``users`` unique
    lower(username), email and lower(email) among non-deleted users; on ``organizations`` unique
    lower(name) among non-deleted ones. Index names derive from each table's base name (Coder's
    names for the default schema). On MariaDB/MySQL the indexes are declared inside
    ``CREATE TABLE`` (MySQL lacks ``CREATE INDEX IF NOT EXISTS``) and the users/organizations
    ones are plain indexes, since partial and expression indexes do not exist there.

    Args:
        dialect: ``postgresql``, ``sqlite`` or ``mysql``.
        schema: Table and column names.
        mysql_collation: Collation for MariaDB/MySQL text columns (must compare exactly).
    """
    d = get_dialect(dialect)
    if not _IDENT.match(mysql_collation):
        raise ValueError(f"invalid collation name {mysql_collation!r}")
    ddl = _Ddl(d, schema, mysql_collation)
    return [sql for table in _ORDER for sql in ddl.create_table(table)]


def drop_schema(dialect: str, schema: Schema = DEFAULT_SCHEMA) -> list[str]:
    """``DROP TABLE IF EXISTS`` for the three tables, logs first (its foreign keys point out)."""
    d = get_dialect(dialect)
    return [f"DROP TABLE IF EXISTS {d.quote(_table_name(schema, t))}" for t in reversed(_ORDER)]


def to_db(dialect: str, kind: ColumnKind, value: Any) -> Any:
    """``value`` in the form a column of ``kind`` is bound and stored in ``dialect``."""
    return get_dialect(dialect).to_db(kind, value)


def from_db(dialect: str, kind: ColumnKind, value: Any) -> Any:
    """A fetched value of ``kind`` as Python: UUID, aware UTC datetime, bool, int, str."""
    return get_dialect(dialect).from_db(kind, value)


def insert_sql(dialect: str, table: TableKey, schema: Schema = DEFAULT_SCHEMA) -> str:
    """``INSERT INTO <table> (<all columns>) VALUES (...)``; see :func:`insert_params`."""
    d = get_dialect(dialect)
    cols = _columns(schema, table)
    names = ", ".join(d.quote(getattr(cols, attr)) for attr, *_ in TABLE_COLUMNS[table])
    marks = ", ".join(d.placeholder for _ in TABLE_COLUMNS[table])
    return f"INSERT INTO {d.quote(_table_name(schema, table))} ({names}) VALUES ({marks})"


def insert_params(dialect: str, table: TableKey, record: Mapping[str, Any]) -> tuple[Any, ...]:
    """Parameters for :func:`insert_sql` from ``record`` (keys: the column attribute names).

    Missing nullable columns are ``NULL``; missing non-nullable columns with a default get it
    (``deleted`` false, empty text, user ``status`` ``active``, ``login_type`` ``password``).

    Raises:
        KeyError: a required column without a default is missing.
    """
    d = get_dialect(dialect)
    out = []
    for attr, kind, nullable, _ in TABLE_COLUMNS[table]:
        if attr in record:
            value = record[attr]
        elif nullable:
            value = None
        elif (table, attr) in _DEFAULTS:
            raw = _DEFAULTS[table, attr]
            value = False if raw == "FALSE" else raw.strip("'")
        else:
            raise KeyError(f"{table}.{attr} is required")
        out.append(d.to_db(kind, value))
    return tuple(out)
