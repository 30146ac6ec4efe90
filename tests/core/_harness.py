"""Run the same scenario on the async and the blocking client, against the simulator."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import serve_in_thread
from vpsorg.simulator._server import Simulator

FAST = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.005, retry_after_cap=5.0)


class Harness:
    """One client of either kind; :meth:`run` calls it and returns the result."""

    def __init__(self, kind: str, sim: Simulator, **options: Any) -> None:
        self.kind = kind
        self.sim = sim
        options.setdefault("retry", FAST)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: Any
        if kind == "async":
            self.loop = asyncio.new_event_loop()
            self.client = vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, **options)
        else:
            self.client = vpsorg.Client(token=sim.token, base_url=sim.base_url, **options)

    def run(self, call: Callable[[Any], Any]) -> Any:
        result = call(self.client)
        if inspect.isawaitable(result):
            assert self.loop is not None
            return self.loop.run_until_complete(result)
        return result

    def close(self) -> None:
        if self.loop is not None:
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()
        else:
            self.client.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with serve_in_thread(provision_delay=0.01, action_delay=0.01) as simulator:
        yield simulator


@pytest.fixture(params=["async", "blocking"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(kind: str, sim: Simulator) -> Iterator[Callable[..., Harness]]:
    sim.reset()
    made: list[Harness] = []

    def factory(**options: Any) -> Harness:
        harness = Harness(kind, sim, **options)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()
