"""The hand-written base classes under the generated blocking client (`vpsorg._sync`).

The async client stays the only I/O path. A root [`vpsorg.Client`][vpsorg.Client] owns one
`LoopThread` (see `vpsorg._runtime` for the hand-off,
interrupts, closing and fork safety); each blocking method hands the coroutine of its
async twin to that loop and blocks until it ends. The caller's own event loop, if it has
one, is never touched, so the client works the same from a plain script, from many
threads at once and from inside a running loop (a notebook cell, or blocking code called
from ``async def``).

Callbacks
    Code the async client calls back, such as the ``progress`` callback of the bulk
    methods, runs in the loop's thread, not in the caller's: keep it quick, and do not call
    the blocking client from it (that would wait on itself; it raises
    [`ConfigurationError`][vpsorg.ConfigurationError] instead).

Closing
    Closing a client cancels what is still running, awaits ``AsyncClient.aclose()`` in
    the loop, stops the loop and joins its thread. A client that is garbage collected, or
    still open when the interpreter exits, is closed the same way.

Fork
    A client created before ``os.fork()`` works in the child: its first call there starts
    a new loop thread, and the transport opens a new connection pool; the parent's
    sockets are never used, nor closed, by the child.

Iterables
    An async method returning an async-iterable paginator (``AsyncPaginator[T]``) has a
    blocking twin returning a `Paginator` (``Paginator[T]``): the generator maps
    one to the other by name, ``AsyncX`` to ``X``. A hand-written subclass may stand for
    a specific async class under its own name, as [`ServerIterator`][vpsorg.ServerIterator] does for
    [`AsyncServerList`][vpsorg.AsyncServerList] (its ``async_twin``).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from typing_extensions import Self

from ._async._client import AsyncClient
from ._async._pagination import MAX_PAGES, AsyncServerList, unseen
from ._runtime import LoopThread
from ._secrets import PICKLE_REFUSAL
from .models import Server, ServerPage

__all__ = [
    "BlockingClient",
    "BlockingResource",
    "Paginator",
    "ServerIterator",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
R = TypeVar("R")

_AClose = Callable[[], Coroutine[Any, Any, None]]


def _renamed_repr(name: str, obj: object) -> str:
    """``obj``'s repr, e.g. ``AsyncServers(base_url=...)``, under another class name."""
    _, paren, rest = repr(obj).partition("(")
    return f"{name}{paren}{rest}"


class _NotPicklable:
    """Everything that holds a client's loop thread: pickling it says why not, and what
    to do instead, rather than failing on a lock inside."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(PICKLE_REFUSAL)


class _Lifetime:
    """Held by a root client, its copies, resources and iterators, and never referring
    back to them: when the last of them is gone (or at interpreter exit), its finalizer
    closes the loop thread and the connections. ``finalizer()`` closes them now."""

    __slots__ = ("__weakref__", "finalizer")

    def __init__(self, runner: LoopThread, aclose: _AClose) -> None:
        self.finalizer = weakref.finalize(self, runner.close, aclose)


class BlockingClient(_NotPicklable):
    """What every generated blocking client shares: the loop thread, copies, closing.

    The generated subclass builds its [`AsyncClient`][vpsorg.AsyncClient] in the caller's thread
    (so a configuration error is raised there, before any thread starts) and passes it to
    `_start()`.
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


class BlockingResource(_NotPicklable, Generic[R]):
    """What every generated blocking resource shares: its client's loop and its async twin."""

    _lifetime: _Lifetime
    _runner: LoopThread

    def __init__(self, client: BlockingClient | BlockingResource[Any], resource: R) -> None:
        """``client``: the client, or the resource this one is reached from."""
        self._lifetime = client._lifetime  # the loop stays open while this is in use
        self._runner = client._runner
        self._async = resource

    def __repr__(self) -> str:
        return _renamed_repr(type(self).__name__, self._async)


class _Page(Protocol[T_co]):
    """What a paginator yields per page: at least the items of the page."""

    @property
    def results(self) -> Sequence[T_co]: ...


class _AsyncListing(Protocol[T]):
    """What every async paginator offers: its pages one by one, and all its items."""

    def pages(self) -> AsyncIterator[_Page[T]]: ...

    def to_list(self) -> Coroutine[Any, Any, list[T]]: ...


async def _next_page(pages: AsyncIterator[R]) -> R | None:
    try:
        return await pages.__anext__()
    except StopAsyncIteration:
        return None


class Paginator(_NotPicklable, Iterator[T]):
    """The items of an async paginator, fetched one page at a time as you iterate.

    Examples:
        The blocking twin of every async paginator: an ordinary iterator:

        ```python
        for item in paginator:
            ...
        items = paginator.to_list()      # a list of every item
        ```

    Nothing is requested until you iterate; each page is fetched through the client's
    loop thread when the previous one is used up, and breaking out of the loop stops
    fetching. Like any iterator it is consumed once; `pages()` and `to_list()`
    each start a new listing from the first page.
    """

    #: The name of the async class this class is the twin of, when it is not the
    #: rule's ``Async`` + name (read by the generator, scripts/generate_sync.py).
    async_twin: ClassVar[str | None] = None

    def __init__(self, owner: BlockingResource[Any], listing: _AsyncListing[T]) -> None:
        self._lifetime = owner._lifetime  # the loop stays open while this is in use
        self._runner = owner._runner
        self._listing = listing
        self._items: Generator[T, None, None] | None = None

    def __repr__(self) -> str:
        return _renamed_repr(type(self).__name__, self._listing)

    def __next__(self) -> T:
        if self._items is None:
            self._items = self._iterate()
        return next(self._items)

    def _iterate(self) -> Generator[T, None, None]:
        seen: set[object] = set()  # no item twice in one iteration, as the async one
        for page in self._pages():
            yield from unseen(page.results, seen)

    def pages(self) -> Iterator[Any]:
        """Yield each page as it arrives, from the first page."""
        return self._pages()

    def _pages(self) -> Iterator[_Page[T]]:
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

    def to_list(self) -> list[T]:
        """Fetch every page and return all the items in one list."""
        return self._runner.call(self._listing.to_list)

    def close(self) -> None:
        """Stop iterating early and release what the listing holds."""
        if self._items is not None:
            self._items.close()


class ServerIterator(Paginator[Server]):
    """Every server matching a filter, fetched one page at a time as you iterate.

    Examples:
        What ``client.servers.list()`` returns on the blocking client: an ordinary iterator:

        ```python
        for server in client.servers.list(location="us-west"):
            ...
        servers = client.servers.list().to_list()      # a list of every server
        ```

    Nothing is requested until you iterate; each page is fetched through the client's
    loop thread when the previous one is used up, and breaking out of the loop stops
    fetching. Like any iterator it is consumed once;
    [`pages()`][vpsorg.ServerIterator.pages] and
    [`to_list()`][vpsorg.ServerIterator.to_list] each start a new listing from the first page.
    """

    async_twin: ClassVar[str | None] = "AsyncServerList"

    def __init__(self, owner: BlockingResource[Any], listing: AsyncServerList) -> None:
        super().__init__(owner, listing)

    def pages(self) -> Iterator[ServerPage]:
        """Yield each [`ServerPage`][vpsorg.ServerPage] as it arrives, from the first page."""
        return self._pages()  # type: ignore[return-value]

    def to_list(self) -> list[Server]:
        """Fetch every page and return all the servers in one list."""
        return super().to_list()
