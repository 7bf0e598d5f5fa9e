"""The hand-made dataset and query table shared by the SQL execution tests.

The dataset is small and built to hit every rule of reference section 7: a deleted user sharing
a username with a live one, mixed-case emails, rows without a connecting user, all seven filter
types plus app names (cursor, zed, code_server, sftp) and an unregistered one (emacs), ongoing,
completed and web events, ties in ``connect_time``, a deleted organization, and users whose
names and emails are SQL metacharacters.

``CASES`` holds each query's expected row numbers, written by hand from the reference. The test
in this module re-derives them with a deliberately naive evaluator of section 7.1, so a slip in
the hand-written table shows up here rather than as a backend "bug".
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from connlog_query import ME, Query
from connlog_query.apps import matching_types
from connlog_query.backends.context import CompileContext
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


def _log(spec: tuple[Any, ...]) -> dict[str, Any]:
    n, at, org, owner, ws, type_, user, disc = spec
    web = type_ in _WEB
    return {
        "id": lid(n),
        "connect_time": T0 + at,
        "organization_id": oid(org),
        "workspace_owner_id": uid(owner),
        "workspace_id": wid(ws),
        "workspace_name": f"ws{ws}",
        "agent_name": "main",
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
