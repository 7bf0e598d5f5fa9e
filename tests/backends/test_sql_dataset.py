"""The hand-made dataset and query table shared by the SQL execution tests.

The dataset is small and built to hit every rule of reference section 7: a deleted user sharing
a username with a live one, mixed-case emails, rows without a connecting user, all seven filter
types plus app names (cursor, zed, code_server, sftp) and an unregistered one (emacs), ongoing,
completed and web events, ties in ``connect_time``, a deleted organization, and users whose
names and emails are SQL metacharacters. Workspace and agent names mix case, hold LIKE and GLOB
metacharacters and a non-ASCII capital, for free text.

``CASES`` holds each Coder-mode query's expected row numbers, ``EXTENDED_CASES`` those of
extended queries, all written by hand from the reference and the extended semantics. The tests
in this module re-derive them with a deliberately naive evaluator (section 7.1 and the extended
AST, row by row, written without looking at any backend), so a slip in the hand-written tables
shows up here rather than as a backend "bug".
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from connlog_query import ME, Query, parse
from connlog_query.apps import matching_types
from connlog_query.backends.context import CompileContext
from connlog_query.expr import And, Filter, Not, Or, Text, TimeBound, Wildcard
from connlog_query.values import POINT_IN_TIME_TYPES, ConnectionStatus


def oid(n: int) -> uuid.UUID:
    """Organization id ``n``."""
    return uuid.UUID(f"0000000a-0000-4000-8000-{n:012x}")


def uid(n: int) -> uuid.UUID:
    """User id ``n``."""
    return uuid.UUID(f"0000000b-0000-4000-8000-{n:012x}")


def wid(n: int) -> uuid.UUID:
    """Workspace id ``n``."""
    return uuid.UUID(f"0000000c-0000-4000-8000-{n:012x}")


def cid(n: int) -> uuid.UUID:
    """Connection id ``n``."""
    return uuid.UUID(f"0000000d-0000-4000-8000-{n:012x}")


def lid(n: int) -> uuid.UUID:
    """Log row id ``n``; ids grow with ``n``, so ties in time sort by ``n`` descending."""
    return uuid.UUID(f"0000000e-0000-4000-8000-{n:012x}")


T0 = dt.datetime(2025, 7, 1, 12, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)
US = dt.timedelta(microseconds=1)

ORGS: list[dict[str, Any]] = [
    {"id": oid(1), "name": "acme", "display_name": "Acme", "icon": "", "deleted": False},
    {"id": oid(2), "name": "globex", "display_name": "Globex", "icon": "/i.png", "deleted": False},
    {"id": oid(3), "name": "oldco", "display_name": "Old Co", "icon": "", "deleted": True},
]

OBRIEN_EMAIL = "o'brien_100%\\@example.com"


def _user(n: int, username: str, email: str, *, deleted: bool = False) -> dict[str, Any]:
    return {
        "id": uid(n),
        "username": username,
        "email": email,
        "deleted": deleted,
        "name": username.title(),
        "created_at": T0 - 400 * H,
        "updated_at": T0 - 300 * H,
        "last_seen_at": None,
        "status": "active",
        "login_type": "password",
        "avatar_url": "",
    }


USERS: list[dict[str, Any]] = [
    _user(1, "alice", "alice@example.com"),
    _user(2, "Bob", "Bob@Example.com"),  # capitals: unreachable by any (lower-cased) email filter
    _user(3, "carol", "carol@example.com"),
    _user(4, "dave", "dave@old.example.com", deleted=True),  # deleted, same name as user 5
    _user(5, "DAVE", "dave@example.com"),
    _user(6, "erin", "erin@example.com", deleted=True),
    _user(7, "o'brien", OBRIEN_EMAIL),
    _user(8, "zoë", "zoë@exämple.com"),
]

# n, connect offset, org, owner, workspace, type, user, disconnect offset (None = open), conn id
_LOG_SPECS: list[tuple[int, dt.timedelta, int, int, int, str, int | None, dt.timedelta | None]] = [
    (1, 0 * H, 1, 1, 1, "ssh", None, 1 * H),
    (2, 1 * H, 1, 1, 1, "vscode", None, None),
    (3, 2 * H, 1, 1, 1, "cursor", None, 3 * H),
    (4, 2 * H, 1, 2, 2, "zed", None, None),
    (5, 3 * H, 1, 2, 2, "jetbrains", None, 4 * H),
    (6, 4 * H, 2, 2, 3, "reconnecting_pty", 2, None),
    (7, 5 * H, 2, 5, 4, "workspace_app", 5, None),
    (8, 5 * H, 2, 5, 4, "port_forwarding", None, None),
    (9, 6 * H, 2, 4, 5, "tunnel", 4, None),
    (10, 7 * H, 2, 4, 5, "ssh", None, 8 * H),
    (11, 8 * H, 1, 6, 6, "sftp", None, None),
    (12, 9 * H, 1, 1, 1, "workspace_app", 1, None),
    (13, 10 * H, 3, 3, 7, "windsurf", None, 11 * H),
    (14, 11 * H, 1, 3, 7, "workspace_app", 6, None),
    (15, 12 * H, 1, 1, 1, "vscode", None, 13 * H),
    (16, 12 * H, 1, 2, 2, "ssh", None, None),
    (17, 12 * H, 2, 5, 4, "port_forwarding", 2, None),
    (18, 13 * H, 1, 1, 1, "emacs", None, None),
    (19, 14 * H, 1, 2, 2, "reconnecting_pty", 1, 15 * H),
    (20, 15 * H, 2, 3, 7, "tunnel", 3, None),
    (21, 16 * H, 1, 1, 1, "code_server", None, None),
    (22, -24 * H, 1, 1, 1, "vscode", None, -23 * H),
    (23, -US, 1, 1, 1, "ssh", None, 0 * H),
    (24, 16 * H + US, 2, 5, 4, "ssh", 5, 17 * H),
    (25, 17 * H, 1, 7, 8, "reconnecting_pty", 7, None),
    (26, 18 * H, 2, 8, 9, "jetbrains", 8, 19 * H),
]

_WEB = {t.value for t in POINT_IN_TIME_TYPES}

# Workspace and agent names per workspace number (free text reads them).
WORKSPACE_NAMES = {
    1: "Dev-Box",
    2: "bob_ws",
    3: "100%done",
    4: "DAVE-prod",
    5: "legacy",
    6: "erin",
    7: "Carol's WS",
    8: "back\\slash[1]?",
    9: "ZOË-lab",
}
AGENT_NAMES = {3: "Term", 7: "dev", 9: "ÄGENT"}


def _log(spec: tuple[Any, ...]) -> dict[str, Any]:
    n, at, org, owner, ws, type_, user, disc = spec
    web = type_ in _WEB
    return {
        "id": lid(n),
        "connect_time": T0 + at,
        "organization_id": oid(org),
        "workspace_owner_id": uid(owner),
        "workspace_id": wid(ws),
        "workspace_name": WORKSPACE_NAMES[ws],
        "agent_name": AGENT_NAMES.get(ws, "main"),
        "type": type_,
        "code": 200 if web else (0 if disc is not None else None),
        "ip": f"10.0.0.{n}",
        "user_agent": "curl/8" if web else None,
        "user_id": uid(user) if user is not None else None,
        "slug_or_port": "8080" if web else None,
        "connection_id": None if web else cid(n),
        "disconnect_time": T0 + disc if disc is not None else None,
        "disconnect_reason": "closed" if disc is not None else None,
    }


LOGS: list[dict[str, Any]] = [_log(spec) for spec in _LOG_SPECS]
ALL = frozenset(range(1, len(LOGS) + 1))
CALLER = uid(1)  # "me" in the cases below is alice
ME_CONTEXT = CompileContext(user_id=CALLER)


@dataclass(frozen=True)
class Case:
    """One query and the row numbers it must return (in any order; the tests sort them)."""

    name: str
    query: Query
    expected: frozenset[int]
    context: CompileContext = field(default=ME_CONTEXT)
    exact_expected: frozenset[int] | None = None  # when type_mode="exact" differs


def case(
    name: str, expected: set[int] | frozenset[int], exact: set[int] | None = None, **kw: Any
) -> Case:
    """A :class:`Case` from Query keyword arguments."""
    return Case(
        name,
        Query(**kw),
        frozenset(expected),
        exact_expected=None if exact is None else frozenset(exact),
    )


CASES: list[Case] = [
    case("empty", set(ALL)),
    case(
        "org_id", {1, 2, 3, 4, 5, 11, 12, 14, 15, 16, 18, 19, 21, 22, 23, 25}, organization=oid(1)
    ),
    case("org_name", {6, 7, 8, 9, 10, 17, 20, 24, 26}, organization="globex"),
    case("org_name_mixed_case", {6, 7, 8, 9, 10, 17, 20, 24, 26}, organization="GloBex"),
    case("org_deleted_name", set(), organization="oldco"),
    case("org_deleted_id", {13}, organization=oid(3)),
    case("org_unknown_name", set(), organization="initech"),
    case("owner_name", {1, 2, 3, 12, 15, 18, 21, 22, 23}, workspace_owner="alice"),
    case("owner_name_case", {4, 5, 6, 16, 19}, workspace_owner="BOB"),
    case("owner_live_not_deleted", {7, 8, 17, 24}, workspace_owner="dave"),
    case("owner_deleted_only", set(), workspace_owner="erin"),
    case("owner_unknown", set(), workspace_owner="mallory"),
    case("owner_me", {1, 2, 3, 12, 15, 18, 21, 22, 23}, workspace_owner=ME),
    case("owner_email", {13, 14, 20}, workspace_owner_email="carol@example.com"),
    case("owner_email_capitals", set(), workspace_owner_email="bob@example.com"),
    case("owner_email_deleted", set(), workspace_owner_email="erin@example.com"),
    case("type_ssh", {1, 4, 10, 16, 23, 24}, exact={1, 10, 16, 23, 24}, type="ssh"),
    case("type_vscode", {2, 3, 13, 15, 21, 22}, exact={2, 15, 22}, type="vscode"),
    case("type_jetbrains", {5, 26}, type="jetbrains"),
    case("type_pty", {6, 19, 25}, type="reconnecting_pty"),
    case("type_app", {7, 12, 14}, type="workspace_app"),
    case("type_port", {8, 17}, type="port_forwarding"),
    case("type_tunnel", {9, 20}, type="tunnel"),
    case("username", {6, 17}, username="bob"),
    case("username_deleted_twin", {7, 24}, username="dave"),
    case("username_deleted_only", set(), username="erin"),
    case("username_me", {12, 19}, username=ME),
    case("user_email", {20}, user_email="carol@example.com"),
    case("user_email_deleted_user", {14}, user_email="erin@example.com"),
    case("user_email_capitals", set(), user_email="bob@example.com"),
    case(
        "after_inclusive",
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 24, 25, 26},
        connected_after=T0,
    ),
    case("before_inclusive", {1, 22, 23}, connected_before=T0),
    case("between", {15, 16, 17, 18}, connected_after=T0 + 12 * H, connected_before=T0 + 13 * H),
    case("after_gt_before", set(), connected_after=T0 + H, connected_before=T0),
    case("workspace_id", {6}, workspace_id=wid(3)),
    case("connection_id", {5}, connection_id=cid(5)),
    case("ongoing", {2, 4, 6, 11, 16, 18, 21, 25}, status="ongoing"),
    case("completed", {1, 3, 5, 10, 13, 15, 19, 22, 23, 24, 26}, status="completed"),
    case("ongoing_web_type", set(), type="tunnel", status="ongoing"),
    case(
        "combo_me_vscode_done",
        {3, 15, 22},
        workspace_owner=ME,
        type="vscode",
        status="completed",
        exact={15, 22},
    ),
    case(
        "combo_org_owner_after",
        {4, 5, 16, 19},
        organization="acme",
        workspace_owner="bob",
        connected_after=T0 + 2 * H,
    ),
    case("combo_user_and_owner", {19}, username=ME, workspace_owner="bob"),
    case("unicode_owner", {26}, workspace_owner="zoë"),
    case("unicode_email", {26}, user_email="zoë@exämple.com"),
    case("quote_owner", {25}, workspace_owner="o'brien"),
    case("metachar_email", {25}, user_email=OBRIEN_EMAIL),
]


def expected_for(c: Case, type_mode: str) -> frozenset[int]:
    """The expected rows of ``c`` under a schema ``type_mode``."""
    if type_mode == "exact" and c.exact_expected is not None:
        return c.exact_expected
    return c.expected


def ordered(numbers: frozenset[int] | set[int]) -> list[uuid.UUID]:
    """Row ids in Coder's order with our tie-breaker: connect_time desc, id desc."""
    rows = [LOGS[n - 1] for n in numbers]
    rows.sort(key=lambda r: (r["connect_time"], r["id"]), reverse=True)
    return [r["id"] for r in rows]


