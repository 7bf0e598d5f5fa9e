"""Placeholder: replaced by the real parser."""

from __future__ import annotations

from .query import Query


def parse(text: str, *, mode: str = "coder") -> Query:
    raise NotImplementedError
