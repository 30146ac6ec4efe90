"""The simulator's command-line options, declared once for both of its command lines.

``python -m vpsorg.simulator`` builds an argparse parser from `OPTIONS` (it must
work without click, which comes only with the ``cli`` extra) and ``vpsorg simulator``
builds click options from the same table, so a new option, default, range or help text
is one entry here. No parser library is imported in this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from vpsorg.simulator._catalog import DEMO_TOKEN
from vpsorg.simulator._faults import FaultConfig

__all__ = ["OPTIONS", "Option", "server_settings"]


@attrs.frozen(kw_only=True)
class Option:
    """One option: its flag, value type, default, allowed range and help text."""

    flag: str
    kind: type[str] | type[int] | type[float]
    default: str | int | float | None
    help: str
    metavar: str | None = None
    #: Other spellings of the flag, still accepted (an older name).
    aliases: tuple[str, ...] = ()
    #: The keyword the value is passed as, when it is not the flag's own name.
    keyword: str | None = None
    #: True for an option that may be given several times; its value is then a tuple.
    multiple: bool = False
    #: The inclusive bounds of a number (``None``: unbounded on that side).
    minimum: float | None = None
    maximum: float | None = None
    #: True when ``minimum`` itself is not allowed (a rate must be above 0).
    minimum_open: bool = False
    #: What a ``None`` default means, for the help ("unlimited").
    default_text: str | None = None
    #: True for the random-fault settings, which become a `FaultConfig`.
    fault: bool = False

    @property
    def dest(self) -> str:
        """The keyword the value is passed as (``--page-size`` -> ``page_size``)."""
        if self.keyword is not None:
            return self.keyword
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def flags(self) -> tuple[str, ...]:
        """The flag, then its aliases."""
        return (self.flag, *self.aliases)

    def check(self, value: float) -> str | None:
        """Why a number is out of range, or ``None`` when it is within."""
        low, high = self.minimum, self.maximum
        if low is not None and (value < low or (self.minimum_open and value == low)):
            bound = "above" if self.minimum_open else "at least"
            return f"must be {bound} {low:g}" + (
                f" and at most {high:g}" if high is not None else ""
            )
        if high is not None and value > high:
            return f"must be at most {high:g}" + (
                f" and at least {low:g}" if low is not None else ""
            )
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        return None


def _seconds(flag: str, default: float, help: str, *, fault: bool = False) -> Option:
    return Option(
        flag=flag,
        kind=float,
        default=default,
        help=help,
        metavar="SECONDS",
        minimum=0.0,
        fault=fault,
    )


def _fraction(flag: str, default: float, help: str) -> Option:
    return Option(
        flag=flag,
        kind=float,
        default=default,
        help=help,
        metavar="FRACTION",
        minimum=0.0,
        maximum=1.0,
        fault=True,
    )


OPTIONS: tuple[Option, ...] = (
    Option(flag="--host", kind=str, default="127.0.0.1", help="The address to listen on."),
    Option(
        flag="--port",
        kind=int,
        default=8080,
        minimum=0,
        maximum=65535,
        help="The port to listen on; 0 picks a free one.",
    ),
    Option(flag="--token", kind=str, default=DEMO_TOKEN, help="The bearer token to accept."),
    Option(
        flag="--extra-token",
        kind=str,
        default=None,
        metavar="TOKEN",
        keyword="extra_tokens",
        multiple=True,
        default_text="none",
        help="Another bearer token to accept, with a rate-limit bucket of its own; repeatable.",
    ),
    _seconds("--provision-delay", 3.0, "How long a new server stays 'provisioning'."),
    _seconds("--action-delay", 1.0, "How long a start, stop or reboot takes."),
    Option(
        flag="--credits",
        kind=int,
        default=None,
        metavar="N",
        minimum=0,
        default_text="unlimited",
        help="Credits for creates (one each).",
    ),
    Option(flag="--seed", kind=int, default=None, metavar="N", help="The random seed for faults."),
    Option(
        flag="--page-size",
        kind=int,
        default=20,
        metavar="N",
        minimum=1,
        help="The default page size of lists.",
    ),
    _seconds("--latency", 0.0, "Delay added to every response.", fault=True),
    _seconds("--latency-jitter", 0.0, "Up to this much further random delay.", fault=True),
    _fraction("--error-rate-500", 0.0, "Share of requests answered 500."),
    _fraction("--error-rate-503", 0.0, "Share of requests answered 503 (an HTML page)."),
    _fraction("--drop-rate", 0.0, "Share of connections closed without a response."),
    Option(
        flag="--rate-limit",
        kind=float,
        default=None,
        metavar="PER_SECOND",
        minimum=0.0,
        minimum_open=True,
        default_text="unlimited",
        fault=True,
        help="Requests per second per token (each token has its own bucket); 429 beyond it.",
    ),
    Option(
        flag="--burst",
        aliases=("--rate-limit-burst",),
        keyword="rate_limit_burst",
        kind=int,
        default=None,
        metavar="N",
        minimum=1,
        default_text="ceil(rate limit)",
        fault=True,
        help="Requests a token may send at once before the rate limit applies.",
    ),
    _fraction(
        "--after-action-ratio",
        0.5,
        "Share of 500s and drops injected after the request took effect.",
    ),
)


def server_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``serve_forever`` from parsed option values.

    The fault options become one ``faults=`` [`FaultConfig`][vpsorg.simulator.FaultConfig];
    its own checks (the error rates must not add up to more than 1) raise ``ValueError``.
    """
    settings = {o.dest: values[o.dest] for o in OPTIONS if not o.fault}
    for option in OPTIONS:
        if option.multiple:  # argparse gives None or a list, click a tuple
            settings[option.dest] = tuple(settings[option.dest] or ())
    settings["faults"] = FaultConfig(**{o.dest: values[o.dest] for o in OPTIONS if o.fault})
    return settings