def _naive(q: Query, type_mode: str) -> frozenset[int]:
    """Reference 7.1 applied row by row, as literally as possible (the test oracle)."""
    users, orgs = {u["id"]: u for u in USERS}, ORGS
    live = [u for u in USERS if not u["deleted"]]

    def ids_named(name: str) -> set[uuid.UUID]:
        return {u["id"] for u in live if u["username"].lower() == name.lower()}

    out = set()
    for n, r in enumerate(LOGS, start=1):
        ok = True
        if isinstance(q.organization, uuid.UUID):
            ok &= r["organization_id"] == q.organization
        elif q.organization is not None:
            ok &= any(
                o["id"] == r["organization_id"]
                and not o["deleted"]
                and o["name"].lower() == q.organization.lower()
                for o in orgs
            )
        if q.workspace_owner is ME:
            ok &= r["workspace_owner_id"] == CALLER
        elif q.workspace_owner is not None:
            ok &= r["workspace_owner_id"] in ids_named(q.workspace_owner)
        if q.workspace_owner_email is not None:
            ok &= r["workspace_owner_id"] in {
                u["id"] for u in live if u["email"] == q.workspace_owner_email
            }
        if q.type is not None:
            types = (q.type.value,) if type_mode == "exact" else matching_types(q.type)
            ok &= r["type"] in types
        if q.username is ME:
            ok &= r["user_id"] == CALLER
        elif q.username is not None:
            ok &= r["user_id"] in ids_named(q.username)
        if q.user_email is not None:
            user = users.get(r["user_id"])
            ok &= user is not None and user["email"] == q.user_email
        if q.connected_after is not None:
            ok &= r["connect_time"] >= q.connected_after
        if q.connected_before is not None:
            ok &= r["connect_time"] <= q.connected_before
        if q.workspace_id is not None:
            ok &= r["workspace_id"] == q.workspace_id
        if q.connection_id is not None:
            ok &= r["connection_id"] == q.connection_id
        if q.status is not None:
            done = r["disconnect_time"] is not None
            ok &= done == (q.status is ConnectionStatus.COMPLETED) and r["type"] not in _WEB
        if ok:
            out.add(n)
    return frozenset(out)


