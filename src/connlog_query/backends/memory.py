"""The in-memory backend: a :class:`~connlog_query.query.Query` as a predicate over log records.

``compile(query, users=..., context=...)`` returns ``predicate(record) -> bool`` that gives the
same answer as Coder's SQL (reference 7.1 and 7.6) for one connection-log record, for Coder-mode
and extended queries alike (the whole query is compiled from :meth:`Query.expression`). A record
is either a :class:`~connlog_query.models.ConnectionLog` (or any object with the same attributes)
or a mapping of the same JSON shape, with values as Python objects (``model_dump()``) or as JSON
text (``json.loads`` of Coder's response).

How a record maps to the ``connection_logs`` columns the filters read:

==========================  =====================================================================
column                      read from the record
==========================  =====================================================================
``organization_id``         ``organization.id``
``workspace_owner_id``      ``workspace_owner_id``
``workspace_id``            ``workspace_id``
``workspace_name``          ``workspace_name`` (free text)
``agent_name``              ``agent_name`` (free text)
``type``                    ``type`` (the stored value: an app name or a web type)
``user_id``                 ``web_info.user.id``; ``NULL`` when there is no ``web_info`` or its
                            ``user`` is ``null``. Coder's JSON carries no user for sessions,
                            which matches Coder's table: agent-reported sessions (SSH, IDEs,
                            web terminal) have no ``user_id``.
``connection_id``           ``ssh_info.connection_id``; ``NULL`` for web events (Coder's JSON has
                            none for them) and for the all-zero UUID (Go's zero value).
``connect_time``            ``connect_time`` (aware datetime, or RFC 3339 text)
``disconnect_time``         ``ssh_info.disconnect_time``; ``NULL`` when absent
==========================  =====================================================================

Name and email filters need the users table, because Coder looks people up there and skips
soft-deleted users (a deleted ``bob`` must not match ``workspace_owner:bob`` although the row's
``workspace_owner_username`` is ``bob``). Pass it as ``users=`` (a :class:`UserTable`, or any
iterable of objects or mappings with ``id``, ``username``, ``email`` and optionally ``deleted``).
The look-ups (exact names, wildcards, free text on owner names) run once, at compile time, and
leave sets of user ids; the predicate itself only reads the record and tests set membership.
Without a users table, name filters, wildcards and free text fall back to the names embedded in
the record (no deleted-user rule) and ``workspace_owner_email`` cannot be evaluated
(``ValueError``).

Organization names resolve through ``context.organization_resolver`` (Coder's error when not
found); failing that through ``organizations=`` (non-deleted, case-insensitive); failing that
by the record's own ``organization.name`` (case-insensitive, no deleted-organization rule).

Logic is two-valued, like the SQL backends' ``IS NOT TRUE`` negation: a leaf that SQL would
evaluate to ``NULL`` (``username:bob`` on a row without a connecting user) is false, so its
negation is true. Relative times (``-24h``, ``now``) are made absolute once, at compile time,
with ``context.now`` (the current UTC time when it is ``None``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from ..apps import matching_types
from ..expr import And, Filter, Not, Or, Text, TimeBound, Wildcard
from ..gocompat import go_lower
from ..gotime import parse_rfc3339nano
from ..query import Query
from ..values import ME, POINT_IN_TIME_TYPES, ConnectionStatus, ConnectionType
from .context import CompileContext, resolve

__all__ = [
    "Predicate",
    "TypeMode",
    "UserRow",
    "UserTable",
    "ascii_fold",
    "compile",
    "organization_resolver",
]

Predicate = Callable[[Any], bool]
"""``predicate(record) -> bool``: whether the record matches the compiled query."""

TypeMode = Literal["exact", "family"]
"""``exact``: ``type`` equals the filter value (Coder V1); ``family``: V2 family expansion."""

_POINT_IN_TIME = frozenset(t.value for t in POINT_IN_TIME_TYPES)
_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_FOLD = str.maketrans(_ASCII_UPPER, _ASCII_UPPER.lower())


def ascii_fold(text: str) -> str:
    """``text`` with ASCII letters lower-cased and every other character kept.

    Free text folds case this way on every backend (SQLite's ``lower()`` only knows ASCII), so
    ``dev`` finds ``Dev-Box`` while ``über`` does not find ``ÜBER``.
    """
    return text.lower() if text.isascii() else text.translate(_ASCII_FOLD)


def _field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _to_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class UserRow(NamedTuple):
    """One user as the look-ups need it."""

    id: uuid.UUID
    username: str
    email: str
    deleted: bool


@dataclass(frozen=True)
class UserTable:
    """The users table, indexed for the look-ups Coder's filters make.

    Build it once with :meth:`of` and reuse it for many compilations.

    Attributes:
        live_by_username: lower-cased username -> the id of the non-deleted user with it (the
            smallest id, should several share it).
        live_by_email: exact email -> the id of the non-deleted user with it (likewise).
        all_by_email: exact email -> ids of every user with it (deleted ones included).
        rows: every user (for wildcards and free text, which scan the table at compile time).
    """

    live_by_username: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    live_by_email: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    all_by_email: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    rows: tuple[UserRow, ...] = ()

    @classmethod
    def of(cls, users: UserTable | Iterable[Any] | Mapping[Any, Any]) -> UserTable:
        """Index ``users``: objects or mappings with ``id``, ``username``, ``email``, ``deleted``.

        A mapping is read as ``{id: user}`` (its values are the users). ``deleted`` defaults to
        false (Coder's ``User`` JSON has no such field: every user it returns is live).
        """
        if isinstance(users, UserTable):
            return users
        records = users.values() if isinstance(users, Mapping) else users
        rows = tuple(
            UserRow(
                _to_uuid(_field(user, "id")),
                str(_field(user, "username", "")),
                str(_field(user, "email", "")),
                bool(_field(user, "deleted", False)),
            )
            for user in records
        )
        by_name: dict[str, set[uuid.UUID]] = {}
        live_email: dict[str, set[uuid.UUID]] = {}
        all_email: dict[str, set[uuid.UUID]] = {}
        for row in rows:
            all_email.setdefault(row.email, set()).add(row.id)
            if row.deleted:
                continue
            by_name.setdefault(go_lower(row.username), set()).add(row.id)
            live_email.setdefault(row.email, set()).add(row.id)

        def freeze(d: dict[str, set[uuid.UUID]]) -> dict[str, frozenset[uuid.UUID]]:
            return {k: frozenset(v) for k, v in d.items()}

        def smallest(d: dict[str, set[uuid.UUID]]) -> dict[str, frozenset[uuid.UUID]]:
            # Coder's scalar look-up relies on unique indexes for one live match; where data
            # breaks them, the SQL backend takes the smallest id, and so do we.
            return {k: frozenset((min(v),)) for k, v in d.items()}

        return cls(smallest(by_name), smallest(live_email), freeze(all_email), rows)

    def ids_where(self, test: Callable[[UserRow], bool], *, live: bool) -> frozenset[uuid.UUID]:
        """Ids of the users (only non-deleted ones when ``live``) for which ``test`` holds."""
        return frozenset(u.id for u in self.rows if not (live and u.deleted) and test(u))


def organization_resolver(organizations: Iterable[Any]) -> Callable[[str], uuid.UUID | None]:
    """A resolver over an organizations table (objects or mappings with ``id``, ``name``,
    optionally ``deleted``): non-deleted, case-insensitive, as Coder looks names up."""
    live: dict[str, uuid.UUID] = {}
    for org in organizations:
        if not _field(org, "deleted", False):
            name, org_id = go_lower(str(_field(org, "name", ""))), _to_uuid(_field(org, "id"))
            live[name] = min(org_id, live.get(name, org_id))  # smallest id, as the SQL does
    return lambda name: live.get(go_lower(name))


# --- value readers for mapping records (JSON text or Python objects) -------------------------


def _uuid_keys(ids: Iterable[uuid.UUID]) -> frozenset[Any]:
    """Every form a UUID may take in a record: the object and its text in either case."""
    keys: set[Any] = set()
    for uid in ids:
        keys.update((uid, str(uid), str(uid).upper()))
    return frozenset(keys)


def _time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    text = str(value)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        # Go writes up to nine fraction digits, which fromisoformat rejects before Python 3.11.
        parsed = parse_rfc3339nano(text)
        if parsed is None:
            raise ValueError(f"connect_time is not an RFC 3339 time: {text!r}") from None
        return parsed


def _matcher(exact: Iterable[str], wildcards: Iterable[Wildcard]) -> Callable[[str], bool]:
    """A test for "equals one of ``exact`` or matches one of ``wildcards``" on a string.

    The wildcards become one anchored regular expression (``*`` = ``.*``, everything else
    escaped, ``.`` matching new lines too), so a record costs one C-level match.
    """
    names = frozenset(exact)
    patterns = sorted({w.pattern for w in wildcards})
    if not patterns:
        return names.__contains__
    alternatives = "|".join(
        "(?:" + ".*".join(re.escape(part) for part in p.split("*")) + ")" for p in patterns
    )
    fullmatch = re.compile(alternatives, re.DOTALL).fullmatch
    if not names:
        return lambda text: fullmatch(text) is not None
    return lambda text: text in names or fullmatch(text) is not None


# --- checks: each factory returns (test for attribute records, test for mapping records) -----

_Check = tuple[Predicate, Predicate]


def _organization_check(ids: frozenset[uuid.UUID]) -> _Check:
    keys = _uuid_keys(ids)
    if len(ids) == 1:
        (only,) = ids
        return (
            lambda r: r.organization.id == only,
            lambda r: r["organization"]["id"] in keys,
        )
    return (
        lambda r: r.organization.id in ids,
        lambda r: r["organization"]["id"] in keys,
    )


def _organization_name_check(names: frozenset[str]) -> _Check:
    return (
        lambda r: go_lower(r.organization.name) in names,
        lambda r: go_lower(r["organization"]["name"]) in names,
    )


def _owner_check(ids: frozenset[uuid.UUID]) -> _Check:
    keys = _uuid_keys(ids)
    # One id (the usual case) compares with ==; a set would hash the UUID in Python code.
    if len(ids) == 1:
        (only,) = ids
        return (
            lambda r: r.workspace_owner_id == only,
            lambda r: r["workspace_owner_id"] in keys,
        )
    return (
        lambda r: r.workspace_owner_id in ids,
        lambda r: r["workspace_owner_id"] in keys,
    )


def _owner_name_check(match: Callable[[str], bool]) -> _Check:
    """Fallback without a users table: the owner's name embedded in the record."""
    return (
        lambda r: match(go_lower(r.workspace_owner_username)),
        lambda r: match(go_lower(r["workspace_owner_username"])),
    )


def _type_check(types: frozenset[str]) -> _Check:
    return (lambda r: r.type in types, lambda r: r["type"] in types)


def _user_check(ids: frozenset[uuid.UUID]) -> _Check:
    keys = _uuid_keys(ids)
    # One id (the usual case) compares with ==; a set would hash the UUID in Python code.
    only = next(iter(ids)) if len(ids) == 1 else None

    def attr(r: Any) -> bool:
        web = r.web_info
        if web is None or web.user is None:
            return False
        return bool(web.user.id == only) if only is not None else web.user.id in ids

    def item(r: Any) -> bool:
        web = r.get("web_info")
        if not web:
            return False
        user = web.get("user")
        return user is not None and user["id"] in keys

    return attr, item


def _user_field_check(name: str, match: Callable[[str], bool], *, lower: bool) -> _Check:
    """Fallback without a users table: a field of the embedded connecting user."""
    norm: Callable[[str], str] = go_lower if lower else str

    def attr(r: Any) -> bool:
        web = r.web_info
        return web is not None and web.user is not None and match(norm(getattr(web.user, name)))

    def item(r: Any) -> bool:
        web = r.get("web_info")
        if not web:
            return False
        user = web.get("user")
        return user is not None and match(norm(user[name]))

    return attr, item


def _after_check(bound: dt.datetime) -> _Check:
    return (lambda r: r.connect_time >= bound, lambda r: _time(r["connect_time"]) >= bound)


def _before_check(bound: dt.datetime) -> _Check:
    return (lambda r: r.connect_time <= bound, lambda r: _time(r["connect_time"]) <= bound)


def _between_check(low: dt.datetime, high: dt.datetime) -> _Check:
    return (
        lambda r: low <= r.connect_time <= high,
        lambda r: low <= _time(r["connect_time"]) <= high,
    )


def _workspace_check(ids: frozenset[uuid.UUID]) -> _Check:
    keys = _uuid_keys(ids)
    if len(ids) == 1:
        (only,) = ids
        return (lambda r: r.workspace_id == only, lambda r: r["workspace_id"] in keys)
    return (lambda r: r.workspace_id in ids, lambda r: r["workspace_id"] in keys)


def _connection_check(ids: frozenset[uuid.UUID]) -> _Check:
    keys = _uuid_keys(ids)

    def attr(r: Any) -> bool:
        ssh = r.ssh_info
        return ssh is not None and ssh.connection_id in ids

    def item(r: Any) -> bool:
        ssh = r.get("ssh_info")
        return ssh is not None and ssh.get("connection_id") in keys

    return attr, item


def _session_type_status_check(types: frozenset[str], status: ConnectionStatus) -> _Check:
    """``type`` and ``status`` in one check, for a type filter without web types (so the
    status filter's exclusion of point-in-time types cannot remove anything)."""
    if status is ConnectionStatus.ONGOING:

        def attr(r: Any) -> bool:
            if r.type not in types:
                return False
            ssh = r.ssh_info
            return ssh is None or ssh.disconnect_time is None

        def item(r: Any) -> bool:
            ssh = r.get("ssh_info")
            return r["type"] in types and (not ssh or ssh.get("disconnect_time") is None)

        return attr, item

    def attr_done(r: Any) -> bool:
        if r.type not in types:
            return False
        ssh = r.ssh_info
        return ssh is not None and ssh.disconnect_time is not None

    def item_done(r: Any) -> bool:
        ssh = r.get("ssh_info")
        return r["type"] in types and bool(ssh) and ssh.get("disconnect_time") is not None

    return attr_done, item_done


def _session_check() -> _Check:
    """``status:ongoing,completed``: every row that is not a point-in-time event."""
    return (lambda r: r.type not in _POINT_IN_TIME, lambda r: r["type"] not in _POINT_IN_TIME)


def _status_check(status: ConnectionStatus) -> _Check:
    # A session without ssh_info has no disconnect time: it counts as ongoing, as a NULL would.
    if status is ConnectionStatus.ONGOING:

        def attr(r: Any) -> bool:
            ssh = r.ssh_info
            return r.type not in _POINT_IN_TIME and (ssh is None or ssh.disconnect_time is None)

        def item(r: Any) -> bool:
            ssh = r.get("ssh_info")
            return r["type"] not in _POINT_IN_TIME and (
                not ssh or ssh.get("disconnect_time") is None
            )

        return attr, item

    def attr_done(r: Any) -> bool:
        ssh = r.ssh_info
        return r.type not in _POINT_IN_TIME and ssh is not None and ssh.disconnect_time is not None

    def item_done(r: Any) -> bool:
        ssh = r.get("ssh_info")
        return (
            r["type"] not in _POINT_IN_TIME and bool(ssh) and ssh.get("disconnect_time") is not None
        )

    return attr_done, item_done


def _text_check(text: str, owners: frozenset[uuid.UUID] | None) -> _Check:
    """Free text in the workspace name, the agent name or the owner's username.

    ``owners`` are the users whose name holds the text, from the users table; ``None`` (no
    table) reads the owner's name embedded in the record instead.
    """
    fold = _ASCII_FOLD
    keys = _uuid_keys(owners or ())
    embedded = owners is None
    any_owner = bool(owners)
    if not text.isascii():

        def slow(name: str) -> bool:
            return text in name.translate(fold)

        def attr_slow(r: Any) -> bool:
            if slow(r.workspace_name) or slow(r.agent_name):
                return True
            if embedded:
                return slow(r.workspace_owner_username)
            return any_owner and r.workspace_owner_id in owners  # type: ignore[operator]

        def item_slow(r: Any) -> bool:
            if slow(r["workspace_name"]) or slow(r["agent_name"]):
                return True
            if embedded:
                return slow(r["workspace_owner_username"])
            return any_owner and r["workspace_owner_id"] in keys

        return attr_slow, item_slow

    # ASCII text: a match in ascii_fold(name) is a match in name.lower(), and the converse
    # only fails for the few non-ASCII letters that lower-case to ASCII (KELVIN SIGN, ...), so
    # str.lower (one C call) filters and ascii_fold confirms for non-ASCII names only.
    def attr(r: Any) -> bool:
        name = r.workspace_name
        if text in name.lower() and (name.isascii() or text in name.translate(fold)):
            return True
        name = r.agent_name
        if text in name.lower() and (name.isascii() or text in name.translate(fold)):
            return True
        if embedded:
            name = r.workspace_owner_username
            return text in name.lower() and (name.isascii() or text in name.translate(fold))
        return any_owner and r.workspace_owner_id in owners  # type: ignore[operator]

    def item(r: Any) -> bool:
        name = r["workspace_name"]
        if text in name.lower() and (name.isascii() or text in name.translate(fold)):
            return True
        name = r["agent_name"]
        if text in name.lower() and (name.isascii() or text in name.translate(fold)):
            return True
        if embedded:
            name = r["workspace_owner_username"]
            return text in name.lower() and (name.isascii() or text in name.translate(fold))
        return any_owner and r["workspace_owner_id"] in keys

    return attr, item


# --- composition --------------------------------------------------------------------------


def _always(record: Any) -> bool:
    return True


def _never(record: Any) -> bool:
    return False


def _conjunction(tests: list[Predicate]) -> Predicate:
    # Fixed-arity closures for the common sizes avoid a Python-level loop per record.
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda r: a(r) and b(r)
    if len(tests) == 3:
        a, b, c = tests
        return lambda r: a(r) and b(r) and c(r)
    every = tuple(tests)
    return lambda r: all(t(r) for t in every)


def _disjunction(tests: list[Predicate]) -> Predicate:
    if not tests:
        return _never
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda r: a(r) or b(r)
    if len(tests) == 3:
        a, b, c = tests
        return lambda r: a(r) or b(r) or c(r)
    each = tuple(tests)
    return lambda r: any(t(r) for t in each)


def _negation(test: Predicate) -> Predicate:
    return lambda r: not test(r)


def _not_a_record(record: Any) -> TypeError:
    return TypeError(
        "a connection-log record must be a ConnectionLog (or an object with the same "
        f"attributes) or a mapping of the same JSON shape, not {type(record).__name__}"
    )


def _combine(checks: list[_Check]) -> Predicate:
    """One predicate calling the checks directly (no intermediate closure for 1-3 checks).

    ``dict`` records (``json.loads`` output, ``model_dump()``) are recognized by their class,
    which costs one comparison per record; any other record is read by attribute, and one
    that turns out to be some other mapping takes the mapping path on its first
    ``AttributeError`` (``try`` costs nothing on Python 3.11 until something is raised).
    """
    if not checks:
        return _always
    on_items = _conjunction([item for _, item in checks])

    def other(record: Any) -> bool:
        if isinstance(record, Mapping):
            return on_items(record)
        raise _not_a_record(record) from None

    if len(checks) == 1:
        ((a, ia),) = checks

        def one(r: Any) -> bool:
            if r.__class__ is dict:
                return ia(r)
            try:
                return a(r)
            except AttributeError:
                return other(r)

        return one
    if len(checks) == 2:
        (a, ia), (b, ib) = checks

        def two(r: Any) -> bool:
            if r.__class__ is dict:
                return ia(r) and ib(r)
            try:
                return a(r) and b(r)
            except AttributeError:
                return other(r)

        return two
    if len(checks) == 3:
        (a, ia), (b, ib), (c, ic) = checks

        def three(r: Any) -> bool:
            if r.__class__ is dict:
                return ia(r) and ib(r) and ic(r)
            try:
                return a(r) and b(r) and c(r)
            except AttributeError:
                return other(r)

        return three
    attrs = tuple(attr for attr, _ in checks)

    def many(r: Any) -> bool:
        if r.__class__ is dict:
            return on_items(r)
        try:
            return all(test(r) for test in attrs)
        except AttributeError:
            return other(r)

    return many


# Cost ranks (lower runs first): string set membership, then time comparison, then UUID
# equality (Python code in ``uuid``), then nested reads, then name fallbacks and free text.
# For mappings the time, which must be parsed, goes last.
_STRING, _TIME, _UUID, _NESTED, _FALLBACK = range(5)
_MAPPING_RANK = {_STRING: 0, _UUID: 1, _NESTED: 2, _TIME: 3, _FALLBACK: 4}

_Ranked = tuple[int, _Check]
_Compiled = bool | _Ranked
"""A compiled sub-expression: a constant, or a check with its cost rank."""


def _ordered(ranked: list[_Ranked]) -> list[_Check]:
    """Checks by cost: attribute tests and mapping tests are ordered separately."""
    attrs = sorted(ranked, key=lambda item: item[0])
    items = sorted(ranked, key=lambda item: _MAPPING_RANK[item[0]])
    return [(a[1][0], i[1][1]) for a, i in zip(attrs, items, strict=True)]


def _conjuncts(parts: Iterable[_Compiled]) -> list[_Ranked] | bool:
    """The non-constant parts of an AND, or its constant value."""
    ranked: list[_Ranked] = []
    for part in parts:
        if part is False:
            return False
        if part is not True:
            assert not isinstance(part, bool)
            ranked.append(part)
    return ranked or True


def _all(parts: Iterable[_Compiled]) -> _Compiled:
    ranked = _conjuncts(parts)
    if isinstance(ranked, bool):
        return ranked
    if len(ranked) == 1:
        return ranked[0]
    checks = _ordered(ranked)
    rank = max(r for r, _ in ranked)
    return rank, (_conjunction([a for a, _ in checks]), _conjunction([i for _, i in checks]))


def _any(parts: Iterable[_Compiled]) -> _Compiled:
    ranked: list[_Ranked] = []
    for part in parts:
        if part is True:
            return True
        if part is not False:
            assert not isinstance(part, bool)
            ranked.append(part)
    if not ranked:
        return False
    if len(ranked) == 1:
        return ranked[0]
    checks = _ordered(ranked)
    rank = max(r for r, _ in ranked)
    return rank, (_disjunction([a for a, _ in checks]), _disjunction([i for _, i in checks]))


def _not(part: _Compiled) -> _Compiled:
    if isinstance(part, bool):
        return not part
    rank, (attr, item) = part
    return rank, (_negation(attr), _negation(item))


def _ids(
    rank: int, ids: frozenset[uuid.UUID], make: Callable[[frozenset[uuid.UUID]], _Check]
) -> _Compiled:
    # An empty set is Coder's comparison with NULL: no row matches.
    return (rank, make(ids)) if ids else False


class _Compiler:
    """One compilation: the expression's nodes become checks, once."""

    def __init__(
        self,
        context: CompileContext,
        table: UserTable | None,
        type_mode: TypeMode,
        now: dt.datetime,
    ) -> None:
        self.context = context
        self.table = table
        self.type_mode = type_mode
        self.now = now

    def predicate(self, expression: Any) -> Predicate:
        conjuncts = list(expression.items) if isinstance(expression, And) else [expression]
        ranked = _conjuncts(self.top_level(conjuncts))
        if ranked is False:
            return _never
        if ranked is True:
            return _always
        assert not isinstance(ranked, bool)
        return _combine(_ordered(ranked))

    def top_level(self, nodes: list[Any]) -> list[_Compiled]:
        """The top-level conjuncts, with Coder-mode pairs merged into one check each: a
        ``type`` and a ``status`` filter, and the lower and upper time bounds."""
        out: list[_Compiled] = []
        types = [n for n in nodes if isinstance(n, Filter) and n.key == "type"]
        statuses = [n for n in nodes if isinstance(n, Filter) and n.key == "status"]
        merged: list[Any] = []
        if len(types) == 1 and len(statuses) == 1:
            merged = [types[0], statuses[0]]
            out.append(self.type_and_status(types[0], statuses[0]))
        bounds = [b.resolve(self.now) for b in nodes if isinstance(b, TimeBound)]
        if bounds:
            out.append(self.time_range(bounds))
        for node in nodes:
            if not isinstance(node, TimeBound) and not any(node is m for m in merged):
                out.append(self.node(node))
        return out

    def node(self, node: Any) -> _Compiled:
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, TimeBound):
            return self.time_range([node.resolve(self.now)])
        if isinstance(node, Text):
            return self.text(node.text)
        if isinstance(node, Not):
            return _not(self.node(node.item))
        if isinstance(node, And):
            return _all(self.node(item) for item in node.items)
        if isinstance(node, Or):
            return _any(self.node(item) for item in node.items)
        raise TypeError(f"not an expression node: {type(node).__name__}")

    # --- leaves -------------------------------------------------------------------------

    def filter(self, node: Filter) -> _Compiled:
        key, values = node.key, node.values
        if key == "organization":
            return self.organization(values)
        if key == "workspace_owner":
            return self.person(values, owner=True)
        if key == "workspace_owner_email":
            return self.owner_email(values)
        if key == "type":
            return _STRING, _type_check(self.types(values))
        if key == "username":
            return self.person(values, owner=False)
        if key == "user_email":
            return self.user_email(values)
        if key == "workspace_id":
            return _UUID, _workspace_check(frozenset(values))  # type: ignore[arg-type]
        if key == "connection_id":
            return _NESTED, _connection_check(frozenset(values))  # type: ignore[arg-type]
        statuses = set(values)
        if len(statuses) > 1:
            return _STRING, _session_check()
        (status,) = statuses
        return _STRING, _status_check(status)  # type: ignore[arg-type]

    def types(self, values: Iterable[Any]) -> frozenset[str]:
        found: set[str] = set()
        for value in values:
            assert isinstance(value, ConnectionType)
            found.update((value.value,) if self.type_mode == "exact" else matching_types(value))
        return frozenset(found)

    def type_and_status(self, types: Filter, statuses: Filter) -> _Compiled:
        # status never selects point-in-time events, so only the session types can remain.
        sessions = self.types(types.values) - _POINT_IN_TIME
        if not sessions:
            return False
        wanted = set(statuses.values)
        if len(wanted) > 1:
            return _STRING, _type_check(sessions)
        (status,) = wanted
        return _STRING, _session_type_status_check(sessions, status)  # type: ignore[arg-type]

    def time_range(self, bounds: list[TimeBound]) -> _Compiled:
        """Resolved (absolute, inclusive) bounds AND-ed: the tightest on each side."""
        lows = [b.at for b in bounds if b.is_lower]
        highs = [b.at for b in bounds if not b.is_lower]
        low = max(lows) if lows else None  # type: ignore[type-var]
        high = min(highs) if highs else None  # type: ignore[type-var]
        if low is not None and high is not None:
            return _TIME, _between_check(low, high)  # type: ignore[arg-type]
        if low is not None:
            return _TIME, _after_check(low)  # type: ignore[arg-type]
        return _TIME, _before_check(high)  # type: ignore[arg-type]

    def organization(self, values: Iterable[Any]) -> _Compiled:
        # resolve() has turned names into ids when a resolver was available; any name left
        # is compared with the record's own organization name.
        ids = frozenset(v for v in values if isinstance(v, uuid.UUID))
        names = frozenset(go_lower(str(v)) for v in values if not isinstance(v, uuid.UUID))
        parts: list[_Compiled] = []
        if ids:
            parts.append((_UUID, _organization_check(ids)))
        if names:
            parts.append((_FALLBACK, _organization_name_check(names)))
        return _any(parts)

    def person(self, values: Iterable[Any], *, owner: bool) -> _Compiled:
        """``workspace_owner`` / ``username``: ``me``, names and wildcards, any of them."""
        ids: set[uuid.UUID] = set()
        names: set[str] = set()
        wildcards: list[Wildcard] = []
        for value in values:
            if value is ME:
                assert self.context.user_id is not None  # resolve() has checked it
                ids.add(self.context.user_id)
            elif isinstance(value, Wildcard):
                wildcards.append(value)
            else:
                names.add(value)
        table = self.table
        if table is not None:
            for name in names:
                ids.update(table.live_by_username.get(name, ()))
            if wildcards:
                match = _matcher((), wildcards)
                ids.update(table.ids_where(lambda u: match(go_lower(u.username)), live=True))
            names, wildcards = set(), []
        parts: list[_Compiled] = []
        make = _owner_check if owner else _user_check
        if ids:
            parts.append((_UUID if owner else _NESTED, make(frozenset(ids))))
        if names or wildcards:
            match = _matcher(names, wildcards)
            check = (
                _owner_name_check(match)
                if owner
                else _user_field_check("username", match, lower=True)
            )
            parts.append((_FALLBACK, check))
        return _any(parts)

    def owner_email(self, values: Iterable[Any]) -> _Compiled:
        if self.table is None:
            raise ValueError(
                "the workspace_owner_email filter needs the users table "
                "(Coder's JSON has no owner email): pass users=..."
            )
        table = self.table
        exact = [v for v in values if not isinstance(v, Wildcard)]
        wildcards = [v for v in values if isinstance(v, Wildcard)]
        ids: set[uuid.UUID] = set()
        for email in exact:
            ids.update(table.live_by_email.get(email, ()))
        if wildcards:
            match = _matcher((), wildcards)
            ids.update(table.ids_where(lambda u: match(u.email), live=True))
        return _ids(_UUID, frozenset(ids), _owner_check)

    def user_email(self, values: Iterable[Any]) -> _Compiled:
        exact = [v for v in values if not isinstance(v, Wildcard)]
        wildcards = [v for v in values if isinstance(v, Wildcard)]
        if self.table is None:
            return _FALLBACK, _user_field_check("email", _matcher(exact, wildcards), lower=False)
        table = self.table
        ids: set[uuid.UUID] = set()
        for email in exact:
            ids.update(table.all_by_email.get(email, ()))
        if wildcards:
            match = _matcher((), wildcards)
            ids.update(table.ids_where(lambda u: match(u.email), live=False))
        return _ids(_NESTED, frozenset(ids), _user_check)

    def text(self, text: str) -> _Compiled:
        owners = None
        if self.table is not None:
            # Every owner, deleted or not, as Coder's join shows them.
            owners = self.table.ids_where(lambda u: text in ascii_fold(u.username), live=False)
        return _FALLBACK, _text_check(text, owners)


def compile(
    query: Query,
    *,
    context: CompileContext = CompileContext(),  # noqa: B008 - frozen, shared safely
    users: UserTable | Iterable[Any] | Mapping[Any, Any] | None = None,
    organizations: Iterable[Any] | None = None,
    type_mode: TypeMode = "family",
) -> Predicate:
    """Compile ``query`` into ``predicate(record) -> bool`` with Coder's filter semantics.

    The whole query, typed fields and extended ``where`` part, is compiled from
    :meth:`~connlog_query.query.Query.expression`: each node becomes a closure once, here;
    the predicate never interprets the query.

    Args:
        query: The validated query (Coder mode or extended).
        context: The caller (``user_id`` for ``me``), an optional organization resolver and
            the clock for relative times (``now``; ``None``: the current UTC time).
        users: The users table (see :class:`UserTable`); needed for Coder's exact name and
            email rules (deleted users are skipped by name and owner-email look-ups).
            Without it, names, wildcards and free text use the names embedded in each record.
        organizations: The organizations table, used to resolve organization names when
            ``context`` has no resolver.
        type_mode: ``"family"`` (Coder V2, default) or ``"exact"`` (Coder V1).

    Returns:
        A predicate for :class:`~connlog_query.models.ConnectionLog` objects and mappings of
        the same JSON shape. It raises ``TypeError`` for any other kind of record.

    Raises:
        QueryError: an organization name does not resolve (Coder's text), or ``me`` is used
            without ``context.user_id``.
        ValueError: ``workspace_owner_email`` without a users table, or a bad ``type_mode``.

    Example:
        >>> from connlog_query import Query, parse
        >>> from connlog_query.demo import generate
        >>> data = generate(seed=1, n_logs=200)
        >>> pred = compile(Query(type="ssh", status="ongoing"), users=data.users)
        >>> all(log.type in ("ssh", "zed") for log in filter(pred, data.connection_logs))
        True
        >>> pred = compile(parse("-type:ssh,vscode (dev OR username:b*)", mode="extended"),
        ...                users=data.users)
        >>> any(log.type == "ssh" for log in filter(pred, data.connection_logs))
        False
    """
    if type_mode not in ("exact", "family"):
        raise ValueError(f'type_mode must be "exact" or "family", got {type_mode!r}')
    if context.organization_resolver is None and organizations is not None:
        context = dataclasses.replace(
            context, organization_resolver=organization_resolver(organizations)
        )
    query = resolve(query, context)
    expression = query.expression()
    if expression is None:
        return _always
    table = None if users is None else UserTable.of(users)
    compiler = _Compiler(context, table, type_mode, context.current_time())
    return compiler.predicate(expression)
