"""A seeded simulator gives each request the same fault whatever order requests arrive in.

Faults are drawn per request identity (method, path and query, the addressed server's
name, the body, and the number of identical requests before it), not per arrival.
"""

from __future__ import annotations

import json

import aiohttp

from vpsorg.simulator import FaultConfig, serve
from vpsorg.simulator._faults import FaultInjector

FAULTS = FaultConfig(error_rate_500=0.25, error_rate_503=0.25, drop_rate=0.2)


async def _fates(seed: int, order: list[str]) -> dict[str, list[object]]:
    """Send a create for each name in ``order``, one at a time, twice; record the answers."""
    fates: dict[str, list[object]] = {name: [] for name in order}
    async with serve(seed=seed, faults=FAULTS) as sim:
        headers = {"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for _ in range(2):  # the second round: what a retry of each would meet
                for name in order:
                    body = {"name": name, "plan_id": 1, "os_id": 5, "location": "us-west"}
                    url = sim.base_url + "servers/"
                    try:
                        async with session.post(url, data=json.dumps(body)) as response:
                            fates[name].append(response.status)
                    except aiohttp.ServerDisconnectedError:
                        fates[name].append("dropped")
    return fates


async def test_the_fault_of_a_request_does_not_depend_on_its_arrival() -> None:
    names = [f"web-{i:02d}" for i in range(30)]
    forward = await _fates(11, names)
    backward = await _fates(11, names[::-1])
    assert forward == backward
    seen = {fate for fates in forward.values() for fate in fates}
    assert {"dropped", 500, 503} <= seen  # faults were drawn, not all alike
    # A repeat of the same request draws afresh: some first attempts and retries differ.
    assert any(first != second for first, second in forward.values())
    assert forward != await _fates(12, names)


def test_a_server_is_known_by_its_name_not_its_id() -> None:
    injector = FaultInjector(FAULTS, seed=1)
    path = "/api/v1/servers/12360/reboot/"
    assert injector.identity("POST", path, (12360, "web-01"), b"") == (
        "POST /api/v1/servers/name=web-01/reboot/ -"
    )
    # Deleted since: the name first seen for the id stands.
    assert injector.identity("DELETE", "/api/v1/servers/12360/", (12360, None), b"") == (
        "DELETE /api/v1/servers/name=web-01/ -"
    )
    # Never seen: the id is all there is.
    assert injector.identity("GET", "/api/v1/servers/99999/", (99999, None), b"") == (
        "GET /api/v1/servers/99999/ -"
    )
    assert injector.identity("GET", "/api/v1/servers/?page=2", None, b"") != injector.identity(
        "GET", "/api/v1/servers/?page=3", None, b""
    )
    assert injector.identity("POST", "/api/v1/servers/", None, b'{"name":"a"}') != (
        injector.identity("POST", "/api/v1/servers/", None, b'{"name":"b"}')
    )


def test_an_unseeded_simulator_draws_differently_each_time() -> None:
    draws = [FaultInjector(FAULTS, seed=None)._draw("GET /x -") for _ in range(3)]
    assert len(set(draws)) == 3
    seeded = [FaultInjector(FAULTS, seed=5)._draw("GET /x -") for _ in range(3)]
    assert len(set(seeded)) == 1
