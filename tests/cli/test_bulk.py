"""``vpsorg servers start|stop|reboot|delete ID...``: bulk calls, failures and confirmation."""

from __future__ import annotations

import pytest

from vpsorg.simulator import Simulator

from .conftest import Invoke, parse, status_of


def test_stop_then_start_several_with_wait(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "stop", "12345", "12346", "--wait")
    assert result.exit_code == 0, result.stderr
    rows = parse(result)
    assert [(r["id"], r["ok"], r["status"]) for r in rows] == [
        (12345, True, "stopped"),
        (12346, True, "stopped"),
    ]
    assert rows[0]["result"]["message"] == "Server is stopping"
    assert rows[0]["server"]["status"] == "stopped"
    assert {status_of(sim, 12345), status_of(sim, 12346)} == {"stopped"}

    result = vpsorg("servers", "start", "12345", "12346", "--wait")
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in parse(result)] == ["active", "active"]


def test_reboot_without_wait_reports_the_transition(vpsorg: Invoke) -> None:
    rows = parse(vpsorg("servers", "reboot", "12345"))
    assert rows == [
        {
            "id": 12345,
            "ok": True,
            "status": "rebooting",
            "error": None,
            "error_type": None,
            "result": {
                "status": "success",
                "message": "Server is rebooting",
                "server": {"id": 12345, "name": "web-server-01", "status": "rebooting"},
            },
        }
    ]


def test_start_with_failures_prints_each_and_exits_1(vpsorg: Invoke, sim: Simulator) -> None:
    assert vpsorg("servers", "stop", "12346", "--wait").exit_code == 0
    # 12345 is already running (400), 99999 does not exist (404), 12346 starts.
    result = vpsorg("servers", "start", "12345", "99999", "12346")
    assert result.exit_code == 1
    rows = parse(result)
    assert [(r["id"], r["ok"], r["error_type"]) for r in rows] == [
        (12345, False, "BadRequestError"),
        (99999, False, "NotFoundError"),
        (12346, True, None),
    ]
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith("error: server 12345: HTTP 400 for POST ")
    assert errors[1].startswith("error: server 99999: HTTP 404 for POST ")
    assert status_of(sim, 12346) in ("starting", "active")


def test_bulk_failures_in_a_table(vpsorg: Invoke) -> None:
    result = vpsorg("-o", "table", "servers", "reboot", "12345", "424242")
    assert result.exit_code == 1
    assert "1 ok, 1 failed" in result.stdout
    assert "424242" in result.stdout and "failed" in result.stdout
    assert result.stderr.count("error: server 424242: HTTP 404") == 1


@pytest.mark.parametrize("vpsorg_simulator_options", [{"action_delay": 60.0}])
def test_a_failed_wait_is_a_failure(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "stop", "12345", "--wait", "--timeout", "0.3")
    assert result.exit_code == 1
    assert parse(result)[0]["error_type"] == "WaitTimeoutError"
    assert result.stderr.strip() == (
        "error: server 12345 did not reach 'stopped' within 0.3s (last seen 'stopping')"
    )


def test_repeated_ids_act_once(vpsorg: Invoke) -> None:
    rows = parse(vpsorg("servers", "reboot", "12345", "12345"))
    assert [r["id"] for r in rows] == [12345]


def test_delete_with_yes(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "delete", "12345", "12346", "--yes")
    assert result.exit_code == 0, result.stderr
    assert [(r["id"], r["status"]) for r in parse(result)] == [
        (12345, "deleted"),
        (12346, "deleted"),
    ]
    assert sim.servers() == []


def test_delete_with_a_missing_id_exits_1(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "delete", "12345", "99999", "-y")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: server 99999: HTTP 404 for DELETE ")
    assert status_of(sim, 12345) is None


def test_delete_refuses_without_a_terminal(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "delete", "12345", input="y\n")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert status_of(sim, 12345) == "active"


@pytest.fixture
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend stdin is a terminal (the subprocess tests use a real one)."""
    monkeypatch.setattr("vpsorg.cli._power.stdin_is_interactive", lambda: True)


@pytest.mark.usefixtures("interactive")
def test_delete_answered_no_deletes_nothing(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "delete", "12345", "12346", input="n\n")
    assert result.exit_code == 0  # declining is an answer, not a failure
    assert "Delete 2 servers (12345, 12346)? This cannot be undone." in result.stderr
    assert result.stderr.rstrip().endswith("Nothing deleted.")
    assert "Aborted" not in result.stderr
    assert result.stdout == ""
    assert len(sim.servers()) == 2


@pytest.mark.usefixtures("interactive")
def test_delete_answered_yes_deletes(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "delete", "12346", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Delete server 12346?" in result.stderr
    assert [s["id"] for s in sim.servers()] == [12345]


@pytest.mark.usefixtures("interactive")
def test_delete_at_end_of_input_deletes_nothing(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("servers", "delete", "12346", input="")
    assert result.exit_code == 0
    assert "Nothing deleted." in result.stderr
    assert len(sim.servers()) == 2


def test_the_delete_table_says_deleted_once_per_server(vpsorg: Invoke, sim: Simulator) -> None:
    result = vpsorg("-o", "table", "servers", "delete", "12345", "12346", "--yes")
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "1234" in line]
    assert len(rows) == 2
    for line in rows:
        assert line.count("deleted") == 1, line
        assert "ok" in line


def test_start_on_a_server_that_is_still_stopping_says_so(run_cli: Invoke) -> None:
    from vpsorg.simulator import serve_in_thread

    with serve_in_thread(action_delay=30) as slow:  # the stop takes 30 s
        connection = ("--base-url", slow.base_url, "--token", slow.token)
        assert run_cli(*connection, "servers", "stop", "12345").exit_code == 0
        # The API answers "Server is already running." to a start while stopping.
        result = run_cli(*connection, "servers", "start", "12345")
        assert status_of(slow, 12345) == "stopping"
    assert result.exit_code == 1
    assert "already running" not in result.stderr
    assert result.stderr.strip() == (
        "error: server 12345 is still stopping: wait until it is stopped "
        "(vpsorg servers wait 12345 stopped), then start it"
    )
    [row] = parse(result)
    assert (row["ok"], row["status"]) == (False, "stopping")
    assert row["error"].startswith("server 12345 is still stopping")
