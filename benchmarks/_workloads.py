"""The measured workloads: one function per client and shape of work.

Every function sets its client up, warms its connection pool, then runs the measured
part inside the given :class:`~benchmarks._measure.Span`, and returns how many items it
handled (calls or pages). Every result is checked, so a run that silently failed cannot
pass for a fast one. Loops are bounded by their input and by ``timeout`` seconds.

The raw aiohttp and httpx baselines use :func:`worker_pool`, the same shape as the SDK's
bulk engine (``concurrency`` workers pulling from one shared iterator), with the same
connection limit as the SDK's default :class:`vpsorg.Limits` and the same JSON library.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp
import httpx
import requests

import vpsorg
from benchmarks._env import json_loads
from benchmarks._measure import Span
from benchmarks._target import MAX_CONNECTIONS, Target, WorkloadError, warm_calls

__all__ = ["Target", "measure_listings", "worker_pool"]

T = TypeVar("T")
R = TypeVar("R")

REQUESTS_THREADS = 32
_REQUEST_TIMEOUT = 60.0
_MAX_PAGES = 10_000


async def worker_pool(
    fn: Callable[[T], Awaitable[R]], items: Sequence[T], concurrency: int
) -> list[R]:
    """``fn`` over ``items`` by ``concurrency`` workers sharing one iterator; results in order."""
    results: list[Any] = [None] * len(items)
    indexes = iter(range(len(items)))

    async def worker() -> None:
        for index in indexes:
            results[index] = await fn(items[index])

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(items)))))
    return results


async def measure_listings(
    listing: Callable[[int], Awaitable[int]],
    listings: int,
    concurrency: int,
    span: Span,
    what: str,
) -> int:
    """One listing to learn its length and warm up, then ``listings`` of them in ``span``
    by a worker pool; returns the pages read, checked against that length."""
    expected = await listing(0)
    await worker_pool(listing, range(warm_calls(concurrency)), concurrency)
    with span:
        pages = await worker_pool(listing, range(listings), concurrency)
    return _check(sum(pages), expected * listings, what)


def _check(count: int, expected: int, what: str) -> int:
    if count != expected:
        raise WorkloadError(f"{what}: {count} of {expected} succeeded")
    return count


def _check_servers(results: Sequence[object], expected: int, what: str) -> int:
    good = sum(1 for r in results if isinstance(r, vpsorg.Server))
    return _check(good, expected, what)


def _check_dicts(results: Sequence[Any], expected: int, what: str) -> int:
    good = sum(1 for r in results if type(r) is dict and "id" in r)
    return _check(good, expected, what)


# ---------------------------------------------------------------- GET detail fan-out


async def sdk_get_many(target: Target, ids: Sequence[int], concurrency: int, span: Span) -> int:
    """``AsyncClient.servers.get_many`` (the SDK's bulk engine)."""
    async with target.sdk() as client:
        await client.servers.get_many(ids[: warm_calls(concurrency)], concurrency=concurrency)
        with span:
            result = await client.servers.get_many(ids, concurrency=concurrency)
        return _check(len(result.succeeded), len(ids), "get_many")


async def sdk_get_pool(target: Target, ids: Sequence[int], concurrency: int, span: Span) -> int:
    """``AsyncClient.servers.get`` called by a plain worker pool."""
    async with target.sdk() as client:
        await worker_pool(client.servers.get, ids[: warm_calls(concurrency)], concurrency)
        with span:
            results = await worker_pool(client.servers.get, ids, concurrency)
        return _check_servers(results, len(ids), "servers.get pool")


async def sdk_get_sequential(target: Target, ids: Sequence[int], _: int, span: Span) -> int:
    """``AsyncClient.servers.get`` awaited one after another (concurrency 1)."""
    async with target.sdk() as client:
        await client.servers.get(ids[0])
        results = []
        with span:
            for server_id in ids:
                results.append(await client.servers.get(server_id))
        return _check_servers(results, len(ids), "servers.get sequential")


async def aiohttp_get(target: Target, ids: Sequence[int], concurrency: int, span: Span) -> int:
    """Raw aiohttp: the same worker pool, GET, status check, JSON decode."""
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=_REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(
        connector=connector, headers=target.headers, timeout=timeout
    ) as session:

        async def get(server_id: int) -> Any:
            async with session.get(target.detail_url(server_id)) as response:
                body = await response.read()
                if response.status != 200:
                    raise WorkloadError(f"HTTP {response.status}")
                return json_loads(body)

        await worker_pool(get, ids[: warm_calls(concurrency)], concurrency)
        with span:
            results = await worker_pool(get, ids, concurrency)
        return _check_dicts(results, len(ids), "aiohttp")


async def httpx_get(target: Target, ids: Sequence[int], concurrency: int, span: Span) -> int:
    """``httpx.AsyncClient``: the same worker pool, status check, JSON decode."""
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    async with httpx.AsyncClient(
        headers=target.headers, limits=limits, timeout=_REQUEST_TIMEOUT
    ) as client:

        async def get(server_id: int) -> Any:
            response = await client.get(target.detail_url(server_id))
            if response.status_code != 200:
                raise WorkloadError(f"HTTP {response.status_code}")
            return json_loads(response.content)

        await worker_pool(get, ids[: warm_calls(concurrency)], concurrency)
        with span:
            results = await worker_pool(get, ids, concurrency)
        return _check_dicts(results, len(ids), "httpx")


def _requests_get(session: requests.Session, target: Target, server_id: int) -> Any:
    response = session.get(target.detail_url(server_id), timeout=_REQUEST_TIMEOUT)
    if response.status_code != 200:
        raise WorkloadError(f"HTTP {response.status_code}")
    return json_loads(response.content)


def requests_threads(
    target: Target, ids: Sequence[int], threads: int, span: Span, *, timeout: float
) -> int:
    """``requests`` in a thread pool, one ``Session`` per thread (Sessions are not shared)."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def get(server_id: int) -> Any:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers.update(target.headers)
            sessions.append(session)
        return _requests_get(session, target, server_id)

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(get, ids[:threads], timeout=timeout))
            with span:
                results = list(pool.map(get, ids, timeout=timeout))
    finally:
        for session in sessions:
            session.close()
    return _check_dicts(results, len(ids), "requests threads")


def requests_sequential(
    target: Target, ids: Sequence[int], _: int, span: Span, *, timeout: float
) -> int:
    """``requests`` with one ``Session``, one call after another."""
    deadline = time.monotonic() + timeout
    with requests.Session() as session:
        session.headers.update(target.headers)
        _requests_get(session, target, ids[0])
        results = []
        with span:
            for server_id in ids:
                results.append(_requests_get(session, target, server_id))
                if time.monotonic() > deadline:
                    raise WorkloadError(f"requests sequential: over {timeout:.0f} s")
    return _check_dicts(results, len(ids), "requests sequential")


# ---------------------------------------------------------------- list pages


async def sdk_list(target: Target, listings: int, concurrency: int, span: Span) -> int:
    """``servers.list(page_size=...)`` read to the end ``listings`` times; returns pages."""
    async with target.sdk() as client:

        async def listing(_: int) -> int:
            pages = 0
            async for page in client.servers.list(page_size=target.page_size).pages():
                pages += 1
                for server in page.results:
                    if type(server) is not vpsorg.Server:
                        raise WorkloadError("not a Server")
            return pages

        return await measure_listings(listing, listings, concurrency, span, "list pages")


async def aiohttp_list(target: Target, listings: int, concurrency: int, span: Span) -> int:
    """Raw aiohttp: follow ``next`` from the first page, decode each page's JSON."""
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=_REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(
        connector=connector, headers=target.headers, timeout=timeout
    ) as session:

        async def listing(_: int) -> int:
            url: str | None = target.list_url
            pages = 0
            while url is not None and pages < _MAX_PAGES:
                async with session.get(url) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise WorkloadError(f"HTTP {response.status}")
                data = json_loads(body)
                pages += 1
                for server in data["results"]:
                    if type(server) is not dict:
                        raise WorkloadError("not an object")
                url = data["next"]
            return pages

        return await measure_listings(listing, listings, concurrency, span, "aiohttp list pages")


# ---------------------------------------------------------------- blocking client


def _blocking_client(target: Target) -> vpsorg.Client:
    return vpsorg.Client(token=target.token, base_url=target.base_url)


def client_get_sequential(
    target: Target, ids: Sequence[int], _: int, span: Span, *, timeout: float
) -> int:
    """``vpsorg.Client.servers.get``, one call after another."""
    deadline = time.monotonic() + timeout
    with _blocking_client(target) as client:
        client.servers.get(ids[0])
        results = []
        with span:
            for server_id in ids:
                results.append(client.servers.get(server_id))
                if time.monotonic() > deadline:
                    raise WorkloadError(f"Client sequential: over {timeout:.0f} s")
    return _check_servers(results, len(ids), "Client.servers.get")


def client_get_many(
    target: Target, ids: Sequence[int], concurrency: int, span: Span, *, timeout: float
) -> int:
    """``vpsorg.Client.servers.get_many`` (bounded by the client's own timeouts)."""
    with _blocking_client(target) as client:
        client.servers.get_many(ids[: warm_calls(concurrency)], concurrency=concurrency)
        with span:
            result = client.servers.get_many(ids, concurrency=concurrency)
    return _check(len(result.succeeded), len(ids), "Client.servers.get_many")
