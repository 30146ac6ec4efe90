"""``vpsorg servers start|stop|reboot|delete ID...``: one bulk call over every id given.

Each command shows a progress bar (on a terminal), prints one row per id, prints one
``error: server ID: ...`` line on stderr per failed id and then exits 1 if any failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence

import click

import vpsorg

from ._fleet_options import (
    EXIT_STOPPED_EARLY,
    journal_option,
    max_errors_option,
    pause_option,
    rolling_option,
)
from ._options import SERVER_ID, concurrency_option, output_option, timeout_option
from ._progress import Phases
from ._render import Row, print_rows, report_failures, server_record, to_plain
from ._runtime import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    Settings,
    call,
    error_hint,
    stdin_is_interactive,
)

__all__ = ["POWER_COMMANDS", "delete_servers"]

BulkAction = Callable[..., Awaitable[vpsorg.BulkResult[int, vpsorg.ActionResult]]]


def _power_command(
    action: str,
    target: str,
    pick: Callable[[vpsorg.AsyncServers], BulkAction],
    summary: str,
) -> click.Command:
    """Build the command for one power action; ``target`` is the status it leads to."""

    @click.command(
        action,
        help=f"{summary}\n\nSeveral ids run as one bulk call; with --rolling, in batches.",
    )
    @click.argument("server_ids", metavar="ID...", nargs=-1, required=True, type=SERVER_ID)
    @click.option("--wait", is_flag=True, help=f"Then wait until every server is {target}.")
    @timeout_option
    @concurrency_option
    @max_errors_option
    @rolling_option
    @pause_option
    @journal_option
    @output_option
    @click.pass_obj
    def command(
        settings: Settings,
        server_ids: tuple[int, ...],
        wait: bool,
        timeout: float,
        concurrency: int,
        max_errors: vpsorg.MaxErrors,
        rolling: list[vpsorg.BatchSize] | None,
        pause: float,
        journal: str | None,
    ) -> None:
        ids = _unique(server_ids)
        if rolling is not None and journal is not None:
            raise click.UsageError("--journal records a plain bulk call: not with --rolling")
        stopped = [False]

        async def act(servers: vpsorg.AsyncServers) -> list[Row]:
            rows: list[Row] = []
            try:
                with Phases() as phases:
                    if rolling is not None:
                        return await _roll(
                            servers,
                            action,
                            ids,
                            rolling,
                            pause,
                            max_errors,
                            timeout,
                            concurrency,
                            phases,
                            stopped,
                        )
                    done = await pick(servers)(
                        ids,
                        concurrency=concurrency,
                        progress=phases.add(action, len(ids)),
                        max_errors=max_errors,
                        journal=journal,
                    )
                    stopped[0] = done.stopped_early
                    rows = [_action_row(outcome) for outcome in done]
                    await _explain_refusals(servers, rows, action)
                    if wait:
                        await _wait_rows(servers, rows, target, timeout, concurrency, phases)
            except asyncio.CancelledError:  # Ctrl-C: say what the API already accepted
                _say_accepted(rows, action, target)
                raise
            return rows

        rows = call(settings, act)
        _finish(settings, rows, f"{action} {_count(ids)}", stopped_early=stopped[0])

    return command


#: start, stop and reboot, in the order ``--help`` lists them.
POWER_COMMANDS = (
    _power_command(
        "start",
        "active",
        lambda s: s.start_many,
        "Power on stopped servers (--wait: until active).",
    ),
    _power_command(
        "stop", "stopped", lambda s: s.stop_many, "Shut down servers (--wait: until stopped)."
    ),
    _power_command(
        "reboot", "active", lambda s: s.reboot_many, "Restart servers (--wait: until active)."
    ),
)


@click.command("delete")
@click.argument("server_ids", metavar="ID...", nargs=-1, required=True, type=SERVER_ID)
@click.option("-y", "--yes", is_flag=True, help="Delete without asking first.")
@concurrency_option
@max_errors_option
@journal_option
@output_option
@click.pass_obj
def delete_servers(
    settings: Settings,
    server_ids: tuple[int, ...],
    yes: bool,
    concurrency: int,
    max_errors: vpsorg.MaxErrors,
    journal: str | None,
) -> None:
    """Delete servers permanently. Asks first, unless --yes.

    Without a terminal to ask on, it refuses unless --yes is given.
    """
    ids = _unique(server_ids)
    if not yes:
        _confirm_delete(ids)

    stopped = [False]

    async def delete(servers: vpsorg.AsyncServers) -> list[Row]:
        with Phases() as phases:
            done = await servers.delete_many(
                ids,
                concurrency=concurrency,
                progress=phases.add("delete", len(ids)),
                max_errors=max_errors,
                journal=journal,
            )
        stopped[0] = done.stopped_early
        return [Row(o.item, status="deleted") if o.ok else Row(o.item, error=o.error) for o in done]

    rows = call(settings, delete)
    _finish(settings, rows, f"delete {_count(ids)}", stopped_early=stopped[0])


def _confirm_delete(ids: Sequence[int]) -> None:
    if not stdin_is_interactive():
        raise click.UsageError(
            "refusing to delete without confirmation: stdin is not a terminal; pass --yes"
        )
    what = f"server {ids[0]}" if len(ids) == 1 else f"{len(ids)} servers ({_join(ids)})"
    try:
        confirmed = click.confirm(f"Delete {what}? This cannot be undone.", err=True)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        confirmed = False  # end of input: take it as a no
    if not confirmed:
        # Declining is a normal answer, not a failure: exit 0.
        click.echo("Nothing deleted.", err=True)
        raise click.exceptions.Exit(0)


def _action_row(outcome: vpsorg.Outcome[int, vpsorg.ActionResult]) -> Row:
    result = outcome.value
    if outcome.error is not None or result is None:
        return Row(outcome.item, error=outcome.error, extra={"result": None})
    return Row(
        outcome.item,
        status=str(result.server.status),
        detail=result.message,
        extra={"result": to_plain(result)},
    )


#: A status a server passes through, and the one it settles in.
_SETTLES_AS = {
    "provisioning": "active",
    "starting": "active",
    "rebooting": "active",
    "stopping": "stopped",
}


async def _explain_refusals(servers: vpsorg.AsyncServers, rows: Sequence[Row], action: str) -> None:
    """Say why the API refused an action when the server is still changing state.

    The API answers ``start`` on a server that is still stopping with "Server is already
    running."; the server's real status turns that into something to act on.
    """
    refused = [row for row in rows if isinstance(row.error, vpsorg.BadRequestError)]
    if not refused:
        return
    found = await servers.get_many([row.server_id for row in refused])
    status = {o.item: str(o.value.status) for o in found if o.ok and o.value is not None}
    for row in refused:
        current = status.get(row.server_id)
        settled = _SETTLES_AS.get(current or "")
        if current is None or settled is None:
            continue
        row.status = current
        row.message = (
            f"server {row.server_id} is still {current}: wait until it is {settled} "
            f"(vpsorg servers wait {row.server_id} {settled}), then {action} it"
        )


async def _wait_rows(
    servers: vpsorg.AsyncServers,
    rows: Sequence[Row],
    target: str,
    timeout: float,
    concurrency: int,
    phases: Phases,
) -> None:
    """Wait for ``target`` on every row that succeeded; record the outcome in the rows."""
    for row in rows:
        row.extra["server"] = None
    pending = [row.server_id for row in rows if row.ok]
    if not pending:
        return
    waited = await servers.wait_for_many(
        pending,
        target,
        timeout=timeout,
        concurrency=concurrency,
        progress=phases.add(f"wait for {target}", len(pending)),
    )
    outcomes = {o.item: o for o in waited}
    for row in rows:
        outcome = outcomes.get(row.server_id)
        if outcome is None:
            continue
        if outcome.error is not None or outcome.value is None:
            row.error = outcome.error
        else:
            row.status = str(outcome.value.status)
            row.detail = f"{row.detail}; now {row.status}"
            row.extra["server"] = server_record(outcome.value)


def _say_accepted(rows: Sequence[Row], action: str, target: str) -> None:
    """On Ctrl-C after the actions were sent: which ids the API accepted, which are unknown."""
    accepted = [row.server_id for row in rows if row.ok]
    unknown = [row.server_id for row in rows if isinstance(row.error, vpsorg.OutcomeUnknownError)]
    if accepted:
        click.echo(
            f"interrupted: the API accepted the {action} of {_count(accepted)} "
            f"({_join(accepted)}); they may not be {target} yet",
            err=True,
        )
    if unknown:
        click.echo(
            f"interrupted: the {action} of {_count(unknown)} ({_join(unknown)}) may or may "
            "not have happened; check with: vpsorg servers get ID",
            err=True,
        )


async def _roll(
    servers: vpsorg.AsyncServers,
    action: str,
    ids: list[int],
    batches: list[vpsorg.BatchSize],
    pause: float,
    max_errors: vpsorg.MaxErrors,
    timeout: float,
    concurrency: int,
    phases: Phases,
    stopped: list[bool],
) -> list[Row]:
    """``--rolling``: the action batch by batch, each batch waited for before the next."""
    bar = phases.add(f"rolling {action}", len(ids))

    def progress(update: vpsorg.BulkProgress) -> None:
        bar.describe(f"rolling {action}: batch {update.batch}/{update.batches}")
        bar(update)

    done = await servers.rolling(
        action,  # type: ignore[arg-type]  # one of start, stop, reboot: the command's name
        ids,
        batches=batches,
        pause=pause,
        max_errors=max_errors,
        timeout=timeout,
        concurrency=concurrency,
        progress=progress,
    )
    stopped[0] = done.stopped_early
    rows = []
    for outcome in done:
        if outcome.ok:
            rows.append(
                Row(
                    outcome.item,
                    status=str(outcome.value.status),
                    detail=f"{action} done; now {outcome.value.status}",
                    extra={"server": server_record(outcome.value)},
                )
            )
        else:
            rows.append(Row(outcome.item, error=outcome.error, extra={"server": None}))
    return rows


def _finish(
    settings: Settings, rows: Sequence[Row], title: str, *, stopped_early: bool = False
) -> None:
    print_rows(settings, rows, title)
    if report_failures(rows):
        hints = [error_hint(row.error, settings.effective_base_url) for row in rows]
        for hint in dict.fromkeys(h for h in hints if h is not None):
            click.echo(f"hint: {hint}", err=True)
        if stopped_early:
            not_started = sum(isinstance(row.error, vpsorg.NotStartedError) for row in rows)
            click.echo(
                f"error: stopped early: the error budget (--max-errors) was spent; "
                f"{not_started} not started",
                err=True,
            )
            raise click.exceptions.Exit(EXIT_STOPPED_EARLY)
        raise click.exceptions.Exit(EXIT_FAILURE)


def _unique(ids: Iterable[int]) -> list[int]:
    """The ids in the order given, each once (acting twice on one id would fail)."""
    return list(dict.fromkeys(ids))


def _count(ids: Sequence[int]) -> str:
    return f"{len(ids)} server{'s' if len(ids) != 1 else ''}"


def _join(ids: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, ids[:limit]))
    return shown if len(ids) <= limit else f"{shown}, ... ({len(ids) - limit} more)"
