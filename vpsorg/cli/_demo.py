"""``vpsorg demo``: a fleet's life on the bundled simulator, one bulk call per phase.

It starts the simulator in this process, then, through the public SDK only: creates N
servers concurrently, waits until all are active, reboots them and waits until they are
active again, stops them and waits until they are stopped, deletes them, and lists the
account. Then (unless ``--no-faults``) it does it again with the simulator injecting
failures, and shows what the SDK did about them (`vpsorg.cli._demo_faults`). The
account ends with the two sample servers it started with.

On a terminal it draws progress bars and tables; piped, it prints a short plain summary
(``-o json`` for the whole report as JSON).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from rich import box
from rich.table import Table

import vpsorg

from ._demo_faults import FaultReport, fault_phase
from ._options import concurrency_option, output_option
from ._progress import Phase, Phases
from ._render import (
    emit_json,
    print_servers,
    print_table,
    report_failure,
    server_record,
)
from ._runtime import EXIT_FAILURE, Settings, run, stream_is_terminal

__all__ = ["DemoReport", "PhaseReport", "Runner", "demo", "run_demo"]

F = TypeVar("F", bound=Callable[..., Any])
ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")

# Short sweeps: the simulator's transitions take seconds, not the minutes of real ones.
_WAIT_INTERVAL = 0.2
_WAIT_MAX_INTERVAL = 0.5
_WAIT_TIMEOUT = 120.0


@dataclass
class PhaseReport:
    """How one phase went."""

    name: str
    count: int
    succeeded: int = 0
    failed: int = 0
    seconds: float = 0.0
    under_faults: bool = False

    @property
    def ops_per_second(self) -> float | None:
        """Items finished per second of wall time, or ``None`` for an empty phase."""
        return self.count / self.seconds if self.count and self.seconds > 0 else None

    def record(self) -> dict[str, Any]:
        """This phase as a JSON object."""
        ops = self.ops_per_second
        return {
            "phase": self.name,
            "count": self.count,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "ops_per_second": None if ops is None else round(ops, 1),
            "under_faults": self.under_faults,
        }


@dataclass
class DemoReport:
    """Everything the demo shows at the end."""

    servers: int
    concurrency: int
    phases: list[PhaseReport] = field(default_factory=list)
    before: list[vpsorg.Server] = field(default_factory=list)
    after: list[vpsorg.Server] = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0
    faults: FaultReport | None = None

    @property
    def restored(self) -> bool:
        """True when the account ends with exactly the servers it started with."""
        return sorted(s.id for s in self.after) == sorted(s.id for s in self.before)

    @property
    def ok(self) -> bool:
        """True when the account was restored, every phase without faults succeeded, and
        under faults no create was duplicated and every item was accounted for."""
        clean = [p for p in self.phases if not p.under_faults]
        faults_ok = self.faults is None or self.faults.ok
        return self.restored and faults_ok and all(p.failed == 0 for p in clean)


class Runner:
    """Runs the phases, timing each, drawing its bar and reporting its failures."""

    def __init__(self, report: DemoReport, phases: Phases) -> None:
        self.report = report
        self.phases = phases

    async def phase(
        self,
        name: str,
        items: Sequence[object],
        call: Callable[[Phase], Awaitable[vpsorg.BulkResult[ItemT, ValueT]]],
        label: Callable[[ItemT], str],
        *,
        quiet: bool = False,
    ) -> vpsorg.BulkResult[ItemT, ValueT]:
        """Run one bulk call over ``items`` as the phase called ``name``.

        Each failed item is reported on stderr, unless ``quiet`` (failures are the point
        of the fault phase, and its summary counts them).
        """
        phase = PhaseReport(name, len(items), under_faults=quiet)
        self.report.phases.append(phase)
        started = time.perf_counter()
        result = await call(self.phases.add(name, len(items)))
        phase.seconds = time.perf_counter() - started
        phase.succeeded = len(result.succeeded)
        phase.failed = len(result.failed)
        if not quiet:
            for outcome in result.failed:
                report_failure(f"{name}: {label(outcome.item)}", outcome.error)
        return result

    async def list_phase(self, servers: vpsorg.AsyncServers) -> list[vpsorg.Server]:
        """List the account as the last phase; its count (and its bar's) is the servers found."""
        bar = self.phases.add("list", None)
        started = time.perf_counter()
        found = await servers.list().to_list()
        seconds = time.perf_counter() - started
        bar.finish(succeeded=len(found))
        self.report.phases.append(PhaseReport("list", len(found), len(found), 0, seconds))
        return found


async def run_demo(
    *,
    count: int,
    concurrency: int,
    provision_delay: float,
    action_delay: float,
    latency: float,
    credits: int | None,
    faults: bool = True,
    seed: int | None = None,
) -> DemoReport:
    """Run every phase on a fresh in-process simulator and return the report."""
    from vpsorg.simulator import FaultConfig, serve

    report = DemoReport(count, concurrency)
    started = time.perf_counter()
    async with serve(
        port=0,
        provision_delay=provision_delay,
        action_delay=action_delay,
        credits=credits,
        seed=seed,
        faults=FaultConfig(latency=latency, latency_jitter=latency),
    ) as sim:
        async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
            report.before = await client.servers.list().to_list()
            with Phases() as phases:
                runner = Runner(report, phases)
                await _fleet_life(client.servers, runner, count, concurrency)
                if faults:
                    report.faults = await fault_phase(client, sim, runner, count, concurrency)
                report.after = await runner.list_phase(client.servers)
        report.requests = sim.request_count
    report.seconds = time.perf_counter() - started
    return report


async def _fleet_life(
    servers: vpsorg.AsyncServers, runner: Runner, count: int, concurrency: int
) -> None:
    specs = [
        vpsorg.ServerSpec(
            name=f"demo-{i:03d}",
            plan_id=1 + i % 2,
            os_id=(5, 3)[i % 2],
            location=("us-west", "us-east")[i % 2],
        )
        for i in range(1, count + 1)
    ]
    created = await runner.phase(
        "create",
        specs,
        lambda bar: servers.create_many(specs, concurrency=concurrency, progress=bar),
        label=lambda spec: spec.name if isinstance(spec, vpsorg.ServerSpec) else str(spec),
    )
    ids = [o.value.id for o in created.succeeded if o.value is not None]

    async def wait_phase(name: str, pending: list[int], status: str) -> list[int]:
        done = await runner.phase(
            name,
            pending,
            lambda bar: servers.wait_for_many(
                pending,
                status,
                timeout=_WAIT_TIMEOUT,
                interval=_WAIT_INTERVAL,
                max_interval=_WAIT_MAX_INTERVAL,
                concurrency=concurrency,
                progress=bar,
            ),
            label=_server_label,
        )
        return [o.item for o in done.succeeded]

    async def power_phase(name: str, pending: list[int]) -> list[int]:
        many = {"reboot": servers.reboot_many, "stop": servers.stop_many}[name]
        done = await runner.phase(
            name,
            pending,
            lambda bar: many(pending, concurrency=concurrency, progress=bar),
            label=_server_label,
        )
        return [o.item for o in done.succeeded]

    active = await wait_phase("wait until active", ids, "active")
    rebooted = await power_phase("reboot", active)
    active = await wait_phase("wait until active", rebooted, "active")
    stopping = await power_phase("stop", active)
    await wait_phase("wait until stopped", stopping, "stopped")
    # Delete every server the demo made, whatever happened to it on the way.
    await runner.phase(
        "delete",
        ids,
        lambda bar: servers.delete_many(ids, concurrency=concurrency, progress=bar),
        label=_server_label,
    )


def _server_label(server_id: int) -> str:
    return f"server {server_id}"


def _simulator_seconds(name: str, default: float, help: str) -> Callable[[F], F]:
    """An option for one of the simulator's durations."""
    return click.option(
        name,
        type=click.FloatRange(min=0),
        default=default,
        show_default=True,
        metavar="SECONDS",
        help=f"Simulator: {help}",
    )


@click.command("demo")
@click.option(
    "--servers",
    "count",
    type=click.IntRange(1, 10_000),
    default=25,
    show_default=True,
    help="How many servers to create.",
)
@concurrency_option
@click.option(
    "--faults/--no-faults",
    default=True,
    show_default=True,
    help="Then run the fleet again with the simulator injecting failures.",
)
@_simulator_seconds("--provision-delay", 2.0, "how long a new server provisions.")
@_simulator_seconds("--action-delay", 0.5, "how long a start, stop or reboot takes.")
@_simulator_seconds(
    "--latency", 0.02, "network latency added to each response (plus up to as much jitter)."
)
@click.option(
    "--credits",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Simulator: credits for creates; fewer than --servers makes some creates fail.",
)
@click.option("--seed", type=int, default=None, metavar="N", help="Simulator: the random seed.")
@output_option
@click.pass_obj
def demo(
    settings: Settings,
    count: int,
    concurrency: int,
    faults: bool,
    provision_delay: float,
    action_delay: float,
    latency: float,
    credits: int | None,
    seed: int | None,
) -> None:
    """Run a fleet of servers through its life on the bundled simulator.

    No account or second terminal needed: the simulator runs in this process. Creates
    the servers and waits until they are active, reboots them and waits again, stops
    them and waits until they are stopped, deletes them. Then, with faults on (10% HTTP
    500s, 10% HTML 503s, 10% dropped connections), creates, reads and deletes them again
    and counts the retries, the creates never duplicated, the outcomes reported as
    unknown (each then settled with find_created: made or not), and the items
    accounted for. Exits 0 when every promise held, 1 otherwise.
    """
    report = run(
        lambda: run_demo(
            count=count,
            concurrency=concurrency,
            provision_delay=provision_delay,
            action_delay=action_delay,
            latency=latency,
            credits=credits,
            faults=faults,
            seed=seed,
        )
    )
    _print_report(settings, report)
    if not report.ok:
        if not report.restored:
            click.echo(
                f"error: the account has {len(report.after)} servers at the end, "
                f"not the {len(report.before)} it started with",
                err=True,
            )
        if report.faults is not None and not report.faults.ok:
            click.echo(
                "error: under faults, a create was duplicated, an item lost, an unknown "
                "create left unsettled or a server left unexplained",
                err=True,
            )
        raise click.exceptions.Exit(EXIT_FAILURE)


def _print_report(settings: Settings, report: DemoReport) -> None:
    if settings.output == "json":
        emit_json(_report_record(report))
        return
    terminal = settings.output == "table" or stream_is_terminal(sys.stdout)
    if terminal:
        print_servers(settings, report.after, title="The account at the end", compact=True)
    print_table(_phase_table(report), plain=not terminal)
    if report.faults is not None:
        click.echo("")
        for line in report.faults.lines():
            click.echo(line)
        click.echo("")
    verdict = (
        f"The account is back to its {len(report.before)} sample servers."
        if report.restored
        else f"The account has {len(report.after)} servers, not {len(report.before)}."
    )
    click.echo(f"{verdict} {report.requests} API requests in {report.seconds:.1f} s in all.")


def _phase_table(report: DemoReport) -> Table:
    table = Table(
        title=f"Fleet demo: {report.servers} servers, concurrency {report.concurrency}",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("PHASE", no_wrap=True)
    for column in ("COUNT", "OK", "FAILED", "WALL TIME", "OPS/S"):
        table.add_column(column, justify="right", no_wrap=True)
    for p in report.phases:
        ops = p.ops_per_second
        table.add_row(
            p.name,
            str(p.count),
            f"[green]{p.succeeded}",
            (f"[yellow]{p.failed}" if p.under_faults else f"[red]{p.failed}") if p.failed else "0",
            f"{p.seconds:.2f} s",
            "-" if ops is None else f"{ops:.1f}",
        )
    return table


def _report_record(report: DemoReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "servers": report.servers,
        "concurrency": report.concurrency,
        "phases": [p.record() for p in report.phases],
        "faults": None if report.faults is None else report.faults.record(),
        "seconds": round(report.seconds, 3),
        "requests": report.requests,
        "restored": report.restored,
        "servers_at_start": [server_record(s) for s in report.before],
        "servers_at_end": [server_record(s) for s in report.after],
    }
