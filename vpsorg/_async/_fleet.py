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
import math
import operator
import sys
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
    Sized,
)
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from .._exceptions import InvalidInputError, OutcomeUnknownError
from ..models import BulkResult, Failed, NotStartedError, Outcome, Succeeded

if TYPE_CHECKING:
    from .._journal import JournalRun

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BulkProgress",
    "MaxErrors",
    "ProgressCallback",
    "check_concurrency",
    "error_allowance",
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
        batch: in a rolling operation, the number (from 1) of the batch the item is in;
            else ``None``.
        batches: in a rolling operation, how many batches it has; else ``None``.
    """

    completed: int
    total: int
    succeeded: int
    failed: int
    outcome: Outcome[object, object]
    batch: int | None = None
    batches: int | None = None


ProgressCallback = Callable[[BulkProgress], object]
"""A progress callback: called in the event loop after each item, with a BulkProgress."""


def check_concurrency(concurrency: object) -> int:
    """A positive integer concurrency."""
    if type(concurrency) is not int or concurrency < 1:
        raise InvalidInputError("concurrency", f"must be a positive integer, got {concurrency!r}")
    return concurrency


MaxErrors = int | float | str | None
"""An error budget: a count (``3``), a fraction of the items (``0.1``) or a percentage
(``"10%"``); ``None`` for no budget."""

_NO_BUDGET = sys.maxsize


def error_allowance(max_errors: object, total: int | None) -> int:
    """How many failed items a call may have before it stops starting new ones.

    ``None`` is no budget. An ``int`` (0 or more) is a count; a ``float`` from 0 to 1 or
    a string ``"N%"`` (N from 0 to 100) is that share of ``total``, rounded down. The
    call stops when its failures *exceed* the allowance, as AWS Run Command's
    ``MaxErrors`` does: ``max_errors=0`` stops at the first failure.

    Raises:
        InvalidInputError: not one of those, or a share where ``total`` is not known.
    """
    if max_errors is None:
        return _NO_BUDGET
    share: float | None = None
    if isinstance(max_errors, bool):
        pass
    elif isinstance(max_errors, int):
        if max_errors >= 0:
            return max_errors
    elif isinstance(max_errors, float):
        if math.isfinite(max_errors) and 0.0 <= max_errors <= 1.0:
            share = max_errors
    elif isinstance(max_errors, str):
        share = _percentage(max_errors)
    if share is None:
        raise InvalidInputError(
            "max_errors",
            "must be a count (an int, 0 or more), a fraction from 0 to 1 (0.1) or a "
            f"percentage string ('10%'), or None; got {max_errors!r}",
        )
    if total is None:
        raise InvalidInputError(
            "max_errors",
            f"is a share of the items ({max_errors!r}), but their number is unknown "
            "(an iterator or async iterable): give a count, or a list",
        )
    return math.floor(share * total + 1e-9)


def _percentage(text: str) -> float | None:
    """``"25%"`` as 0.25; ``None`` when ``text`` is not a percentage from 0 to 100."""
    number = text.strip()
    if not number.endswith("%"):
        return None
    try:
        value = float(number[:-1])
    except ValueError:
        return None
    return value / 100 if math.isfinite(value) and 0.0 <= value <= 100.0 else None


def _check_fn(fn: object) -> None:
    if not callable(fn):
        raise InvalidInputError("fn", f"must be a coroutine function, got {type(fn).__name__}")


async def run_bulk(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
    max_errors: MaxErrors = None,
    journal: JournalRun[ItemT, ValueT] | None = None,
    in_flight_error: Callable[[ItemT], Exception] | None = None,
    keep: Callable[[ValueT], ValueT] | None = None,
) -> BulkResult[ItemT, ValueT]:
    """Run ``fn`` on every item, at most ``concurrency`` at a time.

    Every item gets an [`Outcome`][vpsorg.Outcome], in input order; an ``Exception`` raised
    for one item is kept in its outcome and never stops the others. When more items than
    ``max_errors`` allows have failed, no new item starts: those in flight finish, and
    each item not started is a ``Failed`` holding a ``NotStartedError``. Cancelling the
    call (or any ``BaseException``) cancels every worker and waits for them, so nothing
    keeps running; the exception raised carries the partial result in
    ``partial_result``, where an item in flight holds ``in_flight_error(item)`` (by
    default an ``OutcomeUnknownError``). With a ``journal``, each item runs through it
    (``journal.run(index, item, fn)``): it records the item's state and skips what a
    previous run finished. ``keep``, when given, is applied to each value before its
    outcome keeps it (``get_many`` shares the equal parts of the servers it keeps).
    """
    _check_fn(fn)
    check_concurrency(concurrency)
    if progress is not None and not callable(progress):
        raise InvalidInputError("progress", "must be a callable or None")
    if not isinstance(items, Iterable):
        raise InvalidInputError("items", f"must be an iterable, got {type(items).__name__}")
    pending = list(items)
    total = len(pending)
    allowed = error_allowance(max_errors, total)
    results: list[Outcome[ItemT, ValueT] | None] = [None] * total
    indexes = iter(range(total))
    counts = [0, 0]  # succeeded, failed
    workers = min(concurrency, total)
    stopped: list[bool] = [False]

    async def worker() -> None:
        for index in indexes:
            item = pending[index]
            try:
                if journal is None:
                    value = await fn(item)
                else:
                    value = await journal.run(index, item, fn)
                outcome: Outcome[ItemT, ValueT] = Succeeded(
                    item, value if keep is None else keep(value)
                )
                counts[0] += 1
            except Exception as exc:
                outcome = Failed(item, exc)
                counts[1] += 1
                if counts[1] > allowed and not stopped[0]:
                    stopped[0] = True
                    for _ in indexes:  # no new item starts; the others finish theirs
                        pass
            results[index] = outcome
            if progress is not None:
                report_progress(progress, counts, total, outcome)

    try:
        if workers == 1:
            await worker()
        elif workers:
            await _run_workers(worker, workers)
    except BaseException as interrupt:
        # Indexes are taken in order: those taken and without an outcome were in flight.
        started = total - operator.length_hint(indexes)
        outcomes = [
            outcome
            if outcome is not None
            else Failed(
                pending[index],
                _interrupted(pending[index], in_flight_error)
                if index < started
                else NotStartedError("interrupted"),
            )
            for index, outcome in enumerate(results)
        ]
        _attach_partial(interrupt, BulkResult(tuple(outcomes), "interrupted"))
        raise
    if not stopped[0]:
        return BulkResult(tuple(results))  # type: ignore[arg-type]
    return BulkResult(
        tuple(
            outcome
            if outcome is not None
            else Failed(pending[index], NotStartedError("max_errors"))
            for index, outcome in enumerate(results)
        ),
        "max_errors",
    )


def _interrupted(item: ItemT, in_flight_error: Callable[[ItemT], Exception] | None) -> Exception:
    """The error of an item in flight when its bulk call was interrupted."""
    if in_flight_error is not None:
        try:
            return in_flight_error(item)
        except Exception:  # a spec that does not convert: the plain error below says enough
            pass
    return OutcomeUnknownError(
        "the bulk call was interrupted while this item was in flight: its request may or "
        "may not have reached the API"
    )


def _attach_partial(error: BaseException, result: BulkResult[Any, Any]) -> None:
    """Record on the exception ending a bulk call its partial result (see partial_result)."""
    try:  # an outer call (a rolling operation over its batches) replaces an inner one's
        error.partial_result = result  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # an exception with __slots__
        logger.warning("could not attach the partial bulk result to %r", type(error).__name__)


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
    max_errors: MaxErrors = None,
) -> AsyncGenerator[Outcome[ItemT, ValueT], None]:
    """Await ``fn(item)`` for each item, yielding each outcome as soon as it is ready.

    The arguments are checked here, before anything runs; the returned async generator
    starts pulling items on its first iteration. Once more items than ``max_errors``
    allows have failed, no further item starts: the items in flight are yielded, then,
    for a sized input (a list), each item not started as a ``NotStartedError`` outcome;
    an iterator is not pulled further (it may be endless). A share needs a sized input.
    """
    _check_fn(fn)
    check_concurrency(concurrency)
    if not isinstance(items, (Iterable, AsyncIterable)):
        raise InvalidInputError(
            "items", f"must be an iterable or an async iterable, got {type(items).__name__}"
        )
    allowed = error_allowance(max_errors, len(items) if isinstance(items, Sized) else None)
    return _imap(fn, items, concurrency, allowed)


async def _imap(
    fn: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT] | AsyncIterable[ItemT],
    concurrency: int,
    allowed: int = _NO_BUDGET,
) -> AsyncGenerator[Outcome[ItemT, ValueT], None]:
    # At most ``concurrency`` items are out of the input and not yet handed to the
    # consumer: a worker takes a slot before it pulls an item, and the consumer gives the
    # slot back when it asks for the next outcome, so a slow consumer pauses the workers
    # instead of piling up outcomes.
    slots = asyncio.Semaphore(concurrency)
    ready: asyncio.Queue[Outcome[ItemT, ValueT] | _Done] = asyncio.Queue()
    running = [0]
    failures = [0]
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
                if failures[0] > allowed:  # the error budget is spent: no new items
                    slots.release()
                    break
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
                    failures[0] += 1
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
                break
            yield got  # type: ignore[misc]
            del got
            slots.release()
    finally:
        closing = True
        await _cancel_and_await(tasks)
    if failures[0] > allowed and isinstance(items, Sized) and not isinstance(items, AsyncIterable):
        # A finite input of known length: every item never pulled gets its outcome too.
        for item in iterator:
            yield Failed(item, NotStartedError("max_errors"))


def report_progress(
    progress: ProgressCallback, counts: list[int], total: int, outcome: Outcome[Any, Any]
) -> None:
    """Call a progress callback; a callback that raises is logged, never propagated."""
    try:
        progress(BulkProgress(counts[0] + counts[1], total, counts[0], counts[1], outcome))
    except Exception:
        logger.exception("a bulk progress callback raised; the bulk call goes on")


async def within_budget(
    run: Callable[[ProgressCallback], Awaitable[BulkResult[ItemT, ValueT]]],
    items: Sequence[ItemT],
    max_errors: MaxErrors,
    progress: ProgressCallback | None,
) -> BulkResult[ItemT, ValueT]:
    """Run a bulk call that has no budget of its own (a sweep), ending it once spent.

    ``run(callback)`` is the bulk call, reporting each finished item to ``callback``.
    Once more items than ``max_errors`` allows have failed, the call is cancelled; every
    item without an outcome then holds a ``NotStartedError("max_errors")``.
    """
    allowed = error_allowance(max_errors, len(items))
    seen: dict[Any, Outcome[ItemT, ValueT]] = {}  # by item: server ids
    failures = [0]
    spent = [False]

    def on_progress(report: BulkProgress) -> None:
        outcome = cast("Outcome[ItemT, ValueT]", report.outcome)
        seen[outcome.item] = outcome
        if not outcome.ok:
            failures[0] += 1
            if failures[0] > allowed and not spent[0]:
                spent[0] = True
                task.cancel()
        if progress is not None:
            progress(report)

    task = asyncio.ensure_future(run(on_progress))
    try:
        return await task
    except asyncio.CancelledError:
        if not spent[0] or not task.cancelled():
            raise
        cancelling = getattr(asyncio.current_task(), "cancelling", None)  # Python 3.11+
        if cancelling is not None and cancelling():
            raise  # the caller was cancelled too
    return BulkResult(
        tuple(seen.get(item) or Failed(item, NotStartedError("max_errors")) for item in items),
        "max_errors",
    )
