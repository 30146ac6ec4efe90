"""``vpsorg servers create --from specs.jsonl [--journal run.jsonl]``: a fleet from a file.

The file holds one server per line, a JSON object with the fields of ``servers.create``
(``name``, ``plan_id``, ``os_id``, ``location``, and optionally ``hostname``,
``ssh_key_id``, ``backups_enabled``); blank lines are skipped. The specs run as one
``create_many`` call. With ``--journal``, rerunning the same command after it was killed
(or after a crash) creates only what is left and never creates a server twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table
from rich.text import Text

import vpsorg

from ._fleet_options import EXIT_STOPPED_EARLY
from ._progress import Phases
from ._render import emit_json, print_table, server_record, status_text
from ._runtime import EXIT_FAILURE, Settings, call, one_line

__all__ = ["create_from_file", "read_specs"]


def read_specs(path: str) -> list[dict[str, Any]]:
    """The specs of a JSON-lines file, one object a line.

    Raises:
        click.UsageError: the file cannot be read, or a line is not a JSON object.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"--from {path!r}: cannot read it: {error}") from None
    specs: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
        except ValueError as error:
            raise click.UsageError(f"--from {path!r}, line {number}: not JSON: {error}") from None
        if not isinstance(spec, dict):
            raise click.UsageError(f"--from {path!r}, line {number}: not a JSON object")
        specs.append(spec)
    if not specs:
        raise click.UsageError(f"--from {path!r}: no server in it")
    return specs


def create_from_file(
    settings: Settings,
    path: str,
    *,
    journal: str | None,
    max_errors: vpsorg.MaxErrors,
    concurrency: int,
    reconcile: bool,
) -> None:
    """Create every server of ``path`` in one bulk call; print one row per spec."""
    specs = read_specs(path)

    async def create(
        servers: vpsorg.AsyncServers,
    ) -> vpsorg.BulkResult[dict[str, Any], vpsorg.Server]:
        with Phases() as phases:
            try:
                return await servers.create_many(
                    specs,
                    concurrency=concurrency,
                    progress=phases.add("create", len(specs)),
                    reconcile=reconcile,
                    max_errors=max_errors,
                    journal=journal,
                )
            except BaseException as interrupt:  # Ctrl-C: say what was made before exiting
                _report_partial(vpsorg.partial_result(interrupt), journal)
                raise

    done = call(settings, create)
    _print(settings, done)
    failed = done.failed
    for number, outcome in enumerate(done, start=1):
        if not outcome.ok:
            name = outcome.item.get("name")
            click.echo(f"error: spec {number} ({name}): {one_line(outcome.error)}", err=True)
    if done.stopped_early:
        click.echo(
            f"error: stopped early: the error budget (--max-errors) was spent; "
            f"{len(done.not_started)} not started",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_STOPPED_EARLY)
    if failed:
        raise click.exceptions.Exit(EXIT_FAILURE)


def _report_partial(
    partial: vpsorg.BulkResult[Any, vpsorg.Server] | None, journal: str | None
) -> None:
    """On an interrupt: the servers created so far, and the creates of unknown outcome."""
    if partial is None:
        return
    made = [str(outcome.value.id) for outcome in partial.succeeded]
    unknown = [o for o in partial.failed if isinstance(o.error, vpsorg.OutcomeUnknownError)]
    click.echo(f"created before the interrupt: {len(made)} ({', '.join(made) or 'none'})", err=True)
    if unknown:
        names = ", ".join(str(o.item.get("name")) for o in unknown)
        click.echo(f"outcome unknown (may have been created): {names}", err=True)
    if journal is not None:
        click.echo(f"rerun with --journal {journal} to finish: nothing is created twice", err=True)


def _print(settings: Settings, done: vpsorg.BulkResult[dict[str, Any], vpsorg.Server]) -> None:
    if settings.output_format == "json":
        emit_json(
            [
                {
                    "spec": number,
                    "name": outcome.item.get("name"),
                    "ok": outcome.ok,
                    "id": outcome.value.id if outcome.ok else None,
                    "error": None if outcome.ok else one_line(outcome.error),
                    "error_type": None if outcome.ok else type(outcome.error).__name__,
                    "server": server_record(outcome.value) if outcome.ok else None,
                }
                for number, outcome in enumerate(done, start=1)
            ]
        )
        return
    failed = len(done.failed)
    table = Table(
        title=f"create {len(done)} servers: {len(done) - failed} ok, {failed} failed",
        box=box.SIMPLE_HEAD,
    )
    for column in ("SPEC", "NAME", "RESULT", "ID", "STATUS"):
        table.add_column(column, justify="right" if column in ("SPEC", "ID") else "left")
    for number, outcome in enumerate(done, start=1):
        name = str(outcome.item.get("name"))
        if outcome.ok:
            server = outcome.value
            table.add_row(
                str(number),
                name,
                Text("ok", style="green"),
                str(server.id),
                status_text(server.status),
            )
        else:
            table.add_row(str(number), name, Text("failed", style="bold red"), "-", Text("-"))
    print_table(table)
