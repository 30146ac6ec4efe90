"""The loop thread under the blocking client: results, exceptions, loops, overhead."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import vpsorg
from vpsorg._runtime import LoopThread, call_in_loop, new_loop, run, uvloop_available


async def _nothing() -> None:
    return None


async def echo(value: int) -> int:
    await asyncio.sleep(0)
    return value


class Odd(Exception):
    pass


async def fail(message: str) -> None:
    raise Odd(message)


@pytest.fixture
def runner() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close(_nothing)


def test_call_returns_the_coroutines_result(runner: LoopThread) -> None:
    assert runner.call(echo, 7) == 7
    assert runner.call(echo, value=8) == 8


def test_call_reraises_the_very_exception(runner: LoopThread) -> None:
    with pytest.raises(Odd, match="boom") as info:
        runner.call(fail, "boom")
    assert type(info.value) is Odd
    with pytest.raises(Odd, match="again"):  # and the loop goes on
        runner.call(fail, "again")


def test_the_coroutine_runs_in_the_loop_thread(runner: LoopThread) -> None:
    async def where() -> tuple[str, asyncio.AbstractEventLoop]:
        return threading.current_thread().name, asyncio.get_running_loop()

    name, loop = runner.call(where)
    assert name.startswith("vpsorg-loop-")
    assert loop is runner.loop


def test_uvloop_is_used_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop")
    with_uvloop = LoopThread()
    try:
        assert isinstance(with_uvloop.loop, uvloop.Loop)
    finally:
        with_uvloop.close(_nothing)
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now fails
    plain = LoopThread()
    try:
        assert not isinstance(plain.loop, uvloop.Loop)
        assert plain.call(echo, 1) == 1
    finally:
        plain.close(_nothing)


def test_close_awaits_aclose_in_the_loop_and_joins(runner: LoopThread) -> None:
    seen: list[str] = []

    async def aclose() -> None:
        seen.append(threading.current_thread().name)

    runner.close(aclose)
    runner.close(aclose)  # idempotent: aclose ran once
    assert len(seen) == 1
    assert seen[0].startswith("vpsorg-loop-")
    assert not runner._thread.is_alive()
    assert runner.loop.is_closed()
    with pytest.raises(vpsorg.ConfigurationError, match="the client is closed"):
        runner.call(echo, 1)


def test_an_aclose_error_is_raised_after_the_thread_ended() -> None:
    runner = LoopThread()

    async def broken() -> None:
        raise Odd("aclose failed")

    with pytest.raises(Odd):
        runner.close(broken)
    assert not runner._thread.is_alive()


INTERRUPTED_RUN = """
import asyncio, os, signal, sys
from vpsorg._runtime import run

async def main() -> None:
    try:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(30)
    finally:
        print("unwound", flush=True)

try:
    run(main)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(130)
"""


def test_run_unwinds_the_coroutine_on_ctrl_c_then_raises_keyboard_interrupt() -> None:
    # On every Python: 3.10's runner (anyio's backport) lets CancelledError out instead.
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_RUN],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout == "unwound\nKeyboardInterrupt\n", done.stderr
    assert done.returncode == 130
    assert "Traceback" not in done.stderr


def test_run_returns_the_result_on_uvloop_when_installed() -> None:
    async def loop_module() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    expected = "uvloop" if uvloop_available() else "asyncio"
    assert run(loop_module) == expected


def test_call_in_loop_runs_the_function_in_the_loop_thread(runner: LoopThread) -> None:
    assert call_in_loop(runner.loop, threading.current_thread).name.startswith("vpsorg-loop-")

    def broken() -> None:
        raise Odd("in the loop")

    with pytest.raises(Odd, match="in the loop"):
        call_in_loop(runner.loop, broken)
    idle = new_loop(use_uvloop=False)
    try:  # a loop that is not running: called right here
        assert call_in_loop(idle, threading.current_thread) is threading.current_thread()
    finally:
        idle.close()
