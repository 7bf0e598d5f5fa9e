"""``complete(text, cursor)``: what can be typed at the cursor, offline.

In extended mode the grammar decides: the text before the word under the cursor is fed to
Lark's interactive LALR parser, and the terminals it accepts next say whether a key, a keyword
or a value fits there. Keys come from the key list, values from the key's vocabulary (enum
values, ``me``, time templates). In Coder mode every position accepts a ``key:value`` element,
so keys and values are offered without keywords.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from .extended import EXTENDED_KEYS
from .syntax import load_grammar
from .values import FILTER_KEYS, ConnectionStatus, ConnectionType

__all__ = ["Completion", "complete"]

_STOP = set(" \t\n\r()")

_KEY_HELP = {
    "organization": "organization name or id",
    "workspace_owner": "owner's username, or me",
    "workspace_owner_email": "owner's email",
    "type": "connection type",
    "username": "connecting user's username, or me",
    "user_email": "connecting user's email",
    "connected_after": "connected at or after a time",
    "connected_before": "connected at or before a time",
    "workspace_id": "workspace UUID",
    "connection_id": "connection UUID",
    "status": "ongoing or completed",
    "connected": "connect time comparison or range",
}

_TIME_TEMPLATES = {
    "coder": ['"2025-07-01T00:00:00Z"'],
    "extended": [
        "-1h",
        "-24h",
        "-7d",
        "-2w",
        "now",
        "2025-07-01",
        '"2025-07-01T00:00:00Z"',
    ],
}
_CONNECTED_TEMPLATES = [">=-24h", ">=-7d", "<-1h", "2025-07-01..2025-07-07", "-7d..now"]


@dataclass(frozen=True, slots=True)
class Completion:
    """One suggestion: put ``text`` in place of ``span`` (offsets into the query text)."""

    text: str
    span: tuple[int, int]
    kind: Literal["key", "value", "keyword"]
    description: str = ""


@functools.lru_cache(maxsize=1)
def _extended_parser() -> Any:
    import lark

    return lark.Lark(load_grammar("extended.lark"), parser="lalr", lexer="contextual")


def _word_start(text: str, cursor: int) -> int:
    start = cursor
    in_quotes = text[:cursor].count('"') % 2 == 1
    while start > 0:
        ch = text[start - 1]
        if in_quotes:
            if ch == '"':
                start -= 1
                break
        elif ch in _STOP or ch == ",":
            break
        start -= 1
    return start


def _accepted_after(prefix: str) -> set[str] | None:
    """Terminals the extended grammar accepts after ``prefix`` (None: prefix is invalid)."""
    import lark

    try:
        interactive = _extended_parser().parse_interactive(prefix)
        interactive.exhaust_lexer()
        return set(interactive.accepts())
    except lark.exceptions.LarkError:
        return None


def _values_for(key: str, mode: str) -> list[tuple[str, str]]:
    if key == "type":
        return [(t.value, "connection type") for t in ConnectionType]
    if key == "status":
        return [(s.value, "session status") for s in ConnectionStatus]
    if key in ("workspace_owner", "username"):
        return [("me", "you, the caller")]
    if key in ("connected_after", "connected_before"):
        return [(t, "time") for t in _TIME_TEMPLATES[mode]]
    if key == "connected" and mode == "extended":
        return [(t, "comparison or range") for t in _CONNECTED_TEMPLATES]
    return []


def complete(
    text: str, cursor: int | None = None, *, mode: Literal["coder", "extended"] = "coder"
) -> list[Completion]:
    """Completions for the word under ``cursor`` (default: the end of ``text``).

    Each :class:`Completion` says what to insert and which span of ``text`` it replaces.
    """
    cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))
    start = _word_start(text, cursor)
    word = text[start:cursor]
    keys = FILTER_KEYS if mode == "coder" else EXTENDED_KEYS
    negated = mode == "extended" and word.startswith("-")
    if negated:
        start, word = start + 1, word[1:]

    head, colon, _ = word.partition(":")
    if colon:
        key = head.lower()
        # After a comma in extended mode, only the last list item is being typed.
        value_start = start + len(head) + 1
        before = text[start + len(head) + 1 : cursor]
        if mode == "extended" and "," in before:
            value_start += before.rfind(",") + 1
        typed = text[value_start:cursor].lower()
        return [
            Completion(value, (value_start, cursor), "value", help_text)
            for value, help_text in _values_for(key, mode)
            if value.lower().startswith(typed)
        ]
    if mode == "extended" and start > 0 and text[start - 1] == ",":
        # A list value without its key in the word: find the key before the list.
        left = text[:start]
        key_start = _word_start(left.rstrip(","), len(left.rstrip(",")))
        key = left[key_start:].split(":", 1)[0].lstrip("-").lower()
        return [
            Completion(value, (start, cursor), "value", help_text)
            for value, help_text in _values_for(key, mode)
            if value.startswith(word.lower())
        ]

    out: list[Completion] = []
    accepted: set[str] = {"KEY"}
    if mode == "extended":
        found = _accepted_after(text[: start - 1] if negated else text[:start])
        if found is None:
            return []
        accepted = {"KEY"} if negated and "MINUS" in found else found
    if "KEY" in accepted:
        out.extend(
            Completion(f"{key}:", (start, cursor), "key", _KEY_HELP[key])
            for key in keys
            if key.startswith(word.lower())
        )
    if mode == "extended" and not negated:
        for keyword, terminal in (("AND", "_AND"), ("OR", "_OR"), ("NOT", "_NOT")):
            # With nothing typed, AND is implied by a space: offer only OR and NOT.
            fits = keyword.startswith(word) if word else terminal != "_AND"
            if terminal in accepted and fits:
                out.append(Completion(keyword, (start, cursor), "keyword", "boolean operator"))
    return out
