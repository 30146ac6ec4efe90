"""``vpsorg`` as a real process: exit codes, JSON on a pipe, a real terminal, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from vpsorg.simulator import Simulator

from .conftest import REPO, Watched, status_of, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and terminals")

MODULE = [sys.executable, "-m", "vpsorg.cli"]


def _connection(sim: Simulator) -> list[str]:
    return ["--base-url", sim.base_url, "--token", sim.token]


def _run(command: list[str], stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        stdin=stdin,
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_script_lists_servers_as_json_on_a_pipe(script: list[str], sim: Simulator) -> None:
    done = _run([*script, *_connection(sim), "servers", "list"])
    assert done.returncode == 0, done.stderr
    assert [s["id"] for s in json.loads(done.stdout)] == [12345, 12346]
    assert done.stderr == ""


def test_module_exit_codes(sim: Simulator) -> None:
    missing = _run([*MODULE, *_connection(sim), "servers", "get", "99999"])
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("error: HTTP 404 for GET ")
    assert len(missing.stderr.splitlines()) == 1

    usage = _run([*MODULE, *_connection(sim), "servers", "get"])
    assert usage.returncode == 2
    assert "Missing argument" in usage.stderr

    assert _run([*MODULE, "--version"]).returncode == 0
    for done in (missing, usage):
        assert "Traceback" not in done.stderr and sim.token not in done.stderr


def test_bulk_failures_from_the_script(script: list[str], sim: Simulator) -> None:
    done = _run([*script, *_connection(sim), "servers", "start", "12345", "77777"])
    assert done.returncode == 1
    assert [line.split(":")[1].strip() for line in done.stderr.splitlines()] == [
        "server 12345",
        "server 77777",
    ]
    assert [row["ok"] for row in json.loads(done.stdout)] == [False, False]


@pytest.mark.parametrize(("answer", "deleted"), [("n", False), ("y", True)])
def test_delete_asks_on_a_real_terminal(sim: Simulator, answer: str, deleted: bool) -> None:
    import pty

    controller, terminal = pty.openpty()
    try:
        # Typed ahead: the terminal keeps the line until the prompt reads it.
        os.write(controller, f"{answer}\n".encode())
        done = _run([*MODULE, *_connection(sim), "servers", "delete", "12346"], stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert "Delete server 12346? This cannot be undone." in done.stderr
    assert done.returncode == 0, done.stderr
    assert ("Nothing deleted." in done.stderr) is not deleted
    assert (status_of(sim, 12346) is None) is deleted
    assert status_of(sim, 12345) == "active"


def test_ctrl_c_cancels_a_wait_and_exits_130(sim: Simulator) -> None:
    command = [*MODULE, "-vv", *_connection(sim), "servers", "wait", "12345"]
    with Watched([*command, "--status", "stopped", "--timeout", "60"]) as running:
        # -vv logs each request once answered: the first GET means it is waiting.
        running.wait_for(r"GET .* -> 200")
        running.process.send_signal(signal.SIGINT)
        code, stderr = running.finish()
        assert running.process.stdout is not None
        assert running.process.stdout.read() == ""
    assert code == 130
    assert stderr.rstrip().endswith("interrupted")
    for text in ("Traceback", "Unclosed", "ResourceWarning", "Task was destroyed", sim.token):
        assert text not in stderr
    assert status_of(sim, 12345) == "active"


def test_progress_bars_show_on_a_terminal(sim: Simulator) -> None:
    import pty

    controller, terminal = pty.openpty()
    command = [*MODULE, *_connection(sim), "servers", "reboot", "12345", "12346", "--wait"]
    with subprocess.Popen(
        command,
        cwd=REPO,
        env={**subprocess_env(), "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    ) as process:
        os.close(terminal)
        chunks: list[bytes] = []
        while True:  # until the child exits and the terminal reports end of file
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: no process holds the terminal open any more
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(controller)
        assert process.stdout is not None
        rows = json.loads(process.stdout.read())
        assert process.wait(timeout=30) == 0
    drawn = b"".join(chunks).decode(errors="replace")
    assert "reboot" in drawn and "wait for active" in drawn
    assert "2/2" in drawn
    assert [row["status"] for row in rows] == ["active", "active"]
