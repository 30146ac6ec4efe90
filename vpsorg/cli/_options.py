"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._runtime import Settings

__all__ = ["OUTPUT_CHOICES", "SERVER_ID", "concurrency_option", "output_option", "timeout_option"]

F = TypeVar("F", bound=Callable[..., Any])

OUTPUT_CHOICES = click.Choice(["table", "json"], case_sensitive=False)


class _ServerId(click.IntRange):
    """A server id on the command line: a positive integer, refused in those words."""

    name = "server id"

    def __init__(self) -> None:
        super().__init__(min=1)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r} is not a server id (a positive whole number, such as 12345)")


#: A server id on the command line: a positive integer.
SERVER_ID = _ServerId()


def _store_output(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Settings).output = "json" if value.lower() == "json" else "table"


def output_option(fn: F) -> F:
    """``-o/--output table|json`` on a subcommand, overriding the group's ``--output``."""
    return click.option(
        "-o",
        "--output",
        type=OUTPUT_CHOICES,
        default=None,
        expose_value=False,
        callback=_store_output,
        help="Output format [default: table on a terminal, else json].",
    )(fn)


def concurrency_option(fn: F) -> F:
    """``--concurrency N`` for bulk commands."""
    return click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=10,
        show_default=True,
        help="How many requests run at once.",
    )(fn)


def timeout_option(fn: F) -> F:
    """``--timeout SECONDS`` for commands that wait."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=600.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for the status.",
    )(fn)
