"""Shared fixtures: real database servers, with a skip that CI turns into a failure.

DSNs come from the environment with this machine's defaults. When a server does not answer,
its tests skip with the reason; with ``CONNLOG_REQUIRE_SERVICES=1`` (set by ``.ci/run``) the
same situation fails instead, so CI always runs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

PG_DSN = os.environ.get("CONNLOG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_DSN = os.environ.get("CONNLOG_TEST_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")
REQUIRE_SERVICES = os.environ.get("CONNLOG_REQUIRE_SERVICES", "") not in ("", "0")


def unavailable(what: str, exc: BaseException) -> None:
    """Skip (or, under CONNLOG_REQUIRE_SERVICES, fail) because ``what`` did not answer."""
    reason = f"{what} not reachable: {type(exc).__name__}: {exc}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONNLOG_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def service_unavailable() -> Callable[[str, BaseException], None]:
    """:func:`unavailable`, for tests that learn only while running that a service is down."""
    return unavailable


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of a reachable PostgreSQL server (psycopg 3)."""
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:
        unavailable(f"PostgreSQL at {PG_DSN}", exc)
    return PG_DSN


@pytest.fixture(scope="session")
def mysql_dsn() -> str:
    """DSN of a reachable MariaDB/MySQL server (PyMySQL)."""
    try:
        from urllib.parse import urlsplit

        import pymysql

        parts = urlsplit(MYSQL_DSN)
        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            database=(parts.path or "/test").lstrip("/"),
            connect_timeout=3,
        )
        conn.close()
    except Exception as exc:
        unavailable(f"MariaDB at {MYSQL_DSN}", exc)
    return MYSQL_DSN
