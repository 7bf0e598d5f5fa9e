"""The databases filled with ``test_sql_dataset``'s rows that the SQL backend tests run on.

One of each per module (``scope="module"``), created on first use. ``test_sql_execute`` is
imported inside the fixtures so that modules not using them need neither it nor SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from test_sql_execute import Db

DATABASES = ["sqlite", "postgresql", "mysql"]


@pytest.fixture(scope="module")
def sqlite_db() -> Iterator[Db]:
    from test_sql_execute import sqlite_database

    with sqlite_database() as db:
        yield db


@pytest.fixture(scope="module")
def postgresql_db(pg_dsn: str) -> Iterator[Db]:
    from test_sql_execute import postgresql_database

    with postgresql_database(pg_dsn) as db:
        yield db


@pytest.fixture(scope="module")
def mysql_db(mysql_dsn: str) -> Iterator[Db]:
    from test_sql_execute import mysql_database

    with mysql_database(mysql_dsn) as db:
        yield db


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest) -> Db:
    """Each database in turn."""
    return request.getfixturevalue(f"{request.param}_db")  # type: ignore[no-any-return]
