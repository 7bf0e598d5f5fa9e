"""A table of extended queries, run against every store: memory, SQLite, PostgreSQL and MariaDB.

The data is the demo data plus users, workspaces and rows with LIKE metacharacters, the LIKE
escape character, a literal star, mixed case and non-ASCII names (``store_helpers.extended_data``).
The clock is injected (``now=NOW`` when parsing and in the compile context), so relative times
select the same rows on every run.

Each case is checked like ``test_store.py``'s: the store lists exactly the oracle's ids in the
oracle's order with the oracle's count, every store returns byte-identical JSON for the default
page, and the declared outcome (some rows / no rows / Coder's error) holds, so no case passes
vacuously.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from connlog_query import Query, QueryError, parse
from connlog_query.backends import memory
from connlog_query.backends.context import CompileContext
from connlog_query.demo import generate
from connlog_query.models import ConnectionLogResponse
from connlog_query.store import Store
from store_helpers import (
    KINDS,
    NOW,
    UNKNOWN_ORGANIZATION_NOPE,
    UnknownOrganization,
    case_context,
    extended_data,
    open_kind,
    oracle,
    server_dsns,
)

DATA = extended_data(generate(seed=12, n_logs=600))
SESSION = next(log for log in DATA.logs if log.connection_id is not None)
VALUES = {"conn": str(SESSION.connection_id), "ws": str(SESSION.workspace_id)}

SOME, NONE, ERROR = "some", "none", "error"

# (case id, extended query text, expected outcome, options: as_user)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    # OR across keys, lists, groups
    ("or-two-keys", "type:tunnel OR username:alice", SOME, {}),
    (
        "or-three-keys",
        "workspace_owner:carol OR user_email:mallory@example.com OR status:ongoing",
        SOME,
        {},
    ),
    ("list-types", "type:ssh,jetbrains", SOME, {}),
    ("list-types-and-status", "type:ssh,workspace_app status:ongoing", SOME, {}),
    ("list-status-both", "status:ongoing,completed", SOME, {}),
    ("list-status-both-web-only", "type:tunnel status:ongoing,completed", NONE, {}),
    ("list-people-me", "username:alice,bob,me", SOME, {"as_user": "dave"}),
    ("list-orgs", "organization:coder,acme", SOME, {}),
    ("list-org-ids", "organization:coder,{org_acme}", SOME, {}),
    ("list-org-unknown", "organization:coder,nope", ERROR, {}),
    ("or-me", "workspace_owner:me OR username:me", SOME, {"as_user": "alice"}),
    ("nested", "(type:ssh status:ongoing) OR (type:workspace_app -username:alice)", SOME, {}),
    (
        "nested-deep",
        "((organization:coder OR organization:acme) (workspace_owner:alice OR "
        "workspace_owner:bob)) -status:completed",
        SOME,
        {},
    ),
    ("and-keyword", "type:ssh AND NOT workspace_owner:alice", SOME, {}),
    # negation, two-valued
    ("neg-username-null-rows", "-username:bob", SOME, {}),
    ("neg-user-email", "-user_email:alice@example.com", SOME, {}),
    ("neg-owner-keeps-deleted-namesake", "-workspace_owner:bob", SOME, {}),
    ("neg-group", "NOT (type:ssh OR type:vscode)", SOME, {}),
    ("neg-status-keeps-web", "-status:ongoing", SOME, {}),
    ("neg-connection-id-keeps-web", "-connection_id:{conn}", SOME, {}),
    ("neg-workspace-id", "-workspace_id:{ws} type:ssh", SOME, {}),
    ("neg-org-unknown-is-error", "-organization:nope", ERROR, {}),
    ("neg-unknown-user-is-everything", "-username:nobody", SOME, {}),
    ("neg-of-neg", "NOT (NOT type:ssh)", SOME, {}),
    # wildcards: deleted users, metacharacters, case
    ("wild-owner-prefix", "workspace_owner:a*", SOME, {}),
    ("wild-owner-live-only", "workspace_owner:bo*", SOME, {}),
    ("wild-owner-deleted", "workspace_owner:mall*", NONE, {}),
    ("wild-owner-mixed-case-name", "workspace_owner:mixed.c*", SOME, {}),
    ("wild-underscore-literal", "username:under_*", SOME, {}),
    ("wild-underscore-alone", "workspace_owner:_*", NONE, {}),
    ("wild-underscore-infix", "workspace_owner:*_*", SOME, {}),
    ("wild-percent-literal", "workspace_owner:per%*", SOME, {}),
    ("wild-percent-alone", "workspace_owner:%*", NONE, {}),
    ("wild-backslash", "workspace_owner:back\\*", SOME, {}),
    ("wild-escape-char", "username:bang!*", SOME, {}),
    ("wild-escape-char-alone", "username:!*", NONE, {}),
    ("wild-literal-star-in-name", "workspace_owner:star**", SOME, {}),
    ("quoted-star-is-literal", 'workspace_owner:"star*name"', SOME, {}),
    ("quoted-star-no-wildcard", 'workspace_owner:"star*"', NONE, {}),
    ("wild-any-user", "username:*", SOME, {}),
    ("wild-email-exact-case", "user_email:*@example.com", SOME, {}),
    ("wild-email-mixed-stored", "workspace_owner_email:*ob@*", SOME, {}),
    ("wild-email-upper-stored-never", "workspace_owner_email:mixed.case@*", NONE, {}),
    ("wild-email-org", "workspace_owner_email:*@example.org", SOME, {}),
    ("wild-user-email-deleted-counts", "user_email:mallory*", SOME, {}),
    ("wild-owner-email-deleted", "workspace_owner_email:mallory*", NONE, {}),
    ("wild-list-mixed", "workspace_owner:alice,c*,nobody", SOME, {}),
    ("wild-negated", "-username:a* type:workspace_app", SOME, {}),
    # free text
    ("text-word", "dev", SOME, {}),
    ("text-ascii-fold-workspace", '"dev-box"', SOME, {}),
    ("text-ascii-fold-agent", "gpu", SOME, {}),
    ("text-owner-name", "carol", SOME, {}),
    ("text-non-ascii-not-folded", '"über"', NONE, {}),
    ("text-non-ascii-upper-query", '"ÜBER"', NONE, {}),
    ("text-non-ascii-same-case", '"ünï"', SOME, {}),
    ("text-non-ascii-agent", "gent", SOME, {}),
    ("text-kelvin-sign-not-folded", "kelvin", NONE, {}),
    ("text-kelvin-sign-rest", "elvin", SOME, {}),
    ("text-dotted-i-not-folded", '"-ix"', NONE, {}),
    ("text-underscore-literal", '"_5"', SOME, {}),
    ("text-percent-literal", '"50%"', SOME, {}),
    ("text-backslash", '"back\\\\ws"', SOME, {}),
    ("text-or", "dev OR api", SOME, {}),
    ("text-negated", "-dev type:ssh", SOME, {}),
    ("text-lower-or-is-a-word", "dev or", SOME, {}),
    # times, relative to the injected now
    ("rel-last-24h", "connected:>=-24h", SOME, {}),
    ("rel-range", "connected:-7d..-1d", SOME, {}),
    ("rel-strict", "connected:>-3h", SOME, {}),
    ("rel-before-now", "connected_before:now", SOME, {}),
    ("rel-after-now", "connected_after:now", NONE, {}),
    ("rel-weeks", "connected_after:-2w connected_before:-1w", SOME, {}),
    ("rel-negated", "-connected:>=-24h type:ssh", SOME, {}),
    ("date-whole-day", "connected:2025-07-20", SOME, {}),
    ("date-range", "connected:2025-07-01..2025-07-07", SOME, {}),
    ("date-open-start", "connected:*..2025-06-20", SOME, {}),
    ("date-after-day", "connected:>2025-07-27", SOME, {}),
    ("time-or", "connected:<2025-06-20 OR connected:>=-2h", SOME, {}),
    # injection payloads in wildcards and free text
    ("inject-wild-quote", "username:*'*", NONE, {}),
    ("inject-wild-semicolon", "user_email:*;drop*", NONE, {}),
    ("inject-wild-comment", "workspace_owner:*--*", NONE, {}),
    ("inject-text-or", '"\' or 1=1 --"', NONE, {}),
    ("inject-text-drop", '"x\\"; drop table connection_logs; --"', NONE, {}),
    ("inject-text-percent", "\"%' OR '1'='1\"", NONE, {}),
]


def _text(template: str) -> str:
    return template.format(**VALUES, org_acme=DATA.organization("acme").id)


def _query(template: str) -> Query:
    return parse(_text(template), mode="extended", now=NOW)


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each store kind, filled with :data:`DATA` once per module."""
    with open_kind(request.param, **server_dsns(request, request.param)) as opened:
        opened.ingest(DATA)
        yield opened


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """The memory store's first page (or error) per case, to compare every store's JSON with."""
    pages: dict[str, str] = {}
    with open_kind("memory") as mem:
        mem.ingest(DATA)
        for case_id, text, _, options in CASES:
            try:
                pages[case_id] = mem.list(
                    _query(text), context=case_context(mem, options, NOW)
                ).model_dump_json()
            except QueryError as exc:
                pages[case_id] = str(exc.to_response())
    return pages


