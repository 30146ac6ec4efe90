"""The distributions as users get them: built, checked, installed in a fresh venv, run.

The wheel and the sdist are built once per run (``python -m build``, which builds the
wheel from the sdist, so a file missing from the sdist breaks the wheel; or
``pip wheel`` when ``build`` is not installed). The wheel is then installed with its
``cli`` extra into a new virtual environment, dependencies coming from PyPI, and used
there from outside the source tree: ``import vpsorg``, the ``vpsorg`` command, the
simulator as a process stopped with Ctrl-C, and the blocking client against it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import tarfile
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from vpsorg._version import __version__

pytestmark = [pytest.mark.release, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
VERSION = __version__  # the one source of the version, which the build reads
WINDOWS = sys.platform == "win32"


@attrs.frozen
class Dist:
    wheel: Path
    sdist: Path | None


def _run(command: list[str], *, timeout: float, cwd: Path | None = None) -> str:
    """Run a command; fail the test with its output when it fails."""
    done = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}\n{output}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    # Without network-free hatchling here, the build frontend fetches it from PyPI.
    isolation = importlib.util.find_spec("hatchling") is None
    if importlib.util.find_spec("build") is not None:
        command = [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)]
        if not isolation:
            command.insert(3, "--no-isolation")
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)]
        if not isolation:
            command.append("--no-build-isolation")
    _run(command, timeout=300)
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return Dist(wheels[0], next(out.glob("*.tar.gz"), None))


@pytest.fixture(scope="module")
def venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and its ``cli`` extra installed."""
    home = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(home)], timeout=120)
    python = _bin(home, "python")
    _run([str(python), "-m", "pip", "install", "-q", f"{dist.wheel}[cli]"], timeout=300)
    return home


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin") / (f"{name}.exe" if WINDOWS else name)


def test_wheel_and_sdist_pass_twine_check(dist: Dist) -> None:
    if dist.sdist is None:
        pytest.skip("no sdist: the 'build' package is not installed")
    if importlib.util.find_spec("twine") is None:
        pytest.skip("twine is not installed (it comes with the dev extra)")
    _run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.wheel), str(dist.sdist)],
        timeout=120,
    )


