"""Every recipe of docs/distributed-workers.md that names a file runs, as that file.

Each ```python title="NAME.py"``` block (see :data:`tests.docs.test_examples.SCRIPTS`)
is saved as ``NAME.py`` in a fresh directory and run the way its section says, in
processes of its own, against a simulator: the spawn ``Pool`` script and the Dask
script with ``python NAME.py``; the Celery tasks module by a real prefork worker on a
real Redis broker, fed by a producer process; the Flask app by ``gunicorn --preload``.
A ``print(...)  # text`` line promises output, as in test_examples.

Every vpsorg client opened and closed in those processes is recorded (a
``sitecustomize`` module on their ``PYTHONPATH`` wraps ``vpsorg.Client``), so the tests
also check that each worker process closes the client it used: a recipe whose cleanup
never runs fails here.

Celery, Dask, Flask and gunicorn come with the test-only ``recipes`` extra
(``pip install -e ".[recipes]"``, which .ci/run installs); Celery also needs
``redis-server`` on PATH. A test whose engine is missing is skipped, saying which.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Watched
from vpsorg.simulator import Simulator, serve_in_thread

from .test_examples import PROMISE, SCRIPTS

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(sys.platform == "win32", reason="the recipes use POSIX signals"),
]

ROOT = Path(__file__).resolve().parents[2]
PAGE = "docs/distributed-workers.md"
#: Seconds a recipe's program or the producer may take.
STEP = 90

SITECUSTOMIZE = """
import os

