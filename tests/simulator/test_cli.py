"""``python -m vpsorg.simulator`` as a real process, and its parser and main()."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from vpsorg.simulator import DEMO_TOKEN, serve_in_thread
from vpsorg.simulator.__main__ import build_parser, main

REPO = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/api/v1/)")


def _start(*args: str) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "vpsorg.simulator", "--port", "0", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def _read_banner(lines: queue.Queue[str]) -> tuple[str, str]:
    url = token = None
    for _ in range(10):
        line = lines.get(timeout=15)
        if match := URL_LINE.search(line):
            url = match.group(1)
        if line.startswith("Token: "):
            token = line.removeprefix("Token: ").strip()
        if url and token:
            return url, token
    raise AssertionError("the simulator never printed its URL and token")


def _list_servers(url: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(url + "servers/", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return dict(json.loads(response.read()))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_runs_prints_url_and_stops_cleanly(signum: int) -> None:
    process, lines = _start("--token", "cli-token", "--provision-delay", "0.1")
    try:
        url, token = _read_banner(lines)
        assert token == "cli-token"
        assert _list_servers(url, token)["count"] == 2
        process.send_signal(signum)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.stdout is not None
    process.stdout.close()
    assert "Traceback" not in stderr
    assert stderr.strip() == ""


def test_parser_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.token) == ("127.0.0.1", 8080, DEMO_TOKEN)
    assert (args.provision_delay, args.action_delay) == (3.0, 1.0)
    assert (args.credits, args.seed, args.page_size) == (None, None, 20)
    assert args.rate_limit is None


def test_parser_accepts_every_fault_option() -> None:
    args = build_parser().parse_args(
        [
            "--latency=0.1",
            "--latency-jitter=0.2",
            "--error-rate-500=0.1",
            "--error-rate-503=0.1",
            "--drop-rate=0.05",
            "--rate-limit=50",
            "--burst=10",
            "--after-action-ratio=0.3",
            "--credits=3",
            "--seed=7",
            "--page-size=5",
        ]
    )
    assert args.drop_rate == 0.05
    assert args.rate_limit == 50.0


BAD_OPTIONS = [
    ["--error-rate-500", "2"],
    ["--page-size", "0"],
    ["--credits", "-1"],
    ["--port", "70000"],
    ["--rate-limit", "0"],
    ["--latency", "nan"],
    ["--error-rate-500", "0.6", "--drop-rate", "0.6"],
]


@pytest.mark.parametrize("argv", BAD_OPTIONS)
def test_bad_options_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert "error" in capsys.readouterr().err


def test_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread() as sim:
        assert main(["--port", str(sim.port)]) == 1
    assert "cannot listen" in capsys.readouterr().err


@pytest.mark.parametrize("argv", BAD_OPTIONS)
def test_both_command_lines_refuse_the_same_options(argv: list[str]) -> None:
    """``vpsorg simulator`` (click) and ``python -m`` (argparse) share one option table."""
    pytest.importorskip("click")
    from click.testing import CliRunner

    from vpsorg.cli import cli

    # Through the whole command line: it sets -h as a help option too.
    result = CliRunner().invoke(cli, ["simulator", *argv])
    assert result.exit_code == 2, result.output


def test_both_command_lines_offer_the_same_options_and_defaults() -> None:
    pytest.importorskip("click")
    from vpsorg.cli._simulator import simulator

    parser = build_parser()
    argparse_defaults = {a.dest: a.default for a in parser._actions if a.dest != "help"}
    click_defaults = {p.name: p.default for p in simulator.params if p.name != "help"}
    assert click_defaults == argparse_defaults
    assert len(argparse_defaults) == 17


def test_python_m_runs_without_click() -> None:
    """click comes only with the cli extra; the simulator's own command line needs none."""
    code = (
        "import sys; sys.modules['click'] = None; "
        "from vpsorg.simulator.__main__ import main; main(['--help'])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--after-action-ratio FRACTION" in done.stdout