@pytest.mark.parametrize("type_mode", ["family", "exact"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_hand_written_expectations_follow_the_reference(c: Case, type_mode: str) -> None:
    assert _naive(c.query, type_mode) == expected_for(c, type_mode)


def test_dataset_covers_what_the_cases_need() -> None:
    types = {r["type"] for r in LOGS}
    assert {t for t in types if t in _WEB} == _WEB
    assert {"ssh", "vscode", "jetbrains", "reconnecting_pty", "cursor", "zed", "sftp"} <= types
    times = [r["connect_time"] for r in LOGS]
    assert len(set(times)) < len(times)  # ties exist
    assert any(r["user_id"] is None for r in LOGS)
    assert len({c.name for c in CASES}) == len(CASES) >= 30


# --- extended queries ----------------------------------------------------------------------

NOW = T0 + 12 * H
"""The injected clock of every extended case (relative times resolve against it)."""
NOW_CONTEXT = CompileContext(user_id=CALLER, now=NOW)
WEB_ROWS = frozenset({7, 8, 9, 12, 14, 17, 20})
DEV_ROWS = frozenset({1, 2, 3, 12, 13, 14, 15, 18, 20, 21, 22, 23})


def but(*numbers: int) -> set[int]:
    """Every row except ``numbers``."""
    return set(ALL - set(numbers))


def xcase(
    name: str,
    query: str | Query,
    expected: set[int] | frozenset[int],
    exact: set[int] | None = None,
    context: CompileContext = NOW_CONTEXT,
) -> Case:
    """A :class:`Case` from extended query text (or a ready ``Query``), judged at :data:`NOW`."""
    q = parse(query, mode="extended") if isinstance(query, str) else query
    return Case(
        name,
        q,
        frozenset(expected),
        context=context,
        exact_expected=None if exact is None else frozenset(exact),
    )


def where(node: Any) -> Query:
    """A query that is only the extended expression ``node`` (for values the grammar spells
    awkwardly)."""
    return Query(where=node)


def wild(key: str, *patterns: str) -> Query:
    """``key`` matching any of ``patterns`` as wildcards."""
    return where(Filter(key=key, values=tuple(Wildcard(pattern=p) for p in patterns)))


ALICE_ROWS = {1, 2, 3, 12, 15, 18, 21, 22, 23}
EXTENDED_CASES: list[Case] = [
    # value lists
    xcase(
        "list_types", "type:ssh,tunnel", {1, 4, 9, 10, 16, 20, 23, 24}, {1, 9, 10, 16, 20, 23, 24}
    ),
    xcase("list_status_both", "status:ongoing,completed", but(*WEB_ROWS)),
    xcase("list_workspaces", f"workspace_id:{wid(3)},{wid(5)}", {6, 9, 10}),
    xcase("list_connections_web_none", f"connection_id:{cid(1)},{cid(7)}", {1}),
    xcase("list_org_names", "organization:acme,globex", but(13)),
    xcase("list_org_deleted_name", "organization:oldco,globex", {6, 7, 8, 9, 10, 17, 20, 24, 26}),
    xcase("list_org_mixed", f"organization:{oid(3)},globex", {6, 7, 8, 9, 10, 13, 17, 20, 24, 26}),
    xcase("list_usernames", "username:bob,dave,erin", {6, 7, 17, 24}),
    xcase("list_username_me", "username:b*,me", {6, 12, 17, 19}),
    xcase("list_user_emails", "user_email:erin@example.com,carol@example.com", {14, 20}),
    xcase(
        "list_owner_emails",
        "workspace_owner_email:carol@example.com,dave@example.com",
        {7, 8, 13, 14, 17, 20, 24},
    ),
    xcase("list_owner_me_and_name", "workspace_owner:me,zoë", ALICE_ROWS | {26}),
    # wildcards on names: live users, case-insensitive
    xcase("wild_owner_prefix", "workspace_owner:b*", {4, 5, 6, 16, 19}),
    xcase("wild_owner_live_only", "workspace_owner:d*", {7, 8, 17, 24}),
    xcase("wild_owner_infix", "workspace_owner:*e*", ALICE_ROWS | {7, 8, 17, 24, 25}),
    xcase("wild_owner_quote", "workspace_owner:o'*", {25}),
    xcase("wild_owner_unicode", "workspace_owner:zo*", {26}),
    xcase("wild_owner_deleted_only", "workspace_owner:e*", set()),
    xcase("wild_username", "username:*a*", {7, 12, 19, 20, 24}),
    xcase("wild_username_any", "username:*", {6, 7, 12, 17, 19, 20, 24, 25, 26}),
    # wildcards on emails: case-sensitive, any user for the connecting user
    xcase("wild_user_email_domain", "user_email:*@example.com", {7, 12, 14, 19, 20, 24, 25}),
    xcase("wild_user_email_suffix", "user_email:*example.com", {7, 9, 12, 14, 19, 20, 24, 25}),
    xcase("wild_user_email_capitals", "user_email:bob@*", set()),
    xcase("wild_user_email_unicode", "user_email:*@e*.com", {7, 12, 14, 19, 20, 24, 25, 26}),
    xcase(
        "wild_owner_email_live",
        "workspace_owner_email:*@example.com",
        ALICE_ROWS | {7, 8, 13, 14, 17, 20, 24, 25},
    ),
    xcase("wild_owner_email_capitals", "workspace_owner_email:bob*", set()),
    xcase("wild_metachars_literal", wild("user_email", "o'brien_100%\\@*"), {25}),
    xcase("wild_percent_is_literal", wild("user_email", "o'brien%100*"), set()),
    xcase("wild_underscore_is_literal", wild("user_email", "o'brien_1__*"), set()),
    xcase("wild_question_is_literal", wild("user_email", "o'brien?100*"), set()),
    xcase("wild_bracket_is_literal", wild("user_email", "o'brien[*"), set()),
    xcase("wild_escape_char_literal", wild("user_email", "o'brien!*"), set()),
    xcase("wild_backslash", wild("user_email", "*\\@*"), {25}),
    xcase("wild_star_covers_metachars", wild("user_email", "o'brien*100*@*"), {25}),
    # free text: workspace name, agent name, owner's username (deleted or not); ASCII folding
    xcase("text_name", "box", ALICE_ROWS),
    xcase("text_name_or_agent", "DEV", DEV_ROWS),
    xcase("text_percent", "%", {6}),
    xcase("text_underscore", "_", {4, 5, 16, 19}),
    xcase("text_quote", "'", {13, 14, 20, 25}),
    xcase("text_backslash_glob_chars", where(Text(text="\\slash[1]?")), {25}),
    xcase("text_owner_deleted_too", "dave", {7, 8, 9, 10, 17, 24}),
    xcase("text_phrase", '"carol\'s ws"', {13, 14, 20}),
    xcase("text_two_words", "ws", {4, 5, 13, 14, 16, 19, 20}),
    xcase("text_agent", "main", but(6, 13, 14, 20, 26)),
    xcase("text_ascii_fold_only", where(Text(text="ë-lab")), set()),
    xcase("text_ascii_part", where(Text(text="-lab")), {26}),
    xcase("text_agent_non_ascii_capital", "ägent", set()),
    xcase("text_agent_ascii_part", "gent", {26}),
    xcase("text_owner_unicode", "zoë", {26}),
    xcase("text_nothing", "xyz", set()),
    # negation: two-valued, NULL-able leaves count as false
    xcase("not_username", "-username:bob", but(6, 17)),
    xcase("not_username_me", "-username:me", but(12, 19)),
    xcase("not_username_deleted_only", "-username:erin", set(ALL)),
    xcase("not_user_email", "-user_email:erin@example.com", but(14)),
    xcase("not_owner_live_twin", "-workspace_owner:dave", but(7, 8, 17, 24)),
    xcase("not_owner_unknown", "-workspace_owner:mallory", set(ALL)),
    xcase("not_owner_email", "-workspace_owner_email:carol@example.com", but(13, 14, 20)),
    xcase("not_org_name", "-organization:acme", {6, 7, 8, 9, 10, 13, 17, 20, 24, 26}),
    xcase("not_org_deleted_name", "-organization:oldco", set(ALL)),
    xcase("not_connection_id", f"-connection_id:{cid(5)}", but(5)),
    xcase("not_type", "-type:ssh", but(1, 4, 10, 16, 23, 24), but(1, 10, 16, 23, 24)),
    xcase("not_status", "-status:ongoing", but(2, 4, 6, 11, 16, 18, 21, 25)),
    xcase("not_wild_email", "NOT user_email:*@example.com", but(7, 12, 14, 19, 20, 24, 25)),
    xcase("not_wild_username_any", "-username:*", but(6, 7, 12, 17, 19, 20, 24, 25, 26)),
    xcase("not_text", "-dev", but(*DEV_ROWS)),
    xcase("not_or", "NOT (username:bob OR username:me)", but(6, 12, 17, 19)),
    xcase("not_and", "NOT (type:ssh status:ongoing)", but(4, 16), but(16)),
    xcase("not_not", "NOT NOT username:bob", {6, 17}),
    # OR of different keys, groups
    xcase(
        "or_type_user",
        "type:ssh OR username:me",
        {1, 4, 10, 12, 16, 19, 23, 24},
        {1, 10, 12, 16, 19, 23, 24},
    ),
    xcase(
        "or_owner_email",
        "workspace_owner:bob OR user_email:carol@example.com",
        {4, 5, 6, 16, 19, 20},
    ),
    xcase(
        "or_org_status",
        "organization:globex OR status:ongoing",
        {2, 4, 6, 7, 8, 9, 10, 11, 16, 17, 18, 20, 21, 24, 25, 26},
    ),
    xcase(
        "group_types_completed",
        "(type:vscode OR type:jetbrains) status:completed",
        {3, 5, 13, 15, 22, 26},
        {5, 15, 22, 26},
    ),
    xcase(
        "nested_owner_time",
        "(workspace_owner:alice OR workspace_owner:bob) -type:ssh connected:>=-6h",
        {12, 15, 18, 19, 21},
    ),
    xcase("nested_not_text_or_type", "NOT (dev OR type:tunnel)", but(*DEV_ROWS, 9)),
    xcase("text_and", "dev main", ALICE_ROWS),
    xcase("text_or", "dev OR %", DEV_ROWS | {6}),
    xcase("me_or_no_live_user", "username:me OR -username:*", but(6, 7, 17, 20, 24, 25, 26)),
    # time: relative to the injected clock, dates, strict bounds
    xcase("rel_last_hour", "connected:>=-1h", {14, 15, 16, 17, 18, 19, 20, 21, 24, 25, 26}),
    xcase("rel_strict", "connected:>-1h", {15, 16, 17, 18, 19, 20, 21, 24, 25, 26}),
    xcase("rel_range", "connected:-3h..now", {12, 13, 14, 15, 16, 17}),
    xcase("rel_before_now", "connected:<now", but(15, 16, 17, 18, 19, 20, 21, 24, 25, 26)),
    xcase("rel_days", "connected_after:-1d", but(22)),
    xcase("rel_not", "NOT connected:>=-1h", but(14, 15, 16, 17, 18, 19, 20, 21, 24, 25, 26)),
    xcase("date_whole_day", "connected:2025-07-02", {15, 16, 17, 18, 19, 20, 21, 24, 25, 26}),
    xcase("date_before_end_of_day", "connected_before:2025-06-30", {22}),
]


def _matches(pattern: str, text: str) -> bool:
    """Wildcard match written as a regular expression, independently of ``Wildcard.matches``."""
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _naive_value(key: str, value: Any, r: dict[str, Any], type_mode: str) -> bool:
    """One value of one filter against one row, as reference 7.1 says (two-valued)."""
    by_id = {u["id"]: u for u in USERS}
    live = [u for u in USERS if not u["deleted"]]
    if key == "organization":
        if isinstance(value, uuid.UUID):
            return bool(r["organization_id"] == value)
        return any(
            o["id"] == r["organization_id"] and not o["deleted"] and o["name"].lower() == value
            for o in ORGS
        )
    if key in ("workspace_owner", "username"):
        column = r["workspace_owner_id" if key == "workspace_owner" else "user_id"]
        if value is ME:
            return bool(column == CALLER)
        if isinstance(value, Wildcard):
            return any(
                u["id"] == column and _matches(value.pattern, u["username"].lower()) for u in live
            )
        named = sorted(u["id"] for u in live if u["username"].lower() == value)
        return bool(named) and column == named[0]
    if key == "workspace_owner_email":
        if isinstance(value, Wildcard):
            return any(
                u["id"] == r["workspace_owner_id"] and _matches(value.pattern, u["email"])
                for u in live
            )
        return any(u["id"] == r["workspace_owner_id"] and u["email"] == value for u in live)
    if key == "user_email":
        user = by_id.get(r["user_id"])
        if user is None:
            return False
        if isinstance(value, Wildcard):
            return _matches(value.pattern, user["email"])
        return bool(user["email"] == value)
    if key == "type":
        types = (value.value,) if type_mode == "exact" else matching_types(value)
        return r["type"] in types
    if key == "workspace_id":
        return bool(r["workspace_id"] == value)
    if key == "connection_id":
        return bool(r["connection_id"] == value)
    assert key == "status"
    done = r["disconnect_time"] is not None
    return done == (value is ConnectionStatus.COMPLETED) and r["type"] not in _WEB


def naive_expression(node: Any, r: dict[str, Any], type_mode: str, now: dt.datetime) -> bool:
    """The extended AST evaluated on one row: Python's two-valued logic throughout."""
    if isinstance(node, Filter):
        return any(_naive_value(node.key, v, r, type_mode) for v in node.values)
    if isinstance(node, TimeBound):
        return node.test(r["connect_time"], now)
    if isinstance(node, Text):
        owner = next(u for u in USERS if u["id"] == r["workspace_owner_id"])
        names = (r["workspace_name"], r["agent_name"], owner["username"])
        return any(node.text in name.translate(_ASCII_FOLD) for name in names)
    if isinstance(node, Not):
        return not naive_expression(node.item, r, type_mode, now)
    if isinstance(node, And):
        return all(naive_expression(i, r, type_mode, now) for i in node.items)
    assert isinstance(node, Or)
    return any(naive_expression(i, r, type_mode, now) for i in node.items)


def naive_rows(q: Query, type_mode: str, now: dt.datetime = NOW) -> frozenset[int]:
    """Row numbers the extended evaluator selects for ``q``."""
    expression = q.expression()
    return frozenset(
        n
        for n, r in enumerate(LOGS, start=1)
        if expression is None or naive_expression(expression, r, type_mode, now)
    )


@pytest.mark.parametrize("type_mode", ["family", "exact"])
@pytest.mark.parametrize("c", EXTENDED_CASES, ids=lambda c: c.name)
def test_extended_expectations_follow_the_semantics(c: Case, type_mode: str) -> None:
    assert naive_rows(c.query, type_mode) == expected_for(c, type_mode)


@pytest.mark.parametrize("type_mode", ["family", "exact"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_both_evaluators_agree_on_coder_cases(c: Case, type_mode: str) -> None:
    assert naive_rows(c.query, type_mode) == _naive(c.query, type_mode)


def test_extended_cases_are_extended_and_cover_every_node() -> None:
    assert len({c.name for c in EXTENDED_CASES}) == len(EXTENDED_CASES) >= 40
    # A few normalize to Coder's own syntax (NOT NOT x, absolute dates); the rest need `where`.
    assert sum(c.query.where is not None for c in EXTENDED_CASES) >= 40
    kinds = set()

    def walk(node: Any) -> None:
        kinds.add(type(node).__name__)
        for child in getattr(node, "items", ()) or ((node.item,) if isinstance(node, Not) else ()):
            walk(child)
        if isinstance(node, Filter):
            kinds.update(type(v).__name__ for v in node.values)
        if isinstance(node, TimeBound):
            kinds.add(type(node.at).__name__)

    for c in EXTENDED_CASES:
        walk(c.query.expression())
    assert {"Filter", "Wildcard", "Text", "TimeBound", "RelativeTime", "Not", "And", "Or"} <= kinds
