"""The one thread runtime: an event loop in a daemon thread, and running the CLI's loop.

Every blocking surface of vpsorg runs its async code through this module:

* the blocking [`vpsorg.Client`][vpsorg.Client] owns a `LoopThread` and hands each call's
  coroutine to it (`LoopThread.call()`);
* [`vpsorg.simulator.serve_in_thread()`][vpsorg.simulator.serve_in_thread] runs the
  simulator on a `LoopThread`, and the [`Simulator`][vpsorg.simulator.Simulator] handle hops
  its inspection calls onto the simulator's loop with `call_in_loop()`;
* the ``vpsorg`` command runs each command's coroutine with `run()`.

Hand-off
    `LoopThread.call()` schedules the coroutine with ``call_soon_threadsafe`` and
    blocks on a plain lock the coroutine releases when it ends: a few times cheaper per
    call than an ``anyio.from_thread`` blocking portal (measured in
    docs/blocking-client.md). The result is returned, or the very exception raised, in
    the calling thread. The caller's own event loop, if it has one, is never touched.

Interrupts
    A ``KeyboardInterrupt`` (any ``BaseException``) raised while a thread waits cancels
    the coroutine in the loop, waits up to `CANCEL_GRACE` seconds for the
    cancellation to finish (so a request's connection is released), then propagates,
    carrying what the cancelled call recorded on its cancellation: ``created_server``
    (a create whose wait was cut short) and ``outcome_unknown`` (a create or power action
    cut short in flight, see `vpsorg.OutcomeUnknownError`). A client closed from
    another thread during a call raises that ``OutcomeUnknownError`` in the calling
    thread, or else ``ConfigurationError("the client was closed during the call")``.

Closing
    `LoopThread.close()` cancels what is still running, awaits an optional
    ``aclose()`` in the loop, stops the loop, closes it as ``asyncio.run`` would
    (`close_loop()`) and joins the thread.

Fork
    A process forked while a `LoopThread` exists (gunicorn ``--preload``, Celery
    prefork, ``multiprocessing`` with the fork start method) has a copy of the loop but
    not its thread. The child's first `call()` starts a fresh loop and
    thread. The parent's loop is left untouched in the child, never closed there: its
    epoll instance and sockets are shared with the parent, and closing them from the
    child would unregister the parent's file descriptors. (The transport does the same
    with its connection pool, so the child never speaks on the parent's sockets.)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import selectors
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, TypeVar

from typing_extensions import ParamSpec

from ._exceptions import ConfigurationError, OutcomeUnknownError

__all__ = [
    "CANCEL_GRACE",
    "SHUTDOWN_TIMEOUT",
    "LoopThread",
    "call_in_loop",
    "close_loop",
    "new_loop",
    "run",
    "set_aside",
    "uvloop_available",
]

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds an interrupted call waits for its coroutine to finish cancelling.
CANCEL_GRACE: Final = 5.0
#: Seconds ``close()`` waits for each step: the connections to close, the thread to end.
SHUTDOWN_TIMEOUT: Final = 10.0
#: Seconds `call_in_loop()` waits for the loop to run the function.
CALL_TIMEOUT: Final = 30.0

_CLOSED = "the client is closed"
#: What a cancelled call records on its cancellation for the caller (see Interrupts).
_CARRIED = ("created_server", "outcome_unknown", "partial_result")
_AClose = Callable[[], Coroutine[Any, Any, None]]
_thread_numbers = itertools.count(1)

# -- fork ------------------------------------------------------------------------------

#: This process's id, refreshed in a forked child before any of its code runs. A
#: LoopThread, and the async transport's session, compare it with the pid they were
#: started in to notice a fork (a global read, cheaper than an os.getpid() call).
current_pid = os.getpid()
#: Loops and sessions inherited from the parent, set aside in a forked child.
_inherited: list[object] = []
#: Every LoopThread not yet garbage collected, to set their loops aside after a fork.
_runtimes: weakref.WeakSet[LoopThread] = weakref.WeakSet()
#: Serialises the restart of loop threads in a forked child; replaced after each fork.
_restart_lock = threading.Lock()
#: ``LoopThread._pid`` of a loop thread set aside after a fork and not restarted yet.
_SET_ASIDE: Final = -1


def _after_fork_in_child() -> None:
    global current_pid, _restart_lock
    current_pid = os.getpid()
    _restart_lock = threading.Lock()  # the parent's may have been held mid-fork
    for runtime in list(_runtimes):
        runtime._forked()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_aside(inherited: object) -> None:
    """Keep an object inherited from the parent process alive until this process ends.

    For a loop or a connection pool copied into a forked child: closing it, or letting
    its finalizer run (even at interpreter exit), would unregister the parent's sockets
    from the epoll instance both processes share, or speak on the parent's connections.
    Kept referenced, and on CPython given a reference that is never released, it is
    never finalized in the child; the child's exit just closes its copies of the
    descriptors, which leaves the parent's untouched.
    """
    _inherited.append(inherited)
    with contextlib.suppress(Exception):  # not CPython: the list keeps it until exit
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(inherited))


def _detach_selector(loop: asyncio.AbstractEventLoop) -> None:
    """Give an inherited selector loop a selector of its own, in the child.

    The copied loop's epoll instance is the parent's: removing a reader from it (as
    closing the loop or one of its transports does) would remove it in the parent too.
    With a private, empty selector, whatever the child's garbage collector does to the
    inherited loop stays in the child. uvloop's loops have no such attribute; they are
    only kept alive (see ``_inherited``).
    """
    selector = getattr(loop, "_selector", None)
    if isinstance(selector, selectors.BaseSelector):
        with contextlib.suppress(Exception):
            loop._selector = selectors.DefaultSelector()  # type: ignore[attr-defined]
            # Closing our copy of the epoll descriptor leaves the parent's registrations.
            selector.close()


# -- loops -----------------------------------------------------------------------------


def uvloop_available() -> bool:
    """Whether ``uvloop`` can be imported (the ``speedups`` extra installs it)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def new_loop(*, use_uvloop: bool = True) -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's when asked for and installed, else asyncio's default."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close a stopped loop as ``asyncio.run`` does: end whatever is left, then close it.

    Tasks still pending (aiohttp's handlers of requests in flight at shutdown, say) are
    cancelled and awaited, bounded by `SHUTDOWN_TIMEOUT`, and their outcome is
    collected, so asyncio logs neither "Task was destroyed but it is pending" nor "Task
    exception was never retrieved".
    """
    try:
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=SHUTDOWN_TIMEOUT))
            for task in left:
                if task.done() and not task.cancelled():
                    task.exception()  # mark it retrieved
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run ``fn()`` in a new event loop in this thread, with ``anyio.run``.

    uvloop's loop is used when installed. Ctrl-C cancels the coroutine, lets it unwind
    (closing its client), then raises ``KeyboardInterrupt``, on every supported Python
    (anyio gives 3.10 the runner behaviour of 3.11).
    """
    import anyio

    async def main() -> T:
        return await fn()

    options = {"use_uvloop": uvloop_available()}
    try:
        return anyio.run(main, backend="asyncio", backend_options=options)
    except asyncio.CancelledError:
        # Python 3.10: anyio's runner cancels the task on Ctrl-C as 3.11's does, but
        # without Task.uncancel() it cannot tell that cancellation from another and lets
        # CancelledError out. Nothing else holds the top-level task to cancel it, so
        # this is the interrupt: report it as 3.11's runner does.
        if sys.version_info >= (3, 11):
            raise
        raise KeyboardInterrupt from None


def call_in_loop(
    loop: asyncio.AbstractEventLoop, function: Callable[[], T], timeout: float = CALL_TIMEOUT
) -> T:
    """Call ``function()`` in ``loop``'s thread and return its result here.

    When this thread is running ``loop``, or the loop is not running, the function is
    called directly. Otherwise it is scheduled with ``call_soon_threadsafe`` and waited
    for (up to ``timeout`` seconds), so it never races with the loop's own callbacks.
    """
    try:
        current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    if current is loop or loop.is_closed() or not loop.is_running():
        return function()
    done = threading.Event()
    outcome: list[Any] = []

    def step() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # handed over to the calling thread
            outcome.append((False, exc))
        finally:
            done.set()

    loop.call_soon_threadsafe(step)
    if not done.wait(timeout):
        raise TimeoutError(f"the event loop did not run the call within {timeout} s")
    ok, value = outcome[0]
    if ok:
        result: T = value
        return result
    raise value


# -- the loop thread -------------------------------------------------------------------


class _Call:
    """One coroutine handed to the loop, and the lock its caller blocks on until it ends.

    ``finished`` and the lock change only in the loop thread, or after that thread ended.
    """

    __slots__ = ("coro", "done", "error", "finished", "result", "task")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.done = threading.Lock()
        self.done.acquire()
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def start(self, runner: LoopThread) -> None:
        """Run in the loop thread: wrap the coroutine in a task, unless shutting down."""
        if runner.stopping:
            self.fail()
        else:
            self.task = runner.loop.create_task(self._run())

    async def _run(self) -> None:
        try:
            self.result = await self.coro
        except asyncio.CancelledError as exc:
            self.error = exc
            raise
        except BaseException as exc:  # handed over to the waiting thread as it is
            self.error = exc
        finally:
            self.finished = True
            self.done.release()

    def cancel(self) -> None:
        """Run in the loop thread: cancel the coroutine, started or not."""
        if self.task is not None:
            self.task.cancel()
        else:
            self.fail()

    def fail(self) -> None:
        """End a call that never ran: the runtime was closed under it."""
        if self.finished:
            return
        self.coro.close()  # never awaited: close it so Python does not warn about it
        self.error = ConfigurationError(_CLOSED)
        self.finished = True
        self.done.release()


class LoopThread:
    """One event loop running in a daemon thread; blocking threads hand it coroutines.

    Thread-safe: any number of threads may `call()` at once. See the module docstring
    for the hand-off, interrupts, closing and fork.

    Args:
        name: the thread's name; ``vpsorg-loop-<n>`` by default.
        use_uvloop: run uvloop's loop when it is installed (the default).
    """

    def __init__(self, *, name: str | None = None, use_uvloop: bool = True) -> None:
        self._name = name
        self._use_uvloop = use_uvloop
        self._closed = False
        self._close_lock = threading.Lock()
        self._start()
        _runtimes.add(self)

    def _start(self) -> None:
        self.loop = new_loop(use_uvloop=self._use_uvloop)
        self.stopping = False  # set in the loop thread when the shutdown begins
        self._pid = current_pid
        self._calls: set[_Call] = set()
        name = self._name or f"vpsorg-loop-{next(_thread_numbers)}"
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ident = self._thread.ident

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return f"<LoopThread {self._thread.name} {state}>"

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closed

    def _main(self) -> None:
        loop = self.loop
        try:
            loop.run_forever()
        finally:
            try:
                close_loop(loop)
            finally:
                # Calls handed over while the loop was stopping never started: end them,
                # so no caller waits forever. From here, handing one over raises.
                for call in list(self._calls):
                    call.fail()

    # -- fork ----------------------------------------------------------------------------

    def _forked(self) -> None:
        """In a forked child, before anything else runs: set the parent's loop aside.

        Only bookkeeping here (no thread is started in a fork handler); the next
        `call()` starts the child's own loop and thread.
        """
        if self._pid in (current_pid, _SET_ASIDE):
            return
        self._pid = _SET_ASIDE
        set_aside(self.loop)
        _detach_selector(self.loop)
        self._close_lock = threading.Lock()  # the parent's may have been held mid-fork
        self._calls = set()  # the parent's callers do not exist here

    def _restart(self) -> None:
        """In a forked child: a fresh loop and thread for this process."""
        with _restart_lock:
            if self._pid != current_pid:
                self._forked()  # in case no fork handler ran (a fork without os.fork)
                self._start()

    # -- calls -------------------------------------------------------------------------

    def call(
        self, fn: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(*args, **kwargs)`` in the loop and block until it returns or raises.

        Raises:
            ConfigurationError: the runtime is closed, or this is the loop's own thread.
        """
        if self._closed:
            raise ConfigurationError(_CLOSED)
        if self._pid != current_pid:
            self._restart()
        elif threading.get_ident() == self._ident:
            raise ConfigurationError(
                "a blocking vpsorg.Client method was called from the client's own event "
                "loop thread (for example in a bulk progress callback); it would wait on "
                "itself forever. Collect what you need in the callback and call the "
                "client after the bulk call returns."
            )
        result: T = self._wait(self._submit(fn(*args, **kwargs)))
        return result

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> _Call:
        call = _Call(coro)
        self._calls.add(call)
        try:
            self.loop.call_soon_threadsafe(call.start, self)
        except RuntimeError:  # the loop is closed: close() ran in between
            self._calls.discard(call)
            coro.close()
            raise ConfigurationError(_CLOSED) from None
        return call

    def _wait(self, call: _Call) -> Any:
        try:
            call.done.acquire()
        except BaseException as interrupt:
            self._abandon(call)
            # A create(..., wait=True) cut short records the server it made on its
            # cancellation, a POST cut short in flight that its outcome is unknown, a bulk
            # call its partial BulkResult; the interrupt carries them to the caller
            # (docs/waiting.md, docs/errors.md).
            for name in _CARRIED:
                value = getattr(call.error, name, None)
                if value is not None:
                    with contextlib.suppress(AttributeError, TypeError):
                        setattr(interrupt, name, value)
            raise
        finally:
            self._calls.discard(call)
        error = call.error
        if error is None:
            return call.result
        call.error = None
        if isinstance(error, asyncio.CancelledError) and self._closed:
            # The close cancelled the call. A create or power action in flight may have
            # acted: that is the caller's answer, not a configuration problem.
            unknown = getattr(error, "outcome_unknown", None)
            if isinstance(unknown, OutcomeUnknownError):
                raise unknown from None
            closed = ConfigurationError("the client was closed during the call")
            created = getattr(error, "created_server", None)
            if created is not None:
                closed.created_server = created
            raise closed from None
        try:
            raise error
        finally:
            del error

    def _abandon(self, call: _Call) -> None:
        """Cancel an interrupted call's coroutine and wait, bounded, for it to end."""
        if call.finished:
            return
        try:
            self.loop.call_soon_threadsafe(call.cancel)
        except RuntimeError:  # the loop is closed, so nothing is running
            return
        call.done.acquire(timeout=CANCEL_GRACE)

    # -- closing -------------------------------------------------------------------------

    def close(self, aclose: _AClose | None = None) -> None:
        """Cancel running calls, await ``aclose()`` in the loop, stop it, join the thread.

        Safe to call more than once and from several threads; later calls return at once.
        In a forked child that never made a call, there is nothing of its own to close:
        the parent's loop and connections are left to the parent.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._pid != current_pid:
            return
        if threading.get_ident() == self._ident:
            # Closing from the loop itself (the last reference to a client dropped there,
            # or a callback): never block it; the loop stops itself once shut down.
            self.loop.call_soon_threadsafe(self._shutdown_soon, aclose)
            return
        call = self._submit(self._shutdown(aclose, stop=False))
        error: BaseException | None = None
        if call.done.acquire(timeout=SHUTDOWN_TIMEOUT):
            error = call.error
        self._calls.discard(call)
        with contextlib.suppress(RuntimeError):  # already closed
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(SHUTDOWN_TIMEOUT)
        if error is not None:
            raise error

    def _shutdown_soon(self, aclose: _AClose | None) -> None:
        self.loop.create_task(self._shutdown(aclose, stop=True))

    async def _shutdown(self, aclose: _AClose | None, *, stop: bool) -> None:
        self.stopping = True
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        running = [task for task in asyncio.all_tasks() if task is not current]
        for task in running:
            task.cancel()
        try:
            if running:
                await asyncio.wait(running, timeout=SHUTDOWN_TIMEOUT)
            if aclose is not None:
                await aclose()
        finally:
            await loop.shutdown_asyncgens()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(loop.shutdown_default_executor(), SHUTDOWN_TIMEOUT)
            if stop:
                loop.stop()
