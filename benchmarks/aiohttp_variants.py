"""Ways to send a ``GET`` with aiohttp, timed: ``python -m benchmarks.aiohttp_variants``.

The SDK's transport must send every request through one ``aiohttp.ClientSession`` as
cheaply as aiohttp allows. This runs the same ``GET`` fan-out (a worker pool at
concurrency 100 against the simulator in its own process) through each way of calling
aiohttp and reading the body, interleaved round by round, and reports the client's CPU
time per call (median of rounds) and the difference to the first variant, paired by
round so that a slow spell of a shared machine cancels out. It chose the transport's
shape (see docs/performance.md); rerun it when aiohttp changes.

It reaches into aiohttp's private ``ClientSession._request`` on purpose: that is one of
the variants being measured.
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import yarl

import vpsorg
from benchmarks import _env
from benchmarks._measure import median
from benchmarks._server import PAGE_SIZE, SimulatorProcess, exit_on_sigterm
from benchmarks._target import MAX_CONNECTIONS, Target, warm_calls
from benchmarks._workloads import worker_pool
from vpsorg._async._transport import _Connector
from vpsorg._config import RedactedHeader

__all__ = ["VARIANTS", "main"]

Get = Callable[[int], Awaitable[bytes]]


async def _read_all(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await response.read()
    finally:
        response.release()


async def _read_buffered(response: aiohttp.ClientResponse) -> bytes:
    """The whole body from aiohttp's buffer when it is all there, else ``read()``."""
    try:
        content = response.content
        if content.is_eof() and response._writer is None:
            return content.read_nowait()
        return await response.read()
    finally:
        response.release()


def _session(target: Target, **options: Any) -> aiohttp.ClientSession:
    connector_class = options.pop("connector_class", aiohttp.TCPConnector)
    headers: dict[str, str] = {
        **target.headers,
        "Content-Type": "application/json",
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": "vpsorg-bench",
    }
    return aiohttp.ClientSession(
        connector=connector_class(limit=MAX_CONNECTIONS, keepalive_timeout=30),
        headers=headers,
        trust_env=False,
        auto_decompress=False,
        raise_for_status=False,
        **options,
    )


_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)


def _variant(name: str, session: aiohttp.ClientSession, target: Target) -> Get:
    """The ``GET`` of one server, called as variant ``name`` says."""
    base = target.base_url
    urls: dict[int, yarl.URL] = {}

    async def request_full_kwargs(server_id: int) -> bytes:
        # What the transport did: session.request, a full URL string, every keyword.
        response = await session.request(
            "GET",
            f"{base}servers/{server_id}/",
            params=None,
            data=None,
            allow_redirects=False,
            timeout=_TIMEOUT,
        )
        return await _read_all(response)

    async def private_full_kwargs(server_id: int) -> bytes:
        response = await session._request(
            "GET",
            f"{base}servers/{server_id}/",
            params=None,
            data=None,
            allow_redirects=False,
            timeout=_TIMEOUT,
        )
        return await _read_all(response)

    async def private_full_defaults(server_id: int) -> bytes:
        # The timeout fixed at session creation; only what has no session default.
        response = await session._request(
            "GET", f"{base}servers/{server_id}/", allow_redirects=False
        )
        return await _read_all(response)

    async def private_relative(server_id: int) -> bytes:
        # A session made with base_url, a path relative to it.
        response = await session._request("GET", f"servers/{server_id}/", allow_redirects=False)
        return await _read_all(response)

    async def private_url_object(server_id: int) -> bytes:
        # A yarl.URL built once per distinct URL (what a small cache would give).
        url = urls.get(server_id)
        if url is None:
            url = urls[server_id] = yarl.URL(f"{base}servers/{server_id}/")
        response = await session._request("GET", url, allow_redirects=False)
        return await _read_all(response)

    async def private_url_encoded(server_id: int) -> bytes:
        # yarl told the string is already encoded: split, not requoted (no cache needed).
        url = yarl.URL(f"{base}servers/{server_id}/", encoded=True)
        response = await session._request("GET", url, allow_redirects=False)
        return await _read_all(response)

    async def private_encoded_buffered(server_id: int) -> bytes:
        url = yarl.URL(f"{base}servers/{server_id}/", encoded=True)
        response = await session._request(
            "GET", url, params=None, data=None, allow_redirects=False, timeout=_TIMEOUT
        )
        return await _read_buffered(response)

    async def private_kwargs_buffered(server_id: int) -> bytes:
        response = await session._request(
            "GET",
            f"{base}servers/{server_id}/",
            params=None,
            data=None,
            allow_redirects=False,
            timeout=_TIMEOUT,
        )
        return await _read_buffered(response)

    return {
        "request_full_kwargs": request_full_kwargs,
        "private_full_kwargs": private_full_kwargs,
        "private_full_defaults": private_full_defaults,
        "private_relative": private_relative,
        "private_url_object": private_url_object,
        "private_url_encoded": private_url_encoded,
        "private_encoded_buffered": private_encoded_buffered,
        "private_kwargs_buffered": private_kwargs_buffered,
        "sdk_connector": private_encoded_buffered,
        "sdk_redacted_header": private_encoded_buffered,
    }[name]


