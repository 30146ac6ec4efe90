"""The demo's fault phase: the same fleet work while the simulator injects failures.

It shows, in numbers, what the SDK promises under faults: idempotent requests (GET,
DELETE) are retried; the simulator's rate limit answers 429, which pauses the client
and is retried until it passes, so no item is lost to it; a create is never resent, so
no server is ever created twice; a create whose outcome cannot be known is reported as
[`vpsorg.OutcomeUnknownError`][vpsorg.OutcomeUnknownError] (never silently dropped or
duplicated), and ``find_created`` then settles it (the server was made, or it was not);
and every item of every bulk call comes back with its own outcome.

What is left afterwards is known, not guessed: the servers ``find_created`` found, and
those of the deletes that failed and left their server. A delete can fail *and* have
deleted its server (an attempt acted, then every answer was lost: a 500 or a drop after
the action, or a retry's 404 hidden behind a later fault), so a failed delete is checked
against the account before it is counted as a leftover.
"""

from __future__ import annotations

import logging
import math
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
#: server acted (the request took effect, then its answer was lost), and a rate limit of
#: 50 requests a second with a burst of 20 answers 429 with ``Retry-After`` beyond it.
FAULTS = FaultConfig(
    error_rate_500=0.1,
    error_rate_503=0.1,
    drop_rate=0.1,
    after_action_ratio=0.5,
    rate_limit=50,
    rate_limit_burst=20,
)

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
    #: Of the unknown creates: the servers ``find_created`` found, those it showed were
    #: not created, and those it could not settle (an error, or several candidates).
    found: int = 0
    not_created: int = 0
    unsettled: int = 0
    servers_made: int = 0
    duplicated: int = 0
    deletes_failed: int = 0
    #: Failed deletes whose server was gone all the same (an attempt had acted).
    deletes_failed_but_gone: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    #: The pauses the client took after a 429 (one log line each).
    pauses: int = 0
    #: Items whose outcome is a RateLimitError: 0 unless a promise broke.
    lost_to_rate_limit: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    items: int = 0
    accounted: int = 0
    leftovers: int = 0
    #: Servers of the phase on the account that neither reconcile nor a failed delete
    #: explains (cleaned up too); 0 unless a promise broke.
    stray: int = 0
    example: str = ""
    #: The faults the phase ran under.
    config: FaultConfig = field(default_factory=lambda: FAULTS)

    @property
    def ok(self) -> bool:
        """True when the promises held: no duplicate, every item accounted for, every
        unknown create settled, and nothing left that the report cannot explain."""
        return (
            self.duplicated == 0
            and self.lost_to_rate_limit == 0
            and self.accounted == self.items
            and self.unsettled == 0
            and self.stray == 0
        )

    def record(self) -> dict[str, Any]:
        """This report as a JSON object."""
        return {
            "faults": attrs.asdict(self.config),
            "faults_injected": self.injected,
            "retries": sum(self.retries.values()),
            "retries_by_method": dict(sorted(self.retries.items())),
            "rate_limited": self.injected.get("rate_limited", 0),
            "rate_limit_pauses": self.pauses,
            "items_lost_to_rate_limit": self.lost_to_rate_limit,
            "creates_sent": self.creates_sent,
            "created": self.created,
            "outcome_unknown": self.outcome_unknown,
            "other_errors": self.other_errors,
            "ambiguous_found": self.found,
            "ambiguous_not_created": self.not_created,
            "ambiguous_unsettled": self.unsettled,
            "servers_on_simulator": self.servers_made,
            "duplicated_creates": self.duplicated,
            "deletes_failed": self.deletes_failed,
            "deletes_failed_server_gone": self.deletes_failed_but_gone,
            "items": self.items,
            "items_accounted_for": self.accounted,
            "cleaned_up_afterwards": self.leftovers,
            "stray_servers": self.stray,
            "example_outcome_unknown": self.example or None,
        }

    def lines(self) -> list[str]:
        """The report for people, one fact a line."""
        injected = {
            k: v for k, v in self.injected.items() if v and k not in ("latency", "rate_limited")
        }
        retries = sum(self.retries.values())
        by_method = ", ".join(f"{m} {n}" for m, n in sorted(self.retries.items())) or "none"
        left_by_deletes = self.deletes_failed - self.deletes_failed_but_gone
        unsettled = f", {self.unsettled} unsettled" if self.unsettled else ""
        stray = f" + {self.stray} unexplained" if self.stray else ""
        head = ["Under faults: 10% HTTP 500, 10% HTML 503, 10% dropped connections,"]
        rate = self.config.rate_limit
        if rate is None:
            head.append("half of the 500s and drops after the server had acted.")
        else:
            burst = self.config.rate_limit_burst or math.ceil(rate)
            head += [
                "half of the 500s and drops after the server had acted, and a rate limit",
                f"of {rate:g} requests/s (burst {burst}).",
            ]
        return [
            *head,
            f"  faults injected      {sum(injected.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(injected.items())) or 'none'})",
            f"  retries taken        {retries} ({by_method}; a create is never resent)",
            f"  rate limited         {self.injected.get('rate_limited', 0)} 429s met, "
            f"{self.pauses} pauses taken, {self.lost_to_rate_limit} items lost to them",
            f"  creates sent         {self.creates_sent}: {self.created} created, "
            f"{self.outcome_unknown} outcome unknown, {self.other_errors} other errors",
            f"  ambiguous creates settled: {self.found} found on the API, "
            f"{self.not_created} not created{unsettled}",
            f"  servers it made      {self.servers_made}: the {self.created} created "
            f"+ the {self.found} found",
            f"  duplicated creates   {self.duplicated}",
            f"  deletes failed       {self.deletes_failed}: {left_by_deletes} left the "
            f"server, {self.deletes_failed_but_gone} had deleted it",
            f"  cleaned up           {self.leftovers}: the {self.found} found + "
            f"{left_by_deletes} left by failed deletes{stray}",
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
    """Counts the SDK's ``retrying METHOD URL ...`` log records, by method, and its
    ``rate limited ...: pausing`` records (one per pause after a 429)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()
        self.pauses = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not isinstance(record.msg, str):
            return
        if record.msg.startswith("rate limited"):
            self.pauses += 1
        elif record.msg.startswith("retrying") and record.args:
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


#: Seconds the demo's settling waits for a create to show (see fault_phase).
_DEMO_SETTLE_WINDOW = 0.5


async def fault_phase(
    client: vpsorg.AsyncClient, sim: Simulator, runner: PhaseRunner, count: int, concurrency: int
) -> FaultReport:
    """Create, read and delete ``count`` servers with faults on; then, without faults,
    settle the unknown creates and clean up what is left."""
    report = FaultReport(creates_sent=count, config=FAULTS)
    servers = client.with_options(retry=DEMO_RETRY).servers
    specs = [
        vpsorg.ServerSpec(name=f"{_PREFIX}{i:03d}", plan_id=1, os_id=5, location="us-west")
        for i in range(1, count + 1)
    ]
    names = {spec.name for spec in specs}
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
            ids = [o.value.id for o in created.succeeded]
            # Counted on the simulator itself, before anything is deleted.
            made = [sim.count_by_name(spec.name) for spec in specs]
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
    report.pauses = counter.pauses
    report.lost_to_rate_limit = sum(
        isinstance(o.error, vpsorg.RateLimitError)
        for result in (created, got, deleted)
        for o in result.failed
    )
    after = sim.fault_counts
    report.injected = {k: after[k] - baseline.get(k, 0) for k in after}
    report.created = len(created.succeeded)
    unknown = [o.error for o in created.failed if isinstance(o.error, vpsorg.OutcomeUnknownError)]
    report.outcome_unknown = len(unknown)
    report.other_errors = len(created.failed) - len(unknown)
    if unknown:
        first = unknown[0]
        name = first.spec.name if first.spec is not None else "a create"
        report.example = f"{name}: {type(first).__name__}: {one_line(first)}"
    report.servers_made = sum(made)
    report.duplicated = sum(max(0, n - 1) for n in made)

    # What an OutcomeUnknownError asks of you: find out whether the server was made.
    # The demo's own simulator stores a create before it answers (or drops) it, so a
    # server it made is listed at once: a short settle window is enough here. Against
    # the real API keep the client's default (RetryPolicy.settle_window).
    async def settle(error: vpsorg.OutcomeUnknownError) -> vpsorg.Server | None:
        return await client.servers.find_created(error, settle_window=_DEMO_SETTLE_WINDOW)

    settled = await runner.phase(
        "settle unknown (faults off)",
        unknown,
        lambda bar: vpsorg.fleet.map(settle, unknown, concurrency=concurrency, progress=bar),
        label=lambda error: error.spec.name if error.spec is not None else "a create",
    )
    found = [o.value for o in settled.succeeded if o.value is not None]
    report.found = len(found)
    report.not_created = len(settled.succeeded) - len(found)
    report.unsettled = len(settled.failed)

    # A failed delete may still have deleted its server: only those still listed are left.
    listed = {s.id: s for s in await client.servers.list().to_list()}
    failed_deletes = [o.item for o in deleted.failed]
    left = [i for i in failed_deletes if i in listed]
    report.deletes_failed = len(failed_deletes)
    report.deletes_failed_but_gone = len(failed_deletes) - len(left)
    leftovers = [s.id for s in found] + left
    stray = [i for i, s in listed.items() if s.name in names and i not in set(leftovers)]
    report.stray = len(stray)
    leftovers += stray
    report.leftovers = len(leftovers)

    report.items = len(specs) + len(ids) + len(ids) + len(unknown)
    report.accounted = (
        _accounted(created, specs)
        + _accounted(got, ids)
        + _accounted(deleted, ids)
        + _accounted(settled, unknown)
    )
    await runner.phase(
        "clean up (faults off)",
        leftovers,
        lambda bar: client.servers.delete_many(leftovers, concurrency=concurrency, progress=bar),
        label=lambda i: f"server {i}",
    )
    return report
