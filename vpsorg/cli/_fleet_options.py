"""Options of the fleet-scale bulk commands: ``--max-errors``, ``--rolling``, ``--journal``.

A run that stopped early (its error budget spent, so some items were never started)
exits with `EXIT_STOPPED_EARLY`, distinct from 1 (some items failed, all ran).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

import vpsorg
from vpsorg._async._fleet import error_allowance
from vpsorg._async._rolling import batch_sizes

__all__ = [
    "EXIT_STOPPED_EARLY",
    "journal_option",
    "max_errors_option",
    "pause_option",
    "rolling_option",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The exit status of a bulk command that stopped early (``--max-errors`` exceeded).
EXIT_STOPPED_EARLY = 3


def _share(text: str) -> int | float | str:
    """A count (``3``), a fraction (``0.1``) or a percentage (``10%``), as the SDK takes it."""
    text = text.strip()
    if text.endswith("%"):
        return text
    try:
        return int(text)
    except ValueError:
        return float(text)


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # click < 8.2 has no generic ParamType at runtime
    _ParamType = click.ParamType


class _MaxErrors(_ParamType):
    name = "N|N%"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parsed = _share(value)
            error_allowance(parsed, 100)
        except (ValueError, vpsorg.InvalidInputError):
            self.fail(f"{value!r} is not a count (3), a fraction (0.1) or a percentage (10%)")
        return parsed


class _Batches(_ParamType):
    name = "SIZE[,SIZE...]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            sizes = [_share(part) for part in value.split(",")]
            batch_sizes(sizes, 100)
        except (ValueError, vpsorg.InvalidInputError):
            self.fail(
                f"{value!r} is not a batch size (5, 0.25, 25%) or a comma-separated list "
                "of them (1,5,25%)"
            )
        return sizes


def max_errors_option(fn: F) -> F:
    """``--max-errors N|N%``: the error budget of a bulk command."""
    return click.option(
        "--max-errors",
        type=_MaxErrors(),
        default=None,
        help=(
            "Stop starting new items once more than this many failed: a count (3), a "
            f"fraction (0.1) or a percentage (10%). Exit {EXIT_STOPPED_EARLY} if it stopped."
        ),
    )(fn)


def rolling_option(fn: F) -> F:
    """``--rolling SIZE[,SIZE...]``: act in batches, each waited for before the next."""
    return click.option(
        "--rolling",
        type=_Batches(),
        default=None,
        help=(
            "Act in batches of this size (5, 25%, or a list as 1,5,25% whose last size "
            "repeats), waiting for each batch before the next; implies --wait."
        ),
    )(fn)


def pause_option(fn: F) -> F:
    """``--pause SECONDS`` between the batches of ``--rolling``."""
    return click.option(
        "--pause",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help="With --rolling: how long to pause between batches.",
    )(fn)


def journal_option(fn: F) -> F:
    """``--journal PATH``: record each item's state, so a rerun resumes."""
    return click.option(
        "--journal",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        metavar="PATH",
        help=(
            "Record each item's state in this JSON-lines file; rerunning the same command "
            "with it does only what is left."
        ),
    )(fn)
