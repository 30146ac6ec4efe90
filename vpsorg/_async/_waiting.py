"""Waiting for servers to reach a status: one server by polling, many by the cheaper of
list sweeps and per-server GETs each round.

The resource supplies how to fetch one server and how to list them all; this module owns
the polling schedule and the timeouts. Each timeout is an anyio cancel scope around the
whole wait, so it bounds the requests inside it too: a status check that hangs, or that
retries for minutes, is cancelled when the wait's time is up, and the wait raises
[`WaitTimeoutError`][vpsorg.WaitTimeoutError] carrying the last server seen.

A wait also stops early, with [`UnreachableStatusError`][vpsorg.UnreachableStatusError],
when the server is seen in a status from which the wanted one cannot come without another action
(`DEFAULT_FAIL_ON` has the defaults per wanted status; ``fail_on`` changes them).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import anyio
import attrs

from .._exceptions import (
    InvalidInputError,
    NotFoundError,
    UnreachableStatusError,
    VPSOrgError,
    WaitTimeoutError,
)
from .._validation import check_id, check_statuses
from ..models import BulkResult, Failed, Outcome, Server, Succeeded
from ._fleet import ProgressCallback, report_progress, run_bulk
from ._pagination import Page

__all__ = [
    "DEFAULT_FAIL_ON",
    "FILTER_STATUSES",
    "FIRST_INTERVAL",
    "MAX_INTERVAL",
    "SWEEP_PAGE_SIZE",
    "WaitProgress",
    "WaitProgressCallback",
    "fail_statuses",
    "wait_for_all",
    "wait_for_one",
]

logger = logging.getLogger("vpsorg")

FIRST_INTERVAL = 1.0
"""Seconds of the first pause between checks; each pause is half as long again."""
MAX_INTERVAL = 10.0
"""The longest pause between two checks, in seconds."""
SWEEP_PAGE_SIZE = 500
"""The page size a ``wait_for_many`` sweep asks for."""

GetOne = Callable[[int], Awaitable[Server]]
ListPages = Callable[[str | None], AsyncIterator[Page[Server]]]
"""Lists the account's servers page by page: all of them, or those with one status."""

FILTER_STATUSES: frozenset[str] = frozenset({"active", "stopped", "suspended"})
"""The values of the list's ``status`` filter in the API reference: the only ones a wait
lists by (another value may be ignored, refused or answered with nothing)."""

DEFAULT_FAIL_ON: Mapping[str, frozenset[str]] = {
    "active": frozenset({"suspended", "stopping", "stopped"}),
    "stopped": frozenset({"suspended", "provisioning", "starting", "rebooting"}),
    "provisioning": frozenset({"suspended"}),
    "starting": frozenset({"suspended"}),
    "stopping": frozenset({"suspended"}),
    "rebooting": frozenset({"suspended"}),
}
"""For each status one can wait for, the statuses that end the wait at once, because the
wanted one cannot follow them without another action (the API's transitions: create
``provisioning`` -> ``active``; start ``stopped`` -> ``starting`` -> ``active``; stop
``active`` -> ``stopping`` -> ``stopped``; reboot ``active`` -> ``rebooting`` ->
``active``; ``suspended`` is set by the provider, from any status).

* ``active``: ``suspended``; ``stopping`` and ``stopped`` (a stop was made; only a
  start brings it back. ``start()`` returns once the API has the server ``starting``,
  so a wait after it does not see ``stopped``).
* ``stopped``: ``suspended``; ``provisioning``, ``starting`` and ``rebooting`` (each
  ends ``active``; only a stop made after it brings ``stopped``).
* ``provisioning``, ``starting``, ``stopping``, ``rebooting``: ``suspended``.
* ``suspended``, and any status vpsorg does not know: nothing.
"""


def fail_statuses(wanted: Sequence[str], fail_on: object) -> frozenset[str]:
    """The statuses that end a wait for ``wanted`` with UnreachableStatusError.

    ``fail_on=None`` takes the defaults: for one wanted status, its
    `DEFAULT_FAIL_ON` entry; for several, the statuses every one of them fails on
    (waiting for ``["active", "stopped"]`` fails on ``suspended`` only). Otherwise
    ``fail_on`` is a status or a list of them (an empty list: never fail early). A status
    both wanted and in ``fail_on`` counts as wanted.
    """
    if fail_on is None:
        sets = [DEFAULT_FAIL_ON.get(status, frozenset()) for status in wanted]
        chosen = frozenset.intersection(*sets)
    elif isinstance(fail_on, (list, tuple, set, frozenset)) and not fail_on:
        chosen = frozenset()
    else:
        chosen = frozenset(check_statuses(fail_on, "fail_on"))
    return chosen - frozenset(wanted)


