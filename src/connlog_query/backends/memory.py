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
from operator import attrgetter, itemgetter
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


# --- checks: each factory returns one test that reads attribute records and mappings alike ----
#
# Every test has the same shape, so that a query of one filter costs one Python call per
# record, as a hand-written lambda does:
#
#     if type(r) is not dict:          # ConnectionLog and other objects
#         try:
#             return <read by attribute>
#         except AttributeError:
#             _require_mapping(r)      # a mapping that is not a dict, or not a record at all
#     return <read by key>             # dict (json.loads, model_dump) and other mappings
#
# ``type(r) is dict`` is the cheapest class test on 3.11 (``r.__class__`` goes through a
# descriptor on every model), and ``try`` costs nothing until something is raised. Tests return
# real bools, as callers see the value; compositions only rely on its truth.


def _not_a_record(record: Any) -> TypeError:
    return TypeError(
        "a connection-log record must be a ConnectionLog (or an object with the same "
        f"attributes) or a mapping of the same JSON shape, not {type(record).__name__}"
    )


def _require_mapping(record: Any) -> None:
    """Called where reading ``record`` by attribute failed: it must then be a mapping."""
    if not isinstance(record, Mapping):
        raise _not_a_record(record) from None


def _id_check(ids: frozenset[uuid.UUID], path: str) -> Predicate:
    """The UUID at ``path`` (``"workspace_id"``, ``"organization.id"``) is one of ``ids``.

    One factory for every id field: the readers are C callables (``attrgetter`` follows
    dotted paths, ``itemgetter`` reads a key). Calling them costs a few percent of the rows/s
    against an inline ``r.field``, so the hottest checks (one owner, one organization, one
    user) keep code of their own and come here only for several ids.
    """
    keys = _uuid_keys(ids)
    read = attrgetter(path)
    first, _, second = path.partition(".")
    item = itemgetter(first)
    inner = itemgetter(second) if second else None
    # One id (the usual case) compares with ==; a set would hash the UUID in Python code.
    if len(ids) == 1:
        (only,) = ids

        def one(r: Any) -> bool:
            if type(r) is not dict:
                try:
                    return read(r) == only  # type: ignore[no-any-return]
                except AttributeError:
                    _require_mapping(r)
            value = item(r)
            return (value if inner is None else inner(value)) in keys

        return one

    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                return read(r) in ids
            except AttributeError:
                _require_mapping(r)
        value = item(r)
        return (value if inner is None else inner(value)) in keys

    return test


def _organization_check(ids: frozenset[uuid.UUID]) -> Predicate:
    if len(ids) != 1:
        return _id_check(ids, "organization.id")
    # One organization (the usual case) keeps its own code, like the owner (a dotted
    # attrgetter cost about 5% of the rows/s of ``organization:coder type:vscode ...``).
    keys = _uuid_keys(ids)
    (only,) = ids

    def one(r: Any) -> bool:
        if type(r) is not dict:
            try:
                org: uuid.UUID = r.organization.id
                return org == only
            except AttributeError:
                _require_mapping(r)
        return r["organization"]["id"] in keys

    return one


def _organization_name_check(names: frozenset[str]) -> Predicate:
    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                return go_lower(r.organization.name) in names
            except AttributeError:
                _require_mapping(r)
        return go_lower(r["organization"]["name"]) in names

    return test


def _owner_check(ids: frozenset[uuid.UUID]) -> Predicate:
    if len(ids) != 1:
        return _id_check(ids, "workspace_owner_id")
    # The hottest id check (``workspace_owner:NAME``, ``me``, owner wildcards) keeps its own
    # code: calling an attrgetter cost about 8% of the rows/s on ``workspace_owner:bob``.
    keys = _uuid_keys(ids)
    (only,) = ids

    def one(r: Any) -> bool:
        if type(r) is not dict:
            try:
                owner: uuid.UUID = r.workspace_owner_id
                return owner == only
            except AttributeError:
                _require_mapping(r)
        return r["workspace_owner_id"] in keys

    return one