def test_enough_cases() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)
    # Most cases need the extended language (a few normalize to Coder's, on purpose).
    assert sum(_query(text).where is not None for _, text, _, _ in CASES) >= 40


@pytest.mark.parametrize(
    ("case_id", "text", "outcome", "options"), CASES, ids=[c[0] for c in CASES]
)
def test_case(
    store: Store,
    reference: dict[str, str],
    case_id: str,
    text: str,
    outcome: str,
    options: dict[str, Any],
) -> None:
    query = _query(text)
    context = case_context(store, options, NOW)
    try:
        expected = oracle(DATA, query, user_id=context.user_id, now=NOW)
    except UnknownOrganization:
        assert outcome == ERROR, f"case {case_id} is not what it claims"
        with pytest.raises(QueryError) as info:
            store.list(query, context=context)
        assert info.value.to_response() == UNKNOWN_ORGANIZATION_NOPE
        assert str(info.value.to_response()) == reference[case_id]
        return
    assert outcome == (SOME if expected else NONE), f"case {case_id} is not what it claims"

    everything = store.list(query, limit=5000, context=context)
    assert [log.id for log in everything.connection_logs] == expected
    assert everything.count == min(len(expected), 2001)
    assert store.count(query, context=context, count_cap=0) == len(expected)

    page = store.list(query, context=context)
    assert page.model_dump_json() == reference[case_id]


