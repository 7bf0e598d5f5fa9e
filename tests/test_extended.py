"""Extended mode: accepted syntax and its normal form, errors, limits, times, round trips."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connlog_query import Limits, Query, QueryError, parse
from connlog_query.expr import (
    And,
    Filter,
    Not,
    Or,
    RelativeTime,
    Text,
    TimeBound,
    Wildcard,
    filters_in,
    has_relative_time,
    iter_nodes,
)

UTC = dt.timezone.utc
NOW = dt.datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
U1 = "0bd5e7c7-6b9d-4a3b-9b44-6a7c0a1c2e3f"


def ext(text: str, **kwargs: object) -> Query:
    return parse(text, mode="extended", **kwargs)  # type: ignore[arg-type]


NORMAL_FORM: list[tuple[str, str]] = [
    ("", ""),
    ("type:ssh  status:ongoing", "type:ssh status:ongoing"),
    ("status:ongoing AND type:SSH", "type:ssh status:ongoing"),
    ("type:ssh OR type:vscode", "type:ssh,vscode"),
    ("type:vscode,ssh,ssh", "type:ssh,vscode"),
    ("(type:ssh OR type:vscode) OR type:tunnel", "type:ssh,tunnel,vscode"),
    ("-type:ssh", "-type:ssh"),
    ("NOT type:ssh", "-type:ssh"),
    ("NOT NOT type:ssh", "type:ssh"),
    ("NOT (type:ssh OR status:ongoing)", "NOT (type:ssh OR status:ongoing)"),
    ("a OR b c", "a OR (b c)"),
    ("hello or world", "hello or world"),
    ('"big world"', '"big world"'),
    ("HeLLo", "hello"),
    ("-foo", "-foo"),
    (
        "workspace_owner:ali* user_email:*@example.com",
        "workspace_owner:ali* user_email:*@example.com",
    ),
    ('workspace_owner:"ali*"', 'workspace_owner:"ali*"'),
    ("username:me,bob", "username:bob,me"),
    ('username:"x\\"y"', 'username:"x\\"y"'),
    ('username:""', ""),
    ("connected_after:2025-07-01T00:00:00Z", 'connected_after:"2025-07-01T00:00:00Z"'),
    ('connected_after:"2025-07-01T02:00:00+02:00"', 'connected_after:"2025-07-01T00:00:00Z"'),
    ("connected_after:2025-07-01", 'connected_after:"2025-07-01T00:00:00Z"'),
    ("connected_before:2025-07-01", 'connected_before:"2025-07-01T23:59:59.999999Z"'),
    ("connected:>=2025-07-01", 'connected_after:"2025-07-01T00:00:00Z"'),
    ("connected:>2025-07-01", 'connected_after:"2025-07-02T00:00:00Z"'),
    ("connected:<2025-07-01", 'connected_before:"2025-06-30T23:59:59.999999Z"'),
    ("connected:<=2025-07-01", 'connected_before:"2025-07-01T23:59:59.999999Z"'),
    (
        "connected:2025-07-01..2025-07-07",
        'connected_after:"2025-07-01T00:00:00Z" connected_before:"2025-07-07T23:59:59.999999Z"',
    ),
    ("connected:*..2025-07-07", 'connected_before:"2025-07-07T23:59:59.999999Z"'),
    ("connected:2025-07-01..*", 'connected_after:"2025-07-01T00:00:00Z"'),
    ("connected:>=-24h", "connected_after:-24h"),
    ("connected_after:-7d", "connected_after:-7d"),
    ("connected:>-30m", "connected:>-30m"),
    ("connected:<now", "connected:<now"),
    ("connected:-2w..now", "connected_after:-2w connected_before:now"),
    (
        "connected_after:2025-07-01 connected_after:2025-07-03 connected_before:2025-07-09",
        'connected_after:"2025-07-03T00:00:00Z" connected_before:"2025-07-09T23:59:59.999999Z"',
    ),
    (f"workspace_id:{U1.upper()}", f"workspace_id:{U1}"),
    ("workspace_id:00000000-0000-0000-0000-000000000000", ""),
    ("-connected_after:-1h status:completed", "-connected_after:-1h status:completed"),
]


@pytest.mark.parametrize(("text", "normal"), NORMAL_FORM)
def test_normal_form(text: str, normal: str) -> None:
    query = ext(text)
    assert query.to_string("extended") == normal
    assert ext(normal) == query
    assert ext(query.to_string("extended")).to_string("extended") == normal


CODER_QUERIES = [
    "type:ssh status:ongoing",
    'workspace_owner:"john doe" user_email:a@b.c',
    'connected_after:"2023-01-16T12:00:00+12:00" connected_before:"2023-02-01T00:00:00Z"',
    f"organization:acme workspace_id:{U1} connection_id:{U1} username:me workspace_owner:me",
    "workspace_owner_email:o@x.io type:vscode",
]


@pytest.mark.parametrize("text", CODER_QUERIES)
def test_coder_queries_keep_their_meaning(text: str) -> None:
    assert ext(text) == parse(text)
    assert ext(text).where is None


def test_structure_of_boolean_query() -> None:
    q = ext("-type:ssh OR (username:me AND NOT status:completed)")
    assert q.filters() == {}
    assert isinstance(q.where, Or)
    first, second = q.where.items
    assert first == Not(item=Filter(key="type", values=("ssh",)))
    assert isinstance(second, And)


def test_typed_fields_hold_the_coder_part() -> None:
    q = ext("workspace_owner:bob type:ssh,vscode hello connected:>=-1h")
    assert q.workspace_owner == "bob"
    assert q.type is None
    assert isinstance(q.where, And)
    kinds = {type(item) for item in q.where.items}
    assert kinds == {Filter, Text, TimeBound}


def test_wildcards_and_literal_stars() -> None:
    assert ext("user_email:*@x.io").where == Filter(
        key="user_email", values=(Wildcard(pattern="*@x.io"),)
    )
    assert ext('workspace_owner:"a*"').workspace_owner == "a*"
    assert Wildcard(pattern="a*b*c").matches("axbyc")
    assert not Wildcard(pattern="a*a").matches("a")
    assert Wildcard(pattern="*").matches("")


def test_dates_use_the_given_time_zone() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    q = ext("connected:2025-07-01", tz=berlin)
    assert q.connected_after == dt.datetime(2025, 6, 30, 22, 0, tzinfo=UTC)
    assert q.connected_before == dt.datetime(2025, 7, 1, 21, 59, 59, 999999, tzinfo=UTC)


def test_relative_times_stay_relative_until_resolved() -> None:
    q = ext("connected:>=-24h type:ssh", now=NOW)
    assert q.where == TimeBound(op=">=", at=RelativeTime(amount=-24, unit="h"))
    assert q.is_relative
    resolved = q.resolve()
    assert resolved.connected_after == NOW - dt.timedelta(hours=24)
    assert resolved.where is None
    assert q.resolve(NOW + dt.timedelta(hours=1)).connected_after == NOW - dt.timedelta(hours=23)
    exclusive = ext("connected:>-1h").resolve(NOW)
    assert exclusive.connected_after == NOW - dt.timedelta(hours=1) + dt.timedelta(microseconds=1)


def _fields(err: QueryError) -> list[tuple[str, str]]:
    return [(e.field, e.detail) for e in err.errors]


REJECTED: list[tuple[str, list[tuple[str, str]]]] = [
    ('username:"bob', [("q", "Unterminated quoted string starting at position 9.")]),
    ("a::b", [("q", "Unexpected ':' at position 2: a value cannot start with ':'.")]),
    ("(type:ssh", [("q", "Missing ')' at the end of the query.")]),
    ("type:ssh)", [("q", "Unbalanced ')' at position 8.")]),
    ("OR type:ssh", [("q", "OR at position 0 needs a term on each side.")]),
    ("type:ssh OR", [("q", "Missing a term after OR at the end of the query.")]),
    ("type:", [("q", "Missing value after the last key.")]),
    (
        'username:"a\\q"',
        [("q", 'Invalid escape "\\\\q" at position 11: only \\" and \\\\ are escapes.')],
    ),
    (
        "foo:1 status:x type:y,ssh workspace_id:nope",
        [
            ("type", 'Query param "type" has invalid value: "y" is not a valid value'),
            ("workspace_id", 'Query param "workspace_id" must be a valid uuid'),
            ("status", 'Query param "status" has invalid value: "x" is not a valid value'),
            ("foo", '"foo" is not a valid query param'),
        ],
    ),
    (
        "connected:>=yesterday",
        [
            (
                "connected",
                'Query param "connected" must be a valid date format (2006-01-02T15:04:05.999999999Z07:00): '
                'parsing time "YESTERDAY" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "YESTERDAY" as "2006"',
            )
        ],
    ),
    (
        "connected_after:-1h,-2h",
        [("connected_after", 'Query param "connected_after" takes one value, not a list.')],
    ),
    ("type:ssh,", [("q", "Missing value after the last key.")]),
]


@pytest.mark.parametrize(("text", "expected"), REJECTED)
def test_rejected(text: str, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(QueryError) as info:
        ext(text)
    assert _fields(info.value) == expected
    for err in info.value.errors:
        assert err.span is not None


@pytest.mark.parametrize(
    ("text", "limits", "detail"),
    [
        ("type:ssh " * 10, Limits(max_length=50), "Query is 90 characters long; the limit is 50."),
        ("a " * 5, Limits(max_terms=4), "Query has more than 4 terms."),
        (
            "type:ssh,vscode,tunnel",
            Limits(max_values=2),
            'Query param "type" has more than 2 values.',
        ),
        ("((a))", Limits(max_depth=2), "Query nests parentheses and NOT deeper than 2 levels."),
        (
            "NOT NOT NOT a",
            Limits(max_depth=3),
            "Query nests parentheses and NOT deeper than 3 levels.",
        ),
    ],
)
def test_limits(text: str, limits: Limits, detail: str) -> None:
    with pytest.raises(QueryError) as info:
        ext(text, limits=limits)
    assert [e.detail for e in info.value.errors] == [detail]


@pytest.mark.parametrize(
    "text",
    [
        '"' * 100_000,
        "(" * 10_000 + "a" + ")" * 10_000,
        "a " * 10_000,
        "NOT " * 10_000 + "a",
        "type:" + "ssh," * 10_000 + "ssh",
    ],
)
def test_pathological_inputs_stop_at_a_limit(text: str) -> None:
    with pytest.raises(QueryError) as info:
        ext(text, limits=Limits(max_length=len(text) + 1))
    assert len(info.value.errors) == 1
    assert (
        "limit" in info.value.errors[0].detail
        or "more than" in info.value.errors[0].detail
        or (
            "deeper" in info.value.errors[0].detail or "Unterminated" in info.value.errors[0].detail
        )
    )


# --- properties -------------------------------------------------------------------------------

_word = st.text(st.sampled_from(list("abcé-*")), min_size=1, max_size=5).filter(
    lambda w: not w.startswith("-") and "*" not in w
)
_value_text = st.text(st.sampled_from(list('ab "\\:,()*é')), min_size=0, max_size=6)


def _quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def _term(draw: st.DrawFn) -> str:
    choice = draw(st.integers(0, 8))
    if choice == 0:
        return draw(_word)
    if choice == 1:
        return _quoted(draw(_value_text))
    if choice == 2:
        return "type:" + ",".join(
            draw(st.lists(st.sampled_from(["ssh", "vscode", "tunnel"]), min_size=1, max_size=3))
        )
    if choice == 3:
        return "status:" + draw(st.sampled_from(["ongoing", "completed"]))
    if choice == 4:
        key = draw(
            st.sampled_from(["workspace_owner", "username", "user_email", "workspace_owner_email"])
        )
        vals = draw(
            st.lists(
                st.one_of(_word, _value_text.map(_quoted), st.just("me"), st.just("a*b")),
                min_size=1,
                max_size=3,
            )
        )
        return f"{key}:" + ",".join(vals)
    if choice == 5:
        op = draw(st.sampled_from(["", ">=", ">", "<=", "<"]))
        val = draw(
            st.sampled_from(["-24h", "now", "-7d", "2025-07-01", "2025-07-01T10:00:00Z", "-2w"])
        )
        return f"connected:{op}{val}"
    if choice == 6:
        key = draw(st.sampled_from(["connected_after", "connected_before"]))
        return f"{key}:" + draw(
            st.sampled_from(["-1h", "2025-01-02", '"2025-01-02T03:04:05.5+01:00"'])
        )
    if choice == 7:
        return f"workspace_id:{draw(st.uuids())}"
    return "organization:" + draw(st.sampled_from(["acme", str(uuid.UUID(int=5))]))


@st.composite
def _expression(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        term = draw(_term())
        return ("-" + term) if draw(st.integers(0, 4)) == 0 else term
    parts = [draw(_expression(depth + 1)) for _ in range(draw(st.integers(1, 3)))]
    joiner = draw(st.sampled_from([" ", " AND ", " OR "]))
    inner = joiner.join(parts)
    wrapped = f"({inner})"
    return ("NOT " + wrapped) if draw(st.integers(0, 3)) == 0 else wrapped


@settings(max_examples=300, deadline=None)
@given(_expression())
def test_extended_round_trip(text: str) -> None:
    try:
        query = ext(text)
    except QueryError:
        return
    normal = query.to_string("extended")
    again = ext(normal)
    assert again == query
    assert again.to_string("extended") == normal
    assert str(query) == (normal if query.where is not None else query.to_string("coder"))


@settings(max_examples=300, deadline=None)
@given(_expression())
def test_parsed_query_is_what_validation_builds(text: str) -> None:
    # parse() builds the Query from the checked expression without validation; the public,
    # validating Query.from_expression must give the same query, field for field.
    from connlog_query import extended

    try:
        query = ext(text)
    except QueryError:
        return
    expression, _ = extended.parse_expression(text, limits=Limits())
    reference = Query.from_expression(expression)
    assert query == reference
    assert query.model_fields_set == reference.model_fields_set
    assert {k: type(v) for k, v in query} == {k: type(v) for k, v in reference}


@settings(max_examples=300, deadline=None)
@given(_expression())
def test_checker_builds_the_nodes_validation_builds(text: str) -> None:
    # The checker constructs nodes without running validation. The reference: the same checker
    # with every node built by validating its raw inputs, as it did before.
    from connlog_query import extended

    def run() -> Any:
        try:
            return extended.parse_expression(text, limits=Limits())[0]
        except QueryError as exc:
            return [(e.field, e.detail) for e in exc.errors]

    fast = run()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(extended, "build", lambda cls, **fields: cls(**fields))
        patch.setattr(extended, "build_filter", lambda key, values: Filter(key=key, values=values))
        patch.setattr(extended, "build_time_bound", lambda op, at: TimeBound(op=op, at=at))
        validated = run()
    assert fast == validated
    if not isinstance(fast, list):
        for node, reference in zip(iter_nodes(fast), iter_nodes(validated), strict=True):
            assert node.model_fields_set == reference.model_fields_set


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        st.sampled_from(list(' :"abcAND OR NOT()-,*\\\t\u3000é')) | st.characters(), max_size=60
    )
)
def test_extended_never_raises_anything_but_query_error(text: str) -> None:
    try:
        query = ext(text)
    except QueryError as exc:
        for err in exc.errors:
            assert err.span is not None
            assert 0 <= err.span[0] <= err.span[1] <= len(text)
        return
    assert ext(query.to_string("extended")) == query


def test_json_round_trip_of_extended_query() -> None:
    q = ext("-type:ssh OR (username:me,bob* AND connected:>-2h) hello")
    assert Query.model_validate_json(q.model_dump_json()) == q
    assert Query.model_validate(q.model_dump(mode="json")) == q
    assert "where" in Query.model_json_schema()["properties"]


def test_text_node_built_in_code() -> None:
    assert Query(where=Or(items=(Text(text="A"), Text(text="b")))).to_string() == "a OR b"


@pytest.mark.parametrize(
    ("text", "relative"),
    [
        ("connected:>=-24h", True),
        ("-connected_before:now type:ssh,vscode", True),
        ("known now_playing", False),
        ("connected_after:2025-07-01", False),
        ("type:ssh", False),
    ],
)
def test_is_relative_looks_at_time_bounds_only(text: str, relative: bool) -> None:
    assert ext(text).is_relative is relative


@pytest.mark.parametrize(
    "text", [*CODER_QUERIES, "", "type:ssh", 'connected_before:"2025-01-01T00:00:00Z"']
)
def test_expression_of_coder_query_is_already_normal(text: str) -> None:
    from connlog_query.expr import normalize

    query = parse(text)
    expression = query.expression()
    assert expression == (None if expression is None else normalize(expression))
    assert Query.from_expression(expression) == query
    if expression is not None:
        again = type(expression).model_validate(expression.model_dump())
        assert again == expression


_SSH = Filter(key="type", values=("ssh",))
_ALICE = Filter(key="username", values=("alice",))
_BOB = Filter(key="workspace_owner", values=("bob",))
_DAY_AGO = TimeBound(op=">=", at=RelativeTime(amount=-24, unit="h"))
_NEW_YEAR = TimeBound(op="<=", at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))


@pytest.mark.parametrize(
    ("node", "kinds", "filter_keys", "relative"),
    [
        (_SSH, ["filter"], ["type"], False),
        (_DAY_AGO, ["time"], [], True),
        (
            And(items=(_SSH, Or(items=(_ALICE, Not(item=_BOB))), _DAY_AGO)),
            ["and", "filter", "or", "filter", "not", "filter", "time"],
            ["type", "username", "workspace_owner"],
            True,
        ),
        (
            And(items=(Not(item=Or(items=(Text(text="dev"), _NEW_YEAR))), _ALICE)),
            ["and", "not", "or", "text", "time", "filter"],
            ["username"],
            False,
        ),
        (
            Not(item=Or(items=(_BOB, _DAY_AGO))),
            ["not", "or", "filter", "time"],
            ["workspace_owner"],
            True,
        ),
    ],
)
def test_walkers_visit_every_node_depth_first(
    node: Any, kinds: list[str], filter_keys: list[str], relative: bool
) -> None:
    assert [item.kind for item in iter_nodes(node)] == kinds
    assert [item.key for item in filters_in(node)] == filter_keys
    assert has_relative_time(node) is relative


def test_walkers_accept_no_expression() -> None:
    assert list(iter_nodes(None)) == []
    assert list(filters_in(None)) == []
    assert has_relative_time(None) is False


def test_copy_with_update_does_not_reuse_the_old_expression() -> None:
    query = ext("-organization:acme type:ssh")
    assert "acme" in query.to_string("extended")
    from connlog_query import ConnectionType

    copied = query.model_copy(update={"type": ConnectionType.VSCODE})
    assert copied.to_string("extended") == "-organization:acme type:vscode"
    assert query.model_copy().expression() == query.expression()
