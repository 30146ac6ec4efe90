"""Run any coroutine function over many items with bounded concurrency.

The same engine as the bulk methods of ``client.servers``::

    async def resize_note(server_id: int) -> str:
        server = await client.servers.get(server_id)
        return f"{server.name}: {server.plan.name}"

    result = await vpsorg.fleet.map(resize_note, ids, concurrency=20)
    for outcome in result.failed:
        print(outcome.item, outcome.error)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from ._async._fleet import DEFAULT_CONCURRENCY, BulkProgress, ProgressCallback, run_bulk
from .models import BulkResult

__all__ = ["DEFAULT_CONCURRENCY", "BulkProgress", "ProgressCallback", "map"]

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
        progress: called with a :class:`BulkProgress` after each item finishes.

    Returns:
        A :class:`~vpsorg.BulkResult`: one :class:`~vpsorg.Outcome` per item, in input
        order. An exception raised for one item is kept in its outcome; it never stops
        the others and never escapes. Cancelling the call cancels every worker.
    """
    return await run_bulk(fn, items, concurrency=concurrency, progress=progress)
