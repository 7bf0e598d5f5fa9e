"""CompileContext: ``me`` and organization names resolved the way Coder resolves them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from connlog_query import ME, Query, QueryError, parse
from connlog_query.backends.context import CompileContext, resolve, resolve_async

ACME = uuid.UUID("0000000a-0000-4000-8000-000000000001")
CALLER = uuid.UUID("0000000b-0000-4000-8000-000000000001")
ORGS = {"acme": ACME}


def lookup(name: str) -> uuid.UUID | None:
    return ORGS.get(name)


async def alookup(name: str) -> uuid.UUID | None:
    await asyncio.sleep(0)
    return ORGS.get(name)


def test_name_resolves_to_uuid_and_keeps_spans() -> None:
    q = parse("type:ssh organization:ACME")
    resolved = resolve(q, CompileContext(organization_resolver=lookup))
    assert resolved.organization == ACME
    assert resolved.type == q.type
    assert resolved.span("organization") == q.span("organization") == (22, 26)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("initech", '"initech"'),
        ('a"b', '"a\\"b"'),
        ("back\\slash", '"back\\\\slash"'),
        ("tab\there", '"tab\\there"'),
        ("zoë", '"zoë"'),
    ],
)
def test_unknown_name_is_coders_error(name: str, quoted: str) -> None:
    with pytest.raises(QueryError) as info:
        resolve(Query(organization=name), CompileContext(organization_resolver=lookup))
    assert info.value.to_response() == {
        "message": "Invalid connection search query.",
        "validations": [
            {
                "field": "organization",
                "detail": 'Query param "organization" has invalid value: organization '
                f"{quoted} either does not exist, or you are unauthorized to view it",
            }
        ],
    }


def test_unknown_name_error_points_at_the_value() -> None:
    text = "username:bob organization:nope"
    with pytest.raises(QueryError) as info:
        resolve(parse(text), CompileContext(organization_resolver=lookup))
    (err,) = info.value.errors
    assert text[slice(*err.span)] == "nope"  # type: ignore[misc]


def test_uuid_organization_is_never_looked_up() -> None:
    calls: list[str] = []

    def spy(name: str) -> uuid.UUID | None:
        calls.append(name)
        return None

    q = Query(organization=ACME)
    assert resolve(q, CompileContext(organization_resolver=spy)) == q
    assert calls == []


def test_name_without_resolver_is_left_for_the_backend() -> None:
    q = Query(organization="acme")
    assert resolve(q, CompileContext()).organization == "acme"


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (Query(workspace_owner=ME), ["workspace_owner"]),
        (Query(username=ME), ["username"]),
        (Query(workspace_owner=ME, username=ME), ["workspace_owner", "username"]),
    ],
)
def test_me_needs_a_caller(query: Query, fields: list[str]) -> None:
    with pytest.raises(QueryError) as info:
        resolve(query, CompileContext())
    assert [e.field for e in info.value.errors] == fields
    assert all("me" in e.detail and e.hint for e in info.value.errors)
    assert resolve(query, CompileContext(user_id=CALLER)) == query


def test_me_as_email_is_just_text() -> None:
    q = Query(user_email="me", workspace_owner_email="me")
    assert resolve(q, CompileContext()) == q


def test_async_resolver() -> None:
    q = parse("organization:acme")
    resolved = asyncio.run(resolve_async(q, CompileContext(), alookup))
    assert resolved.organization == ACME
    with pytest.raises(QueryError) as info:
        asyncio.run(resolve_async(Query(organization="x"), CompileContext(), alookup))
    assert info.value.errors[0].field == "organization"


def test_async_falls_back_to_the_sync_resolver() -> None:
    ctx = CompileContext(organization_resolver=lookup)
    assert asyncio.run(resolve_async(Query(organization="acme"), ctx)).organization == ACME


def test_async_checks_me_before_looking_up() -> None:
    calls: list[str] = []

    async def spy(name: str) -> uuid.UUID | None:
        calls.append(name)
        return ACME

    with pytest.raises(QueryError):
        asyncio.run(resolve_async(Query(username=ME, organization="acme"), CompileContext(), spy))
    assert calls == []


# --- extended queries: names and `me` inside `where`, the clock ------------------------------

GLOBEX = uuid.UUID("0000000a-0000-4000-8000-000000000002")
BOTH = {"acme": ACME, "globex": GLOBEX}


def ext(text: str) -> Query:
    return parse(text, mode="extended")


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("organization:acme,globex", "organization:{a},{g}"),
        ("type:ssh -organization:globex", "-organization:{g} type:ssh"),
        ("type:ssh OR (organization:ACME -organization:globex)", None),
        ("organization:acme organization:globex,acme", None),
    ],
)
def test_names_inside_where_resolve(text: str, resolved: str | None) -> None:
    calls: list[str] = []

    def spy(name: str) -> uuid.UUID | None:
        calls.append(name)
        return BOTH.get(name)

    query = resolve(ext(text), CompileContext(organization_resolver=spy))
    assert sorted(calls) == sorted(set(calls))  # each name looked up once
    assert set(calls) == {n for n in BOTH if n in text.lower()}
    printed = query.to_string("extended")
    assert "acme" not in printed
    assert "globex" not in printed
    if resolved is not None:
        assert printed == resolved.format(a=ACME, g=GLOBEX)
    # resolving again finds nothing left to look up
    calls.clear()
    assert resolve(query, CompileContext(organization_resolver=spy)) == query
    assert calls == []


def test_unknown_name_inside_where_is_coders_error() -> None:
    text = "type:ssh OR -organization:acme,initech"
    with pytest.raises(QueryError) as info:
        resolve(ext(text), CompileContext(organization_resolver=lookup))
    (err,) = info.value.errors
    assert err.field == "organization"
    assert err.detail.endswith(
        'organization "initech" either does not exist, or you are unauthorized to view it'
    )
    with pytest.raises(QueryError):
        asyncio.run(resolve_async(ext(text), CompileContext(), alookup))


def test_async_resolves_names_inside_where() -> None:
    query = asyncio.run(resolve_async(ext("-organization:acme"), CompileContext(), alookup))
    assert query.to_string("extended") == f"-organization:{ACME}"


def test_without_a_resolver_names_in_where_stay() -> None:
    query = ext("organization:acme,globex")
    assert resolve(query, CompileContext()) is query


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("type:ssh OR username:me", ["username"]),
        ("-workspace_owner:me", ["workspace_owner"]),
        ("NOT (username:bob,me OR workspace_owner:alice,me)", ["workspace_owner", "username"]),
        ("username:me,bob workspace_owner:me", ["workspace_owner", "username"]),
    ],
)
def test_me_inside_where_needs_a_caller(text: str, fields: list[str]) -> None:
    with pytest.raises(QueryError) as info:
        resolve(ext(text), CompileContext())
    assert [e.field for e in info.value.errors] == fields
    assert all(e.span is not None for e in info.value.errors)
    assert resolve(ext(text), CompileContext(user_id=CALLER)) == ext(text)


def test_me_as_a_wildcard_or_email_needs_no_caller() -> None:
    query = ext("username:me* user_email:me,me*")
    assert resolve(query, CompileContext()) is query


def test_clock() -> None:
    import datetime as dt

    plus_two = dt.timezone(dt.timedelta(hours=2))
    at = dt.datetime(2025, 7, 1, 14, 0, tzinfo=plus_two)
    clock = CompileContext(now=at).current_time()
    assert clock == at
    assert clock.utcoffset() == dt.timedelta(0)
    before = dt.datetime.now(dt.timezone.utc)
    current = CompileContext().current_time()
    assert before <= current <= dt.datetime.now(dt.timezone.utc)
    with pytest.raises(ValueError, match="timezone-aware"):
        CompileContext(now=dt.datetime(2025, 7, 1))
