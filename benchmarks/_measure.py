"""Timing, CPU accounting and the statistics the tables print.

A :class:`Span` times one measured run and, from psutil's CPU times, how busy the client
process, the server process and everything else on the machine were meanwhile (in % of
one core, so on two cores the three add up to at most 200). A client at ~100 % and a
server well below it means the client is what limits the rate, which is what a client
benchmark needs; the opposite is flagged as server-bound.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import attrs
import psutil

__all__ = [
    "BUSY_MACHINE_CPU",
    "SERVER_BOUND_CPU",
    "CpuUse",
    "Span",
    "median",
    "median_ratio",
    "server_bound",
]

#: A run whose server used this much of a core while the client used less is server-bound.
SERVER_BOUND_CPU = 90.0
#: Median CPU of other processes above which the report warns that the machine was busy.
BUSY_MACHINE_CPU = 25.0


@attrs.frozen
class CpuUse:
    """Average CPU use during a run, in % of one core."""

    client: float
    server: float
    other: float


def _busy(times: Any) -> float:
    idle = times.idle + getattr(times, "iowait", 0.0)
    return float(sum(times) - idle)


def _own(times: Any) -> float:
    # children_* is zero for threads; subprocesses are measured on their own.
    return float(times.user + times.system)


class Span:
    """Times a ``with`` block: wall seconds and CPU use of client, server and the rest.

    Example::

        span = Span(server_pid)
        with span:
            run_the_workload()
        print(span.seconds, span.cpu.client, span.cpu.server)
    """

    def __init__(self, server_pid: int | None) -> None:
        self._me = psutil.Process()
        self._server = psutil.Process(server_pid) if server_pid else None
        self.seconds = 0.0
        self.cpu = CpuUse(0.0, 0.0, 0.0)
        self._start: tuple[float, float, float, float] | None = None

    def _read(self) -> tuple[float, float, float, float]:
        server = _own(self._server.cpu_times()) if self._server is not None else 0.0
        return (time.perf_counter(), _own(self._me.cpu_times()), server, _busy(psutil.cpu_times()))

    def __enter__(self) -> Span:
        self._start = self._read()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end = self._read()
        assert self._start is not None
        wall, client, server, busy = (b - a for a, b in zip(self._start, end, strict=True))
        self.seconds = wall
        if wall > 0:
            other = max(0.0, busy - client - server)
            self.cpu = CpuUse(100 * client / wall, 100 * server / wall, 100 * other / wall)


def median(values: Sequence[float]) -> float:
    """The median (of an odd or even number of values)."""
    return float(statistics.median(values))


def median_ratio(rates: Sequence[float], baseline: Sequence[float]) -> float:
    """Round by round ratio ``rates[i] / baseline[i]``, then the median of those ratios.

    Pairing by round cancels slow drifts of the machine (another process starting, the
    CPU clocking down) that would skew a ratio of two medians.
    """
    if len(rates) != len(baseline) or not rates:
        raise ValueError("need one baseline figure per round")
    return median([r / b for r, b in zip(rates, baseline, strict=True)])


def server_bound(cpu: CpuUse) -> bool:
    """True when the server, not the client, limited the rate of a run."""
    return cpu.server >= SERVER_BOUND_CPU and cpu.client < cpu.server
