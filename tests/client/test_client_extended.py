"""Extended queries through the client: the pushed part goes to the reference server over real
HTTP, the residual is filtered locally, and the rows are those the store itself gives for the
whole extended query. Sync and async alike (the ``api`` fixture)."""

from __future__ import annotations

import asyncio
import json

import pytest
from clientkit import TOKEN, Api, FaultServer, Reference, Respond

from connlog_query import QueryError, parse
from connlog_query.backends.context import CompileContext, UnsupportedQueryError
from connlog_query.client import AsyncClient, Client, FilteredResponse
from connlog_query.client.plan import plan
from connlog_query.demo import ANCHOR, generate
from connlog_query.models import ConnectionLogResponse
from connlog_query.query import Query

NOW = ANCHOR
"""The clock of relative times here (the demo rows end at it)."""


def ext(text: str) -> Query:
    return parse(text, mode="extended", now=NOW)


def oracle(ref: Reference, query: Query, *, limit: int = 0, offset: int = 0) -> list[str]:
    """Row ids the store gives for the whole extended query (``limit`` 0: all of them)."""
    context = CompileContext(user_id=ref.alice, now=NOW)
    total = ref.store.count(query, context=context, count_cap=0)
    page = ref.store.list(query, limit=limit or max(total, 1), offset=offset, context=context)
    return [str(log.id) for log in page.connection_logs]


def ids(logs: list) -> list[str]:  # type: ignore[type-arg]
    return [str(log.id) for log in logs]


# Residuals here stick to what the rows Coder returns decide exactly as the store does: types,
# statuses, times, ids, emails of connecting users, free text, names of users never deleted.
EXTENDED = [
    "type:ssh,vscode",
    "type:ssh -status:completed",
    "-type:ssh status:completed",
    "type:ssh OR username:me",
    "(type:vscode OR type:jetbrains) connected:>=-7d",
    "workspace_owner:me (dev OR gpu)",
    "workspace_owner:me,carol type:workspace_app",
    "workspace_owner:a* connected:2025-07-10..2025-07-20",
    "user_email:*@example.com -type:tunnel",
    "NOT (type:workspace_app OR type:port_forwarding) -status:ongoing",
    '"sidecar" status:ongoing',
    "connected:>-3d connected:<-1d",
    "type:ssh type:vscode",
    "dev OR main",
    "-username:dave,carol type:workspace_app",
]


@pytest.mark.parametrize("text", EXTENDED)
@pytest.mark.parametrize(("limit", "offset"), [(10, 0), (7, 5), (0, 0)])
def test_extended_page_matches_the_store(
    api: Api, reference: Reference, text: str, limit: int, offset: int
) -> None:
    query = ext(text)
    page = api.page(
        reference.url, TOKEN, query, limit=limit, offset=offset, page_size=13,
        user_id=reference.alice,
    )  # fmt: skip
    assert ids(page.connection_logs) == oracle(reference, query, limit=limit or 100, offset=offset)
    total = len(oracle(reference, query))
    if plan(query).residual is None:
        assert type(page) is ConnectionLogResponse
        assert page.count == total
        return
    assert isinstance(page, FilteredResponse)
    if page.count_exact:
        assert page.count == total == page.count_max
    else:
        assert offset + (limit or 100) <= page.count <= total
        assert page.count_max is not None
        assert total <= page.count_max


@pytest.mark.parametrize("text", EXTENDED)
def test_extended_iteration_matches_the_store(api: Api, reference: Reference, text: str) -> None:
    query = ext(text)
    logs = api.logs(reference.url, TOKEN, query, page_size=50, user_id=reference.alice)
    assert ids(logs) == oracle(reference, query)


def test_only_the_pushed_part_reaches_the_server(api: Api, reference: Reference) -> None:
    query = ext("type:ssh connected:>=-7d (dev OR -status:ongoing)")
    before = len(reference.seen)
    api.page(reference.url, TOKEN, query, limit=1000)
    sent = reference.seen[before:]
    assert sent
    assert all(q == plan(query).pushed for q in sent)
    assert sent[0] == parse('type:ssh connected_after:"2025-07-21T18:00:00Z"')


def test_nothing_pushable_fetches_everything_and_filters(api: Api, reference: Reference) -> None:
    query = ext("dev OR gpu")
    assert plan(query).pushes_nothing
    before = len(reference.seen)
    logs = api.logs(reference.url, TOKEN, query, page_size=100)
    assert set(reference.seen[before:]) == {Query()}
    # Every one of the 400 rows, in pages of 100; the exact count says when to stop.
    assert len(reference.seen) - before == 4
    assert ids(logs) == oracle(reference, query)


