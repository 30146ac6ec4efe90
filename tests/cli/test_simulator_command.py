"""``vpsorg simulator ...`` passes every argument to ``python -m vpsorg.simulator``."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading

import pytest

from .conftest import REPO, Invoke, subprocess_env

URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/api/v1/)")


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
    command = [sys.executable, "-m", "vpsorg.cli", "simulator", "--port", "0"]
    env = subprocess_env()
    with subprocess.Popen(
        [*command, "--token", "sub-token"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert server.stdout is not None
            for line in server.stdout:
                lines.put(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            url = None
            for _ in range(10):
                match = URL_LINE.search(lines.get(timeout=30))
                if match:
                    url = match.group(1)
                    break
            assert url is not None
            client = subprocess.run(
                [*command[:3], "--base-url", url, "--token", "sub-token", "servers", "list"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert client.returncode == 0, client.stderr
            assert [s["id"] for s in json.loads(client.stdout)] == [12345, 12346]
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=30) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        reader.join(timeout=30)
        assert server.stderr is not None
        assert "Traceback" not in server.stderr.read()