@attrs.frozen(slots=True)
class WaitProgress:
    """Passed to ``wait_for``'s ``progress`` callback after each status check.

    Attributes:
        server_id: the server waited on.
        status: the status waited for (a string, or a list of them).
        checks: status checks made so far (1 after the first).
        elapsed: seconds since the wait began.
        server: the server as this check saw it.
    """

    server_id: int
    status: str | Sequence[str]
    checks: int
    elapsed: float
    server: Server


WaitProgressCallback = Callable[[WaitProgress], object]
"""``wait_for``'s progress callback: called in the event loop after each check."""


def _report_check(progress: WaitProgressCallback, report: WaitProgress) -> None:
    try:
        progress(report)
    except Exception:
        logger.exception("a wait progress callback raised; the wait goes on")


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
    fail_on: frozenset[str] = frozenset(),
    progress: WaitProgressCallback | None = None,
) -> Server:
    """Poll ``get(server_id)`` until its status is in ``wanted``; the first check is at once.

    Raises:
        WaitTimeoutError: ``within`` seconds passed, whatever was running then (a pause
            or a status check) is cancelled.
        UnreachableStatusError: the server was seen in a status of ``fail_on``.
        NotFoundError: the server does not exist or disappeared.
    """
    wanted_set = frozenset(wanted)
    last: Server | None = None
    pause = interval
    checks = 0
    began = time.monotonic()
    with anyio.move_on_after(within):
        while True:
            last = await get(server_id)
            checks += 1
            if progress is not None:
                elapsed = time.monotonic() - began
                report = WaitProgress(server_id, _label(wanted), checks, elapsed, last)
                _report_check(progress, report)
            if last.status in wanted_set:
                return last
            if last.status in fail_on:
                raise UnreachableStatusError(server_id, _label(wanted), last, sorted(fail_on))
            await anyio.sleep(_pause(pause))
            pause = min(pause * 1.5, max_interval)
    raise WaitTimeoutError(server_id, _label(wanted), within, last)


async def wait_for_all(
    get: GetOne,
    list_pages: ListPages,
    server_ids: Sequence[object],
    wanted: Sequence[str],
    *,
    within: float,
    interval: float,
    max_interval: float,
    concurrency: int,
    progress: ProgressCallback | None,
    fail_on: frozenset[str] = frozenset(),
) -> BulkResult[int, Server]:
    """Wait until every server has a status in ``wanted``; one outcome per id, in order.

    Each round observes every pending server once, by whichever checks cost fewer
    requests: one ``get`` per server (``concurrency`` at a time), or a sweep of the
    account's list pages. The size of the listing comes from its first page (``count``
    divided by the page's length) or the last complete sweep; the round GETs the pending
    servers when they are no more than the listing's pages (with nothing known yet: no
    more than one), and otherwise sweeps, stopping the sweep once the servers it has not
    shown yet are no more than its remaining pages, which are then GET. So a round costs
    at most one request more than the cheaper of the two.

    Waiting for one status the list filter has (`FILTER_STATUSES`), once the
    account's listing is known to cost more than a round of GETs would save, a round
    first lists by that status while that listing is at most a tenth of the round's cost
    without it: a server seen there has the status (checked, not assumed). A server not
    seen there is not proven anything, so it is checked as above, by GET or sweep.

    A server missing from a complete sweep, or not shown by a listing that failed with
    404 (a stale ``next`` link), is checked with ``get`` in the same round; a 404 there is
    its [`NotFoundError`][vpsorg.NotFoundError] outcome, another error of its check its outcome
    too. Any other error of an unfiltered listing ends every pending server with it. An
    id that is not a positive integer fails at once with
    [`InvalidInputError`][vpsorg.InvalidInputError]; a server seen in a status of
    ``fail_on`` with [`UnreachableStatusError`][vpsorg.UnreachableStatusError].
    """
    sweeper = _Sweeper(get, list_pages, server_ids, wanted, within, concurrency, progress)
    sweeper.fail_on = fail_on
    return await sweeper.run(interval, max_interval)


def _label(wanted: Sequence[str]) -> str | Sequence[str]:
    return wanted[0] if len(wanted) == 1 else list(wanted)


