"""The in-memory backend: Coder's semantics on models and on mappings of the same JSON shape."""

from __future__ import annotations

import datetime as dt
import json
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings

from connlog_query import ME, Query, QueryError, parse
from connlog_query.backends import get_backend, memory
from connlog_query.backends.context import CompileContext
from connlog_query.demo import DemoData, generate
from connlog_query.models import ConnectionLog, User
from connlog_query.values import ConnectionStatus
from store_helpers import NOW, extended_data, extended_scenarios, oracle, scenarios

DATA = generate(seed=8, n_logs=500)
LOGS = DATA.connection_logs
AS_JSON = [json.loads(log.model_dump_json()) for log in LOGS]
AS_PYTHON = [log.model_dump() for log in LOGS]
USERS = memory.UserTable.of(DATA.users)
ALICE = DATA.user("alice").id


def _ids(predicate: memory.Predicate, records: Any = LOGS) -> list[uuid.UUID]:
    return [log.id for log, record in zip(LOGS, records, strict=True) if predicate(record)]


def _newest_first(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    order = {log_id: i for i, log_id in enumerate(oracle(DATA, Query()))}
    return sorted(ids, key=order.__getitem__)


QUERIES = [
    "",
    "type:ssh status:ongoing",
    "type:vscode",
    "workspace_owner:bob",
    "workspace_owner:carol type:workspace_app",
    "workspace_owner:mallory",
    "workspace_owner_email:alice@example.com",
    "workspace_owner_email:bob@example.com",
    "username:bob",
    "username:me",
    "workspace_owner:me status:completed",
    "user_email:mallory@example.com",
    "user_email:erin.hart@example.org",
    "organization:sandbox",
    "organization:research-lab type:tunnel",
    "status:completed type:jetbrains",
    'connected_after:"2025-07-20T00:00:00Z" connected_before:"2025-07-22T12:00:00.5Z"',
]


@pytest.mark.parametrize("text", QUERIES)
def test_models_and_mappings_agree_with_the_oracle(text: str) -> None:
    query = parse(text)
    predicate = memory.compile(
        query,
        context=CompileContext(user_id=ALICE),
        users=USERS,
        organizations=DATA.organizations,
    )
    expected = oracle(DATA, query, user_id=ALICE)
    assert _newest_first(_ids(predicate)) == expected
    assert _newest_first(_ids(predicate, AS_JSON)) == expected
    assert _newest_first(_ids(predicate, AS_PYTHON)) == expected


@settings(max_examples=40, deadline=None)
@given(scenario=scenarios())
def test_property_model_json_and_oracle_agree(
    scenario: tuple[DemoData, Query, uuid.UUID, int, int],
) -> None:
    data, query, caller, _, _ = scenario
    predicate = memory.compile(
        query,
        context=CompileContext(user_id=caller),
        users=data.users,
        organizations=data.organizations,
    )
    expected = set(oracle(data, query, user_id=caller))
    logs = data.connection_logs
    assert {log.id for log in logs if predicate(log)} == expected
    assert {log.id for log in logs if predicate(json.loads(log.model_dump_json()))} == expected


def test_type_modes() -> None:
    family = memory.compile(Query(type="vscode"))
    exact = memory.compile(Query(type="vscode"), type_mode="exact")
    types_family = {log.type for log in LOGS if family(log)}
    assert types_family >= {"vscode", "cursor", "windsurf", "code_server"}
    assert {log.type for log in LOGS if exact(log)} == {"vscode"}
    with pytest.raises(ValueError, match="type_mode"):
        memory.compile(Query(), type_mode="loose")  # type: ignore[arg-type]


def test_deleted_owner_namesake_needs_the_user_table() -> None:
    deleted_bob = DATA.user("bob", deleted=True).id
    with_table = memory.compile(Query(workspace_owner="bob"), users=USERS)
    without = memory.compile(Query(workspace_owner="bob"))
    deleted_rows = [log for log in LOGS if log.workspace_owner_id == deleted_bob]
    assert deleted_rows
    assert not any(with_table(log) for log in deleted_rows)
    # Without the table only the embedded names are known, so the deleted namesake matches.
    assert all(without(log) for log in deleted_rows)


def test_fallbacks_without_tables() -> None:
    by_name = memory.compile(Query(username="bob", organization="SANDBOX"))
    got = {log.id for log in LOGS if by_name(log)}
    want = {
        log.id
        for log in LOGS
        if log.web_info
        and log.web_info.user
        and log.web_info.user.username == "bob"
        and log.organization.name == "sandbox"
    }
    assert got == want
    assert got
    by_email = memory.compile(Query(user_email="mallory@example.com"))
    with_table = memory.compile(Query(user_email="mallory@example.com"), users=USERS)
    assert _ids(by_email) == _ids(with_table) != []
    with pytest.raises(ValueError, match="workspace_owner_email"):
        memory.compile(Query(workspace_owner_email="alice@example.com"))


def test_unknown_user_matches_nothing_even_for_odd_records() -> None:
    predicate = memory.compile(Query(username="nobody"), users=USERS)
    assert not any(predicate(log) for log in LOGS)


def test_me_needs_a_user_id() -> None:
    with pytest.raises(QueryError) as info:
        memory.compile(Query(username=ME), users=USERS)
    assert [e.field for e in info.value.errors] == ["username"]


def test_organization_not_found_is_coders_error() -> None:
    with pytest.raises(QueryError) as info:
        memory.compile(
            Query(organization="acme"), context=CompileContext(organization_resolver=lambda n: None)
        )
    assert info.value.errors[0].detail == (
        'Query param "organization" has invalid value: organization "acme" either does not '
        "exist, or you are unauthorized to view it"
    )
    with pytest.raises(QueryError):
        memory.compile(Query(organization="nope"), organizations=DATA.organizations)


def test_deleted_organization_name_does_not_resolve() -> None:
    live = DATA.organization("sandbox").id
    predicate = memory.compile(Query(organization="sandbox"), organizations=DATA.organizations)
    assert {log.organization.id for log in LOGS if predicate(log)} == {live}


def test_mapping_forms_of_values() -> None:
    record = json.loads(LOGS[0].model_dump_json())
    record["workspace_id"] = record["workspace_id"].upper()
    record["connect_time"] = "2025-07-01T10:00:00.123456789Z"
    workspace = uuid.UUID(record["workspace_id"])
    assert memory.compile(Query(workspace_id=workspace))(record)
    after = parse('connected_after:"2025-07-01T10:00:00.123456Z"')
    assert memory.compile(after)(record)
    too_late = parse('connected_after:"2025-07-01T10:00:00.123457Z"')
    assert not memory.compile(too_late)(record)


def test_status_never_selects_web_events() -> None:
    for status in ("ongoing", "completed"):
        predicate = memory.compile(Query(status=status))
        assert not any(
            predicate(log) for log in LOGS if log.type in ("workspace_app", "port_forwarding")
        )
        assert any(predicate(log) for log in LOGS)


def test_connection_id_only_for_sessions() -> None:
    session = next(log for log in LOGS if log.ssh_info is not None)
    assert session.ssh_info is not None
    predicate = memory.compile(Query(connection_id=session.ssh_info.connection_id))
    assert _ids(predicate) == [session.id]


def test_bad_records_raise_type_error() -> None:
    predicate = memory.compile(Query(type="ssh"))
    with pytest.raises(TypeError, match="ConnectionLog"):
        predicate(42)
    assert memory.compile(Query())(42) is True  # nothing to check: every record passes


def test_user_table_inputs() -> None:
    alice = DATA.user("alice")
    as_model = User(id=alice.id, username="Alice", email=alice.email, created_at=alice.created_at)
    as_dict = {"id": str(alice.id), "username": "ALICE", "email": alice.email}
    for users in ([as_model], {alice.id: as_dict}, memory.UserTable.of([as_dict])):
        table = memory.UserTable.of(users)
        assert table.live_by_username["alice"] == frozenset({alice.id})
    deleted = memory.UserTable.of([{**as_dict, "deleted": True}])
    assert "alice" not in deleted.live_by_username
    assert deleted.all_by_email[alice.email] == frozenset({alice.id})


def test_registered_as_a_backend() -> None:
    assert get_backend("memory") is memory
    predicate = get_backend("memory").compile(Query(type="tunnel"))
    assert {log.type for log in LOGS if predicate(log)} == {"tunnel"}


def test_plain_objects_work_like_models() -> None:
    class Row:
        def __init__(self, log: ConnectionLog) -> None:
            self.__dict__.update(dict(log))

    predicate = memory.compile(parse("type:ssh status:completed"), users=USERS)
    assert [log.id for log in LOGS if predicate(Row(log))] == _ids(predicate)


EXTENDED = extended_data(DATA)
EXTENDED_LOGS = EXTENDED.connection_logs
EXTENDED_USERS = memory.UserTable.of(EXTENDED.users)

EXTENDED_QUERIES = [
    "type:ssh -username:bob",
    "-username:bob",
    "NOT (type:ssh OR status:completed)",
    "type:ssh,vscode,workspace_app status:ongoing",
    "status:ongoing,completed",
    "type:workspace_app,jetbrains status:ongoing,completed",
    "workspace_owner:me OR username:alice,bo*",
    "workspace_owner:*_* OR workspace_owner:per%*",
    "workspace_owner_email:*ob@* -type:ssh",
    "user_email:mallory*,*@example.org",
    "dev OR gpu OR carol",
    '"ünï" OR "über"',
    "-dev -gent",
    "connected:>=-24h OR connected:<2025-06-20",
    "connected:-7d..-1d type:ssh",
    "connected:>-3h connected:<now",
    "organization:sandbox,research-lab -organization:acme",
    "(organization:coder workspace_owner:a*) OR (organization:acme -username:*)",
    "NOT (NOT (dev type:ssh) OR connected:>=-1w)",
]


def _mapping_proxy(log: ConnectionLog) -> Any:
    """A read-only mapping that is not a ``dict`` (takes the generic mapping path)."""
    return types.MappingProxyType(json.loads(log.model_dump_json()))


@pytest.mark.parametrize("text", EXTENDED_QUERIES)
def test_extended_queries_agree_with_the_oracle_on_every_record_form(text: str) -> None:
    query = parse(text, mode="extended", now=NOW)
    predicate = memory.compile(
        query,
        context=CompileContext(user_id=ALICE, now=NOW),
        users=EXTENDED_USERS,
        organizations=EXTENDED.organizations,
    )
    expected = set(oracle(EXTENDED, query, user_id=ALICE, now=NOW))
    assert expected, f"{text!r} selects nothing: the case would be vacuous"
    assert expected != {log.id for log in EXTENDED.logs}, f"{text!r} selects everything"
    for form in (
        lambda log: log,
        lambda log: json.loads(log.model_dump_json()),
        lambda log: log.model_dump(),
        _mapping_proxy,
    ):
        assert {log.id for log in EXTENDED_LOGS if predicate(form(log))} == expected


@settings(max_examples=60, deadline=None)
@given(scenario=extended_scenarios())
def test_property_extended_model_json_and_oracle_agree(
    scenario: tuple[DemoData, Query, uuid.UUID, int, int],
) -> None:
    data, query, caller, _, _ = scenario
    predicate = memory.compile(
        query,
        context=CompileContext(user_id=caller, now=NOW),
        users=data.users,
        organizations=data.organizations,
    )
    expected = set(oracle(data, query, user_id=caller, now=NOW))
    logs = data.connection_logs
    assert {log.id for log in logs if predicate(log)} == expected
    assert {log.id for log in logs if predicate(json.loads(log.model_dump_json()))} == expected


def test_negated_null_leaves_are_true() -> None:
    """Two-valued logic: ``username:bob`` is false (not unknown) on a row without a user."""
    negated = memory.compile(parse("-username:bob", mode="extended"), users=USERS)
    plain = memory.compile(parse("username:bob"), users=USERS)
    for log in LOGS:
        assert negated(log) is not plain(log)
    assert any(negated(log) for log in LOGS if log.web_info is None)
    never = memory.compile(parse("-username:nobody", mode="extended"), users=USERS)
    assert all(never(log) for log in LOGS)


def test_me_anywhere_needs_a_user_id() -> None:
    query = parse("type:ssh OR -username:me", mode="extended")
    with pytest.raises(QueryError) as info:
        memory.compile(query, users=USERS)
    assert [e.field for e in info.value.errors] == ["username"]


def test_organization_names_inside_where() -> None:
    query = parse("type:ssh OR organization:acme,sandbox", mode="extended")
    live = {DATA.organization("acme").id, DATA.organization("sandbox").id}
    by_table = memory.compile(query, organizations=DATA.organizations)
    assert {
        log.organization.id for log in LOGS if by_table(log) and log.type not in ("ssh", "zed")
    } == live
    by_name = memory.compile(query)  # no table: the record's own organization name
    assert {log.id for log in LOGS if by_name(log)} >= {log.id for log in LOGS if by_table(log)}
    with pytest.raises(QueryError) as info:
        memory.compile(
            parse("-organization:nope", mode="extended"), organizations=DATA.organizations
        )
    assert 'organization "nope" either does not exist' in info.value.errors[0].detail


def test_relative_times_use_the_context_clock() -> None:
    query = parse("connected:>=-24h", mode="extended")
    newest = max(log.connect_time for log in LOGS)
    at_newest = memory.compile(query, context=CompileContext(now=newest))
    assert {log.id for log in LOGS if at_newest(log)} == set(oracle(DATA, query, now=newest))
    assert any(at_newest(log) for log in LOGS)
    # Without a clock: the current time, long after every demo row.
    assert not any(memory.compile(query)(log) for log in LOGS)
    assert all(memory.compile(parse("connected:<now", mode="extended"))(log) for log in LOGS)


def test_without_tables_names_come_from_the_records() -> None:
    """The approximation the HTTP client relies on for residual filters: names, wildcards
    and free text read the record, with no deleted-user rule."""
    deleted_bob = EXTENDED.user("bob", deleted=True).id
    for text in ("workspace_owner:bo*", "bob", "-workspace_owner:alice,bo*"):
        query = parse(text, mode="extended")
        without = memory.compile(query)
        expected = {
            log.id
            for log in EXTENDED_LOGS
            if memory.compile(query, users=EXTENDED_USERS)(log)
            or log.workspace_owner_id == deleted_bob
        }
        if text.startswith("-"):
            expected = {
                log.id
                for log in EXTENDED_LOGS
                if memory.compile(query, users=EXTENDED_USERS)(log)
                and log.workspace_owner_id != deleted_bob
            }
        assert {log.id for log in EXTENDED_LOGS if without(log)} == expected
    with pytest.raises(ValueError, match="workspace_owner_email"):
        memory.compile(parse("type:ssh OR workspace_owner_email:a*", mode="extended"))


def test_wildcards_are_literal_but_for_the_star() -> None:
    table = memory.UserTable.of(EXTENDED.users)
    for pattern, names in {
        "per%*": {"per%cent"},
        "under_*": {"under_score"},
        "*_*": {"under_score"},  # gone_user is deleted
        "back\\*": {"back\\slash"},
        "bang!*": {"bang!x"},
        "star**": {"star*name"},
        "*.*": {"mixed.case"},
        "%*": set(),
        "_*": set(),
    }.items():
        predicate = memory.compile(
            parse(f"workspace_owner:{pattern}", mode="extended"), users=table
        )
        owners = {log.workspace_owner_username.lower() for log in EXTENDED_LOGS if predicate(log)}
        assert owners == names, pattern


def test_ascii_fold() -> None:
    assert memory.ascii_fold("Dev-Box ÜBER Ágent") == "dev-box Über Ágent"
    assert memory.ascii_fold("") == ""


# Shapes the compiler builds differently (see "How it is fast" in docs/memory.md): a single
# check is the predicate; a type or status check calls the rest of its AND (negated or not,
# one part or several); a negated type filter is its own check; ANDs and ORs of two, three
# and more parts, with negated parts, and with different orders for objects and mappings
# (a time bound next to id checks); free text whose owners are an id check of their own.
SHAPES = [
    "type:ssh",
    "-type:ssh",
    "status:ongoing",
    "-status:completed",
    "status:ongoing,completed",
    "-status:ongoing,completed",
    "type:ssh -username:bob",
    "-type:ssh,vscode -username:bob",
    "-type:ssh workspace_owner:me",
    "type:ssh,workspace_app workspace_owner:a*,bo*,c* connected:>=-7d",
    "status:ongoing workspace_owner:me",
    "status:completed -workspace_owner:alice",
    "type:ssh status:completed -workspace_owner:alice",
    "type:vscode,jetbrains status:ongoing workspace_owner:a*,b*,c* connected:<-1h",
    "-status:ongoing -type:workspace_app",
    "status:ongoing,completed -type:vscode dev",
    "type:ssh type:ssh,vscode",
    "NOT (type:ssh workspace_owner:bob)",
    "workspace_owner:alice connected:>=-14d",
    "workspace_owner:alice,bob connected:>=-14d -username:bob",
    "workspace_owner:a*,b* connected:>=-14d connected:<-1h username:*",
    "workspace_owner:a*,b*,c* connected:>=-14d username:* -dev",
    "dev OR username:alice",
    "dev OR gpu OR -type:ssh",
    "dev OR gent OR gpu OR username:alice",
    "workspace_owner:a* username:*",
    "workspace_owner:* username:* organization:coder",
    "workspace_owner:alice OR username:bob",
    "workspace_owner:alice OR -username:*",
    "workspace_owner:alice OR username:bob OR user_email:*@example.org",
    "workspace_owner:alice OR username:bob OR connected:<-3d",
    "workspace_owner:alice OR username:bob OR user_email:*@example.org OR organization:acme",
    "workspace_owner:alice OR -username:* OR -user_email:*@example.org OR organization:acme",
    "workspace_owner:* username:* organization:coder e",
    "workspace_owner:alice OR -username:* OR connected:<-3d OR gent",
    "-dev -gpu -carol",
    "(dev OR username:alice) (gpu OR -connected:<-7d)",
    "carol",
    "-carol",
    "ünï",
    "-workspace_owner:alice -workspace_owner:bob -username:* -connected:>=-1d",
]


class _Row:
    """A plain object with a ConnectionLog's attributes (the attribute path, not a model)."""

    def __init__(self, log: ConnectionLog) -> None:
        self.__dict__.update(dict(log))


class _DictSubclass(dict):  # type: ignore[type-arg]
    """A dict that is not ``dict`` itself (takes the generic mapping path)."""


_RECORD_FORMS: tuple[Callable[[ConnectionLog], Any], ...] = (
    lambda log: log,
    _Row,
    lambda log: json.loads(log.model_dump_json()),
    lambda log: log.model_dump(),
    lambda log: _DictSubclass(json.loads(log.model_dump_json())),
    _mapping_proxy,
)
"""Every kind of record a predicate reads: model, plain object, dicts, other mappings."""


@pytest.mark.parametrize("text", SHAPES)
@pytest.mark.parametrize("with_tables", [True, False])
def test_every_compiled_shape_agrees_on_every_record_form(text: str, with_tables: bool) -> None:
    query = parse(text, mode="extended", now=NOW)
    context = CompileContext(user_id=ALICE, now=NOW)
    if with_tables:
        predicate = memory.compile(
            query, context=context, users=EXTENDED_USERS, organizations=EXTENDED.organizations
        )
        expected = set(oracle(EXTENDED, query, user_id=ALICE, now=NOW))
        assert expected, f"{text!r} selects nothing: the case would be vacuous"
        assert expected != {log.id for log in EXTENDED_LOGS}, f"{text!r} selects everything"
    else:
        predicate = memory.compile(query, context=context)
        expected = {log.id for log in EXTENDED_LOGS if predicate(log)}
    for form in _RECORD_FORMS:
        answers = {log.id: predicate(form(log)) for log in EXTENDED_LOGS}
        assert all(type(answer) is bool for answer in answers.values())
        assert {log_id for log_id, answer in answers.items() if answer} == expected
    with pytest.raises(TypeError, match="ConnectionLog"):
        predicate(42)
    with pytest.raises(TypeError, match="ConnectionLog"):
        predicate(types.SimpleNamespace())


def _hosting_parts() -> list[tuple[str, memory._Part]]:
    """Every kind of check that can call the rest of an AND or an OR, by name."""
    sessions = frozenset({"ssh", "vscode", "zed"})
    twice = memory._not(memory._type_part(sessions, inside=False))
    assert isinstance(twice, memory._Part)
    parts = [
        ("type", memory._type_part(sessions)),
        ("not type", memory._type_part(sessions, inside=False)),
        ("not type, negated", twice),
        ("text", memory._text_part("dev", owner_name=False)),
        ("unicode text", memory._text_part("ünï", owner_name=False)),
    ]
    for status in ConnectionStatus:
        for inside in (True, False):
            parts.append((f"{status} {inside}", memory._status_part(sessions, inside, status)))
    return parts


def test_checks_that_call_the_rest_agree_with_the_plain_and_or() -> None:
    """``host((rest, flip))`` is ``test and ((not rest) is flip)``, ``host_or`` the same with
    ``or``, on every record form."""
    rests = [
        memory._text_check("gent", owner_name=True),
        memory._owner_check(frozenset({ALICE})),
        memory._between_check(NOW - dt.timedelta(days=7), NOW),
    ]
    forms = (
        lambda log: log,
        lambda log: json.loads(log.model_dump_json()),
        _mapping_proxy,
    )
    hosted_kinds = 0
    for name, part in _hosting_parts():
        for host, any_of in ((part.host, False), (part.host_or, True)):
            if host is None:
                continue
            hosted_kinds += 1
            for rest in rests:
                for flip in (False, True):
                    hosted = host((rest, flip))
                    for form in forms:
                        for log in EXTENDED_LOGS:
                            record = form(log)
                            tail = (not rest(record)) is flip
                            first = part.test(record)
                            want = (first or tail) if any_of else (first and tail)
                            assert hosted(record) is want, (name, any_of, flip)
    assert hosted_kinds == 12


def test_a_negated_type_check_is_a_check_of_its_own() -> None:
    part = memory._type_part(frozenset({"ssh", "zed"}))
    negated = memory._not(part)
    assert isinstance(negated, memory._Part)
    assert negated.positive
    assert negated.host is not None
    back = memory._not(negated)
    assert isinstance(back, memory._Part)
    for log in EXTENDED_LOGS:
        assert negated.test(log) is (not part.test(log))
        assert back.test(log) is part.test(log)


def _web_user_id(log: ConnectionLog) -> uuid.UUID | None:
    return log.web_info.user.id if log.web_info and log.web_info.user else None


@pytest.mark.parametrize(
    ("make", "value"),
    [
        (memory._owner_check, lambda log: log.workspace_owner_id),
        (lambda ids: memory._id_check(ids, "workspace_id"), lambda log: log.workspace_id),
        (memory._organization_check, lambda log: log.organization.id),
        (lambda ids: memory._id_check(ids, "organization.id"), lambda log: log.organization.id),
        (memory._user_check, _web_user_id),
    ],
)
def test_id_checks_of_one_and_several_ids_agree_on_every_record_form(
    make: Callable[[frozenset[uuid.UUID]], memory.Predicate],
    value: Callable[[ConnectionLog], uuid.UUID | None],
) -> None:
    """The id checks (specialized for one id, shared for the rest) read every record form."""
    present = sorted({v for log in EXTENDED_LOGS if (v := value(log)) is not None})
    assert len(present) >= 2
    for ids in (frozenset(present[:1]), frozenset(present[:2]), frozenset(present[-2:])):
        check = make(ids)
        for form in _RECORD_FORMS:
            for log in EXTENDED_LOGS:
                assert check(form(log)) is (value(log) in ids)
        with pytest.raises(TypeError, match="ConnectionLog"):
            check(42)
