"""The hand-written runtime under the generated blocking client (:mod:`vpsorg._sync`).

The async client stays the only I/O path. A root :class:`vpsorg.Client` owns one
:class:`LoopThread`: an event loop (uvloop's when ``uvloop`` is importable) running in a
daemon thread. Each blocking method creates the coroutine of its async twin, hands it to
that loop with ``call_soon_threadsafe`` and blocks on a lock the coroutine releases when it
finishes; the result is returned, or the very exception it raised is re-raised, in the
calling thread. The caller's own event loop, if it has one, is never touched, so the client
works the same from a plain script, from many threads at once and from inside a running
loop (a notebook cell, or blocking code called from ``async def``).

Interrupts
    A ``KeyboardInterrupt`` (any ``BaseException``) raised while a thread waits cancels the
    coroutine in the loop, waits up to :data:`CANCEL_GRACE` seconds for the cancellation
    to finish (so the request's connection is released), then propagates.

Callbacks
    Code the async client calls back, such as the ``progress`` callback of the bulk
    methods, runs in the loop's thread, not in the caller's: keep it quick, and do not call
    the blocking client from it (that would wait on itself; it raises
    :class:`~vpsorg.ConfigurationError` instead).

Closing
    :meth:`LoopThread.close` cancels what is still running, awaits ``AsyncClient.aclose()``
    in the loop, stops the loop and joins its thread. A client that is garbage collected,
    or still open when the interpreter exits, is closed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any, Final, Generic, TypeVar

from typing_extensions import ParamSpec, Self

from ._async._client import AsyncClient
from ._async._pagination import MAX_PAGES, AsyncServerList
from ._exceptions import ConfigurationError
from .models import Server, ServerPage

__all__ = [
    "CANCEL_GRACE",
    "SHUTDOWN_TIMEOUT",
    "BlockingClient",
    "BlockingResource",
    "LoopThread",
    "ServerIterator",
]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")

#: Seconds an interrupted call waits for its coroutine to finish cancelling.
CANCEL_GRACE: Final = 5.0
#: Seconds ``close()`` waits for each step: the connections to close, the thread to end.
SHUTDOWN_TIMEOUT: Final = 10.0

_CLOSED = "the client is closed"
_AClose = Callable[[], Coroutine[Any, Any, None]]
_thread_numbers = itertools.count(1)


def _new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's when it is installed, else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


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
        """End a call that never ran: the client was closed under it."""
        if self.finished:
            return
        self.coro.close()  # never awaited: close it so Python does not warn about it
        self.error = ConfigurationError(_CLOSED)
        self.finished = True
        self.done.release()


class LoopThread:
    """One event loop running in a daemon thread; blocking threads hand it coroutines.

    Thread-safe: any number of threads may :meth:`call` at once. See the module docstring
    for interrupts, callbacks and closing.
    """

    def __init__(self) -> None:
        self.loop = _new_loop()
        self.stopping = False  # set in the loop thread when the shutdown begins
        self._closed = False
        self._close_lock = threading.Lock()
        self._calls: set[_Call] = set()
        self._thread = threading.Thread(
            target=self._main, name=f"vpsorg-loop-{next(_thread_numbers)}", daemon=True
        )
        self._thread.start()
        self._ident = self._thread.ident

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return f"<LoopThread {self._thread.name} {state}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _main(self) -> None:
        loop = self.loop
        try:
            loop.run_forever()
        finally:
            try:
                _close_loop(loop)
            finally:
                # Calls handed over while the loop was stopping never started: end them,
                # so no caller waits forever. From here, handing one over raises.
                for call in list(self._calls):
                    call.fail()

    def call(
        self, fn: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(*args, **kwargs)`` in the loop and block until it returns or raises.

        Raises:
            ConfigurationError: the client is closed, or this is the loop's own thread.
        """
        if self._closed:
            raise ConfigurationError(_CLOSED)
        self._check_thread()
        result: T = self._wait(self._submit(fn(*args, **kwargs)))
        return result

    def _check_thread(self) -> None:
        if threading.get_ident() == self._ident:
            raise ConfigurationError(
                "a blocking vpsorg.Client method was called from the client's own event "
                "loop thread (for example in a bulk progress callback); it would wait on "
                "itself forever. Collect what you need in the callback and call the "
                "client after the bulk call returns."
            )

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
        except BaseException:
            self._abandon(call)
            raise
        finally:
            self._calls.discard(call)
        error = call.error
        if error is None:
            return call.result
        call.error = None
        if isinstance(error, asyncio.CancelledError) and self._closed:
            raise ConfigurationError("the client was closed during the call") from None
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

    def close(self, aclose: _AClose) -> None:
        """Cancel running calls, await ``aclose()`` in the loop, stop it, join the thread.

        Safe to call more than once and from several threads; later calls return at once.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
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

    def _shutdown_soon(self, aclose: _AClose) -> None:
        self.loop.create_task(self._shutdown(aclose, stop=True))

    async def _shutdown(self, aclose: _AClose, *, stop: bool) -> None:
        self.stopping = True
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        running = [task for task in asyncio.all_tasks() if task is not current]
        for task in running:
            task.cancel()
        try:
            if running:
                await asyncio.wait(running, timeout=SHUTDOWN_TIMEOUT)
            await aclose()
        finally:
            await loop.shutdown_asyncgens()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(loop.shutdown_default_executor(), SHUTDOWN_TIMEOUT)
            if stop:
                loop.stop()


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """After ``run_forever`` returned: end whatever is left, as ``asyncio.run`` does."""
    try:
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=SHUTDOWN_TIMEOUT))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def _renamed_repr(name: str, obj: object) -> str:
    """``obj``'s repr, e.g. ``AsyncServers(base_url=...)``, under another class name."""
    _, paren, rest = repr(obj).partition("(")
    return f"{name}{paren}{rest}"


