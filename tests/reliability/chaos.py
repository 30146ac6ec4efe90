"""The fault-injection scenario: mixed operations against a simulator that misbehaves.

Run ``python -m tests.reliability.chaos`` to print the figures quoted in the README;
``test_fault_injection.py`` runs the same scenario and asserts on it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

import vpsorg
from tests.conftest import client_sockets_to
from vpsorg.simulator import FaultConfig, serve_in_thread

FAULTS = FaultConfig(
    latency=0.002,
    latency_jitter=0.01,
    error_rate_500=0.10,
    error_rate_503=0.10,
    drop_rate=0.10,
    after_action_ratio=0.5,
)
STORM = 300  # requests answered 429 with Retry-After: 1 at the start of the run


@attrs.define
class Report:
    """What one run of the scenario saw."""

    operations: int = 0
    ok: int = 0
    errors: Counter[str] = attrs.Factory(Counter)
    non_vpsorg_errors: list[str] = attrs.Factory(list)
    faults: dict[str, int] = attrs.Factory(dict)
    retries: int = 0
    creates_sent: int = 0
    duplicates: int = 0
    lost_items: int = 0
    leftover_tasks: int = 0
    open_connections: int = 0
    seconds: float = 0.0
    requests_seen: int = 0

    def lines(self) -> list[str]:
        """A small markdown table of the figures."""
        rows = [
            ("operations", self.operations),
            ("succeeded", self.ok),
            ("ended in a vpsorg error", sum(self.errors.values())),
            ("ended in any other exception", len(self.non_vpsorg_errors)),
            ("requests the simulator saw", self.requests_seen),
            ("faults injected", sum(self.faults.values())),
            *((f"  {k}", v) for k, v in sorted(self.faults.items())),
            ("retries", self.retries),
            ("creates sent", self.creates_sent),
            ("duplicated creates", self.duplicates),
            ("items missing from bulk results", self.lost_items),
            ("tasks left over", self.leftover_tasks),
            ("connections left open", self.open_connections),
            ("wall time (s)", f"{self.seconds:.1f}"),
        ]
        out = ["| figure | value |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in rows]
        out.append("")
        out.append(
            "errors by class: " + ", ".join(f"{k} {v}" for k, v in self.errors.most_common())
        )
        return out


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying"):
            self.count += 1


async def run(operations: int = 2000, concurrency: int = 100, seed: int = 7) -> Report:
    """Run the scenario and return its report (never raises for a failed operation)."""
    report = Report(operations=operations)
    rng = random.Random(seed)
    counter = _RetryCounter()
    logger = logging.getLogger("vpsorg")
    old_level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        with serve_in_thread(port=0, provision_delay=0.05, action_delay=0.05, seed=seed) as sim:
            async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
                servers = client.servers
                seeded = await servers.create_many(
                    [vpsorg.ServerSpec(f"base-{i}", 1, 5, "us-west") for i in range(40)]
                )
                ids = [o.value.id for o in seeded if o.value is not None] + [12345, 12346]
                sim.set_faults(FAULTS)
                sim.script(
                    path="/api/v1/servers/*",
                    times=STORM,
                    status=429,
                    headers={"Retry-After": "1"},
                    body={"detail": "Request was throttled. Expected available in 1 second."},
                )
                names = [f"chaos-{i}" for i in range(operations)]
                plan = [_pick(rng, i, ids, names[i]) for i in range(operations)]

                async def do(step: tuple[str, Callable[[], Awaitable[Any]]]) -> Any:
                    return await step[1]()

                steps = [(kind, fn(servers)) for kind, fn in plan]
                result = await vpsorg.fleet.map(do, steps, concurrency=concurrency)
                report.creates_sent = sum(1 for kind, _ in plan if kind == "create")
                report.lost_items = operations - len(result)
                if [o.item for o in result] != steps:
                    report.lost_items += 1
                for outcome in result:
                    if outcome.ok:
                        report.ok += 1
                    elif isinstance(outcome.error, vpsorg.VPSOrgError):
                        report.errors[type(outcome.error).__name__] += 1
                    else:
                        report.non_vpsorg_errors.append(repr(outcome.error))
                sim.set_faults(FaultConfig())
                report.faults = {k: v for k, v in sim.fault_counts.items() if v}
                report.requests_seen = sim.request_count
                report.duplicates = sum(
                    max(0, sim.count_by_name(name) - 1)
                    for (kind, _), name in zip(plan, names, strict=True)
                    if kind == "create"
                )
            report.leftover_tasks = sum(
                1 for t in asyncio.all_tasks() if "run_bulk" in repr(t.get_coro())
            )
            report.open_connections = client_sockets_to(sim.port)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    report.retries = counter.count
    report.seconds = time.perf_counter() - started
    return report


Step = Callable[[vpsorg.AsyncServers], Callable[[], Awaitable[Any]]]


def _pick(rng: random.Random, i: int, ids: list[int], name: str) -> tuple[str, Step]:
    sid = rng.choice(ids)
    roll = rng.random()
    if roll < 0.35:
        return "get", lambda s: lambda: s.get(sid)
    if roll < 0.45:
        return "list", lambda s: lambda: s.list(page_size=50).to_list()
    if roll < 0.60:
        return "patch", lambda s: lambda: s.patch(sid, hostname=f"h{i}.example.com")
    if roll < 0.65:
        return "put", lambda s: lambda: s.update(sid, f"n-{i}", f"n{i}.example.com", False)
    if roll < 0.85:
        return "create", lambda s: lambda: s.create(name, 1, 5, "us-east")
    if roll < 0.95:
        action = rng.choice(["start", "stop", "reboot"])
        return action, lambda s: lambda: getattr(s, action)(sid)
    return "delete", lambda s: lambda: s.delete(sid)


def main() -> None:
    """Print the figures of one run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report = asyncio.run(run(args.operations, args.concurrency, args.seed))
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
