"""Shared fixtures: a mocked API (aioresponses) and sample payloads from the reference."""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import aioresponses.core
import psutil
import pytest
from aioresponses import aioresponses as _aioresponses

import vpsorg

_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 predates aiohttp 3.14's required ``stream_writer`` argument
    (older aiohttp, as the lowest-dependencies run installs, has no such argument)."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


aioresponses.core.ClientResponse = _CompatResponse  # type: ignore[attr-defined]

BASE = "https://api.vps.test/api/v1/"
TOKEN = "tok-3f9a-very-secret"

SUMMARY_12345: dict[str, Any] = {
    "id": 12345,
    "name": "web-server-01",
    "hostname": "web01.example.com",
    "status": "active",
    "ip_address": "203.0.113.10",
    "location": "us-west",
    "plan": {"id": 1, "name": "Standard VPS", "vcpus": 2, "memory": 4096, "storage": 80},
    "os": {"id": 5, "name": "Ubuntu 22.04 LTS"},
    "created_at": "2025-01-10T14:30:00Z",
    "updated_at": "2025-01-15T10:20:00Z",
}
SUMMARY_12346: dict[str, Any] = {
    "id": 12346,
    "name": "db-server-01",
    "hostname": "db01.example.com",
    "status": "active",
    "ip_address": "203.0.113.11",
    "location": "us-east",
    "plan": {"id": 2, "name": "Performance VPS", "vcpus": 4, "memory": 8192, "storage": 160},
    "os": {"id": 3, "name": "Debian 12"},
    "created_at": "2025-01-12T09:15:00Z",
    "updated_at": "2025-01-16T08:45:00Z",
}
DETAIL_12345: dict[str, Any] = {
    **SUMMARY_12345,
    "ipv6_address": "2001:0db8::1",
    "plan": {**SUMMARY_12345["plan"], "bandwidth": 2048},
    "backups_enabled": True,
    "resource_usage": {
        "cpu_percent": 23.5,
        "memory_used": 2048,
        "disk_used": 35,
        "bandwidth_used": 450,
    },
    "updated_at": "2025-01-16T15:45:00Z",
}
CREATED_12347: dict[str, Any] = {
    "id": 12347,
    "name": "web-server-02",
    "hostname": "web02.example.com",
    "status": "provisioning",
    "ip_address": None,
    "location": "us-west",
    "plan": {"id": 1, "name": "Standard VPS", "vcpus": 2, "memory": 4096, "storage": 80},
    "os": {"id": 5, "name": "Ubuntu 22.04 LTS"},
    "backups_enabled": True,
    "created_at": "2025-01-16T15:30:00Z",
    "updated_at": "2025-01-16T15:30:00Z",
    "message": "Server is being provisioned. This may take 2-5 minutes.",
}


def action_body(server_id: int, name: str, verb: str, status: str) -> dict[str, Any]:
    """An action response exactly as the reference shows it."""
    return {
        "status": "success",
        "message": f"Server is {verb}",
        "server": {"id": server_id, "name": name, "status": status},
    }


def sample(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a sample payload with some keys changed."""
    out = copy.deepcopy(payload)
    out.update(changes)
    return out


FAST_RETRY = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.005, retry_after_cap=5.0)


@pytest.fixture
def mocked() -> Iterator[_aioresponses]:
    """Intercept every aiohttp request; unmatched requests raise a connection error."""
    with _aioresponses() as mock:
        yield mock


@pytest.fixture
async def client() -> AsyncIterator[vpsorg.AsyncClient]:
    """An AsyncClient on the mocked base URL, with near-zero backoff."""
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=FAST_RETRY) as c:
        yield c


def requests_of(mock: _aioresponses) -> list[tuple[str, str, dict[str, Any]]]:
    """Every request the mock saw, as (method, url with query, kwargs), in order."""
    seen = []
    for (method, url), calls in mock.requests.items():
        for call in calls:
            seen.append((method, str(url), call.kwargs))
    return seen


def client_sockets_to(port: int) -> int:
    """Open TCP connections from this process to the given local port."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a real redis-server on 127.0.0.1 for the session (skips without one)."""
    from tests.redis_server import MISSING_REASON, redis_server

    try:
        server = redis_server()
        url = server.__enter__()
    except LookupError:
        pytest.skip(MISSING_REASON)
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
