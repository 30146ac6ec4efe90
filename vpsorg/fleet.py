"""Run any coroutine function over many items with bounded concurrency.

The same engine as the bulk methods of ``client.servers``, in two forms:

Examples:
    ``map`` returns every outcome at the end, in input order:

    ```python
    async def resize_note(server_id: int) -> str:
        server = await client.servers.get(server_id)
        return f"{server.name}: {server.plan.name}"

    result = await vpsorg.fleet.map(resize_note, ids, concurrency=20)
    for outcome in result.failed:
        print(outcome.item, outcome.error)
    ```

Examples:
    ``imap`` yields each outcome as soon as it is ready and keeps none of them, so memory
    stays flat however many items there are (a generator of a million ids included):

    ```python
    async with contextlib.aclosing(vpsorg.fleet.imap(client.servers.get, ids)) as outcomes:
        async for outcome in outcomes:
            if outcome.ok:
                print(outcome.value.name)
    ```
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from typing import TypeVar

from ._async._fleet import DEFAULT_CONCURRENCY, BulkProgress, ProgressCallback, run_bulk
from ._async._fleet import imap as _imap
from .models import BulkResult, Outcome

__all__ = ["DEFAULT_CONCURRENCY", "BulkProgress", "ProgressCallback", "imap", "map"]

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")


async def map(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
) -> BulkResult[ItemT, ValueT]:
    """Await ``fn(item)`` for every item, at most ``concurrency`` at a time.

    Args:
        fn: a coroutine function of one argument.
        items: the inputs; consumed once, up front.
        concurrency: how many calls run at once (a pool of that many workers).
        progress: called with a [`BulkProgress`][vpsorg.BulkProgress] after each item finishes.

    Returns:
        A [`BulkResult`][vpsorg.BulkResult]: one [`Outcome`][vpsorg.Outcome] per item, in input
            order. An exception raised for one item is kept in its outcome; it never stops
            the others and never escapes. Cancelling the call cancels every worker.

    Raises:
        InvalidInputError: ``fn``, ``items``, ``concurrency`` or ``progress`` is not
            usable; raised before anything runs.
    """
    return await run_bulk(fn, items, concurrency=concurrency, progress=progress)


def imap(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT] | AsyncIterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncGenerator[Outcome[ItemT, ValueT], None]:
    """Await ``fn(item)`` for each item and yield each outcome as soon as it is ready.

    Unlike [`map()`][vpsorg.fleet.map], nothing is kept: ``items`` (any iterable or async
    iterable) is consumed lazily, at most ``concurrency`` items are in flight (taken from the input
    and not yet yielded), and an outcome is dropped once yielded. Use it when the input
    is large or unbounded, or to act on results as they come.

    Args:
        fn: a coroutine function of one argument.
        items: the inputs, pulled one at a time as workers free up.
        concurrency: how many calls run at once.

    Returns:
        An async generator of [`Outcome`][vpsorg.Outcome], in completion order: a
            [`Succeeded`][vpsorg.Succeeded] with the ``value``, or a [`Failed`][vpsorg.Failed] with
            the ``error``, for every item. An exception raised for one item is kept in its
            outcome; one raised by ``items`` itself ends the iteration with that exception.
            Cancelling the iteration, breaking out of it, or closing the generator
            (``aclose()``, or ``contextlib.aclosing`` for a deterministic close) cancels
            every running call and waits for it.

    Raises:
        InvalidInputError: ``fn``, ``items`` or ``concurrency`` is not usable; raised by
            this call, before anything runs.
    """
    return _imap(fn, items, concurrency=concurrency)