class _Lifetime:
    """Held by a root client, its copies, resources and iterators, and never referring
    back to them: when the last of them is gone (or at interpreter exit), its finalizer
    closes the loop thread and the connections. ``finalizer()`` closes them now."""

    __slots__ = ("__weakref__", "finalizer")

    def __init__(self, runner: LoopThread, aclose: _AClose) -> None:
        self.finalizer = weakref.finalize(self, runner.close, aclose)


class BlockingClient:
    """What every generated blocking client shares: the loop thread, copies, closing.

    The generated subclass builds its :class:`~vpsorg.AsyncClient` in the caller's thread
    (so a configuration error is raised there, before any thread starts) and passes it to
    :meth:`_start`.
    """

    _async: AsyncClient
    _runner: LoopThread
    _lifetime: _Lifetime
    _is_copy = False

    def _start(self, client: AsyncClient) -> None:
        self._async = client
        self._runner = LoopThread()
        self._lifetime = _Lifetime(self._runner, client.aclose)
        self._bind()

    def _bind(self) -> None:
        """Attach the resources; the generated subclass overrides this."""

    def _copy(self, client: AsyncClient) -> Self:
        """A client on another copy of the async client, sharing this one's loop thread."""
        clone = object.__new__(type(self))
        clone._async = client
        clone._runner = self._runner
        clone._lifetime = self._lifetime
        clone._is_copy = True
        clone._bind()
        return clone

    def _close(self) -> None:
        if not self._is_copy:
            self._lifetime.finalizer()

    def __repr__(self) -> str:
        return _renamed_repr(type(self).__name__, self._async)


class BlockingResource(Generic[R]):
    """What every generated blocking resource shares: its client's loop and its async twin."""

    def __init__(self, client: BlockingClient, resource: R) -> None:
        self._lifetime = client._lifetime  # the loop stays open while this is in use
        self._runner = client._runner
        self._async = resource

    def __repr__(self) -> str:
        return _renamed_repr(type(self).__name__, self._async)


async def _next_page(pages: AsyncIterator[ServerPage]) -> ServerPage | None:
    try:
        return await pages.__anext__()
    except StopAsyncIteration:
        return None


class ServerIterator(Iterator[Server]):
    """Every server matching a filter, fetched one page at a time as you iterate.

    What ``client.servers.list()`` returns on the blocking client: an ordinary iterator::

        for server in client.servers.list(location="us-west"):
            ...
        servers = client.servers.list().to_list()      # a list of every server

    Nothing is requested until you iterate; each page is fetched through the client's
    loop thread when the previous one is used up, and breaking out of the loop stops
    fetching. Like any iterator it is consumed once; :meth:`pages` and :meth:`to_list`
    each start a new listing from the first page.
    """

    def __init__(self, owner: BlockingResource[Any], listing: AsyncServerList) -> None:
        self._lifetime = owner._lifetime  # the loop stays open while this is in use
        self._runner = owner._runner
        self._listing = listing
        self._servers: Generator[Server, None, None] | None = None

    def __repr__(self) -> str:
        return _renamed_repr(type(self).__name__, self._listing)

    def __next__(self) -> Server:
        if self._servers is None:
            self._servers = self._iterate()
        return next(self._servers)

    def _iterate(self) -> Generator[Server, None, None]:
        for page in self.pages():
            yield from page.results

    def pages(self) -> Iterator[ServerPage]:
        """Yield each :class:`~vpsorg.ServerPage` as it arrives, from the first page."""
        runner = self._runner
        pages = self._listing.pages()
        try:
            for _ in range(MAX_PAGES + 1):  # the async side raises past MAX_PAGES
                page = runner.call(_next_page, pages)
                if page is None:
                    return
                yield page
        finally:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None and not runner.closed:
                # Finish the async generator in its loop now rather than at garbage
                # collection; a failure here must not hide the one being raised.
                with contextlib.suppress(Exception):
                    runner.call(aclose)

    def to_list(self) -> list[Server]:
        """Fetch every page and return all the servers in one list."""
        return self._runner.call(self._listing.to_list)

    def close(self) -> None:
        """Stop iterating early and release what the listing holds."""
        if self._servers is not None:
            self._servers.close()
