"""Cases 1 to 3: every HTTP client in turn, round after round, in this process.

All the measurements of the three cases form one rotation (A B C ... A B C ...), so a
figure used by two cases (sequential ``requests`` in cases 1 and 3, say) is measured
once per round and every ratio pairs two runs of the same round.
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable, Coroutine, Set
from typing import Any

import attrs

from benchmarks import _env
from benchmarks import _tuned as tuned
from benchmarks import _workloads as w
from benchmarks._measure import CpuUse, Span, median, median_ratio, server_bound
from benchmarks._plan import Plan
from benchmarks._target import Target

__all__ = ["Variant", "build_variants", "case_rows", "run_rotation"]

Runner = Callable[[Span], int]


@attrs.frozen
class Variant:
    """One client doing one kind of work at one concurrency."""

    key: str
    client: str
    concurrency: str
    unit: str
    work: str
    run: Runner
    #: Calls, or listings: what the workers share out; fewer than the concurrency
    #: means fewer in flight.
    items: int


@attrs.define
class Samples:
    """Per-round figures of one variant."""

    seconds: list[float] = attrs.field(factory=list)
    rates: list[float] = attrs.field(factory=list)
    client_cpu: list[float] = attrs.field(factory=list)
    server_cpu: list[float] = attrs.field(factory=list)
    other_cpu: list[float] = attrs.field(factory=list)


def _async(
    workload: Callable[..., Coroutine[Any, Any, int]],
    target: Target,
    work: Any,
    conc: int,
    timeout: float,
) -> Runner:
    def run(span: Span) -> int:
        return _env.run_async(workload(target, work, conc, span), timeout=timeout)

    return run


def _sync(
    workload: Callable[..., int], target: Target, work: Any, conc: int, timeout: float
) -> Runner:
    return functools.partial(_call_sync, workload, target, work, conc, timeout=timeout)


def _call_sync(
    workload: Callable[..., int],
    target: Target,
    work: Any,
    conc: int,
    span: Span,
    *,
    timeout: float,
) -> int:
    return workload(target, work, conc, span, timeout=timeout)


def get_key(client: str, concurrency: int | str) -> str:
    return f"get/{client}/{concurrency}"


def list_key(client: str, concurrency: int | str) -> str:
    return f"list/{client}/{concurrency}"


#: Case 1 at each concurrency: key, label, workload.
_GET_CLIENTS = (
    ("aiohttp", "raw aiohttp", w.aiohttp_get),
    ("tuned", "hand-tuned aiohttp + msgspec", tuned.tuned_get),
    ("sdk_get_many", "AsyncClient get_many", w.sdk_get_many),
    ("sdk_pool", "AsyncClient get, worker pool", w.sdk_get_pool),
    ("httpx", "httpx.AsyncClient", w.httpx_get),
)
_SLOW = frozenset({"httpx"})
#: Case 2 at each concurrency.
_LIST_CLIENTS = (
    ("aiohttp", "raw aiohttp", w.aiohttp_list),
    ("tuned", "hand-tuned aiohttp + msgspec", tuned.tuned_list),
    ("sdk", "AsyncClient list(page_size=50)", w.sdk_list),
)


def build_variants(
    plan: Plan, target: Target, cases: Set[int] = frozenset({1, 2, 3})
) -> list[Variant]:
    """The measurements the given cases (of 1-3) need, in the order one round runs them."""
    ids = target.ids(plan.calls)
    slow_ids = target.ids(plan.slow_calls)
    t = plan.timeout
    out: list[Variant] = []

    def get(key: str, label: str, conc: int, runner: Runner, calls: int, shown: str = "") -> None:
        work = f"{calls:,} calls"
        shown = shown or str(conc)
        out.append(Variant(get_key(key, conc), label, shown, "calls", work, runner, calls))

    for c in plan.concurrencies:
        for key, label, workload in _GET_CLIENTS:
            work_ids = slow_ids if key in _SLOW else ids
            get(key, label, c, _async(workload, target, work_ids, c, t), len(work_ids))
    threads = w.REQUESTS_THREADS
    runner = _sync(w.requests_threads, target, slow_ids, threads, t)
    label = f"requests, {threads} threads"
    get("requests_threads", label, threads, runner, len(slow_ids), f"{threads} threads")
    runner = _sync(w.requests_sequential, target, slow_ids, 1, t)
    get("requests_seq", "requests, sequential", 1, runner, len(slow_ids))
    for c in plan.concurrencies:
        n = plan.listings_at(c)
        for key, label, lister in _LIST_CLIENTS:
            runner = _async(lister, target, n, c, t)
            work = f"{n:,} full listings"
            out.append(Variant(list_key(key, c), label, str(c), "pages", work, runner, n))
    runner = _async(w.sdk_get_sequential, target, ids, 1, t)
    get("sdk_seq", "AsyncClient get, sequential", 1, runner, len(ids))
    runner = _sync(w.client_get_sequential, target, ids, 1, t)
    get("client_seq", "Client get, sequential", 1, runner, len(ids))
    c = headline(plan)
    runner = _sync(w.client_get_many, target, ids, c, t)
    get("client_get_many", "Client get_many", c, runner, len(ids))
    needed = _needed_keys(plan, cases)
    return [v for v in out if v.key in needed]


def _needed_keys(plan: Plan, cases: Set[int]) -> set[str]:
    h = headline(plan)
    keys = set()
    if 1 in cases:
        keys |= {get_key(k, c) for k, _, _ in _GET_CLIENTS for c in plan.concurrencies}
    if 1 in cases or 3 in cases:
        keys |= {get_key("requests_threads", w.REQUESTS_THREADS), get_key("requests_seq", 1)}
        keys |= {get_key("sdk_seq", 1), get_key("aiohttp", h)}
    if 2 in cases:
        keys |= {list_key(k, c) for k, _, _ in _LIST_CLIENTS for c in plan.concurrencies}
    if 3 in cases:
        keys |= {get_key("sdk_get_many", h), get_key("client_seq", 1)}
        keys.add(get_key("client_get_many", h))
    return keys


def headline(plan: Plan) -> int:
    """The concurrency the targets are stated at: 100, or the nearest one measured."""
    return min(plan.concurrencies, key=lambda c: abs(c - 100))


def run_rotation(
    variants: list[Variant], rounds: int, server_pid: int, log: Callable[[str], None]
) -> dict[str, Samples]:
    """Run every variant once per round, in order; return the per-round figures."""
    samples = {v.key: Samples() for v in variants}
    for round_ in range(1, rounds + 1):
        for v in variants:
            gc.collect()
            span = Span(server_pid)
            began = time.perf_counter()
            done = v.run(span)
            overall = time.perf_counter() - began
            s = samples[v.key]
            s.seconds.append(span.seconds)
            s.rates.append(done / span.seconds)
            s.client_cpu.append(span.cpu.client)
            s.server_cpu.append(span.cpu.server)
            s.other_cpu.append(span.cpu.other)
            log(
                f"  round {round_}/{rounds}  {v.key:<32} {done / span.seconds:>9,.0f} {v.unit}/s"
                f"  cpu client {span.cpu.client:3.0f}% server {span.cpu.server:3.0f}%"
                f"  ({overall:.1f} s with set-up)"
            )
    return samples


def _row(
    v: Variant, s: Samples, base: Samples, base_name: str, tuned: Samples | None
) -> dict[str, Any]:
    cpu = CpuUse(median(s.client_cpu), median(s.server_cpu), median(s.other_cpu))
    return {
        "key": v.key,
        "client": v.client,
        "concurrency": v.concurrency,
        "unit": v.unit,
        "work": v.work,
        "items": v.items,
        "seconds": median(s.seconds),
        "rate": median(s.rates),
        "ratio": median_ratio(s.rates, base.rates),
        "ratio_vs": base_name,
        # ÷ the hand-tuned aiohttp baseline of the same round (None: not measured).
        "ratio_tuned": None if tuned is None else median_ratio(s.rates, tuned.rates),
        "client_cpu": cpu.client,
        "server_cpu": cpu.server,
        "other_cpu": cpu.other,
        "server_bound": server_bound(cpu),
        "rounds": {"seconds": s.seconds, "rate": s.rates},
    }


def case_rows(
    plan: Plan, variants: list[Variant], samples: dict[str, Samples], cases: Set[int]
) -> dict[str, list[dict[str, Any]]]:
    """The rows of the given cases of 1, 2 and 3, each with its ratio to raw aiohttp
    and, where it was measured, to the hand-tuned baseline."""
    by_key = {v.key: v for v in variants}
    head = headline(plan)
    head_base = get_key("aiohttp", head)

    def row(key: str, base_key: str) -> dict[str, Any]:
        base = by_key[base_key]
        name = f"raw aiohttp, concurrency {base.concurrency}"
        tuned = samples.get(base_key.replace("/aiohttp/", "/tuned/"))
        return _row(by_key[key], samples[key], samples[base_key], name, tuned)

    get_rows: list[dict[str, Any]] = []
    list_rows: list[dict[str, Any]] = []
    blocking: list[dict[str, Any]] = []
    if 1 in cases:
        for c in plan.concurrencies:
            for client, _, _ in _GET_CLIENTS:
                get_rows.append(row(get_key(client, c), get_key("aiohttp", c)))
        for key in ("requests_threads", "requests_seq", "sdk_seq"):
            conc = w.REQUESTS_THREADS if key == "requests_threads" else 1
            get_rows.append(row(get_key(key, conc), head_base))
    if 2 in cases:
        for c in plan.concurrencies:
            for client, _, _ in _LIST_CLIENTS:
                list_rows.append(row(list_key(client, c), list_key("aiohttp", c)))
    if 3 in cases and get_key("client_seq", 1) in by_key:
        for key in (
            get_key("client_seq", 1),
            get_key("requests_seq", 1),
            get_key("sdk_seq", 1),
            get_key("client_get_many", head),
            get_key("sdk_get_many", head),
            get_key("requests_threads", w.REQUESTS_THREADS),
        ):
            blocking.append(row(key, head_base))
    return {"get_fanout": get_rows, "list_pages": list_rows, "blocking": blocking}