def _owner_name_check(match: Callable[[str], bool]) -> Predicate:
    """Fallback without a users table: the owner's name embedded in the record."""

    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                return match(go_lower(r.workspace_owner_username))
            except AttributeError:
                _require_mapping(r)
        return match(go_lower(r["workspace_owner_username"]))

    return test


def _web_user(r: Any) -> Any:
    """The connecting user of a mapping record (``None`` when there is none)."""
    web = r.get("web_info")
    return web.get("user") if web else None


def _user_check(ids: frozenset[uuid.UUID]) -> Predicate:
    keys = _uuid_keys(ids)
    if len(ids) != 1:
        return _web_user_check("id", ids.__contains__, keys.__contains__)
    # One user (``username:NAME``, ``user_email:E``) keeps its own code: the nested reads
    # inline, no call per record but this one.
    (only,) = ids

    def one(r: Any) -> bool:
        if type(r) is not dict:
            try:
                web = r.web_info
                if web is None:
                    return False
                user = web.user
                if user is None:
                    return False
                uid: uuid.UUID = user.id
                return uid == only
            except AttributeError:
                _require_mapping(r)
        web = r.get("web_info")
        if not web:
            return False
        user = web.get("user")
        return user is not None and user["id"] in keys

    return one


def _user_field_check(name: str, match: Callable[[str], bool], *, lower: bool) -> Predicate:
    """Fallback without a users table: a field of the embedded connecting user."""
    norm: Callable[[str], str] = go_lower if lower else str

    def test(value: Any) -> bool:
        return match(norm(value))

    return _web_user_check(name, test, test)


def _web_user_check(
    name: str, on_attr: Callable[[Any], bool], on_key: Callable[[Any], bool]
) -> Predicate:
    """``on_attr`` (``on_key`` for mappings) holds for the field ``name`` of the connecting
    user; false where there is none."""

    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                web = r.web_info
                if web is None:
                    return False
                user = web.user
                return user is not None and on_attr(getattr(user, name))
            except AttributeError:
                _require_mapping(r)
        user = _web_user(r)
        return user is not None and on_key(user[name])

    return test


def _after_check(bound: dt.datetime) -> Predicate:
    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                at: dt.datetime = r.connect_time
                return at >= bound
            except AttributeError:
                _require_mapping(r)
        return _time(r["connect_time"]) >= bound

    return test


def _before_check(bound: dt.datetime) -> Predicate:
    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                at: dt.datetime = r.connect_time
                return at <= bound
            except AttributeError:
                _require_mapping(r)
        return _time(r["connect_time"]) <= bound

    return test


def _between_check(low: dt.datetime, high: dt.datetime) -> Predicate:
    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                at: dt.datetime = r.connect_time
                return low <= at <= high
            except AttributeError:
                _require_mapping(r)
        return low <= _time(r["connect_time"]) <= high

    return test


def _connection_check(ids: frozenset[uuid.UUID]) -> Predicate:
    keys = _uuid_keys(ids)

    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                ssh = r.ssh_info
                return ssh is not None and ssh.connection_id in ids
            except AttributeError:
                _require_mapping(r)
        ssh = r.get("ssh_info")
        return ssh is not None and ssh.get("connection_id") in keys

    return test


_Then = tuple[Predicate, bool]
"""The rest of an AND, called by its first check: ``(test, flip)``, where the rest holds when
``(not test(r)) is flip`` (``flip`` is true for a negated rest, false otherwise)."""


def _type_check(
    types: frozenset[str], inside: bool, then: _Then | None = None, *, any_of: bool = False
) -> Predicate:
    """``type`` in (``inside``) or not in ``types``; and then the rest of an AND (of an OR when
    ``any_of``) when given.

    A type filter is the cheapest check (string set membership), so it comes first in an AND
    or an OR and calls the rest itself: a record it decides costs one call, as in a
    hand-written lambda.
    """
    if then is None and inside:

        def test(r: Any) -> bool:
            if type(r) is not dict:
                try:
                    return r.type in types
                except AttributeError:
                    _require_mapping(r)
            return r["type"] in types

        return test

    if then is None:

        def outside(r: Any) -> bool:
            if type(r) is not dict:
                try:
                    return r.type not in types
                except AttributeError:
                    _require_mapping(r)
            return r["type"] not in types

        return outside

    rest, flip = then
    # The AND stops (false) where the type test fails, the OR stops (true) where it holds:
    # ``(type in types) is stop`` with ``stop = inside == any_of``, and the answer is any_of.
    stop = inside == any_of

    def test_then(r: Any) -> bool:
        if type(r) is not dict:
            try:
                if (r.type in types) is stop:
                    return any_of
                return (not rest(r)) is flip
            except AttributeError:
                _require_mapping(r)
        if (r["type"] in types) is stop:
            return any_of
        return (not rest(r)) is flip

    return test_then


