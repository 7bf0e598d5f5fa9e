"""Coder's V2 app registry: app name -> family and display name, and the ``type`` expansion.

Coder (V2) stores the normalized name of the connecting app in ``connection_logs.type`` and
expands a ``type`` filter value (a family name or a web type) to every app in that family.
Backends use :func:`matching_types` when the schema is configured for family expansion.
"""

from __future__ import annotations

import unicodedata

from .values import ConnectionType

__all__ = [
    "APP_REGISTRY",
    "display_name",
    "matching_types",
    "normalize_app_name",
]

APP_REGISTRY: dict[str, tuple[str, str]] = {
    "vscode": ("vscode", "VS Code"),
    "vscode_insiders": ("vscode", "VS Code Insiders"),
    "vscode_web": ("vscode", "VS Code Web"),
    "code_server": ("vscode", "code-server"),
    "cursor": ("vscode", "Cursor"),
    "windsurf": ("vscode", "Windsurf"),
    "positron": ("vscode", "Positron"),
    "vscodium": ("vscode", "VSCodium"),
    "codium": ("vscode", "VSCodium"),
    "antigravity": ("vscode", "Antigravity"),
    "trae": ("vscode", "Trae"),
    "kiro": ("vscode", "Kiro"),
    "devin": ("vscode", "Devin"),
    "jetbrains": ("jetbrains", "JetBrains"),
    "sftp": ("sftp", "SFTP"),
    "zed": ("ssh", "Zed"),
    "ssh": ("ssh", "SSH"),
    "reconnecting_pty": ("reconnecting_pty", "Web Terminal"),
}
"""App name -> (family, display name), exactly Coder's V2 registry."""

_WEB_DISPLAY = {
    "workspace_app": "Workspace App",
    "port_forwarding": "Port Forwarding",
    "tunnel": "Tunnel",
}


def matching_types(value: ConnectionType) -> tuple[str, ...]:
    """Stored ``type`` values that a ``type`` filter value matches under family expansion.

    The family name itself is always included; web types match only themselves. Sorted, as
    Coder sorts them.
    """
    if value.is_point_in_time:
        return (value.value,)
    names = {name for name, (family, _) in APP_REGISTRY.items() if family == value.value}
    names.add(value.value)
    return tuple(sorted(names))


def display_name(stored_type: str) -> str:
    """Coder's ``type_display_name`` for a stored ``type`` value (unregistered: unchanged)."""
    if stored_type in _WEB_DISPLAY:
        return _WEB_DISPLAY[stored_type]
    entry = APP_REGISTRY.get(stored_type)
    return entry[1] if entry else stored_type


def normalize_app_name(name: str) -> str:
    """Normalize an app name the way Coder does before storing it.

    Removes control characters, trims, truncates to 64 characters, trims again, uses
    ``unknown`` when empty, lower-cases and replaces ``-`` with ``_``.
    """
    kept = "".join(ch for ch in name if unicodedata.category(ch) != "Cc").strip()
    kept = kept[:64].strip() or "unknown"
    return kept.lower().replace("-", "_")
