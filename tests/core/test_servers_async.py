"""Every endpoint of the servers resource: the exact request and the parsed result."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import (
    BASE,
    CREATED_12347,
    DETAIL_12345,
    SUMMARY_12345,
    SUMMARY_12346,
    action_body,
    requests_of,
    sample,
)

SERVERS = BASE + "servers/"


def sent_json(mock: aioresponses, index: int = 0) -> object:
    data = requests_of(mock)[index][2].get("data")
    return None if data is None else json.loads(data)


async def test_list_sends_get_without_params_and_parses(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(SERVERS, payload={"count": 2, "results": [SUMMARY_12345, SUMMARY_12346]})
    servers = [s async for s in client.servers.list()]
    assert [s.id for s in servers] == [12345, 12346]
    assert servers[0].plan == vpsorg.Plan(1, "Standard VPS", 2, 4096, 80, None)
    assert servers[1].os == vpsorg.OperatingSystem(3, "Debian 12")
    assert servers[0].ipv6_address is None and servers[0].resource_usage is None
    ((method, url, kwargs),) = requests_of(mocked)
    assert (method, url) == ("GET", SERVERS)
    assert kwargs.get("params") is None
    assert kwargs.get("data") is None


async def test_list_filters_go_out_as_query_and_none_is_never_sent(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(SERVERS + "?status=active&location=us-west", payload={"count": 0, "results": []})
    mocked.get(SERVERS + "?location=us-east", payload={"count": 0, "results": []})
    assert await client.servers.list(status="active", location="us-west") == []
    assert await client.servers.list(location="us-east") == []
    queries = [parse_qs(urlsplit(url).query) for _, url, _ in requests_of(mocked)]
    assert queries == [{"status": ["active"], "location": ["us-west"]}, {"location": ["us-east"]}]


async def test_list_is_lazy_until_iterated(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    listing = client.servers.list(status="active")
    assert requests_of(mocked) == []
    mocked.get(SERVERS + "?status=active", payload={"count": 1, "results": [SUMMARY_12345]})
    assert [s.name for s in await listing] == ["web-server-01"]


async def test_create_sends_exact_body_and_parses_provisioning_server(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(SERVERS, status=201, payload=CREATED_12347)
    server = await client.servers.create(
        name="web-server-02",
        plan_id=1,
        os_id=5,
        location="us-west",
        hostname="web02.example.com",
        backups_enabled=True,
    )
    assert sent_json(mocked) == {
        "name": "web-server-02",
        "plan_id": 1,
        "os_id": 5,
        "location": "us-west",
        "hostname": "web02.example.com",
        "backups_enabled": True,
    }
    assert requests_of(mocked)[0][:2] == ("POST", SERVERS)
    assert server.id == 12347
    assert server.status == "provisioning"
    assert server.status is vpsorg.ServerStatus.PROVISIONING
    assert server.ip_address is None
    assert server.backups_enabled is True
    assert server.message == "Server is being provisioned. This may take 2-5 minutes."


async def test_create_omits_optional_fields_left_as_none(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(SERVERS, status=201, payload=CREATED_12347)
    await client.servers.create(name="web-server-02", plan_id=1, os_id=5, location="us-west")
    assert sent_json(mocked) == {
        "name": "web-server-02",
        "plan_id": 1,
        "os_id": 5,
        "location": "us-west",
    }


async def test_create_sends_ssh_key_id(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.post(SERVERS, status=201, payload=CREATED_12347)
    await client.servers.create("web-server-02", 1, 5, "us-west", ssh_key_id=77)
    assert sent_json(mocked) == {
        "name": "web-server-02",
        "plan_id": 1,
        "os_id": 5,
        "location": "us-west",
        "ssh_key_id": 77,
    }


async def test_get_parses_the_detail_view(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.get(SERVERS + "12345/", payload=DETAIL_12345)
    server = await client.servers.get(12345)
    assert requests_of(mocked)[0][:2] == ("GET", SERVERS + "12345/")
    assert server.ipv6_address == "2001:0db8::1"
    assert server.plan.bandwidth == 2048
    assert server.backups_enabled is True
    assert server.resource_usage == vpsorg.ResourceUsage(23.5, 2048, 35, 450)
    assert server.created_at == datetime(2025, 1, 10, 14, 30, tzinfo=timezone.utc)
    assert server.updated_at.tzinfo is not None


async def test_update_sends_put_with_all_three_fields(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    updated = sample(DETAIL_12345, name="web-server-updated", hostname="web-updated.example.com")
    mocked.put(SERVERS + "12345/", payload=updated)
    server = await client.servers.update(
        12345, name="web-server-updated", hostname="web-updated.example.com", backups_enabled=True
    )
    assert requests_of(mocked)[0][:2] == ("PUT", SERVERS + "12345/")
    assert sent_json(mocked) == {
        "name": "web-server-updated",
        "hostname": "web-updated.example.com",
        "backups_enabled": True,
    }
    assert server.name == "web-server-updated"


async def test_update_requires_all_three_fields(client: vpsorg.AsyncClient) -> None:
    with pytest.raises(TypeError):
        await client.servers.update(12345, name="x")  # type: ignore[call-arg]


async def test_patch_sends_only_the_fields_given(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.patch(SERVERS + "12345/", payload=sample(DETAIL_12345, name="new-server-name"))
    mocked.patch(SERVERS + "12345/", payload=sample(DETAIL_12345, backups_enabled=False))
    server = await client.servers.patch(12345, name="new-server-name")
    assert server.name == "new-server-name"
    await client.servers.patch(12345, backups_enabled=False)
    assert requests_of(mocked)[0][:2] == ("PATCH", SERVERS + "12345/")
    assert sent_json(mocked, 0) == {"name": "new-server-name"}
    assert sent_json(mocked, 1) == {"backups_enabled": False}


async def test_patch_with_nothing_to_change_sends_nothing(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    with pytest.raises(vpsorg.InvalidInputError):
        await client.servers.patch(12345)
    assert requests_of(mocked) == []


async def test_delete_sends_delete_and_returns_none(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.delete(SERVERS + "12345/", status=204, body=b"")
    assert await client.servers.delete(12345) is None  # type: ignore[func-returns-value]
    assert requests_of(mocked)[0][:2] == ("DELETE", SERVERS + "12345/")


@pytest.mark.parametrize(
    ("action", "verb", "status"),
    [
        ("start", "starting", "starting"),
        ("stop", "stopping", "stopping"),
        ("reboot", "rebooting", "rebooting"),
    ],
)
async def test_start_stop_reboot_post_without_body_and_parse_action_result(
    client: vpsorg.AsyncClient, mocked: aioresponses, action: str, verb: str, status: str
) -> None:
    url = f"{SERVERS}12345/{action}/"
    mocked.post(url, payload=action_body(12345, "web-server-01", verb, status))
    result = await getattr(client.servers, action)(12345)
    ((method, sent_url, kwargs),) = requests_of(mocked)
    assert (method, sent_url) == ("POST", url)
    assert kwargs.get("data") is None
    assert isinstance(result, vpsorg.ActionResult)
    assert (result.status, result.message) == ("success", f"Server is {verb}")
    assert (result.server.id, result.server.name, result.server.status) == (
        12345,
        "web-server-01",
        status,
    )


async def test_start(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.post(SERVERS + "5/start/", payload=action_body(5, "a", "starting", "starting"))
    assert (await client.servers.start(5)).server.status == vpsorg.ServerStatus.STARTING


async def test_stop(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.post(SERVERS + "5/stop/", payload=action_body(5, "a", "stopping", "stopping"))
    assert (await client.servers.stop(5)).message == "Server is stopping"


async def test_reboot(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.post(SERVERS + "5/reboot/", payload=action_body(5, "a", "rebooting", "rebooting"))
    assert (await client.servers.reboot(5)).server.id == 5


async def test_unknown_fields_and_status_values_are_tolerated(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    body = sample(DETAIL_12345, status="migrating", tags=["x"], region={"code": "w"})
    body["plan"]["gpu"] = 1
    mocked.get(SERVERS + "12345/", payload=body)
    server = await client.servers.get(12345)
    assert server.status == "migrating"
    assert type(server.status) is str
    assert server.plan.id == 1


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("get", ("12",)),
        ("get", (True,)),
        ("get", (0,)),
        ("get", (1.5,)),
        ("delete", (None,)),
        ("start", ("abc",)),
        ("stop", (-1,)),
        ("reboot", ([1],)),
        ("patch", (1, "bad name!")),
        ("update", (1, "ok", "host.example.com", "yes")),
        ("update", (1, "ok", "not a host", True)),
    ],
)
async def test_bad_input_is_rejected_before_anything_is_sent(
    client: vpsorg.AsyncClient, mocked: aioresponses, call: str, args: tuple[object, ...]
) -> None:
    with pytest.raises(vpsorg.InvalidInputError) as info:
        await getattr(client.servers, call)(*args)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, vpsorg.VPSOrgError)
    assert requests_of(mocked) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "web_01"},
        {"name": ""},
        {"name": "web 01"},
        {"plan_id": "1"},
        {"plan_id": True},
        {"os_id": 1.0},
        {"location": None},
        {"location": 5},
        {"backups_enabled": 1},
        {"ssh_key_id": "k"},
        {"hostname": "bad host"},
    ],
)
async def test_create_validates_every_field_before_sending(
    client: vpsorg.AsyncClient, mocked: aioresponses, kwargs: dict[str, object]
) -> None:
    args: dict[str, object] = {"name": "ok-1", "plan_id": 1, "os_id": 5, "location": "us-west"}
    args.update(kwargs)
    with pytest.raises(vpsorg.InvalidInputError) as info:
        await client.servers.create(**args)  # type: ignore[arg-type]
    assert info.value.field in kwargs
    assert requests_of(mocked) == []
