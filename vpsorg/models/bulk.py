"""The results of bulk operations: one outcome per input item.

An outcome is either a [`Succeeded`][vpsorg.Succeeded] (with the ``value``) or a
[`Failed`][vpsorg.Failed] (with the ``error``); [`Outcome`][vpsorg.Outcome] is the union of
the two. Both carry a literal ``ok``, so a type checker narrows on it:

```python
for outcome in result:
    if outcome.ok:
        print(outcome.value.name)      # Succeeded: value is the Server
    else:
        print(outcome.error)           # Failed: error is an Exception
```

[`BulkOperationError`][vpsorg.BulkOperationError] lives here, beside
[`BulkResult`][vpsorg.BulkResult] which raises it, so that the models never need the rest of
the exception module (and it never needs them).
"""

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import attrs
import msgspec

from .._exceptions import VPSOrgError

if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = [
    "BulkOperationError",
    "BulkResult",
    "Failed",
    "NotStartedError",
    "Outcome",
    "Succeeded",
    "StopReason",
    "partial_result",
]

#: Why a bulk call stopped before starting every item (see :attr:`BulkResult.stop_reason`):
#: ``"max_errors"`` (the error budget was spent) or ``"interrupted"`` (cancelled, Ctrl-C,
#: a deadline).
StopReason = Literal["max_errors", "interrupted"]

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")


class Succeeded(msgspec.Struct, Generic[ItemT, ValueT], frozen=True):
    """The outcome of an item that succeeded: ``ok`` is ``True`` and ``value`` is the result.

    Attributes:
        item: the input item (a server id, a create spec, ...).
        value: what the call returned for it.
    """

    item: ItemT
    value: ValueT

    @property
    def ok(self) -> Literal[True]:
        """Always ``True``: ``if outcome.ok:`` narrows an [`Outcome`][vpsorg.Outcome] to
        this class."""
        return True

    @property
    def error(self) -> None:
        """Always ``None``: a succeeded item has no error."""
        return None


class Failed(msgspec.Struct, Generic[ItemT], frozen=True):
    """The outcome of an item that failed: ``ok`` is ``False`` and ``error`` says why.

    Attributes:
        item: the input item (a server id, a create spec, ...).
        error: the exception raised for it (a [`VPSOrgError`][vpsorg.VPSOrgError] for SDK calls).
    """

    item: ItemT
    error: Exception

    @property
    def ok(self) -> Literal[False]:
        """Always ``False``: ``if not outcome.ok:`` narrows an [`Outcome`][vpsorg.Outcome]
        to this class."""
        return False

    @property
    def value(self) -> None:
        """Always ``None``: a failed item has no value."""
        return None


if TYPE_CHECKING:
    Outcome: "TypeAlias" = Succeeded[ItemT, ValueT] | Failed[ItemT]
else:

    class _OutcomeMeta(type):
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, (Succeeded, Failed))

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, (Succeeded, Failed))

    class Outcome(metaclass=_OutcomeMeta):
        """What happened to one item of a bulk call: ``Succeeded | Failed``.

        For type checkers it is the union ``Succeeded[ItemT, ValueT] | Failed[ItemT]``:
        check ``ok`` first, and ``value`` (the result) or ``error`` (an ``Exception``) has
        its precise type. At runtime ``isinstance(x, Outcome)`` holds for both, and
        ``Outcome[int, Server]`` is the union, for annotations read at runtime.

        Attributes:
            item: the input item (a server id, a create spec, ...).
            ok: ``True`` for a [`Succeeded`][vpsorg.Succeeded], ``False`` for a
                [`Failed`][vpsorg.Failed].
            value: the result when the item succeeded, else ``None``.
            error: the exception when the item failed, else ``None``.
        """

        def __new__(cls, item: Any, value: Any = None, error: Any = None) -> Any:
            return Succeeded(item, value) if error is None else Failed(item, error)

        def __class_getitem__(cls, params: Any) -> Any:
            item, value = params
            return Succeeded[item, value] | Failed[item]


