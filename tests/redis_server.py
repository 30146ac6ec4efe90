"""A real ``redis-server`` for the shared rate-limit tests: loopback, a free port, no disk.

The server comes from ``PATH`` (``.ci/run`` installs one when it runs as root and none is
there). Where there is none, the tests that need it skip and say why.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MISSING_REASON", "redis_server"]

#: Why the Redis tests skip on a machine without redis-server.
MISSING_REASON = (
    "redis-server is not on PATH: the shared rate-limit tests need a real one "
    "(apt-get install redis-server; .ci/run installs it when run as root)"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Start ``redis-server`` on 127.0.0.1 and yield its URL; stopped at the end.

    Raises:
        LookupError: no redis-server on PATH (see ``MISSING_REASON``).
        RuntimeError: it did not answer PING within 10 seconds.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise LookupError(MISSING_REASON)
    with tempfile.TemporaryDirectory(prefix="vpsorg-redis-") as directory:
        for _ in range(5):  # bounded: a port taken meanwhile by another process
            port = _free_port()
            process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", directory, "--protected-mode", "yes"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(port):
                    break
                time.sleep(0.02)  # polling a subprocess's readiness, not synchronising
            if process.poll() is None and _answers(port):
                break
            process.kill()
            process.wait()
        else:
            raise RuntimeError("redis-server did not start on 127.0.0.1")
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
