"""Fixtures for the command line's tests: a simulator per test and a way to run ``vpsorg``.

In-process runs use click's CliRunner (stdout and stderr are not terminals there, so the
default output is JSON and progress bars are hidden). Subprocess runs use the installed
``vpsorg`` script or ``python -m vpsorg.cli``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pytest
from click.testing import CliRunner, Result

from vpsorg.cli import cli
from vpsorg.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]

#: Variables that must not leak from the developer's shell into a test.
_CLEARED = (
    "VPSORG_API_TOKEN",
    "VPSORG_BASE_URL",
    "VPSORG_RATE_LIMIT",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
)

Invoke = Callable[..., Result]


@pytest.fixture
def sim(vpsorg_simulator: Simulator) -> Simulator:
    """A fresh simulator (from the vpsorg pytest plugin): two sample servers, short delays."""
    return vpsorg_simulator


@pytest.fixture
def run_cli() -> Invoke:
    """Run ``vpsorg ARGS...`` in process, exactly as given (no connection options)."""
    runner = CliRunner(env=dict.fromkeys(_CLEARED))

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def vpsorg(sim: Simulator, run_cli: Invoke) -> Invoke:
    """Run ``vpsorg --base-url <sim> --token <token> ARGS...`` in process."""

    def invoke(*args: str, input: str | None = None) -> Result:
        return run_cli("--base-url", sim.base_url, "--token", sim.token, *args, input=input)

    return invoke


def parse(result: Result) -> Any:
    """The JSON a command printed on stdout."""
    return json.loads(result.stdout)


def status_of(sim: Simulator, server_id: int) -> str | None:
    """A server's status as the simulator sees it now, or None when it does not exist."""
    for server in sim.servers():
        if server["id"] == server_id:
            return str(server["status"])
    return None


def subprocess_env() -> dict[str, str]:
    """The environment for a ``vpsorg`` subprocess: this checkout, no stray settings."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONWARNINGS"] = "error::ResourceWarning"
    return env


@pytest.fixture
def script() -> list[str]:
    """The command that runs the installed ``vpsorg`` console script of this venv."""
    path = Path(sys.executable).with_name("vpsorg")
    if not path.exists():
        pytest.skip("the vpsorg console script is not installed in this environment")
    return [str(path)]


class Watched:
    """A process whose stdout or stderr is read line by line on a thread, as it comes.

    Use it as a context manager: leaving the block kills the process if it is still
    running (after a failed assertion), reaps it and closes its pipes.
    """

    def __init__(
        self,
        command: list[str],
        *,
        watch: str = "stderr",
        cwd: Path = REPO,
        env: dict[str, str] | None = None,
    ) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=subprocess_env() if env is None else env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        source = self.process.stderr if watch == "stderr" else self.process.stdout
        assert source is not None
        self._reader = threading.Thread(target=self._pump, args=(source,), daemon=True)
        self._reader.start()

    def _pump(self, source: IO[str]) -> None:
        for line in source:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, pattern: str) -> re.Match[str]:
        """Read lines until one matches ``pattern``; each must come within 30 seconds."""
        while True:
            line = self._lines.get(timeout=30)
            assert line is not None, f"the process ended first:\n{''.join(self.seen)}"
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match

    def finish(self) -> tuple[int, str]:
        """Wait for the process to exit; return its exit code and every watched line."""
        code = self.process.wait(timeout=30)
        while (line := self._lines.get(timeout=30)) is not None:
            self.seen.append(line)
        return code, "".join(self.seen)

    def __enter__(self) -> Watched:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        self.process.__exit__(exc_type, exc, tb)
