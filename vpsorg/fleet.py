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

``rolling`` runs it batch by batch, checking each batch before the next starts. All
three take ``max_errors=``, an error budget (see docs/rollouts.md).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from typing import Any, TypeVar, overload

from ._async._fleet import (
    DEFAULT_CONCURRENCY,
    BulkProgress,
    MaxErrors,
    ProgressCallback,
    check_concurrency,
    error_allowance,
    run_bulk,
)
from ._async._fleet import imap as _imap
from ._async._rolling import Batches, run_rolling
from ._exceptions import InvalidInputError
from ._validation import check_items
from .models import BulkResult, Outcome

__all__ = ["DEFAULT_CONCURRENCY", "BulkProgress", "ProgressCallback", "imap", "map", "rolling"]

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")
CheckT = TypeVar("CheckT")


async def map(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
    max_errors: MaxErrors = None,
) -> BulkResult[ItemT, ValueT]:
    """Await ``fn(item)`` for every item, at most ``concurrency`` at a time.

    Args:
        fn: a coroutine function of one argument.
        items: the inputs; consumed once, up front.
        concurrency: how many calls run at once (a pool of that many workers).
        progress: called with a [`BulkProgress`][vpsorg.BulkProgress] after each item
            finishes.
        max_errors: the error budget: a count (``3``), a fraction of the items
            (``0.1``) or a percentage (``"10%"``). Once more items than that have
            failed, no new item starts, the running ones finish, and each item not
            started holds a [`NotStartedError`][vpsorg.NotStartedError]; the result's
            ``stop_reason`` is then ``"max_errors"``. ``None``: no budget.

    Returns:
        A [`BulkResult`][vpsorg.BulkResult]: one [`Outcome`][vpsorg.Outcome] per item, in
            input order. An exception raised for one item is kept in its outcome; it
            never stops the others and never escapes. Cancelling the call cancels every
            worker; the exception then carries the partial result (see
            [`partial_result`][vpsorg.partial_result]).

    Raises:
        InvalidInputError: ``fn``, ``items``, ``concurrency``, ``progress`` or
            ``max_errors`` is not usable; raised before anything runs.
    """
    return await run_bulk(
        fn, items, concurrency=concurrency, progress=progress, max_errors=max_errors
    )


