"""``vpsorg simulator ...``: click options like every other command, the same server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from .conftest import REPO, Invoke, Watched, subprocess_env

URL_LINE = r"(http://127\.0\.0\.1:\d+/api/v1/)"


def test_simulator_help_looks_like_the_rest_of_the_cli(run_cli: Invoke) -> None:
    result = run_cli("simulator", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: vpsorg simulator [OPTIONS]")  # click, not argparse
    assert "usage:" not in result.stdout
    for option in (
        "--port INTEGER RANGE",
        "--provision-delay SECONDS",
        "--action-delay SECONDS",
        "--error-rate-503 FRACTION",
        "--drop-rate FRACTION",
        "-h, --help",
    ):
        assert option in result.stdout
    assert "[default: 8080;" in result.stdout


def test_simulator_bad_option_exits_2(run_cli: Invoke) -> None:
    result = run_cli("simulator", "--no-such-option")
    assert result.exit_code == 2
    assert "Usage: vpsorg simulator" in result.stderr
    assert "--no-such-option" in result.stderr


def test_simulator_rejects_faults_that_add_up_to_more_than_everything(run_cli: Invoke) -> None:
    result = run_cli("simulator", "--error-rate-500", "0.6", "--drop-rate", "0.6")
    assert result.exit_code == 2
    assert "must not exceed 1" in result.stderr
    result = run_cli("simulator", "--drop-rate", "1.5")
    assert result.exit_code == 2
    assert "--drop-rate" in result.stderr


def test_the_banner_has_a_line_to_paste() -> None:
    from vpsorg.simulator.__main__ import banner

    text = banner("http://127.0.0.1:8080/api/v1/", "vpsorg-demo-token")
    assert (
        "  export VPSORG_BASE_URL=http://127.0.0.1:8080/api/v1/ VPSORG_API_TOKEN=vpsorg-demo-token"
        in text.splitlines()
    )
    # A token with shell metacharacters is quoted so the line still pastes.
    assert "VPSORG_API_TOKEN='a b$c'" in banner("http://127.0.0.1:1/api/v1/", "a b$c")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_simulator_serves_the_cli_until_ctrl_c() -> None:
    """Both sides as real processes: the simulator, then a command talking to it."""
    module = [sys.executable, "-m", "vpsorg.cli"]
    command = [*module, "simulator", "--port", "0", "--token", "sub-token"]
    with Watched(command, watch="stdout") as server:
        url = server.wait_for(URL_LINE).group(1)
        export = server.wait_for(r"^  export ").string.strip()
        assert export == f"export VPSORG_BASE_URL={url} VPSORG_API_TOKEN=sub-token"
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
