"""What the command says when something is wrong: each message names the fix.

A bad server id, a refused token, a status vpsorg does not know, nothing listening at the
base URL, and the JSON a bulk command with ``--wait`` prints.
"""

from __future__ import annotations

import pytest

from vpsorg.cli._runtime import connection_hint
from vpsorg.simulator import Simulator

from .conftest import Invoke, parse


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "1.5", "12345x", ""])
def test_a_bad_server_id_is_refused_as_a_server_id(vpsorg: Invoke, bad: str) -> None:
    result = vpsorg("servers", "get", "--", bad)
    assert result.exit_code == 2
    assert f"{bad!r} is not a server id (a positive whole number, such as 12345)" in result.stderr
    assert "integer range" not in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_id_among_many_names_that_id(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "stop", "12345", "web-1")
    assert result.exit_code == 2
    assert "'web-1' is not a server id" in result.stderr


def test_a_refused_token_hints_at_the_token(run_cli: Invoke, sim: Simulator) -> None:
    result = run_cli("--base-url", sim.base_url, "--token", "wrong-token", "servers", "list")
    assert result.exit_code == 1
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: HTTP 401 for GET ")
    assert hint == (
        "hint: the API refused the token: check --token ($VPSORG_API_TOKEN), and that it "
        f"belongs to the API at {sim.base_url}"
    )
    assert "wrong-token" not in result.stderr


def test_a_bulk_command_with_a_refused_token_hints_once(run_cli: Invoke, sim: Simulator) -> None:
    result = run_cli("--base-url", sim.base_url, "--token", "wrong", "servers", "stop", "1", "2")
    assert result.exit_code == 1
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint:")]
    assert hints == [
        "hint: the API refused the token: check --token ($VPSORG_API_TOKEN), and that it "
        f"belongs to the API at {sim.base_url}"
    ]


def test_an_unknown_status_is_a_prefixed_warning(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "list", "--status", "actve")
    assert result.exit_code == 0
    assert parse(result) == []
    assert result.stderr.splitlines() == [
        "warning: servers.list(status=...): 'actve' is not a status vpsorg knows (known: "
        "provisioning, active, starting, stopping, stopped, rebooting, suspended); sent as given"
    ]


def test_with_v_the_warning_keeps_the_log_format(vpsorg: Invoke) -> None:
    result = vpsorg("-v", "servers", "list", "--status", "actve")
    assert "vpsorg: WARNING: servers.list(status=...): 'actve' is not a status" in result.stderr
    assert "\nwarning: " not in "\n" + result.stderr  # one handler, not two


@pytest.mark.parametrize(
    ("url", "command"),
    [
        ("http://127.0.0.1:8123/api/v1/", "`vpsorg simulator --port 8123`"),
        ("http://localhost:8080/api/v1/", "`vpsorg simulator --port 8080`"),
        ("http://[::1]:9000/api/v1/", "`vpsorg simulator --port 9000`"),
        ("http://127.0.0.1/api/v1/", "`vpsorg simulator --port 80`"),
    ],
)
def test_the_connection_hint_names_the_port_used(url: str, command: str) -> None:
    assert connection_hint(url) == (
        f"could not reach {url}: is the simulator running? Start it with {command}."
    )


def test_reboot_wait_json_has_the_server_after_the_wait(vpsorg: Invoke) -> None:
    """``server`` is documented in docs/cli.md: the server as the wait left it, or null."""
    rows = parse(vpsorg("-o", "json", "servers", "reboot", "12345", "99999", "--wait"))
    assert [row["id"] for row in rows] == [12345, 99999]
    assert rows[0]["server"]["id"] == 12345
    assert rows[0]["server"]["status"] == "active"
    assert rows[1]["server"] is None
    assert rows[1]["error_type"] == "NotFoundError"


def test_without_wait_there_is_no_server_key(vpsorg: Invoke) -> None:
    rows = parse(vpsorg("-o", "json", "servers", "reboot", "12345"))
    assert "server" not in rows[0]
