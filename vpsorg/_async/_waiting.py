"""Waiting for servers to reach a status: one server by polling, many by list sweeps.

The resource supplies how to fetch one server and how to list them all; this module owns
the polling schedule and the timeouts. Each timeout is an anyio cancel scope around the
whole wait, so it bounds the requests inside it too: a status check that hangs, or that
retries for minutes, is cancelled when the wait's time is up, and the wait raises
:class:`~vpsorg.WaitTimeoutError` carrying the last server seen.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence

import anyio

from .._exceptions import InvalidInputError, NotFoundError, VPSOrgError, WaitTimeoutError
from .._validation import check_id
from ..models import BulkResult, Failed, Outcome, Server, Succeeded
from ._fleet import ProgressCallback, report_progress, run_bulk

__all__ = ["FIRST_INTERVAL", "MAX_INTERVAL", "SWEEP_PAGE_SIZE", "wait_for_all", "wait_for_one"]

#: Seconds of the first pause between checks; each pause is half as long again.
FIRST_INTERVAL = 1.0
#: The longest pause between two checks, in seconds.
MAX_INTERVAL = 10.0
#: The page size a ``wait_for_many`` sweep asks for.
SWEEP_PAGE_SIZE = 500

GetOne = Callable[[int], Awaitable[Server]]
ListAll = Callable[[], AsyncIterable[Server]]


def _pause(pause: float) -> float:
    """``pause`` shortened by a random amount of up to half, so waiters do not align."""
    return pause * (0.5 + random.random() / 2)


async def wait_for_one(
    get: GetOne,
    server_id: int,
    wanted: Sequence[str],
    *,
    within: float,
    interval: float,
    max_interval: float,
) -> Server:
    """Poll ``get(server_id)`` until its status is in ``wanted``; the first check is at once.

    Raises:
        WaitTimeoutError: ``within`` seconds passed, whatever was running then (a pause
            or a status check) is cancelled.
        NotFoundError: the server does not exist or disappeared.
    """
    wanted_set = frozenset(wanted)
    last: Server | None = None
    pause = interval
    with anyio.move_on_after(within):
        while True:
            last = await get(server_id)
            if last.status in wanted_set:
                return last
            await anyio.sleep(_pause(pause))
            pause = min(pause * 1.5, max_interval)
    raise WaitTimeoutError(server_id, _label(wanted), within, last)


async def wait_for_all(
    get: GetOne,
    list_all: ListAll,
    server_ids: Sequence[object],
    wanted: Sequence[str],
    *,
    within: float,
    interval: float,
    max_interval: float,
    concurrency: int,
    progress: ProgressCallback | None,
) -> BulkResult[int, Server]:
    """Wait until every server has a status in ``wanted``; one outcome per id, in order.

    Each round is one sweep of ``list_all()``; a server missing from a sweep is checked
    with ``get`` (``concurrency`` at a time) so a deleted one fails at once. An id that
    is not a positive integer fails at once with :class:`~vpsorg.InvalidInputError`.
    """
    sweeper = _Sweeper(get, list_all, server_ids, wanted, within, concurrency, progress)
    return await sweeper.run(interval, max_interval)


def _label(wanted: Sequence[str]) -> str | Sequence[str]:
    return wanted[0] if len(wanted) == 1 else list(wanted)


class _Sweeper:
    """The state of one ``wait_for_many`` call: which ids are still pending."""

    def __init__(
        self,
        get: GetOne,
        list_all: ListAll,
        ids: Sequence[object],
        wanted: Sequence[str],
        timeout: float,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.get = get
        self.list_all = list_all
        self.ids = ids
        self.wanted = frozenset(wanted)
        self.label = _label(wanted)
        self.timeout = timeout
        self.concurrency = concurrency
        self.progress = progress
        self.done: dict[int, Server | BaseException] = {}
        self.invalid: dict[int, InvalidInputError] = {}  # by position: the id may be anything
        self.last: dict[int, Server] = {}
        self.counts = [0, 0]  # succeeded, failed

    async def run(self, interval: float, max_interval: float) -> BulkResult[int, Server]:
        pending: set[int] = set()
        for index, server_id in enumerate(self.ids):
            try:
                pending.add(check_id(server_id))
            except InvalidInputError as exc:
                self.invalid[index] = exc
                self._report(server_id, exc)
        pause = interval
        with anyio.move_on_after(self.timeout):
            while pending:
                try:
                    await self._sweep(pending)
                except VPSOrgError as exc:
                    if not isinstance(exc, NotFoundError):
                        for server_id in pending:
                            self._finish(server_id, exc)
                        break
                pending = {i for i in pending if i not in self.done}
                if not pending:
                    break
                await anyio.sleep(_pause(pause))
                pause = min(pause * 1.5, max_interval)
        for server_id in sorted(i for i in pending if i not in self.done):
            error = WaitTimeoutError(server_id, self.label, self.timeout, self.last.get(server_id))
            self._finish(server_id, error)
        return self._result()

    async def _sweep(self, pending: set[int]) -> None:
        seen: set[int] = set()
        async for server in self.list_all():
            if server.id in pending:
                seen.add(server.id)
                self.last[server.id] = server
                if server.status in self.wanted:
                    self._finish(server.id, server)
        missing = sorted(pending - seen)
        if missing:
            checked = await run_bulk(self.get, missing, concurrency=self.concurrency)
            for outcome in checked:
                if isinstance(outcome.error, NotFoundError):
                    self._finish(outcome.item, outcome.error)
                elif outcome.value is not None:
                    self.last[outcome.item] = outcome.value
                    if outcome.value.status in self.wanted:
                        self._finish(outcome.item, outcome.value)

    def _finish(self, server_id: int, result: Server | BaseException) -> None:
        if server_id in self.done:
            return
        self.done[server_id] = result
        self._report(server_id, result)

    def _report(self, server_id: object, result: Server | BaseException) -> None:
        self.counts[0 if isinstance(result, Server) else 1] += 1
        if self.progress is not None:
            report_progress(self.progress, self.counts, len(self.ids), _outcome(server_id, result))

    def _result(self) -> BulkResult[int, Server]:
        return BulkResult(
            tuple(
                _outcome(server_id, self.invalid.get(index) or self.done[server_id])  # type: ignore[index]
                for index, server_id in enumerate(self.ids)
            )
        )


def _outcome(server_id: object, result: Server | BaseException) -> Outcome[int, Server]:
    if isinstance(result, BaseException):
        return Failed(server_id, result)  # type: ignore[arg-type]
    return Succeeded(server_id, result)  # type: ignore[arg-type]