def _status_check(
    types: frozenset[str], inside: bool, status: ConnectionStatus, then: _Then | None = None
) -> Predicate:
    """``type`` in (``inside``) or not in ``types``, and the session ``status``; and then the
    rest of an AND when given (as for :func:`_type_check`).

    ``status:S`` alone is ``type`` not in the point-in-time types, and S. ``type:T status:S``
    is ``type`` in T and S, when T has no web types (so the status filter's exclusion of
    point-in-time types cannot remove anything).
    """
    # A session without ssh_info has no disconnect time: it counts as ongoing, as a NULL would.
    # ``(... is None) is not ongoing`` rejects by the status, ongoing and completed alike.
    ongoing = status is ConnectionStatus.ONGOING
    if then is None:

        def test(r: Any) -> bool:
            if type(r) is not dict:
                try:
                    if (r.type in types) is not inside:
                        return False
                    ssh = r.ssh_info
                    return (ssh is None or ssh.disconnect_time is None) is ongoing
                except AttributeError:
                    _require_mapping(r)
            if (r["type"] in types) is not inside:
                return False
            ssh = r.get("ssh_info")
            return (not ssh or ssh.get("disconnect_time") is None) is ongoing

        return test

    rest, flip = then

    def test_then(r: Any) -> bool:
        if type(r) is not dict:
            try:
                if (r.type in types) is not inside:
                    return False
                ssh = r.ssh_info
                if (ssh is None or ssh.disconnect_time is None) is not ongoing:
                    return False
                return (not rest(r)) is flip
            except AttributeError:
                _require_mapping(r)
        if (r["type"] in types) is not inside:
            return False
        ssh = r.get("ssh_info")
        if (not ssh or ssh.get("disconnect_time") is None) is not ongoing:
            return False
        return (not rest(r)) is flip

    return test_then


def _text_check(text: str, *, owner_name: bool, orelse: _Then | None = None) -> Predicate:
    """Free text in the workspace name or the agent name, and with ``owner_name`` in the
    owner's username embedded in the record (without a users table; with one, the owners
    whose name holds the text are an id check of their own); or else, with ``orelse`` (not
    with ``owner_name``), the rest of an OR in the same call (free text is often OR-ed: with
    those owners, with other terms)."""
    fold = _ASCII_FOLD
    rest, flip = orelse if orelse is not None else (None, False)
    if not text.isascii():
        attrs = ("workspace_name", "agent_name", "workspace_owner_username")[: 2 + owner_name]

        def unicode(r: Any) -> bool:
            if type(r) is not dict:
                try:
                    names = [getattr(r, a) for a in attrs]
                except AttributeError:
                    _require_mapping(r)
                    names = [r[a] for a in attrs]
            else:
                names = [r[a] for a in attrs]
            if any(text in name.translate(fold) for name in names):
                return True
            return rest is not None and (not rest(r)) is flip

        return unicode

    # ASCII text: a match in ascii_fold(name) is a match in name.lower(), and the converse
    # only fails for the few non-ASCII letters that lower-case to ASCII (KELVIN SIGN, ...), so
    # str.lower (one C call) filters and ascii_fold confirms for non-ASCII names only.
    if owner_name:
        # The owner's name is rarely the match (and only without a users table): a call of its
        # own, as the rest of the OR.
        assert rest is None, "the rest of an OR is only taken without the owner's name"
        rest = _ascii_text_check(text, "workspace_owner_username")

    def two(r: Any) -> bool:
        if type(r) is not dict:
            try:
                name = r.workspace_name
                if text in name.lower() and (name.isascii() or text in name.translate(fold)):
                    return True
                name = r.agent_name
                if text in name.lower() and (name.isascii() or text in name.translate(fold)):
                    return True
            except AttributeError:
                _require_mapping(r)
            else:
                return rest is not None and (not rest(r)) is flip
        name = r["workspace_name"]
        if text in name.lower() and (name.isascii() or text in name.translate(fold)):
            return True
        name = r["agent_name"]
        if text in name.lower() and (name.isascii() or text in name.translate(fold)):
            return True
        return rest is not None and (not rest(r)) is flip

    return two