VARIANTS: tuple[tuple[str, str], ...] = (
    (
        "request_full_kwargs",
        "`session.request(method, full URL, params=, data=, allow_redirects=, timeout=)`, "
        "`await read()`, `release()`",
    ),
    ("private_full_kwargs", "the same through `session._request` (no context-manager wrapper)"),
    ("private_full_defaults", "`_request`, timeout fixed at session creation, no other keyword"),
    ("private_relative", "`_request` on a `base_url` session with a relative path"),
    ("private_url_object", "`_request` with a `yarl.URL` built once per URL"),
    ("private_url_encoded", "`_request` with `yarl.URL(url, encoded=True)` (no requoting)"),
    ("private_kwargs_buffered", "`_request`, every keyword, body taken from the buffer"),
    (
        "private_encoded_buffered",
        "`_request`, every keyword, `encoded=True` URL, body taken from the buffer",
    ),
    ("sdk_connector", "the same on the SDK's connector (it marks each request connected)"),
    ("sdk_redacted_header", "the same with the SDK's `Authorization` value (a `str` subclass)"),
    ("sdk_transport", "the SDK's `AiohttpTransport.request` (every guarantee)"),
)


async def _run(name: str, target: Target, ids: Sequence[int], concurrency: int) -> float:
    if name == "sdk_transport":
        return await _run_transport(target, ids, concurrency)
    options: dict[str, Any] = {"timeout": _TIMEOUT}
    if name == "private_relative":
        options["base_url"] = target.base_url
    if name == "sdk_connector":
        # The transport takes each task out of the set when its request ends; here the
        # set just holds the (at most ``concurrency``) worker tasks.
        options["connector_class"] = functools.partial(_Connector, connected=set())
    async with _session(target, **options) as session:
        if name == "sdk_redacted_header":
            token = RedactedHeader(session.headers["Authorization"])
            session._default_headers["Authorization"] = token
        get = _variant(name, session, target)
        await worker_pool(get, ids[: warm_calls(concurrency)], concurrency)
        gc.collect()
        started = time.process_time()
        bodies = await worker_pool(get, ids, concurrency)
        us = (time.process_time() - started) / len(ids) * 1e6
    if not all(body.startswith(b"{") for body in bodies):
        raise RuntimeError(f"{name}: a response was not a JSON object")
    return us


async def _run_transport(target: Target, ids: Sequence[int], concurrency: int) -> float:
    async with target.sdk() as client:
        transport: Any = client._pipeline.transport
        timeout = vpsorg.Timeout(total=60, connect=10)
        base = target.base_url

        async def get(server_id: int) -> bytes:
            url = f"{base}servers/{server_id}/"
            response = await transport.request("GET", url, params=None, body=None, timeout=timeout)
            body: bytes = response.body
            return body

        await worker_pool(get, ids[: warm_calls(concurrency)], concurrency)
        gc.collect()
        started = time.process_time()
        bodies = await worker_pool(get, ids, concurrency)
        us = (time.process_time() - started) / len(ids) * 1e6
    if not all(body.startswith(b"{") for body in bodies):
        raise RuntimeError("sdk_transport: a response was not a JSON object")
    return us


def main(argv: Sequence[str] | None = None) -> int:
    """Run every variant, round by round, and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.aiohttp_variants")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    cpu: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    with SimulatorProcess() as sim:
        sim.seed(200)
        target = Target(sim.base_url, sim.token, tuple(sim.server_ids), PAGE_SIZE)
        ids = target.ids(args.calls)
        for round_ in range(1, args.rounds + 1):
            # Each round starts at another variant, so no variant always runs first.
            shift = (round_ - 1) % len(VARIANTS)
            for name, _ in VARIANTS[shift:] + VARIANTS[:shift]:
                coro = _run(name, target, ids, args.concurrency)
                cpu[name].append(_env.run_async(coro, timeout=600))
            print(f"round {round_}/{args.rounds} done", file=sys.stderr, flush=True)
    first = VARIANTS[0][0]
    print(
        f"# Sending a GET with aiohttp {aiohttp.__version__} ({args.calls:,} calls, concurrency "
        f"{args.concurrency}, {args.rounds} rounds, {_env.EVENT_LOOP})\n"
    )
    print("| variant | client CPU µs per call | ÷ the first, paired by round |")
    print("|---|---|---|")
    for name, what in VARIANTS:
        ratio = median([a / b for a, b in zip(cpu[name], cpu[first], strict=True)])
        print(f"| {what} | {median(cpu[name]):.1f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
