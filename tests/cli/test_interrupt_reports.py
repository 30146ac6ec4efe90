"""Ctrl-C after the API acted: the command says what was created or accepted (issue 19, item 8).

Each test runs ``python -m vpsorg.cli -vv`` as a subprocess, waits for the log line that
proves the create or the reboot was answered, and for the first request of the wait
after it (held by a scripted delay on the simulator), then sends SIGINT.
"""

from __future__ import annotations

import signal
import time

from vpsorg.simulator import Simulator

from .conftest import Watched, status_of
from .test_subprocess import MODULE, _connection


def test_ctrl_c_during_create_wait_says_which_server_was_created(sim: Simulator) -> None:
    # The first status check of the wait answers 503 at once (logged: the wait has
    # begun); its retry is held long enough for the interrupt to land in the wait.
    sim.script(path="/api/v1/servers/*", method="GET", status=503)
    sim.script(path="/api/v1/servers/*", method="GET", delay=20.0)
    command = [*MODULE, "-vv", *_connection(sim), "servers", "create", "--name", "int-1"]
    command += ["--plan-id", "1", "--os-id", "5", "--location", "us-west", "--wait"]
    with Watched(command) as running:
        running.wait_for(r"POST .* -> 201")
        running.wait_for(r"GET .* -> 503")
        running.process.send_signal(signal.SIGINT)
        code, stderr = running.finish()
    made = [server for server in sim.servers() if server["name"] == "int-1"]
    assert len(made) == 1
    assert code == 130
    assert f"server {made[0]['id']} ('int-1') was created" in stderr
    assert f"vpsorg servers wait {made[0]['id']} active" in stderr
    for text in ("Traceback", "Unclosed", "Task was destroyed", sim.token):
        assert text not in stderr


def test_ctrl_c_during_reboot_wait_says_which_reboots_were_accepted(sim: Simulator) -> None:
    # One pending id is checked by GET of its own (cheaper than listing the account):
    # a 503, then an answer slow enough that the interrupt comes while it is pending.
    sim.script(path="/api/v1/servers/12345/", method="GET", status=503)
    sim.script(path="/api/v1/servers/12345/", method="GET", delay=20.0)
    command = [*MODULE, "-vv", *_connection(sim), "servers", "reboot", "12345", "--wait"]
    with Watched(command) as running:
        running.wait_for(r"POST .*/12345/reboot/ -> 200")
        running.wait_for(r"GET .* -> 503")
        running.process.send_signal(signal.SIGINT)
        code, stderr = running.finish()
    assert code == 130
    assert "the API accepted the reboot of 1 server (12345)" in stderr
    assert "Traceback" not in stderr
    assert status_of(sim, 12345) in ("rebooting", "active")


def test_ctrl_c_with_the_create_in_flight_says_it_may_have_reached_the_api(
    sim: Simulator,
) -> None:
    sim.script(path="/api/v1/servers/", method="POST", delay=20.0)
    command = [*MODULE, *_connection(sim), "servers", "create", "--name", "int-2"]
    command += ["--plan-id", "1", "--os-id", "5", "--location", "us-east"]
    with Watched(command) as running:
        for _ in range(1000):  # until the simulator holds the create (bounded: 10 s)
            if sim.request_counts.get("POST /api/v1/servers/", 0):
                break
            time.sleep(0.01)
        running.process.send_signal(signal.SIGINT)
        code, stderr = running.finish()
    assert code == 130
    assert "the create of 'int-2' may have reached the API" in stderr
    assert "vpsorg servers list --location us-east" in stderr
