"""Rendering a :class:`~connlog_query.models.ConnectionLogResponse` for the command line.

Shared by every command that prints connection logs (``search``, ``fetch``). Four formats:

* ``table``: a terminal table (rich when installed, plain aligned text otherwise) and a footer
  with the row range, the count and any notes;
* ``json``: Coder's response body (``{"connection_logs": [...], "count": n, "count_cap": 2000}``);
* ``jsonl``: one ``ConnectionLog`` object per line, as Coder writes it;
* ``csv``: one flat row per log, columns :data:`CSV_COLUMNS`.

For the machine formats the footer notes go to stderr, so stdout stays parseable.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Sequence
from typing import TextIO

from ..models import ConnectionLog, ConnectionLogResponse, format_go_time

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "TABLE_COLUMNS",
    "add_format_argument",
    "flatten",
    "footer",
    "write_response",
]

FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv")
"""Output formats, the first being the default."""

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "connect_time",
    "organization",
    "workspace_owner",
    "workspace_id",
    "workspace_name",
    "agent_name",
    "type",
    "type_display_name",
    "ip",
    "status",
    "disconnect_time",
    "disconnect_reason",
    "code",
    "connection_id",
    "user",
    "user_email",
    "slug_or_port",
    "user_agent",
)
"""Columns of the ``csv`` format (one row per connection log; empty when not applicable)."""

TABLE_COLUMNS: tuple[str, ...] = (
    "Time (UTC)",
    "Type",
    "Owner",
    "Workspace",
    "Organization",
    "User",
    "Status",
    "IP",
)
"""Column titles of the ``table`` format."""


def add_format_argument(parser: argparse.ArgumentParser, *, default: str = "table") -> None:
    """Add ``--format {table,json,jsonl,csv}`` to ``parser``."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=default,
        help=f"output format (default: {default})",
    )


def _status(log: ConnectionLog) -> str:
    if log.ssh_info is None:
        return ""
    return "ongoing" if log.ssh_info.disconnect_time is None else "completed"


def flatten(log: ConnectionLog) -> dict[str, str]:
    """One log as the flat text columns of :data:`CSV_COLUMNS`."""
    web, ssh = log.web_info, log.ssh_info
    user = web.user if web is not None else None
    code: int | None = None
    if web is not None:
        code = web.status_code
    elif ssh is not None:
        code = ssh.exit_code
    return {
        "id": str(log.id),
        "connect_time": format_go_time(log.connect_time),
        "organization": log.organization.name,
        "workspace_owner": log.workspace_owner_username,
        "workspace_id": str(log.workspace_id),
        "workspace_name": log.workspace_name,
        "agent_name": log.agent_name,
        "type": log.type,
        "type_display_name": log.type_display_name or "",
        "ip": log.ip or "",
        "status": _status(log),
        "disconnect_time": (
            format_go_time(ssh.disconnect_time) if ssh and ssh.disconnect_time else ""
        ),
        "disconnect_reason": (ssh.disconnect_reason or "") if ssh else "",
        "code": "" if code is None else str(code),
        "connection_id": str(ssh.connection_id) if ssh else "",
        "user": user.username if user else "",
        "user_email": user.email if user else "",
        "slug_or_port": web.slug_or_port if web else "",
        "user_agent": web.user_agent if web else "",
    }


def _duration(start: dt.datetime, end: dt.datetime) -> str:
    seconds = max(0, int((end - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _table_row(log: ConnectionLog) -> tuple[str, ...]:
    when = log.connect_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    web, ssh = log.web_info, log.ssh_info
    if web is not None:
        status = f"HTTP {web.status_code}" if log.type != "tunnel" else f"code {web.status_code}"
        user = web.user.username if web.user is not None else "(anonymous)"
    elif ssh is not None and ssh.disconnect_time is not None:
        status = f"done {_duration(log.connect_time, ssh.disconnect_time)}"
        if ssh.exit_code is not None:
            status += f", exit {ssh.exit_code}"
        user = ""
    else:
        status, user = "ongoing", ""
    return (
        when,
        log.type_display_name or log.type,
        log.workspace_owner_username,
        f"{log.workspace_name}.{log.agent_name}",
        log.organization.name,
        user,
        status,
        log.ip or "",
    )


def footer(response: ConnectionLogResponse, offset: int = 0) -> str:
    """``Rows 1-100 of 2001 (more than 2000) matching connection logs.`` and the like."""
    shown = len(response.connection_logs)
    cap = response.count_cap
    count = f"{response.count}"
    if cap and response.count > cap:
        count = f"more than {cap}"
    elif getattr(response, "count_exact", True) is False:
        # A client-side residual filter saw only part of the pushed rows.
        count = f"at least {response.count}"
    if not response.count:
        return "No matching connection logs."
    if not shown:
        return f"No rows at offset {offset}; {count} matching connection logs."
    return f"Rows {offset + 1}-{offset + shown} of {count} matching connection logs."


def _plain_table(rows: Sequence[tuple[str, ...]], stream: TextIO) -> None:
    widths = [len(title) for title in TABLE_COLUMNS]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for row in (TABLE_COLUMNS, tuple("-" * w for w in widths), *rows):
        stream.write(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )


def _rich_table(rows: Sequence[tuple[str, ...]], stream: TextIO) -> bool:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return False
    # Off a terminal rich would assume 80 columns and wrap every cell; give it room instead.
    console = Console(file=stream, width=None if stream.isatty() else 240, soft_wrap=False)
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for title in TABLE_COLUMNS:
        table.add_column(title, no_wrap=title in ("Time (UTC)", "IP"), overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return True


def write_response(
    response: ConnectionLogResponse,
    fmt: str = "table",
    *,
    stream: TextIO | None = None,
    notes: Sequence[str] = (),
    offset: int = 0,
    err: TextIO | None = None,
) -> None:
    """Print ``response`` in format ``fmt`` (one of :data:`FORMATS`).

    Args:
        response: The page to print.
        fmt: ``table``, ``json``, ``jsonl`` or ``csv``.
        stream: Where rows go (default: stdout).
        notes: Extra footer lines (e.g. which user ``me`` stands for).
        offset: The page's offset, for the row numbers in the footer.
        err: Where notes go for the machine formats (default: stderr).
    """
    out = sys.stdout if stream is None else stream
    err = sys.stderr if err is None else err
    logs = response.connection_logs
    if fmt == "table":
        rows = [_table_row(log) for log in logs]
        if rows and not _rich_table(rows, out):
            _plain_table(rows, out)
        for line in (footer(response, offset), *notes):
            out.write(line + "\n")
        return
    if fmt == "json":
        out.write(response.model_dump_json(indent=2) + "\n")
    elif fmt == "jsonl":
        for log in logs:
            out.write(log.model_dump_json() + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for log in logs:
            writer.writerow(flatten(log))
    else:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    for line in notes:
        err.write(line + "\n")
