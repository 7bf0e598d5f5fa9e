"""What a backend needs to know about the caller: who ``me`` is, how organization names resolve,
and what time it is.

Coder resolves two things outside the query text: ``me`` becomes the authenticated caller's user
id, and an ``organization`` given by name is looked up (through the authorization layer) among
non-deleted organizations. Extended queries add a third: relative times (``-24h``, ``now``) are
made absolute against a clock. :class:`CompileContext` carries all three; :func:`resolve` and
:func:`resolve_async` apply the first two to a :class:`~connlog_query.query.Query` (its typed
fields and every filter of its ``where`` part) and raise Coder's exact
:class:`~connlog_query.errors.QueryError` when they cannot.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import QueryError, ValidationError
from ..expr import And, Filter, Not, Or, filters_in, normalize
from ..gocompat import go_quote
from ..query import Query
from ..values import ME, Me

__all__ = [
    "DEFAULT_CONTEXT",
    "AsyncOrganizationResolver",
    "CompileContext",
    "OrganizationResolver",
    "UnsupportedQueryError",
    "organization_names",
    "organization_not_found",
    "reject_extended",
    "resolve",
    "resolve_async",
]

OrganizationResolver = Callable[[str], "uuid.UUID | None"]
"""Maps an organization name (lower-case) to its id; ``None`` when it does not exist or the
caller may not see it."""

AsyncOrganizationResolver = Callable[[str], "Awaitable[uuid.UUID | None]"]
"""The ``async`` form of :data:`OrganizationResolver`."""


@dataclass(frozen=True)
class CompileContext:
    """The caller's side of a query.

    Attributes:
        user_id: The authenticated caller; replaces ``me`` in ``workspace_owner`` and
            ``username``. ``None`` means there is no caller, and a query using ``me`` is an error.
        organization_resolver: Looks up an organization name. Without one, the SQL backends
            compile a name into a sub-query on the organizations table (an unknown name then
            matches no rows instead of raising Coder's error).
        now: The clock for relative times in extended queries (``connected:>=-24h``): an
            aware datetime, or ``None`` for the current UTC time when the query is compiled.
    """

    user_id: uuid.UUID | None = None
    organization_resolver: OrganizationResolver | None = None
    now: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.now is not None and (self.now.tzinfo is None or self.now.utcoffset() is None):
            raise ValueError("CompileContext.now must be timezone-aware (e.g. tzinfo=UTC)")

    def current_time(self) -> dt.datetime:
        """The instant relative times resolve against: ``now`` in UTC, else the current time."""
        if self.now is not None:
            return self.now.astimezone(dt.timezone.utc)
        return dt.datetime.now(dt.timezone.utc)


DEFAULT_CONTEXT = CompileContext()
"""No caller and no resolver (the default of every ``context=`` argument)."""


class UnsupportedQueryError(QueryError):
    """The query is valid, but this backend cannot evaluate part of it."""


def reject_extended(query: Query, backend: str) -> None:
    """Raise :class:`UnsupportedQueryError` when ``query`` has an extended ``where`` part.

    Backends that only implement Coder's eleven filters call this, so an extended condition
    is never silently dropped (which would return too many rows).
    """
    if getattr(query, "where", None) is not None:
        detail = (
            f"the {backend} backend supports Coder's filters only; this query has "
            "extended conditions (negation, OR, lists, wildcards or free text)"
        )
        raise UnsupportedQueryError([ValidationError("where", detail)])


def organization_not_found(query: Query, name: str) -> QueryError:
    """Coder's error for an organization name that does not resolve (reference 5.3)."""
    inner = (
        f"organization {go_quote(name)} either does not exist, or you are unauthorized to view it"
    )
    detail = f'Query param "organization" has invalid value: {inner}'
    return QueryError([ValidationError("organization", detail, span=query.span("organization"))])


def _uses_me(query: Query, key: str) -> bool:
    if getattr(query, key) is ME:
        return True
    return any(f.key == key and any(v is ME for v in f.values) for f in filters_in(query.where))


def _check_me(query: Query, context: CompileContext) -> None:
    if context.user_id is not None:
        return
    errors = [
        ValidationError(
            key,
            f'Query param "{key}" has invalid value: "me" needs an authenticated caller, '
            "but no user id was given",
            span=query.span(key),
            hint="pass CompileContext(user_id=...) or use a username",
        )
        for key in ("workspace_owner", "username")
        if _uses_me(query, key)
    ]
    if errors:
        raise QueryError(errors)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and not isinstance(value, Me)


def organization_names(query: Query) -> list[str]:
    """Every organization name (not UUID) in ``query``: its typed field first, then each value
    of each ``organization`` filter in its ``where`` part, without repeats."""
    names: dict[str, None] = {}
    if _is_name(query.organization):
        names[str(query.organization)] = None
    for node in filters_in(query.where):
        if node.key == "organization":
            names.update((str(v), None) for v in node.values if _is_name(v))
    return list(names)


def _map_organizations(node: Any, ids: Mapping[str, uuid.UUID]) -> Any:
    if isinstance(node, Filter):
        if node.key != "organization":
            return node
        values = tuple(ids.get(str(v), v) if _is_name(v) else v for v in node.values)
        return Filter(key="organization", values=values)
    if isinstance(node, Not):
        return Not(item=_map_organizations(node.item, ids))
    if isinstance(node, (And, Or)):
        return type(node)(items=tuple(_map_organizations(i, ids) for i in node.items))
    return node


def _with_organizations(query: Query, ids: Mapping[str, uuid.UUID]) -> Query:
    update: dict[str, Any] = {}
    if _is_name(query.organization):
        update["organization"] = ids[str(query.organization)]
    if query.where is not None:
        update["where"] = normalize(_map_organizations(query.where, ids))
    resolved = query.model_copy(update=update)
    # model_copy keeps private attributes (spans, the parse-time clock); keep that explicit.
    resolved._spans = dict(query._spans)
    return resolved


def resolve(query: Query, context: CompileContext) -> Query:
    """Apply ``context`` to ``query``: resolve organization names and check ``me``.

    Every organization name in the query (the typed field and each value of each
    ``organization`` filter in ``where``, negated or not) is looked up once. Returns a query
    whose organizations are UUIDs when ``context`` has a resolver (names are left as they are
    when it has none). ``me`` stays in the query; backends read ``context.user_id`` for it.

    Raises:
        QueryError: an organization name does not resolve (Coder's exact text, for the first
            such name), or ``me`` is used anywhere without ``context.user_id``.
    """
    _check_me(query, context)
    resolver = context.organization_resolver
    names = organization_names(query)
    if not names or resolver is None:
        return query
    ids: dict[str, uuid.UUID] = {}
    for name in names:
        org_id = resolver(name)
        if org_id is None:
            raise organization_not_found(query, name)
        ids[name] = org_id
    return _with_organizations(query, ids)


async def resolve_async(
    query: Query,
    context: CompileContext,
    resolver: AsyncOrganizationResolver | None = None,
) -> Query:
    """:func:`resolve` with an ``async`` organization resolver.

    ``resolver`` wins over ``context.organization_resolver``; without either, names are left
    unresolved as in :func:`resolve`.
    """
    if resolver is None:
        return resolve(query, context)
    _check_me(query, context)
    ids: dict[str, uuid.UUID] = {}
    for name in organization_names(query):
        org_id = await resolver(name)
        if org_id is None:
            raise organization_not_found(query, name)
        ids[name] = org_id
    return _with_organizations(query, ids) if ids else query
