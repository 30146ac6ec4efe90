"""Measurements that need a fresh process: ``python -m benchmarks._child KIND ...``.

``memory``: one bulk call over N items in a new process, so ``ru_maxrss`` is the peak of
that call alone (case 5). ``speedups``: the HTTP and decoding workloads, run once with
and once without orjson/uvloop (the parent sets ``VPSORG_NO_SPEEDUPS=1`` for the latter,
which :mod:`benchmarks` turns into blocked imports before vpsorg loads; case 6).

Each prints one JSON object as its last line of output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
from collections.abc import Sequence
from typing import Any

import psutil

import vpsorg
from benchmarks import _env
from benchmarks._measure import Span
from benchmarks._target import Target, WorkloadError, warm_calls

__all__ = ["MEMORY_SHAPES", "main"]

#: shape -> what it is. "keep" shapes hold every Server until the call returns, as
#: get_many does; "discard" shapes drop each one, to show the engine's own memory.
MEMORY_SHAPES = {
    "pool_keep": "servers.get_many (SDK worker pool, keeps every Server)",
    "tasks_keep": "one task per item behind a semaphore, keeps every Server",
    "pool_discard": "vpsorg.fleet.map over servers.get, result dropped",
    "tasks_discard": "one task per item behind a semaphore, result dropped",
    "imap_stream": "vpsorg.fleet.imap over servers.get, ids from a generator, streamed",
}


def _peak_rss() -> int:
    """This process's peak RSS in bytes.

    On Linux it is VmHWM, the high-water mark of this process's own memory map. Not
    ``ru_maxrss``: Linux carries that over from the parent across fork and exec, so a
    child of a 70 MB benchmark process would report at least 70 MB whatever it did.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


async def _bulk(target: Target, shape: str, items: int, concurrency: int, span: Span) -> int:
    ids = target.ids(items)
    async with target.sdk() as client:
        get = client.servers.get
        await client.servers.get_many(ids[: warm_calls(concurrency)], concurrency=concurrency)
        baseline = int(psutil.Process().memory_info().rss)
        semaphore = asyncio.Semaphore(concurrency)

        async def keep(server_id: int) -> vpsorg.Server:
            async with semaphore:
                return await get(server_id)

        async def discard(server_id: int) -> None:
            await get(server_id)

        async def discard_gated(server_id: int) -> None:
            async with semaphore:
                await get(server_id)

        with span:
            if shape == "pool_keep":
                done = len((await client.servers.get_many(ids, concurrency=concurrency)).succeeded)
            elif shape == "pool_discard":
                result = await vpsorg.fleet.map(discard, ids, concurrency=concurrency)
                done = len(result.succeeded)
            elif shape == "tasks_keep":
                servers = await asyncio.gather(*(keep(i) for i in ids))
                done = sum(1 for s in servers if isinstance(s, vpsorg.Server))
            elif shape == "imap_stream":
                done = 0
                lazy_ids = (ids[i] for i in range(items))
                stream = vpsorg.fleet.imap(get, lazy_ids, concurrency=concurrency)
                async with contextlib.aclosing(stream) as outcomes:
                    async for outcome in outcomes:
                        done += outcome.ok
            elif shape == "tasks_discard":
                await asyncio.gather(*(discard_gated(i) for i in ids))
                done = items
            else:
                raise ValueError(f"unknown shape {shape!r}")
    if done != items:
        raise WorkloadError(f"{shape}: {done} of {items} succeeded")
    return baseline


def _memory(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    span = Span(args.server_pid)
    baseline = _env.run_async(
        _bulk(target, args.shape, args.items, args.concurrency, span), timeout=args.timeout
    )
    return {
        "seconds": span.seconds,
        "peak_rss": _peak_rss(),
        "baseline_rss": baseline,
        "client_cpu": span.cpu.client,
        "server_cpu": span.cpu.server,
        "other_cpu": span.cpu.other,
    }


def _speedups(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    # Imported here: the memory child must not carry httpx and requests in its RSS.
    from benchmarks import _decode, _workloads

    ids = target.ids(args.calls)
    out: dict[str, Any] = {
        "json": _env.JSON_LIBRARY,
        "event_loop": _env.EVENT_LOOP,
        "orjson_loaded": sys.modules.get("orjson") is not None,
    }
    runs = {
        "sdk_get_many": (_workloads.sdk_get_many, ids, 100),
        "aiohttp_get": (_workloads.aiohttp_get, ids, 100),
        "sdk_list": (_workloads.sdk_list, args.listings, 10),
        "aiohttp_list": (_workloads.aiohttp_list, args.listings, 10),
    }
    for name, (workload, work, concurrency) in runs.items():
        span = Span(args.server_pid)
        count = _env.run_async(workload(target, work, concurrency, span), timeout=args.timeout)  # type: ignore[operator]
        out[name] = {"rate": count / span.seconds, "client_cpu": span.cpu.client}
    # The blocking client, whose own loop thread runs on uvloop when it can be imported,
    # against requests (a fifth of the calls: it is that much slower).
    blocking = {
        "client_seq": (_workloads.client_get_sequential, ids),
        "requests_seq": (_workloads.requests_sequential, ids[: max(1, len(ids) // 5)]),
    }
    for name, (run, work) in blocking.items():
        span = Span(args.server_pid)
        count = run(target, work, 1, span, timeout=args.timeout)
        out[name] = {"rate": count / span.seconds, "client_cpu": span.cpu.client}
    detail, page = _decode.fetch_samples(target)
    out["decode_us"] = _decode.time_decoder("structure_json", detail, page, args.decode_iterations)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._child")
    parser.add_argument("kind", choices=["memory", "speedups"])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ids", required=True, help="comma-separated server ids")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--shape", choices=sorted(MEMORY_SHAPES), default="pool_keep")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=10)
    parser.add_argument("--decode-iterations", type=int, default=1000)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = Target(
        base_url=args.base_url,
        token=args.token,
        server_ids=tuple(int(i) for i in args.ids.split(",")),
        page_size=args.page_size,
    )
    result = _memory(args, target) if args.kind == "memory" else _speedups(args, target)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
