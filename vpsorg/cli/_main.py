"""The ``vpsorg`` command group, its global options, and `main()`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import click

import vpsorg

from ._demo import demo
from ._options import OUTPUT_CHOICES
from ._power import POWER_COMMANDS, delete_servers
from ._runtime import (
    ENV_BASE_URL,
    ENV_TOKEN,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    Settings,
    enable_logging,
)
from ._servers import servers
from ._simulator import simulator

__all__ = ["cli", "main"]

for _command in (*POWER_COMMANDS, delete_servers):
    servers.add_command(_command)


def _rate_limit_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> vpsorg.RateLimit | Literal["off"] | None:
    """``--rate-limit`` read by the SDK's own rules; a bad value is a usage error."""
    if value is None or not value.strip():
        return None
    try:
        limit = vpsorg.RateLimit.parse(value)
    except vpsorg.ConfigurationError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return "off" if limit is None else limit


@click.group("vpsorg", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--token",
    envvar=ENV_TOKEN,
    show_envvar=True,
    metavar="TOKEN",
    help="The VPS.org API token.",
)
@click.option(
    "--base-url",
    envvar=ENV_BASE_URL,
    show_envvar=True,
    metavar="URL",
    help=f"The API root [default: {vpsorg.DEFAULT_BASE_URL}].",
)
@click.option(
    "--allow-insecure-http",
    is_flag=True,
    help="Allow plain http:// to a host that is not this machine (the token travels unencrypted).",
)
@click.option(
    "--rate-limit",
    envvar=vpsorg.ENV_RATE_LIMIT,
    show_envvar=True,
    metavar="N[:BURST]|adaptive|off",
    callback=_rate_limit_option,
    help="Requests per second at most, sent evenly (a burst of BURST at once); "
    "'adaptive' learns the API's rate from its 429s [default: adaptive].",
)
@click.option(
    "-o",
    "--output",
    type=OUTPUT_CHOICES,
    default=None,
    help="Output format [default: table on a terminal, else json].",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log the SDK's retries on stderr; twice, every request too.",
)
@click.version_option(vpsorg.__version__, "-V", "--version", prog_name="vpsorg")
@click.pass_context
def cli(
    ctx: click.Context,
    token: str | None,
    base_url: str | None,
    allow_insecure_http: bool,
    rate_limit: vpsorg.RateLimit | Literal["off"] | None,
    output: str | None,
    verbose: int,
) -> None:
    """The VPS.org server API from the command line.

    Try it with no account: `vpsorg demo` runs a fleet on the bundled simulator.
    Against the simulator started with `vpsorg simulator`, pass
    --base-url http://127.0.0.1:8080/api/v1/ --token vpsorg-demo-token (or set the
    environment variables).

    Exit codes: 0 success, 1 an API or network error (or some items of a bulk
    command failed), 2 a usage error, 130 interrupted.
    """
    settings = ctx.ensure_object(Settings)
    settings.token = token or None
    settings.base_url = base_url or None
    settings.allow_insecure_http = allow_insecure_http
    settings.rate_limit = rate_limit
    if ctx.get_parameter_source("base_url") is click.core.ParameterSource.ENVIRONMENT:
        settings.base_url_source = f"${ENV_BASE_URL}"
    if ctx.get_parameter_source("token") is click.core.ParameterSource.ENVIRONMENT:
        settings.token_source = f"${ENV_TOKEN}"
    if output is not None:
        settings.output = "json" if output.lower() == "json" else "table"
    enable_logging(ctx, verbose)


cli.add_command(servers)
cli.add_command(demo)
cli.add_command(simulator)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vpsorg`` command line and return its exit code.

    ``argv`` defaults to ``sys.argv[1:]``. The console script calls this.
    """
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None, prog_name="vpsorg", standalone_mode=False
        )
    except click.exceptions.Abort as exc:
        interrupted = isinstance(exc.__context__ or exc.__cause__, KeyboardInterrupt)
        click.echo("interrupted" if interrupted else "Aborted!", err=True)
        return EXIT_INTERRUPTED if interrupted else EXIT_FAILURE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    return code if isinstance(code, int) else 0