class _Sweeper:
    """The state of one ``wait_for_many`` call: which ids are still pending, and what the
    listings cost (see `wait_for_all` for the rule that picks each round's checks)."""

    def __init__(
        self,
        get: GetOne,
        list_pages: ListPages,
        ids: Sequence[object],
        wanted: Sequence[str],
        timeout: float,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.get = get
        self.list_pages = list_pages
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
        self.fail_on: frozenset[str] = frozenset()
        # The list filter proves a server has the status it filters on; only the
        # reference's filter values are used, and only for a single wanted status.
        self.filter: str | None = None
        if len(self.wanted) == 1 and self.wanted <= FILTER_STATUSES:
            (self.filter,) = self.wanted
        # Estimated pages of each listing (None: the whole account; else a filter value),
        # from the last first page seen (its ``count`` and length) or a complete listing.
        self.pages: dict[str | None, int] = {}

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
                    await self._round(pending)
                except VPSOrgError as exc:
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

    async def _round(self, pending: set[int]) -> None:
        """One round: observe every pending server once, by the cheapest checks."""
        unseen = set(pending)
        if self.filter is not None and self._filter_may_pay(len(unseen)):
            try:
                await self._list(self.filter, unseen, budget=self._plain_cost(len(unseen)))
            except VPSOrgError as exc:
                # The filter is an optimisation: an API that refuses it is listed without.
                logger.debug("wait_for_many: listing by status failed (%s); not using it", exc)
                self.filter = None
        if unseen and not self._gets_are_cheaper(len(unseen), self.pages.get(None)):
            await self._list(None, unseen)
        if unseen:
            await self._check(sorted(unseen))

    def _plain_cost(self, unseen: int) -> int:
        """Requests a round costs without the filter: per-id GETs or a whole sweep."""
        return min(unseen, self.pages.get(None, unseen))

    def _filter_may_pay(self, unseen: int) -> bool:
        """Whether to list by the wanted status first: only once the whole listing's size
        is known, and while the filtered one is unknown or at most a tenth of the cost of
        the round without it (so a round where nothing has finished yet costs at most a
        tenth more, and one where everything has finished costs that tenth)."""
        if None not in self.pages:
            return False
        filtered = self.pages.get(self.filter)
        return filtered is None or filtered * 10 <= self._plain_cost(unseen)

    @staticmethod
    def _gets_are_cheaper(unseen: int, pages_left: int | None) -> bool:
        """Per-id GETs cost one request each; a listing at least one page (unknown size)."""
        return unseen <= (1 if pages_left is None else pages_left)

    async def _list(self, status: str | None, unseen: set[int], budget: int | None = None) -> None:
        """Observe the servers of one listing, removing each one seen from ``unseen``.

        The listing stops once every server in ``unseen`` was seen. The unfiltered one
        (``budget`` unset) also stops as soon as GETs of the servers not yet seen cost no
        more than its remaining pages; the filtered one as soon as its size is known to
        exceed a tenth of ``budget``. A 404 for a list page (a stale ``next`` link) ends
        the listing: the servers it did not show are then checked one by one.
        """
        fetched = 0
        complete = False
        pages = self.list_pages(status)
        try:
            async for page in pages:
                fetched += 1
                for server in page.results:
                    if server.id in unseen:
                        unseen.discard(server.id)
                        self._observe(server.id, server)
                if fetched == 1:
                    estimate = _page_estimate(page)
                    if estimate is not None:
                        self.pages[status] = estimate
                if page.next is None:
                    complete = True
                    break
                if not unseen:
                    break
                left = self.pages.get(status)
                if left is None:
                    continue
                if budget is None:
                    if self._gets_are_cheaper(len(unseen), left - fetched):
                        break
                elif left * 10 > budget:
                    break
        except NotFoundError as exc:
            logger.debug("wait_for_many: a list page was not found (%s); checking by id", exc)
        finally:
            await _close(pages)
        if complete:
            self.pages[status] = fetched

    async def _check(self, server_ids: Sequence[int]) -> None:
        """One GET per server (``concurrency`` at a time); a failed one ends that server."""
        checked = await run_bulk(self.get, server_ids, concurrency=self.concurrency)
        for outcome in checked:
            if outcome.error is not None:
                self._finish(outcome.item, outcome.error)
            elif outcome.value is not None:
                self._observe(outcome.item, outcome.value)

    def _observe(self, server_id: int, server: Server) -> None:
        self.last[server_id] = server
        if server.status in self.wanted:
            self._finish(server_id, server)
        elif server.status in self.fail_on:
            fail_on = sorted(self.fail_on)
            self._finish(server_id, UnreachableStatusError(server_id, self.label, server, fail_on))

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


def _page_estimate(page: Page[Server]) -> int | None:
    """How many pages a listing has, judged from its first page: ``count`` divided by the
    length of the page (the API may not honour the page size asked for); ``None`` when
    the page does not say (no ``count``, or an empty page with a ``next`` link)."""
    if page.next is None:
        return 1
    size = len(page.results)
    if page.count is None or size == 0:
        return None
    return max(1, math.ceil(page.count / size))


async def _close(pages: AsyncIterator[Page[Server]]) -> None:
    """Close a listing left early, so its generator does not wait for the collector."""
    aclose = getattr(pages, "aclose", None)
    if aclose is not None:
        await aclose()


def _outcome(server_id: object, result: Server | BaseException) -> Outcome[int, Server]:
    if isinstance(result, BaseException):
        return Failed(server_id, result)  # type: ignore[arg-type]
    return Succeeded(server_id, result)  # type: ignore[arg-type]
