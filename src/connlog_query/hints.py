""" "Did you mean" suggestions and examples attached to errors (Coder gives none)."""

from __future__ import annotations

from collections.abc import Iterable

from .values import FILTER_KEYS

__all__ = ["enum_hint", "time_hint", "unknown_key_hint", "uuid_hint"]

_EXAMPLE_TIME = "2025-07-01T00:00:00Z"


def _closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> list[str]:
    # Imported here: hints are only built for invalid queries, and difflib (with heapq) would
    # add to the cost of `import connlog_query`.
    import difflib

    return difflib.get_close_matches(word, list(choices), n=3, cutoff=cutoff)


def unknown_key_hint(key: str) -> str:
    """Suggest the known key closest to ``key``, or list them all."""
    if key == "search":
        return (
            "Coder's connection log has no free-text search: every term needs key:value, "
            "e.g. workspace_owner:alice"
        )
    close = _closest(key, FILTER_KEYS)
    if close:
        return "did you mean " + " or ".join(f'"{c}"' for c in close) + "?"
    return "valid keys: " + ", ".join(FILTER_KEYS)


def enum_hint(value: str, valid: Iterable[str]) -> str:
    """Suggest the valid value closest to ``value`` and list every valid value."""
    options = list(valid)
    listing = "valid values: " + ", ".join(options)
    close = _closest(value, options, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(f'"{c}"' for c in close) + "? " + listing
    return listing


def time_hint(key: str, value: str) -> str:
    """Show a valid time value for ``key`` and, when recognisable, what ``value`` lacks."""
    example = f'{key}:"{_EXAMPLE_TIME}"'
    bare = value.strip()
    if len(bare) == 10 and bare[4:5] == "-" and bare[7:8] == "-":
        return f'a date alone is not enough: add a time and zone, e.g. {key}:"{bare}T00:00:00Z"'
    if "t" in bare.lower() and not bare.upper().endswith("Z") and "+" not in bare:
        tail = bare[bare.rfind(":") :] if ":" in bare else ""
        if tail and "-" not in tail:
            return f"the time needs a zone (Z or ±hh:mm), e.g. {example}"
    return f"use RFC 3339 with a zone, quoted, e.g. {example}"


def uuid_hint() -> str:
    """How a UUID is written."""
    return "a UUID looks like 123e4567-e89b-12d3-a456-426614174000"
