"""``vpsorg servers``: list, get, create, update, patch and wait for servers.

The commands that act on many ids at once (start, stop, reboot, delete) are in
`vpsorg.cli._power` and are added to the same group.
"""

from __future__ import annotations

import asyncio

import click

import vpsorg

from ._create_many import create_from_file
from ._fleet_options import journal_option, max_errors_option
from ._options import SERVER_ID, concurrency_option, output_option, timeout_option
from ._progress import Phases
from ._render import print_server, print_servers
from ._runtime import Settings, call

__all__ = ["servers"]


@click.group("servers")
def servers() -> None:
    """List, create, change, power on and off, and delete servers."""


@servers.command("list")
@click.option("--status", help="Only servers with this status (active, stopped, suspended, ...).")
@click.option("--location", help="Only servers in this data center (us-west, us-east, ...).")
@output_option
@click.pass_obj
def list_servers(settings: Settings, status: str | None, location: str | None) -> None:
    """List the servers in the account (every page)."""
    found = call(settings, lambda s: s.list(status=status, location=location).to_list())
    print_servers(settings, found)


@servers.command("get")
@click.argument("server_id", type=SERVER_ID)
@output_option
@click.pass_obj
def get_server(settings: Settings, server_id: int) -> None:
    """Show one server's details, with its addresses and resource usage."""
    print_server(settings, call(settings, lambda s: s.get(server_id)))


@servers.command("create")
@click.option("--name", help="Letters, digits and hyphens.  [required without --from]")
@click.option(
    "--plan-id", type=SERVER_ID, help="The plan (size), e.g. 1.  [required without --from]"
)
@click.option(
    "--os-id", type=SERVER_ID, help="The operating system, e.g. 5.  [required without --from]"
)
@click.option("--location", help="The data center, e.g. us-west.  [required without --from]")
@click.option("--hostname", help="The server's FQDN [default: chosen by the API].")
@click.option("--ssh-key-id", type=SERVER_ID, help="The id of an SSH key to install.")
@click.option(
    "--backups/--no-backups", default=None, help="Automatic backups [default: the API's, off]."
)
@click.option("--wait", is_flag=True, help="Wait until the server is active.")
@click.option(
    "--reconcile",
    is_flag=True,
    help="If the outcome is unknown (answer lost), find the server the create made.",
)
@click.option(
    "--from",
    "from_file",
    metavar="SPECS.jsonl",
    help="Create every server of this JSON-lines file (one object of the options' fields a line).",
)
@journal_option
@max_errors_option
@concurrency_option
@timeout_option
@output_option
@click.pass_obj
def create_server(
    settings: Settings,
    name: str,
    plan_id: int,
    os_id: int,
    location: str,
    hostname: str | None,
    ssh_key_id: int | None,
    backups: bool | None,
    wait: bool,
    reconcile: bool,
    from_file: str | None,
    journal: str | None,
    max_errors: vpsorg.MaxErrors,
    concurrency: int,
    timeout: float,
) -> None:
    """Create (deploy) a server and show it; or, with --from, every server of a file.

    With --reconcile, a create whose answer was lost is settled by listing the servers:
    the one it made is shown; if it made none, or several could be it, the error says so.
    With --from and --journal, rerunning the same command after it was killed creates
    only what is left, never a server twice.
    """
    single = {"--name": name, "--plan-id": plan_id, "--os-id": os_id, "--location": location}
    if from_file is not None:
        given = [flag for flag, value in single.items() if value is not None]
        if given or hostname or ssh_key_id or backups is not None or wait:
            raise click.UsageError("--from takes the servers from the file: give no other spec")
        create_from_file(
            settings,
            from_file,
            journal=journal,
            max_errors=max_errors,
            concurrency=concurrency,
            reconcile=reconcile,
        )
        return
    missing = [flag for flag, value in single.items() if value is None]
    if missing:
        raise click.UsageError(f"Missing option {missing[0]!r} (or give --from SPECS.jsonl).")
    if journal is not None or max_errors is not None:
        raise click.UsageError("--journal and --max-errors are for --from")

    async def create(s: vpsorg.AsyncServers) -> vpsorg.Server:
        try:
            server = await s.create(
                name=name,
                plan_id=plan_id,
                os_id=os_id,
                location=location,
                hostname=hostname,
                ssh_key_id=ssh_key_id,
                backups_enabled=backups,
                reconcile=reconcile,
            )
        except asyncio.CancelledError as interrupt:  # Ctrl-C with the create in flight
            if getattr(interrupt, "outcome_unknown", None) is not None:
                click.echo(
                    f"interrupted: the create of {name!r} may have reached the API; "
                    f"check with: vpsorg servers list --location {location}",
                    err=True,
                )
            raise
        if not wait:
            return server
        try:
            return await _wait_with_bar(s, server.id, "active", timeout)
        except asyncio.CancelledError:  # Ctrl-C: the server exists, say which it is
            click.echo(
                f"interrupted: server {server.id} ({server.name!r}) was created and is not "
                f"active yet; wait with: vpsorg servers wait {server.id} active",
                err=True,
            )
            raise

    print_server(settings, call(settings, create))


