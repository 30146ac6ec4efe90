"""Command line: ``python -m vpsorg.simulator [options]`` (also ``vpsorg simulator``).

It prints the base URL, the token and a ready-to-paste ``export VPSORG_BASE_URL=...
VPSORG_API_TOKEN=...`` line, then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from vpsorg.simulator._catalog import DEMO_TOKEN
from vpsorg.simulator._faults import FaultConfig
from vpsorg.simulator._options import OPTIONS, Option, server_settings

__all__ = ["banner", "build_parser", "main", "serve_forever"]


def build_parser(*, prog: str | None = None) -> argparse.ArgumentParser:
    """The simulator's argument parser, built from the options table it shares with
    ``vpsorg simulator``.

    ``prog`` names the command in usage and error messages; by default
    ``python -m vpsorg.simulator``.
    """
    parser = argparse.ArgumentParser(
        prog=prog or "python -m vpsorg.simulator",
        description="Run a local fake of the VPS.org server API.",
    )
    faults = parser.add_argument_group("faults")
    for option in OPTIONS:
        default = option.default_text if option.default is None else option.default
        help = f"{option.help} [default: {default}]" if default is not None else option.help
        (faults if option.fault else parser).add_argument(
            *option.flags,
            dest=option.dest,
            type=_converter(option),
            default=option.default,
            metavar=option.metavar,
            action="append" if option.multiple else "store",
            help=help.replace("%", "%%"),
        )
    return parser


def _converter(option: Option) -> Callable[[str], object]:
    """Parse one value of ``option``, refusing what is out of its range."""

    def convert(text: str) -> object:
        try:
            value = option.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a valid {option.kind.__name__}: {text!r}"
            ) from None
        if isinstance(value, (int, float)):
            problem = option.check(value)
            if problem is not None:
                raise argparse.ArgumentTypeError(f"{problem}, got {text}")
        return value

    convert.__name__ = option.kind.__name__  # what argparse names in its own messages
    return convert


def banner(base_url: str, token: str) -> str:
    """What the simulator prints once it listens: where, the token, and a line to paste.

    Examples:
        >>> print(banner("http://127.0.0.1:8080/api/v1/", "vpsorg-demo-token"))
        VPS.org simulator running at http://127.0.0.1:8080/api/v1/
        Token: vpsorg-demo-token
        In another shell, point vpsorg (the SDK and the command line) at it with:
          export VPSORG_BASE_URL=http://127.0.0.1:8080/api/v1/ VPSORG_API_TOKEN=vpsorg-demo-token
        Press Ctrl-C to stop.
    """
    return (
        f"VPS.org simulator running at {base_url}\n"
        f"Token: {token}\n"
        "In another shell, point vpsorg (the SDK and the command line) at it with:\n"
        f"  export VPSORG_BASE_URL={shlex.quote(base_url)} VPSORG_API_TOKEN={shlex.quote(token)}\n"
        "Press Ctrl-C to stop."
    )


async def _serve_until_stopped(options: dict[str, Any]) -> int:
    from vpsorg.simulator._server import serve

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows; there Ctrl-C arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    host, port = options["host"], options["port"]
    try:
        async with serve(**options) as sim:
            print(banner(sim.base_url, sim.token), flush=True)
            await stop.wait()
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    print("Simulator stopped.", flush=True)
    return 0


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    token: str = DEMO_TOKEN,
    extra_tokens: Sequence[str] = (),
    provision_delay: float = 3.0,
    action_delay: float = 1.0,
    credits: int | None = None,
    seed: int | None = None,
    page_size: int = 20,
    faults: FaultConfig | None = None,
) -> int:
    """Serve until Ctrl-C or SIGTERM, printing the `banner()`; return the exit code.

    0 after a clean stop, 1 when the port cannot be bound. Both ``python -m
    vpsorg.simulator`` and ``vpsorg simulator`` end here.
    """
    from vpsorg._runtime import close_loop, new_loop

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "token": token,
        "extra_tokens": extra_tokens,
        "provision_delay": provision_delay,
        "action_delay": action_delay,
        "credits": credits,
        "seed": seed,
        "faults": faults if faults is not None else FaultConfig(),
        "page_size": page_size,
    }
    loop = new_loop()
    task = loop.create_task(_serve_until_stopped(options))
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        # Only where signal handlers are unavailable (Windows): stop the same way.
        task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(task)
        return 0
    finally:
        close_loop(loop)


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the simulator until interrupted; return the process exit code.

    ``argv`` defaults to ``sys.argv[1:]``. Ctrl-C and SIGTERM stop it cleanly (exit 0);
    a port that cannot be bound exits 1; bad options exit 2, as argparse does.

    Examples:
        >>> main(["--port", "0", "--provision-delay", "0.5"])  # doctest: +SKIP
    """
    parser = build_parser(prog=prog)
    args = parser.parse_args(argv)
    try:
        settings = server_settings(vars(args))
    except ValueError as exc:
        parser.error(str(exc))
    return serve_forever(**settings)


if __name__ == "__main__":
    sys.exit(main())
