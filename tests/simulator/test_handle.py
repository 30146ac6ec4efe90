"""The Simulator handle: serve(), serve_in_thread(), inspection helpers, thread safety."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request
from typing import Any

import aiohttp
import pytest

import vpsorg.simulator
from vpsorg.simulator import DEMO_TOKEN, FaultConfig, Simulator, serve, serve_in_thread

from .helpers import VALID_CREATE, call


def _get(sim: Simulator, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        sim.base_url + path, headers={"Authorization": f"Bearer {sim.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def _post(sim: Simulator, path: str, body: dict[str, Any] | None = None) -> int:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(
        sim.base_url + path,
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_public_names() -> None:
    assert DEMO_TOKEN == "vpsorg-demo-token"
    assert set(vpsorg.simulator.__all__) == {
        "DEMO_TOKEN",
        "FaultConfig",
        "Simulator",
        "serve",
        "serve_in_thread",
    }
    with pytest.raises(AttributeError):
        vpsorg.simulator.no_such_name  # noqa: B018


async def test_serve_defaults_and_urls() -> None:
    async with serve() as sim:
        assert sim.token == DEMO_TOKEN
        assert sim.port > 0
        assert sim.host == "127.0.0.1"
        assert sim.base_url == f"http://127.0.0.1:{sim.port}/api/v1/"
        assert repr(sim) == f"<Simulator {sim.base_url}>"
        assert sim.credits is None


async def test_port_in_use_raises() -> None:
    async with serve() as sim:
        with pytest.raises(OSError):
            async with serve(port=sim.port):
                pass
        with pytest.raises(OSError), serve_in_thread(port=sim.port):
            pass


async def test_invalid_options_raise() -> None:
    with pytest.raises(ValueError):
        async with serve(page_size=0):
            pass
    with pytest.raises(ValueError):
        async with serve(credits=-1):
            pass


def test_serve_in_thread_from_blocking_code() -> None:
    with serve_in_thread(provision_delay=0.05, action_delay=0.05) as sim:
        status, body = _get(sim, "servers/")
        assert (status, body["count"]) == (200, 2)
        assert _post(sim, "servers/", VALID_CREATE) == 201
        assert sim.count_by_name(VALID_CREATE["name"]) == 1
        assert [s["id"] for s in sim.servers()] == [12345, 12346, 12347]
        assert sim.request_count == 2
        port = sim.port
    # Stopped and released: the port can be bound again.
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
    try:
        probe.bind(("127.0.0.1", port))
    finally:
        probe.close()
    assert not any(t.name == "vpsorg-simulator" for t in threading.enumerate())


async def test_serve_in_thread_from_another_event_loop() -> None:
    with serve_in_thread() as sim:
        headers = {"Authorization": f"Bearer {sim.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            status, _, _ = await call(session, "POST", sim.base_url + "servers/", json=VALID_CREATE)
            assert status == 201
            # Handle calls from this loop's thread are marshalled onto the server's loop.
            assert sim.count_by_name(VALID_CREATE["name"]) == 1
            sim.suspend(12345)
            _, body, _ = await call(session, "GET", sim.base_url + "servers/12345/")
            assert body["status"] == "suspended"


def test_handle_is_safe_from_many_threads() -> None:
    with serve_in_thread(faults=FaultConfig(latency=0.001)) as sim:
        errors: list[BaseException] = []

        def hammer(index: int) -> None:
            try:
                for step in range(10):
                    assert _post(sim, "servers/", {**VALID_CREATE, "name": f"t{index}"}) == 201
                    sim.fault_counts  # noqa: B018
                    sim.request_counts  # noqa: B018
                    assert len(sim.servers()) >= 3
                    if step == 5:
                        sim.set_faults(FaultConfig(latency=0.001))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(sim.servers()) == 2 + 80
        assert all(sim.count_by_name(f"t{i}") == 10 for i in range(8))
        assert sim.request_counts == {"POST /api/v1/servers/": 80}
        assert sim.fault_counts["latency"] == 80


def test_serve_in_thread_propagates_errors_from_the_block() -> None:
    def fail_inside() -> None:
        with serve_in_thread() as sim:
            assert sim.port
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert not any(t.name == "vpsorg-simulator" for t in threading.enumerate())


@pytest.mark.parametrize("sim_options", [{"credits": 5}])
async def test_reset(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/"
    for _ in range(3):
        await call(http, "POST", url, json=VALID_CREATE)
    await call(http, "DELETE", url + "12345/")
    sim.suspend(12346)
    sim.script(path="/api/v1/servers/", status=500)
    assert sim.credits == 2
    sim.reset()
    assert sim.credits == 5
    assert sim.request_count == 0
    assert sim.request_counts == {}
    assert [(s["id"], s["status"]) for s in sim.servers()] == [
        (12345, "active"),
        (12346, "active"),
    ]
    status, body, _ = await call(http, "POST", url, json=VALID_CREATE)
    assert (status, body["id"]) == (201, 12347)


async def test_servers_snapshots_are_detail_views_and_copies(sim: Simulator) -> None:
    snapshot = sim.servers()
    assert snapshot[0]["resource_usage"]["cpu_percent"] == 23.5
    assert snapshot[0]["plan"]["bandwidth"] == 2048
    snapshot[0]["name"] = "changed"
    assert sim.servers()[0]["name"] == "web-server-01"
    assert sim.count_by_name("web-server-01") == 1
    assert sim.count_by_name("nobody") == 0


async def test_in_flight_counts_requests_still_being_handled(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    assert sim.in_flight == 0
    sim.script(path="/api/v1/servers/12345/", delay=1.0)
    slow = asyncio.ensure_future(call(http, "GET", sim.base_url + "servers/12345/"))
    for _ in range(1000):  # bounded: 10 s
        if sim.request_count:
            break
        await asyncio.sleep(0.01)
    assert sim.in_flight == 1  # asleep in its scripted delay
    status, _, _ = await call(http, "GET", sim.base_url + "servers/12346/")
    assert status == 200 and sim.in_flight == 1  # the answered one is no longer counted
    status, _, _ = await slow
    assert status == 200 and sim.in_flight == 0


async def test_many_concurrent_connections(sim: Simulator) -> None:
    headers = {"Authorization": f"Bearer {sim.token}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        results = await asyncio.gather(
            *(call(session, "GET", sim.base_url + "servers/12345/") for _ in range(500))
        )
    assert {status for status, _, _ in results} == {200}
    assert sim.request_count == 500


@pytest.mark.parametrize("client_gives_up", [False, True], ids=["connected", "gone"])
def test_shutdown_with_requests_in_flight_is_clean(
    caplog: pytest.LogCaptureFixture, client_gives_up: bool
) -> None:
    import gc
    import logging
    import time

    caplog.set_level(logging.ERROR, logger="asyncio")
    outcomes: list[str] = []

    def slow_request(sim: Simulator) -> None:
        request = urllib.request.Request(
            sim.base_url + "servers/12345/",
            headers={"Authorization": f"Bearer {sim.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=0.3 if client_gives_up else 10):
                outcomes.append("answered")
        except OSError:  # timed out, or reset by the stopping server
            outcomes.append("cut off")

    with serve_in_thread() as sim:
        sim.script(path="/api/v1/servers/12345/", times=20, delay=30.0)
        threads = [threading.Thread(target=slow_request, args=(sim,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        for _ in range(1000):
            if sim.request_count == 20 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert sim.request_count == 20
        if client_gives_up:
            for thread in threads:
                thread.join(timeout=10)
    for thread in threads:
        thread.join(timeout=10)
    gc.collect()
    assert outcomes == ["cut off"] * 20
    assert not [r for r in caplog.records if "destroyed" in r.getMessage()]
