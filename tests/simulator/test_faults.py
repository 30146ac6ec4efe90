"""Injected faults: each kind, its counter, before/after the action, and determinism."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from vpsorg.simulator import FaultConfig, Simulator, serve

from .helpers import VALID_CREATE, call

NAME = VALID_CREATE["name"]


def _counts(**nonzero: int) -> dict[str, int]:
    counts = dict.fromkeys(
        ("latency", "error_500", "error_503", "rate_limited", "dropped", "scripted"), 0
    )
    counts.update(nonzero)
    return counts


async def test_no_faults_by_default(sim: Simulator, http: aiohttp.ClientSession) -> None:
    for _ in range(20):
        status, _, _ = await call(http, "GET", sim.base_url + "servers/")
        assert status == 200
    assert sim.fault_counts == _counts()
    assert sim.faults == FaultConfig()


@pytest.mark.parametrize("sim_options", [{"faults": FaultConfig(latency=0.15)}])
async def test_latency(sim: Simulator, http: aiohttp.ClientSession) -> None:
    started = time.perf_counter()
    status, _, _ = await call(http, "GET", sim.base_url + "servers/")
    assert status == 200
    assert time.perf_counter() - started >= 0.15
    assert sim.fault_counts == _counts(latency=1)


@pytest.mark.parametrize(
    "sim_options", [{"faults": FaultConfig(latency=0.01, latency_jitter=0.05), "seed": 1}]
)
async def test_latency_jitter_is_counted_per_request(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    await asyncio.gather(*(call(http, "GET", sim.base_url + "servers/") for _ in range(5)))
    assert sim.fault_counts["latency"] == 5


@pytest.mark.parametrize(
    ("after_ratio", "created"), [(0.0, 0), (1.0, 1)], ids=["before-action", "after-action"]
)
async def test_error_500(
    sim: Simulator, http: aiohttp.ClientSession, after_ratio: float, created: int
) -> None:
    sim.set_faults(FaultConfig(error_rate_500=1.0, after_action_ratio=after_ratio))
    status, body, headers = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    assert status == 500
    assert body == {"detail": "A server error occurred."}
    assert "X-Request-ID" in headers
    assert sim.fault_counts == _counts(error_500=1)
    sim.set_faults(FaultConfig())
    assert sim.count_by_name(NAME) == created


async def test_error_503_is_an_html_page(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.set_faults(FaultConfig(error_rate_503=1.0, after_action_ratio=1.0))
    status, body, headers = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    assert status == 503
    assert headers["Content-Type"].startswith("text/html")
    assert "<html>" in body
    assert "X-Request-ID" in headers
    assert sim.fault_counts == _counts(error_503=1)
    # A proxy answered: the request never reached the application.
    assert sim.count_by_name(NAME) == 0


@pytest.mark.parametrize(
    ("after_ratio", "created"), [(0.0, 0), (1.0, 1)], ids=["before-action", "after-action"]
)
async def test_drop_closes_the_connection_without_a_response(
    sim: Simulator, http: aiohttp.ClientSession, after_ratio: float, created: int
) -> None:
    sim.set_faults(FaultConfig(drop_rate=1.0, after_action_ratio=after_ratio))
    # POST, because aiohttp's client retries idempotent methods once on a disconnect.
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    assert sim.fault_counts == _counts(dropped=1)
    assert sim.request_count == 1
    sim.set_faults(FaultConfig())
    assert sim.count_by_name(NAME) == created
    status, _, _ = await call(http, "GET", sim.base_url + "servers/")
    assert status == 200


@pytest.mark.parametrize(
    "sim_options", [{"faults": FaultConfig(rate_limit=1.0, rate_limit_burst=3)}]
)
async def test_rate_limit_per_token(
    sim: Simulator, http: aiohttp.ClientSession, anonymous: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    statuses = [(await call(http, "GET", url))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, body, headers = await call(http, "GET", url)
    assert status == 429
    retry_after = int(headers["Retry-After"])
    assert retry_after >= 1
    assert body == {
        "detail": f"Request was throttled. Expected available in {retry_after} seconds."
    }
    assert "X-Request-ID" in headers
    # Another caller has a bucket of its own.
    other = {"Authorization": "Bearer someone-else"}
    status, _, _ = await call(anonymous, "GET", url, headers=other)
    assert status == 401
    assert sim.fault_counts == _counts(rate_limited=1)


async def test_rate_limit_refills(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.set_faults(FaultConfig(rate_limit=20.0, rate_limit_burst=1))
    url = sim.base_url + "servers/"
    assert (await call(http, "GET", url))[0] == 200
    assert (await call(http, "GET", url))[0] == 429
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    refilled = False
    for _ in range(100):
        await asyncio.sleep(0.06)
        refilled = (await call(http, "GET", url))[0] == 200
        if refilled or loop.time() > deadline:
            break
    assert refilled
    assert (await call(http, "GET", url))[0] == 429
    assert sim.fault_counts["rate_limited"] >= 2


async def test_set_faults_at_run_time(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/"
    sim.set_faults(FaultConfig(error_rate_503=1.0))
    assert sim.faults.error_rate_503 == 1.0
    assert (await call(http, "GET", url))[0] == 503
    sim.set_faults(FaultConfig())
    assert (await call(http, "GET", url))[0] == 200
    assert sim.fault_counts == _counts(error_503=1)


async def test_openapi_document_is_exempt_from_random_faults(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.set_faults(FaultConfig(error_rate_500=1.0, latency=0.5))
    assert (await call(http, "GET", sim.base_url + "openapi.json"))[0] == 200
    # No latency was added either: the latency counter would show it.
    assert sim.fault_counts == _counts()


async def test_every_request_is_accounted_for(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.set_faults(
        FaultConfig(error_rate_500=0.2, error_rate_503=0.2, drop_rate=0.2, after_action_ratio=0.5)
    )
    answered = dropped = 0
    for _ in range(60):
        try:
            status, _, _ = await call(http, "POST", sim.base_url + "servers/12345/reboot/")
        except aiohttp.ServerDisconnectedError:
            dropped += 1
        else:
            answered += 1
            assert status in (200, 400, 500, 503)
    counts = sim.fault_counts
    assert sim.request_count == 60 == answered + dropped
    assert counts["dropped"] == dropped
    assert counts["error_500"] + counts["error_503"] + counts["dropped"] > 0
    assert sim.request_counts == {"POST /api/v1/servers/{id}/reboot/": 60}


async def _fault_sequence(seed: int, requests: int = 40) -> list[Any]:
    faults = FaultConfig(
        error_rate_500=0.2, error_rate_503=0.2, drop_rate=0.2, latency_jitter=0.001
    )
    outcomes: list[Any] = []
    async with serve(seed=seed, faults=faults) as simulator:
        headers = {"Authorization": f"Bearer {simulator.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for _ in range(requests):
                url = simulator.base_url + "servers/99999/start/"
                try:
                    outcomes.append((await call(session, "POST", url))[0])
                except aiohttp.ServerDisconnectedError:
                    outcomes.append("dropped")
        outcomes.append(simulator.fault_counts)
    return outcomes


async def test_same_seed_same_fault_sequence() -> None:
    first = await _fault_sequence(seed=1234)
    second = await _fault_sequence(seed=1234)
    assert first == second
    assert {"dropped", 500, 503, 404} <= set(first[:-1])
    assert first != await _fault_sequence(seed=4321)


@pytest.mark.parametrize("sim_options", [{"seed": 99}])
async def test_reset_restarts_the_seeded_sequence(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.set_faults(FaultConfig(error_rate_500=0.5))
    url = sim.base_url + "servers/"

    async def statuses() -> list[int]:
        return [(await call(http, "GET", url))[0] for _ in range(20)]

    first = await statuses()
    sim.reset()
    assert sim.fault_counts == _counts()
    assert await statuses() == first


@pytest.mark.parametrize(
    "kwargs",
    [
        {"error_rate_500": 1.5},
        {"error_rate_503": -0.1},
        {"error_rate_500": 0.6, "drop_rate": 0.6},
        {"latency": -1.0},
        {"rate_limit": 0.0},
        {"rate_limit_burst": 0},
        {"after_action_ratio": 2.0},
    ],
)
def test_fault_config_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultConfig(**kwargs)
