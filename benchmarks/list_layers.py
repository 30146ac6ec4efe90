"""Where a list page's time goes: ``python -m benchmarks.list_layers``.

Case 2 compares ``servers.list(page_size=50).pages()`` with raw aiohttp decoding the same
pages into dicts. This diagnostic runs the same listings one step at a time and, for
each, reports the client's CPU per page, how much of it the decoding itself took where
it ran (timed around the call, in the request path), how much the garbage collector
took (from :data:`gc.callbacks`; a collection that starts inside a decode counts in both),
and the same decoding in a tight loop over one page, where caches stay warm and nothing
else allocates:

1. raw aiohttp, each page's JSON decoded into dicts (the baseline of case 2);
2. raw aiohttp, each page decoded into ``Server`` models by the SDK's decoder;
3. the SDK's ``pages()``;
4. the SDK's item iterator (``async for server in client.servers.list()``).

The first three hold each page while the next one is fetched, as case 2 does. The
difference between 1 and 2 is the price of models; between 2 and 3, the SDK's own
work per page (pipeline, transport, next-link checks). It reaches into a private part of
the SDK (``vpsorg._converter.structure_page``) on purpose: that is the step measured.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import attrs
import msgspec
import yarl

import vpsorg
from benchmarks import _cg, _env, _tuned
from benchmarks._decode import fetch_samples
from benchmarks._measure import median, median_ratio
from benchmarks._server import PAGE_SIZE, SimulatorProcess, exit_on_sigterm
from benchmarks._target import MAX_CONNECTIONS, Target, WorkloadError
from benchmarks._workloads import worker_pool
from vpsorg._converter import structure_page

__all__ = ["main"]

#: A bound on the pages of one listing (the simulator holds 200 servers: 4 pages of 50).
_MAX_PAGES = 1_000

STEPS: tuple[tuple[str, str], ...] = (
    ("raw_dicts", "raw aiohttp, pages decoded into dicts (case 2's baseline)"),
    ("raw_models", "raw aiohttp, pages decoded into `Server` models"),
    ("tuned", "hand-tuned aiohttp: encoded URLs, msgspec into typed Structs (case 2)"),
    ("sdk_pages", "`servers.list().pages()`, each page held while the next is fetched"),
    ("sdk_items", "`async for server in servers.list()`"),
)


@attrs.define
class _Tally:
    """What one measured run spent: decoding where it ran, and in the garbage collector."""

    decode_s: float = 0.0
    decoded: int = 0
    gc_s: float = 0.0
    collections: int = 0
    _gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._gc_started
            self.collections += 1


@attrs.frozen
class _Run:
    cpu_us: float  # client CPU per page
    rate: float  # pages per second
    decode_us: float  # decoding per page where it ran (raw steps only)
    gc_us: float  # garbage collection per page
    collections_per_1000: float


Listing = Callable[[int], Awaitable[int]]


async def _measure(listing: Listing, listings: int, concurrency: int, tally: _Tally) -> _Run:
    await worker_pool(listing, range(min(listings, 2 * concurrency)), concurrency)
    gc.collect()
    tally.decode_s, tally.decoded, tally.gc_s, tally.collections = 0.0, 0, 0.0, 0
    gc.callbacks.append(tally.on_gc)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        with _cg.section():  # counts instructions under ``benchmarks.instructions``
            pages = sum(await worker_pool(listing, range(listings), concurrency))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        gc.callbacks.remove(tally.on_gc)
    return _Run(
        cpu / pages * 1e6,
        pages / wall,
        tally.decode_s / tally.decoded * 1e6 if tally.decoded else 0.0,
        tally.gc_s / pages * 1e6,
        tally.collections / pages * 1000,
    )


async def _raw(target: Target, step: str, listings: int, concurrency: int) -> _Run:
    tally = _Tally()
    tuned = msgspec.json.Decoder(_tuned.ServerPage).decode
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, headers=target.headers) as session:

        async def listing(_: int) -> int:
            url: str | yarl.URL | None = target.list_url
            if step == "tuned":
                url = yarl.URL(target.list_url, encoded=True)
            pages = 0
            while url is not None and pages < _MAX_PAGES:
                async with session.get(url) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise WorkloadError(f"HTTP {response.status}")
                # Each page is held while the next one is fetched, as case 2 holds it.
                started = time.perf_counter()
                if step == "tuned":
                    link = tuned(body).next
                    url = None if link is None else yarl.URL(link, encoded=True)
                elif step == "raw_models":
                    url = structure_page(body, vpsorg.Server)[1]
                else:
                    data = _env.json_loads(body)
                    url = data["next"]
                tally.decode_s += time.perf_counter() - started
                tally.decoded += 1
                pages += 1
            return pages

        return await _measure(listing, listings, concurrency, tally)


async def _sdk(target: Target, items: bool, listings: int, concurrency: int) -> _Run:
    async with target.sdk() as client:

        async def by_page(_: int) -> int:
            pages = 0
            async for page in client.servers.list(page_size=target.page_size).pages():
                pages += 1
                if len(page.results) > target.page_size:
                    raise WorkloadError("a page larger than asked")
            return pages

        async def by_item(_: int) -> int:
            servers = 0
            async for server in client.servers.list(page_size=target.page_size):
                servers += server.id > 0
            return -(-servers // target.page_size)

        return await _measure(by_item if items else by_page, listings, concurrency, _Tally())


def _run_step(step: str, target: Target, listings: int, concurrency: int) -> _Run:
    if step.startswith("raw") or step == "tuned":
        coro = _raw(target, step, listings, concurrency)
    else:
        coro = _sdk(target, step == "sdk_items", listings, concurrency)
    return _env.run_async(coro, timeout=600)


def _tight_loop_us(page: bytes, decode: Callable[[bytes], object], rounds: int) -> float:
    """µs per page of ``decode`` over the same bytes in a loop: the best of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(500):
            decode(page)
        best = min(best, (time.perf_counter() - started) / 500 * 1e6)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.list_layers", description=__doc__)
    parser.add_argument("--listings", type=int, default=500, help="full listings per run")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    runs: dict[str, list[_Run]] = {step: [] for step, _ in STEPS}
    with SimulatorProcess() as sim:
        sim.seed(200)
        target = Target(sim.base_url, sim.token, tuple(sim.server_ids), PAGE_SIZE)
        _, page = fetch_samples(target)
        for round_ in range(1, args.rounds + 1):
            for step, _ in STEPS:
                runs[step].append(_run_step(step, target, args.listings, args.concurrency))
            print(f"round {round_}/{args.rounds} done", file=sys.stderr, flush=True)
    print(
        f"# Where a list page's time goes ({args.listings:,} listings of 4 pages of "
        f"{PAGE_SIZE}, concurrency {args.concurrency}, {args.rounds} rounds, "
        f"{_env.EVENT_LOOP}, {_env.JSON_LIBRARY})\n"
    )
    print(
        "| step | client CPU µs per page | decoding in place, µs per page | GC µs per page "
        "| GC runs per 1,000 pages | pages/s | ÷ raw aiohttp |"
    )
    print("|---|---|---|---|---|---|---|")
    baseline = [run.rate for run in runs["raw_dicts"]]
    for step, what in STEPS:
        done = runs[step]
        decode = median([run.decode_us for run in done])
        print(
            f"| {what} | {median([run.cpu_us for run in done]):.1f} "
            f"| {f'{decode:.1f}' if decode else ''} | {median([run.gc_us for run in done]):.1f} "
            f"| {median([run.collections_per_1000 for run in done]):.0f} "
            f"| {median([run.rate for run in done]):,.0f} "
            f"| {median_ratio([run.rate for run in done], baseline):.2f}x |"
        )
    print("\n# The same decoding in a tight loop over one page (warm caches)\n")
    print("| decoder | µs per page | µs per server |")
    print("|---|---|---|")
    decoders: tuple[tuple[str, Callable[[bytes], object]], ...] = (
        ("the JSON library into dicts", _env.json_loads),
        ("the SDK's decoder into `Server` models", lambda b: structure_page(b, vpsorg.Server)),
    )
    for what, decoder in decoders:
        us = _tight_loop_us(page, decoder, args.rounds)
        print(f"| {what} | {us:.1f} | {us / PAGE_SIZE:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