# --- counts -------------------------------------------------------------------------------


def test_count_is_exact_when_the_scan_reaches_the_end(api: Api, reference: Reference) -> None:
    query = ext("type:ssh,vscode -status:ongoing")
    page = api.page(reference.url, TOKEN, query, limit=1000)
    total = len(oracle(reference, query))
    assert isinstance(page, FilteredResponse)
    assert (page.count, page.count_exact, page.count_max, page.count_cap) == (
        total,
        True,
        total,
        None,
    )
    assert page.scanned == reference.store.count(plan(query).pushed)


def test_count_is_a_flagged_lower_bound_when_the_scan_stops_early(
    api: Api, reference: Reference
) -> None:
    query = ext("-type:ssh")
    total = len(oracle(reference, query))
    pushed_count = reference.store.count(plan(query).pushed)
    page = api.page(reference.url, TOKEN, query, limit=5, page_size=20)
    assert isinstance(page, FilteredResponse)
    assert len(page.connection_logs) == 5
    assert not page.count_exact
    assert 5 <= page.count < total  # what was seen, not the total ...
    assert page.count != pushed_count  # ... and never the server's count of the pushed query
    assert page.scanned == 20  # one pushed page was enough
    assert page.count_max is not None
    assert total <= page.count_max <= pushed_count


def test_count_without_matches_is_exact_zero(api: Api, reference: Reference) -> None:
    page = api.page(reference.url, TOKEN, ext("type:ssh -type:ssh"), limit=10)
    assert isinstance(page, FilteredResponse)
    assert (page.connection_logs, page.count, page.count_exact) == ([], 0, True)
    assert page.count_max == 0


def test_coder_query_keeps_the_servers_count(api: Api, reference: Reference) -> None:
    page = api.page(reference.url, TOKEN, "type:ssh", limit=3, mode="extended")
    assert type(page) is ConnectionLogResponse
    assert page.count == reference.store.count(parse("type:ssh"))
    assert page.count_cap == 2000


def test_filtered_response_serializes_as_coders_json(reference: Reference) -> None:
    with Client(reference.url, TOKEN) as client:
        page = client.connection_logs(ext("type:ssh -status:ongoing"), limit=2)
    assert isinstance(page, FilteredResponse)
    body = json.loads(page.model_dump_json())
    assert set(body) == {"connection_logs", "count"}
    assert ConnectionLogResponse.model_validate(body).count == page.count


def test_iter_pages_reports_progress_of_the_scan(reference: Reference) -> None:
    query = ext("type:ssh,vscode dev")
    with Client(reference.url, TOKEN) as client:
        pages = list(client.iter_pages(query, page_size=40))
    assert all(isinstance(p, FilteredResponse) for p in pages)
    scanned = [p.scanned for p in pages]
    assert scanned == sorted(scanned)
    assert scanned[-1] == reference.store.count(plan(query).pushed)
    assert [p.count_exact for p in pages] == [False] * (len(pages) - 1) + [True]
    assert pages[-1].count == sum(len(p.connection_logs) for p in pages)
    assert pages[-1].count == len(oracle(reference, query))


# --- how text is parsed -------------------------------------------------------------------


def test_text_is_coder_mode_unless_extended_is_asked_for(api: Api, reference: Reference) -> None:
    with pytest.raises(QueryError, match="not a valid query param"):
        api.page(reference.url, TOKEN, "dev type:ssh")
    by_call = api.page(reference.url, TOKEN, "dev type:ssh", mode="extended", limit=500)
    by_client = api.page(reference.url, TOKEN, "dev type:ssh", extended=True, limit=500)
    expected = oracle(reference, ext("dev type:ssh"))
    assert ids(by_call.connection_logs) == ids(by_client.connection_logs) == expected
    # mode="coder" overrides the client's default.
    with pytest.raises(QueryError, match="not a valid query param"):
        api.page(reference.url, TOKEN, "dev type:ssh", extended=True, mode="coder")


def test_the_mode_picks_one_language(api: Api, reference: Reference) -> None:
    # No fallback: `workspace_owner:a*` is a literal star in Coder's language (no such user)
    # and a wildcard in the extended one, whatever else the query holds.
    literal = api.page(reference.url, TOKEN, "workspace_owner:a*", limit=500)
    assert literal.connection_logs == []
    wildcard = api.page(reference.url, TOKEN, "workspace_owner:a*", extended=True, limit=500)
    assert ids(wildcard.connection_logs) == oracle(reference, ext("workspace_owner:a*"))
    assert wildcard.connection_logs
    # A Coder quirk is Coder's only in Coder mode: the empty first value disables the key.
    before = len(reference.seen)
    api.page(reference.url, TOKEN, 'username:"" username:bob type:ssh')
    api.page(reference.url, TOKEN, 'username:"" username:bob type:ssh', extended=True)
    assert reference.seen[before:] == [parse("type:ssh"), parse("type:ssh username:bob")]


