"""Extended mode's plain-text shortcut against the full extended parser."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query import Limits, QueryError, parse, plain
from connlog_query.values import FILTER_KEYS

NOW = dt.datetime(2025, 7, 10, 12, 0, tzinfo=dt.timezone.utc)

_KEYS = st.sampled_from(
    [
        *FILTER_KEYS,
        "connected",
        "search",
        "nope",
        "USERNAME",
        "Type",
        # Repeated keys often, including after an empty value.
        "username",
        "username",
        "type",
    ]
)
_VALUES = st.sampled_from(
    [
        "ssh",
        "SSH",
        "vscode",
        "nope",
        "ongoing",
        "Completed",
        "me",
        "ME",
        "alice",
        "a.b@x.io",
        "-bob",
        "a+b",
        '""',
        '""',
        '""',
        '"john doe"',
        '" spaced "',
        '"2025-07-01T00:00:00Z"',
        '"2025-07-01t10:00:00.5+02:00"',
        '"0001-01-01T00:00:00Z"',
        "2025-07-01",
        "-24h",
        "now",
        str(uuid.UUID(int=7)),
        str(uuid.UUID(int=0)),
        uuid.UUID(int=9).hex.upper(),
        '"urn:uuid:00000000-0000-0000-0000-000000000003"',
        "x:y",
        '"a:b"',
        "AND",
        "OR",
    ]
)
_SEPARATORS = st.sampled_from([" ", "  ", "\t", " AND ", " OR ", ""])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    terms = draw(st.lists(st.tuples(_KEYS, _VALUES), max_size=6))
    parts = [f"{key}:{value}" for key, value in terms]
    text = ""
    for index, part in enumerate(parts):
        text += (draw(_SEPARATORS) if index else draw(st.sampled_from(["", " "]))) + part
    return text + draw(st.sampled_from(["", " ", "  "]))


def _outcome(text: str, limits: Limits | None) -> Any:
    try:
        query = parse(text, mode="extended", now=NOW, limits=limits)
    except QueryError as exc:
        return [(e.field, e.detail, e.span) for e in exc.errors]
    return (
        query,
        query.model_fields_set,
        {key: query.span(key) for key in type(query).model_fields},
        query._now,
        {key: type(value) for key, value in query},
    )


@settings(max_examples=800, deadline=None)
@given(
    _texts(),
    st.sampled_from([None, Limits(max_terms=2), Limits(max_depth=1), Limits(max_length=30)]),
)
def test_shortcut_gives_what_the_extended_parser_gives(text: str, limits: Limits | None) -> None:
    fast = _outcome(text, limits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plain, "parse_plain", lambda *args: None)
        full = _outcome(text, limits)
    assert fast == full


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("type:ssh", True),
        ('workspace_owner:me connected_after:"2025-07-01T00:00:00Z" status:ongoing', True),
        ('username:"john doe"  type:SSH ', True),
        ("", True),
        ('username:"" username:bob', False),  # Coder skips an empty first value; extended does not
        ("type:ssh,vscode", False),
        ("username:b*", False),
        ("-type:ssh", False),
        ("type:ssh OR type:vscode", False),
        ("dev", False),
        ("username:bob\tstatus:ongoing", False),
        ('username:"a\\"b"', False),
        ("username:é", False),
        ("connected:-24h..now", False),
        ("connected_after:2025-07-01", False),  # Coder rejects a date; extended mode accepts it
    ],
)
def test_which_texts_take_the_shortcut(text: str, taken: bool) -> None:
    got = plain.parse_plain(text, Limits(), None)
    assert (got is not None) == taken
    if taken:
        assert got == parse(text, mode="extended")
