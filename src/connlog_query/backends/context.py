"""What a backend needs to know about the caller: who ``me`` is and how organization names resolve.

Coder resolves two things outside the query text: ``me`` becomes the authenticated caller's user
id, and an ``organization`` given by name is looked up (through the authorization layer) among
non-deleted organizations. :class:`CompileContext` carries both; :func:`resolve` and
:func:`resolve_async` apply them to a :class:`~connlog_query.query.Query` and raise Coder's exact
:class:`~connlog_query.errors.QueryError` when they cannot.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..errors import QueryError, ValidationError
from ..gocompat import go_quote
from ..query import Query
from ..values import ME

__all__ = [
    "DEFAULT_CONTEXT",
    "AsyncOrganizationResolver",
    "CompileContext",
    "OrganizationResolver",
    "UnsupportedQueryError",
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
    """

    user_id: uuid.UUID | None = None
    organization_resolver: OrganizationResolver | None = None


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
        if getattr(query, key) is ME
    ]
    if errors:
        raise QueryError(errors)


def _with_organization(query: Query, org_id: uuid.UUID) -> Query:
    resolved = query.model_copy(update={"organization": org_id})
    # model_copy keeps private attributes, so spans survive; keep that explicit for clarity.
    resolved._spans = dict(query._spans)
    return resolved


def resolve(query: Query, context: CompileContext) -> Query:
    """Apply ``context`` to ``query``: resolve an organization name and check ``me``.

    Returns a query whose ``organization`` is a UUID when ``context`` has a resolver (a name is
    left as it is when it has none). ``me`` stays in the query; backends read
    ``context.user_id`` for it.

    Raises:
        QueryError: the organization name does not resolve (Coder's exact text), or ``me`` is
            used without ``context.user_id``.
    """
    _check_me(query, context)
    name = query.organization
    if not isinstance(name, str) or context.organization_resolver is None:
        return query
    org_id = context.organization_resolver(name)
    if org_id is None:
        raise organization_not_found(query, name)
    return _with_organization(query, org_id)


async def resolve_async(
    query: Query,
    context: CompileContext,
    resolver: AsyncOrganizationResolver | None = None,
) -> Query:
    """:func:`resolve` with an ``async`` organization resolver.

    ``resolver`` wins over ``context.organization_resolver``; without either, a name is left
    unresolved as in :func:`resolve`.
    """
    if resolver is None:
        return resolve(query, context)
    _check_me(query, context)
    name = query.organization
    if not isinstance(name, str):
        return query
    org_id = await resolver(name)
    if org_id is None:
        raise organization_not_found(query, name)
    return _with_organization(query, org_id)
