"""Coder-mode parsing: accepted inputs, exact error texts and order, spans and hints."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from connlog_query import ME, ConnectionStatus, ConnectionType, Query, QueryError, parse

UTC = dt.timezone.utc
U1 = uuid.UUID("0bd5e7c7-6b9d-4a3b-9b44-6a7c0a1c2e3f")
LAYOUT = "2006-01-02T15:04:05.999999999Z07:00"

ACCEPTED: list[tuple[str, dict[str, object]]] = [
    ("", {}),
    ("     ", {}),
    ("status:ongoing   type:ssh", {"status": ConnectionStatus.ONGOING, "type": ConnectionType.SSH}),
    ("USERNAME:Alice", {"username": "alice"}),
    ('workspace_owner:"john doe"', {"workspace_owner": "john doe"}),
    (
        'connected_after:"2023-01-01T00:00:00Z"',
        {"connected_after": dt.datetime(2023, 1, 1, tzinfo=UTC)},
    ),
    (
        'CONNECTED_BEFORE:"2023-01-16T12:00:00+12:00"',
        {"connected_before": dt.datetime(2023, 1, 16, tzinfo=UTC)},
    ),
    ("type::ssh", {"type": ConnectionType.SSH}),
    ('username:""', {}),
    ('username:"" username:bob', {}),
    ('username:"bob status:ongoing', {"username": "bob status:ongoing"}),
    ("username:me workspace_owner:ME", {"username": ME, "workspace_owner": ME}),
    (
        "user_email:me workspace_owner_email:Me@X.io",
        {"user_email": "me", "workspace_owner_email": "me@x.io"},
    ),
    ("organization:Coder", {"organization": "coder"}),
    (f"organization:{U1}", {"organization": U1}),
    (f"organization:{U1.hex}", {"organization": U1}),
    ("organization:00000000-0000-0000-0000-000000000000", {}),
    ("workspace_id:00000000000000000000000000000000", {}),
    (f"workspace_id:{{{U1}}}", {"workspace_id": U1}),
    (f"workspace_id:x{U1}y", {"workspace_id": U1}),
    (f'connection_id:"URN:UUID:{str(U1).upper()}"', {"connection_id": U1}),
    ('connected_after:"0001-01-01T00:00:00Z"', {}),
    ('connected_after:"0001-01-01T01:00:00+01:00"', {}),
    (
        'connected_after:"2025-07-01T10:00:00.1234567891Z"',
        {"connected_after": dt.datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=UTC)},
    ),
    (
        "type:TUNNEL status:Completed",
        {"type": ConnectionType.TUNNEL, "status": ConnectionStatus.COMPLETED},
    ),
    ('workspace_owner:a"b c"d', {"workspace_owner": 'a"b c"d'}),
    ('"username":bob', {"username": "bob"}),
    ("username:tab\there", {"username": "tab\there"}),
    ("username:\u0130stanbul", {"username": "istanbul"}),
]


@pytest.mark.parametrize(("text", "fields"), ACCEPTED)
def test_accepted(text: str, fields: dict[str, object]) -> None:
    assert parse(text) == Query(**fields)  # type: ignore[arg-type]
    assert parse(text).filters() == fields


def test_coder_full_query_pinned_by_coder_tests() -> None:
    ws, conn = uuid.uuid4(), uuid.uuid4()
    q = parse(
        "organization:acme workspace_owner:bob workspace_owner_email:bob@x.io "
        "type:port_forwarding username:carol user_email:carol@x.io "
        'connected_after:"2023-01-01T00:00:00Z" connected_before:"2023-01-16T12:00:00+12:00" '
        f"workspace_id:{ws} connection_id:{conn} status:ongoing"
    )
    assert q.connected_after == dt.datetime(2023, 1, 1, tzinfo=UTC)
    assert q.connected_before == dt.datetime(2023, 1, 16, tzinfo=UTC)
    assert q.connected_before.tzinfo is UTC
    assert (q.workspace_id, q.connection_id) == (ws, conn)
    assert q.type is ConnectionType.PORT_FORWARDING
    assert len(q.filters()) == 11


def _dup(key: str, n: int) -> str:
    return (
        f'Query param "{key}" provided more than once, found {n} times.'
        " Only provide 1 instance of this query param."
    )


REJECTED: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "connected_after:2023-01-01T00:00:00Z",
        [("q", "Query element \"connected_after:2023-01-01t00:00:00z\" can only contain 1 ':'")],
    ),
    (":ssh", [("q", "Query element \":ssh\" cannot start or end with ':'")]),
    ("type:", [("q", "Query element \"type:\" cannot start or end with ':'")]),
    (":", [("q", "Query element \":\" cannot start or end with ':'")]),
    # Coder tests the raw element, quotes included: an open quote ending in ':' still ends in ':'.
    ('username:"bob:', [("q", 'Query element "username:\\"bob:" cannot start or end with \':\'')]),
    ('a:"b":c', [("q", 'Query element "a:\\"b\\":c" can only contain 1 \':\'')]),
    ("status:bad foo:bar :x a:b:c", [("q", "Query element \":x\" cannot start or end with ':'")]),
    ("hello world status:ongoing", [("search", '"search" is not a valid query param')]),
    ('"a:b"', [("search", '"search" is not a valid query param')]),
    ("search:x hello", [("search", '"search" is not a valid query param')]),
    ("foo:bar", [("foo", '"foo" is not a valid query param')]),
    ("FOO:bar", [("foo", '"foo" is not a valid query param')]),
    ('"":x', [("", '"" is not a valid query param')]),
    (
        "status:connected",
        [("status", 'Query param "status" has invalid value: "connected" is not a valid value')],
    ),
    (
        "type:cursor",
        [("type", 'Query param "type" has invalid value: "cursor" is not a valid value')],
    ),
    (
        'type:"a\tb"',
        [("type", 'Query param "type" has invalid value: "a\\tb" is not a valid value')],
    ),
    ("workspace_id:abc", [("workspace_id", 'Query param "workspace_id" must be a valid uuid')]),
    (
        "connection_id:00000000-0000-0000-0000-00000000000g",
        [("connection_id", 'Query param "connection_id" must be a valid uuid')],
    ),
    (
        'connected_after:"2023-01-01"',
        [
            (
                "connected_after",
                f'Query param "connected_after" must be a valid date format ({LAYOUT}): '
                f'parsing time "2023-01-01" as "{LAYOUT}": cannot parse "" as "T"',
            )
        ],
    ),
    ("type:ssh type:vscode", [("type", _dup("type", 2))]),
    ("type:ssh type:bogus type:x", [("type", _dup("type", 3))]),
    ('username:bob username:""', [("username", _dup("username", 2))]),
    (
        "foo:1 status:x workspace_id:z type:y bar:2",
        [
            ("type", 'Query param "type" has invalid value: "y" is not a valid value'),
            ("workspace_id", 'Query param "workspace_id" must be a valid uuid'),
            ("status", 'Query param "status" has invalid value: "x" is not a valid value'),
            ("foo", '"foo" is not a valid query param'),
            ("bar", '"bar" is not a valid query param'),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), REJECTED)
def test_rejected(text: str, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    assert [(e.field, e.detail) for e in info.value.errors] == expected
    body = info.value.to_response()
    assert body == {
        "message": "Invalid connection search query.",
        "validations": [{"field": f, "detail": d} for f, d in expected],
    }


SPANS: list[tuple[str, str, tuple[int, int], str]] = [
    ("status:conected", "status", (7, 15), '"completed"'),
    ("type:ssh typ:ssh", "typ", (9, 12), '"type"'),
    ("type:vscode type:ssh", "type", (12, 20), "keep one type:"),
    ('connected_after:"2025-07-01"', "connected_after", (16, 28), "T00:00:00Z"),
    ("hello type:ssh", "search", (0, 5), "key:value"),
    ("x connected_after:2025-07-01T00:00:00Z", "q", (2, 38), 'connected_after:"'),
    ("workspace_id:1234", "workspace_id", (13, 17), "123e4567"),
]


@pytest.mark.parametrize(("text", "field", "span", "hint_part"), SPANS)
def test_spans_and_hints(text: str, field: str, span: tuple[int, int], hint_part: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    (err,) = [e for e in info.value.errors if e.field == field]
    assert err.span == span
    assert err.hint is not None
    assert hint_part in err.hint


def test_render_draws_caret_under_span() -> None:
    text = "type:SSH status:conected"
    with pytest.raises(QueryError) as info:
        parse(text)
    rendered = str(info.value)
    assert rendered.splitlines() == [
        'error: status: Query param "status" has invalid value: "conected" is not a valid value',
        "  type:SSH status:conected",
        "                  ^^^^^^^^",
        '  hint: did you mean "completed"? valid values: ongoing, completed',
    ]
    assert info.value.render(text) == rendered


def test_render_multiline_query_points_at_line() -> None:
    # Only spaces separate elements in Coder's language; a newline inside quotes is just text.
    text = 'username:"a\nb" status:x'
    with pytest.raises(QueryError) as info:
        parse(text)
    lines = str(info.value).splitlines()
    assert lines[1] == "  line 2, column 11:"
    assert lines[2:4] == ['  b" status:x', "            ^"]


def test_spans_point_into_original_text() -> None:
    q = parse('TYPE:SSH workspace_owner:"John Doe"')
    assert q.span("type") == (5, 8)
    assert q.span("workspace_owner") == (25, 35)
    assert q.span("status") is None


def test_positions_do_not_take_part_in_equality() -> None:
    a = parse("type:ssh   status:ongoing")
    b = parse("status:ongoing type:ssh")
    assert a == b
    assert hash(a) == hash(b)
    assert a.span("type") != b.span("type")


def test_unknown_mode_and_non_string() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        parse("type:ssh", mode="lucene")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse(b"type:ssh")  # type: ignore[arg-type]


def test_repeated_parses_share_one_result_and_errors_stay_fresh() -> None:
    first = parse("type:ssh status:ongoing")
    assert parse("type:ssh status:ongoing") is first
    errors = []
    for _ in range(2):
        with pytest.raises(QueryError) as info:
            parse("status:x")
        errors.append(info.value)
    assert errors[0] is not errors[1]
    assert errors[0].errors == errors[1].errors
    assert errors[1].text == "status:x"


@pytest.mark.parametrize("text", [text for text, _ in ACCEPTED])
def test_parsed_query_is_a_complete_pydantic_model(text: str) -> None:
    import copy
    import pickle

    query = parse(text)
    built = Query.model_validate(query.model_dump())
    assert built == query
    assert query.model_dump() == built.model_dump()
    assert query.model_dump_json() == built.model_dump_json()
    assert query.model_fields_set == set(query.filters())
    assert copy.deepcopy(query) == query
    assert pickle.loads(pickle.dumps(query)) == query
    assert query.model_copy(update={"status": None}).status is None
