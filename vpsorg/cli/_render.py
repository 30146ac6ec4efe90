"""Turning SDK objects into output: JSON for machines, rich tables for people.

JSON is written for ``jq``: servers are objects with every field of
[`vpsorg.Server`][vpsorg.Server] (``null`` where the view has no value) and ISO 8601 UTC
timestamps (``"2025-01-10T14:30:00Z"``). Tables go to stdout too; errors go to stderr.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, cast

import attrs
import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import vpsorg

from ._runtime import Settings, one_line, stream_is_terminal

__all__ = [
    "Row",
    "emit_json",
    "print_rows",
    "print_server",
    "print_servers",
    "print_table",
    "report_failure",
    "report_failures",
    "server_record",
    "status_text",
    "to_plain",
]

# Wide enough that a table piped to a file or a pager is not wrapped at 80 columns.
_PIPE_WIDTH = 160

_STATUS_STYLES = {
    "active": "green",
    "stopped": "red",
    "suspended": "bold red",
    "deleted": "dim",
}


def to_plain(value: object) -> Any:
    """An SDK value as plain JSON data: attrs classes become objects, times ISO strings."""
    if attrs.has(type(value)):
        return {
            a.name: to_plain(getattr(value, a.name)) for a in attrs.fields(cast(Any, type(value)))
        }
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def server_record(server: vpsorg.Server) -> dict[str, Any]:
    """A server as a JSON object."""
    record: dict[str, Any] = to_plain(server)
    return record


def emit_json(data: object) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def stdout_console() -> Console:
    """A rich console on the current stdout (looked up now: CliRunner swaps it)."""
    if stream_is_terminal(sys.stdout):
        return Console(file=sys.stdout)
    return Console(file=sys.stdout, width=_PIPE_WIDTH)


def print_table(table: Table, *, plain: bool = False) -> None:
    """Print a rich table on stdout; ``plain``: 80 columns, no colour, for a pipe or file."""
    if plain:
        Console(file=sys.stdout, width=80, no_color=True, highlight=False).print(table)
        return
    stdout_console().print(table)


def status_text(status: object) -> Text:
    """A status, coloured: green when active, red when stopped, yellow in between."""
    value = str(status)
    return Text(value, style=_STATUS_STYLES.get(value, "yellow"))


def print_servers(
    settings: Settings,
    servers: Sequence[vpsorg.Server],
    title: str | None = None,
    *,
    compact: bool = False,
) -> None:
    """Print servers as a JSON array or a table (``title`` above it).

    ``compact`` leaves out the IPv4 column, so the table fits 80 columns with the plan
    and OS names whole.
    """
    if settings.output_format == "json":
        emit_json([server_record(s) for s in servers])
        return
    count = f"{len(servers)} server{'s' if len(servers) != 1 else ''}"
    table = Table(
        title=f"{title}: {count}" if title else count,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    # Short columns never wrap; plan and OS names wrap first on a narrow terminal.
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("NAME", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    if not compact:
        table.add_column("IPV4", no_wrap=True)
    table.add_column("LOCATION", no_wrap=True)
    table.add_column("PLAN", no_wrap=True)  # plan names are short; the OS wraps first
    table.add_column("OS")
    for s in servers:
        cells: list[str | Text] = [str(s.id), s.name, status_text(s.status)]
        if not compact:
            cells.append(s.ip_address or "-")
        cells += [s.location, s.plan.name, s.os.name]
        table.add_row(*cells)
    print_table(table)


def print_server(settings: Settings, server: vpsorg.Server) -> None:
    """Print one server as a JSON object or a two-column table of its fields."""
    if settings.output_format == "json":
        emit_json(server_record(server))
        return
    table = Table(title=f"server {server.id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    plan = server.plan
    size = f"{plan.vcpus} vCPU, {plan.memory} MB, {plan.storage} GB"
    if plan.bandwidth is not None:
        size += f", {plan.bandwidth} GB transfer"
    rows: list[tuple[str, str | Text | None]] = [
        ("id", str(server.id)),
        ("name", server.name),
        ("status", status_text(server.status)),
        ("hostname", server.hostname),
        ("ipv4", server.ip_address),
        ("ipv6", server.ipv6_address),
        ("location", server.location),
        ("plan", f"{plan.id} {plan.name} ({size})"),
        ("os", f"{server.os.id} {server.os.name}"),
        ("backups", _yes_no(server.backups_enabled)),
        ("created", _iso(server.created_at)),
        ("updated", _iso(server.updated_at)),
    ]
    usage = server.resource_usage
    if usage is not None:
        rows.append(
            (
                "usage",
                f"CPU {usage.cpu_percent:g}%, memory {usage.memory_used} MB, "
                f"disk {usage.disk_used} GB, transfer {usage.bandwidth_used} GB",
            )
        )
    if server.message:
        rows.append(("message", server.message))
    for name, value in rows:
        table.add_row(name, value if value is not None else "-")
    print_table(table)


@dataclass
class Row:
    """One item of a bulk command's result, for both the table and the JSON.

    Attributes:
        server_id: the id the command acted on.
        error: the item's failure, or ``None`` when it succeeded.
        status: the server's status after the command, when known.
        detail: a short human note (the API's message, or the error).
        extra: further JSON fields for this item (e.g. ``result``, ``server``).
        message: what to tell the user about the failure instead of the error's own
            text, when the command knows better (e.g. the server is still stopping).
    """

    server_id: int
    error: BaseException | None = None
    status: str | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    message: str | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None

    def record(self) -> dict[str, Any]:
        """The item as a JSON object."""
        return {
            "id": self.server_id,
            "ok": self.ok,
            "status": self.status,
            "error": None if self.error is None else self.message or one_line(self.error),
            "error_type": None if self.error is None else type(self.error).__name__,
            **self.extra,
        }


def print_rows(settings: Settings, rows: Sequence[Row], title: str) -> None:
    """Print a bulk command's rows: a JSON array, or a table with one line per id."""
    if settings.output_format == "json":
        emit_json([row.record() for row in rows])
        return
    failed = sum(1 for row in rows if not row.ok)
    table = Table(title=f"{title}: {len(rows) - failed} ok, {failed} failed", box=box.SIMPLE_HEAD)
    table.add_column("ID", justify="right")
    table.add_column("RESULT")
    table.add_column("STATUS")
    table.add_column("DETAIL")
    for row in rows:
        result = Text("ok", style="green") if row.ok else Text("failed", style="bold red")
        status = status_text(row.status) if row.status else Text("-")
        detail = row.detail if row.error is None else row.message or _short_error(row.error)
        table.add_row(str(row.server_id), result, status, detail)
    print_table(table)


def report_failure(label: str, error: BaseException) -> None:
    """One line on stderr for one failed item: ``error: <label>: <message>``."""
    click.echo(f"error: {label}: {one_line(error)}", err=True)


def report_failures(rows: Iterable[Row]) -> int:
    """Report every failed row on stderr; return how many there were."""
    count = 0
    for row in rows:
        if row.error is None:
            continue
        label = f"server {row.server_id}"
        if row.message is not None:
            click.echo(f"error: {row.message}", err=True)
        elif one_line(row.error).startswith(f"{label} "):  # e.g. a wait timeout names it
            click.echo(f"error: {one_line(row.error)}", err=True)
        else:
            report_failure(label, row.error)
        count += 1
    return count


def _short_error(error: BaseException) -> str:
    """An error for a table cell: the status and the API's message, without the URL."""
    if isinstance(error, vpsorg.APIStatusError):
        return f"HTTP {error.status_code}: {error.message}"
    return one_line(error)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.isoformat()
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("on" if value else "off")