if os.environ.get("VPSORG_RECIPE_LOG"):
    import vpsorg

    def _record(event):
        with open(os.environ["VPSORG_RECIPE_LOG"], "a") as log:
            log.write(f"{event} {os.getpid()}\\n")

    _init, _close = vpsorg.Client.__init__, vpsorg.Client.close

    def __init__(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        _record("open")

    def close(self):
        _record("close")
        _close(self)

    vpsorg.Client.__init__, vpsorg.Client.close = __init__, close
"""


def _recipe(file: str) -> str:
    found = [code for where, name, code in SCRIPTS if where.startswith(PAGE) and name == file]
    assert len(found) == 1, f"{PAGE} should have one block titled {file!r}"
    return found[0]


def _needs(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: pip install -e '.[recipes]'")


class Recipe:
    """A recipe saved in its own directory, with what its processes need to run it."""

    def __init__(self, directory: Path, sim: Simulator, file: str) -> None:
        self.directory = directory
        self.code = _recipe(file)
        self.file = file
        (directory / file).write_text(self.code, encoding="utf-8")
        hooks = directory / "hooks"
        hooks.mkdir()
        (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        self.log = directory / "clients.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("VPSORG_", "CELERY_"))},
            "PYTHONPATH": os.pathsep.join([str(hooks), str(directory), str(ROOT)]),
            "VPSORG_API_TOKEN": sim.token,
            "VPSORG_BASE_URL": sim.base_url,
            "VPSORG_RECIPE_LOG": str(self.log),
        }

    def clients(self) -> dict[str, list[int]]:
        """The pids that opened a client and that closed one, in order."""
        events: dict[str, list[int]] = {"open": [], "close": []}
        text = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
        for line in text.splitlines():
            event, pid = line.split()
            events[event].append(int(pid))
        return events

    def check_promises(self, out: str) -> None:
        for promised in PROMISE.findall(self.code):
            assert promised.strip() in out, f"{self.file}: expected {promised!r} in:\n{out}"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with serve_in_thread(port=0, provision_delay=0.05, action_delay=0.05) as simulator:
        yield simulator


def _watched(command: list[str], recipe: Recipe) -> Watched:
    """``command`` run in the recipe's directory and environment, its stderr watched."""
    return Watched(command, cwd=recipe.directory, env=recipe.env)


def _run(recipe: Recipe) -> str:
    """``python NAME.py``; what it printed, after checking it exited 0."""
    done = subprocess.run(
        [sys.executable, recipe.file],
        cwd=recipe.directory,
        env=recipe.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STEP * 2,
    )
    assert done.returncode == 0, f"{recipe.file} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _assert_each_worker_closed_its_client(events: dict[str, list[int]], workers: int) -> None:
    opened, closed = events["open"], events["close"]
    assert len(set(opened)) == workers, events  # one client per worker process
    assert sorted(closed) == sorted(opened), events  # each closed by the process that made it
    assert os.getpid() not in opened


def test_every_titled_recipe_of_the_page_is_run_here() -> None:
    titled = sorted(name for where, name, _ in SCRIPTS if where.startswith(PAGE))
    assert titled == ["app.py", "dask_fleet.py", "spawn_pool.py", "tasks.py"]


def test_the_spawn_pool_recipe(tmp_path: Path, sim: Simulator) -> None:
    recipe = Recipe(tmp_path, sim, "spawn_pool.py")
    out = _run(recipe)
    recipe.check_promises(out)
    _assert_each_worker_closed_its_client(recipe.clients(), workers=2)
    assert sim.request_counts["GET /api/v1/servers/{id}/"] == 2


def test_the_dask_recipe(tmp_path: Path, sim: Simulator) -> None:
    _needs("dask", "distributed")
    recipe = Recipe(tmp_path, sim, "dask_fleet.py")
    out = _run(recipe)
    recipe.check_promises(out)
    # The plugin's setup ran in each of the 2 workers, and its teardown closed the client.
    _assert_each_worker_closed_its_client(recipe.clients(), workers=2)
    assert sim.request_counts["GET /api/v1/servers/{id}/"] == 2


@pytest.fixture
def redis_socket(tmp_path: Path) -> Iterator[Path]:
    """A redis-server of this test's own, on a Unix socket in ``tmp_path`` (no TCP)."""
    _needs("celery", "redis")
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("needs redis-server on PATH for Celery's broker (apt-get install redis-server)")
    socket = tmp_path / "redis.sock"
    command = [server, "--port", "0", "--unixsocket", str(socket)]
    command += ["--save", "", "--appendonly", "no"]
    with Watched(command, watch="stdout", cwd=tmp_path, env=dict(os.environ)) as redis:
        redis.wait_for(r"(?i)ready to accept connections")
        yield socket
        redis.process.terminate()
        assert redis.finish()[0] == 0


PRODUCE = """
from tasks import reboot

results = [reboot.delay(server_id) for server_id in (12345, 12346)]
print(sorted(result.get(timeout=60) for result in results))
"""


def test_the_celery_recipe(tmp_path: Path, sim: Simulator, redis_socket: Path) -> None:
    (tmp_path / "app").mkdir()  # apart from the broker's socket
    recipe = Recipe(tmp_path / "app", sim, "tasks.py")
    url = f"redis+socket://{redis_socket}"
    recipe.env |= {"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url}
    worker = [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--concurrency", "2"]
    worker += ["--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    with _watched(worker, recipe) as celery:
        celery.wait_for(r"celery@\S+ ready\.")
        produced = subprocess.run(
            [sys.executable, "-c", PRODUCE],
            cwd=recipe.directory,
            env=recipe.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=STEP,
        )
        assert produced.returncode == 0, produced.stderr
        assert produced.stdout.strip() == "['rebooting', 'rebooting']"
        celery.process.send_signal(signal.SIGTERM)  # a warm shutdown, as supervisors do
        code, output = celery.finish()
        assert code == 0, output
    assert sim.request_counts["POST /api/v1/servers/{id}/reboot/"] == 2
    events = recipe.clients()
    main = celery.process.pid
    assert main in events["open"]  # the module-level client, made once in the main process
    # Each forked worker process closed its inherited client at shutdown.
    children = [pid for pid in events["close"] if pid != main]
    assert len(set(children)) == 2, (events, output)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=STEP) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_the_gunicorn_recipe(tmp_path: Path, sim: Simulator) -> None:
    _needs("flask", "gunicorn")
    recipe = Recipe(tmp_path, sim, "app.py")
    command = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "2"]
    command += ["--bind", "127.0.0.1:0", "app:app"]
    with _watched(command, recipe) as gunicorn:
        base = gunicorn.wait_for(r"Listening at: (http://127\.0\.0\.1:\d+)").group(1)
        for _ in range(2):
            gunicorn.wait_for(r"Booting worker with pid")
        answers = [_get_json(f"{base}/servers/{i}") for i in (12345, 12346, 12345, 12346)]
        gunicorn.process.send_signal(signal.SIGTERM)
        code, output = gunicorn.finish()
    assert code == 0, output
    assert (
        answers
        == [
            {"name": "web-server-01", "status": "active"},
            {"name": "db-server-01", "status": "active"},
        ]
        * 2
    )
    # --preload: the client is made once, in the master, and inherited by each worker.
    assert recipe.clients()["open"] == [gunicorn.process.pid]
