"""Coder's endpoint flow on every store: count cap, default limit, offset, order, empty answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connlog_query import Query, QueryError, parse
from connlog_query.backends.context import CompileContext
from connlog_query.demo import generate
from connlog_query.store import Store
from store_helpers import KINDS, open_kind, oracle, server_dsns

# More than Coder's cap of 2000 rows, so the cap shows.
DATA = generate(seed=5, n_logs=2050)
ALL = oracle(DATA, Query())


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each store kind, filled once per module."""
    with open_kind(request.param, **server_dsns(request, request.param)) as opened:
        written: list[int] = []
        opened.ingest(DATA, progress=written.append)
        assert sum(written) == len(DATA.logs)
        yield opened


def test_count_is_capped_at_2001(store: Store) -> None:
    page = store.list(Query())
    assert (page.count, page.count_cap) == (2001, 2000)
    assert store.count(Query(), count_cap=0) == len(DATA.logs)
    assert store.count(Query(), count_cap=10) == 11


def test_limit_zero_means_100_newest_first(store: Store) -> None:
    page = store.list(Query(), limit=0)
    assert [log.id for log in page.connection_logs] == ALL[:100]


def test_offset_pages_concatenate_to_the_full_order(store: Store) -> None:
    got = []
    for offset in range(0, 300, 37):
        got.extend(log.id for log in store.list(Query(), limit=37, offset=offset).connection_logs)
    assert got[:300] == ALL[:300]
    assert len(got) == len(set(got))


def test_offset_past_the_end_keeps_the_count(store: Store) -> None:
    query = parse("type:tunnel")
    expected = oracle(DATA, query)
    page = store.list(query, offset=len(expected) + 5)
    assert page.connection_logs == []
    assert page.count == len(expected) > 0


def test_no_match_is_coders_empty_body(store: Store) -> None:
    page = store.list(parse("workspace_owner:nobody"))
    assert json.loads(page.model_dump_json()) == {
        "connection_logs": [],
        "count": 0,
        "count_cap": 2000,
    }


def test_ties_are_ordered_by_id_descending(store: Store) -> None:
    rows = store.list(Query(), limit=2000).connection_logs
    keys = [(log.connect_time, log.id) for log in rows]
    assert keys == sorted(keys, reverse=True)
    assert len({log.connect_time for log in rows}) < len(rows), "the data must contain ties"


def test_negative_page_arguments_are_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.list(Query(), limit=-1)
    with pytest.raises(ValueError, match="offset"):
        store.list(Query(), offset=-1)


def test_me_needs_a_user_id(store: Store) -> None:
    with pytest.raises(QueryError) as info:
        store.list(parse("username:me"))
    assert info.value.errors[0].field == "username"


def test_name_lookups(store: Store) -> None:
    assert store.resolve_organization("SANDBOX") == DATA.organization("sandbox").id
    assert store.resolve_organization("research-lab") == DATA.organization("Research-Lab").id
    assert store.resolve_organization("nope") is None
    assert store.resolve_user("BOB") == DATA.user("bob").id
    assert store.resolve_user("mallory") is None


def test_context_resolver_wins_over_the_stores(store: Store) -> None:
    acme = DATA.organization("acme").id
    context = CompileContext(organization_resolver=lambda name: acme)
    page = store.list(parse("organization:whatever"), context=context, limit=5000)
    assert [log.id for log in page.connection_logs] == oracle(DATA, Query(organization=acme))


def test_json_shape_per_type(store: Store) -> None:
    rows = [
        json.loads(log.model_dump_json()) for log in store.list(Query(), limit=400).connection_logs
    ]
    web = {"workspace_app", "port_forwarding", "tunnel"}
    seen = set()
    for row in rows:
        if row["type"] in web:
            assert "ssh_info" not in row
            assert set(row["web_info"]) >= {"user_agent", "user", "slug_or_port", "status_code"}
            seen.add("web-user" if row["web_info"]["user"] else "web-anonymous")
        else:
            assert "web_info" not in row
            info = row["ssh_info"]
            seen.add("completed" if "disconnect_time" in info else "ongoing")
        seen.add("no-ip" if "ip" not in row else "ip")
        assert row["type_display_name"]
    assert seen == {"web-user", "web-anonymous", "completed", "ongoing", "no-ip", "ip"}
