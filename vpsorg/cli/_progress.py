"""Live progress bars on stderr, one per phase; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

import vpsorg

from ._runtime import stream_is_terminal

__all__ = ["Phase", "Phases"]


class Phase:
    """One bar. Pass it as a bulk call's ``progress=`` callback, or call `finish()`."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def __call__(self, update: vpsorg.BulkProgress) -> None:
        """Move the bar to a bulk call's latest [`vpsorg.BulkProgress`][vpsorg.BulkProgress]."""
        self._progress.update(
            self._task, completed=update.completed, ok=update.succeeded, failed=update.failed
        )

    def describe(self, description: str) -> None:
        """Change the bar's label (a rolling operation names the batch it is on)."""
        self._progress.update(self._task, description=description)

    def finish(self, *, succeeded: int = 1, failed: int = 0) -> None:
        """Complete the bar by hand (for calls that take no callback).

        The bar's total becomes ``succeeded + failed``, so a bar started without a
        total (``Phases.add(name, None)``) ends showing what was done, e.g. ``2/2``.
        """
        done = succeeded + failed
        self._progress.update(self._task, total=done, completed=done, ok=succeeded, failed=failed)


class Phases:
    """A stack of progress bars, drawn on stderr while the ``with`` block runs.

    Examples:
        ```python
        with Phases() as phases:
            await client.servers.start_many(ids, progress=phases.add("start", len(ids)))
        ```
    """

    def __init__(self) -> None:
        self.enabled = stream_is_terminal(sys.stderr)
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]{task.fields[ok]} ok"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            disable=not self.enabled,
        )

    def __enter__(self) -> Phases:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def add(self, description: str, total: int | None) -> Phase:
        """Start a new bar of ``total`` items (``None``: not known yet) under the others."""
        task = self._progress.add_task(description, total=total, ok=0, failed=0)
        return Phase(self._progress, task)
