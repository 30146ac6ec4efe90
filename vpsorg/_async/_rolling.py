"""Rolling operations: act on a fleet in batches, each checked healthy before the next.

The shape is Ansible's ``serial`` with ``max_fail_percentage``, or a Kubernetes rolling
update: the items are cut into batches (a size, a share of the items, or a list of sizes
whose last repeats); each batch is acted on (a bulk call), then the items whose action
succeeded are checked (waited healthy); after an optional pause the next batch starts.
The error budget counts failures (of the action or of the check) across batches: the
batch in which it is exceeded finishes, and no later batch starts. Both the servers'
``rolling`` method and ``vpsorg.fleet.rolling`` run on `run_rolling`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .._exceptions import InvalidInputError, OutcomeUnknownError
from .._validation import check_pause_seconds
from ..models import BulkResult, Failed, NotStartedError, Outcome, partial_result
from ._fleet import (
    BulkProgress,
    MaxErrors,
    ProgressCallback,
    _attach_partial,
    _percentage,
    error_allowance,
)

__all__ = ["BatchSize", "Batches", "batch_sizes", "run_rolling"]

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")
CheckT = TypeVar("CheckT")

BatchSize = int | float | str
"""One batch size: a count (``5``), a share of the items (``0.25``) or ``"25%"``."""

Batches = BatchSize | Sequence[BatchSize]
"""Batch sizes as Ansible's ``serial``: one size, or a list (``[1, 5, "25%"]``) whose
last size repeats until every item is in a batch."""


#: ``act(batch, max_errors=n, progress=cb)``: a bulk call over one batch.
_Act = Callable[..., Awaitable[BulkResult[ItemT, ValueT]]]
#: ``check(items, progress=cb)``: a bulk call over the items whose action succeeded.
_Check = Callable[..., Awaitable[BulkResult[ItemT, CheckT]]]


def _one_size(size: object, total: int) -> int:
    if isinstance(size, bool):
        share = None
    elif isinstance(size, int):
        if size >= 1:
            return size
        share = None
    elif isinstance(size, float):
        share = size if math.isfinite(size) and 0.0 < size <= 1.0 else None
    elif isinstance(size, str):
        share = _percentage(size)
        share = share if share else None
    else:
        share = None
    if share is None:
        raise InvalidInputError(
            "batches",
            "each batch size must be a count (an int, 1 or more), a fraction in (0, 1] "
            f"(0.25) or a percentage string ('25%'); got {size!r}",
        )
    return max(1, math.floor(share * total + 1e-9))


def batch_sizes(batches: object, total: int) -> list[int]:
    """The size of each batch for ``total`` items (a share is rounded down, at least 1).

    Raises:
        InvalidInputError: ``batches`` is not a size or a non-empty list of sizes.
    """
    if isinstance(batches, (list, tuple)):
        if not batches:
            raise InvalidInputError("batches", "must not be an empty list")
        sizes = [_one_size(size, total) for size in batches]
    else:
        sizes = [_one_size(batches, total)]
    out: list[int] = []
    left = total
    position = 0
    while left > 0:
        size = min(sizes[min(position, len(sizes) - 1)], left)
        out.append(size)
        left -= size
        position += 1
    return out


class _Progress:
    """Reports each item's final outcome in the roll-out, with its batch number."""

    __slots__ = ("batch", "batches", "callback", "counts", "total")

    def __init__(self, callback: ProgressCallback | None, total: int, batches: int) -> None:
        self.callback = callback
        self.total = total
        self.batches = batches
        self.batch = 0
        self.counts = [0, 0]

    def report(self, outcome: Outcome[Any, Any]) -> None:
        self.counts[0 if outcome.ok else 1] += 1
        if self.callback is None:
            return
        from ._fleet import logger

        done = self.counts[0] + self.counts[1]
        progress = BulkProgress(
            done, self.total, self.counts[0], self.counts[1], outcome, self.batch, self.batches
        )
        try:
            self.callback(progress)
        except Exception:
            logger.exception("a bulk progress callback raised; the bulk call goes on")

    def on_action(self, progress: BulkProgress) -> None:
        """An item's action finished: final only if it failed (else its check follows)."""
        if not progress.outcome.ok:
            self.report(progress.outcome)

    def on_check(self, progress: BulkProgress) -> None:
        self.report(progress.outcome)


