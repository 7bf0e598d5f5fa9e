"""Compile a :class:`~connlog_query.query.Query` into the WHERE condition of Coder's list query.

The query is compiled as one extended expression (:meth:`~connlog_query.query.Query.expression`),
so Coder-mode and extended queries share one code path. Only active filters produce SQL, each as
a predicate the planner can match to an index (no ``CASE WHEN param = ''`` scaffolding). The
condition refers to the log table by its base name (``"connection_logs".col``), so it works in
``FROM connection_logs`` with or without joins; name and email look-ups are self-contained
sub-queries on the users and organizations tables.

Negation is two-valued: a leaf that SQL would evaluate to ``NULL`` (``user_id = (look-up)`` with
no user or no match) counts as false, so its negation holds. Leaves that can be ``NULL`` are
negated as ``(cond) IS NOT TRUE``; the others (Coder's ``NOT NULL`` columns compared with
parameters) as ``NOT (cond)``, which the planner can still turn into an index range.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any, NamedTuple

from ...apps import matching_types
from ...expr import And, Filter, Not, Or, Text, TimeBound, Wildcard
from ...query import Query
from ...values import ME, POINT_IN_TIME_TYPES, ConnectionStatus, ConnectionType
from ..context import CompileContext, resolve
from ..schema import Schema, base_name
from .dialect import ColumnKind, Dialect
from .fragment import SqlFragment

__all__ = ["ALWAYS_FALSE", "ALWAYS_TRUE", "compile_where", "storable"]

ALWAYS_TRUE = "1 = 1"
"""The condition of an empty query (every row matches)."""
ALWAYS_FALSE = "1 = 0"
"""The condition of a query no stored row can match (see :func:`storable`)."""

# Sorted so the generated SQL (and its parameters) is the same on every run.
_POINT_IN_TIME = tuple(sorted(t.value for t in POINT_IN_TIME_TYPES))

# How tightly a piece of SQL binds, for parentheses: a single predicate, an AND list, an OR list.
_ATOM, _AND, _OR = 0, 1, 2


def storable(value: str) -> bool:
    """Whether text ``value`` can be stored in Coder's database at all.

    PostgreSQL ``text`` cannot hold NUL, and no database accepts text that is not valid UTF-8
    (a lone surrogate). Such a value can never equal a stored one, so the filter matches no row;
    compiling it to a constant false keeps drivers from failing on it.
    """
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Sql(NamedTuple):
    """A compiled sub-expression: SQL text with its own parameters (in text order).

    ``const`` is ``True``/``False`` for a constant (its text is then never emitted inside a
    larger condition), ``nullable`` says SQL may evaluate it to ``NULL`` for some row.
    """

    text: str
    params: tuple[Any, ...] = ()
    nullable: bool = False
    level: int = _ATOM
    const: bool | None = None


_TRUE = _Sql(ALWAYS_TRUE, const=True)
_FALSE = _Sql(ALWAYS_FALSE, const=False)


def _join(parts: Sequence[_Sql], op: str, level: int) -> _Sql:
    texts = [f"({p.text})" if p.level >= _AND and p.level != level else p.text for p in parts]
    return _Sql(
        f" {op} ".join(texts),
        tuple(x for p in parts for x in p.params),
        nullable=any(p.nullable for p in parts),
        level=level,
    )


def _and(parts: Iterable[_Sql]) -> _Sql:
    kept = [p for p in parts if p.const is not True]
    if any(p.const is False for p in kept):
        return _FALSE
    if not kept:
        return _TRUE
    return kept[0] if len(kept) == 1 else _join(kept, "AND", _AND)


def _or(parts: Iterable[_Sql]) -> _Sql:
    kept = [p for p in parts if p.const is not False]
    if any(p.const is True for p in kept):
        return _TRUE
    if not kept:
        return _FALSE
    return kept[0] if len(kept) == 1 else _join(kept, "OR", _OR)


def _not(part: _Sql) -> _Sql:
    if part.const is not None:
        return _FALSE if part.const else _TRUE
    if part.nullable:
        return _Sql(f"({part.text}) IS NOT TRUE", part.params)
    return _Sql(f"NOT ({part.text})", part.params)


class _Names:
    """The quoted identifiers and fixed SQL pieces of one dialect and schema (built once)."""

    def __init__(self, d: Dialect, s: Schema) -> None:
        logs = d.quote(base_name(s.connection_logs))
        users = d.quote(base_name(s.users))
        orgs = d.quote(base_name(s.organizations))
        lc, uc, oc = s.log_columns, s.user_columns, s.organization_columns
        self.log = {f.name: f"{logs}.{d.quote(getattr(lc, f.name))}" for f in fields(lc)}
        self.user = {f.name: f"{users}.{d.quote(getattr(uc, f.name))}" for f in fields(uc)}
        self.users_from = f"{self.user['id']} FROM {d.quote(s.users)}"
        self.user_lookup = self._live_id(d, s.users, users, uc.id, uc.deleted)
        self.org_name = f"{orgs}.{d.quote(oc.name)}"
        self.org_lookup = self._live_id(d, s.organizations, orgs, oc.id, oc.deleted)
        self.sessions = d.in_list(self.log["type"], len(_POINT_IN_TIME), negate=True)
        self.found = {
            attr: d.contains_folded(column, d.placeholder)
            for attr, column in (
                ("workspace_name", self.log["workspace_name"]),
                ("agent_name", self.log["agent_name"]),
                ("username", self.user["username"]),
            )
        }

    @staticmethod
    def _live_id(d: Dialect, table: str, ref: str, id_col: str, deleted: str) -> tuple[str, str]:
        """Coder's scalar look-up of the live row matching a condition (NULL when none), as
        the text before and after the condition.

        Coder writes ``(SELECT id ... AND NOT deleted)`` and relies on its unique indexes for a
        single row. ``ORDER BY id LIMIT 1`` keeps that plan (a scalar sub-query, run once) and
        picks the smallest id deterministically where a schema lacks those indexes, instead of
        PostgreSQL's "more than one row returned by a subquery" or MariaDB's equivalent error.
        """
        ident = f"{ref}.{d.quote(id_col)}"
        return (
            f"(SELECT {ident} FROM {d.quote(table)} WHERE ",
            f" AND NOT {ref}.{d.quote(deleted)} ORDER BY {ident} LIMIT 1)",
        )


@functools.lru_cache(maxsize=64)
def _names(dialect: Dialect, schema: Schema) -> _Names:
    return _Names(dialect, schema)


class _WhereCompiler:
    """One compilation: a dialect, a schema, the caller and the instant of "now"."""

    def __init__(
        self, dialect: Dialect, schema: Schema, context: CompileContext, now: dt.datetime
    ) -> None:
        self.d = dialect
        self.s = schema
        self.context = context
        self.now = now
        self.n = _names(dialect, schema)
        self.ph = dialect.placeholder

    # --- pieces -------------------------------------------------------------------------

    def live_user(self, condition: str) -> str:
        before, after = self.n.user_lookup
        return before + condition + after

    def users_where(self, condition: str, *, live: bool) -> str:
        """``(SELECT id FROM users WHERE condition [AND NOT deleted])`` for ``IN``."""
        deleted = f" AND NOT {self.n.user['deleted']}" if live else ""
        return f"(SELECT {self.n.users_from} WHERE {condition}{deleted})"

    def equals_any(
        self, attr: str, kind: ColumnKind, values: Sequence[Any], *, nullable: bool
    ) -> _Sql:
        """``col = ?`` for one value, the dialect's ``col IN (?, ...)`` for several."""
        to_db = self.d.to_db
        if len(values) == 1:
            return _Sql(f"{self.n.log[attr]} = {self.ph}", (to_db(kind, values[0]),), nullable)
        params = self.d.list_params(tuple(to_db(kind, v) for v in values))
        return _Sql(self.d.in_list(self.n.log[attr], len(values)), params, nullable)

    def lookup(self, attr: str, condition: str, param: Any) -> _Sql:
        """``col = (live user matching condition)``: NULL when nobody matches."""
        return _Sql(f"{self.n.log[attr]} = {self.live_user(condition)}", (param,), True)

    def patterns(self, expr: str, wildcards: Sequence[Wildcard]) -> tuple[str, tuple[Any, ...]]:
        """``expr`` matches any of ``wildcards`` (an OR inside parentheses when several)."""
        texts = [self.d.match(expr, self.ph) for _ in wildcards]
        text = texts[0] if len(texts) == 1 else "(" + " OR ".join(texts) + ")"
        return text, tuple(self.d.match_pattern(w.pattern) for w in wildcards)

    # --- filters ------------------------------------------------------------------------

    def organization(self, values: Sequence[Any]) -> _Sql:
        ids = [v for v in values if isinstance(v, uuid.UUID)]
        parts = [self.equals_any("organization_id", "uuid", ids, nullable=False)] if ids else []
        before, after = self.n.org_lookup
        for name in values:
            if isinstance(name, uuid.UUID) or not storable(name):
                continue
            sub = f"{before}lower({self.n.org_name}) = {self.ph}{after}"
            parts.append(_Sql(f"{self.n.log['organization_id']} = {sub}", (name,), True))
        return _or(parts)

    def person(self, attr: str, values: Sequence[Any], *, nullable: bool) -> _Sql:
        """``workspace_owner`` / ``username``: ``me``, names (live look-up), wildcards."""
        parts: list[_Sql] = []
        lowered = f"lower({self.n.user['username']})"
        for value in values:
            if value is ME:
                me = [self.context.user_id]
                parts.append(self.equals_any(attr, "uuid", me, nullable=nullable))
            elif not isinstance(value, Wildcard) and storable(value):
                parts.append(self.lookup(attr, f"{lowered} = {self.ph}", value))
        parts.append(self.wildcards(attr, values, lowered, live=True, nullable=nullable))
        return _or(parts)

    def wildcards(
        self, attr: str, values: Sequence[Any], expr: str, *, live: bool, nullable: bool
    ) -> _Sql:
        """``col IN (users whose expr matches a wildcard)``; false when there are none."""
        wild = [v for v in values if isinstance(v, Wildcard) and storable(v.pattern)]
        if not wild:
            return _FALSE
        condition, params = self.patterns(expr, wild)
        sub = self.users_where(condition, live=live)
        return _Sql(f"{self.n.log[attr]} IN {sub}", params, nullable)

    def owner_email(self, values: Sequence[Any]) -> _Sql:
        email = self.n.user["email"]
        parts = [
            self.lookup("workspace_owner_id", f"{email} = {self.ph}", value)
            for value in values
            if not isinstance(value, Wildcard) and storable(value)
        ]
        parts.append(self.wildcards("workspace_owner_id", values, email, live=True, nullable=False))
        return _or(parts)

    def user_email(self, values: Sequence[Any]) -> _Sql:
        # The connecting user is matched through Coder's LEFT JOIN, deleted or not; a
        # sub-query over the primary key selects the same rows without needing the join.
        email = self.n.user["email"]
        exact = tuple(v for v in values if not isinstance(v, Wildcard) and storable(v))
        parts: list[_Sql] = []
        if exact:
            if len(exact) == 1:
                condition, params = f"{email} = {self.ph}", exact
            else:
                condition, params = self.d.in_list(email, len(exact)), self.d.list_params(exact)
            sub = self.users_where(condition, live=False)
            parts.append(_Sql(f"{self.n.log['user_id']} IN {sub}", params, nullable=True))
        parts.append(self.wildcards("user_id", values, email, live=False, nullable=True))
        return _or(parts)

    def type_(self, values: Sequence[ConnectionType]) -> _Sql:
        if self.s.type_mode == "exact":
            types = [v.value for v in values]
        elif len(values) == 1:
            types = list(matching_types(values[0]))
        else:
            types = list(dict.fromkeys(t for v in values for t in matching_types(v)))
        return self.equals_any("type", "text", types, nullable=False)

    def status(self, values: Sequence[ConnectionStatus]) -> _Sql:
        params = self.d.list_params(_POINT_IN_TIME)
        if len(set(values)) > 1:
            # ongoing OR completed: every session, whatever its disconnect time.
            return _Sql(self.n.sessions, params)
        null = "IS NULL" if values[0] is ConnectionStatus.ONGOING else "IS NOT NULL"
        text = f"{self.n.log['disconnect_time']} {null} AND {self.n.sessions}"
        return _Sql(text, params, level=_AND)

    def filter(self, node: Filter) -> _Sql:
        key, values = node.key, node.values
        if key == "organization":
            return self.organization(values)
        if key == "workspace_owner":
            return self.person("workspace_owner_id", values, nullable=False)
        if key == "workspace_owner_email":
            return self.owner_email(values)
        if key == "type":
            return self.type_(values)  # type: ignore[arg-type]
        if key == "username":
            return self.person("user_id", values, nullable=True)
        if key == "user_email":
            return self.user_email(values)
        if key == "workspace_id":
            return self.equals_any("workspace_id", "uuid", values, nullable=False)
        if key == "connection_id":
            return self.equals_any("connection_id", "uuid", values, nullable=True)
        return self.status(values)  # type: ignore[arg-type]

    def time(self, node: TimeBound) -> _Sql:
        bound = node.resolve(self.now)
        param = self.d.to_db("timestamp", bound.at)
        return _Sql(f"{self.n.log['connect_time']} {bound.op} {self.ph}", (param,))

    def text(self, node: Text) -> _Sql:
        """Free text: a substring of the workspace name, the agent name or the workspace
        owner's username (any owner, deleted or not, as Coder's join shows them), with ASCII
        letters folded on the column side (the text is lower case already)."""
        if not storable(node.text):
            return _FALSE
        found = self.n.found
        owners = self.users_where(found["username"], live=False)
        return _Sql(
            f"{found['workspace_name']} OR {found['agent_name']} OR "
            f"{self.n.log['workspace_owner_id']} IN {owners}",
            (self.d.contains_param(node.text),) * 3,
            level=_OR,
        )

    def node(self, node: Any) -> _Sql:
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, TimeBound):
            return self.time(node)
        if isinstance(node, Text):
            return self.text(node)
        if isinstance(node, Not):
            return _not(self.node(node.item))
        if isinstance(node, And):
            return _and(self.node(item) for item in node.items)
        if isinstance(node, Or):
            return _or(self.node(item) for item in node.items)
        raise TypeError(f"not an expression node: {type(node).__name__}")


def compile_where(
    query: Query, dialect: Dialect, *, context: CompileContext, schema: Schema
) -> SqlFragment:
    """The WHERE condition for ``query``; see :func:`connlog_query.backends.sql.compile`."""
    query = resolve(query, context)
    expression = query.expression()
    if expression is None:
        return SqlFragment(ALWAYS_TRUE, ())
    compiler = _WhereCompiler(dialect, schema, context, context.current_time())
    result = compiler.node(expression)
    # A top-level OR is parenthesized, so the condition can be AND-ed with others as it is.
    text = f"({result.text})" if result.level == _OR else result.text
    return SqlFragment(text, result.params)