def _ascii_text_check(text: str, field: str) -> Predicate:
    """ASCII free text in one string field (as in :func:`_text_check`)."""
    fold = _ASCII_FOLD
    read, item = attrgetter(field), itemgetter(field)

    def test(r: Any) -> bool:
        if type(r) is not dict:
            try:
                name = read(r)
            except AttributeError:
                _require_mapping(r)
                name = item(r)
        else:
            name = item(r)
        return text in name.lower() and (name.isascii() or text in name.translate(fold))

    return test


# --- composition --------------------------------------------------------------------------


def _always(record: Any) -> bool:
    return True


def _never(record: Any) -> bool:
    return False


def _negation(test: Predicate) -> Predicate:
    return lambda r: not test(r)


# Cost ranks (lower runs first): string set membership, then time comparison, then UUID
# equality (Python code in ``uuid``), then nested reads, then name fallbacks and free text.
# For mappings the time, which must be parsed, goes last.
_STRING, _TIME, _UUID, _NESTED, _FALLBACK = range(5)
_MAPPING_RANK = {_STRING: 0, _UUID: 1, _NESTED: 2, _TIME: 3, _FALLBACK: 4}


class _Part(NamedTuple):
    """A compiled sub-expression that is not a constant."""

    rank: int
    """Its cost rank (the highest of its parts')."""
    test: Predicate
    """The test, for attribute records and mappings alike."""
    positive: bool = True
    """False: the sub-expression is the negation of ``test`` (applied by the parent, which
    saves a call per record)."""
    host: Callable[[_Then], Predicate] | None = None
    """``host(then)``: ``test`` followed by the rest of an AND, in one call (some checks)."""
    host_or: Callable[[_Then], Predicate] | None = None
    """``host_or(orelse)``: ``test`` followed by the rest of an OR, in one call (some checks)."""
    negated: Callable[[], _Part] | None = None
    """The negation as a check of its own (some checks): no ``not`` to apply."""


def _type_part(types: frozenset[str], inside: bool = True) -> _Part:
    return _Part(
        _STRING,
        _type_check(types, inside),
        host=lambda then: _type_check(types, inside, then),
        host_or=lambda orelse: _type_check(types, inside, orelse, any_of=True),
        negated=lambda: _type_part(types, not inside),
    )


def _text_part(text: str, *, owner_name: bool) -> _Part:
    return _Part(
        _FALLBACK,
        _text_check(text, owner_name=owner_name),
        host_or=None
        if owner_name
        else lambda orelse: _text_check(text, owner_name=False, orelse=orelse),
    )


def _status_part(types: frozenset[str], inside: bool, status: ConnectionStatus) -> _Part:
    return _Part(
        _STRING,
        _status_check(types, inside, status),
        host=lambda then: _status_check(types, inside, status, then),
    )


_Compiled = bool | _Part
"""A compiled sub-expression: a constant, or a test with its cost rank."""