@servers.command("update")
@click.argument("server_id", type=SERVER_ID)
@click.option("--name", required=True, help="The new name.")
@click.option("--hostname", required=True, help="The new FQDN.")
@click.option("--backups/--no-backups", default=None, help="Automatic backups on or off.")
@output_option
@click.pass_obj
def update_server(
    settings: Settings, server_id: int, name: str, hostname: str, backups: bool | None
) -> None:
    """Replace a server's settings (PUT): --name, --hostname and --backups/--no-backups."""
    if backups is None:
        # click does not enforce required=True on a boolean flag pair.
        raise click.UsageError("Missing option '--backups/--no-backups'.")
    print_server(settings, call(settings, lambda s: s.update(server_id, name, hostname, backups)))


@servers.command("patch")
@click.argument("server_id", type=SERVER_ID)
@click.option("--name", help="The new name.")
@click.option("--hostname", help="The new FQDN.")
@click.option("--backups/--no-backups", default=None, help="Automatic backups on or off.")
@output_option
@click.pass_obj
def patch_server(
    settings: Settings,
    server_id: int,
    name: str | None,
    hostname: str | None,
    backups: bool | None,
) -> None:
    """Change some of a server's settings (PATCH): only the options given."""
    if name is None and hostname is None and backups is None:
        raise click.UsageError("give at least one of --name, --hostname, --backups/--no-backups")
    print_server(
        settings,
        call(
            settings,
            lambda s: s.patch(server_id, name=name, hostname=hostname, backups_enabled=backups),
        ),
    )


@servers.command("wait")
@click.argument("server_id", type=SERVER_ID)
@click.argument("status", required=False, metavar="[STATUS]")
@click.option(
    "--status",
    "status_option",
    metavar="STATUS",
    help="The same as the STATUS argument (kept for scripts written before it).",
)
@timeout_option
@output_option
@click.pass_obj
def wait_server(
    settings: Settings,
    server_id: int,
    status: str | None,
    status_option: str | None,
    timeout: float,
) -> None:
    """Wait until a server has STATUS (default: active), then show it (exit 1 on timeout).

    For example `vpsorg servers wait 12394` or `vpsorg servers wait 12394 stopped`.
    """
    if status is not None and status_option is not None and status != status_option:
        raise click.UsageError(f"two statuses given: {status!r} and --status {status_option!r}")
    target = status or status_option or "active"
    print_server(settings, call(settings, lambda s: _wait_with_bar(s, server_id, target, timeout)))


async def _wait_with_bar(
    servers: vpsorg.AsyncServers, server_id: int, status: str, timeout: float
) -> vpsorg.Server:
    with Phases() as phases:
        bar = phases.add(f"wait for {status}", 1)
        server = await servers.wait_for(server_id, status, timeout=timeout)
        bar.finish()
    return server
