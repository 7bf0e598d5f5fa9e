"""The in-memory backend: a :class:`~connlog_query.query.Query` as a predicate over log records.

``compile(query, users=..., context=...)`` returns ``predicate(record) -> bool`` that gives the
same answer as Coder's SQL (reference 7.1 and 7.6) for one connection-log record. A record is
either a :class:`~connlog_query.models.ConnectionLog` (or any object with the same attributes)
or a mapping of the same JSON shape, with values as Python objects (``model_dump()``) or as
JSON text (``json.loads`` of Coder's response).

How a record maps to the ``connection_logs`` columns the filters read:

==========================  =====================================================================
column                      read from the record
==========================  =====================================================================
``organization_id``         ``organization.id``
``workspace_owner_id``      ``workspace_owner_id``
``workspace_id``            ``workspace_id``
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
The look-ups run once, at compile time, and leave sets of user ids; the predicate itself only
reads the record and tests set membership. Without a users table, name filters fall back to the
names embedded in the record (no deleted-user rule) and ``workspace_owner_email`` cannot be
evaluated (``ValueError``).

Organization names resolve through ``context.organization_resolver`` (Coder's error when not
found); failing that through ``organizations=`` (non-deleted, case-insensitive); failing that
by the record's own ``organization.name`` (case-insensitive, no deleted-organization rule).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..apps import matching_types
from ..gocompat import go_lower
from ..gotime import parse_rfc3339nano
from ..query import Query
from ..values import ME, POINT_IN_TIME_TYPES, ConnectionStatus
from .context import CompileContext, organization_not_found, reject_extended, resolve

__all__ = [
    "Predicate",
    "TypeMode",
    "UserTable",
    "compile",
    "organization_resolver",
]

Predicate = Callable[[Any], bool]
"""``predicate(record) -> bool``: whether the record matches the compiled query."""

TypeMode = Literal["exact", "family"]
"""``exact``: ``type`` equals the filter value (Coder V1); ``family``: V2 family expansion."""

_POINT_IN_TIME = frozenset(t.value for t in POINT_IN_TIME_TYPES)
_NIL_UUID = uuid.UUID(int=0)


def _field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _to_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


@dataclass(frozen=True)
class UserTable:
    """The users table, indexed for the look-ups Coder's filters make.

    Build it once with :meth:`of` and reuse it for many compilations.

    Attributes:
        live_by_username: lower-cased username -> the id of the non-deleted user with it (the
            smallest id, should several share it).
        live_by_email: exact email -> the id of the non-deleted user with it (likewise).
        all_by_email: exact email -> ids of every user with it (deleted ones included).
    """

    live_by_username: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    live_by_email: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    all_by_email: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)

    @classmethod
    def of(cls, users: UserTable | Iterable[Any] | Mapping[Any, Any]) -> UserTable:
        """Index ``users``: objects or mappings with ``id``, ``username``, ``email``, ``deleted``.

        A mapping is read as ``{id: user}`` (its values are the users). ``deleted`` defaults to
        false (Coder's ``User`` JSON has no such field: every user it returns is live).
        """
        if isinstance(users, UserTable):
            return users
        rows = users.values() if isinstance(users, Mapping) else users
        by_name: dict[str, set[uuid.UUID]] = {}
        live_email: dict[str, set[uuid.UUID]] = {}
        all_email: dict[str, set[uuid.UUID]] = {}
        for user in rows:
            uid = _to_uuid(_field(user, "id"))
            email = str(_field(user, "email", ""))
            all_email.setdefault(email, set()).add(uid)
            if _field(user, "deleted", False):
                continue
            by_name.setdefault(go_lower(str(_field(user, "username", ""))), set()).add(uid)
            live_email.setdefault(email, set()).add(uid)

        def freeze(d: dict[str, set[uuid.UUID]]) -> dict[str, frozenset[uuid.UUID]]:
            return {k: frozenset(v) for k, v in d.items()}

        def smallest(d: dict[str, set[uuid.UUID]]) -> dict[str, frozenset[uuid.UUID]]:
            # Coder's scalar look-up relies on unique indexes for one live match; where data
            # breaks them, the SQL backend takes the smallest id, and so do we.
            return {k: frozenset((min(v),)) for k, v in d.items()}

        return cls(smallest(by_name), smallest(live_email), freeze(all_email))


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


# --- checks: each factory returns (test for attribute records, test for mapping records) -----

_Check = tuple[Predicate, Predicate]


def _organization_check(org_id: uuid.UUID) -> _Check:
    keys = _uuid_keys((org_id,))
    return (
        lambda r: r.organization.id == org_id,
        lambda r: r["organization"]["id"] in keys,
    )


def _organization_name_check(name: str) -> _Check:
    return (
        lambda r: go_lower(r.organization.name) == name,
        lambda r: go_lower(r["organization"]["name"]) == name,
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


def _owner_name_check(name: str) -> _Check:
    return (
        lambda r: go_lower(r.workspace_owner_username) == name,
        lambda r: go_lower(r["workspace_owner_username"]) == name,
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


def _user_field_check(name: str, value: str, *, lower: bool) -> _Check:
    """Fallback without a users table: compare a field of the embedded connecting user."""
    norm: Callable[[str], str] = go_lower if lower else str

    def attr(r: Any) -> bool:
        web = r.web_info
        return web is not None and web.user is not None and norm(getattr(web.user, name)) == value

    def item(r: Any) -> bool:
        web = r.get("web_info")
        if not web:
            return False
        user = web.get("user")
        return user is not None and norm(user[name]) == value

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


def _workspace_check(workspace_id: uuid.UUID) -> _Check:
    keys = _uuid_keys((workspace_id,))
    return (lambda r: r.workspace_id == workspace_id, lambda r: r["workspace_id"] in keys)


def _connection_check(connection_id: uuid.UUID) -> _Check:
    keys = _uuid_keys((connection_id,))

    def attr(r: Any) -> bool:
        ssh = r.ssh_info
        return ssh is not None and ssh.connection_id == connection_id

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


@dataclass
class _Plan:
    """The checks of one compilation; ``impossible`` once a filter can match no row.

    Each check has a cost rank; :meth:`ordered` runs the cheap ones first (string set
    membership, then time comparison, then UUID equality, which is Python code in ``uuid``,
    then nested reads), so most records are rejected before the expensive tests run.
    """

    ranked: list[tuple[int, _Check]] = field(default_factory=list)
    impossible: bool = False

    def add(self, rank: int, check: _Check) -> None:
        self.ranked.append((rank, check))

    def ids(
        self,
        rank: int,
        ids: frozenset[uuid.UUID],
        make: Callable[[frozenset[uuid.UUID]], _Check],
    ) -> None:
        if not ids:
            self.impossible = True  # Coder compares with NULL: no row matches
        else:
            self.add(rank, make(ids))

    def ordered(self) -> list[_Check]:
        """Checks by cost: attribute tests and mapping tests are ordered separately, since
        a mapping's time is text that must be parsed (its most expensive test)."""
        attrs = sorted(self.ranked, key=lambda item: item[0])
        items = sorted(self.ranked, key=lambda item: _MAPPING_RANK[item[0]])
        return [(a[1][0], i[1][1]) for a, i in zip(attrs, items, strict=True)]


# Cost ranks (lower runs first).
_STRING, _TIME, _UUID, _NESTED, _FALLBACK = range(5)
_MAPPING_RANK = {_STRING: 0, _UUID: 1, _NESTED: 2, _TIME: 3, _FALLBACK: 4}


def _person_ids(
    value: Any, context: CompileContext, table: UserTable | None
) -> frozenset[uuid.UUID] | None:
    if value is ME:
        assert context.user_id is not None  # resolve() has checked it
        return frozenset((context.user_id,))
    if table is None:
        return None
    return table.live_by_username.get(value, frozenset())


def _plan(
    q: Query,
    context: CompileContext,
    table: UserTable | None,
    organizations: Callable[[str], uuid.UUID | None] | None,
    type_mode: TypeMode,
) -> _Plan:
    plan = _Plan()
    if isinstance(q.organization, uuid.UUID):
        plan.add(_UUID, _organization_check(q.organization))
    elif isinstance(q.organization, str):
        if organizations is not None:
            org_id = organizations(q.organization)
            if org_id is None:
                raise organization_not_found(q, q.organization)
            plan.add(_UUID, _organization_check(org_id))
        else:
            plan.add(_FALLBACK, _organization_name_check(q.organization))
    if q.workspace_owner is not None:
        ids = _person_ids(q.workspace_owner, context, table)
        if ids is None:
            plan.add(_FALLBACK, _owner_name_check(q.workspace_owner))
        else:
            plan.ids(_UUID, ids, _owner_check)
    if q.workspace_owner_email is not None:
        if table is None:
            raise ValueError(
                "the workspace_owner_email filter needs the users table "
                "(Coder's JSON has no owner email): pass users=..."
            )
        plan.ids(_UUID, table.live_by_email.get(q.workspace_owner_email, frozenset()), _owner_check)
    if q.type is not None:
        types = frozenset((q.type.value,) if type_mode == "exact" else matching_types(q.type))
        if q.status is None:
            plan.add(_STRING, _type_check(types))
        elif q.type.is_point_in_time:
            plan.impossible = True  # status never selects web events
        else:
            plan.add(_STRING, _session_type_status_check(types, q.status))
    if q.username is not None:
        ids = _person_ids(q.username, context, table)
        if ids is None:
            plan.add(_FALLBACK, _user_field_check("username", q.username, lower=True))
        else:
            plan.ids(_NESTED, ids, _user_check)
    if q.user_email is not None:
        if table is None:
            plan.add(_FALLBACK, _user_field_check("email", q.user_email, lower=False))
        else:
            plan.ids(_NESTED, table.all_by_email.get(q.user_email, frozenset()), _user_check)
    if q.connected_after is not None and q.connected_before is not None:
        plan.add(_TIME, _between_check(q.connected_after, q.connected_before))
    elif q.connected_after is not None:
        plan.add(_TIME, _after_check(q.connected_after))
    elif q.connected_before is not None:
        plan.add(_TIME, _before_check(q.connected_before))
    if q.workspace_id is not None:
        plan.add(_UUID, _workspace_check(q.workspace_id))
    if q.connection_id is not None:
        plan.add(_NESTED, _connection_check(q.connection_id))
    if q.status is not None and q.type is None:
        plan.add(_STRING, _status_check(q.status))
    return plan


def compile(
    query: Query,
    *,
    context: CompileContext = CompileContext(),  # noqa: B008 - frozen, shared safely
    users: UserTable | Iterable[Any] | Mapping[Any, Any] | None = None,
    organizations: Iterable[Any] | None = None,
    type_mode: TypeMode = "family",
) -> Predicate:
    """Compile ``query`` into ``predicate(record) -> bool`` with Coder's filter semantics.

    Args:
        query: The validated query.
        context: The caller (``user_id`` for ``me``) and an optional organization resolver.
        users: The users table (see :class:`UserTable`); needed for Coder's exact name and
            email rules (deleted users are skipped by name and owner-email look-ups).
        organizations: The organizations table, used to resolve an organization name when
            ``context`` has no resolver.
        type_mode: ``"family"`` (Coder V2, default) or ``"exact"`` (Coder V1).

    Returns:
        A predicate for :class:`~connlog_query.models.ConnectionLog` objects and mappings of
        the same JSON shape. It raises ``TypeError`` for any other kind of record.

    Raises:
        QueryError: the organization name does not resolve (Coder's text), or ``me`` is used
            without ``context.user_id``. ``UnsupportedQueryError`` (a ``QueryError``) for a
            query with an extended ``where`` part, which this backend does not evaluate.
        ValueError: ``workspace_owner_email`` without a users table, or a bad ``type_mode``.

    Example:
        >>> from connlog_query import Query
        >>> from connlog_query.demo import generate
        >>> data = generate(seed=1, n_logs=200)
        >>> pred = compile(Query(type="ssh", status="ongoing"), users=data.users)
        >>> all(log.type in ("ssh", "zed") for log in filter(pred, data.connection_logs))
        True
    """
    if type_mode not in ("exact", "family"):
        raise ValueError(f'type_mode must be "exact" or "family", got {type_mode!r}')
    reject_extended(query, "memory")
    query = resolve(query, context)
    table = None if users is None else UserTable.of(users)
    resolver = None if organizations is None else organization_resolver(organizations)
    plan = _plan(query, context, table, resolver, type_mode)
    if plan.impossible:
        return _never
    return _combine(plan.ordered())
