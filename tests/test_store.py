"""One table of queries, run against every store: memory, SQLite, PostgreSQL and MariaDB.

Every case is checked three ways: the store's page equals the naive oracle of
``store_helpers`` (same ids, same order, count), every store returns byte-identical JSON for the
default page, and the case's declared outcome (some rows / no rows / Coder's error) holds, so a
case can never pass vacuously.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any, Literal

import pytest

from connlog_query import QueryError, parse
from connlog_query.demo import DemoData, generate
from connlog_query.models import ConnectionLogResponse, format_go_time
from connlog_query.store import Store
from store_helpers import (
    KINDS,
    UNKNOWN_ORGANIZATION_NOPE,
    UnknownOrganization,
    case_context,
    open_kind,
    oracle,
    server_dsns,
)

DATA = generate(seed=11, n_logs=600)

SOME, NONE, ERROR = "some", "none", "error"


def _values(data: DemoData) -> dict[str, str]:
    times = sorted(log.connect_time for log in data.logs)
    tie = next(t for t, n in Counter(times).items() if n >= 2)
    mid = times[len(times) // 2]
    session = next(log for log in data.logs if log.connection_id is not None)
    return {
        "org_coder": str(data.organization("coder").id),
        "org_deleted": str(data.organization("sandbox", deleted=True).id),
        "org_missing": str(uuid.UUID(int=12345)),
        "ws": str(session.workspace_id),
        "conn": str(session.connection_id),
        "t_tie": format_go_time(tie),
        "t_mid": format_go_time(mid),
        "t_mid_plus": format_go_time(mid + dt.timedelta(days=1)),
        "t_first": format_go_time(times[0]),
        "t_last": format_go_time(times[-1]),
    }


VALUES = _values(DATA)

# (case id, query text, expected outcome, options: as_user, type_mode)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("empty", "", SOME, {}),
    ("org-name", "organization:coder", SOME, {}),
    ("org-name-upper", "organization:CODER", SOME, {}),
    ("org-name-mixed-stored", "organization:research-lab", SOME, {}),
    ("org-live-beside-deleted", "organization:sandbox", SOME, {}),
    ("org-uuid", "organization:{org_coder}", SOME, {}),
    ("org-uuid-deleted-org", "organization:{org_deleted}", SOME, {}),
    ("org-uuid-missing", "organization:{org_missing}", NONE, {}),
    ("org-name-unknown", "organization:nope", ERROR, {}),
    ("owner", "workspace_owner:alice", SOME, {}),
    ("owner-live-not-deleted-namesake", "workspace_owner:bob", SOME, {}),
    ("owner-mixed-case-username", "workspace_owner:carol", SOME, {}),
    ("owner-deleted", "workspace_owner:mallory", NONE, {}),
    ("owner-unknown", "workspace_owner:nobody", NONE, {}),
    ("owner-me", "workspace_owner:me", SOME, {"as_user": "dave"}),
    ("owner-email", "workspace_owner_email:alice@example.com", SOME, {}),
    ("owner-email-mixed-case-stored", "workspace_owner_email:bob@example.com", NONE, {}),
    ("owner-email-deleted", "workspace_owner_email:bob.old@example.com", NONE, {}),
    ("type-ssh-family", "type:ssh", SOME, {}),
    ("type-vscode-family", "type:vscode", SOME, {}),
    ("type-vscode-exact", "type:vscode", SOME, {"type_mode": "exact"}),
    ("type-ssh-exact", "type:ssh", SOME, {"type_mode": "exact"}),
    ("type-jetbrains", "type:jetbrains", SOME, {}),
    ("type-pty", "type:reconnecting_pty", SOME, {}),
    ("type-app", "type:workspace_app", SOME, {}),
    ("type-port", "type:port_forwarding", SOME, {}),
    ("type-tunnel", "type:tunnel", SOME, {}),
    ("username", "username:alice", SOME, {}),
    ("username-live-only", "username:bob", SOME, {}),
    ("username-deleted", "username:mallory", NONE, {}),
    ("username-me", "username:me", SOME, {"as_user": "alice"}),
    ("user-email", "user_email:alice@example.com", SOME, {}),
    ("user-email-deleted-user-counts", "user_email:mallory@example.com", SOME, {}),
    ("user-email-mixed-case-stored", "user_email:erin.hart@example.org", NONE, {}),
    ("after-inclusive", 'connected_after:"{t_mid}"', SOME, {}),
    ("before-inclusive", 'connected_before:"{t_mid}"', SOME, {}),
    ("tie-both-bounds", 'connected_after:"{t_tie}" connected_before:"{t_tie}"', SOME, {}),
    ("first-row-bound", 'connected_before:"{t_first}"', SOME, {}),
    ("last-row-bound", 'connected_after:"{t_last}"', SOME, {}),
    ("after-past-before", 'connected_after:"{t_mid_plus}" connected_before:"{t_mid}"', NONE, {}),
    ("workspace-id", "workspace_id:{ws}", SOME, {}),
    ("connection-id", "connection_id:{conn}", SOME, {}),
    ("ongoing", "status:ongoing", SOME, {}),
    ("completed", "status:completed", SOME, {}),
    ("status-excludes-web", "type:workspace_app status:ongoing", NONE, {}),
    ("status-excludes-tunnel", "type:tunnel status:completed", NONE, {}),
    ("combo-me", "workspace_owner:me type:ssh status:completed", SOME, {"as_user": "alice"}),
    ("combo-org-user", "organization:sandbox username:alice", SOME, {}),
    ("injection-owner", 'workspace_owner:"\' or 1=1 --"', NONE, {}),
    ("injection-email", 'user_email:"a\'\\b; drop table users; --"', NONE, {}),
]


def _query_text(template: str) -> str:
    return template.format(**VALUES)


@pytest.fixture(scope="module", params=KINDS)
def stores(request: pytest.FixtureRequest) -> Iterator[dict[str, Store]]:
    """Each store kind in both type modes, filled with :data:`DATA` once per module."""
    kind = request.param
    dsns = server_dsns(request, kind)
    with (
        open_kind(kind, type_mode="family", **dsns) as family,
        open_kind(kind, type_mode="exact", **dsns) as exact,
    ):
        family.ingest(DATA)
        exact.ingest(DATA)
        yield {"family": family, "exact": exact}


@pytest.fixture(scope="module")
def reference() -> dict[tuple[str, str], ConnectionLogResponse | str]:
    """The memory store's first page per (case, mode), to compare the other stores' JSON with."""
    pages: dict[tuple[str, str], ConnectionLogResponse | str] = {}
    for mode in ("family", "exact"):
        with open_kind("memory", type_mode=mode) as mem:
            mem.ingest(DATA)
            for case_id, text, _, options in CASES:
                try:
                    pages[case_id, mode] = mem.list(
                        parse(_query_text(text)), context=case_context(mem, options)
                    )
                except QueryError as exc:
                    pages[case_id, mode] = str(exc)
    return pages


def _mode(options: dict[str, Any]) -> Literal["family", "exact"]:
    return "exact" if options.get("type_mode") == "exact" else "family"


@pytest.mark.parametrize(
    ("case_id", "text", "outcome", "options"), CASES, ids=[c[0] for c in CASES]
)
def test_case(
    stores: dict[str, Store],
    reference: dict[tuple[str, str], Any],
    case_id: str,
    text: str,
    outcome: str,
    options: dict[str, Any],
) -> None:
    mode = _mode(options)
    store = stores[mode]
    query = parse(_query_text(text))
    context = case_context(store, options)
    try:
        expected = oracle(DATA, query, user_id=context.user_id, type_mode=mode)
    except UnknownOrganization:
        assert outcome == ERROR
        with pytest.raises(QueryError) as info:
            store.list(query, context=context)
        assert info.value.to_response() == UNKNOWN_ORGANIZATION_NOPE
        return
    assert outcome == (SOME if expected else NONE), f"case {case_id} is not what it claims"

    everything = store.list(query, limit=5000, context=context)
    assert [log.id for log in everything.connection_logs] == expected
    assert everything.count == min(len(expected), 2001)
    assert everything.count_cap == 2000

    page = store.list(query, context=context)
    assert page.model_dump_json() == reference[case_id, mode].model_dump_json()


def test_type_modes_differ() -> None:
    """The exact/family cases are not vacuous: the data has rows telling the modes apart."""
    vscode = parse("type:vscode")
    assert len(oracle(DATA, vscode, type_mode="exact")) < len(oracle(DATA, vscode))
    ssh = parse("type:ssh")
    assert len(oracle(DATA, ssh, type_mode="exact")) < len(oracle(DATA, ssh))


def test_deleted_namesake_rows_excluded() -> None:
    """``workspace_owner:bob`` must leave out the deleted bob's rows although both are 'bob'."""
    deleted_bob = DATA.user("bob", deleted=True).id
    assert any(log.workspace_owner_id == deleted_bob for log in DATA.logs)
    ids = set(oracle(DATA, parse("workspace_owner:bob")))
    assert not any(log.id in ids for log in DATA.logs if log.workspace_owner_id == deleted_bob)
