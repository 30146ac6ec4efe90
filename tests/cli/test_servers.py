"""``vpsorg servers list|get|create|update|patch|wait`` against the simulator, in process."""

from __future__ import annotations

import re

from vpsorg.simulator import Simulator

from .conftest import Invoke, parse, status_of

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_list_prints_json_objects_with_iso_timestamps(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "list")
    assert result.exit_code == 0, result.output
    servers = parse(result)
    assert [s["id"] for s in servers] == [12345, 12346]
    first = servers[0]
    assert first["name"] == "web-server-01"
    assert first["status"] == "active"
    assert first["plan"]["id"] == 1
    assert first["os"] == {"id": 5, "name": "Ubuntu 22.04 LTS"}
    assert ISO_UTC.match(first["created_at"]) and ISO_UTC.match(first["updated_at"])
    assert result.stderr == ""


def test_list_filters_by_status_and_location(vpsorg: Invoke) -> None:
    east = parse(vpsorg("servers", "list", "--location", "us-east"))
    assert [s["id"] for s in east] == [12346]
    assert parse(vpsorg("servers", "list", "--status", "stopped")) == []


def test_list_as_a_table(vpsorg: Invoke) -> None:
    result = vpsorg("--output", "table", "servers", "list")
    assert result.exit_code == 0
    assert "2 servers" in result.stdout
    assert "web-server-01" in result.stdout and "203.0.113.11" in result.stdout


def test_subcommand_output_option_overrides_the_group(vpsorg: Invoke) -> None:
    result = vpsorg("--output", "json", "servers", "list", "-o", "table")
    assert "web-server-01" in result.stdout
    assert not result.stdout.lstrip().startswith("[")


def test_get_shows_the_detail_view(vpsorg: Invoke) -> None:
    server = parse(vpsorg("servers", "get", "12345"))
    assert server["id"] == 12345
    assert server["ipv6_address"]
    assert set(server["resource_usage"]) == {
        "cpu_percent",
        "memory_used",
        "disk_used",
        "bandwidth_used",
    }
    assert server["plan"]["bandwidth"] == 2048


def test_get_as_a_table(vpsorg: Invoke) -> None:
    result = vpsorg("-o", "table", "servers", "get", "12346")
    assert result.exit_code == 0
    for text in ("db-server-01", "Performance VPS", "Debian 12", "usage", "backups"):
        assert text in result.stdout


def test_get_missing_server_exits_1_with_one_line(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "get", "99999")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: HTTP 404 for GET http://127.0.0.1:")
    assert "/servers/99999/" in lines[0]
    assert "Traceback" not in result.output


def test_create_then_wait_until_active(vpsorg: Invoke, sim: Simulator) -> None:
    created = parse(
        vpsorg(
            "servers",
            "create",
            "--name",
            "web-03",
            "--plan-id",
            "2",
            "--os-id",
            "3",
            "--location",
            "us-east",
            "--hostname",
            "web03.example.com",
            "--backups",
        )
    )
    assert created["status"] == "provisioning"
    assert created["ip_address"] is None
    assert created["backups_enabled"] is True
    assert created["hostname"] == "web03.example.com"
    assert created["message"]
    server = parse(vpsorg("servers", "wait", str(created["id"]), "--status", "active"))
    assert server["status"] == "active"
    assert server["ip_address"]


def test_create_with_wait_returns_an_active_server(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg(
        *("servers", "create", "--name", "api-1", "--plan-id", "1", "--os-id", "5"),
        *("--location", "us-west", "--ssh-key-id", "7", "--no-backups", "--wait"),
    )
    assert result.exit_code == 0, result.stderr
    server = parse(result)
    assert server["status"] == "active"
    assert status_of(sim, server["id"]) == "active"
    assert sim.count_by_name("api-1") == 1


def test_create_with_an_invalid_name_is_a_usage_error(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg(
        *("servers", "create", "--name", "bad name!", "--plan-id", "1"),
        *("--os-id", "5", "--location", "us-west"),
    )
    assert result.exit_code == 2
    assert "name" in result.stderr
    assert sim.count_by_name("bad name!") == 0


def test_create_rejected_by_the_api_exits_1(vpsorg: Invoke) -> None:
    result = vpsorg(
        *("servers", "create", "--name", "x1", "--plan-id", "99"),
        *("--os-id", "5", "--location", "us-west"),
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: HTTP 400 for POST ")
    assert len(result.stderr.splitlines()) == 1


def test_update_replaces_every_field(vpsorg: Invoke) -> None:
    server = parse(
        vpsorg(
            *("servers", "update", "12345", "--name", "web-renamed"),
            *("--hostname", "renamed.example.com", "--no-backups"),
        )
    )
    assert (server["name"], server["hostname"], server["backups_enabled"]) == (
        "web-renamed",
        "renamed.example.com",
        False,
    )


def test_update_requires_the_backups_flag(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "update", "12345", "--name", "a", "--hostname", "a.example.com")
    assert result.exit_code == 2
    assert "--backups/--no-backups" in result.stderr


def test_patch_changes_only_what_is_given(vpsorg: Invoke) -> None:
    before = parse(vpsorg("servers", "get", "12346"))
    server = parse(vpsorg("servers", "patch", "12346", "--name", "db-renamed"))
    assert server["name"] == "db-renamed"
    assert server["hostname"] == before["hostname"]
    assert server["backups_enabled"] == before["backups_enabled"]
    server = parse(vpsorg("servers", "patch", "12346", "--backups"))
    assert server["backups_enabled"] is True


def test_patch_without_fields_is_a_usage_error(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "patch", "12346")
    assert result.exit_code == 2
    assert "at least one" in result.stderr


def test_patch_missing_server_exits_1(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "patch", "4242", "--name", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: HTTP 404 for PATCH ")


def test_wait_times_out_with_exit_1(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "wait", "12345", "--status", "stopped", "--timeout", "0.3")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: server 12345 did not reach 'stopped' within 0.3s (last seen 'active')"
    )


def test_wait_takes_the_status_as_an_optional_argument(vpsorg: Invoke, sim: Simulator) -> None:
    assert vpsorg("servers", "stop", "12345").exit_code == 0
    stopped = vpsorg("servers", "wait", "12345", "stopped")
    assert stopped.exit_code == 0, stopped.stderr
    assert parse(stopped)["status"] == "stopped"
    assert vpsorg("servers", "start", "12345").exit_code == 0
    active = vpsorg("servers", "wait", "12345")  # the default: active
    assert active.exit_code == 0, active.stderr
    assert parse(active)["status"] == "active"
    assert status_of(sim, 12345) == "active"


def test_wait_refuses_two_different_statuses(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "wait", "12345", "active", "--status", "stopped")
    assert result.exit_code == 2
    assert "two statuses given" in result.stderr
