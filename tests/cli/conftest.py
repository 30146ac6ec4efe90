"""Fixtures for the command line's tests: a simulator per test and a way to run ``vpsorg``.

In-process runs use click's CliRunner (stdout and stderr are not terminals there, so the
default output is JSON and progress bars are hidden). Subprocess runs use the installed
``vpsorg`` script or ``python -m vpsorg.cli``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpsorg.cli import cli
from vpsorg.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]

#: Variables that must not leak from the developer's shell into a test.
_CLEARED = ("VPSORG_API_TOKEN", "VPSORG_BASE_URL", "FORCE_COLOR", "TTY_COMPATIBLE")

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