async def run_rolling(
    act: _Act[ItemT, ValueT],
    check: _Check[ItemT, CheckT] | None,
    items: Sequence[ItemT],
    *,
    batches: Batches,
    pause: float = 0.0,
    max_errors: MaxErrors = None,
    progress: ProgressCallback | None = None,
) -> BulkResult[ItemT, Any]:
    """Act on ``items`` batch by batch; see the module docstring.

    ``act(batch, max_errors=n, progress=cb)`` is a bulk call over one batch that stops
    starting items once more than ``n`` failed; ``check(items, progress=cb)`` (optional)
    is a bulk call over the batch's items whose action succeeded. An item's outcome is its
    action's failure, or else its check's outcome (its action's, without a check).
    """
    sizes = batch_sizes(batches, len(items))
    pause = check_pause_seconds(pause, "pause")
    allowed = error_allowance(max_errors, len(items))
    report = _Progress(progress, len(items), len(sizes))
    outcomes: list[Outcome[ItemT, Any]] = []
    failures = 0
    start = 0
    batch: list[ItemT] = []
    acted: BulkResult[ItemT, Any] | None = None  # the current batch's, once acted on
    try:
        for number, size in enumerate(sizes, start=1):
            if number > 1 and pause:
                await asyncio.sleep(pause)
            report.batch = number
            batch, acted = list(items[start : start + size]), None
            acted = await act(batch, max_errors=allowed - failures, progress=report.on_action)
            if check is None:
                for outcome in acted:
                    if outcome.ok:
                        report.report(outcome)
                outcomes.extend(acted)
            else:
                healthy = [o.item for o in acted if o.ok]
                checked = await check(healthy, progress=report.on_check) if healthy else None
                outcomes.extend(_merge(acted, checked))
            start += size
            batch, acted = [], None
            failures = sum(1 for o in outcomes if not o.ok and type(o.error) is not NotStartedError)
            if failures > allowed and start < len(items):
                outcomes.extend(
                    Failed(item, NotStartedError("max_errors")) for item in items[start:]
                )
                return BulkResult(tuple(outcomes), "max_errors")
    except BaseException as interrupt:
        current = _interrupted_batch(partial_result(interrupt), batch, acted)
        rest = (
            Failed(item, NotStartedError("interrupted")) for item in items[start + len(batch) :]
        )
        _attach_partial(interrupt, BulkResult((*outcomes, *current, *rest), "interrupted"))
        raise
    stopped = any(type(o.error) is NotStartedError for o in outcomes)
    return BulkResult(tuple(outcomes), "max_errors" if stopped else None)


def _merge(
    acted: BulkResult[ItemT, Any], checked: BulkResult[ItemT, Any] | None
) -> list[Outcome[ItemT, Any]]:
    """Each item's outcome in batch order: the action's failure, or its check's outcome."""
    if checked is None:
        return list(acted)
    followed = iter(checked)
    return [next(followed) if outcome.ok else outcome for outcome in acted]


def _unchecked(item: ItemT) -> Failed[ItemT]:
    return Failed(
        item,
        OutcomeUnknownError(
            "the rolling operation was interrupted after this item's action was accepted "
            "and before it was seen healthy"
        ),
    )


def _interrupted_batch(
    inner: BulkResult[ItemT, Any] | None,
    batch: list[ItemT],
    acted: BulkResult[ItemT, Any] | None,
) -> list[Outcome[ItemT, Any]]:
    """The outcomes of the batch a roll-out was interrupted in.

    Interrupted while acting, the action's partial result holds each item's outcome; one
    whose action was accepted is of unknown health. Interrupted while checking, an item
    keeps its action's failure, or its check's outcome when the check left one.
    """
    if acted is None:
        if inner is None or len(inner) != len(batch):
            return [_unchecked(item) for item in batch]
        return [_unchecked(o.item) if o.ok else o for o in inner]
    checked = iter(inner) if inner is not None and len(inner) == len(acted.succeeded) else None
    return [
        o if not o.ok else (next(checked) if checked is not None else _unchecked(o.item))
        for o in acted
    ]
