"""The hand-tuned aiohttp baseline of cases 1 and 2 (issue 23).

What a performance-minded user writes with aiohttp's public API alone, producing the
same typed output the SDK gives:

- one ``ClientSession`` with the same connector limit as the SDK's default
  :class:`vpsorg.Limits`, run by the same worker pool as every other baseline;
- each URL built once, as ``yarl.URL(..., encoded=True)`` (no ``base_url`` join, no
  requoting by yarl); a ``next`` link from a list page is handed over the same way;
- every status checked;
- msgspec decoding the body's bytes straight into typed Structs defined here (not
  vpsorg's models): a :class:`Server` with parsed, timezone-aware ``datetime``\\ s and
  nested :class:`Plan`, :class:`OperatingSystem` and :class:`ResourceUsage`, with the
  same fields as ``vpsorg.Server``. ``status`` stays a ``str``: the SDK's
  ``ServerStatus``-or-``str`` is the part of its output a user would not hand-write.

The idiomatic baseline (``raw aiohttp`` in the report: a string URL per call, the JSON
library into dicts) stays beside it; the SDK is compared with both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiohttp
import msgspec
import yarl

from benchmarks._measure import Span
from benchmarks._target import MAX_CONNECTIONS, Target, WorkloadError, warm_calls
from benchmarks._workloads import measure_listings, worker_pool

__all__ = [
    "OperatingSystem",
    "Plan",
    "ResourceUsage",
    "Server",
    "ServerPage",
    "session",
    "tuned_get",
    "tuned_list",
]

_REQUEST_TIMEOUT = 60.0
_MAX_PAGES = 10_000


class Plan(msgspec.Struct):
    id: int
    name: str
    vcpus: int
    memory: int
    storage: int
    bandwidth: int | None = None


class OperatingSystem(msgspec.Struct):
    id: int
    name: str


class ResourceUsage(msgspec.Struct):
    cpu_percent: float
    memory_used: int
    disk_used: int
    bandwidth_used: int


class Server(msgspec.Struct):
    id: int
    name: str
    status: str
    hostname: str | None
    ip_address: str | None
    location: str
    plan: Plan
    os: OperatingSystem
    created_at: datetime
    updated_at: datetime
    ipv6_address: str | None = None
    backups_enabled: bool | None = None
    resource_usage: ResourceUsage | None = None
    message: str | None = None


class ServerPage(msgspec.Struct):
    count: int | None
    next: str | None
    previous: str | None
    results: list[Server]


def session(target: Target) -> aiohttp.ClientSession:
    """The one session: the SDK's connector limit, the target's headers, a total timeout."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
        headers=target.headers,
        timeout=aiohttp.ClientTimeout(total=_REQUEST_TIMEOUT),
    )


def _check_server(server: Server) -> None:
    # The typed output, as the SDK's is checked: a Server with aware datetimes.
    if type(server) is not Server or server.created_at.tzinfo is None:
        raise WorkloadError("not a Server with aware timestamps")


async def tuned_get(target: Target, ids: Sequence[int], concurrency: int, span: Span) -> int:
    """Hand-tuned aiohttp: prebuilt encoded URLs, status check, msgspec into ``Server``."""
    by_id = {i: yarl.URL(target.detail_url(i), encoded=True) for i in set(ids)}
    urls = [by_id[i] for i in ids]
    decode = msgspec.json.Decoder(Server).decode
    async with session(target) as client:

        async def get(url: yarl.URL) -> Server:
            async with client.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    raise WorkloadError(f"HTTP {response.status}")
            server: Server = decode(body)
            return server

        await worker_pool(get, urls[: warm_calls(concurrency)], concurrency)
        with span:
            results = await worker_pool(get, urls, concurrency)
        for server in results:
            _check_server(server)
        if len(results) != len(ids):
            raise WorkloadError(f"hand-tuned aiohttp: {len(results)} of {len(ids)} calls")
        return len(results)


async def tuned_list(target: Target, listings: int, concurrency: int, span: Span) -> int:
    """Hand-tuned aiohttp: follow ``next`` as encoded URLs, msgspec into ``ServerPage``."""
    first = yarl.URL(target.list_url, encoded=True)
    decode = msgspec.json.Decoder(ServerPage).decode
    async with session(target) as client:

        async def listing(_: int) -> int:
            url: yarl.URL | None = first
            pages = 0
            while url is not None and pages < _MAX_PAGES:
                async with client.get(url) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise WorkloadError(f"HTTP {response.status}")
                page: ServerPage = decode(body)
                pages += 1
                for server in page.results:
                    if type(server) is not Server:
                        raise WorkloadError("not a Server")
                url = None if page.next is None else yarl.URL(page.next, encoded=True)
            return pages

        return await measure_listings(
            listing, listings, concurrency, span, "hand-tuned aiohttp list pages"
        )
