"""Bounded-concurrency bulk execution with one outcome per item.

A pool of ``concurrency`` workers pulls items from one shared iterator, instead of one
task per item behind a semaphore: that shape keeps memory flat (no task or coroutine per
item). Two forms share it:

- `run_bulk()` keeps every outcome and returns a [`BulkResult`][vpsorg.BulkResult] in input
  order (``get_many`` and friends, ``vpsorg.fleet.map``);
- `imap()` streams outcomes in completion order and keeps none of them
  (``vpsorg.fleet.imap``), for inputs too large to hold.

The workers are plain asyncio tasks, not an anyio task group: a task group costs more per
worker, measured at concurrency 50 and 1,000 (the numbers are in docs/performance.md).
The structured-concurrency guarantee is kept by hand: on cancellation or any error, every
worker is cancelled and awaited before the call returns or raises, even under a
level-triggered (anyio) cancel scope.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
)
from typing import Any, TypeVar, cast

import attrs

from .._exceptions import InvalidInputError
from ..models import BulkResult, Failed, Outcome, Succeeded

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BulkProgress",
    "ProgressCallback",
    "check_concurrency",
    "imap",
    "report_progress",
    "run_bulk",
]

logger = logging.getLogger("vpsorg")

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")

DEFAULT_CONCURRENCY = 50


@attrs.frozen(slots=True)
class BulkProgress:
    """Passed to a bulk call's ``progress`` callback after each item finishes.

    Attributes:
        completed: items finished so far (succeeded or failed).
        total: items in the call.
        succeeded: items that succeeded so far.
        failed: items that failed so far.
        outcome: the [`Outcome`][vpsorg.Outcome] of the item that just finished.
    """

    completed: int
    total: int
    succeeded: int
    failed: int
    outcome: Outcome[object, object]


ProgressCallback = Callable[[BulkProgress], object]
"""A progress callback: called in the event loop after each item, with a BulkProgress."""


def check_concurrency(concurrency: object) -> int:
    """A positive integer concurrency."""
    if type(concurrency) is not int or concurrency < 1:
        raise InvalidInputError("concurrency", f"must be a positive integer, got {concurrency!r}")
    return concurrency


def _check_fn(fn: object) -> None:
    if not callable(fn):
        raise InvalidInputError("fn", f"must be a coroutine function, got {type(fn).__name__}")


async def run_bulk(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
) -> BulkResult[ItemT, ValueT]:
    """Run ``fn`` on every item, at most ``concurrency`` at a time.

    Every item gets an [`Outcome`][vpsorg.Outcome], in input order; an ``Exception`` raised
    for one item is kept in its outcome and never stops the others. Cancelling the call
    cancels every worker and waits for them, so nothing keeps running.
    """
    _check_fn(fn)
    check_concurrency(concurrency)
    if progress is not None and not callable(progress):
        raise InvalidInputError("progress", "must be a callable or None")
    if not isinstance(items, Iterable):
        raise InvalidInputError("items", f"must be an iterable, got {type(items).__name__}")
    pending = list(items)
    total = len(pending)
    results: list[Outcome[ItemT, ValueT] | None] = [None] * total
    indexes = iter(range(total))
    counts = [0, 0]  # succeeded, failed

    async def worker() -> None:
        for index in indexes:
            item = pending[index]
            try:
                outcome: Outcome[ItemT, ValueT] = Succeeded(item, await fn(item))
                counts[0] += 1
            except Exception as exc:
                outcome = Failed(item, exc)
                counts[1] += 1
            results[index] = outcome
            if progress is not None:
                report_progress(progress, counts, total, outcome)

    workers = min(concurrency, total)
    if workers == 1:
        await worker()
    elif workers:
        await _run_workers(worker, workers)
    return BulkResult(tuple(results))  # type: ignore[arg-type]


async def _run_workers(worker: Callable[[], Awaitable[None]], count: int) -> None:
    """Run ``count`` copies of ``worker``; on cancellation or error, stop and await them all.

    ``asyncio.wait``, not ``gather``: a cancelled ``gather`` cancels the workers again each
    time the caller is cancelled again, which a level-triggered cancel scope does, and a
    worker's own ``finally`` would be cut short. Workers catch ``Exception`` per item, so
    only cancellation or a BaseException stops the pool early.
    """
    tasks = [asyncio.ensure_future(worker()) for _ in range(count)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        await _cancel_and_await(tasks)
        raise
    failed = next((t for t in tasks if t.done() and (t.cancelled() or t.exception())), None)
    if failed is not None:  # a worker was cancelled from outside or raised a BaseException
        await _cancel_and_await(tasks)
        failed.result()  # raises it


async def _cancel_and_await(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel every task and wait until each has finished.

    A level-triggered cancel scope (anyio's) cancels the waiting task again and again;
    the wait goes on through those repeats, and one ``CancelledError`` is raised at the
    end if any arrived, so the cancellation is never lost. The loop ends when every task
    has finished.
    """
    for task in tasks:
        task.cancel()
    pending = [task for task in tasks if not task.done()]
    cancelled = False
    while pending:
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError:
            cancelled = True
        pending = [task for task in pending if not task.done()]
    for task in tasks:  # mark every result as retrieved: nothing logged at shutdown
        if not task.cancelled():
            task.exception()
    if cancelled:
        raise asyncio.CancelledError


