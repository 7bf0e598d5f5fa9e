"""The backend registry: built-ins by name, third-party registration, helpful errors."""

from __future__ import annotations

import types

import pytest

from connlog_query.backends import (
    UnknownBackendError,
    available_backends,
    get_backend,
    register_backend,
    unregister_backend,
)


def test_builtins_are_listed_without_importing() -> None:
    assert {"sql", "sqlalchemy", "memory"} <= set(available_backends())


def test_sql_backend_is_the_sql_module() -> None:
    from connlog_query.backends import sql

    assert get_backend("sql") is sql
    assert callable(get_backend("sql").compile)


def test_third_party_backend_is_loaded_once() -> None:
    calls: list[int] = []
    fake = types.SimpleNamespace(compile=lambda query: "compiled")

    def factory() -> object:
        calls.append(1)
        return fake

    register_backend("test-fake-backend", factory)
    try:
        assert "test-fake-backend" in available_backends()
        assert get_backend("test-fake-backend") is fake
        assert get_backend("test-fake-backend") is fake
        assert calls == [1]
    finally:
        unregister_backend("test-fake-backend")
    assert "test-fake-backend" not in available_backends()


def test_unknown_name_lists_and_suggests() -> None:
    with pytest.raises(UnknownBackendError, match=r"unknown backend 'sqll'.*did you mean 'sql'\?"):
        get_backend("sqll")
    with pytest.raises(UnknownBackendError, match=r"available: .*memory.*sql"):
        get_backend("zzz")


def test_empty_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        register_backend("", lambda: None)
