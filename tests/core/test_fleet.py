"""vpsorg.fleet: map keeps every outcome in input order; imap streams them and keeps none."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

import vpsorg
from vpsorg import Failed, Succeeded


class Tracker:
    """Counts calls in flight and remembers the most at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.started: list[int] = []
        self.finished: list[int] = []
        self.cancelled: list[int] = []

    async def call(self, item: int) -> int:
        self.started.append(item)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            for _ in range(item % 3 + 1):
                await asyncio.sleep(0)
            if item % 7 == 3:
                raise ValueError(f"bad {item}")
            return item * 10
        except asyncio.CancelledError:
            self.cancelled.append(item)
            raise
        finally:
            self.running -= 1
            self.finished.append(item)


async def test_imap_yields_one_outcome_per_item_with_values_and_errors() -> None:
    tracker = Tracker()
    seen: dict[int, int | str] = {}
    async for outcome in vpsorg.fleet.imap(tracker.call, range(40), concurrency=4):
        assert isinstance(outcome, vpsorg.Outcome)
        if outcome.ok:
            seen[outcome.item] = outcome.value
        else:
            assert isinstance(outcome.error, ValueError)
            seen[outcome.item] = str(outcome.error)
    assert sorted(seen) == list(range(40))
    assert seen[3] == "bad 3" and seen[4] == 40
    assert tracker.peak == 4
    assert tracker.running == 0


async def test_imap_yields_in_completion_order() -> None:
    async def slow_first(item: int) -> int:
        for _ in range(20 if item == 0 else 1):
            await asyncio.sleep(0)
        return item

    order = [o.item async for o in vpsorg.fleet.imap(slow_first, [0, 1, 2], concurrency=3)]
    assert order[-1] == 0 and sorted(order) == [0, 1, 2]


async def test_imap_consumes_the_input_lazily_and_holds_at_most_concurrency() -> None:
    pulled = 0

    def ids() -> Iterator[int]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield i

    async def echo(item: int) -> int:
        await asyncio.sleep(0)
        return item

    got = 0
    async with contextlib.aclosing(vpsorg.fleet.imap(echo, ids(), concurrency=5)) as outcomes:
        async for _ in outcomes:
            got += 1
            # taken from the input and not yet yielded: never more than the concurrency
            assert pulled - got <= 5 - 1
            if got == 50:
                break
    assert pulled <= 50 + 5


async def test_imap_does_not_keep_yielded_outcomes() -> None:
    class Value:
        pass

    refs: list[weakref.ref[Value]] = []

    async def make(item: int) -> Value:
        await asyncio.sleep(0)
        value = Value()
        refs.append(weakref.ref(value))
        return value

    async with contextlib.aclosing(vpsorg.fleet.imap(make, range(100), concurrency=3)) as it:
        async for outcome in it:
            del outcome
            if len(refs) >= 60:
                gc.collect()
                alive = sum(1 for ref in refs if ref() is not None)
                assert alive <= 3 + 1
                break


async def test_imap_accepts_an_async_iterable() -> None:
    async def ids() -> AsyncIterator[int]:
        for i in range(30):
            await asyncio.sleep(0)
            yield i

    async def double(item: int) -> int:
        await asyncio.sleep(0)
        return item * 2

    values = [o.value async for o in vpsorg.fleet.imap(double, ids(), concurrency=4) if o.ok]
    assert sorted(values) == [i * 2 for i in range(30)]


async def test_breaking_out_and_closing_cancels_and_awaits_every_worker() -> None:
    started = asyncio.Event()
    entered: list[int] = []
    cancelled: list[int] = []
    finished: list[int] = []

    async def hang(item: int) -> int:
        if item == 0:
            return 0
        try:
            entered.append(item)
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        finally:
            finished.append(item)
        return item  # pragma: no cover

    stream = vpsorg.fleet.imap(hang, range(10), concurrency=4)
    async for outcome in stream:
        assert outcome.item == 0
        break
    await started.wait()
    await stream.aclose()
    assert entered and sorted(cancelled) == sorted(finished) == sorted(entered)
    assert len(entered) <= 4