def _chain(parts: list[_Part], *, any_of: bool) -> Predicate:
    """The AND (OR when ``any_of``) of ``parts``, in this order.

    Fixed-arity closures for the common sizes avoid a Python-level loop per record; a negated
    part is tested as ``(not t(r)) is True`` (a positive one as ``... is False``), so that
    negations cost no call of their own.
    """
    tests = [p.test for p in parts]
    if all(p.positive for p in parts):
        if len(tests) == 2:
            a, b = tests
            if any_of:
                return lambda r: a(r) or b(r)
            return lambda r: a(r) and b(r)
        if len(tests) == 3:
            a, b, c = tests
            if any_of:
                return lambda r: a(r) or b(r) or c(r)
            return lambda r: a(r) and b(r) and c(r)
        each = tuple(tests)
        if any_of:
            return lambda r: any(t(r) for t in each)
        return lambda r: all(t(r) for t in each)
    # ``(not t(r)) is flip`` holds exactly when the part does, whatever t returns.
    flips = [not p.positive for p in parts]
    if len(tests) == 2:
        (a, b), (fa, fb) = tests, flips
        if any_of:
            return lambda r: (not a(r)) is fa or (not b(r)) is fb
        return lambda r: (not a(r)) is fa and (not b(r)) is fb
    if len(tests) == 3:
        (a, b, c), (fa, fb, fc) = tests, flips
        if any_of:
            return lambda r: (not a(r)) is fa or (not b(r)) is fb or (not c(r)) is fc
        return lambda r: (not a(r)) is fa and (not b(r)) is fb and (not c(r)) is fc
    pairs = tuple(zip(tests, flips, strict=True))
    if any_of:
        return lambda r: any((not t(r)) is f for t, f in pairs)
    return lambda r: all((not t(r)) is f for t, f in pairs)


def _join(parts: list[_Part], *, any_of: bool) -> _Part:
    """The AND (OR when ``any_of``) of two or more parts, cheapest first.

    Attribute records and mappings may want different orders (a mapping's time must be
    parsed); then the test picks the order by the record's class.
    """
    attrs = sorted(parts, key=lambda p: p.rank)
    items = sorted(parts, key=lambda p: _MAPPING_RANK[p.rank])
    rank = attrs[-1].rank
    first = attrs[0]
    if not any_of and first.positive and first.host is not None and items[0] is first:
        # The first check calls the rest itself: one call per record it rejects, not two.
        rest = _all(attrs[1:])
        assert not isinstance(rest, bool)
        return _Part(rank, first.host((rest.test, not rest.positive)))
    if any_of:
        # Likewise for an OR: the cheapest check that can call the rest goes first (a call
        # saved on every record is worth more than running the other checks in cost order).
        hosts = [p for p in attrs if p.positive and p.host_or is not None]
        if hosts:
            first = hosts[0]
            assert first.host_or is not None
            rest = _any(p for p in attrs if p is not first)
            assert not isinstance(rest, bool)
            return _Part(rank, first.host_or((rest.test, not rest.positive)))
    on_attrs = _chain(attrs, any_of=any_of)
    if all(a is i for a, i in zip(attrs, items, strict=True)):
        return _Part(rank, on_attrs)
    if not any_of and len(parts) in (2, 3):
        # Fixed-arity closures again, choosing the order inline (negated parts as in _chain).
        (a, fa), (b, fb) = ((p.test, not p.positive) for p in attrs[:2])
        (ia, ifa), (ib, ifb) = ((p.test, not p.positive) for p in items[:2])
        if len(parts) == 2:

            def two(r: Any) -> bool:
                if type(r) is dict:
                    return (not ia(r)) is ifa and (not ib(r)) is ifb
                return (not a(r)) is fa and (not b(r)) is fb

            return _Part(rank, two)
        c, fc = attrs[2].test, not attrs[2].positive
        ic, ifc = items[2].test, not items[2].positive

        def three(r: Any) -> bool:
            if type(r) is dict:
                return (not ia(r)) is ifa and (not ib(r)) is ifb and (not ic(r)) is ifc
            return (not a(r)) is fa and (not b(r)) is fb and (not c(r)) is fc

        return _Part(rank, three)
    on_items = _chain(items, any_of=any_of)
    return _Part(rank, lambda r: on_items(r) if type(r) is dict else on_attrs(r))


def _all(parts: Iterable[_Compiled]) -> _Compiled:
    ranked: list[_Part] = []
    for part in parts:
        if part is False:
            return False
        if part is not True:
            assert not isinstance(part, bool)
            ranked.append(part)
    if not ranked:
        return True
    if len(ranked) == 1:
        return ranked[0]
    return _join(ranked, any_of=False)


