"""A wait's timeout bounds the requests inside it (issue 13, item 1), and a server made by
``create(..., wait=True)`` is never lost when the wait fails (issue 11, item 2)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import Simulator, serve

SERVER_PATHS = "/api/v1/servers/*"
#: How long a scripted GET hangs: far beyond every wait timeout used here.
HANG = 60.0


@pytest.fixture
def api_options() -> dict[str, Any]:
    """The client's own timeout outlasts every scripted hang, so only the wait bounds it."""
    return {"timeout": HANG * 2}


GetFn = Callable[[int], Coroutine[Any, Any, vpsorg.Server]]


def watch_gets(servers: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], asyncio.Event]:
    """Record how each ``servers.get`` ends ("ok", "cancelled", ...); set the event when a
    GET starts."""
    ends: list[str] = []
    started = asyncio.Event()
    original: GetFn = servers.get

    async def get(server_id: int) -> vpsorg.Server:
        started.set()
        try:
            server = await original(server_id)
        except asyncio.CancelledError:
            ends.append("cancelled")
            raise
        ends.append("ok")
        return server

    monkeypatch.setattr(servers, "get", get)
    return ends, started


# ---------------------------------------------------------------------- timeouts bound GETs


async def test_wait_for_timeout_cancels_a_hanging_status_check(
    api: vpsorg.AsyncClient, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ends, _ = watch_gets(api.servers, monkeypatch)
    sim.script(path="/api/v1/servers/12345/", method="GET", delay=HANG)
    with pytest.raises(vpsorg.WaitTimeoutError) as info:
        await api.servers.wait_for(12345, "stopped", timeout=0.3)
    assert info.value.last_seen is None  # the only check never answered
    assert ends == ["cancelled"]


async def test_wait_for_many_timeout_cancels_a_hanging_sweep(
    api: vpsorg.AsyncClient, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ends: list[str] = []
    original = api.servers._sweep_pages

    async def listing(status: str | None) -> AsyncIterator[vpsorg.ServerPage]:
        try:
            async for page in original(status):
                yield page
        except asyncio.CancelledError:
            ends.append("cancelled")
            raise

    monkeypatch.setattr(api.servers, "_sweep_pages", listing)
    sim.script(path="/api/v1/servers/", method="GET", delay=HANG)
    result = await api.servers.wait_for_many([12345, 12346], "stopped", timeout=0.3)
    assert [type(o.error) for o in result] == [vpsorg.WaitTimeoutError] * 2
    assert ends == ["cancelled"]
    # The client is usable at once: nothing of the cancelled sweep is left waiting.
    assert (await api.servers.get(12345)).id == 12345


def test_blocking_wait_for_timeout_cancels_a_hanging_status_check(
    vpsorg_simulator: Simulator,
) -> None:
    vpsorg_simulator.script(path="/api/v1/servers/12345/", method="GET", delay=HANG)
    with vpsorg.Client(
        token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url, timeout=HANG * 2
    ) as client:
        with pytest.raises(vpsorg.WaitTimeoutError) as info:
            client.servers.wait_for(12345, "stopped", timeout=0.3)
        assert info.value.last_seen is None
        assert not client._runner._calls  # nothing left running in the loop


# ---------------------------------------------------------------------- created_server


async def test_create_wait_timeout_carries_the_created_server() -> None:
    async with (
        serve(port=0, provision_delay=HANG) as slow,
        vpsorg.AsyncClient(token=slow.token, base_url=slow.base_url) as api,
    ):
        with pytest.raises(vpsorg.WaitTimeoutError) as info:
            await api.servers.create("keep-1", 1, 5, "us-west", wait=True, wait_timeout=0.3)
        created = info.value.created_server
        assert created is not None
        assert created.name == "keep-1"
        assert created.status == "provisioning"
        assert slow.count_by_name("keep-1") == 1


async def test_create_wait_not_found_carries_the_created_server(
    api: vpsorg.AsyncClient, sim: Any
) -> None:
    sim.script(path=SERVER_PATHS, method="GET", status=404)
    with pytest.raises(vpsorg.NotFoundError) as info:
        await api.servers.create("keep-2", 1, 5, "us-west", wait=True, wait_timeout=10)
    assert info.value.created_server is not None
    assert info.value.created_server.name == "keep-2"


async def test_create_wait_network_error_carries_the_created_server(
    api: vpsorg.AsyncClient, sim: Any
) -> None:
    sim.script(path=SERVER_PATHS, method="GET", drop=True, times=50)
    with pytest.raises(vpsorg.APIConnectionError) as info:
        await api.servers.create("keep-3", 1, 5, "us-west", wait=True, wait_timeout=30)
    assert info.value.created_server is not None
    assert info.value.created_server.name == "keep-3"


async def test_create_wait_cancelled_carries_the_created_server(
    api: vpsorg.AsyncClient, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ends, started = watch_gets(api.servers, monkeypatch)
    sim.script(path=SERVER_PATHS, method="GET", delay=HANG)
    seen: list[vpsorg.Server | None] = []

    async def create() -> None:
        try:
            await api.servers.create("keep-4", 1, 5, "us-west", wait=True, wait_timeout=HANG)
        except asyncio.CancelledError as cancelled:
            seen.append(getattr(cancelled, "created_server", None))
            raise

    task = asyncio.ensure_future(create())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ends == ["cancelled"]
    assert seen[0] is not None
    assert seen[0].name == "keep-4"


def test_blocking_create_wait_timeout_carries_the_created_server(
    vpsorg_simulator: Simulator,
) -> None:
    vpsorg_simulator.script(path=SERVER_PATHS, method="GET", delay=HANG)
    with (
        vpsorg.Client(
            token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url, timeout=HANG * 2
        ) as client,
        pytest.raises(vpsorg.WaitTimeoutError) as info,
    ):
        client.servers.create("keep-5", 1, 5, "us-west", wait=True, wait_timeout=0.3)
    assert info.value.created_server is not None
    assert vpsorg_simulator.count_by_name("keep-5") == 1


def test_blocking_create_wait_ctrl_c_carries_the_created_server(
    vpsorg_simulator: Simulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    main = threading.main_thread()
    assert threading.current_thread() is main
    vpsorg_simulator.script(path=SERVER_PATHS, method="GET", delay=HANG)
    started = threading.Event()
    client = vpsorg.Client(
        token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url, timeout=HANG * 2
    )
    async_servers = client.servers._async
    original: GetFn = async_servers.get

    async def get(server_id: int) -> vpsorg.Server:
        started.set()
        return await original(server_id)

    monkeypatch.setattr(async_servers, "get", get)

    def interrupt() -> None:
        if started.wait(30):
            signal.pthread_kill(main.ident or 0, signal.SIGINT)

    sender = threading.Thread(target=interrupt)
    sender.start()
    caplog.set_level(logging.WARNING, logger="asyncio")
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            client.servers.create("keep-6", 1, 5, "us-west", wait=True, wait_timeout=HANG)
    finally:
        sender.join(30)
        client.close()
    created = getattr(info.value, "created_server", None)
    assert created is not None
    assert created.name == "keep-6"