# -- streaming ---------------------------------------------------------------------------


class _End:
    """The input is exhausted."""


_END = _End()


class _Done:
    """Queue marker: the last worker finished; carries a BaseException to re-raise."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def imap(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT] | AsyncIterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncGenerator[Outcome[ItemT, ValueT], None]:
    """Await ``fn(item)`` for each item, yielding each outcome as soon as it is ready.

    The arguments are checked here, before anything runs; the returned async generator
    starts pulling items on its first iteration.
    """
    _check_fn(fn)
    check_concurrency(concurrency)
    if not isinstance(items, (Iterable, AsyncIterable)):
        raise InvalidInputError(
            "items", f"must be an iterable or an async iterable, got {type(items).__name__}"
        )
    return _imap(fn, items, concurrency)


async def _imap(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT] | AsyncIterable[ItemT],
    concurrency: int,
) -> AsyncGenerator[Outcome[ItemT, ValueT], None]:
    # At most ``concurrency`` items are out of the input and not yet handed to the
    # consumer: a worker takes a slot before it pulls an item, and the consumer gives the
    # slot back when it asks for the next outcome, so a slow consumer pauses the workers
    # instead of piling up outcomes.
    slots = asyncio.Semaphore(concurrency)
    ready: asyncio.Queue[Outcome[ItemT, ValueT] | _Done] = asyncio.Queue()
    running = [0]
    closing = False
    tasks: list[asyncio.Task[None]] = []
    if isinstance(items, AsyncIterable):
        source = items.__aiter__()
        pulling = asyncio.Lock()  # one __anext__ at a time: an async generator demands it

        async def pull() -> ItemT | _End:
            async with pulling:
                try:
                    return await source.__anext__()
                except StopAsyncIteration:
                    return _END
    else:
        iterator = iter(items)

        async def pull() -> ItemT | _End:
            return next(iterator, _END)

    async def worker() -> None:
        try:
            while True:
                await slots.acquire()
                if closing:  # fn swallowed the cancellation: still, no new items
                    return
                pulled = await pull()
                if pulled is _END:
                    slots.release()
                    break
                item = cast(ItemT, pulled)
                del pulled
                if len(tasks) < concurrency:
                    spawn()  # workers start as items arrive: never more than there are items
                try:
                    outcome: Outcome[ItemT, ValueT] = Succeeded(item, await fn(item))
                except Exception as exc:
                    outcome = Failed(item, exc)
                ready.put_nowait(outcome)
                del item, outcome
        except BaseException as exc:
            # The input raised, fn raised a BaseException, or the worker was cancelled
            # by something other than the stream closing: the stream ends with it.
            if not closing:
                ready.put_nowait(_Done(exc))
            if not isinstance(exc, Exception):
                raise
            return
        running[0] -= 1
        if running[0] == 0:
            ready.put_nowait(_Done(None))

    def spawn() -> None:
        running[0] += 1
        tasks.append(asyncio.ensure_future(worker()))

    spawn()
    try:
        while True:
            got = await ready.get()
            if type(got) is _Done:
                if got.error is not None:
                    raise got.error
                return
            yield got  # type: ignore[misc]
            del got
            slots.release()
    finally:
        closing = True
        await _cancel_and_await(tasks)


def report_progress(
    progress: ProgressCallback, counts: list[int], total: int, outcome: Outcome[Any, Any]
) -> None:
    """Call a progress callback; a callback that raises is logged, never propagated."""
    try:
        progress(BulkProgress(counts[0] + counts[1], total, counts[0], counts[1], outcome))
    except Exception:
        logger.exception("a bulk progress callback raised; the bulk call goes on")
