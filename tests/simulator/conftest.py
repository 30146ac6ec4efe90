"""Fixtures for the simulator's own tests: a simulator on the test's loop, plain HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from vpsorg.simulator import Simulator, serve


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """Extra ``serve()`` keyword arguments; parametrize ``sim_options`` to change them."""
    return {}


@pytest.fixture
async def sim(sim_options: dict[str, Any]) -> AsyncIterator[Simulator]:
    """A simulator with short delays, served on the test's own event loop."""
    options: dict[str, Any] = {"provision_delay": 0.05, "action_delay": 0.05, **sim_options}
    async with serve(**options) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A session that sends the simulator's bearer token."""
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield session


@pytest.fixture
async def anonymous(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A session without credentials."""
    async with aiohttp.ClientSession() as session:
        yield session