async def test_cancelling_the_iteration_cancels_and_awaits_every_worker() -> None:
    running: set[int] = set()
    finished: list[int] = []

    async def hang(item: int) -> int:
        running.add(item)
        try:
            await asyncio.Event().wait()
        finally:
            running.discard(item)
            finished.append(item)
        return item  # pragma: no cover

    async def consume() -> None:
        async for _ in vpsorg.fleet.imap(hang, range(100), concurrency=8):
            pass  # pragma: no cover

    task = asyncio.ensure_future(consume())
    for _ in range(50):
        await asyncio.sleep(0)
        if len(running) == 8:
            break
    assert len(running) == 8
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert running == set() and len(finished) == 8


async def test_imap_under_an_anyio_cancel_scope_still_awaits_every_worker() -> None:
    finished: list[int] = []

    async def hang(item: int) -> int:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits, under repeated cancels
            finished.append(item)
        return item  # pragma: no cover

    with anyio.move_on_after(0.05):
        async for _ in vpsorg.fleet.imap(hang, range(100), concurrency=6):
            pass  # pragma: no cover
    assert len(finished) == 6


async def test_an_input_that_raises_ends_the_stream_with_its_error() -> None:
    def ids() -> Iterator[int]:
        yield 1
        yield 2
        raise LookupError("the input broke")

    async def echo(item: int) -> int:
        await asyncio.sleep(0)
        return item

    with pytest.raises(LookupError, match="the input broke"):
        async for _ in vpsorg.fleet.imap(echo, ids(), concurrency=1):
            pass


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1.5}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"items": 12}, "items"),
        ({"fn": 3}, "fn"),
    ],
)
def test_imap_checks_its_arguments_before_anything_runs(
    kwargs: dict[str, object], field: str
) -> None:
    calls: list[int] = []

    async def fn(item: int) -> int:  # pragma: no cover - must never run
        calls.append(item)
        return item

    args: dict[str, object] = {"fn": fn, "items": [1, 2], "concurrency": 2, **kwargs}
    with pytest.raises(vpsorg.InvalidInputError) as info:
        vpsorg.fleet.imap(args["fn"], args["items"], concurrency=args["concurrency"])  # type: ignore[arg-type]
    assert info.value.field == field
    assert calls == []


async def test_map_keeps_input_order_and_succeeded_failed_are_typed() -> None:
    tracker = Tracker()
    result = await vpsorg.fleet.map(tracker.call, range(20), concurrency=3)
    assert [o.item for o in result] == list(range(20))
    assert all(isinstance(o, Succeeded) for o in result.succeeded)
    assert all(isinstance(o, Failed) for o in result.failed)
    assert [o.value for o in result.succeeded] == result.values()
    assert {o.item for o in result.failed} == {3, 10, 17}
    assert tracker.peak == 3


async def test_map_cancelled_cancels_and_awaits_every_worker() -> None:
    running: set[int] = set()

    async def hang(item: int) -> int:
        running.add(item)
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)
            running.discard(item)
        return item  # pragma: no cover

    with anyio.move_on_after(0.05):
        await vpsorg.fleet.map(hang, range(100), concurrency=10)
    assert running == set()


def test_outcome_is_the_union_at_runtime_too() -> None:
    # Calling Outcome is the old constructor, kept at runtime only (type checkers see the
    # union): it builds the matching class.
    ok = vpsorg.Outcome(1, "v")  # type: ignore[type-arg,operator]
    bad = vpsorg.Outcome(2, None, ValueError("x"))  # type: ignore[type-arg,operator]
    assert isinstance(ok, Succeeded) and ok.ok is True and ok.error is None
    assert isinstance(bad, Failed) and bad.ok is False and bad.value is None
    assert isinstance(ok, vpsorg.Outcome) and isinstance(bad, vpsorg.Outcome)
    assert not isinstance("x", vpsorg.Outcome)
    assert vpsorg.Outcome[int, str] == Succeeded[int, str] | Failed[int]  # type: ignore[misc]
    result = vpsorg.BulkResult((ok, bad))
    assert repr(result) == "BulkResult(2 items: 1 succeeded, 1 failed)"
    with pytest.raises(vpsorg.BulkOperationError) as info:
        result.raise_for_failures()
    assert info.value.failed == [bad] and info.value.total == 2
    assert "2: ValueError: x" in str(info.value)


def test_bulk_operation_error_is_still_a_vpsorg_error() -> None:
    assert vpsorg.BulkOperationError.__name__ == "BulkOperationError"
    assert vpsorg.BulkOperationError.__bases__ == (vpsorg.VPSOrgError,)
    assert vpsorg.BulkOperationError.__doc__
    assert "raise_for_failures" in vpsorg.BulkOperationError.__doc__