def _any(parts: Iterable[_Compiled]) -> _Compiled:
    ranked: list[_Part] = []
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
    return _join(ranked, any_of=True)


def _not(part: _Compiled) -> _Compiled:
    if isinstance(part, bool):
        return not part
    if part.negated is not None:
        return part.negated()
    return part._replace(positive=not part.positive)


def _ids(
    rank: int, ids: frozenset[uuid.UUID], make: Callable[[frozenset[uuid.UUID]], Predicate]
) -> _Compiled:
    # An empty set is Coder's comparison with NULL: no row matches.
    return _Part(rank, make(ids)) if ids else False


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
        root = _all(self.top_level(conjuncts))
        if isinstance(root, bool):
            return _always if root else _never
        # The root's own test is the predicate: one call per record for a single filter.
        return root.test if root.positive else _negation(root.test)

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
            types = self.types(values)
            return _type_part(types)
        if key == "username":
            return self.person(values, owner=False)
        if key == "user_email":
            return self.user_email(values)
        if key == "workspace_id":
            return _Part(_UUID, _id_check(frozenset(values), "workspace_id"))  # type: ignore[arg-type]
        if key == "connection_id":
            return _Part(_NESTED, _connection_check(frozenset(values)))  # type: ignore[arg-type]
        statuses = set(values)
        if len(statuses) > 1:
            return _type_part(_POINT_IN_TIME, inside=False)
        (status,) = statuses
        return _status_part(_POINT_IN_TIME, False, status)  # type: ignore[arg-type]

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
            return _type_part(sessions)
        (status,) = wanted
        return _status_part(sessions, True, status)  # type: ignore[arg-type]

    def time_range(self, bounds: list[TimeBound]) -> _Compiled:
        """Resolved (absolute, inclusive) bounds AND-ed: the tightest on each side."""
        lows = [b.at for b in bounds if b.is_lower]
        highs = [b.at for b in bounds if not b.is_lower]
        low = max(lows) if lows else None  # type: ignore[type-var]
        high = min(highs) if highs else None  # type: ignore[type-var]
        if low is not None and high is not None:
            return _Part(_TIME, _between_check(low, high))  # type: ignore[arg-type]
        if low is not None:
            return _Part(_TIME, _after_check(low))  # type: ignore[arg-type]
        return _Part(_TIME, _before_check(high))  # type: ignore[arg-type]

    def organization(self, values: Iterable[Any]) -> _Compiled:
        # resolve() has turned names into ids when a resolver was available; any name left
        # is compared with the record's own organization name.
        ids = frozenset(v for v in values if isinstance(v, uuid.UUID))
        names = frozenset(go_lower(str(v)) for v in values if not isinstance(v, uuid.UUID))
        parts: list[_Compiled] = []
        if ids:
            parts.append(_Part(_UUID, _organization_check(ids)))
        if names:
            parts.append(_Part(_FALLBACK, _organization_name_check(names)))
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
            parts.append(_Part(_UUID if owner else _NESTED, make(frozenset(ids))))
        if names or wildcards:
            match = _matcher(names, wildcards)
            check = (
                _owner_name_check(match)
                if owner
                else _user_field_check("username", match, lower=True)
            )
            parts.append(_Part(_FALLBACK, check))
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
            return _Part(
                _FALLBACK, _user_field_check("email", _matcher(exact, wildcards), lower=False)
            )
        table = self.table
        ids: set[uuid.UUID] = set()
        for email in exact:
            ids.update(table.all_by_email.get(email, ()))
        if wildcards:
            match = _matcher((), wildcards)
            ids.update(table.ids_where(lambda u: match(u.email), live=False))
        return _ids(_NESTED, frozenset(ids), _user_check)

    def text(self, text: str) -> _Compiled:
        if self.table is None:
            return _text_part(text, owner_name=True)
        # Every owner, deleted or not, as Coder's join shows them.
        owners = self.table.ids_where(lambda u: text in ascii_fold(u.username), live=False)
        names = _text_part(text, owner_name=False)
        return _any([names, _Part(_UUID, _owner_check(owners))]) if owners else names


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
