"""Fork safety: a client created before ``os.fork()`` works in the child, on its own loop
thread and connections, and the parent's client keeps working afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable

import pytest

import vpsorg
from vpsorg._runtime import LoopThread
from vpsorg.simulator import Simulator

from .conftest import FAST

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # Python 3.12+ warns that forking a multi-threaded process may deadlock the child:
    # that risk is what these tests show the client handles.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

#: Seconds a child may take before it is killed and the test fails.
CHILD_TIMEOUT = 30.0


def session_of(client: vpsorg.AsyncClient) -> object:
    """The aiohttp session under an async client's transport (None before a request)."""
    return getattr(client._pipeline.transport, "_session", None)


def in_child(body: Callable[[], int]) -> int:
    """Run ``body`` in a forked child and return its exit status (killed after a bound).

    The child leaves with ``os._exit``, as multiprocessing's and Celery's workers do, so
    nothing of the parent's test session runs in it.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child
        status = 70
        try:
            status = body()
        except BaseException as exc:
            os.write(2, f"child failed: {exc!r}\n".encode())
        finally:
            os._exit(status)
    deadline = time.monotonic() + CHILD_TIMEOUT
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(wait_status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the forked child did not finish within {CHILD_TIMEOUT} s (it hung)")
        time.sleep(0.01)  # polling a child process's exit, not synchronising threads


def test_a_blocking_client_made_before_fork_works_in_the_child(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url, retry=FAST)
    try:
        parent_thread = client._runner._thread
        assert client.servers.get(12345).name == "web-server-01"  # the pool has a socket
        before = sim.request_count

        def child() -> int:
            server = client.servers.get(12346)
            names = {s.name for s in client.servers.list()}
            if server.name != "db-server-01" or "web-server-01" not in names:
                return 3
            if client._runner._thread is parent_thread or not client._runner._thread.is_alive():
                return 4
            client.close()  # closes the child's loop and pool, not the parent's
            return 0

        assert in_child(child) == 0
        assert sim.request_count >= before + 2  # the child's requests reached the simulator
        # The parent's client, its loop thread and its pooled connection are untouched.
        assert client._runner._thread is parent_thread
        assert parent_thread.is_alive()
        assert client.servers.get(12346).name == "db-server-01"
    finally:
        client.close()


def test_a_child_that_never_calls_leaves_the_parent_alone(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url, retry=FAST)
    try:
        client.servers.get(12345)

        def child() -> int:
            client.close()  # nothing of the child's own to close: returns at once
            return 0 if client._runner.closed else 5

        assert in_child(child) == 0
        assert client.servers.get(12345).id == 12345
    finally:
        client.close()


def test_an_async_client_used_before_fork_opens_its_own_pool_in_the_child(
    sim: Simulator,
) -> None:
    client = vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, retry=FAST)
    runner = LoopThread()
    try:
        assert runner.call(client.servers.get, 12345).id == 12345
        parent_session = session_of(client)
        assert parent_session is not None
        assert not getattr(parent_session, "closed", True)

        def child() -> int:
            async def use() -> int:
                async with client:
                    server = await client.servers.get(12346)
                    session = session_of(client)
                    if session is parent_session:
                        return 6
                    return 0 if server.name == "db-server-01" else 7

            return asyncio.run(use())

        assert in_child(child) == 0
        assert session_of(client) is parent_session
        assert not getattr(parent_session, "closed", True)
        assert runner.call(client.servers.get, 12346).name == "db-server-01"
    finally:
        runner.close(client.aclose)


def test_a_loop_thread_restarts_in_the_child() -> None:
    runner = LoopThread()

    async def pid() -> int:
        await asyncio.sleep(0)
        return os.getpid()

    try:
        assert runner.call(pid) == os.getpid()

        def child() -> int:
            if runner.call(pid) != os.getpid():
                return 8
            runner.close()
            return 0

        assert in_child(child) == 0
        assert runner.call(pid) == os.getpid()
    finally:
        runner.close()
