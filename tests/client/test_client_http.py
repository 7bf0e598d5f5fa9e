"""The client against the reference server over real HTTP on 127.0.0.1 (sync and async alike)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from clientkit import TOKEN, Api, Reference

from connlog_query import QueryError, parse
from connlog_query.backends.context import CompileContext
from connlog_query.client import (
    APIError,
    ForbiddenError,
    InvalidQueryError,
    NotFoundError,
    PremiumFeatureRequired,
    ServerError,
    UnauthorizedError,
)
from connlog_query.demo import generate
from connlog_query.query import Query
from connlog_query.server.app import create_app
from connlog_query.server.request import (
    FORBIDDEN_DETAIL,
    INVALID_TOKEN_DETAIL,
    MISSING_TOKEN_DETAIL,
    PREMIUM_MESSAGE,
    SIGNED_OUT_MESSAGE,
)
from connlog_query.server.testing import serve_in_thread
from connlog_query.store.sqlite import SQLiteStore


def expected(ref: Reference, text: str, *, limit: int = 0, offset: int = 0) -> list[str]:
    """Row ids the store itself gives for ``text`` (the oracle)."""
    page = ref.store.list(
        parse(text), limit=limit, offset=offset, context=CompileContext(user_id=ref.alice)
    )
    return [str(log.id) for log in page.connection_logs]


def ids(logs: list) -> list[str]:  # type: ignore[type-arg]
    return [str(log.id) for log in logs]


@pytest.mark.parametrize(
    ("text", "limit", "offset"),
    [
        pytest.param("", 0, 0, id="empty-query-default-limit"),
        pytest.param("type:ssh", 5, 0, id="type"),
        pytest.param("type:vscode status:completed", 3, 2, id="limit-offset"),
        pytest.param("workspace_owner:me", 10, 0, id="me"),
        pytest.param("username:me", 10, 0, id="me-connecting-user"),
        pytest.param("organization:acme", 10, 0, id="organization-by-name"),
        pytest.param("ORGANIZATION:Research-Lab type:workspace_app", 10, 0, id="org-mixed-case"),
        pytest.param('connected_after:"2025-07-20T00:00:00Z" status:ongoing', 10, 0, id="time"),
        pytest.param('connected_before:"2025-07-01T00:00:00+02:00"', 4, 0, id="tz-time"),
        pytest.param("type:port_forwarding", 0, 1000, id="offset-past-end"),
    ],
)
def test_page_matches_the_store(
    api: Api, reference: Reference, text: str, limit: int, offset: int
) -> None:
    page = api.page(reference.url, TOKEN, text, limit=limit, offset=offset)
    assert ids(page.connection_logs) == expected(reference, text, limit=limit, offset=offset)
    full = reference.store.list(parse(text), context=CompileContext(user_id=reference.alice))
    assert page.count == full.count
    assert page.count_cap == 2000


def test_page_is_the_full_model(api: Api, reference: Reference) -> None:
    page = api.page(reference.url, TOKEN, "type:workspace_app", limit=20)
    oracle = reference.store.list(parse("type:workspace_app"), limit=20)
    assert page == oracle


def test_me_is_the_authenticated_user(api: Api, reference: Reference) -> None:
    page = api.page(reference.url, TOKEN, "workspace_owner:me", limit=50)
    assert page.connection_logs
    assert {log.workspace_owner_id for log in page.connection_logs} == {reference.alice}


def test_organization_by_name(api: Api, reference: Reference) -> None:
    page = api.page(reference.url, TOKEN, "organization:ACME", limit=50)
    assert page.connection_logs
    assert {log.organization.name for log in page.connection_logs} == {"acme"}


@pytest.mark.parametrize(
    "text",
    [
        'workspace_owner:"john doe"',
        'user_email:"a:b@example.com"',
        'username:"o\'brien:x y"',
        'workspace_owner:a"b c"d',
        'workspace_owner_email:"x  y" type:ssh',
        'connected_after:"2025-07-01T10:00:00.5+05:30"',
    ],
)
def test_values_with_spaces_colons_and_quotes_reach_the_server_intact(
    api: Api, reference: Reference, text: str
) -> None:
    before = len(reference.seen)
    page = api.page(reference.url, TOKEN, text)
    assert reference.seen[before:] == [parse(text)]
    assert ids(page.connection_logs) == expected(reference, text)


def test_a_query_object_is_sent_as_its_canonical_text(api: Api, reference: Reference) -> None:
    query = Query(
        username="me",
        connected_after=dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc),
        organization="acme",
    )
    before = len(reference.seen)
    api.page(reference.url, TOKEN, query)
    assert reference.seen[before:] == [query]


@pytest.mark.parametrize("page_size", [1, 7, 100, 500])
def test_iteration_walks_every_page(api: Api, reference: Reference, page_size: int) -> None:
    text = "status:completed" if page_size > 1 else "type:tunnel"
    everything = expected(reference, text, limit=2000)
    assert 0 < len(everything) < 2000
    assert ids(api.logs(reference.url, TOKEN, text, page_size=page_size)) == everything


def test_iteration_of_nothing(api: Api, reference: Reference) -> None:
    assert api.logs(reference.url, TOKEN, 'workspace_owner:"nobody"') == []


def test_iteration_on_a_growing_table_yields_each_row_once(api: Api) -> None:
    data = generate(seed=9, n_logs=60)
    store = SQLiteStore(":memory:")
    store.create_schema()
    store.ingest(data)
    original = [str(log.id) for log in store.list(Query(), limit=1000).connection_logs]
    newest = max(log.connect_time for log in data.logs)
    calls = 0
    served: list[str] = []

    class GrowingStore:
        """Inserts 5 newer rows before every page after the first, as a busy server would."""

        def list(self, query: Query, **kwargs: object) -> object:
            nonlocal calls
            calls += 1
            if calls > 1:
                rows = [
                    dataclasses.replace(
                        log,
                        id=uuid.uuid4(),
                        connection_id=log.connection_id and uuid.uuid4(),
                        connect_time=newest + dt.timedelta(minutes=calls * 10 + i),
                    )
                    for i, log in enumerate(data.logs[:5])
                ]
                store.ingest(logs=rows)
            page = store.list(query, **kwargs)  # type: ignore[arg-type]
            served.extend(str(log.id) for log in page.connection_logs)
            return page

    with serve_in_thread(create_app(GrowingStore())) as url:  # type: ignore[arg-type]
        got = ids(api.logs(url, None, "", page_size=10))
    assert len(served) > len(set(served)), "the server never repeated a row; test is vacuous"
    assert len(got) == len(set(got)) == len(set(served))
    assert set(original) <= set(got)
    store.close()


# -- errors --------------------------------------------------------------------------------


def test_unknown_organization_is_a_query_error_with_a_caret(api: Api, reference: Reference) -> None:
    text = "type:ssh organization:nowhere"
    with pytest.raises(InvalidQueryError) as info:
        api.page(reference.url, TOKEN, text)
    err = info.value
    assert isinstance(err, QueryError)
    assert isinstance(err, APIError)
    assert err.status == 400
    assert err.message == "Invalid connection search query."
    assert [(v.field, v.detail) for v in err.errors] == [
        (
            "organization",
            'Query param "organization" has invalid value: organization "nowhere" either '
            "does not exist, or you are unauthorized to view it",
        )
    ]
    assert err.errors[0].span == (text.index("nowhere"), len(text))
    assert err.to_response() == {
        "message": "Invalid connection search query.",
        "validations": [{"field": e.field, "detail": e.detail} for e in err.errors],
    }
    rendered = str(err)
    assert "  type:ssh organization:nowhere\n" in rendered
    assert " " * (2 + text.index("nowhere")) + "^" * len("nowhere") in rendered


def test_local_validation_error_sends_nothing(api: Api, reference: Reference) -> None:
    before = len(reference.seen)
    with pytest.raises(QueryError) as info:
        api.page(reference.url, TOKEN, "status:connected")
    assert not isinstance(info.value, APIError)
    assert info.value.errors[0].field == "status"
    assert len(reference.seen) == before


@pytest.mark.parametrize(
    ("token", "detail"),
    [(None, MISSING_TOKEN_DETAIL), ("wrong-token", INVALID_TOKEN_DETAIL)],
    ids=["missing", "invalid"],
)
def test_unauthorized(api: Api, reference: Reference, token: str | None, detail: str) -> None:
    with pytest.raises(UnauthorizedError) as info:
        api.page(reference.url, token, "")
    assert (info.value.status, info.value.message, info.value.detail) == (
        401,
        SIGNED_OUT_MESSAGE,
        detail,
    )


def _run_against(app: object, api: Api) -> APIError:
    with serve_in_thread(app) as url, pytest.raises(APIError) as info:
        api.page(url, TOKEN, "type:ssh")
    return info.value


def test_premium_feature_required(api: Api, reference: Reference) -> None:
    err = _run_against(create_app(reference.store, licensed=False), api)
    assert type(err) is PremiumFeatureRequired
    assert isinstance(err, ForbiddenError)
    assert (err.status, err.message, err.detail) == (403, PREMIUM_MESSAGE, "")


def test_forbidden(api: Api, reference: Reference) -> None:
    err = _run_against(create_app(reference.store, authorize=lambda user: False), api)
    assert type(err) is ForbiddenError
    assert (err.status, err.message, err.detail) == (403, "Forbidden.", FORBIDDEN_DETAIL)


def test_internal_server_error_is_not_retried(api: Api) -> None:
    broken = SQLiteStore(":memory:")
    broken.close()
    err = _run_against(create_app(broken), api)
    assert type(err) is ServerError
    assert err.status == 500
    assert err.message == "An internal server error occurred."
    assert "closed database" in err.detail
    assert api.sleeps == []


def test_wrong_base_path_is_not_found(api: Api, reference: Reference) -> None:
    with pytest.raises(NotFoundError) as info:
        api.page(reference.url + "/coder", TOKEN, "")
    assert (info.value.status, info.value.message) == (404, "Route not found.")
