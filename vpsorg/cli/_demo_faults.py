"""The demo's fault phase: the same fleet work while the simulator injects failures.

It shows, in numbers, what the SDK promises under faults: idempotent requests (GET,
DELETE) are retried; a create is never resent, so no server is ever created twice; a
create whose outcome cannot be known is reported as :class:`vpsorg.OutcomeUnknownError`
(never silently dropped or duplicated); and every item of every bulk call comes back with
its own outcome.
"""

from __future__ import annotations

import logging
import textwrap
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

import vpsorg
from vpsorg.simulator import FaultConfig

from ._runtime import one_line

if TYPE_CHECKING:
    from vpsorg.simulator import Simulator

    from ._progress import Phase

__all__ = ["FAULTS", "FaultReport", "PhaseRunner", "RetryCounter", "fault_phase"]

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")


class PhaseRunner(Protocol):
    """What the fault phase needs of the demo's ``Runner`` (named here, not imported:
    ``_demo`` imports this module, and no import cycle is allowed, even for types)."""

    async def phase(
        self,
        name: str,
        items: Sequence[object],
        call: Callable[[Phase], Awaitable[vpsorg.BulkResult[ItemT, ValueT]]],
        label: Callable[[ItemT], str],
        *,
        quiet: bool = False,
    ) -> vpsorg.BulkResult[ItemT, ValueT]:
        """Run one bulk call over ``items`` as the phase called ``name``."""
        ...


#: What the fault phase injects: 30% of requests fail, half the 500s and drops after the
#: server acted (the request took effect, then its answer was lost).
FAULTS = FaultConfig(error_rate_500=0.1, error_rate_503=0.1, drop_rate=0.1, after_action_ratio=0.5)

#: Short backoff so the demo stays quick; the rules (what is retried) are the defaults.
DEMO_RETRY = vpsorg.RetryPolicy(backoff_base=0.02, backoff_cap=0.1)

_PREFIX = "chaos-"


@dataclass
class FaultReport:
    """What happened under faults, as counted by the client and by the simulator."""

    creates_sent: int = 0
    created: int = 0
    outcome_unknown: int = 0
    other_errors: int = 0
    servers_made: int = 0
    duplicated: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    injected: dict[str, int] = field(default_factory=dict)
    items: int = 0
    accounted: int = 0
    leftovers: int = 0
    example: str = ""

    @property
    def ok(self) -> bool:
        """True when the promises held: no duplicate, every item accounted for."""
        return self.duplicated == 0 and self.accounted == self.items

    def record(self) -> dict[str, Any]:
        """This report as a JSON object."""
        return {
            "faults": attrs.asdict(FAULTS),
            "faults_injected": self.injected,
            "retries": sum(self.retries.values()),
            "retries_by_method": dict(sorted(self.retries.items())),
            "creates_sent": self.creates_sent,
            "created": self.created,
            "outcome_unknown": self.outcome_unknown,
            "other_errors": self.other_errors,
            "servers_on_simulator": self.servers_made,
            "duplicated_creates": self.duplicated,
            "items": self.items,
            "items_accounted_for": self.accounted,
            "cleaned_up_afterwards": self.leftovers,
            "example_outcome_unknown": self.example or None,
        }

    def lines(self) -> list[str]:
        """The report for people, one fact a line."""
        injected = {k: v for k, v in self.injected.items() if v and k != "latency"}
        retries = sum(self.retries.values())
        by_method = ", ".join(f"{m} {n}" for m, n in sorted(self.retries.items())) or "none"
        acted = self.servers_made - self.created
        return [
            "Under faults: 10% HTTP 500, 10% HTML 503, 10% dropped connections,",
            "half of the 500s and drops after the server had acted.",
            f"  faults injected      {sum(injected.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(injected.items())) or 'none'})",
            f"  retries taken        {retries} ({by_method}; a create is never resent)",
            f"  creates sent         {self.creates_sent}: {self.created} created, "
            f"{self.outcome_unknown} outcome unknown, {self.other_errors} other errors",
            f"  servers it made      {self.servers_made}: the {self.created} reported "
            f"+ {acted} of the {self.outcome_unknown} unknown that had acted",
            f"  duplicated creates   {self.duplicated}",
            f"  items accounted for  {self.accounted} of {self.items}",
            *(self._example_lines() if self.example else []),
        ]

    def _example_lines(self) -> list[str]:
        return textwrap.wrap(
            f"One unknown outcome, as your code gets it: {self.example}",
            width=80,
            initial_indent="  ",
            subsequent_indent="    ",
            break_on_hyphens=False,
        )


