"""Small helpers shared by the simulator tests."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

SAMPLE_IDS = (12345, 12346)
VALID_CREATE: dict[str, Any] = {
    "name": "web-server-02",
    "plan_id": 1,
    "os_id": 5,
    "location": "us-west",
    "hostname": "web02.example.com",
    "backups_enabled": True,
}


async def call(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    """Make a request; return status, decoded JSON body (or text, or None) and headers."""
    async with session.request(method, url, **kwargs) as response:
        raw = await response.read()
        if not raw:
            body: Any = None
        elif response.content_type == "application/json":
            body = await response.json()
        else:
            body = raw.decode()
        return response.status, body, response.headers


async def wait_for_status(
    session: aiohttp.ClientSession, url: str, wanted: str, *, timeout: float = 5.0
) -> dict[str, Any]:
    """Poll a server's detail URL until its status is ``wanted`` (bounded, with deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[str] = []
    for _ in range(1000):
        status, body, _ = await call(session, "GET", url)
        assert status == 200, body
        if body["status"] == wanted:
            return dict(body)
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.01)
    raise AssertionError(f"{url} never became {wanted!r}; saw {seen}")
