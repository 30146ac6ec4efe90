"""``vpsorg simulator``: the bundled VPS.org API simulator, with click options like the rest.

It serves exactly what ``python -m vpsorg.simulator`` serves (both end in
:func:`vpsorg.simulator.__main__.serve_forever`) and prints the same banner, with a
ready-to-paste ``export VPSORG_BASE_URL=... VPSORG_API_TOKEN=...`` line.
"""

from __future__ import annotations

import click

from vpsorg.simulator import DEMO_TOKEN, FaultConfig

__all__ = ["simulator"]

_FRACTION = click.FloatRange(0.0, 1.0)
_SECONDS = click.FloatRange(min=0.0)


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="The port to listen on; 0 picks a free one.",
)
@click.option("--token", default=DEMO_TOKEN, show_default=True, help="The bearer token to accept.")
@click.option(
    "--provision-delay",
    type=_SECONDS,
    default=3.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a new server stays 'provisioning'.",
)
@click.option(
    "--action-delay",
    type=_SECONDS,
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a start, stop or reboot takes.",
)
@click.option(
    "--credits",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Credits for creates (one each) [default: unlimited].",
)
@click.option("--seed", type=int, default=None, metavar="N", help="The random seed for faults.")
@click.option(
    "--page-size",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar="N",
    help="The default page size of lists.",
)
@click.option(
    "--latency",
    type=_SECONDS,
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Faults: delay added to every response.",
)
@click.option(
    "--latency-jitter",
    type=_SECONDS,
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Faults: up to this much further random delay.",
)
@click.option(
    "--error-rate-500",
    type=_FRACTION,
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="Faults: share of requests answered 500.",
)
@click.option(
    "--error-rate-503",
    type=_FRACTION,
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="Faults: share of requests answered 503 (an HTML page).",
)
@click.option(
    "--drop-rate",
    type=_FRACTION,
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="Faults: share of connections closed without a response.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    metavar="PER_SECOND",
    help="Faults: requests per second per token; 429 beyond it [default: unlimited].",
)
@click.option(
    "--rate-limit-burst",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Faults: requests allowed at once before the rate limit applies.",
)
@click.option(
    "--after-action-ratio",
    type=_FRACTION,
    default=0.5,
    show_default=True,
    metavar="FRACTION",
    help="Faults: share of 500s and drops injected after the request took effect.",
)
def simulator(
    host: str,
    port: int,
    token: str,
    provision_delay: float,
    action_delay: float,
    credits: int | None,
    seed: int | None,
    page_size: int,
    latency: float,
    latency_jitter: float,
    error_rate_500: float,
    error_rate_503: float,
    drop_rate: float,
    rate_limit: float | None,
    rate_limit_burst: int | None,
    after_action_ratio: float,
) -> None:
    """Run the local VPS.org API simulator until Ctrl-C.

    It prints the base URL, the token, and an `export VPSORG_BASE_URL=...
    VPSORG_API_TOKEN=...` line to paste into another shell. The same as
    `python -m vpsorg.simulator`.
    """
    from vpsorg.simulator.__main__ import serve_forever

    try:
        faults = FaultConfig(
            latency=latency,
            latency_jitter=latency_jitter,
            error_rate_500=error_rate_500,
            error_rate_503=error_rate_503,
            drop_rate=drop_rate,
            rate_limit=rate_limit,
            rate_limit_burst=rate_limit_burst,
            after_action_ratio=after_action_ratio,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    code = serve_forever(
        host=host,
        port=port,
        token=token,
        provision_delay=provision_delay,
        action_delay=action_delay,
        credits=credits,
        seed=seed,
        page_size=page_size,
        faults=faults,
    )
    raise click.exceptions.Exit(code)