def test_literal_stars_and_commas_are_quoted_for_extended_servers(
    api: Api, faults: FaultServer
) -> None:
    faults.script(*[Respond() for _ in range(2)])
    api.page(faults.url, TOKEN, 'username:"b*" type:ssh,vscode', extended=True)
    api.page(faults.url, TOKEN, "username:b* workspace_owner:x,y")
    assert [r.target for r in faults.requests] == [
        "/api/v2/connectionlog?q=username%3A%22b%2A%22&limit=100",
        "/api/v2/connectionlog?q=workspace_owner%3A%22x%2Cy%22+username%3A%22b%2A%22",
    ]


def test_a_query_object_needs_no_mode(api: Api, reference: Reference) -> None:
    query = ext("type:ssh,vscode")
    page = api.page(reference.url, TOKEN, query, limit=500)
    assert ids(page.connection_logs) == oracle(reference, query)


def test_extended_syntax_errors_come_from_the_extended_parser(
    api: Api, faults: FaultServer
) -> None:
    with pytest.raises(QueryError, match=r"Missing '\)'"):
        api.page(faults.url, TOKEN, "(type:ssh", mode="extended")
    assert faults.requests == []


def test_client_plan_shows_both_parts() -> None:
    with Client("http://127.0.0.1:1", extended=True) as client:
        shown = client.plan("type:ssh (dev OR gpu)", now=NOW)
        assert (shown.q, shown.residual_text) == ("type:ssh", "dev OR gpu")
        assert client.plan("type:ssh").is_exact
        with pytest.raises(QueryError):
            client.plan("dev", mode="coder")

    async def run() -> str:
        async with AsyncClient("http://127.0.0.1:1") as client:
            return client.plan(ext("-type:ssh")).describe()

    assert "no part of this query can be pushed down" in asyncio.run(run())


# --- residuals the client cannot evaluate ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("-workspace_owner_email:alice@example.com", "workspace_owner_email"),
        ("workspace_owner_email:*@x.io dev", "workspace_owner_email"),
        ("type:ssh OR workspace_owner:me", "workspace_owner"),
        ("-username:me", "username"),
    ],
)
def test_unevaluable_residual_is_refused_before_sending(
    api: Api, faults: FaultServer, text: str, field: str
) -> None:
    with pytest.raises(UnsupportedQueryError) as info:
        api.page(faults.url, TOKEN, text, mode="extended")
    assert [e.field for e in info.value.errors] == [field]
    assert info.value.errors[0].span is not None
    with pytest.raises(UnsupportedQueryError):
        api.logs(faults.url, TOKEN, text, mode="extended")
    assert faults.requests == []


def test_me_in_the_residual_works_with_user_id(api: Api, reference: Reference) -> None:
    query = ext("type:ssh OR workspace_owner:me")
    logs = api.logs(reference.url, TOKEN, query, user_id=str(reference.alice))
    assert ids(logs) == oracle(reference, query)


def test_owner_email_pushed_alone_is_fine(api: Api, reference: Reference) -> None:
    query = ext("workspace_owner_email:alice@example.com (dev OR gpu)")
    assert plan(query).q == "workspace_owner_email:alice@example.com"
    logs = api.logs(reference.url, TOKEN, query)
    assert ids(logs) == oracle(reference, query)


def test_bad_user_id() -> None:
    with pytest.raises(ValueError, match="UUID"):
        Client("http://127.0.0.1:1", user_id="alice")
    with pytest.raises(TypeError, match="UUID"):
        Client("http://127.0.0.1:1", user_id=5)  # type: ignore[arg-type]


def test_local_name_filters_use_the_names_in_each_row(reference: Reference) -> None:
    # The documented difference: Coder looks names up among live users, the residual reads
    # the names Coder's rows carry. A deleted `bob` is still "bob" in his old rows.
    query = ext("workspace_owner:bob,nobody")
    with Client(reference.url, TOKEN) as client:
        local = {log.id: log for log in client.iter_connection_logs(query)}
    stored = set(oracle(reference, query))
    deleted_bob = {generate(seed=4, n_logs=0).user("bob", deleted=True).id}  # as in conftest
    assert stored < {str(i) for i in local}
    extra = [log for log in local.values() if str(log.id) not in stored]
    assert extra
    assert {log.workspace_owner_id for log in extra} == deleted_bob
