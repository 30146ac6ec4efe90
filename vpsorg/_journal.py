"""A journal for bulk calls: each item's state in a JSON-lines file, so a rerun resumes.

One file per bulk call. The first line says which call wrote it (the action, the number
of items and a SHA-256 digest of them); every other line is one item's state change,
keyed by the item's position ``i``:

- ``sent`` (a create or power action) or ``started`` (an idempotent call), written
  *before* the request is made, with the time (``at``) and, for a create, the ``spec``;
- ``succeeded``, with the result ``id`` and the ``value`` as the API sent it;
- ``failed``: the API refused it or nothing was sent (the error's type and message);
- ``unknown``: an ``OutcomeUnknownError``, the request may have acted.

Each line is written with one ``write`` and flushed before the step that depends on it
(a request is sent only once its ``sent`` line is in the file), so a process killed at
any point leaves a journal that says, for each item, everything that may have happened.
``fsync=True`` also makes each line survive an operating-system crash or power loss, at
the price of a disk flush per line (see docs/performance.md).

A rerun with the same journal (`JournalRun`) returns the recorded outcome of every
item that succeeded, settles every create that was sent without a recorded answer (with
``find_created``, once the settle window after the recorded ``at`` has passed), refuses
to resend a power action whose outcome is unknown, and runs again what surely did not
happen: items never sent, and items that failed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar, Union

import attrs
import msgspec

from ._converter import DecodeError, structure_json
from ._exceptions import InvalidInputError, OutcomeUnknownError
from ._validation import check_pause_seconds

__all__ = ["Journal", "JournalAction", "JournalError", "JournalLike", "JournalRun", "journal_run"]

logger = logging.getLogger("vpsorg")

ItemT = TypeVar("ItemT")
ValueT = TypeVar("ValueT")

#: The format version written in the first line.
VERSION = 1
#: Seconds after a create was sent before a rerun may conclude it made no server.

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class JournalError(InvalidInputError):
    """A journal that cannot be used for this call; nothing was sent.

    Raised when the journal was written by another bulk call (another action, other
    items, or the same items in another order), when it is not a vpsorg journal, when a
    line other than the last is damaged (a last line cut short by a crash is ignored), or
    when the file cannot be read or written. It is an
    [`InvalidInputError`][vpsorg.InvalidInputError] (``field`` is ``"journal"``): the call
    was refused before anything was sent.

    Attributes:
        path: the journal's path.
    """

    def __init__(self, path: Path, message: str) -> None:
        super().__init__("journal", f"{str(path)!r} {message}")
        self.path = path


@attrs.frozen
class Journal:
    """Where and how a bulk call records its items' states (``journal=`` of a bulk method).

    A path alone (``journal="run.jsonl"``) means ``Journal("run.jsonl")``. The file is
    created if it does not exist; if it does, it must have been written by the same call
    (the same action over the same items, in the same order), which then resumes from it.
    Keep it after the call: rerunning with it returns the recorded outcomes without
    sending anything again. Delete it to start afresh.

    Attributes:
        path: the JSON-lines file.
        fsync: also ``os.fsync`` each line, so it survives an operating-system crash or a
            power loss, not only the process being killed. Off by default: a flushed line
            is in the operating system's hands, which is enough for a killed or crashed
            process, and costs far less per item.
        settle_window: seconds after a create was sent before a rerun may conclude from
            ``find_created`` finding nothing that it made no server (an API that accepted
            a create may take a moment to list it). A rerun sooner than that waits.
            `None` (the default) takes the client's ``RetryPolicy.settle_window``, the
            same window ``find_created`` and ``reconcile=True`` use.

    Examples:
        ```python
        import vpsorg

        journal = vpsorg.Journal("create-run.jsonl", fsync=True, settle_window=10.0)
        print(journal.fsync)  # True
        ```
    """

    path: Path = attrs.field(converter=Path)
    fsync: bool = False
    settle_window: float | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.fsync, bool):
            raise InvalidInputError("fsync", f"must be a bool, got {self.fsync!r}")
        if self.settle_window is not None:
            check_pause_seconds(self.settle_window, "settle_window")


JournalLike = Union[str, "os.PathLike[str]", Journal]
"""What ``journal=`` accepts: a path, or a [`Journal`][vpsorg.Journal]."""


@attrs.frozen
class JournalAction(Generic[ItemT, ValueT]):
    """How one kind of bulk call is journaled (private: each bulk method builds its own).

    Attributes:
        name: the action, written in the first line (``"create"``, ``"reboot"``, ...).
        value_type: the type of a succeeded item's value, to decode it on a rerun
            (``None`` for a call whose value is ``None``).
        sends: the action is not idempotent: its pre-request line is ``sent``, and an
            item sent without a recorded answer is never run again blindly.
        describe: what to keep of an item in its ``sent`` line (a create's spec), or
            ``None`` for nothing.
        settle: for a create, what ``find_created`` says a sent item made (``None``: it
            made nothing); called on a rerun with the item and the time it was sent.
    """

    name: str
    value_type: type[ValueT] | None
    sends: bool
    describe: Callable[[ItemT], object] | None = None
    settle: Callable[[ItemT, datetime, float | None], Awaitable[ValueT | None]] | None = None


def _item_key(item: object) -> object:
    """A JSON-able form of an item, for the digest: the same for equal specs however given."""
    if attrs.has(type(item)):
        return {k: v for k, v in attrs.asdict(item).items() if v is not None}  # type: ignore[arg-type]
    if isinstance(item, Mapping):
        return {str(k): v for k, v in item.items() if v is not None}
    return item


def _digest(items: Sequence[object]) -> str:
    hasher = hashlib.sha256()
    for item in items:
        try:
            hasher.update(_encoder.encode(_item_key(item)))
        except (TypeError, ValueError, msgspec.EncodeError):
            hasher.update(repr(item).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


class JournalRun(Generic[ItemT, ValueT]):
    """One bulk call's journal, open for appending; made by `journal_run`."""

    def __init__(
        self,
        journal: Journal,
        action: JournalAction[ItemT, ValueT],
        items: Sequence[ItemT],
    ) -> None:
        self._journal = journal
        self._action = action
        self._header = {
            "vpsorg_journal": VERSION,
            "action": action.name,
            "count": len(items),
            "digest": _digest(items),
        }
        self._count = len(items)
        self._states: dict[int, dict[str, Any]] = {}
        path = journal.path
        try:
            exists = path.exists() and path.stat().st_size > 0
            if exists:
                self._read(path)
            self._file = open(path, "ab")  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise JournalError(path, f"cannot be used: {error.strerror or error}") from None
        if not exists:
            self._write(self._header)

    # -- reading -------------------------------------------------------------------------

    def _read(self, path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        complete = lines[:-1]  # whatever follows the last newline was cut short by a crash
        if not complete:
            raise JournalError(path, "has an incomplete first line; delete it to start afresh")
        header = self._parse(path, complete[0], 1)
        self._check_header(path, header)
        for number, line in enumerate(complete[1:], start=2):
            if not line:
                continue
            record = self._parse(path, line, number)
            index = record.get("i")
            if type(index) is not int or not 0 <= index < self._count:
                raise JournalError(path, f"has a line {number} that names no item of this call")
            earlier = self._states.get(index)
            if earlier is not None and "at" not in record and "at" in earlier:
                record["at"] = earlier["at"]  # an answer line: keep when it was sent
            self._states[index] = record

    @staticmethod
    def _parse(path: Path, line: bytes, number: int) -> dict[str, Any]:
        try:
            record = _decoder.decode(line)
        except msgspec.DecodeError:
            record = None
        if not isinstance(record, dict):
            raise JournalError(path, f"has a line {number} that is not a journal record")
        return record

    def _check_header(self, path: Path, header: Mapping[str, Any]) -> None:
        if header.get("vpsorg_journal") != VERSION:
            raise JournalError(path, "is not a vpsorg journal (or not of this version)")
        mine = self._header
        if header.get("action") != mine["action"]:
            raise JournalError(
                path,
                f"was written by a {header.get('action')!r} call, not {mine['action']!r}: "
                "use another journal file for this call",
            )
        if header.get("count") != mine["count"] or header.get("digest") != mine["digest"]:
            raise JournalError(
                path,
                f"was written by a {mine['action']!r} call over other items "
                f"({header.get('count')} items, this call has {mine['count']}, or their "
                "values or order differ): use another journal file for this call",
            )

    # -- writing -------------------------------------------------------------------------

    def _write(self, record: Mapping[str, Any]) -> None:
        """Append one line and flush it (and fsync it, if asked) before returning."""
        try:
            self._file.write(_encoder.encode(record) + b"\n")
            self._file.flush()
            if self._journal.fsync:
                os.fsync(self._file.fileno())
        except OSError as error:
            raise JournalError(
                self._journal.path, f"cannot be written: {error.strerror or error}"
            ) from None

    def _record_answer(self, record: Mapping[str, Any]) -> None:
        """Record what a request answered; a failed write must not lose the answer.

        The caller gets the result all the same; the journal keeps the item as sent, so a
        rerun settles it (a create with ``find_created``) instead of sending it again.
        """
        try:
            self._write(record)
        except JournalError as error:
            logger.warning("%s; item %s stays recorded as sent", error, record.get("i"))

    def close(self) -> None:
        """Close the file; every line is already written."""
        self._file.close()

    # -- running one item ----------------------------------------------------------------

    async def run(
        self, index: int, item: ItemT, fn: Callable[[ItemT], Awaitable[ValueT]]
    ) -> ValueT:
        """Run one item through the journal: return its recorded outcome, or run and record it."""
        action = self._action
        record = self._states.get(index)
        if record is not None:
            state = record.get("state")
            if state == "succeeded":
                return self._recorded_value(record)
            if state in ("sent", "unknown") and action.sends:
                found = await self._settle(index, item, record)
                if found is not None:
                    return found
        now = datetime.now(timezone.utc)
        line: dict[str, Any] = {
            "i": index,
            "state": "sent" if action.sends else "started",
            "at": now.isoformat(),
        }
        if action.describe is not None:
            line["spec"] = action.describe(item)
        self._write(line)
        try:
            value = await fn(item)
        except OutcomeUnknownError as error:
            self._record_answer({"i": index, "state": "unknown", "message": str(error)})
            raise
        except Exception as error:
            self._record_answer(
                {
                    "i": index,
                    "state": "failed",
                    "error": type(error).__name__,
                    "message": str(error),
                }
            )
            raise
        self._record_answer(
            {"i": index, "state": "succeeded", "id": getattr(value, "id", None), "value": value}
        )
        return value

    def _recorded_value(self, record: Mapping[str, Any]) -> ValueT:
        value_type = self._action.value_type
        if value_type is None:
            return None  # type: ignore[return-value]
        try:
            return structure_json(_encoder.encode(record.get("value")), value_type)
        except DecodeError as error:
            raise JournalError(
                self._journal.path,
                f"the recorded result of item {record.get('i')} does not decode: {error}",
            ) from None

    async def _settle(self, index: int, item: ItemT, record: Mapping[str, Any]) -> ValueT | None:
        """What a sent item without a recorded answer did; ``None`` if it surely did nothing.

        Raises OutcomeUnknownError when that cannot be known (a power action, whose effect
        leaves no trace to look for, or a create whose look-up failed): it is not resent.
        """
        action = self._action
        sent_at = _parse_time(record.get("at"))
        if action.settle is None or sent_at is None:
            raise OutcomeUnknownError(
                f"a previous run sent this {action.name} (journal {str(self._journal.path)!r}, "
                "line without an answer) and its outcome is unknown: it is not sent again; "
                "check the server's state"
            )
        # The settle window counts from the recorded send time: find_created waits out
        # what is left of it (one window, the client's unless the journal sets one).
        found = await action.settle(item, sent_at, self._journal.settle_window)
        if found is not None:
            self._record_answer(
                {"i": index, "state": "succeeded", "id": getattr(found, "id", None), "value": found}
            )
        return found


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _as_journal(journal: object) -> Journal:
    if isinstance(journal, Journal):
        return journal
    if isinstance(journal, (str, os.PathLike)) and str(journal):
        return Journal(journal)
    raise InvalidInputError(
        "journal", f"must be a path or a vpsorg.Journal, got {type(journal).__name__}"
    )


@contextmanager
def journal_run(
    journal: JournalLike | None,
    action: JournalAction[ItemT, ValueT],
    items: Sequence[ItemT],
) -> Iterator[JournalRun[ItemT, ValueT] | None]:
    """Open ``journal`` for one bulk call (``None``: no journal) and close it afterwards.

    Raises:
        InvalidInputError: ``journal`` is not a path or a Journal.
        JournalError: the journal was written by another call, or is damaged.
    """
    if journal is None:
        yield None
        return
    run = JournalRun(_as_journal(journal), action, items)
    try:
        yield run
    finally:
        run.close()
