"""``vpsorg simulator``: the bundled VPS.org API simulator, with click options like the rest.

It serves exactly what ``python -m vpsorg.simulator`` serves (both end in
`vpsorg.simulator.__main__.serve_forever()`), takes the same options (both are built
from `vpsorg.simulator._options.OPTIONS`) and prints the same banner, with a
ready-to-paste ``export VPSORG_BASE_URL=... VPSORG_API_TOKEN=...`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from vpsorg.simulator._options import OPTIONS, Option, server_settings

__all__ = ["simulator"]

F = TypeVar("F", bound=Callable[..., Any])


def _click_type(option: Option) -> click.ParamType[Any] | type[str] | type[int]:
    low, high = option.minimum, option.maximum
    if option.kind is str:
        return str
    if option.kind is int and low is None and high is None:
        return int
    if option.kind is int:
        return click.IntRange(
            None if low is None else int(low), None if high is None else int(high)
        )
    return click.FloatRange(low, high, min_open=option.minimum_open)


def _checked(option: Option) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """The table's own range check too (click's ranges let ``nan`` through)."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if isinstance(value, (int, float)):
            problem = option.check(value)
            if problem is not None:
                raise click.BadParameter(f"{problem}, got {value}")
        return value

    return check


def _options(command: F) -> F:
    """Apply a click option for every entry of the shared table, in its order."""
    for option in reversed(OPTIONS):
        help = f"Faults: {option.help[0].lower()}{option.help[1:]}" if option.fault else option.help
        if option.default is None and option.default_text is not None:
            help = f"{help} [default: {option.default_text}]"
        command = click.option(
            *option.flags,
            option.dest,
            type=_click_type(option),
            default=option.default,
            multiple=option.multiple,
            show_default=option.default is not None,
            metavar=option.metavar,
            help=help,
            callback=_checked(option),
        )(command)
    return command


@click.command("simulator")
@_options
def simulator(**values: Any) -> None:
    """Run the local VPS.org API simulator until Ctrl-C.

    It prints the base URL, the token, and an `export VPSORG_BASE_URL=...
    VPSORG_API_TOKEN=...` line to paste into another shell. The same as
    `python -m vpsorg.simulator`.
    """
    from vpsorg.simulator.__main__ import serve_forever

    try:
        settings = server_settings(values)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    raise click.exceptions.Exit(serve_forever(**settings))
