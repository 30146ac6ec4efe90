"""Ctrl-C during a blocking call: the request is cancelled, nothing hangs or leaks.

The slow server sets ``arrived`` when the request reaches it, so SIGINT is sent while the
call is surely in flight, and ``cancelled`` when the client drops the connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import vpsorg

from .slow_server import slow_server

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[2]
#: Far less than the slow server's hold time (60 s): an exit within it is "prompt".
PROMPT = 10.0

#: Printed to stderr when something was left unclosed or unfinished.
COMPLAINTS = (
    "Unclosed",
    "ResourceWarning",
    "Task was destroyed",
    "never awaited",
    "Exception ignored",
    "Task exception was never retrieved",
)

CHILD_WITH_BLOCK = """
    import sys, threading, vpsorg

    try:
        with vpsorg.Client(token="t", base_url=sys.argv[1]) as client:
            print("calling", flush=True)
            client.servers.get(12345)
    except KeyboardInterrupt:
        others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        print("interrupted; other threads:", others, flush=True)
        sys.exit(3)
"""

CHILD_NO_CLOSE = """
    import sys, vpsorg

    client = vpsorg.Client(token="t", base_url=sys.argv[1])
    print("calling", flush=True)
    client.servers.get(12345)  # KeyboardInterrupt escapes; the client is closed at exit
"""


def test_keyboard_interrupt_cancels_the_call_in_flight() -> None:
    main = threading.main_thread()
    assert threading.current_thread() is main
    with slow_server() as slow:
        client = vpsorg.Client(token="t", base_url=slow.base_url)

        def interrupt() -> None:
            if slow.arrived.wait(10):
                signal.pthread_kill(main.ident or 0, signal.SIGINT)

        sender = threading.Thread(target=interrupt)
        sender.start()
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.servers.get(12345)
            assert time.monotonic() - started < PROMPT
            sender.join(10)
            assert slow.cancelled.wait(10)  # the request's connection was dropped
            assert not client._runner._calls  # nothing left waiting in the loop
            # The client still works after an interrupted call (the list route is
            # not served here, so a working call is one that gets the 404).
            with pytest.raises(vpsorg.NotFoundError):
                client.servers.list().to_list()
        finally:
            client.close()
    assert not client._runner._thread.is_alive()


def _run_child(source: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(source))
    with slow_server() as slow:
        child = subprocess.Popen(
            [sys.executable, "-X", "dev", str(script), slow.base_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "calling"
            assert slow.arrived.wait(30), "the child's request never arrived"
            child.send_signal(signal.SIGINT)
            started = time.monotonic()
            out, err = child.communicate(timeout=PROMPT)
            elapsed = time.monotonic() - started
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
        assert slow.cancelled.wait(10), "the child's connection stayed open"
    return subprocess.CompletedProcess(child.args, child.returncode, out, err), elapsed


def test_sigint_in_a_script_exits_promptly_and_closes_cleanly(tmp_path: Path) -> None:
    done, elapsed = _run_child(CHILD_WITH_BLOCK, tmp_path)
    assert elapsed < PROMPT
    assert done.returncode == 3, done.stderr
    assert "interrupted; other threads: []" in done.stdout  # the loop thread was joined
    for complaint in COMPLAINTS:
        assert complaint not in done.stderr, done.stderr


def test_sigint_with_an_unclosed_client_still_exits_cleanly(tmp_path: Path) -> None:
    done, elapsed = _run_child(CHILD_NO_CLOSE, tmp_path)
    assert elapsed < PROMPT
    assert done.returncode != 0
    assert "KeyboardInterrupt" in done.stderr
    for complaint in COMPLAINTS:
        assert complaint not in done.stderr, done.stderr
