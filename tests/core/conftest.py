"""Fixtures shared by the core tests: an in-process simulator and an async client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

import vpsorg
from vpsorg.simulator import Simulator, serve

#: Near-zero backoff, so retried requests do not slow the suite.
# The simulator stores a create before it answers: a short settle window is enough here
# (the 10 s default is tested in tests/reliability/test_invariant_items.py).
FAST = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.005, settle_window=0.5)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator with short delays, served on the test's own event loop."""
    async with serve(port=0, provision_delay=0.05, action_delay=0.05) as simulator:
        yield simulator


@pytest.fixture
def api_options() -> dict[str, Any]:
    """Extra ``AsyncClient`` keyword arguments; override ``api_options`` to change them."""
    return {}


@pytest.fixture
async def api(sim: Simulator, api_options: dict[str, Any]) -> AsyncIterator[vpsorg.AsyncClient]:
    """An AsyncClient on ``sim`` with near-zero backoff."""
    options: dict[str, Any] = {"retry": FAST, **api_options}
    async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, **options) as client:
        yield client


@asynccontextmanager
async def loopback_site(
    dispatch: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[tuple[int, str]]:
    """An aiohttp.web server on 127.0.0.1 whose every route runs ``dispatch``.

    Yields the port and the API base URL on it; the server is cleaned up on exit.
    """
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port, f"http://127.0.0.1:{port}/api/v1/"
    finally:
        await runner.cleanup()
