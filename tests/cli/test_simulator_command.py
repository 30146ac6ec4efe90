"""``vpsorg simulator ...`` passes every argument to ``python -m vpsorg.simulator``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from .conftest import REPO, Invoke, Watched, subprocess_env

URL_LINE = r"(http://127\.0\.0\.1:\d+/api/v1/)"


def test_simulator_help_is_passed_through(run_cli: Invoke) -> None:
    result = run_cli("simulator", "--help")
    assert result.exit_code == 0
    assert "usage: vpsorg simulator" in result.stdout
    for option in ("--port", "--provision-delay", "--action-delay", "--error-rate-503"):
        assert option in result.stdout


def test_simulator_bad_option_exits_2(run_cli: Invoke) -> None:
    result = run_cli("simulator", "--no-such-option")
    assert result.exit_code == 2
    assert "vpsorg simulator" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_simulator_serves_the_cli_until_ctrl_c() -> None:
    """Both sides as real processes: the simulator, then a command talking to it."""
    module = [sys.executable, "-m", "vpsorg.cli"]
    command = [*module, "simulator", "--port", "0", "--token", "sub-token"]
    with Watched(command, watch="stdout") as server:
        url = server.wait_for(URL_LINE).group(1)
        client = subprocess.run(
            [*module, "--base-url", url, "--token", "sub-token", "servers", "list"],
            cwd=REPO,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert client.returncode == 0, client.stderr
        assert [s["id"] for s in json.loads(client.stdout)] == [12345, 12346]
        server.process.send_signal(signal.SIGINT)
        code, stdout = server.finish()
        assert server.process.stderr is not None
        stderr = server.process.stderr.read()
    assert code == 0
    assert "Simulator stopped." in stdout
    assert "Traceback" not in stderr