def imap(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT] | AsyncIterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_errors: MaxErrors = None,
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
        max_errors: the error budget (as for [`map`][vpsorg.fleet.map]; a fraction or a
            percentage needs a sized ``items``). Once more items than that have failed,
            no further item starts: the items in flight are yielded; then, if ``items``
            is sized (a list, a tuple), each item not started is yielded as a
            [`Failed`][vpsorg.Failed] holding a [`NotStartedError`][vpsorg.NotStartedError];
            an iterator or async iterable is not pulled further (it may be endless).

    Returns:
        An async generator of [`Outcome`][vpsorg.Outcome], in completion order: a
            [`Succeeded`][vpsorg.Succeeded] with the ``value``, or a [`Failed`][vpsorg.Failed] with
            the ``error``, for every item. An exception raised for one item is kept in its
            outcome; one raised by ``items`` itself ends the iteration with that exception.
            Cancelling the iteration, breaking out of it, or closing the generator
            (``aclose()``, or ``contextlib.aclosing`` for a deterministic close) cancels
            every running call and waits for it.

    Raises:
        InvalidInputError: ``fn``, ``items``, ``concurrency`` or ``max_errors`` is not
            usable; raised by this call, before anything runs.
    """
    return _imap(fn, items, concurrency=concurrency, max_errors=max_errors)


@overload
async def rolling(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    batches: Batches = ...,
    check: None = None,
    pause: float = ...,
    max_errors: MaxErrors = ...,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
) -> BulkResult[ItemT, ValueT]: ...


@overload
async def rolling(
    fn: Callable[[ItemT], Awaitable[object]],
    items: Iterable[ItemT],
    *,
    batches: Batches = ...,
    check: Callable[[ItemT], Awaitable[CheckT]],
    pause: float = ...,
    max_errors: MaxErrors = ...,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
) -> BulkResult[ItemT, CheckT]: ...


async def rolling(
    fn: Callable[[ItemT], Awaitable[Any]],
    items: Iterable[ItemT],
    *,
    batches: Batches = 1,
    check: Callable[[ItemT], Awaitable[Any]] | None = None,
    pause: float = 0.0,
    max_errors: MaxErrors = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
) -> BulkResult[ItemT, Any]:
    """Await ``fn(item)`` batch by batch, checking each batch before the next starts.

    The items are cut into batches (``batches``, as Ansible's ``serial``); ``fn`` runs on
    every item of a batch (``concurrency`` at a time), then ``check`` runs on each item
    whose ``fn`` succeeded (e.g. wait until the server is healthy again); after
    ``pause`` seconds the next batch starts. The error budget counts the failures of
    ``fn`` and ``check`` across batches: the batch in which it is exceeded finishes, and
    no later batch starts. For servers, ``client.servers.rolling`` does the same with a
    power action and a status wait.

    Args:
        fn: a coroutine function of one argument: the action.
        items: the inputs, in the order they are rolled; consumed once, up front.
        batches: one batch size or a list of sizes whose last repeats: a count (``5``),
            a fraction (``0.25``) or a percentage (``"25%"``) of the items, e.g.
            ``[1, 5, "25%"]``. One item at a time by default.
        check: a coroutine function of one item, run after its ``fn`` succeeded; an
            exception it raises fails the item. ``None``: no check.
        pause: seconds between batches.
        max_errors: the error budget, across batches (as for
            [`map`][vpsorg.fleet.map]).
        concurrency: how many calls run at once within a batch.
        progress: called with a [`BulkProgress`][vpsorg.BulkProgress] (with ``batch``
            and ``batches``) as each item's outcome is known.

    Returns:
        A [`BulkResult`][vpsorg.BulkResult] in input order: each item's ``check`` value
            (its ``fn`` value without a check), or the error of ``fn`` or ``check``, or
            a [`NotStartedError`][vpsorg.NotStartedError] for the items of batches never
            started (``stop_reason`` ``"max_errors"``). Cancelling it cancels the running
            batch; the exception carries the partial result (see
            [`partial_result`][vpsorg.partial_result]).

    Raises:
        InvalidInputError: a bad argument; raised before anything runs.

    Examples:
        ```python
        import vpsorg

        async def deploy(host: str) -> str:
            return f"{host}: deployed"

        async def healthy(host: str) -> str:
            return f"{host}: healthy"

        hosts = [f"web-{i}" for i in range(10)]
        result = await vpsorg.fleet.rolling(
            deploy, hosts, batches=[1, "50%"], check=healthy
        )
        print(result.values()[0], result.stopped_early)  # web-0: healthy False
        ```
    """
    if not callable(fn):
        raise InvalidInputError("fn", f"must be a coroutine function, got {type(fn).__name__}")
    if check is not None and not callable(check):
        raise InvalidInputError("check", "must be a coroutine function or None")
    check_concurrency(concurrency)
    if progress is not None and not callable(progress):
        raise InvalidInputError("progress", "must be a callable or None")
    listed = check_items(items, "items")
    error_allowance(max_errors, len(listed))

    async def act(batch: list[ItemT], *, max_errors: int, progress: ProgressCallback) -> Any:
        return await run_bulk(
            fn, batch, concurrency=concurrency, progress=progress, max_errors=max_errors
        )

    async def checked(batch: list[ItemT], *, progress: ProgressCallback) -> Any:
        assert check is not None
        return await run_bulk(check, batch, concurrency=concurrency, progress=progress)

    return await run_rolling(
        act,
        checked if check is not None else None,
        listed,
        batches=batches,
        pause=pause,
        max_errors=max_errors,
        progress=progress,
    )
