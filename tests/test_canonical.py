"""Canonical form: table of spellings and hypothesis round-trip / no-crash properties."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query import Query, QueryError, parse
from connlog_query.canonical import expressible, quote_value
from connlog_query.values import FILTER_KEYS

U1 = "0bd5e7c7-6b9d-4a3b-9b44-6a7c0a1c2e3f"

CANONICAL: list[tuple[str, str]] = [
    ("", ""),
    ("   ", ""),
    ("status:ongoing   type:SSH", "type:ssh status:ongoing"),
    ('workspace_owner:"John Doe"', 'workspace_owner:"john doe"'),
    ('username:"bob status:ongoing', 'username:"bob status:ongoing"'),
    ('connected_after:"2023-01-16T12:00:00+12:00"', 'connected_after:"2023-01-16T00:00:00Z"'),
    ('connected_after:"2023-01-01T00:00:00.120000Z"', 'connected_after:"2023-01-01T00:00:00.12Z"'),
    ('connected_before:"2023-01-01T00:00:00.0000009Z"', 'connected_before:"2023-01-01T00:00:00Z"'),
    (f"workspace_id:{U1.replace('-', '').upper()}", f"workspace_id:{U1}"),
    (f'organization:"urn:uuid:{U1}"', f"organization:{U1}"),
    ('organization:"My Org"', 'organization:"my org"'),
    ("username:me workspace_owner:me", "workspace_owner:me username:me"),
    ('user_email:a"b', 'user_email:a"b"'),
    ('user_email:a"b"', 'user_email:a"b"'),
    ('workspace_owner:a"b c"d', 'workspace_owner:a"b c"d'),
    ('workspace_owner:"a b"c', 'workspace_owner:"a b"c'),
    ('workspace_owner:"x:y"', 'workspace_owner:"x:y"'),
    ('workspace_owner:"""x"""', "workspace_owner:x"),
    (
        f'status:completed connection_id:{U1} workspace_id:{U1} connected_before:"2025-07-02T00:00:00Z" '
        'connected_after:"2025-07-01T00:00:00Z" user_email:u@x.io username:u type:vscode '
        "workspace_owner_email:o@x.io workspace_owner:o organization:acme",
        "organization:acme workspace_owner:o workspace_owner_email:o@x.io type:vscode username:u "
        'user_email:u@x.io connected_after:"2025-07-01T00:00:00Z" '
        f'connected_before:"2025-07-02T00:00:00Z" workspace_id:{U1} connection_id:{U1} '
        "status:completed",
    ),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_form(text: str, canonical: str) -> None:
    query = parse(text)
    assert str(query) == canonical
    assert query.to_string() == canonical
    assert parse(canonical) == query


def test_query_from_json_equals_parsed() -> None:
    query = parse(
        f'workspace_owner:me type:ssh connected_after:"2025-07-01T00:00:00Z" workspace_id:{U1}'
    )
    dumped = query.model_dump(mode="json")
    assert dumped["workspace_owner"] == "me"
    assert dumped["connected_after"] == "2025-07-01T00:00:00Z"
    assert Query.model_validate(dumped) == query
    assert Query.model_validate_json(query.model_dump_json()) == query
    schema = Query.model_json_schema()
    assert set(schema["properties"]) == {*FILTER_KEYS, "where"}


def test_code_built_query_is_normalized_like_parsed() -> None:
    built = Query(
        username="Alice",
        workspace_owner="ME",
        organization=U1.upper(),
        workspace_id=uuid.UUID(int=0),
        connected_after=dt.datetime(2025, 7, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        type="SSH",  # type: ignore[arg-type]
    )
    assert built == parse(
        f'username:alice workspace_owner:me organization:{U1} type:ssh connected_after:"2025-07-01T00:00:00Z"'
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"username": '"quoted'},
        {"user_email": 'a b"c d'},
        {"connected_after": dt.datetime(2025, 1, 1)},
        {"workspace_id": "nope"},
        {"type": "cursor"},
    ],
)
def test_code_built_query_rejects_what_coder_cannot_express(bad: dict[str, object]) -> None:
    from pydantic import ValidationError as PydanticValidationError

    with pytest.raises(PydanticValidationError):
        Query(**bad)  # type: ignore[arg-type]


# Values drawn from the characters that matter to Coder's splitter.
_value_chars = st.sampled_from(list('ab": \t-_.@é'))
_values = st.text(_value_chars, min_size=0, max_size=8)
_key = st.sampled_from([*FILTER_KEYS, "foo", "search", ""])


@st.composite
def _queries(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        key = draw(_key)
        value = draw(_values)
        if key in ("connected_after", "connected_before") and draw(st.booleans()):
            when = draw(st.datetimes(timezones=st.just(dt.timezone.utc)))
            value = '"' + when.isoformat().replace("+00:00", "Z") + '"'
        elif key in ("workspace_id", "connection_id", "organization") and draw(st.booleans()):
            value = str(draw(st.uuids()))
        elif key == "type" and draw(st.booleans()):
            value = draw(st.sampled_from(["ssh", "vscode", "tunnel", "SSH"]))
        elif key == "status" and draw(st.booleans()):
            value = draw(st.sampled_from(["ongoing", "completed"]))
        quote = draw(st.sampled_from(["", '"']))
        parts.append(f"{key}:{quote}{value}{quote}")
    sep = draw(st.sampled_from([" ", "  "]))
    return sep.join(parts)


@settings(max_examples=400, deadline=None)
@given(_queries())
def test_round_trip_for_every_accepted_query(text: str) -> None:
    try:
        query = parse(text)
    except QueryError:
        return
    canonical = str(query)
    again = parse(canonical)
    assert again == query
    assert str(again) == canonical


@settings(max_examples=400, deadline=None)
@given(
    st.text(st.sampled_from(list(' :"abcé\t\n-\u0130İ\x00\ud800')) | st.characters(), max_size=60)
)
def test_no_input_raises_anything_but_query_error(text: str) -> None:
    try:
        query = parse(text)
    except QueryError as exc:
        assert exc.errors
        for err in exc.errors:
            assert err.span is not None
            assert 0 <= err.span[0] <= err.span[1] <= len(text)
        str(exc)
        return
    assert parse(str(query)) == query


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list('ab" :\t')), min_size=1, max_size=10))
def test_quote_value_reads_back(value: str) -> None:
    value = value.strip('"')
    if not value or expressible(value) is not None:
        return
    assert parse(f"username:{quote_value(value)}").username == value
