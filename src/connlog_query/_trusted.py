"""Pydantic models from values that are already valid, without running validation.

The parser and the extended checker convert and check every value themselves, then build
:class:`~connlog_query.query.Query` and expression nodes on a hot path where validation would
be most of the cost. This is what ``model_construct`` does, minus its per-field default
look-ups; the callers' tests compare the result with building by validation.
"""

from __future__ import annotations

from typing import Any

__all__ = ["trusted_model"]


def trusted_model(
    cls: type[Any],
    values: dict[str, Any],
    fields_set: set[str],
    private: dict[str, Any] | None,
) -> Any:
    """An instance of model ``cls`` holding ``values`` (every field, defaults included)."""
    model = object.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", fields_set)
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", private)
    return model