def _ids(store: Store, text: str) -> set[uuid.UUID]:
    page = store.list(_query(text), limit=5000, context=CompileContext(now=NOW))
    return {log.id for log in page.connection_logs}


def test_negation_keeps_rows_without_a_user(store: Store) -> None:
    """``-username:bob`` holds for rows with no connecting user (SQL NULL is false, not
    unknown), and the two halves partition the table."""
    no_user = {log.id for log in DATA.logs if log.user_id is None}
    negated = _ids(store, "-username:bob")
    assert no_user <= negated
    assert negated.isdisjoint(_ids(store, "username:bob"))
    assert len(negated) + len(_ids(store, "username:bob")) == len(DATA.logs)


def test_wildcards_follow_the_exact_filters_rules(store: Store) -> None:
    deleted_bob = DATA.user("bob", deleted=True).id
    owned_by_deleted = {log.id for log in DATA.logs if log.workspace_owner_id == deleted_bob}
    assert owned_by_deleted
    assert owned_by_deleted.isdisjoint(_ids(store, "workspace_owner:bo*"))
    assert owned_by_deleted <= _ids(store, "-workspace_owner:bo*")
    # The mixed-case stored email "Bob@Example.com" is out of reach of every lower-case pattern
    # that needs its upper-case letters, exactly like the exact filter.
    assert not _ids(store, "workspace_owner_email:bob@*")
    assert _ids(store, "workspace_owner_email:*ob@*") == _ids(store, "workspace_owner:bob")


def test_free_text_folds_ascii_only(store: Store) -> None:
    dev_box = {log.id for log in DATA.logs if log.workspace_name == "Dev-Box"}
    assert dev_box
    assert dev_box <= _ids(store, "dev-box")
    uber = {log.id for log in DATA.logs if log.workspace_name == "ÜBER-ws"}
    assert uber
    assert uber <= _ids(store, '"ber-ws"')
    assert uber.isdisjoint(_ids(store, '"über"'))


def test_relative_times_follow_the_injected_clock(store: Store) -> None:
    """The same relative query moves with ``now``; with ``now`` unset it uses the real clock
    (every demo row is in the past, so ``connected_before:now`` selects them all)."""
    query = _query("connected:>=-24h")
    day_before = NOW - dt.timedelta(days=1)
    early = store.list(query, limit=5000, context=CompileContext(now=day_before))
    late = store.list(query, limit=5000, context=CompileContext(now=NOW))
    assert [log.id for log in early.connection_logs] == oracle(DATA, query, now=day_before)
    assert {log.id for log in early.connection_logs} != {log.id for log in late.connection_logs}
    assert store.count(_query("connected_before:now"), count_cap=0) == len(DATA.logs)


def test_memory_predicate_without_tables_uses_embedded_names() -> None:
    """Without ``users=`` the predicate reads the names in each record (the HTTP client's
    residual mode): it agrees with the stores except for the deleted-user rule."""
    logs = DATA.connection_logs
    for text in ("username:under_*", "dev", "user_email:*@example.com", "carol OR gpu"):
        query = _query(text)
        with_table = memory.compile(query, users=DATA.users, context=CompileContext(now=NOW))
        without = memory.compile(query, context=CompileContext(now=NOW))
        assert [log.id for log in logs if without(log)] == [
            log.id for log in logs if with_table(log)
        ]
    query = _query("workspace_owner:bo*")
    without = memory.compile(query)
    deleted_bob = DATA.user("bob", deleted=True).id
    assert any(without(log) for log in logs if log.workspace_owner_id == deleted_bob)


def test_reference_pages_are_not_all_empty(reference: dict[str, str]) -> None:
    pages = [
        ConnectionLogResponse.model_validate_json(page)
        for page in reference.values()
        if page.startswith('{"connection_logs"')
    ]
    assert sum(page.count > 0 for page in pages) >= 40
