"""One worker process of the rate-limit benchmark: ``python -m benchmarks._rate_limit_child``.

Reads one JSON job from argv, runs it, prints one JSON line of figures on stdout. The
jobs: ``gets`` (a ``get_many`` fan-out), ``creates`` (a ``create_many``), ``wave`` (150
concurrent gets each first answered 429, on a simulator of its own in this process).
429s are counted with an event hook, as a user would count them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

import vpsorg
from vpsorg.simulator import FaultConfig, serve_in_thread

__all__ = ["main"]


def _rate_limit(spec: dict[str, Any]) -> vpsorg.RateLimitSetting:
    kind = spec.get("kind", "default")
    if kind == "default":
        return None
    if kind == "off":
        return "off"
    return vpsorg.RateLimit(
        per_second=spec.get("per_second"),
        burst=spec.get("burst"),
        adaptive=spec.get("adaptive", True),
        redis_url=spec.get("redis_url"),
        key=spec.get("key"),
    )


class _Counter:
    """Counts attempts and 429s through the event hooks."""

    def __init__(self) -> None:
        self.attempts = 0
        self.throttled = 0

    def __call__(self, event: vpsorg.Event) -> None:
        if isinstance(event, vpsorg.AttemptEnded):
            self.attempts += 1
            if event.status_code == 429:
                self.throttled += 1


class _Lines(logging.Handler):
    """Counts the SDK's log lines at INFO and above."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _wait_for(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


async def _run(job: dict[str, Any], base_url: str, token: str) -> dict[str, Any]:
    counter = _Counter()
    lines = _Lines()
    logging.getLogger("vpsorg").addHandler(lines)
    logging.getLogger("vpsorg").setLevel(logging.INFO)
    async with vpsorg.AsyncClient(
        token=token,
        base_url=base_url,
        rate_limit=_rate_limit(job.get("rate_limit", {})),
        event_hooks=[counter],
        limits=vpsorg.Limits(max_connections=max(100, job["concurrency"] * 2)),
    ) as client:
        _wait_for(job.get("start_at", 0.0))
        started = time.time()
        if job["kind"] == "creates":
            prefix = job["prefix"]
            specs = [
                vpsorg.ServerSpec(name=f"{prefix}-{i:04d}", plan_id=1, os_id=5, location="us-west")
                for i in range(job["count"])
            ]
            result: Any = await client.servers.create_many(specs, concurrency=job["concurrency"])
        else:
            result = await client.servers.get_many(
                [12345] * job["count"], concurrency=job["concurrency"]
            )
        ended = time.time()
        pipeline = client._pipeline
        return {
            "ok": len(result.succeeded),
            "failed": len(result.failed),
            "errors": sorted({type(f.error).__name__ for f in result.failed}),
            "attempts": counter.attempts,
            "throttled": counter.throttled,
            "pauses": pipeline.gate.pauses,
            "log_lines": lines.count,
            "started": started,
            "ended": ended,
        }


def _wave(job: dict[str, Any]) -> dict[str, Any]:
    """150 concurrent gets, each first answered 429 (Retry-After: 1), under 50/s."""
    faults = FaultConfig(rate_limit=job["per_second"])
    with serve_in_thread(port=0, faults=faults) as sim:
        sim.script(path="/api/v1/servers/12345/", status=429, times=job["count"])
        figures = asyncio.run(_run(job, sim.base_url, sim.token))
        figures["server_429s"] = sim.fault_counts["rate_limited"] + job["count"]
    return figures


def main() -> int:
    job = json.loads(sys.argv[1])
    if job["kind"] == "wave":
        figures = _wave(job)
    else:
        figures = asyncio.run(_run(job, job["base_url"], job["token"]))
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
