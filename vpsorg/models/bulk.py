"""The results of bulk operations: one :class:`Outcome` per input item, in input order."""

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar, overload

import attrs

from .._exceptions import BulkOperationError

__all__ = ["BulkResult", "Outcome"]

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")


@attrs.frozen(slots=True)
class Outcome(Generic[ItemT, ValueT]):
    """What happened to one item of a bulk call.

    Exactly one of ``value`` and ``error`` is meaningful: check ``ok`` first.

    Attributes:
        item: the input item (a server id, a create spec, ...).
        value: the result when the item succeeded, else ``None``.
        error: the exception when the item failed, else ``None``.
    """

    item: ItemT
    value: ValueT | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None


@attrs.frozen(slots=True)
class BulkResult(Generic[ItemT, ValueT], Sequence[Outcome[ItemT, ValueT]]):
    """Every item's :class:`Outcome`, in the order the items were given.

    A failing item never raises out of the bulk call and never hides another item's
    result. Iterate, index or ``len()`` it like a sequence of outcomes; or call
    :meth:`raise_for_failures` to turn any failure into one exception.
    """

    outcomes: tuple[Outcome[ItemT, ValueT], ...]

    @property
    def succeeded(self) -> list[Outcome[ItemT, ValueT]]:
        """The outcomes that succeeded, in input order."""
        return [o for o in self.outcomes if o.error is None]

    @property
    def failed(self) -> list[Outcome[ItemT, ValueT]]:
        """The outcomes that failed, in input order."""
        return [o for o in self.outcomes if o.error is not None]

    @property
    def ok(self) -> bool:
        """True when every item succeeded (and for an empty call)."""
        return all(o.error is None for o in self.outcomes)

    def values(self) -> list[ValueT]:
        """The values of the items that succeeded, in input order."""
        return [o.value for o in self.outcomes if o.error is None]  # type: ignore[misc]

    def raise_for_failures(self) -> "BulkResult[ItemT, ValueT]":
        """Raise one :class:`~vpsorg.BulkOperationError` naming every failure, if any.

        Returns ``self`` when everything succeeded, so it can be chained.
        """
        failed = self.failed
        if failed:
            raise BulkOperationError(failed, len(self.outcomes))
        return self

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[Outcome[ItemT, ValueT]]:
        return iter(self.outcomes)

    @overload
    def __getitem__(self, index: int) -> Outcome[ItemT, ValueT]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Outcome[ItemT, ValueT]]: ...

    def __getitem__(
        self, index: int | slice
    ) -> Outcome[ItemT, ValueT] | Sequence[Outcome[ItemT, ValueT]]:
        return self.outcomes[index]

    def __repr__(self) -> str:
        return (
            f"BulkResult({len(self.outcomes)} items: "
            f"{len(self.succeeded)} succeeded, {len(self.failed)} failed)"
        )
