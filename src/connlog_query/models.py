"""pydantic models mirroring Coder's connection-log JSON (``GET /api/v2/connectionlog``).

Field names, optionality and omission rules follow Coder's Go structs: fields Go marks
``omitempty`` are left out of the JSON when empty, ``web_info.user`` is an explicit ``null`` for
unauthenticated web events, and times are written the way Go writes RFC 3339 with nanoseconds
(fraction only when non-zero, trailing zeros trimmed, ``Z`` for UTC). Unknown fields from a
newer Coder are kept (``extra="allow"``), so real responses round-trip.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)

__all__ = [
    "ConnectionLog",
    "ConnectionLogResponse",
    "ConnectionLogSSHInfo",
    "ConnectionLogWebInfo",
    "GoTime",
    "MinimalOrganization",
    "SlimRole",
    "User",
    "format_go_time",
]


def format_go_time(value: dt.datetime) -> str:
    """Format ``value`` like Go's ``time.RFC3339Nano`` (how Coder writes JSON times)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        base += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset() or dt.timedelta(0)
    if offset == dt.timedelta(0):
        return base + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{base}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


GoTime = Annotated[dt.datetime, PlainSerializer(format_go_time, return_type=str, when_used="json")]
"""A datetime written to JSON as Go writes it."""


class _CoderModel(BaseModel):
    """Shared config: tolerate and keep unknown fields; drop Go ``omitempty`` fields.

    ``OMIT_EMPTY`` fields are dropped when ``None`` or empty (``""``, ``0``, ``[]``), like Go
    ``omitempty`` on values; ``OMIT_NONE`` fields only when ``None``, like ``omitempty`` on
    pointers, where ``0`` and ``""`` are real values.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    OMIT_EMPTY: ClassVar[frozenset[str]] = frozenset()
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _go_json(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.OMIT_EMPTY:
                if name in data and data[name] in (None, "", 0, []):
                    del data[name]
            for name in self.OMIT_NONE:
                if name in data and data[name] is None:
                    del data[name]
        return data


class MinimalOrganization(_CoderModel):
    """The organization a log row belongs to."""

    id: uuid.UUID
    name: str = ""
    display_name: str = ""
    icon: str = ""


class SlimRole(_CoderModel):
    """A role as embedded in :class:`User`."""

    name: str
    display_name: str = ""
    organization_id: str = ""


class User(_CoderModel):
    """A Coder user as embedded in ``web_info.user``."""

    OMIT_EMPTY: ClassVar[frozenset[str]] = frozenset(
        {"name", "avatar_url", "last_seen_at", "theme_preference"}
    )

    id: uuid.UUID
    username: str
    name: str = ""
    email: str
    created_at: GoTime
    updated_at: GoTime | None = None
    last_seen_at: GoTime | None = None
    status: str = "active"
    login_type: str = "password"
    theme_preference: str = ""
    avatar_url: str = ""
    organization_ids: list[uuid.UUID] = Field(default_factory=list)
    roles: list[SlimRole] = Field(default_factory=list)


class ConnectionLogWebInfo(_CoderModel):
    """Details of a web event (workspace app, port forward, tunnel)."""

    user_agent: str = ""
    user: User | None = None
    slug_or_port: str = ""
    status_code: int = 0


class ConnectionLogSSHInfo(_CoderModel):
    """Details of a session (SSH, IDEs, web terminal)."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset(
        {"disconnect_time", "disconnect_reason", "exit_code"}
    )

    connection_id: uuid.UUID
    disconnect_time: GoTime | None = None
    disconnect_reason: str | None = None
    exit_code: int | None = None


class ConnectionLog(_CoderModel):
    """One row of the connection log, as Coder's endpoint returns it."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset(
        {"ip", "type_display_name", "web_info", "ssh_info"}
    )

    id: uuid.UUID
    connect_time: GoTime
    organization: MinimalOrganization
    workspace_owner_id: uuid.UUID
    workspace_owner_username: str
    workspace_id: uuid.UUID
    workspace_name: str
    agent_name: str
    ip: str | None = None
    type: str
    type_display_name: str | None = None
    web_info: ConnectionLogWebInfo | None = None
    ssh_info: ConnectionLogSSHInfo | None = None


class ConnectionLogResponse(_CoderModel):
    """The body of a successful ``GET /api/v2/connectionlog``."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"count_cap"})

    connection_logs: list[ConnectionLog] = Field(default_factory=list)
    count: int = 0
    count_cap: int | None = None
