"""Shared names of the server tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from connlog_query.store.sqlite import SQLiteStore

TOKEN = "Qw3rTy1234-tokentokentokentokentok"
"""The valid session token of the reference apps."""


@dataclass
class Servers:
    """Base URLs of the reference apps, the store behind them and the token's user."""

    store: SQLiteStore
    alice: uuid.UUID
    main: str
    unlicensed: str
    forbidden: str
    broken: str
    extended: str
    """The main app with ``mode="extended"``."""
