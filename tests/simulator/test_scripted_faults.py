"""Scripted faults: exact answers for the next matching requests, before or after acting."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from vpsorg.simulator import FaultConfig, Simulator

from .helpers import VALID_CREATE, call, wait_for_status

NAME = VALID_CREATE["name"]


async def test_status_and_json_body_for_the_next_request(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    sim.script(path="/api/v1/servers/", status=418, body={"detail": "I am a teapot."})
    status, body, headers = await call(http, "GET", url)
    assert (status, body) == (418, {"detail": "I am a teapot."})
    assert "X-Request-ID" in headers
    assert (await call(http, "GET", url))[0] == 200
    assert sim.fault_counts["scripted"] == 1


async def test_times_and_method_filter(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/"
    sim.script(path="/api/v1/servers/", method="post", times=2, status=502)
    assert (await call(http, "GET", url))[0] == 200
    status, body, headers = await call(http, "POST", url, json=VALID_CREATE)
    assert status == 502
    assert headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in body
    assert (await call(http, "POST", url, json=VALID_CREATE))[0] == 502
    assert (await call(http, "POST", url, json=VALID_CREATE))[0] == 201
    assert sim.count_by_name(NAME) == 1
    assert sim.fault_counts["scripted"] == 2


async def test_prefix_match(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.script(path="/api/v1/servers/12345/*", times=3, status=500)
    base = sim.base_url + "servers/12345/"
    assert (await call(http, "GET", base))[0] == 500
    assert (await call(http, "POST", base + "stop/"))[0] == 500
    assert (await call(http, "GET", sim.base_url + "servers/12346/"))[0] == 200
    assert (await call(http, "POST", base + "reboot/"))[0] == 500
    assert (await call(http, "POST", base + "reboot/"))[0] == 200


async def test_before_action_changes_nothing(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12345/"
    sim.script(path="/api/v1/servers/12345/stop/", status=500)
    status, body, _ = await call(http, "POST", url + "stop/")
    assert (status, body) == (500, {"detail": "Internal Server Error."})
    _, detail, _ = await call(http, "GET", url)
    assert detail["status"] == "active"


async def test_after_action_changes_state_then_replaces_the_answer(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/12345/"
    sim.script(path="/api/v1/servers/12345/stop/", method="POST", status=504, after_action=True)
    status, _, headers = await call(http, "POST", url + "stop/")
    assert status == 504
    assert headers["Content-Type"].startswith("text/html")
    _, detail, _ = await call(http, "GET", url)
    assert detail["status"] in ("stopping", "stopped")
    await wait_for_status(http, url, "stopped")


@pytest.mark.parametrize(
    ("after_action", "created"), [(False, 0), (True, 1)], ids=["before-action", "after-action"]
)
async def test_scripted_drop(
    sim: Simulator, http: aiohttp.ClientSession, after_action: bool, created: int
) -> None:
    sim.script(path="/api/v1/servers/", method="POST", drop=True, after_action=after_action)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    assert sim.count_by_name(NAME) == created
    assert sim.fault_counts["scripted"] == 1
    assert sim.fault_counts["dropped"] == 0


async def test_delay_only(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.script(path="/api/v1/servers/12345/", delay=0.2)
    started = time.perf_counter()
    status, body, _ = await call(http, "GET", sim.base_url + "servers/12345/")
    assert time.perf_counter() - started >= 0.2
    assert (status, body["id"]) == (200, 12345)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<h1>Bad gateway</h1>", "text/html", "<h1>Bad gateway</h1>"),
        ("upstream broke", "text/plain", "upstream broke"),
        (b"", None, None),
    ],
)
async def test_raw_bodies(
    sim: Simulator,
    http: aiohttp.ClientSession,
    body: Any,
    content_type: str | None,
    expected: Any,
) -> None:
    sim.script(path="/api/v1/servers/", status=502, body=body)
    status, answer, headers = await call(http, "GET", sim.base_url + "servers/")
    assert status == 502
    assert answer == expected
    if content_type is not None:
        assert headers["Content-Type"].startswith(content_type)


async def test_garbage_json_and_header_override(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.script(
        path="/api/v1/servers/12345/",
        status=200,
        body=b'{"id": 12345, "truncat',
        headers={"X-Extra": "yes"},
    )
    async with http.get(sim.base_url + "servers/12345/") as response:
        assert response.status == 200
        assert response.headers["X-Extra"] == "yes"
        assert response.content_type == "application/json"
        assert await response.read() == b'{"id": 12345, "truncat'


async def test_default_429_carries_retry_after(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.script(path="/api/v1/servers/", status=429, headers={"Retry-After": "3"})
    status, body, headers = await call(http, "GET", sim.base_url + "servers/")
    assert status == 429
    assert headers["Retry-After"] == "3"
    assert body["detail"].startswith("Request was throttled.")


async def test_scripts_take_precedence_over_random_faults(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.set_faults(FaultConfig(error_rate_503=1.0))
    sim.script(path="/api/v1/servers/", status=409)
    assert (await call(http, "GET", sim.base_url + "servers/"))[0] == 409
    assert (await call(http, "GET", sim.base_url + "servers/"))[0] == 503
    assert sim.fault_counts["scripted"] == 1
    assert sim.fault_counts["error_503"] == 1


async def test_scripts_match_in_order_and_reset_clears_them(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.script(path="/api/v1/servers/", status=500)
    sim.script(path="/api/v1/servers/", status=502)
    sim.script(path="/api/v1/servers/12345/", status=500)
    assert (await call(http, "GET", sim.base_url + "servers/"))[0] == 500
    assert (await call(http, "GET", sim.base_url + "servers/"))[0] == 502
    sim.reset()
    assert (await call(http, "GET", sim.base_url + "servers/12345/"))[0] == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "api/v1/servers/", "status": 500},
        {"path": "/api/v1/servers/", "times": 0, "status": 500},
        {"path": "/api/v1/servers/", "status": 99},
        {"path": "/api/v1/servers/", "status": 101},
        {"path": "/api/v1/servers/", "status": 500, "drop": True},
        {"path": "/api/v1/servers/", "delay": -1.0},
    ],
)
async def test_script_rejects_nonsense(sim: Simulator, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sim.script(**kwargs)