def test_the_wheel_has_the_metadata_and_files_it_promises(dist: Dist) -> None:
    assert dist.wheel.name.startswith(f"vpsorg-{VERSION}-")
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        info = f"vpsorg-{VERSION}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    for required in (
        "vpsorg/__init__.py",
        "vpsorg/py.typed",
        "vpsorg/_sync/_client.py",
        "vpsorg/cli/__init__.py",
        "vpsorg/simulator/openapi.json",
        "vpsorg/simulator/pytest_plugin.py",
    ):
        assert required in names, f"{required} is missing from the wheel"
    assert any(n.startswith(f"{info}/licenses/") and n.endswith("LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
    assert f"Version: {VERSION}" in metadata
    assert "License-Expression: MIT" in metadata
    assert "Requires-Python: >=3.10" in metadata
    for extra in ("cli", "speedups", "dev", "docs"):
        assert f"Provides-Extra: {extra}" in metadata
    # The blocking client's loop thread runs on uvloop wherever it installs (issue 23).
    [uvloop] = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: uvloop")]
    assert "extra ==" not in uvloop and "sys_platform != " in uvloop and "win32" in uvloop
    assert "Project-URL: Documentation" in metadata
    assert "vpsorg = vpsorg.cli:main" in entry_points
    assert "vpsorg = vpsorg.simulator.pytest_plugin" in entry_points


def test_the_sdist_can_run_its_own_tests(dist: Dist) -> None:
    if dist.sdist is None:
        pytest.skip("no sdist: the 'build' package is not installed")
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for required in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "vpsorg/py.typed"):
        assert required in names, f"{required} is missing from the sdist"
    # The sdist ships the tests, and tests/docs runs the examples of docs/.
    assert "tests/docs/test_examples.py" in names
    assert "docs/index.md" in names, "the sdist ships tests/docs but not the docs/ they run"


def test_the_installed_wheel_imports_and_runs(venv: Path, tmp_path: Path) -> None:
    python = str(_bin(venv, "python"))
    # Run from an empty directory, so nothing can be imported from the source tree.
    code = (
        "import json, vpsorg, vpsorg.cli, vpsorg.simulator;"
        "print(json.dumps([vpsorg.__version__, vpsorg.__file__, vpsorg.Client.__name__]))"
    )
    version, location, client = json.loads(_run([python, "-c", code], cwd=tmp_path, timeout=60))
    assert version == VERSION
    assert Path(location).resolve().is_relative_to(venv.resolve()), location
    assert client == "Client"

    usage = _run([str(_bin(venv, "vpsorg")), "--help"], cwd=tmp_path, timeout=60)
    assert "servers" in usage and "simulator" in usage and "demo" in usage
    assert VERSION in _run([str(_bin(venv, "vpsorg")), "--version"], cwd=tmp_path, timeout=60)


@pytest.mark.skipif(WINDOWS, reason="stopping with SIGINT is POSIX; Windows uses Ctrl-C events")
def test_the_installed_simulator_serves_and_stops_on_ctrl_c(venv: Path, tmp_path: Path) -> None:
    python = str(_bin(venv, "python"))
    process = subprocess.Popen(
        [python, "-m", "vpsorg.simulator", "--port", "0", "--provision-delay", "0.1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _lines(process)
        first = lines.get(timeout=60)
        match = re.search(r"running at (http://\S+)", first)
        assert match, first
        base_url = match.group(1)
        assert lines.get(timeout=10).strip() == "Token: vpsorg-demo-token"

        request = urllib.request.Request(
            base_url + "servers/", headers={"Authorization": "Bearer vpsorg-demo-token"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["count"] == 2

        # The installed blocking client against the installed simulator.
        code = (
            "import sys, vpsorg\n"
            "with vpsorg.Client(token='vpsorg-demo-token', base_url=sys.argv[1]) as c:\n"
            "    s = c.servers.create(name='from-wheel', plan_id=1, os_id=5,"
            " location='us-west', wait=True)\n"
            "    print(s.status, len(c.servers.list().to_list()))\n"
        )
        assert _run([python, "-c", code, base_url], cwd=tmp_path, timeout=60).split() == [
            "active",
            "3",
        ]

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        rest = []
        while not lines.empty():
            rest.append(lines.get_nowait())
        assert "Simulator stopped." in "".join(rest)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _otel_page() -> tuple[list[str], str]:
    """The packages docs/observability.md says to install, and its OpenTelemetry example."""
    text = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    section = text[text.index("## OpenTelemetry") :]
    install = re.search(r"```sh\npip install (.*)\n```", section)
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert install and example, "the OpenTelemetry section lost its install line or example"
    return shlex.split(install.group(1)), example.group(1)


@pytest.mark.skipif(WINDOWS, reason="stopping with SIGINT is POSIX; Windows uses Ctrl-C events")
def test_the_opentelemetry_example_runs_with_what_its_page_installs(
    dist: Dist, tmp_path: Path
) -> None:
    """A venv with exactly the page's install line (the wheel standing in for the git URL)."""
    packages, example = _otel_page()
    assert packages[0].startswith("vpsorg[otel]"), packages
    home = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(home)], timeout=120)
    python = str(_bin(home, "python"))
    _run([python, "-m", "pip", "install", "-q", f"{dist.wheel}[otel]", *packages[1:]], timeout=300)
    (tmp_path / "example.py").write_text(example, encoding="utf-8")
    process = subprocess.Popen(
        [python, "-m", "vpsorg.simulator", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        match = re.search(r"running at (http://\S+)", _lines(process).get(timeout=60))
        assert match
        env = {**os.environ, "VPSORG_API_TOKEN": "vpsorg-demo-token", "VPSORG_BASE_URL": match[1]}
        done = subprocess.run(
            [python, "example.py"], cwd=tmp_path, env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:].decode(errors="replace")
        assert done.stdout.decode().splitlines() == [
            "GET /servers/{id}/ CLIENT 200",
            "GET /servers/{id}/ INTERNAL 200",
        ]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """Every line the process prints, as it prints them (read in a daemon thread)."""
    found: queue.Queue[str] = queue.Queue()
    stream = process.stdout
    assert stream is not None

    def read() -> None:
        for line in iter(stream.readline, ""):
            found.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _READERS.append(reader)
    return found


_READERS: list[threading.Thread] = []


@pytest.fixture(autouse=True)
def _join_readers() -> Iterator[None]:
    yield
    while _READERS:
        _READERS.pop().join(timeout=10)
