"""Push-down planning: which part goes to Coder's server as ``q`` and which is filtered locally.

The property test is the contract: for random extended queries, ``pushed AND residual``
selects exactly the rows the original query selects (in-memory backend, demo rows).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connlog_query import QueryError, parse
from connlog_query.backends import memory
from connlog_query.backends.context import CompileContext
from connlog_query.client.plan import Plan, plan, portable_text
from connlog_query.demo import ANCHOR, generate
from connlog_query.query import Query

NOW = ANCHOR
"""The clock of every plan here (the demo data ends at it)."""
DATA = generate(seed=7, n_logs=160)
ALICE = DATA.user("alice").id
WORKSPACE = DATA.logs[0].workspace_id
ACME = DATA.organization("acme").id


def planned(text: str) -> Plan:
    return plan(parse(text, mode="extended"), now=NOW)


PLANS = [
    # (query, q sent, residual filtered locally)
    ("type:ssh status:ongoing", "type:ssh status:ongoing", None),
    ("", "", None),
    ("type:ssh -username:bob", "type:ssh", "-username:bob"),
    ("type:ssh,vscode workspace_owner:me", "workspace_owner:me", "type:ssh,vscode"),
    ("type:ssh OR status:ongoing", "", "type:ssh OR status:ongoing"),
    ("dev", "", "dev"),
    ("username:b* type:vscode", "type:vscode", "username:b*"),
    # A quoted star is literal: Coder's exact filter, pushed, still quoted (see portable_text).
    ('username:"b*" type:vscode', 'type:vscode username:"b*"', None),
    ("type:ssh type:vscode", "type:ssh", "type:vscode"),
    (
        "connected:>=-24h",
        'connected_after:"2025-07-27T18:00:00Z"',
        None,
    ),
    (
        "connected:>-24h connected_before:now",
        'connected_after:"2025-07-27T18:00:00.000001Z" connected_before:"2025-07-28T18:00:00Z"',
        None,
    ),
    (
        "connected:<-1h",
        'connected_before:"2025-07-28T16:59:59.999999Z"',
        None,
    ),
    (
        # The tightest of several lower bounds, relative and absolute, is sent.
        "connected_after:2025-07-01 connected:>=-7d connected_after:-30d",
        'connected_after:"2025-07-21T18:00:00Z"',
        None,
    ),
    (
        "connected:2025-07-10..2025-07-12 (dev OR gpu)",
        'connected_after:"2025-07-10T00:00:00Z" connected_before:"2025-07-12T23:59:59.999999Z"',
        "dev OR gpu",
    ),
    (
        # A time bound inside OR cannot be sent; it is resolved before filtering locally.
        "type:ssh (connected:>=-1h OR status:ongoing)",
        "type:ssh",
        'connected_after:"2025-07-28T17:00:00Z" OR status:ongoing',
    ),
    (
        "organization:acme -organization:coder user_email:*@example.com",
        "organization:acme",
        "-organization:coder user_email:*@example.com",
    ),
    (
        "NOT (type:ssh status:ongoing) workspace_id:" + str(WORKSPACE),
        "workspace_id:" + str(WORKSPACE),
        "NOT (type:ssh status:ongoing)",
    ),
    ("-type:ssh", "", "-type:ssh"),
]


@pytest.mark.parametrize(("text", "q", "residual"), PLANS, ids=[p[0] or "empty" for p in PLANS])
def test_plan_table(text: str, q: str, residual: str | None) -> None:
    p = planned(text)
    assert (p.q, p.residual_text) == (q, residual)
    assert p.pushed.where is None
    # Coder's language reads the text sent back to the pushed query, and so does the extended.
    assert parse(p.q) == p.pushed
    assert parse(p.q, mode="extended") == p.pushed


def test_coder_query_is_pushed_unchanged() -> None:
    query = parse('workspace_owner:me type:ssh connected_after:"2025-07-01T00:00:00Z"')
    p = plan(query, now=NOW)
    assert p.pushed is query
    assert (p.residual, p.is_exact, p.pushes_nothing) == (None, True, False)


@pytest.mark.parametrize(
    ("text", "nothing"),
    [
        ("dev", True),
        ("type:ssh OR type:vscode", True),
        ("-status:ongoing", True),
        ("", False),  # no filter at all: nothing needs pushing
        ("type:ssh dev", False),
        ("connected:>=-1h (dev OR main)", False),
    ],
)
def test_pushes_nothing(text: str, nothing: bool) -> None:
    p = planned(text)
    assert p.pushes_nothing is nothing
    assert ("every connection log is fetched" in p.describe()) is nothing


def test_describe_says_what_is_sent_and_what_is_filtered() -> None:
    text = planned("type:ssh connected:>=-24h -username:bob").describe()
    assert text.splitlines() == [
        'Sent to the server as q: type:ssh connected_after:"2025-07-27T18:00:00Z"',
        "Filtered locally: -username:bob",
        "Only rows matching q are fetched; those failing the local filter are dropped, so "
        "counts are exact only once every page has been read.",
        "Relative times resolved at 2025-07-28T18:00:00Z.",
    ]
    assert str(planned("type:ssh")) == (
        "Sent to the server as q: type:ssh\n"
        "Filtered locally: nothing (the server evaluates the whole query)."
    )
    # Free text that merely contains "now" is not a relative time.
    assert "Relative times" not in str(planned("known OR snow"))
    nothing = str(planned("dev OR main"))
    assert nothing.startswith("Sent to the server as q: (empty: every row)\n")
    assert "no part of this query can be pushed down" in nothing


def test_now_defaults_to_the_parse_time_clock() -> None:
    clock = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    p = plan(parse("connected:>=-1d dev", mode="extended", now=clock))
    assert p.now == clock
    assert p.q == 'connected_after:"2025-01-01T03:04:05Z"'
    # An explicit now wins; a time zone is converted to UTC.
    other = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert plan(parse("connected:>=-1d", mode="extended", now=clock), now=other).q == (
        'connected_after:"2025-01-01T01:04:05Z"'
    )


def test_now_defaults_to_the_current_time() -> None:
    before = dt.datetime.now(dt.timezone.utc)
    p = plan(parse("connected:>=-1h", mode="extended"))
    after = dt.datetime.now(dt.timezone.utc)
    assert before <= p.now <= after
    assert p.pushed.connected_after == p.now - dt.timedelta(hours=1)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="Query"):
        plan("type:ssh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(Query(), now=dt.datetime(2025, 1, 1))


# --- the property: pushed AND residual == original ------------------------------------------

_PEOPLE = ["alice", "bob", "carol", "me", "b*", "*a*", "nobody"]
_EMAILS = ["alice@example.com", "bob@example.com", "*@example.com", "*.org", "carol@*"]
_TIMES = [
    "connected:>=-7d",
    "connected:>-3d",
    "connected:<=-1d",
    "connected:<-12h",
    "connected_after:2025-07-20",
    "connected_before:-2w",
    "connected:2025-07-10..2025-07-20",
    "connected:<now",
    "connected:*..2025-07-25",
]


def _values(options: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True).map(",".join)


_TERMS = st.one_of(
    _values(["ssh", "vscode", "jetbrains", "workspace_app", "port_forwarding", "tunnel"]).map(
        "type:".__add__
    ),
    _values(["ongoing", "completed"]).map("status:".__add__),
    _values(_PEOPLE).map("workspace_owner:".__add__),
    _values(_PEOPLE).map("username:".__add__),
    _values(_EMAILS).map("user_email:".__add__),
    _values(["alice@example.com", "carol@example.com", "*@example.org"]).map(
        "workspace_owner_email:".__add__
    ),
    _values(["acme", "coder", "research-lab", str(ACME)]).map("organization:".__add__),
    st.just(f"workspace_id:{WORKSPACE}"),
    st.sampled_from(["dev", "main", "gpu", "ali", '"sc"']),
    st.sampled_from(_TIMES),
)


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        term = draw(_TERMS)
        return "-" + term if draw(st.integers(0, 4)) == 0 else term
    parts = [draw(_expressions(depth + 1)) for _ in range(draw(st.integers(1, 4)))]
    joined = draw(st.sampled_from([" ", " AND ", " OR "])).join(parts)
    return draw(st.sampled_from(["", "NOT "])) + f"({joined})" if depth else joined


def _matches(query: Query | None, context: CompileContext) -> list[bool]:
    if query is None:
        return [True] * len(DATA.connection_logs)
    predicate = memory.compile(query, context=context, users=DATA.users)
    return [predicate(log) for log in DATA.connection_logs]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions())
def test_pushed_and_residual_select_the_original_rows(text: str) -> None:
    try:
        query = parse(text, mode="extended", now=NOW)
    except QueryError:  # e.g. a contradiction of limits; not what this property is about
        return
    # `me` is alice; relative times resolve at NOW in every compilation.
    context = CompileContext(user_id=ALICE, now=NOW)
    p = plan(query)
    assert p.now == NOW
    assert p.pushed.where is None
    assert not p.pushed.is_relative
    assert p.residual_query is None or not p.residual_query.is_relative
    original = _matches(query, context)
    pushed = _matches(p.pushed, context)
    residual = _matches(p.residual_query, context)
    assert original == [a and b for a, b in zip(pushed, residual, strict=True)]


def test_the_property_sees_rows_on_both_sides() -> None:
    # Guard against a vacuous property: the demo rows do match and miss typical queries.
    hits = _matches(parse("type:ssh connected:>=-7d", mode="extended"), CompileContext(now=NOW))
    assert 0 < sum(hits) < len(hits)


def test_uuid_values_survive_planning() -> None:
    p = planned(f"organization:{ACME} (type:ssh OR dev)")
    assert p.pushed.organization == ACME
    assert isinstance(p.pushed.organization, uuid.UUID)


@given(st.text(st.sampled_from(list('ab *,()":\\-')), min_size=1, max_size=8))
def test_portable_text_reads_alike_in_both_languages(value: str) -> None:
    try:
        query = Query(username=value, workspace_owner_email=value, type="ssh")
    except ValueError:  # not expressible in Coder's language at all
        return
    text = portable_text(query)
    assert parse(text) == query
    if '"' not in value and "\\" not in value:
        assert parse(text, mode="extended") == query
