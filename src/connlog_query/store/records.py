"""Rows of Coder's tables as plain Python values, and their conversion to Coder's JSON models.

Every store ingests these records and every store turns a joined row back into
:class:`~connlog_query.models.ConnectionLog` with :func:`to_connection_log`, so the JSON a store
returns does not depend on the database it came from. Values are Python-native: ``uuid.UUID``,
timezone-aware UTC ``datetime`` (microsecond precision, as PostgreSQL stores it), ``str`` and
``int``; ``None`` is SQL ``NULL``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from ..apps import display_name
from ..models import (
    ConnectionLog,
    ConnectionLogSSHInfo,
    ConnectionLogWebInfo,
    MinimalOrganization,
    User,
)
from ..values import POINT_IN_TIME_TYPES

__all__ = [
    "WEB_TYPES",
    "LogRecord",
    "OrganizationRecord",
    "UserRecord",
    "to_connection_log",
    "to_user_model",
]

WEB_TYPES: frozenset[str] = frozenset(t.value for t in POINT_IN_TIME_TYPES)
"""Stored ``type`` values that Coder renders with ``web_info`` (everything else: ``ssh_info``)."""

_NIL_UUID = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """A row of ``organizations`` (the columns the connection-log queries use)."""

    id: uuid.UUID
    name: str
    display_name: str = ""
    icon: str = ""
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A row of ``users`` (the columns the connection-log queries and JSON use)."""

    id: uuid.UUID
    username: str
    email: str
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str = ""
    last_seen_at: dt.datetime | None = None
    status: str = "active"
    login_type: str = "password"
    avatar_url: str = ""
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A row of ``connection_logs`` (reference section 11.1; ``type`` is free text, V2)."""

    id: uuid.UUID
    connect_time: dt.datetime
    organization_id: uuid.UUID
    workspace_owner_id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_name: str
    agent_name: str
    type: str
    code: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    user_id: uuid.UUID | None = None
    slug_or_port: str | None = None
    connection_id: uuid.UUID | None = None
    disconnect_time: dt.datetime | None = None
    disconnect_reason: str | None = None


def to_user_model(user: UserRecord) -> User:
    """The ``web_info.user`` object Coder builds from the joined connecting user."""
    return User(
        id=user.id,
        username=user.username,
        name=user.name,
        email=user.email,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_seen_at=user.last_seen_at,
        status=user.status,
        login_type=user.login_type,
        avatar_url=user.avatar_url,
    )


def to_connection_log(
    log: LogRecord,
    organization: OrganizationRecord,
    owner_username: str,
    user: UserRecord | None,
) -> ConnectionLog:
    """Coder's JSON for one joined row (reference section 8.2, V2 with ``type_display_name``).

    Web types get ``web_info`` (``user`` is ``null`` without a connecting user); every other
    type gets ``ssh_info``, whose ``connection_id`` is the all-zero UUID when the column is
    ``NULL`` (Go's zero value). ``ip`` is omitted when ``NULL``.
    """
    web_info: ConnectionLogWebInfo | None = None
    ssh_info: ConnectionLogSSHInfo | None = None
    if log.type in WEB_TYPES:
        web_info = ConnectionLogWebInfo(
            user_agent=log.user_agent or "",
            user=to_user_model(user) if user is not None else None,
            slug_or_port=log.slug_or_port or "",
            status_code=log.code or 0,
        )
    else:
        ssh_info = ConnectionLogSSHInfo(
            connection_id=log.connection_id or _NIL_UUID,
            disconnect_time=log.disconnect_time,
            disconnect_reason=log.disconnect_reason,
            exit_code=log.code,
        )
    return ConnectionLog(
        id=log.id,
        connect_time=log.connect_time,
        organization=MinimalOrganization(
            id=organization.id,
            name=organization.name,
            display_name=organization.display_name,
            icon=organization.icon,
        ),
        workspace_owner_id=log.workspace_owner_id,
        workspace_owner_username=owner_username,
        workspace_id=log.workspace_id,
        workspace_name=log.workspace_name,
        agent_name=log.agent_name,
        ip=log.ip,
        type=log.type,
        type_display_name=display_name(log.type),
        web_info=web_info,
        ssh_info=ssh_info,
    )
