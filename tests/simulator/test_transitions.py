"""The lazily evaluated state machine: provisioning, start, stop, reboot, suspension."""

from __future__ import annotations

import aiohttp
import pytest

from vpsorg.simulator import Simulator

from .helpers import VALID_CREATE, call, wait_for_status


def _action_body(server_id: int, name: str, message: str, status: str) -> dict[str, object]:
    return {
        "status": "success",
        "message": message,
        "server": {"id": server_id, "name": name, "status": status},
    }


async def test_create_provisions_then_becomes_active(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    _, created, _ = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    url = f"{sim.base_url}servers/{created['id']}/"
    active = await wait_for_status(http, url, "active")
    assert active["ip_address"] == "203.0.113.12"
    assert active["ipv6_address"] == "2001:0db8::3"
    assert active["updated_at"] > created["updated_at"]
    assert active["created_at"] == created["created_at"]
    assert active["resource_usage"]["memory_used"] > 0


@pytest.mark.parametrize("sim_options", [{"provision_delay": 60.0}])
async def test_provisioning_lasts_provision_delay(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    _, created, _ = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    _, body, _ = await call(http, "GET", f"{sim.base_url}servers/{created['id']}/")
    assert (body["status"], body["ip_address"], body["ipv6_address"]) == (
        "provisioning",
        None,
        None,
    )
    _, listed, _ = await call(http, "GET", sim.base_url + "servers/", params={"status": "active"})
    assert listed["count"] == 2
    # Nothing can be done to a server that is still provisioning.
    status, refusal, _ = await call(http, "POST", f"{sim.base_url}servers/{created['id']}/stop/")
    assert (status, refusal) == (400, {"detail": "Server is not running."})


async def test_stop_then_start(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12345/"
    status, body, _ = await call(http, "POST", url + "stop/")
    assert status == 200
    assert body == _action_body(12345, "web-server-01", "Server is stopping", "stopping")
    _, during, _ = await call(http, "GET", url)
    assert during["status"] == "stopping"
    stopped = await wait_for_status(http, url, "stopped")
    assert stopped["updated_at"] > during["updated_at"]
    assert stopped["ip_address"] == "203.0.113.10"

    status, body, _ = await call(http, "POST", url + "start/")
    assert status == 200
    assert body == _action_body(12345, "web-server-01", "Server is starting", "starting")
    await wait_for_status(http, url, "active")


async def test_reboot_returns_to_active(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12346/"
    status, body, _ = await call(http, "POST", url + "reboot/")
    assert status == 200
    assert body == _action_body(12346, "db-server-01", "Server is rebooting", "rebooting")
    _, during, _ = await call(http, "GET", url)
    assert during["status"] == "rebooting"
    await wait_for_status(http, url, "active")


async def test_start_when_not_stopped_is_400(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12345/"
    status, body, _ = await call(http, "POST", url + "start/")
    assert (status, body) == (400, {"detail": "Server is already running."})
    await call(http, "POST", url + "stop/")
    # Still stopping: not yet stopped, so start is refused too.
    status, body, _ = await call(http, "POST", url + "start/")
    assert (status, body) == (400, {"detail": "Server is already running."})


@pytest.mark.parametrize("action", ["stop", "reboot"])
async def test_stop_or_reboot_when_not_active_is_400(
    sim: Simulator, http: aiohttp.ClientSession, action: str
) -> None:
    url = sim.base_url + "servers/12345/"
    await call(http, "POST", url + "stop/")
    status, body, _ = await call(http, "POST", url + action + "/")
    assert (status, body) == (400, {"detail": "Server is not running."})
    await wait_for_status(http, url, "stopped")
    status, body, _ = await call(http, "POST", url + action + "/")
    assert (status, body) == (400, {"detail": "Server is not running."})


async def test_refused_action_changes_nothing(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12345/"
    _, before, _ = await call(http, "GET", url)
    await call(http, "POST", url + "start/")
    _, after, _ = await call(http, "GET", url)
    assert after == before


async def test_suspend_by_the_provider(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12346/"
    await call(http, "POST", url + "reboot/")
    sim.suspend(12346)
    _, body, _ = await call(http, "GET", url)
    assert body["status"] == "suspended"
    _, listed, _ = await call(
        http, "GET", sim.base_url + "servers/", params={"status": "suspended"}
    )
    assert [s["id"] for s in listed["results"]] == [12346]
    status, refusal, _ = await call(http, "POST", url + "reboot/")
    assert (status, refusal) == (400, {"detail": "Server is not running."})
    status, refusal, _ = await call(http, "POST", url + "start/")
    assert (status, refusal) == (400, {"detail": "Server is already running."})
    with pytest.raises(KeyError):
        sim.suspend(999)


async def test_deleting_a_transitioning_server(sim: Simulator, http: aiohttp.ClientSession) -> None:
    _, created, _ = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    status, _, _ = await call(http, "DELETE", f"{sim.base_url}servers/{created['id']}/")
    assert status == 204
    await call(http, "POST", sim.base_url + "servers/12345/stop/")
    await wait_for_status(http, sim.base_url + "servers/12345/", "stopped")
    assert [s["id"] for s in sim.servers()] == [12345, 12346]


async def test_many_servers_settle_without_timers(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    for index in range(30):
        await call(http, "POST", url, json={**VALID_CREATE, "name": f"bulk-{index}"})
    await wait_for_status(http, f"{url}{12347 + 29}/", "active")
    _, body, _ = await call(http, "GET", url, params={"status": "active", "page_size": 100})
    assert body["count"] == 32
