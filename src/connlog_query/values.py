"""Closed vocabularies of the connection-log language: connection types, status, ``me``, keys.

These are plain data shared by every stage (validation, canonical form, backends), so they live
in a module of their own that imports nothing else from the package.
"""

from __future__ import annotations

import enum

__all__ = [
    "FILTER_KEYS",
    "ME",
    "ConnectionStatus",
    "ConnectionType",
    "Me",
]


class ConnectionType(str, enum.Enum):
    """Valid values of the ``type`` filter (Coder V2 and the tunnel addition: seven values)."""

    SSH = "ssh"
    VSCODE = "vscode"
    JETBRAINS = "jetbrains"
    RECONNECTING_PTY = "reconnecting_pty"
    WORKSPACE_APP = "workspace_app"
    PORT_FORWARDING = "port_forwarding"
    TUNNEL = "tunnel"

    @property
    def is_point_in_time(self) -> bool:
        """True for the web events that have no duration and are excluded by ``status``."""
        return self in POINT_IN_TIME_TYPES

    def __str__(self) -> str:
        return self.value


POINT_IN_TIME_TYPES: frozenset[ConnectionType] = frozenset(
    {ConnectionType.WORKSPACE_APP, ConnectionType.PORT_FORWARDING, ConnectionType.TUNNEL}
)


class ConnectionStatus(str, enum.Enum):
    """Valid values of the ``status`` filter."""

    ONGOING = "ongoing"
    COMPLETED = "completed"

    def __str__(self) -> str:
        return self.value


class Me(str, enum.Enum):
    """Marker for the ``me`` shortcut of ``workspace_owner`` and ``username``.

    It stands for "the authenticated caller"; a backend replaces it with the caller's user id.
    Use the module constant :data:`ME`.
    """

    ME = "me"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return "ME"


ME = Me.ME
"""The single :class:`Me` value."""

FILTER_KEYS: tuple[str, ...] = (
    "organization",
    "workspace_owner",
    "workspace_owner_email",
    "type",
    "username",
    "user_email",
    "connected_after",
    "connected_before",
    "workspace_id",
    "connection_id",
    "status",
)
"""The 11 search keys in Coder's parse order, which is also the order of errors and of the
canonical form."""
