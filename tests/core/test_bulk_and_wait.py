"""Waiting for states and bulk operations, against the in-process simulator."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path
from typing import Any

import pytest

import vpsorg
from tests.conftest import client_sockets_to
from vpsorg.simulator import serve


def spec(name: str, **extra: Any) -> vpsorg.ServerSpec:
    return vpsorg.ServerSpec(name=name, plan_id=1, os_id=5, location="us-west", **extra)


async def test_wait_for_returns_the_server_once_active(api: vpsorg.AsyncClient) -> None:
    created = await api.servers.create("w-1", 1, 5, "us-east")
    assert created.status == "provisioning"
    server = await api.servers.wait_for(created.id, "active", timeout=10, interval=0.01)
    assert server.status == vpsorg.ServerStatus.ACTIVE
    assert server.ip_address is not None
    assert server.ipv6_address is not None


async def test_wait_for_accepts_several_statuses(api: vpsorg.AsyncClient) -> None:
    server = await api.servers.wait_for(12345, ["stopped", "active"], timeout=5)
    assert server.id == 12345


async def test_wait_for_times_out_with_the_last_server_seen() -> None:
    async with (
        serve(port=0, provision_delay=60) as sim,
        vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as api,
    ):
        created = await api.servers.create("slow-1", 1, 5, "us-west")
        with pytest.raises(vpsorg.WaitTimeoutError) as info:
            await api.servers.wait_for(created.id, timeout=0.2, interval=0.02)
    error = info.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, vpsorg.VPSOrgError)
    assert error.last_seen is not None
    assert error.last_seen.status == "provisioning"
    assert "provisioning" in str(error)


async def test_wait_for_raises_at_once_when_the_server_is_gone(
    api: vpsorg.AsyncClient, sim: Any
) -> None:
    with pytest.raises(vpsorg.NotFoundError):
        await api.servers.wait_for(999999, timeout=30)
    assert sim.request_count == 1


async def test_create_with_wait_returns_an_active_server(api: vpsorg.AsyncClient) -> None:
    server = await api.servers.create("w-2", 1, 5, "us-west", wait=True, wait_timeout=10)
    assert server.status == "active"


async def test_get_many_keeps_input_order_and_every_outcome(api: vpsorg.AsyncClient) -> None:
    ids: list[Any] = [12346, 999999, 12345, "x", 12346]
    result = await api.servers.get_many(ids, concurrency=3)
    assert [o.item for o in result] == ids
    assert [o.ok for o in result] == [True, False, True, False, True]
    assert isinstance(result[1].error, vpsorg.NotFoundError)
    assert isinstance(result[3].error, vpsorg.InvalidInputError)
    assert result[0].value is not None
    assert result[0].value.name == "db-server-01"
    assert len(result.succeeded) == 3
    assert len(result.failed) == 2
    with pytest.raises(vpsorg.BulkOperationError) as info:
        result.raise_for_failures()
    assert "2 of 5 items failed" in str(info.value)
    assert "999999" in str(info.value)


async def test_create_many_accepts_specs_and_mappings(api: vpsorg.AsyncClient, sim: Any) -> None:
    items: list[Any] = [
        spec("c-1"),
        {"name": "c-2", "plan_id": 2, "os_id": 3, "location": "us-east"},
        {"name": "c-3"},
        spec("bad name"),
        spec("c-5", backups_enabled=True),
    ]
    seen: list[vpsorg.BulkProgress] = []
    result = await api.servers.create_many(items, concurrency=2, progress=seen.append)
    assert [o.ok for o in result] == [True, True, False, False, True]
    assert [o.item for o in result] == items
    assert sorted(p.completed for p in seen) == [1, 2, 3, 4, 5]
    assert seen[-1].total == 5
    assert seen[-1].succeeded + seen[-1].failed == 5
    for name in ("c-1", "c-2", "c-5"):
        assert sim.count_by_name(name) == 1


async def test_start_many_stop_many_reboot_many_and_delete_many(
    api: vpsorg.AsyncClient,
) -> None:
    created = await api.servers.create_many([spec(f"p-{i}") for i in range(4)])
    ids = [o.value.id for o in created if o.value is not None]
    assert (await api.servers.wait_for_many(ids, timeout=10, interval=0.01)).ok

    rebooted = await api.servers.reboot_many(ids)
    assert {o.value.server.status for o in rebooted if o.value} == {"rebooting"}
    await api.servers.wait_for_many(ids, "active", timeout=10, interval=0.01)

    stopped = await api.servers.stop_many([*ids, 999999])
    assert [o.ok for o in stopped] == [True] * 4 + [False]
    assert (await api.servers.wait_for_many(ids, "stopped", timeout=10, interval=0.01)).ok

    started = await api.servers.start_many(ids)
    assert started.ok
    assert started[0].value is not None
    assert started[0].value.message == "Server is starting"
    again = await api.servers.start_many(ids)
    assert all(isinstance(o.error, vpsorg.BadRequestError) for o in again)

    deleted = await api.servers.delete_many(ids)
    assert deleted.ok
    assert deleted.values() == [None] * 4
    assert {s.id async for s in api.servers.list()} == {12345, 12346}


async def test_wait_for_many_sweeps_with_list_calls_not_one_get_per_server(
    api: vpsorg.AsyncClient, sim: Any
) -> None:
    created = await api.servers.create_many([spec(f"s-{i}") for i in range(30)])
    ids = [o.value.id for o in created if o.value is not None]
    before = sim.request_counts
    result = await api.servers.wait_for_many(ids, "active", timeout=10, interval=0.02)
    after = sim.request_counts
    assert result.ok
    assert [o.item for o in result] == ids
    gets = after.get("GET /api/v1/servers/{id}/", 0) - before.get("GET /api/v1/servers/{id}/", 0)
    lists = after.get("GET /api/v1/servers/", 0) - before.get("GET /api/v1/servers/", 0)
    assert lists >= 1
    # Listing sweeps, not a GET per server: a round may still end with a GET or two for
    # servers a sweep did not show (when that is the cheaper check, docs/waiting.md), but
    # the whole wait costs fewer requests than checking each server once by GET.
    assert gets + lists < len(ids)


async def test_wait_for_many_reports_missing_and_timed_out_servers() -> None:
    async with (
        serve(port=0, provision_delay=60) as sim,
        vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as api,
    ):
        slow = await api.servers.create("slow-2", 1, 5, "us-west")
        result = await api.servers.wait_for_many(
            [12345, 999999, slow.id], "active", timeout=0.3, interval=0.05
        )
    assert result[0].ok
    assert isinstance(result[1].error, vpsorg.NotFoundError)
    error = result[2].error
    assert isinstance(error, vpsorg.WaitTimeoutError)
    assert error.last_seen is not None
    assert error.last_seen.status == "provisioning"


async def test_bulk_results_account_for_every_item_under_injected_failures(
    api: vpsorg.AsyncClient, sim: Any
) -> None:
    sim.script(path="/api/v1/servers/12345/", method="GET", times=30, status=500)
    sim.script(path="/api/v1/servers/12346/", method="GET", times=2, status=503)
    ids = [12345, 12346] * 10
    result = await api.servers.get_many(ids, concurrency=4)
    assert len(result) == 20
    assert [o.item for o in result] == ids
    assert all(o.ok for o in result if o.item == 12346)
    failed = [o for o in result if not o.ok]
    assert failed
    assert all(isinstance(o.error, vpsorg.InternalServerError) for o in failed)


async def test_fleet_map_runs_any_coroutine_function() -> None:
    async def square(n: int) -> int:
        if n == 3:
            raise RuntimeError("three")
        await asyncio.sleep(0)
        return n * n

    result = await vpsorg.fleet.map(square, range(6), concurrency=2)
    assert [o.value for o in result] == [0, 1, 4, None, 16, 25]
    assert isinstance(result[3].error, RuntimeError)
    assert len(await vpsorg.fleet.map(square, [], concurrency=2)) == 0
    with pytest.raises(vpsorg.InvalidInputError):
        await vpsorg.fleet.map(square, [1], concurrency=0)


async def test_fleet_map_bounds_concurrency() -> None:
    running = 0
    peak = 0

    async def track(_: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1

    await vpsorg.fleet.map(track, range(100), concurrency=7)
    assert peak == 7


async def test_cancelling_a_bulk_call_leaves_no_task_and_no_connection(sim: Any) -> None:
    sim.script(path="/api/v1/servers/*", method="GET", times=10_000, delay=5.0)
    client = vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url)
    started = asyncio.Event()

    def on_progress(_: vpsorg.BulkProgress) -> None:
        started.set()

    try:
        task = asyncio.create_task(
            client.servers.get_many([12345] * 200, concurrency=50, progress=on_progress)
        )
        for _ in range(200):  # let the workers send their requests, bounded
            await asyncio.sleep(0.005)
            if sim.request_count >= 50:
                break
        assert sim.request_count >= 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not started.is_set()
        ours = [t for t in asyncio.all_tasks() if _is_vpsorg_task(t)]
        assert ours == []
    finally:
        await client.aclose()
    assert client_sockets_to(sim.port) == 0


_PACKAGE = Path(vpsorg.__file__).resolve().parent
_SIMULATOR = _PACKAGE / "simulator"


def _is_vpsorg_task(task: asyncio.Task[Any]) -> bool:
    """A task running the SDK's own code (not the simulator's, not a dependency's, even
    when the repository is cloned into a folder named ``vpsorg`` with a ``.venv`` in it)."""
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", "")
    filename = getattr(getattr(coro, "cr_code", None), "co_filename", "")
    if "run_bulk" in name:
        return True
    if not filename:
        return False
    path = Path(filename).resolve()
    return path.is_relative_to(_PACKAGE) and not path.is_relative_to(_SIMULATOR)


def test_the_leftover_task_check_matches_the_package_directory_only(tmp_path: Path) -> None:
    """Regression: a handler under <clone named vpsorg>/.venv/ is not the SDK's."""

    async def handler() -> None:
        pass

    clone = tmp_path / "vpsorg" / ".venv" / "lib" / "aiohttp" / "web_protocol.py"
    code = handler.__code__.replace(co_filename=str(clone))
    loop = asyncio.new_event_loop()
    try:
        foreign = loop.create_task(types.FunctionType(code, {})())
        own: asyncio.Task[Any] = loop.create_task(vpsorg.fleet.map(asyncio.sleep, []))
        assert not _is_vpsorg_task(foreign)
        assert _is_vpsorg_task(own)
        loop.run_until_complete(asyncio.gather(foreign, own))
    finally:
        loop.close()
