"""The pytest plugin, exercised in a throwaway project run by a real pytest subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "vpsorg.simulator.pytest_plugin"

CONFTEST = """
import pytest


@pytest.fixture
def vpsorg_simulator_options():
    return {"credits": 1, "page_size": 1}
"""

TESTS = """
import json
import urllib.request


def _get(sim, path):
    request = urllib.request.Request(
        sim.base_url + path, headers={"Authorization": "Bearer " + sim.token}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_simulator_fixture(vpsorg_simulator):
    body = _get(vpsorg_simulator, "servers/")
    assert body["count"] == 2
    assert len(body["results"]) == 1  # page_size from vpsorg_simulator_options
    assert vpsorg_simulator.credits == 1


def test_each_test_gets_a_fresh_simulator(vpsorg_simulator):
    assert vpsorg_simulator.request_count == 0
    vpsorg_simulator.suspend(12345)
    assert _get(vpsorg_simulator, "servers/12345/")["status"] == "suspended"


def test_quick_delays_by_default(vpsorg_simulator):
    import time

    data = json.dumps({"name": "q", "plan_id": 1, "os_id": 5, "location": "us-west"}).encode()
    request = urllib.request.Request(
        vpsorg_simulator.base_url + "servers/",
        data=data,
        method="POST",
        headers={
            "Authorization": "Bearer " + vpsorg_simulator.token,
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        server_id = json.loads(response.read())["id"]
    deadline = time.monotonic() + 5
    for _ in range(500):
        if _get(vpsorg_simulator, f"servers/{server_id}/")["status"] == "active":
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    else:
        raise AssertionError("never became active")
"""

CLIENT_TESTS = """
import pytest
import vpsorg


@pytest.mark.skipif(not hasattr(vpsorg, "AsyncClient"), reason="no vpsorg.AsyncClient yet")
async def test_async_client_fixture(vpsorg_async_client, vpsorg_simulator):
    assert vpsorg_async_client is not None


@pytest.mark.skipif(not hasattr(vpsorg, "Client"), reason="no vpsorg.Client yet")
def test_client_fixture(vpsorg_client, vpsorg_simulator):
    assert vpsorg_client is not None
"""


def _plugin_args() -> list[str]:
    registered = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", PLUGIN]


def _write_project(root: Path, *, with_clients: bool) -> None:
    (root / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (root / "test_with_simulator.py").write_text(textwrap.dedent(TESTS))
    if with_clients:
        (root / "test_clients.py").write_text(textwrap.dedent(CLIENT_TESTS))
    (root / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings =\n    error::ResourceWarning\n"
    )


def _run_pytest(
    root: Path, *prefix: str, extra: tuple[str, ...] = (), autoload: bool = True
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [
        sys.executable,
        *prefix,
        *(_plugin_args() if autoload else ["-p", PLUGIN]),
        "-p",
        "no:cacheprovider",
        "-q",
        "-rs",
        *extra,
        str(root),
    ]
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_fixtures_in_a_throwaway_project(tmp_path: Path) -> None:
    _write_project(tmp_path, with_clients=True)
    result = _run_pytest(tmp_path, "-m", "pytest")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, result.stdout
    # The three simulator tests, plus whichever client fixtures vpsorg provides by now.
    assert int(passed.group(1)) >= 3, result.stdout
    assert "failed" not in summary and "error" not in summary, result.stdout


def test_plugin_without_pytest_asyncio(tmp_path: Path) -> None:
    _write_project(tmp_path, with_clients=False)
    # Hide pytest-asyncio entirely: no plugin autoloading (so it is not loaded, nor
    # marked for assertion rewriting) and its import fails; only our plugin is named.
    hide = textwrap.dedent(
        """
        import sys

        class HidePytestAsyncio:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "pytest_asyncio":
                    raise ImportError(name)

        sys.meta_path.insert(0, HidePytestAsyncio())
        import pytest

        sys.exit(pytest.main(sys.argv[1:]))
        """
    )
    result = _run_pytest(tmp_path, "-c", hide, autoload=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    fixtures = _run_pytest(tmp_path, "-c", hide, extra=("--fixtures",), autoload=False)
    assert "vpsorg_simulator" in fixtures.stdout
    assert "vpsorg_async_client" not in fixtures.stdout


def test_plugin_imports_cheaply() -> None:
    code = (
        f"import sys, {PLUGIN}; "
        "loaded = [m for m in ('vpsorg.simulator._server', 'aiohttp.web') if m in sys.modules]; "
        "print(loaded); sys.exit(1 if 'vpsorg.simulator._server' in loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["vpsorg_simulator", "vpsorg_simulator_options", "vpsorg_client"])
def test_fixture_names(name: str) -> None:
    import vpsorg.simulator.pytest_plugin as plugin

    assert hasattr(plugin, name)
    assert hasattr(plugin, "vpsorg_async_client")