@attrs.frozen(slots=True)
class BulkResult(Generic[ItemT, ValueT], Sequence["Outcome[ItemT, ValueT]"]):
    """Every item's outcome, in the order the items were given.

    A failing item never raises out of the bulk call and never hides another item's
    result. Iterate, index or ``len()`` it like a sequence of [`Outcome`][vpsorg.Outcome]; take
    [`succeeded`][vpsorg.BulkResult.succeeded] (each with a ``value``) and
    [`failed`][vpsorg.BulkResult.failed] (each with an ``error``); or call
    [`raise_for_failures()`][vpsorg.BulkResult.raise_for_failures] to turn any failure into
    one exception.
    """

    outcomes: "tuple[Outcome[ItemT, ValueT], ...]"
    stop_reason: "StopReason | None" = None

    @property
    def stopped_early(self) -> bool:
        """True when the call stopped before starting every item.

        Then ``stop_reason`` says why, and each item that was never started is a
        [`Failed`][vpsorg.Failed] holding a [`NotStartedError`][vpsorg.NotStartedError]
        (in [`not_started`][vpsorg.BulkResult.not_started]); nothing was sent for it.
        """
        return self.stop_reason is not None

    @property
    def not_started(self) -> list[Failed[ItemT]]:
        """The items never started (error budget spent, or interrupted), in input order.

        Each is a [`Failed`][vpsorg.Failed] whose ``error`` is a
        [`NotStartedError`][vpsorg.NotStartedError]; they are also in
        [`failed`][vpsorg.BulkResult.failed]. Nothing was sent for them: running them
        again is safe.
        """
        return [o for o in self.outcomes if type(o.error) is NotStartedError]

    @property
    def succeeded(self) -> list[Succeeded[ItemT, ValueT]]:
        """The outcomes that succeeded, in input order; each has a ``value``."""
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[Failed[ItemT]]:
        """The outcomes that failed, in input order; each has an ``error``."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        """True when every item succeeded (and for an empty call)."""
        return all(o.ok for o in self.outcomes)

    def values(self) -> list[ValueT]:
        """The values of the items that succeeded, in input order."""
        return [o.value for o in self.outcomes if o.ok]

    def raise_for_failures(self) -> "BulkResult[ItemT, ValueT]":
        """Raise one [`BulkOperationError`][vpsorg.BulkOperationError] naming every failure, if any.

        Returns ``self`` when everything succeeded, so it can be chained.
        """
        failed = self.failed
        if failed:
            raise BulkOperationError(failed, len(self.outcomes))
        return self

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> "Iterator[Outcome[ItemT, ValueT]]":
        return iter(self.outcomes)

    @overload
    def __getitem__(self, index: int) -> "Outcome[ItemT, ValueT]": ...

    @overload
    def __getitem__(self, index: slice) -> "Sequence[Outcome[ItemT, ValueT]]": ...

    def __getitem__(
        self, index: int | slice
    ) -> "Outcome[ItemT, ValueT] | Sequence[Outcome[ItemT, ValueT]]":
        return self.outcomes[index]

    def __repr__(self) -> str:
        failed = sum(1 for o in self.outcomes if not o.ok)
        if self.stop_reason is None:
            return (
                f"BulkResult({len(self.outcomes)} items: "
                f"{len(self.outcomes) - failed} succeeded, {failed} failed)"
            )
        skipped = len(self.not_started)
        return (
            f"BulkResult({len(self.outcomes)} items: {len(self.outcomes) - failed} "
            f"succeeded, {failed - skipped} failed, {skipped} not started: "
            f"stopped early, {self.stop_reason})"
        )


class NotStartedError(VPSOrgError):
    """The outcome of a bulk item that was never started: nothing was sent for it.

    A bulk call stops starting items when its error budget (``max_errors``) is spent or
    when it is interrupted (cancelled, Ctrl-C, a deadline); every item it did not start
    holds this error in a [`Failed`][vpsorg.Failed] outcome, so the result still has one
    outcome per item. Running such an item again is safe.

    Attributes:
        reason: ``"max_errors"`` or ``"interrupted"`` (a
            [`StopReason`][vpsorg.StopReason]).
        request_sent: always ``False``.

    Examples:
        ```python
        import vpsorg

        error = vpsorg.NotStartedError("max_errors")
        print(error.reason, error.request_sent)  # max_errors False
        ```
    """

    request_sent = False

    def __init__(self, reason: "StopReason") -> None:
        why = {
            "max_errors": "the error budget (max_errors) was spent",
            "interrupted": "the bulk call was interrupted",
        }[reason]
        super().__init__(f"not started: {why}; nothing was sent for this item")
        self.reason: StopReason = reason


def partial_result(error: BaseException) -> "BulkResult[Any, Any] | None":
    """The partial [`BulkResult`][vpsorg.BulkResult] an interrupted bulk call left on its exception.

    A bulk call that is cancelled, interrupted by Ctrl-C (blocking client) or cut by a
    deadline sets the attribute ``partial_result`` on the exception it raises (a
    ``CancelledError``, ``KeyboardInterrupt``, ...): every item done, failed, of unknown
    outcome (an [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError], for items in flight)
    or not started (a [`NotStartedError`][vpsorg.NotStartedError]), with ``stop_reason``
    ``"interrupted"``. A
    deadline such as ``asyncio.timeout`` raises its own ``TimeoutError`` from that
    cancellation: this function looks along the exception's ``__cause__`` and
    ``__context__`` chain too.

    Args:
        error: the exception that ended the bulk call.

    Returns:
        The partial result, or ``None`` when no bulk call left one.

    Examples:
        ```python
        import asyncio
        import vpsorg

        async with vpsorg.AsyncClient() as client:
            many = client.servers.get_many([12345] * 20_000, concurrency=2)
            try:
                await asyncio.wait_for(many, timeout=0.05)
            except asyncio.TimeoutError as error:
                partial = vpsorg.partial_result(error)
                print(partial is not None and partial.stop_reason)  # interrupted
        ```
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = getattr(current, "partial_result", None)
        if isinstance(found, BulkResult):
            return found
        current = current.__cause__ or current.__context__
    return None


class BulkOperationError(VPSOrgError):
    """Raised by `BulkResult.raise_for_failures()` when some items failed.

    Attributes:
        failed: the failed [`Outcome`][vpsorg.Outcome] objects, in input order.
        total: how many items the bulk call had.
    """

    def __init__(self, failed: "Sequence[Failed[Any]]", total: int) -> None:
        lines = [f"{len(failed)} of {total} items failed:"]
        shown = failed[:20]
        lines += [f"  - {o.item!r}: {type(o.error).__name__}: {o.error}" for o in shown]
        if len(failed) > len(shown):
            lines.append(f"  ... and {len(failed) - len(shown)} more")
        super().__init__("\n".join(lines))
        self.failed: list[Failed[Any]] = list(failed)
        self.total: int = total
