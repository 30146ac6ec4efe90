"""Create, read, update and delete: every success and error answer of the nine operations."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from vpsorg.simulator import Simulator

from .helpers import VALID_CREATE, call

SUMMARY_KEYS = {
    "id",
    "name",
    "hostname",
    "status",
    "ip_address",
    "location",
    "plan",
    "os",
    "created_at",
    "updated_at",
}
DETAIL_KEYS = SUMMARY_KEYS | {"ipv6_address", "backups_enabled", "resource_usage"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")

SAMPLE_DETAIL_12345 = {
    "id": 12345,
    "name": "web-server-01",
    "hostname": "web01.example.com",
    "status": "active",
    "ip_address": "203.0.113.10",
    "ipv6_address": "2001:0db8::1",
    "location": "us-west",
    "plan": {
        "id": 1,
        "name": "Standard VPS",
        "vcpus": 2,
        "memory": 4096,
        "storage": 80,
        "bandwidth": 2048,
    },
    "os": {"id": 5, "name": "Ubuntu 22.04 LTS"},
    "backups_enabled": True,
    "resource_usage": {
        "cpu_percent": 23.5,
        "memory_used": 2048,
        "disk_used": 35,
        "bandwidth_used": 450,
    },
    "created_at": "2025-01-10T14:30:00Z",
    "updated_at": "2025-01-15T10:20:00Z",
}


async def test_list_starts_with_the_two_samples(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, body, headers = await call(http, "GET", sim.base_url + "servers/")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["count"] == 2
    assert (body["next"], body["previous"]) == (None, None)
    first, second = body["results"]
    assert first == {
        "id": 12345,
        "name": "web-server-01",
        "hostname": "web01.example.com",
        "status": "active",
        "ip_address": "203.0.113.10",
        "location": "us-west",
        "plan": {"id": 1, "name": "Standard VPS", "vcpus": 2, "memory": 4096, "storage": 80},
        "os": {"id": 5, "name": "Ubuntu 22.04 LTS"},
        "created_at": "2025-01-10T14:30:00Z",
        "updated_at": "2025-01-15T10:20:00Z",
    }
    assert second["id"] == 12346
    assert second["name"] == "db-server-01"
    assert second["hostname"] == "db01.example.com"
    assert second["location"] == "us-east"
    assert second["ip_address"] == "203.0.113.11"
    assert second["plan"] == {
        "id": 2,
        "name": "Performance VPS",
        "vcpus": 4,
        "memory": 8192,
        "storage": 160,
    }
    assert second["os"] == {"id": 3, "name": "Debian 12"}
    assert second["created_at"] == "2025-01-12T09:15:00Z"


async def test_list_items_have_summary_fields_only(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    _, body, _ = await call(http, "GET", sim.base_url + "servers/")
    for item in body["results"]:
        assert set(item) == SUMMARY_KEYS
        assert "bandwidth" not in item["plan"]


async def test_detail_view_matches_the_reference_sample(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(http, "GET", sim.base_url + "servers/12345/")
    assert status == 200
    assert body == SAMPLE_DETAIL_12345
    _, other, _ = await call(http, "GET", sim.base_url + "servers/12346/")
    assert set(other) == DETAIL_KEYS
    assert other["plan"]["bandwidth"] == 4096
    assert other["ipv6_address"] == "2001:0db8::2"


async def test_filters(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/"
    _, body, _ = await call(http, "GET", url, params={"location": "us-east"})
    assert [s["id"] for s in body["results"]] == [12346]
    await call(http, "POST", url + "12345/stop/")
    _, body, _ = await call(http, "GET", url, params={"status": "active"})
    assert (body["count"], [s["id"] for s in body["results"]]) == (1, [12346])
    _, body, _ = await call(http, "GET", url, params={"status": "stopping", "location": "us-west"})
    assert [s["id"] for s in body["results"]] == [12345]
    _, body, _ = await call(http, "GET", url, params={"status": "suspended"})
    assert (body["count"], body["results"]) == (0, [])


async def test_create_answers_201_with_the_full_object(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    assert status == 201
    assert body["id"] == 12347
    assert body["status"] == "provisioning"
    assert body["ip_address"] is None
    assert body["ipv6_address"] is None
    assert body["backups_enabled"] is True
    assert body["message"] == "Server is being provisioned. This may take 2-5 minutes."
    assert body["name"] == "web-server-02"
    assert body["hostname"] == "web02.example.com"
    assert body["plan"]["id"] == 1
    assert body["os"] == {"id": 5, "name": "Ubuntu 22.04 LTS"}
    assert TIMESTAMP.match(body["created_at"])
    assert body["created_at"] == body["updated_at"]
    assert set(body) == DETAIL_KEYS | {"message"}
    _, again, _ = await call(http, "POST", sim.base_url + "servers/", json=VALID_CREATE)
    assert again["id"] == 12348
    assert sim.count_by_name("web-server-02") == 2


async def test_create_defaults_and_ignores_unknown_fields(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    body_in = {"name": "bare", "plan_id": 2, "os_id": 3, "location": "us-east", "colour": "red"}
    status, body, _ = await call(http, "POST", sim.base_url + "servers/", json=body_in)
    assert status == 201
    assert body["backups_enabled"] is False
    assert body["hostname"] == "bare"
    assert "colour" not in body


def _create(**changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in VALID_CREATE.items() if k not in changes or changes[k] is not ...}
    body.update({k: v for k, v in changes.items() if v is not ...})
    return body


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (_create(name=...), {"name": ["This field is required."]}),
        (_create(plan_id=...), {"plan_id": ["This field is required."]}),
        (_create(os_id=...), {"os_id": ["This field is required."]}),
        (_create(location=...), {"location": ["This field is required."]}),
        (_create(plan_id=True), {"plan_id": ["A valid integer is required."]}),
        (_create(plan_id="1"), {"plan_id": ["A valid integer is required."]}),
        (_create(os_id=5.5), {"os_id": ["A valid integer is required."]}),
        (_create(os_id=None), {"os_id": ["This field may not be null."]}),
        (_create(ssh_key_id="key"), {"ssh_key_id": ["A valid integer is required."]}),
        (_create(backups_enabled="yes"), {"backups_enabled": ["Must be a valid boolean."]}),
        (_create(backups_enabled=1), {"backups_enabled": ["Must be a valid boolean."]}),
        (_create(name=42), {"name": ["Not a valid string."]}),
        (_create(name=""), {"name": ["This field may not be blank."]}),
        (
            _create(name="web server"),
            {"name": ["Server name may contain only letters, digits and hyphens."]},
        ),
        (
            _create(name="web_01"),
            {"name": ["Server name may contain only letters, digits and hyphens."]},
        ),
        (_create(name="a" * 64), {"name": ["Ensure this field has no more than 63 characters."]}),
        (_create(hostname="bad host!"), {"hostname": ["Enter a valid hostname."]}),
        (_create(plan_id=99), {"plan_id": ['Invalid pk "99" - object does not exist.']}),
        (_create(os_id=4), {"os_id": ['Invalid pk "4" - object does not exist.']}),
        (_create(location="mars"), {"location": ['"mars" is not a valid choice.']}),
        (
            {},
            {
                "name": ["This field is required."],
                "plan_id": ["This field is required."],
                "os_id": ["This field is required."],
                "location": ["This field is required."],
            },
        ),
        ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ("text", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
    ],
)
async def test_create_rejects_bad_input_with_field_errors(
    sim: Simulator, http: aiohttp.ClientSession, body: Any, errors: dict[str, list[str]]
) -> None:
    status, answer, _ = await call(http, "POST", sim.base_url + "servers/", json=body)
    assert (status, answer) == (400, errors)
    assert len(sim.servers()) == 2


async def test_name_of_63_characters_is_accepted(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, _, _ = await call(http, "POST", sim.base_url + "servers/", json=_create(name="a" * 63))
    assert status == 201


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, NaN]"])
async def test_body_that_is_not_json_is_400(
    sim: Simulator, http: aiohttp.ClientSession, raw: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    url = sim.base_url + "servers/"
    status, body, _ = await call(http, "POST", url, data=raw, headers=headers)
    assert status == 400
    assert set(body) == {"detail"}
    assert body["detail"].startswith("JSON parse error - ")
    status, body, _ = await call(http, "PATCH", url + "12345/", data=raw, headers=headers)
    assert status == 400
    assert body["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize("sim_options", [{"credits": 1}])
async def test_creates_cost_one_credit_then_402(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    assert sim.credits == 1
    status, _, _ = await call(http, "POST", url, json=VALID_CREATE)
    assert status == 201
    assert sim.credits == 0
    status, body, _ = await call(http, "POST", url, json=VALID_CREATE)
    assert (status, body) == (402, {"detail": "Insufficient credits."})
    # Validation comes first: a bad body is still a 400, not a 402.
    status, _, _ = await call(http, "POST", url, json={})
    assert status == 400
    assert sim.count_by_name(VALID_CREATE["name"]) == 1


async def test_credits_are_unlimited_by_default(sim: Simulator) -> None:
    assert sim.credits is None


async def test_put_replaces_the_three_fields(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12346/"
    change = {"name": "db-updated", "hostname": "db-updated.example.com", "backups_enabled": True}
    status, body, _ = await call(http, "PUT", url, json=change)
    assert status == 200
    assert set(body) == DETAIL_KEYS
    assert {k: body[k] for k in change} == change
    assert body["updated_at"] != "2025-01-16T08:45:00Z"
    assert TIMESTAMP.match(body["updated_at"])
    _, fetched, _ = await call(http, "GET", url)
    assert fetched == body


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"name": "x"},
            {
                "hostname": ["This field is required."],
                "backups_enabled": ["This field is required."],
            },
        ),
        (
            {"name": "x", "hostname": "x.example.com", "backups_enabled": "no"},
            {"backups_enabled": ["Must be a valid boolean."]},
        ),
        (
            {"name": "x y", "hostname": "x.example.com", "backups_enabled": False},
            {"name": ["Server name may contain only letters, digits and hyphens."]},
        ),
        (
            {"name": "x", "hostname": "x.example.com", "backups_enabled": False, "plan_id": 2},
            {"plan_id": ["This field cannot be updated."]},
        ),
        ({}, {k: ["This field is required."] for k in ("name", "hostname", "backups_enabled")}),
    ],
)
async def test_put_rejects_bad_input(
    sim: Simulator, http: aiohttp.ClientSession, body: Any, errors: dict[str, list[str]]
) -> None:
    status, answer, _ = await call(http, "PUT", sim.base_url + "servers/12345/", json=body)
    assert (status, answer) == (400, errors)
    assert sim.servers()[0]["name"] == "web-server-01"


async def test_patch_changes_only_given_fields(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12345/"
    status, body, _ = await call(http, "PATCH", url, json={"name": "new-server-name"})
    assert status == 200
    assert body["name"] == "new-server-name"
    assert body["hostname"] == "web01.example.com"
    assert body["backups_enabled"] is True
    first_update = body["updated_at"]
    _, body, _ = await call(http, "PATCH", url, json={"backups_enabled": False})
    assert body["backups_enabled"] is False
    assert body["name"] == "new-server-name"
    assert body["updated_at"] > first_update


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"status": "active"}, {"status": ["This field cannot be updated."]}),
        ({"name": "ok", "plan_id": 2}, {"plan_id": ["This field cannot be updated."]}),
        ({"backups_enabled": None}, {"backups_enabled": ["This field may not be null."]}),
        ({"hostname": 7}, {"hostname": ["Not a valid string."]}),
        (["name"], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
async def test_patch_rejects_bad_input(
    sim: Simulator, http: aiohttp.ClientSession, body: Any, errors: dict[str, list[str]]
) -> None:
    status, answer, _ = await call(http, "PATCH", sim.base_url + "servers/12345/", json=body)
    assert (status, answer) == (400, errors)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_changes_to_unknown_server_are_404(
    sim: Simulator, http: aiohttp.ClientSession, method: str
) -> None:
    change = {"name": "x", "hostname": "x.example.com", "backups_enabled": False}
    status, body, _ = await call(http, method, sim.base_url + "servers/4242/", json=change)
    assert (status, body) == (404, {"detail": "Not found."})


async def test_delete_is_204_with_empty_body(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/12345/"
    async with http.delete(url) as response:
        assert response.status == 204
        assert await response.read() == b""
    status, _, _ = await call(http, "GET", url)
    assert status == 404
    status, _, _ = await call(http, "DELETE", url)
    assert status == 404
    assert [s["id"] for s in sim.servers()] == [12346]
