"""The server under test: the bundled simulator, in its own process, on loopback only.

:class:`SimulatorProcess` starts ``python -m vpsorg.simulator`` on ``127.0.0.1`` with
port 0 (the kernel picks a free one), reads the base URL it prints, creates servers so
that full 50-server list pages exist, and stops it with SIGTERM.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

__all__ = ["SimulatorProcess", "exit_on_sigterm"]

TOKEN = "bench-token"
PAGE_SIZE = 50
_URL_LINE = re.compile(r"running at (http://127\.0\.0\.1:\d+/api/v1/)")
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0
_SAMPLE_SERVERS = (12345, 12346)  # the two servers the simulator starts with


class SimulatorProcess:
    """The simulator in a child process; use it as a context manager.

    Attributes:
        base_url: ``http://127.0.0.1:PORT/api/v1/`` once started.
        pid: the child's process id (to measure its CPU).
        server_ids: every server id it holds after :meth:`seed`.
    """

    def __init__(
        self, *, token: str = TOKEN, page_size: int = PAGE_SIZE, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.token = token
        self.page_size = page_size
        #: More simulator options (the rate-limit benchmark's ``--rate-limit 50``).
        self.extra_args = extra_args
        self.base_url = ""
        self.server_ids: list[int] = list(_SAMPLE_SERVERS)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="vpsorg-bench-sim-", suffix=".log")  # noqa: SIM115 - closed in stop()

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._proc is None:
            raise RuntimeError("the simulator is not running")
        return self._proc.pid

    @property
    def command(self) -> list[str]:
        """The command line that starts it (shown in the benchmark's output)."""
        return [
            sys.executable,
            "-m",
            "vpsorg.simulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--token",
            self.token,
            "--page-size",
            str(self.page_size),
            "--provision-delay",
            "0",
            "--action-delay",
            "0",
            *self.extra_args,
        ]

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the child and wait (at most 30 s) until it prints its base URL."""
        # Its stdout goes to a file, not a pipe, so a chatty child can never block on a
        # full pipe while the benchmark is busy measuring.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VPSORG_")}
        self._proc = subprocess.Popen(
            self.command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            match = _URL_LINE.search(Path(self._log.name).read_text(errors="replace"))
            if match:
                self.base_url = match.group(1)
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        output = Path(self._log.name).read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"the simulator did not start:\n{output}")

    def seed(self, total: int) -> None:
        """Create servers until there are ``total`` (one POST each, at most ``total``)."""
        url = self.base_url + "servers/"
        headers = {"Authorization": f"Bearer {self.token}"}
        body = {"plan_id": 1, "os_id": 5, "location": "us-west"}
        with requests.Session() as session:
            for index in range(len(self.server_ids), total):
                response = session.post(
                    url, json={**body, "name": f"bench-{index:05d}"}, headers=headers, timeout=10
                )
                response.raise_for_status()
                self.server_ids.append(int(response.json()["id"]))

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(_STOP_TIMEOUT)
        self._log.close()


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into ``SystemExit``, so ``with SimulatorProcess()`` still stops the child.

    Without it, SIGTERM (a CI timeout, an interrupted nox) ends Python without unwinding
    and leaves the simulator running.
    """
    signal.signal(signal.SIGTERM, _raise_exit)
