"""Bounded-concurrency bulk execution with one outcome per item.

A pool of ``concurrency`` workers pulls item indexes from one shared iterator, instead of
one task per item behind a semaphore: measured on a 2-core machine that shape is about
1.6 times faster at 20,000 items and keeps memory flat (no task or coroutine per item).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import attrs

from .._exceptions import InvalidInputError
from ..models import BulkResult, Outcome

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BulkProgress",
    "ProgressCallback",
    "check_concurrency",
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
        outcome: the :class:`~vpsorg.Outcome` of the item that just finished.
    """

    completed: int
    total: int
    succeeded: int
    failed: int
    outcome: Outcome[object, object]


#: A progress callback: called in the event loop after each item, with a BulkProgress.
ProgressCallback = Callable[[BulkProgress], object]


def check_concurrency(concurrency: object) -> int:
    """A positive integer concurrency."""
    if type(concurrency) is not int or concurrency < 1:
        raise InvalidInputError("concurrency", f"must be a positive integer, got {concurrency!r}")
    return concurrency


async def run_bulk(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
) -> BulkResult[ItemT, ValueT]:
    """Run ``fn`` on every item, at most ``concurrency`` at a time.

    Every item gets an :class:`~vpsorg.Outcome`, in input order; an ``Exception`` raised
    for one item is kept in its outcome and never stops the others. Cancelling the call
    cancels every worker and waits for them, so nothing keeps running.
    """
    check_concurrency(concurrency)
    if progress is not None and not callable(progress):
        raise InvalidInputError("progress", "must be a callable or None")
    pending = list(items)
    total = len(pending)
    results: list[Outcome[ItemT, ValueT] | None] = [None] * total
    indexes = iter(range(total))
    counts = [0, 0]  # succeeded, failed

    async def worker() -> None:
        for index in indexes:
            item = pending[index]
            try:
                outcome: Outcome[ItemT, ValueT] = Outcome(item, await fn(item))
                counts[0] += 1
            except Exception as exc:
                outcome = Outcome(item, None, exc)
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

    Plain asyncio tasks: an anyio task group cost about 11 us per worker to start
    (measured by benchmarks.layers), which showed at concurrency 1,000. Workers catch
    ``Exception`` per item, so only cancellation or a BaseException gets here.
    """
    tasks = [asyncio.ensure_future(worker()) for _ in range(count)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def report_progress(
    progress: ProgressCallback, counts: list[int], total: int, outcome: Outcome[Any, Any]
) -> None:
    """Call a progress callback; a callback that raises is logged, never propagated."""
    try:
        progress(BulkProgress(counts[0] + counts[1], total, counts[0], counts[1], outcome))
    except Exception:
        logger.exception("a bulk progress callback raised; the bulk call goes on")