class RetryCounter(logging.Handler):
    """Counts the SDK's ``retrying METHOD URL ...`` log records, by method."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("retrying") and record.args:
            args = record.args if isinstance(record.args, tuple) else ()
            self.counts[str(args[0]) if args else "?"] += 1


@contextmanager
def counting_retries() -> Iterator[RetryCounter]:
    """Count retries for the ``with`` block; the logger is left as it was."""
    logger = logging.getLogger("vpsorg")
    counter = RetryCounter()
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


def _accounted(result: vpsorg.BulkResult[Any, Any], items: Sequence[object]) -> int:
    """How many items came back exactly once, in order, with an outcome."""
    returned = [o.item for o in result]
    return len(items) if returned == list(items) else 0


async def fault_phase(
    client: vpsorg.AsyncClient, sim: Simulator, runner: PhaseRunner, count: int, concurrency: int
) -> FaultReport:
    """Create, read and delete ``count`` servers with faults on, then clean up without."""
    report = FaultReport(creates_sent=count)
    servers = client.with_options(retry=DEMO_RETRY).servers
    specs = [
        vpsorg.ServerSpec(name=f"{_PREFIX}{i:03d}", plan_id=1, os_id=5, location="us-west")
        for i in range(1, count + 1)
    ]
    names = [spec.name for spec in specs]
    baseline, calm = sim.fault_counts, sim.faults
    # The same latency as before, plus the failures.
    sim.set_faults(attrs.evolve(FAULTS, latency=calm.latency, latency_jitter=calm.latency_jitter))
    try:
        with counting_retries() as counter:
            created = await runner.phase(
                "create (faults on)",
                specs,
                lambda bar: servers.create_many(specs, concurrency=concurrency, progress=bar),
                label=lambda spec: spec.name if isinstance(spec, vpsorg.ServerSpec) else str(spec),
                quiet=True,
            )
            ids = [o.value.id for o in created.succeeded if o.value is not None]
            # Counted on the simulator itself, before anything is deleted.
            made = [sim.count_by_name(name) for name in names]
            got = await runner.phase(
                "get (faults on)",
                ids,
                lambda bar: servers.get_many(ids, concurrency=concurrency, progress=bar),
                label=lambda i: f"server {i}",
                quiet=True,
            )
            deleted = await runner.phase(
                "delete (faults on)",
                ids,
                lambda bar: servers.delete_many(ids, concurrency=concurrency, progress=bar),
                label=lambda i: f"server {i}",
                quiet=True,
            )
    finally:
        sim.set_faults(calm)
    report.retries = counter.counts
    after = sim.fault_counts
    report.injected = {k: after[k] - baseline.get(k, 0) for k in after}
    report.created = len(created.succeeded)
    unknown = [o for o in created.failed if isinstance(o.error, vpsorg.OutcomeUnknownError)]
    report.outcome_unknown = len(unknown)
    report.other_errors = len(created.failed) - len(unknown)
    if unknown:
        first = unknown[0]
        name = first.item.name if isinstance(first.item, vpsorg.ServerSpec) else str(first.item)
        report.example = f"{name}: {type(first.error).__name__}: {one_line(first.error)}"
    report.servers_made = sum(made)
    report.duplicated = sum(max(0, n - 1) for n in made)
    report.items = len(specs) + len(ids) + len(ids)
    report.accounted = _accounted(created, specs) + _accounted(got, ids) + _accounted(deleted, ids)
    # What an OutcomeUnknownError asks of you: look for the name, then act. With faults
    # off, the servers whose create had acted (and any delete that failed) go now.
    leftovers = [
        s.id
        for s in await client.servers.list().to_list()
        if s.name.startswith(_PREFIX) and s.name in set(names)
    ]
    report.leftovers = len(leftovers)
    await runner.phase(
        "clean up (faults off)",
        leftovers,
        lambda bar: client.servers.delete_many(leftovers, concurrency=concurrency, progress=bar),
        label=lambda i: f"server {i}",
    )
    return report
