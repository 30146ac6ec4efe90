"""Fixtures for the blocking client: a simulator per test and a Client on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import Simulator

#: Near-zero backoff so retried faults do not slow the tests down.
FAST = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.005, retry_after_cap=5.0)


@pytest.fixture
def sim(vpsorg_simulator: Simulator) -> Simulator:
    """The plugin's fresh simulator (provision and action delays of 0.05 s)."""
    return vpsorg_simulator


@pytest.fixture
def api(sim: Simulator) -> Iterator[vpsorg.Client]:
    """A blocking client on the simulator, closed after the test."""
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url, retry=FAST)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _no_asyncio_complaints(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test when asyncio logs an error in any thread (a task destroyed while
    pending, an exception never retrieved, ...)."""
    caplog.set_level(logging.WARNING, logger="asyncio")
    yield
    complaints = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert not complaints, complaints


def loop_threads() -> list[threading.Thread]:
    """The blocking clients' loop threads alive right now."""
    return [t for t in threading.enumerate() if t.name.startswith("vpsorg-loop-")]


def spec(name: str, **extra: Any) -> vpsorg.ServerSpec:
    """A valid ServerSpec in us-west on plan 1, OS 5."""
    return vpsorg.ServerSpec(name=name, plan_id=1, os_id=5, location="us-west", **extra)
